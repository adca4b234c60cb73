"""Score a UAV run from the bridge's view: :class:`~sanqin.simulation.multicopter.plugin.MulticopterSim`'s
``vehicle.*`` metrics recomputed from what the ``uav_bridge`` node published.

In Gazebo the vehicle is ArduPilot SITL, so nothing of the headless simulator's insides is recorded: the bag
holds ``/clock``, ``/diagnostics`` and the bridge's outputs in its namespace — ``odom`` (the autopilot's local
position, ENU about its origin, 10 Hz), ``fix``, ``imu``, ``battery``, ``vehicle_state`` (link, armed, mode,
landed state, mission item and total, items reached; 2 Hz) and ``events`` (upload, parameter and command
outcomes, link lost/connected, the companion's failsafes). The same function scores a headless run's bag, which
is how the tests hold these definitions to the headless ones.

Measured, with the headless definition each matches (:mod:`sanqin.simulation.multicopter.sim` and ``plugin``):

* ``armed``, ``landed`` (``landed_state`` ON_GROUND), ``final_mode`` (ArduCopter number) — the last state heard;
  ``armed_s`` — time between states that say armed, half an interval where they change (the armed flag comes
  with the 1 Hz heartbeat: within about a second per arming);
* ``mission_items`` — the vehicle's own item count (MISSION_CURRENT ``total``); ``items_reached`` — items
  done: the larger of the MISSION_ITEM_REACHED count and the current item (items before it are done, for
  plans without DO_JUMP; ``link.home_at_seq0`` shifts it); ``mission_complete`` — every item done, or the
  plan's final RTL begun (final LAND: landed), as the headless autopilot counts them;
* ``fence_items``, ``rally_items``, ``mission_uploads_ok``/``_failed`` — from the upload outcomes on ``events``
  (the counts are the staged plan's, ``mission.plan_file``; an empty upload is not counted, as headless);
  ``fence_enabled`` — 1 once FENCE_ENABLE was set and acknowledged (absent otherwise: the bridge cannot see it);
* from the ``odom`` positions: ``distance_from_home_m`` and ``distance_from_return_point_m`` of the last one
  (home = where the vehicle last armed; return point = home or the nearest rally point, by the headless
  autopilot's own ``rtl_destination``); over the track: ``flown_m`` (horizontal, armed), ``max_alt_m`` (armed),
  ``max_fence_violation_m`` and ``fence_breaches`` (the headless autopilot's ``fence_violation_m`` on the uploaded
  fence, armed and airborne; a breach is an entry into violation with the fence enabled outside RTL/LAND);
* ``sprayed_m``, ``spray_switches``, ``spray_inside_field_m``, ``spray_outside_field_m`` — the pump state is not
  in the bag (the bridge does not publish servo outputs), so it is the state the vehicle was commanded into: the
  plan's pump items (DO_SET_SERVO on SPRAY_SERVO, DO_SET_RELAY on SPRAY_RELAY, DO_SPRAYER) as the vehicle reports
  passing them, each at the first position within the waypoint radius of the waypoint before it (where the
  item runs), the ``spray`` service's acknowledged commands, and the bridge's pump guard (``payload: pump off
  (…)`` on ``events``: every pump switch acknowledged off); counted while armed. A mode change does not stop
  the pump — ArduPilot's DO_SET_SERVO/DO_SET_RELAY outputs and its sprayer outlast it, and the headless autopilot
  behaves the same — so a return that starts mid-pass sprays on the way home unless the bridge switched the pump
  off. DO_SPRAYER enables the sprayer, which pumps only while the ground speed (from the odometry) is at least
  SPRAY_SPEED_MIN — on after 0.1 s above, off after 1 s below, as AC_Sprayer and the headless autopilot do;
  inside/outside split against ``field_polygon`` buffered by ``field_margin_m`` (shapely), as headless, but at the
  odometry's rate: the headless plugin splits a 0.5 s track and drops the piece around each switch (about 1 %
  less in uav_spraying);
* ``battery_min_soc`` (reported remaining charge, 1 % steps), ``battery_voltage_v`` (last reading);
* ``link_down_s`` — the telemetry silence around each ``link_lost`` event (a drop shorter than the bridge's
  ``link_timeout_s`` is not seen); ``items_reached_link_down`` — items done across each outage (progress in the
  first state :data:`SETTLE_S` after the link returned minus the last before it).

Positions are the autopilot's local frame, taken to be ENU about the scenario's home (the headless simulator's
origin; in the twin SITL's ``-l`` location and the world's spherical coordinates, where ArduPilot's EKF origin
is set at boot). Fence, rally points and waypoints are the staged plan's, with the headless autopilot's
parameters (its defaults and the scenario's ``param_names``: FENCE_ALT_MAX, WPNAV_RADIUS, SPRAY_SERVO, …), not
values read back from the vehicle.

Track metrics need an unbroken track: telemetry silent for longer than ``link_timeout_s`` while armed (a link
outage, a lost bag chunk) leaves them unmeasured. Uploads, FENCE_ENABLE, link outages and the return point
(which rally points went up) need the bridge's ``events``. When the link was down as the recording ended, how the flight
ended is unknown: only the link and upload figures are measured; nothing is when the vehicle was never heard.

Not measurable from the bridge's view, so absent (listed as *not measured* by the scorer): ``photos`` and
``photo_spacing_*`` (CAMERA_FEEDBACK is not published), ``failsafe_events``, ``failsafe_gcs`` and
``failsafe_battery`` (the autopilot's own failsafes: STATUSTEXT is not published, and a mode change does not say
who made it), ``gcs_heartbeats`` (heartbeats the autopilot counted from SYSID_MYGCS), ``rx_bad_frames`` (the
autopilot's receive errors) and ``field_area_m2`` (a scenario constant, not a measurement).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sanqin.simulation.gazebo.errors import ScoreError

#: How late a state may be (s): the vehicle reports its current mission item at the status rate and its mode with
#: the heartbeat (1 Hz), not at once. After the link returns, progress is read from the first state this long after
#: the first telemetry; a pump item or our mode command may have acted this long before a state shows it.
SETTLE_S = 1.0
ON_GROUND = 1  # MAV_LANDED_STATE_ON_GROUND
UPLOAD_OK = re.compile(r"^plan: upload (fence|rally points|mission): ok$")
UPLOAD_REJECTED = re.compile(r"^plan: FAILED: (mission|fence|rally) transfer rejected")
PUMP_EVENT = re.compile(r"^spray (on|off): ok$")
UPLOAD_KIND = {"fence": "fence", "rally points": "rally", "mission": "mission"}


@dataclass(frozen=True)
class _State:
    t: float
    connected: bool
    armed: bool
    mode: str
    autopilot: str
    landed_state: int
    seq: int
    total: int
    reached: int


@dataclass
class _Bridge:
    """The uav_bridge node of the vehicle: its topics, config and staged plan."""

    topics: dict[str, str]
    config: Any
    plan: Any  # uav_bridge.plan_file.Plan or None


def _messages(bag: Any, topic: str) -> Iterator[tuple[float, Any]]:
    """A topic's messages; a bag that breaks while being read is a :class:`ScoreError`, not a crash."""
    it = bag.messages(topic)
    while True:
        try:
            item = next(it)
        except StopIteration:
            return
        except Exception as err:  # rosbags raises its own errors on a damaged chunk
            raise ScoreError(f"bag {getattr(bag, 'path', '?')}: topic {topic} unreadable: {err}") from err
        yield item


