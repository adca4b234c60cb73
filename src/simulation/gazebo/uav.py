"""Gazebo twin of :class:`sanqin.simulation.multicopter.plugin.MulticopterSim`: ArduPilot SITL flying in Gazebo.

Headless, the uav_bridge node talks MAVLink to Sanqin's own multicopter simulator. In the twin the
autopilot is ArduPilot SITL (ArduCopter, ``--model JSON``) and the vehicle is ``iris_with_ardupilot`` from
the ``ardupilot_gazebo`` package, whose ``ArduPilotPlugin`` exchanges sensor data and motor commands
with SITL over UDP (port 9002); SITL sends MAVLink to the ``mavlink_fault_relay`` node, which forwards it to
the bridge's ``link.url: udpin:127.0.0.1:14550`` (the twin also sets ``link.home_at_seq0``: ArduPilot's mission
numbering). The world is a ground
plane at the scenario's home (``spherical_coordinates`` = home latitude, longitude, altitude) with the
sprayed field drawn on it, and — for power-line inspection plans — towers and conductors along the plan's
waypoint track.

The headless pack, a scheduled radio-link drop and autopilot parameter overrides are reproduced on the UDP
link: SITL sends to the ``mavlink_fault_relay`` node (``--serial0=udpclient:127.0.0.1:14560``), which forwards
to the bridge's port and back, drops everything, both ways, inside the headless outage window (see
:mod:`.mavlink_relay`), sets the scenario's autopilot parameter overrides in SITL and runs the headless battery
(capacity, charge at start, drain) and imposes it on SITL (see :mod:`.sitl_battery`) — SITL's own pack in
``--model JSON`` mode is a fixed full one. Other headless-only fault injection (refused missions,
unacknowledged or denied commands, missing GPS/EKF, signing) has no ArduPilot SITL equivalent: such scenarios
get no twin (:class:`~sanqin.simulation.gazebo.errors.NoTwin`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sanqin.runtime.scenario import NodeEntry, SimulatorEntry
from sanqin.simulation.gazebo.errors import NoTwin
from sanqin.simulation.gazebo.mesh import obj_text
from sanqin.simulation.gazebo.sdf import el, pose
from sanqin.simulation.gazebo.twin import (
    LaunchProcess,
    Model,
    Placement,
    Twin,
    geometry,
    material,
    new_model,
    visual_and_collision,
)
from sanqin.simulation.gazebo.uav_score import score  # noqa: F401  (vehicle.* metrics from the bridge's topics)

VEHICLE_MODEL = "iris_with_ardupilot"  # ardupilot_gazebo/models
#: Mission plans that inspect a power line: the line runs along the plan's waypoint track (the corridor the
#: mission was planned on), so the scenery follows the plan the scenario flies.
POWER_LINE_PLANS = ("sim/missions/powerline_corridor.plan", "sim/missions/vtol_on_multicopter.plan")
TOWER_SPACING_M = 50.0  # at most this far apart between the track's corners
TOWER_HEIGHT_FRACTION = 0.8  # towers reach 80 % of the inspection altitude
PHASE_OFFSETS_M = (-2.5, 0.0, 2.5)
SITL_MAVLINK = "127.0.0.1:14550"
#: The uav_bridge ``link`` parameters the twins override for ArduPilot SITL: where SITL (or the relay) sends, and
#: ArduPilot's mission numbering (item 0 is home; an uploaded item 0 is never flown). The scorer applies them too.
SITL_BRIDGE_LINK: dict[str, object] = {"url": f"udpin:{SITL_MAVLINK}", "home_at_seq0": True}
#: Where SITL sends MAVLink when a fault is injected: the mavlink_fault_relay's port (it forwards to SITL_MAVLINK).
RELAY_MAVLINK = "127.0.0.1:14560"
#: ArduPilot's iris worlds place the vehicle 0.195 m up (its legs on the ground), yawed 90° (nose north).
VEHICLE_POSE = ((0.0, 0.0, 0.195), (0.0, 0.0, 1.5707963267948966))


def _faults(config: Any) -> list[str]:
    """The headless simulator's injected faults in this config, each with why SITL cannot reproduce it."""
    faults = []  # a scheduled link drop and a part-charged pack are twinned with the mavlink_fault_relay (_relay)
    if config.mission_reject_result:
        faults.append("refused mission uploads")
    if config.no_ack_commands or config.deny_commands:
        faults.append("unacknowledged or denied commands")
    if not (config.gps_ok and config.ekf_ok):
        faults.append("GPS/EKF failures")
    if config.require_signing or config.signing_key_file:
        faults.append("MAVLink signing")
    return faults


