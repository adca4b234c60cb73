"""Gazebo twin of :class:`sanqin.simulation.thermal_tunnel.ThermalTunnelSim`: a thermal camera along the trays.

The headless scene is an image-space model; the twin builds the 3-D scene that projects to it: the left
wall ``range_m`` from the camera, one cable band per tray tier at the height whose image row is the
headless ``tier_rows_px`` (pinhole, ``fx_px``, square pixels, camera 1 m up), as thick as the headless
bands, and each cable joint as a strip on its band whose temperature profile along the cable is the
headless Gaussian hot spot (a ``heat_signature`` texture between the cable and the peak temperature).
Temperatures come from Gazebo's ``Thermal`` system; the atmosphere is at ``ambient_c``.

The camera (``thermal_camera``, L16 at ``RESOLUTION_K`` kelvin per count, the headless size and focal
length, looking at the wall) rides a gravity-free carrier that ``path_driver`` moves along the tunnel at
``speed_m_s``; ``thermal_counts`` turns its 16-bit counts into the 32FC1 °C images the thermal inspector
takes, on ``/thermal/image``; ``OdometryPublisher`` gives ``/odometry`` (station = x) with the headless
along-track noise. Scored by the plugin's own alarm scoring.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sanqin.runtime.scenario import NodeEntry, SimulatorEntry
from sanqin.simulation.gazebo import systems
from sanqin.simulation.gazebo.bridge import GZ_TO_ROS, ROS_TO_GZ, BridgeEntry
from sanqin.simulation.gazebo.mesh import obj_text
from sanqin.simulation.gazebo.sdf import el, plugin, pose
from sanqin.simulation.gazebo.sensors import thermal_camera
from sanqin.simulation.gazebo.texture import indexed_png
from sanqin.simulation.gazebo.twin import Model, Placement, Spawn, Twin, geometry, inertial, material, new_model

CAMERA_HEIGHT_M = 1.0
RESOLUTION_K = 0.01
MIN_TEMP_K, MAX_TEMP_K = 223.15, 623.15  # L16 at 0.01 K/count reaches 655.35 K
ZERO_C_IN_K = 273.15
SIGNATURE_PX = 256


def _kelvin(celsius: float) -> float:
    return celsius + ZERO_C_IN_K


def _thermal(visual: Any, celsius: float) -> None:
    plugin(visual, "gz-sim-thermal-system", "gz::sim::systems::Thermal", {"temperature": _kelvin(celsius)})


def row_height_m(config: Any, row_px: float) -> float:
    """Height on the wall (m) that the camera images at row ``row_px`` (pixel centre)."""
    cy = config.height_px / 2
    return CAMERA_HEIGHT_M - (row_px + 0.5 - cy) * config.range_m / config.fx_px


def export(config: Any, entry: SimulatorEntry, twin: Twin) -> None:
    """Add the wall with bands and joints, the camera carrier, the count converter and the driver."""
    _scene(twin, config)
    atm = el(None, "atmosphere", type="adiabatic")
    el(atm, "temperature", _kelvin(config.ambient_c))
    twin.world_elements.append(atm)
    name = twin.model_name("camera")
    root, model = new_model(name)
    link = el(model, "link", name="base_link")
    el(link, "gravity", False)
    inertial(link, 5.0, (0.1, 0.1, 0.1))
    twin.add_sensor(thermal_camera(
        link, name="thermal_camera", gz_topic=f"/model/{name}/thermal/image", ros_image_topic="/thermal/image_raw",
        frame_id="thermal_camera", width=config.width_px, height=config.height_px,
        horizontal_fov_rad=2 * math.atan(config.width_px / 2 / config.fx_px), rate_hz=config.rate_hz,
        min_temp_k=MIN_TEMP_K, max_temp_k=MAX_TEMP_K, resolution_k=RESOLUTION_K, rpy=(0.0, 0.0, math.pi / 2)))
    systems.velocity_control(model, f"/model/{name}/cmd_vel")
    systems.odometry_publisher(model, f"/model/{name}/odometry", f"/model/{name}/tf", 20.0,
                               gaussian_noise_m=config.odom_noise_m)
    twin.add_bridge(BridgeEntry("/cmd_vel", f"/model/{name}/cmd_vel", "geometry_msgs/msg/Twist", "gz.msgs.Twist",
                                ROS_TO_GZ))
    twin.add_bridge(BridgeEntry("/odometry", f"/model/{name}/odometry", "nav_msgs/msg/Odometry",
                                "gz.msgs.Odometry", GZ_TO_ROS))
    twin.add_model(Model(name, root, "Thermal camera carrier (gravity-free, VelocityControl)", {},
                         f"Thermal camera of scenario {twin.scenario.name}: {config.width_px}x{config.height_px} px, "
                         f"f = {config.fx_px:g} px, L16 at {RESOLUTION_K} K/count, looking at the wall "
                         f"{config.range_m:g} m away from {CAMERA_HEIGHT_M:g} m up."))
    twin.spawns.append(Spawn(name, "camera", (config.start_station_m, 0.0, CAMERA_HEIGHT_M)))
    twin.nodes.append(NodeEntry(
        node="thermal_counts", name="thermal_counts", params_file="config/thermal_counts.yaml",
        params={"kelvin_per_count": RESOLUTION_K}, remap={"image_in": "/thermal/image_raw",
                                                          "image_out": "/thermal/image"}))
    twin.nodes.append(NodeEntry(
        node="path_driver", name="path_driver", params_file="config/path_driver.yaml",
        params={"path_xy_m": [config.start_station_m, 0.0, config.end_station_m, 0.0],
                "speed_m_s": config.speed_m_s, "lookahead_m": 2.0, "goal_tolerance_m": 0.05},
        remap={"odom": "/odometry", "cmd_vel": "/cmd_vel"}))
    twin.record_topics.update({config.alarms_topic, "/thermal/image"})
    twin.notes.append("the one-frame reflections and the per-pixel noise of the headless images are not reproduced")
    twin.notes.append("path_driver steers on the noisy /odometry the inspector also uses (headless the motion is "
                      "exact)")


def _scene(twin: Twin, config: Any) -> Model:
    name = twin.model_name("wall")
    root, model = new_model(name, static=True)
    link = el(model, "link", name="wall")
    x0, x1 = config.start_station_m - 10.0, config.end_station_m + 10.0
    length, cx = x1 - x0, (x0 + x1) / 2
    wall = el(link, "visual", name="wall_visual")
    el(wall, "pose", pose((cx, config.range_m + 0.05, 1.25)))
    geometry(wall, "box", size=[length, 0.1, 2.5])
    material(wall, (0.6, 0.6, 0.6, 1.0))
    _thermal(wall, config.ambient_c)
    band_h = (2 * config.band_half_px + 1) * config.range_m / config.fx_px
    for tier, row in enumerate(config.tier_rows_px):
        band = el(link, "visual", name=f"cable_band_{tier}_visual")
        el(band, "pose", pose((cx, config.range_m - 0.01, row_height_m(config, row))))
        geometry(band, "box", size=[length, 0.02, band_h])
        material(band, (0.1, 0.1, 0.1, 1.0))
        _thermal(band, config.cable_c)
    files: dict[str, str | bytes] = {}
    half_len = 4.0 * config.joint_sigma_m
    xs = np.linspace(-half_len, half_len, SIGNATURE_PX)
    profile = np.exp(-(xs**2) / (2 * config.joint_sigma_m**2))  # 1 at the peak, ~0 at the strip ends
    sig = np.round(profile * 255).astype(np.uint8)[None, :].repeat(4, axis=0)
    files["materials/hot_spot.png"] = indexed_png(sig, [(v, v, v) for v in range(256)])
    joint_h = (2 * config.band_half_px - 1) * config.range_m / config.fx_px
    verts = np.array([[-half_len, 0, -joint_h / 2], [half_len, 0, -joint_h / 2], [half_len, 0, joint_h / 2],
                      [-half_len, 0, joint_h / 2]])
    uv = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=float)
    files["meshes/joint_strip.obj"] = obj_text(verts, np.array([[0, 2, 1], [0, 3, 2]]), f"{name}_joint", uv=uv)
    for k, (s_j, tier, peak) in enumerate(zip(config.joint_stations_m, config.joint_tiers, config.joint_peak_c)):
        strip = el(link, "visual", name=f"joint_{k + 1}_visual")
        el(strip, "pose", pose((s_j, config.range_m - 0.025, row_height_m(config, config.tier_rows_px[tier]))))
        el(el(el(strip, "geometry"), "mesh"), "uri", f"model://{name}/meshes/joint_strip.obj")
        material(strip, (0.9, 0.4, 0.1, 1.0))
        plugin(strip, "gz-sim-thermal-system", "gz::sim::systems::Thermal", {
            "heat_signature": f"model://{name}/materials/hot_spot.png",
            "min_temp": _kelvin(config.cable_c), "max_temp": _kelvin(peak)})
    twin.placements.append(Placement(name, "wall"))
    header = (f"Tray wall of scenario {twin.scenario.name}: wall at {config.ambient_c:g} °C {config.range_m:g} m from "
              f"the camera, {len(config.tier_rows_px)} cable bands at {config.cable_c:g} °C, "
              f"{len(config.joint_stations_m)} joints with Gaussian hot spots (sigma {config.joint_sigma_m:g} m).")
    return twin.add_model(Model(name, root, "Cable-tray wall with thermal signatures", files, header))


def score(config: Any, entry: SimulatorEntry, scenario: Any, bag: Any) -> dict[str, float]:
    """The plugin's alarm scoring on the recorded alarms; images counted from the bag."""
    from sanqin.simulation.gazebo.twin import headless_simulator

    sim = headless_simulator(scenario, entry.name)
    for _, msg in bag.messages(config.alarms_topic):
        sim._on_alarms(msg)
    sim.images = sum(1 for _ in bag.messages("/thermal/image"))
    return sim.metrics()