def _bridge(config: Any, scenario: Any, gazebo: bool = False) -> _Bridge | None:
    """The scenario's uav_bridge node talking to this vehicle (by system id), or None; ``gazebo``: with the
    parameters the twin overrides for ArduPilot SITL (:data:`~.uav.SITL_BRIDGE_LINK`)."""
    from sanqin.runtime.node import resolve_name
    from sanqin.runtime.params import load_node_config
    from sanqin.runtime.paths import resolve_data_path
    from sanqin.runtime.registry import get_node_spec
    from sanqin.uav_bridge.errors import UavBridgeError
    from sanqin.uav_bridge.plan_file import read_plan

    found = []
    for entry in scenario.nodes:
        if entry.node != "uav_bridge":
            continue
        spec = get_node_spec(entry.node)
        base = scenario.path.parent if scenario.path else None
        try:
            params_file = resolve_data_path(entry.params_file, base) if entry.params_file else None
            params = dict(entry.params)
            if gazebo:
                from sanqin.simulation.gazebo.uav import SITL_BRIDGE_LINK

                params["link"] = {**(params.get("link") or {}), **SITL_BRIDGE_LINK}
            cfg = load_node_config(spec.config, params_file, entry.name, entry.namespace, params)
        except Exception as err:  # a config the runner would refuse as well
            raise ScoreError(f"scenario {scenario.name}: uav_bridge {entry.name}: {err}") from err
        if cfg.link.vehicle_system_id != config.system_id:
            continue
        topics = {o.topic: resolve_name(entry.remap.get(o.topic, o.topic), entry.namespace, entry.name)
                  for o in spec.outputs}
        found.append((entry, cfg, topics))
    if not found:
        return None
    same_link = [f for f in found if f[1].link.url == config.connection]
    _entry, cfg, topics = (same_link or found)[0]
    plan = None
    if cfg.mission.plan_file:
        try:
            plan = read_plan(resolve_data_path(cfg.mission.plan_file))
            plan.validate()
        except (UavBridgeError, OSError):
            plan = None  # the bridge refuses it too: nothing is uploaded from it
    return _Bridge(topics, cfg, plan)