def export(config: Any, entry: SimulatorEntry, twin: Twin) -> None:
    """Add the ground, the field, the ArduPilot vehicle, SITL and the bridge's UDP link to ``twin``."""
    faults = _faults(config)
    if faults:
        raise NoTwin(f"injects {', '.join(faults)}: a feature of the headless MAVLink simulator that ArduPilot "
                     "SITL does not offer")
    twin.ardupilot = True
    twin.spherical_coordinates = (config.home_latitude_deg, config.home_longitude_deg, config.home_altitude_m)
    twin.systems.update({"imu", "navsat", "air_pressure", "magnetometer"})
    _ground(twin, config)
    for node in twin.scenario.nodes:
        plan = (node.params.get("mission") or {}).get("plan_file") if node.node == "uav_bridge" else None
        if plan in POWER_LINE_PLANS:
            _power_line(twin, config, plan)
    twin.external_models.add(VEHICLE_MODEL)
    twin.placements.append(Placement(VEHICLE_MODEL, "vehicle", *VEHICLE_POSE))
    lat, lon, alt = twin.spherical_coordinates
    # Every UAV twin goes through the relay: it flies the headless pack (SITL's own is a fixed, always-full model
    # whose capacity and draw have nothing to do with the scenario's airframe, so the companion's battery policy
    # would act at another point of the flight), and sets the headless parameter overrides and outages.
    twin.processes.append(LaunchProcess(
        name="ardupilot_sitl",
        cmd=(f"sim_vehicle.py -v ArduCopter -f gazebo-iris --model JSON --no-rebuild --no-mavproxy "
             f"--sysid {config.system_id} -l {lat:.7f},{lon:.7f},{alt:g},0 "
             f"-A --serial0=udpclient:{RELAY_MAVLINK}"),
        description="ArduPilot SITL (ArduCopter) for the ardupilot_gazebo vehicle; MAVLink over UDP to "
                    "mavlink_fault_relay, which forwards to the bridge"))
    _relay(twin, config, entry)
    for node in twin.scenario.nodes:
        if node.node == "uav_bridge":
            twin.node_params[node.name] = {"link": dict(SITL_BRIDGE_LINK)}
    twin.notes.append("the bridge runs with link.home_at_seq0 true: ArduPilot keeps home in mission item 0 and "
                      "flies from item 1, so the bridge prepends home on upload (the headless autopilot flies every "
                      "uploaded item)")
    twin.notes.append(f"the vehicle is ardupilot_gazebo's {VEHICLE_MODEL} (about 1.5 kg) flown by ArduPilot "
                      f"SITL, not the headless {config.mass_kg:g} kg airframe and autopilot")
    if config.wind_east_m_s or config.wind_north_m_s or config.gust_std_m_s:
        twin.notes.append("the headless wind and gusts are not reproduced (the external vehicle model has no wind "
                          "response enabled)")


#: ArduPilot battery-monitor parameters the headless autopilot has too (same names, units and action numbers):
#: the emulated pack's failsafes then act on the headless thresholds. BATT_FS_LOW_ACT is left to the bridge,
#: which sets it before arming (the relay would fight it).
BATTERY_PARAMS = ("BATT_ARM_VOLT", "BATT_LOW_VOLT", "BATT_CRT_VOLT", "BATT_LOW_TIMER", "BATT_FS_CRT_ACT")