def _states(bag: Any, topic: str) -> list[_State]:
    from sanqin.msgs.errors import MessageError
    from sanqin.msgs.vehicle import vehicle_state_from_msg

    out = []
    for t, msg in _messages(bag, topic):
        try:
            s = vehicle_state_from_msg(msg)
        except (MessageError, AttributeError, TypeError):
            continue
        out.append(_State(t, s.connected, s.armed, s.mode, s.autopilot, s.landed_state, s.mission_seq,
                          s.mission_total, s.items_reached))
    return out


def _track(bag: Any, topic: str) -> tuple[np.ndarray, np.ndarray]:
    """(times, ENU positions) of the odometry with finite positions, in time order."""
    ts, ps = [], []
    for t, msg in _messages(bag, topic):
        try:
            p = msg.pose.pose.position
            xyz = (float(p.x), float(p.y), float(p.z))
        except (AttributeError, TypeError, ValueError):
            continue
        if math.isfinite(t) and all(math.isfinite(v) for v in xyz):
            ts.append(t)
            ps.append(xyz)
    if not ts:
        return np.zeros(0), np.zeros((0, 3))
    order = np.argsort(ts, kind="stable")
    return np.asarray(ts)[order], np.asarray(ps)[order]


def _times(bag: Any, topics: list[str]) -> np.ndarray:
    """Sorted log times of every message on ``topics`` (the vehicle's telemetry reaching the bridge)."""
    ts = [t for topic in topics if topic in bag.counts for t, _ in _messages(bag, topic)]
    return np.sort(np.asarray(ts, dtype=float))


def _at(states: list[_State], times: np.ndarray, t: float) -> _State | None:
    """The last state published at or before ``t``."""
    i = int(np.searchsorted(times, t, side="right")) - 1
    return states[i] if i >= 0 else None


class _Progress:
    """Mission items done, from a state: max(MISSION_ITEM_REACHED count, current item)."""

    def __init__(self, home_at_seq0: bool) -> None:
        self.shift = 1 if home_at_seq0 else 0

    def __call__(self, s: _State) -> int:
        if s.seq < 0:
            return s.reached
        return max(s.reached, s.seq - self.shift, 0)


@dataclass
class _Geometry:
    """The headless autopilot (its geometry only) and the staged plan's fence and rally items on the wire."""

    ap: Any
    fence: list[Any] = field(default_factory=list)
    rally: list[Any] = field(default_factory=list)


def _headless_autopilot(config: Any, plan: Any) -> _Geometry:
    """The headless autopilot's geometry (fence, rally points, home) over a position we set, for its own
    ``fence_violation_m`` and ``rtl_destination``."""
    from types import SimpleNamespace

    from sanqin.simulation.multicopter.autopilot import Autopilot, Item
    from sanqin.simulation.multicopter.params import ParamTable
    from sanqin.uav_bridge.errors import UavBridgeError
    from sanqin.uav_bridge.geo import GeoOrigin
    from sanqin.uav_bridge.mission_items import to_wire

    origin = GeoOrigin(config.home_latitude_deg, config.home_longitude_deg, config.home_altitude_m)
    params = ParamTable(dict(zip(config.param_names, config.param_values))).values
    body = SimpleNamespace(pos=np.zeros(3))
    ap = Autopilot(origin, params, body, None, None)  # geometry only: no battery, no wind

    def items(mission_items: list[Any], mission_type: int) -> list[Any]:
        out = []
        for i, it in enumerate(mission_items):
            w = to_wire(it, i, mission_type)
            out.append(Item(w.command, w.frame, (w.param1, w.param2, w.param3, w.param4), w.x, w.y, w.z,
                            w.autocontinue))
        return out

    geo = _Geometry(ap)
    if plan is not None:
        try:
            geo.fence, geo.rally = items(plan.fence_items(), 1), items(plan.rally_items(), 2)
        except UavBridgeError:
            pass
    return geo


def _upload_outcomes(events: list[tuple[float, str]], plan: Any) -> dict[str, Any]:
    """Upload outcomes: times of accepted fence/rally/mission uploads, counts of accepted and refused ones."""
    sizes = {"fence": len(plan.fence_items()) if plan else None, "rally": len(plan.rally_items()) if plan else None,
             "mission": len(plan.mission) if plan else None}
    ok_at: dict[str, float] = {}
    n_ok, n_failed, fence_enabled_at = 0, 0, None
    for t, text in events:
        m = UPLOAD_OK.match(text)
        if m:
            kind = UPLOAD_KIND[m.group(1)]
            ok_at[kind] = t
            n_ok += 1 if sizes[kind] else 0  # the headless server counts a non-empty transfer only
        elif UPLOAD_REJECTED.match(text):
            n_failed += 1
        elif text == "plan: set FENCE_ENABLE: ok" and fence_enabled_at is None:
            fence_enabled_at = t
    return {"ok_at": ok_at, "sizes": sizes, "ok": n_ok, "failed": n_failed, "fence_enabled_at": fence_enabled_at,
            "plan_known": plan is not None, "events_known": bool(events)}


def score(config: Any, entry: Any, scenario: Any, bag: Any) -> dict[str, float]:
    """``vehicle.*`` metrics (without the prefix) from the bridge's topics in ``bag``; see the module docstring."""
    bridge = _bridge(config, scenario, gazebo="/clock" in bag.counts)  # the headless runner records no /clock
    if bridge is None:
        return {}
    topics = bridge.topics
    heard = _states(bag, topics["vehicle_state"]) if topics["vehicle_state"] in bag.counts else []
    states = [s for s in heard if s.connected]
    if not states:
        return {}  # the vehicle was never heard
    cfg = bridge.config
    st_times = np.array([s.t for s in states])
    has_events = topics["events"] in bag.counts
    events = [(t, str(m.data)) for t, m in _messages(bag, topics["events"])] if has_events else []
    end_s = float(bag.end_time_s())
    progress = _Progress(cfg.link.home_at_seq0)
    if any(text.startswith("plan staged:") for _, text in events):
        bridge.plan = None  # a plan came on ~/mission_plan (not recorded): what was flown is not the plan file
    out: dict[str, float] = {}
    up = _upload_outcomes(events, bridge.plan)
    if has_events:  # without the bridge's events, uploads and link losses are unknown
        if up["plan_known"]:
            out["mission_uploads_ok"] = float(up["ok"])
            for kind in ("fence", "rally"):
                if kind in up["ok_at"]:
                    out[f"{kind}_items"] = float(up["sizes"][kind])
        out["mission_uploads_failed"] = float(up["failed"])
        if up["fence_enabled_at"] is not None:
            out["fence_enabled"] = 1.0
        telemetry = _times(bag, [topics[k] for k in ("odom", "imu", "fix", "battery")])
        out.update(_link(events, telemetry, states, st_times, progress, end_s))
    if not heard[-1].connected:
        return out  # the link was down when the recording ended: how the flight ended is unknown
    last = states[-1]
    out["armed"] = float(last.armed)
    if last.landed_state:
        out["landed"] = float(last.landed_state == ON_GROUND)
    out["armed_s"] = _armed_s(states, end_s)
    out.update(_mode_number(last))
    if last.seq >= 0:
        out.update(_mission(states, progress, bridge.plan, up["ok_at"].get("mission")))
    out.update(_battery(bag, topics["battery"]))
    t, pos = _track(bag, topics["odom"]) if topics["odom"] in bag.counts else (np.zeros(0), np.zeros((0, 3)))
    if len(t):
        geo = _headless_autopilot(config, bridge.plan)
        armed = np.array([bool((s := _at(states, st_times, float(x))) and s.armed) for x in t])
        out.update(_end_metrics(t, pos, armed, geo, up))
        if not _broken(t, armed, cfg.link.link_timeout_s):
            out.update(_track_metrics(t, pos, armed, states, st_times, geo, up))
            if bridge.plan is not None:
                out.update(_spray(t, pos, states, st_times, geo.ap, bridge, events, progress, config))
    return out