def _relay(twin: Twin, config: Any, entry: SimulatorEntry) -> None:
    """The mavlink_fault_relay between SITL and the bridge: the link outage, the parameter overrides, the pack."""
    vhost, vport = RELAY_MAVLINK.split(":")
    bhost, bport = SITL_MAVLINK.split(":")
    overrides = {n: float(v) for n, v in zip(config.param_names, config.param_values)}
    params: dict[str, Any] = {"vehicle_host": vhost, "vehicle_port": int(vport), "bridge_host": bhost,
                              "bridge_port": int(bport), "vehicle_system_id": int(config.system_id)}
    if config.link_down_start_s >= 0:
        start, end = config.link_down_start_s, config.link_down_end_s
        params.update({"drop_windows_s": [float(start), float(end)], "time_origin": "armed"})
        twin.notes.append(
            f"the radio link drop ({start:g} s to {end:g} s) is the mavlink_fault_relay node between SITL and the "
            "bridge dropping every datagram both ways; its window is on sim time measured from the vehicle's first "
            "armed heartbeat, not from t = 0: SITL boots, waits for GPS and lets its EKF converge for tens of "
            "seconds of sim time before the bridge can arm it, while the headless autopilot is ready at once "
            "(headless the bridge arms the vehicle about a second after start, so the outage comes that much later "
            "in the flight here)")
        twin.notes.append(
            "GCS failsafe: ArduCopter, like the headless autopilot, counts only heartbeats from SYSID_MYGCS and "
            "never triggers before it has heard one, and then acts FS_GCS_TIMEOUT (5 s by default) after they "
            "stop; a companion's loss therefore leaves SITL flying, a ground station's makes it return")
    if config.param_names:
        twin.notes.append("the headless autopilot parameter overrides ("
                          + ", ".join(f"{n}={v:g}" for n, v in overrides.items())
                          + ") are set in SITL by the relay (PARAM_SET after SITL's first heartbeat, repeated until "
                          "echoed); headless they hold from t = 0")
    # the pack: always the headless one (see export)
    headless = twin.headless_simulator(entry.name).sim
    table = headless.params.values  # the headless autopilot's parameters, the scenario's overrides applied
    pack = headless.battery.p  # the headless pack, as the runner builds it
    overrides.update({"BATT_CAPACITY": round(pack.capacity_ah * 1000.0, 3),
                      **{n: float(table[n]) for n in BATTERY_PARAMS}})
    params.update({"battery_capacity_ah": float(pack.capacity_ah), "battery_soc_start": float(headless.battery.soc),
                   "battery_cells": int(pack.cells), "battery_hover_current_a": float(pack.hover_current_a),
                   "battery_idle_current_a": float(pack.idle_current_a),
                   "battery_internal_resistance_ohm": float(pack.internal_resistance_ohm)})
    twin.notes.append(
        f"the {config.battery_capacity_ah:g} Ah pack at {config.battery_soc_start:.0%} is the headless battery "
        "model run by the mavlink_fault_relay from SITL's first heartbeat and written into SITL every second "
        "(MAV_CMD_BATTERY_RESET to its charge, SIM_BATT_VOLTAGE to its terminal voltage): in --model JSON mode "
        "SITL's own pack is a fixed model (SIM_BATT_VOLTAGE - 0.7 V x throttle, 50 A x throttle) that starts "
        f"full and never sags with charge; the emulated pack drains at {config.hover_current_a:g} A x (specific "
        "force / g)^1.5 from the iris' accelerometer, as the headless airframe's commanded thrust drains it, so "
        "the companion's and the autopilot's battery failsafes trip at the same charge and voltage, after the "
        "same flight time once armed (the plan sets its ground speed, so the iris flies it at the headless "
        "speed); SITL's own throttle sag is compensated with a fixed 0.35 V (half throttle), and the first "
        "reset comes with SITL's first heartbeat, not at t = 0")
    twin.notes.append(
        "battery parameters set in SITL from the headless autopilot: BATT_CAPACITY="
        f"{config.battery_capacity_ah * 1000.0:g} mAh, "
        + ", ".join(f"{n}={table[n]:g}" for n in BATTERY_PARAMS) + " (BATT_FS_LOW_ACT is the bridge's to set)")
    if overrides:
        params.update({"param_names": list(overrides), "param_values": list(overrides.values())})
    twin.nodes.append(NodeEntry(node="mavlink_fault_relay", name="mavlink_fault_relay",
                                params_file="config/mavlink_fault_relay.yaml", params=params))