def _mission(states: list[_State], progress: _Progress, plan: Any, uploaded_at: float | None) -> dict[str, float]:
    """Items on the vehicle, items done, and whether the mission was completed.

    Complete: every item reported done — or, as the headless autopilot counts a final RETURN_TO_LAUNCH done when
    it begins and a final LAND when the vehicle disarms after it, the vehicle's current item is the plan's final
    RTL after it flew the plan, or its final LAND and it landed and disarmed (an autopilot that reports
    MISSION_ITEM_REACHED for NAV items only, as ArduPilot does, never reports its DO items done).
    """
    from sanqin.uav_bridge.enums import mavlink as C

    last = states[-1]
    total = last.total
    reached = max(progress(s) for s in states if s.seq >= 0 or s.reached)
    complete = total > 0 and progress(last) >= total
    if not complete and total > 0 and plan is not None and uploaded_at is not None and len(plan.mission) == total:
        final = plan.mission[-1].command
        at_final = [s for s in states if s.t >= uploaded_at and s.seq >= 0 and s.seq - progress.shift >= total - 1]
        flew = any(s.armed for s in at_final)
        if at_final and at_final[-1] is last and flew:
            if final == C.MAV_CMD_NAV_RETURN_TO_LAUNCH:
                complete = True
            elif final == C.MAV_CMD_NAV_LAND:
                complete = not last.armed and last.landed_state == ON_GROUND
    if complete:
        reached = max(reached, total)
    return {"mission_items": float(total), "items_reached": float(reached), "mission_complete": float(complete)}


def _armed_s(states: list[_State], end_s: float) -> float:
    """Time armed: between two states that say armed, and half the interval where the states differ."""
    total = 0.0
    for a, b in zip(states, states[1:]):
        total += (b.t - a.t) * (a.armed + b.armed) / 2
    if states[-1].armed:
        total += max(0.0, end_s - states[-1].t)
    return total


def _mode_number(s: _State) -> dict[str, float]:
    from sanqin.uav_bridge.modes import ARDUCOPTER_MODES

    if s.autopilot != "ardupilot" or s.mode not in ARDUCOPTER_MODES:
        return {}
    return {"final_mode": float(ARDUCOPTER_MODES[s.mode])}


def _battery(bag: Any, topic: str) -> dict[str, float]:
    if topic not in bag.counts:
        return {}
    soc, volt = [], math.nan
    for _, msg in _messages(bag, topic):
        p, v = float(getattr(msg, "percentage", math.nan)), float(getattr(msg, "voltage", math.nan))
        if math.isfinite(p) and 0.0 <= p <= 1.0:
            soc.append(p)
        if math.isfinite(v) and v > 0:
            volt = v
    out = {}
    if soc:
        out["battery_min_soc"] = min(soc)
    if math.isfinite(volt):
        out["battery_voltage_v"] = volt
    return out


def _link(events: list[tuple[float, str]], telemetry: np.ndarray, states: list[_State], st_times: np.ndarray,
          progress: _Progress, end_s: float) -> dict[str, float]:
    """Link outages the bridge detected: telemetry silence around each ``link_lost`` and the progress across it."""
    down, items, complete = 0.0, 0, True
    seen: set[int] = set()
    for t_lost, text in events:
        if text != "link link_lost":
            continue
        i = int(np.searchsorted(telemetry, t_lost, side="right"))  # telemetry[i - 1] <= t_lost < telemetry[i]
        if i in seen:
            continue
        seen.add(i)
        t_before = float(telemetry[i - 1]) if i > 0 else 0.0
        if i >= len(telemetry):
            down += max(0.0, end_s - t_before)
            complete = False  # never came back: what the vehicle did meanwhile is unknown
            continue
        t_back = float(telemetry[i])
        down += t_back - t_before
        before = _at(states, st_times, t_before)
        j = int(np.searchsorted(st_times, t_back + SETTLE_S, side="left"))
        if before is None or j >= len(states):
            complete = False
            continue
        items += max(0, progress(states[j]) - progress(before))
    out = {"link_down_s": down}
    if complete:
        out["items_reached_link_down"] = float(items)
    return out


def _broken(t: np.ndarray, armed: np.ndarray, timeout_s: float) -> bool:
    """Whether the track has a silence longer than the link timeout next to an armed sample."""
    gaps = np.nonzero(np.diff(t) > timeout_s)[0]
    return bool(any(armed[k] or armed[k + 1] for k in gaps))


def _airborne(s: _State | None) -> bool:
    return s is not None and s.armed and s.landed_state != ON_GROUND


def _end_metrics(t: np.ndarray, pos: np.ndarray, armed: np.ndarray, geo: _Geometry,
                 up: dict[str, Any]) -> dict[str, float]:
    """Where the vehicle ended: from home and from its return point (home or the nearest rally point)."""
    ap = geo.ap
    # home: where the vehicle last armed (the headless autopilot sets it on arming); never armed: the origin
    arm_idx = [k for k in range(len(t)) if armed[k] and (k == 0 or not armed[k - 1])]
    if arm_idx:
        k = max(0, arm_idx[-1] - 1)
        ap.home = np.array([pos[k, 0], pos[k, 1], 0.0])
    ap.body.pos = pos[-1].copy()
    out = {"distance_from_home_m": float(np.linalg.norm(pos[-1, :2] - ap.home[:2]))}
    if not up["events_known"] or ("rally" in up["ok_at"] and not up["plan_known"]):
        return out  # whether or which rally points went up is unknown
    ap.rally = geo.rally if "rally" in up["ok_at"] else []  # none uploaded in the recording: none (as headless)
    out["distance_from_return_point_m"] = float(np.linalg.norm(pos[-1, :2] - ap.rtl_destination()[:2]))
    return out


def _track_metrics(t: np.ndarray, pos: np.ndarray, armed: np.ndarray, states: list[_State], st_times: np.ndarray,
                   geo: _Geometry, up: dict[str, Any]) -> dict[str, float]:
    """Path flown, highest altitude and the fence, over an unbroken track."""
    ap = geo.ap
    step = np.linalg.norm(np.diff(pos[:, :2], axis=0), axis=1) if len(t) > 1 else np.zeros(0)
    out = {"flown_m": float(np.sum(step[armed[:-1]])) if len(step) else 0.0,
           "max_alt_m": max(0.0, float(np.max(pos[armed, 2]))) if armed.any() else 0.0}
    if "fence" in up["ok_at"] and geo.fence:
        t_fence = up["ok_at"]["fence"]
        enabled_at = up["fence_enabled_at"]
        if enabled_at is None and ap.params["FENCE_ENABLE"] >= 1:
            enabled_at = -math.inf
        ap.fence = geo.fence
        worst, breaches, inside = 0.0, 0, True
        for x, p in zip(t, pos):
            s = _at(states, st_times, float(x))
            if x < t_fence or not _airborne(s):
                inside = True
                continue
            d = float(ap.fence_violation_m(p))
            worst = max(worst, d)
            enforced = enabled_at is not None and x >= enabled_at and s.mode not in ("RTL", "LAND")
            if d > 0 and enforced and inside:
                breaches += 1
            inside = not (d > 0 and enforced)
        out["max_fence_violation_m"] = worst
        out["fence_breaches"] = float(breaches)
    return out


def _pump_items(plan: Any, params: dict[str, float]) -> dict[int, tuple[str, float]]:
    """Plan index → (what, value) for the items that switch the pump."""
    from sanqin.uav_bridge.enums import mavlink as C

    ch, relay = int(params["SPRAY_SERVO"]), int(params["SPRAY_RELAY"])
    out = {}
    for j, it in enumerate(plan.mission):
        p = it.params
        if it.command == C.MAV_CMD_DO_SET_SERVO and int(p[0]) == ch:
            out[j] = ("servo", float(p[1]))
        elif it.command == C.MAV_CMD_DO_SET_RELAY and int(p[0]) == relay:
            out[j] = ("relay", float(bool(p[1])))
        elif it.command == C.MAV_CMD_DO_SPRAYER:
            out[j] = ("sprayer", float(bool(p[0])))
    return out