def _power_line(twin: Twin, config: Any, plan_file: str) -> Model:
    """Towers and three straight conductors along the plan's waypoint track (ENU about home)."""
    from sanqin.runtime.paths import resolve_data_path
    from sanqin.uav_bridge.geo import GeoOrigin
    from sanqin.uav_bridge.plan_file import read_plan

    plan = read_plan(resolve_data_path(plan_file))
    origin = GeoOrigin(config.home_latitude_deg, config.home_longitude_deg, config.home_altitude_m)
    wps = [it for it in plan.mission if it.command == 16 and (it.latitude_deg or it.longitude_deg)]  # NAV_WAYPOINT
    track = np.array([origin.to_enu(it.latitude_deg, it.longitude_deg)[:2] for it in wps])
    height = TOWER_HEIGHT_FRACTION * max(it.altitude_m for it in wps)
    towers = [track[0]]
    for a, b in zip(track, track[1:]):
        n = max(1, int(np.ceil(np.linalg.norm(b - a) / TOWER_SPACING_M)))
        towers += [a + (b - a) * k / n for k in range(1, n + 1)]
    name = twin.model_name("power_line")
    root, model = new_model(name, static=True)
    link = el(model, "link", name="line")
    for i, p in enumerate(towers):
        visual_and_collision(link, f"tower_{i + 1}", "box", {"size": [1.0, 1.0, height]},
                             xyz=(p[0], p[1], height / 2), rgba=(0.5, 0.5, 0.52, 1.0))
    for i, (a, b) in enumerate(zip(towers, towers[1:])):
        d = b - a
        yaw = math.atan2(d[1], d[0])
        normal = np.array([-math.sin(yaw), math.cos(yaw)])
        for k, off in enumerate(PHASE_OFFSETS_M):
            mid = (a + b) / 2 + normal * off
            v = el(link, "visual", name=f"span_{i + 1}_phase_{k + 1}_visual")
            el(v, "pose", pose((mid[0], mid[1], height - 1.0), (0.0, math.pi / 2, yaw)))
            geometry(v, "cylinder", radius=0.02, length=float(np.linalg.norm(d)))
            material(v, (0.15, 0.15, 0.15, 1.0))
    twin.placements.append(Placement(name, "power_line"))
    twin.notes.append(f"power line along the waypoint track of {plan_file}: {len(towers)} towers of {height:g} m, "
                      "three straight conductors (no sag); headless the line is not modelled")
    return twin.add_model(Model(name, root, "Power line along the inspection track", {},
                                f"Power line of scenario {twin.scenario.name}: {len(towers)} towers, "
                                f"{len(towers) - 1} spans along {plan_file}."))


def _ground(twin: Twin, config: Any) -> Model:
    name = twin.model_name("ground")
    root, model = new_model(name, static=True)
    link = el(model, "link", name="ground")
    visual_and_collision(link, "ground", "plane", {"normal": [0, 0, 1], "size": [2000.0, 2000.0]},
                         rgba=(0.35, 0.45, 0.3, 1.0))
    files: dict[str, str] = {}
    if config.field_polygon:
        from sanqin.uav_bridge.geo import GeoOrigin

        origin = GeoOrigin(config.home_latitude_deg, config.home_longitude_deg, config.home_altitude_m)
        pts = config.field_polygon
        enu = np.array([origin.to_enu(pts[i], pts[i + 1])[:2] for i in range(0, len(pts), 2)])
        verts = np.column_stack([np.vstack([enu.mean(axis=0), enu]), np.full(len(enu) + 1, 0.01)])
        tris = np.array([[0, 1 + i, 1 + (i + 1) % len(enu)] for i in range(len(enu))])
        area2 = float(np.sum(enu[:, 0] * np.roll(enu[:, 1], -1) - np.roll(enu[:, 0], -1) * enu[:, 1]))
        if area2 < 0:
            tris = tris[:, [0, 2, 1]]  # counter-clockwise seen from above
        files["meshes/field.obj"] = obj_text(verts, tris, f"{name}_field")
        v = el(link, "visual", name="field_visual")
        el(el(el(v, "geometry"), "mesh"), "uri", f"model://{name}/meshes/field.obj")
        material(v, (0.3, 0.6, 0.2, 1.0))
    twin.placements.append(Placement(name, "ground"))
    header = (f"Ground at the home of scenario {twin.scenario.name}"
              + (" with the sprayed field (headless field_polygon, ENU about home)." if files else "."))
    return twin.add_model(Model(name, root, "Ground plane and field", files, header))