def _item_time(j: int, t_a: float, t_b: float, t: np.ndarray, pos: np.ndarray, ap: Any, plan: Any) -> float:
    """When pump item ``j`` ran, the vehicle's progress having passed it between states at ``t_a`` and ``t_b``.

    A DO item runs when the NAV item before it completes: after a waypoint (or timed loiter) at a position, at
    the first position within the waypoint radius of it plus its hold time; otherwise when the state showed it.
    """
    from sanqin.simulation.multicopter.autopilot import NAV_COMMANDS, Item
    from sanqin.uav_bridge.enums import mavlink as C
    from sanqin.uav_bridge.mission_items import to_wire

    nav = next((i for i in range(j - 1, -1, -1) if plan.mission[i].command in NAV_COMMANDS), None)
    lo, hi = int(np.searchsorted(t, t_a - SETTLE_S, side="left")), int(np.searchsorted(t, t_b, side="right"))
    if nav is None or hi <= lo:
        return t_b
    w = to_wire(plan.mission[nav], nav, 0)
    if w.command not in (C.MAV_CMD_NAV_WAYPOINT, C.MAV_CMD_NAV_LOITER_TIME) or (w.x, w.y) == (0, 0):
        return t_b  # a takeoff, landing, delay or a waypoint "here": no place to find on the track
    target = ap.item_enu(Item(w.command, w.frame, (w.param1, w.param2, w.param3, w.param4), w.x, w.y, w.z))
    d = np.linalg.norm(pos[lo:hi] - target, axis=1)
    radius = max(0.5, ap.params["WPNAV_RADIUS"] / 100.0)
    within = np.nonzero(d <= radius)[0]
    if not len(within):
        return t_b
    hold = w.param1 if math.isfinite(w.param1) and w.param1 > 0 else 0.0
    return min(float(t[lo + int(within[0])]) + hold, t_b)


def _spray(t: np.ndarray, pos: np.ndarray, states: list[_State], st_times: np.ndarray, ap: Any, bridge: _Bridge,
           events: list[tuple[float, str]], progress: _Progress, config: Any) -> dict[str, float]:
    """Sprayed length (inside/outside the field) and pump switches from the commanded pump state: the plan's pump
    items, the spray service and the bridge's pump guard (a mode change leaves the outputs as they are)."""
    from shapely.geometry import LineString, Polygon

    from sanqin.uav_bridge.pump_guard import PUMP_OFF_EVENT

    plan = bridge.plan
    pumps = _pump_items(plan, ap.params)
    ch = int(ap.params["SPRAY_SERVO"])
    changes: list[tuple[float, int, str, float]] = []  # time, order, what, value
    done: int | None = None
    for a, b in zip([None, *states], states):
        p = progress(b)
        if done is not None and a is not None and p > done:  # items done[..p) ran between states a and b
            for j in range(done, p):
                if j in pumps:
                    what, value = pumps[j]
                    changes.append((_item_time(j, a.t, b.t, t, pos, ap, plan), 0, what, value))
        done = p  # (a smaller progress: a new mission; nothing is replayed)
    pay = bridge.config.payload
    for t_e, text in events:
        if PUMP_OFF_EVENT.match(text):  # the bridge's pump guard: every pump switch acknowledged off
            changes.append((t_e, 1, "all_off", 0.0))  # after a pump item reconstructed at the same time
            continue
        m = PUMP_EVENT.match(text)
        if not m:
            continue
        on = m.group(1) == "on"
        if pay.spray_method == "servo" and pay.spray_servo_channel == ch:
            changes.append((t_e, 0, "servo", float(pay.spray_pwm_on if on else pay.spray_pwm_off)))
        elif pay.spray_method == "relay" and pay.spray_relay == int(ap.params["SPRAY_RELAY"]):
            changes.append((t_e, 0, "relay", float(on)))
        elif pay.spray_method == "sprayer":
            changes.append((t_e, 0, "sprayer", float(on)))
    changes.sort(key=lambda c: (c[0], c[1]))
    # the sprayer pumps while enabled and fast enough (AC_Sprayer's gate, as the headless autopilot models it)
    enabled = [(tc, value >= 1 if what == "sprayer" else False) for tc, _, what, value in changes
               if what in ("sprayer", "all_off")]
    changes += [(tc, 2, "pumping", float(on)) for tc, on in _sprayer_gate(t, pos, enabled, ap.params)]
    changes.sort(key=lambda c: (c[0], c[1]))
    # the pump (headless Autopilot.spraying): armed and (sprayer pumping, pump servo above 1500 µs or pump relay
    # on); the bridge's pump guard switches all three off
    servo, relay, pumping = 1000.0, False, False
    timeline: list[tuple[float, bool]] = [(-math.inf, False)]
    for tc, _, what, value in changes:
        if what == "servo":
            servo = value
        elif what == "relay":
            relay = bool(value)
        elif what == "pumping":
            pumping = bool(value)
        elif what == "all_off":
            servo, relay = (1000.0 if servo > 1500 else servo), False
        else:
            continue  # the sprayer's enable: its pumping follows from the gate
        timeline.append((tc, pumping or servo > 1500 or relay))
    switch_t = np.array([x[0] for x in timeline])

    def pump(x: float) -> bool:
        i = int(np.searchsorted(switch_t, x, side="right")) - 1
        s = _at(states, st_times, x)
        return bool(timeline[i][1] and s is not None and s.armed)

    # split the track at the switch times (and arming changes) so each piece is wholly on or off
    cuts = sorted({x[0] for x in timeline[1:]} | {s.t for a, s in zip(states, states[1:]) if a.armed != s.armed})
    tt = np.union1d(t, [c for c in cuts if t[0] < c < t[-1]])
    pp = np.column_stack([np.interp(tt, t, pos[:, k]) for k in range(3)])
    switches, on_prev = 0, False
    for x in np.union1d(tt, cuts):  # switches off the track too (e.g. disarming after the last odometry)
        on = pump(float(x))
        switches += int(on != on_prev)
        on_prev = on
    zone = None
    if config.field_polygon:
        o, pts = ap.origin, config.field_polygon
        zone = Polygon([o.to_enu(pts[i], pts[i + 1])[:2] for i in range(0, len(pts), 2)]).buffer(config.field_margin_m)
    sprayed = inside = 0.0
    for k in range(len(tt) - 1):
        if not pump(0.5 * (tt[k] + tt[k + 1])):
            continue
        a, b = pp[k, :2], pp[k + 1, :2]
        length = float(np.linalg.norm(b - a))
        if length == 0:
            continue
        sprayed += length
        inside += LineString([a, b]).intersection(zone).length if zone is not None else length
    return {"sprayed_m": sprayed, "spray_switches": float(switches), "spray_inside_field_m": inside,
            "spray_outside_field_m": max(0.0, sprayed - inside)}


def _sprayer_gate(t: np.ndarray, pos: np.ndarray, enabled: list[tuple[float, bool]],
                  params: dict[str, float]) -> list[tuple[float, bool]]:
    """When the sprayer's pump starts and stops (time, pumping): while enabled, on after the ground speed (from the
    odometry) stayed at or above SPRAY_SPEED_MIN for more than 0.1 s, off after it stayed below for more than 1 s;
    off at once when disabled — the headless autopilot's ``_sprayer_step`` (AC_Sprayer) at the odometry's rate."""
    from sanqin.simulation.multicopter.autopilot import SPRAYER_SHUT_OFF_DELAY_S, SPRAYER_TURN_ON_DELAY_S

    if not enabled or len(t) < 2:
        return [(tc, False) for tc, on in enabled if not on]
    dt = np.diff(t)
    speed = np.where(dt > 0, np.linalg.norm(np.diff(pos[:, :2], axis=0), axis=1) / np.where(dt > 0, dt, 1.0), 0.0)
    fast = speed * 100.0 >= params["SPRAY_SPEED_MIN"]
    steps = sorted([(float(x), 1, bool(f)) for x, f in zip(t[1:], fast)] + [(tc, 0, on) for tc, on in enabled])
    out: list[tuple[float, bool]] = []
    on_enabled, pumping, since = False, False, None
    for x, kind, value in steps:
        if kind == 0:  # the sprayer enabled or disabled
            on_enabled, since = value, None
            if not value and pumping:
                pumping = False
                out.append((x, False))
            continue
        if not on_enabled or value == pumping:
            since = None
            continue
        since = x if since is None else since
        if x - since > (SPRAYER_SHUT_OFF_DELAY_S if pumping else SPRAYER_TURN_ON_DELAY_S):
            pumping, since = value, None
            out.append((x, pumping))
    return out
