"""Plans → MAVLink mission items (:class:`~sanqin.common.mission.MissionItem`, degrees/metres) and paths.

Spraying: one sortie per tank/battery: take-off, speed, route waypoints with the sprayer switched at
every on/off change (``MAV_CMD_DO_SPRAYER``, or ``MAV_CMD_DO_SET_SERVO`` per boom section plus a pump
channel whose PWM follows the prescribed flow), return to launch. ``DO_SPRAYER`` switches the whole boom, so
it sprays only where every section of the plan is on; a sectioned boom wants the servo method.
Inspection: camera trigger distance (``MAV_CMD_DO_SET_CAM_TRIGG_DIST``) or a photo per station
(``MAV_CMD_DO_DIGICAM_CONTROL``), gimbal attitude (``MAV_CMD_DO_MOUNT_CONTROL``) and yaw
(``MAV_CMD_CONDITION_YAW``) facing the structure. The UAV bridge turns these into MISSION_ITEM_INT.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sanqin.common.mission import MAV_CMD_NAV_WAYPOINT, MAV_FRAME_MISSION, MissionItem
from sanqin.common.types import Path, Pose, PoseStamped
from sanqin.planning.boundary import LocalFrame
from sanqin.planning.errors import PlanningError

MAV_CMD_NAV_RETURN_TO_LAUNCH = 20
MAV_CMD_NAV_TAKEOFF = 22
MAV_CMD_CONDITION_YAW = 115
MAV_CMD_DO_CHANGE_SPEED = 178
MAV_CMD_DO_SET_SERVO = 183
MAV_CMD_DO_DIGICAM_CONTROL = 203
MAV_CMD_DO_MOUNT_CONTROL = 205
MAV_CMD_DO_SET_CAM_TRIGG_DIST = 206
MAV_CMD_DO_SPRAYER = 216
#: MAV_MOUNT_MODE_MAVLINK_TARGETING: param 7 of DO_MOUNT_CONTROL (0 would be MAV_MOUNT_MODE_RETRACT, which PX4
#: obeys in a mission; ArduPilot ignores param 7 there).
MAV_MOUNT_MODE_MAVLINK_TARGETING = 2


@dataclass(frozen=True)
class SprayerOutput:
    """How the sprayer is commanded: ``sprayer`` (DO_SPRAYER on/off) or ``servo`` (sections + pump PWM)."""

    method: str = "sprayer"
    section_servo_first: int = 9  # servo output of section 0; section i is first + i
    section_pwm_on: int = 1900
    section_pwm_off: int = 1100
    pump_servo: int = 0  # 0 = no pump channel
    pump_pwm_min: int = 1100
    pump_pwm_max: int = 1900
    pump_max_flow_l_min: float = 10.0

    def __post_init__(self) -> None:
        if self.method not in ("sprayer", "servo"):
            raise PlanningError(f"sprayer method must be 'sprayer' or 'servo', got {self.method!r}")
        pwms = (self.section_pwm_on, self.section_pwm_off, self.pump_pwm_min, self.pump_pwm_max)
        if not all(800 <= v <= 2200 for v in pwms):
            raise PlanningError(f"sprayer PWM values must be within 800..2200 µs, got {pwms}")
        if self.section_servo_first < 1 or self.pump_servo < 0:
            raise PlanningError("servo outputs are numbered from 1 (pump_servo 0 = no pump channel)")
        if not (math.isfinite(self.pump_max_flow_l_min) and self.pump_max_flow_l_min > 0):
            raise PlanningError(f"pump_max_flow_l_min must be positive, got {self.pump_max_flow_l_min}")


def _cmd(command: int, *params: float, frame: int = MAV_FRAME_MISSION) -> MissionItem:
    p = (tuple(float(v) for v in params) + (0.0, 0.0, 0.0, 0.0))[:4]
    return MissionItem(command=command, params=p, frame=frame)


def _wp(frame: LocalFrame, xy_m: np.ndarray, alt_m: float) -> MissionItem:
    lat, lon = frame.to_geo(np.asarray(xy_m, float)[:2])[0]
    return MissionItem(MAV_CMD_NAV_WAYPOINT, float(lat), float(lon), float(alt_m))


def _spray_cmds(state: tuple[bool, ...], flow_l_min: float, out: SprayerOutput) -> list[MissionItem]:
    if out.method == "sprayer":
        # one switch for the whole boom: on only where every section may spray — a section the plan switches
        # off (over a no-spray zone's margin or outside the field) must not be sprayed by the others' switch
        return [_cmd(MAV_CMD_DO_SPRAYER, 1.0 if state and all(state) else 0.0)]
    items = [_cmd(MAV_CMD_DO_SET_SERVO, out.section_servo_first + i, out.section_pwm_on if on else out.section_pwm_off)
             for i, on in enumerate(state)]
    if out.pump_servo:
        frac = min(max(flow_l_min / out.pump_max_flow_l_min, 0.0), 1.0)
        items.append(_cmd(MAV_CMD_DO_SET_SERVO, out.pump_servo,
                          round(out.pump_pwm_min + frac * (out.pump_pwm_max - out.pump_pwm_min))))
    return items


def coverage_sorties(plan, alt_m: float, output: SprayerOutput | None = None) -> list[list[MissionItem]]:
    """Mission items of a coverage plan, one list per sortie (split at the refill stops)."""
    frame = plan.field.frame
    if frame is None:
        raise PlanningError("the field has no geographic frame: cannot make a mission in lat/lon")
    if not (math.isfinite(alt_m) and alt_m > 0):
        raise PlanningError(f"altitude must be positive, got {alt_m}")
    out = output or SprayerOutput()
    sections = plan.config.boom_sections
    off = (False,) * sections
    stops = {r.leg_index for r in plan.refills}
    sorties: list[list[MissionItem]] = []

    def start_sortie() -> list[MissionItem]:
        # take-off at the current position (lat/lon 0 = here, yaw NaN = keep heading)
        return [MissionItem(MAV_CMD_NAV_TAKEOFF, 0.0, 0.0, alt_m, (0.0, 0.0, 0.0, float("nan"))),
                _cmd(MAV_CMD_DO_CHANGE_SPEED, 1, plan.config.speed_m_s, -1, 0)]

    items = start_sortie()
    state, flow = off, 0.0
    leg_i = 0
    last_xy = None
    for piece in plan.pieces:
        segs = piece.spray or [None] * (len(piece.points_m) - 1)
        pts = [(s.start_m, s.end_m, s.sections, s.flow_l_min) if s is not None else
                (piece.points_m[j], piece.points_m[j + 1], off, 0.0) for j, s in enumerate(segs)]
        for a, b, sec, fl in pts:
            if np.linalg.norm(b - a) <= 1e-9:
                continue
            if leg_i in stops:
                if state != off:
                    items.extend(_spray_cmds(off, 0.0, out))
                items.append(_cmd(MAV_CMD_NAV_RETURN_TO_LAUNCH))
                sorties.append(items)
                items = start_sortie()
                state, last_xy = off, None
            if last_xy is None or np.linalg.norm(a - last_xy) > 1e-6:
                items.append(_wp(frame, a, alt_m))
            if out.method == "sprayer":
                sec = (all(sec),) * len(sec)  # what the single switch can do (see _spray_cmds)
            if sec != state or (any(sec) and abs(fl - flow) > 1e-6):
                items.extend(_spray_cmds(sec, fl, out))
                state, flow = sec, fl
            items.append(_wp(frame, b, alt_m))
            last_xy = b
            leg_i += 1
    if state != off:
        items.extend(_spray_cmds(off, 0.0, out))
    items.append(_cmd(MAV_CMD_NAV_RETURN_TO_LAUNCH))
    sorties.append(items)
    return sorties


def _per_point(value: float | np.ndarray | None, n: int, name: str) -> np.ndarray | None:
    if value is None:
        return None
    arr = np.broadcast_to(np.asarray(value, float), (n,)) if np.ndim(value) == 0 else np.asarray(value, float)
    if arr.shape != (n,) or not np.all(np.isfinite(arr)):
        raise PlanningError(f"{name} must be one finite value or one per waypoint ({n})")
    return arr


def mount_control(pitch_deg: float, yaw_deg: float = 0.0) -> MissionItem:
    """``MAV_CMD_DO_MOUNT_CONTROL``: pitch (deg, negative down), roll 0, yaw (deg, body frame, positive right)."""
    return MissionItem(MAV_CMD_DO_MOUNT_CONTROL, 0.0, 0.0, float(MAV_MOUNT_MODE_MAVLINK_TARGETING),
                       (float(pitch_deg), 0.0, float(yaw_deg), 0.0), MAV_FRAME_MISSION)


def inspection_items(frame: LocalFrame, waypoints_m: np.ndarray, *, trigger_distance_m: float | None = None,
                     gimbal_pitch_deg: float | np.ndarray | None = None, yaw_rad: np.ndarray | None = None,
                     speed_m_s: float | None = None, takeoff_alt_m: float | None = None,
                     gimbal_yaw_deg: float | np.ndarray | None = None, photo_each_waypoint: bool = False
                     ) -> list[MissionItem]:
    """Waypoints (n, 3) local m with camera trigger distance, gimbal attitude and per-point yaw (ENU rad).

    ``gimbal_pitch_deg``/``gimbal_yaw_deg`` are one value or one per waypoint; a ``DO_MOUNT_CONTROL`` follows
    the first waypoint and every waypoint where the attitude changes. ``photo_each_waypoint`` takes one photo
    (``DO_DIGICAM_CONTROL``, shoot) at every waypoint (photo stations, e.g. a structure scan).
    """
    wp = np.asarray(waypoints_m, float)
    if wp.ndim != 2 or wp.shape[1] != 3 or not len(wp) or not np.all(np.isfinite(wp)):
        raise PlanningError("inspection waypoints must be a finite (n, 3) array")
    if takeoff_alt_m is not None and not (math.isfinite(takeoff_alt_m) and takeoff_alt_m > 0):
        raise PlanningError(f"take-off altitude must be positive, got {takeoff_alt_m}")
    pitch = _per_point(gimbal_pitch_deg, len(wp), "gimbal_pitch_deg")
    gyaw = _per_point(gimbal_yaw_deg, len(wp), "gimbal_yaw_deg")
    if gyaw is not None and pitch is None:
        pitch = np.zeros(len(wp))
    if yaw_rad is not None:
        yaw_rad = _per_point(yaw_rad, len(wp), "yaw_rad")
    items: list[MissionItem] = []
    if takeoff_alt_m is not None:
        items.append(MissionItem(MAV_CMD_NAV_TAKEOFF, 0.0, 0.0, float(takeoff_alt_m), (0.0, 0.0, 0.0, float("nan"))))
    if speed_m_s is not None:
        items.append(_cmd(MAV_CMD_DO_CHANGE_SPEED, 1, speed_m_s, -1, 0))
    for i, p in enumerate(wp):
        lat, lon = frame.to_geo(p[:2])[0]
        items.append(MissionItem(MAV_CMD_NAV_WAYPOINT, float(lat), float(lon), float(p[2])))
        if pitch is not None:
            yaw_i = 0.0 if gyaw is None else gyaw[i]
            if i == 0 or pitch[i] != pitch[i - 1] or (gyaw is not None and gyaw[i] != gyaw[i - 1]):
                items.append(mount_control(pitch[i], yaw_i))
        if i == 0 and trigger_distance_m is not None:
            items.append(_cmd(MAV_CMD_DO_SET_CAM_TRIGG_DIST, trigger_distance_m, 0, 1, 0))
        if yaw_rad is not None:
            # ENU yaw (CCW from east) → compass heading (CW from north), absolute
            heading = (90.0 - math.degrees(float(yaw_rad[i]))) % 360.0
            items.append(_cmd(MAV_CMD_CONDITION_YAW, heading, 0, 0, 0))
        if photo_each_waypoint:
            # DO_DIGICAM_CONTROL: param 5 (x) = 1 shoots one photo; params 1..4 (session, zoom, focus) unchanged
            items.append(MissionItem(MAV_CMD_DO_DIGICAM_CONTROL, 1.0, 0.0, 0.0, (0.0, 0.0, 0.0, 0.0),
                                     MAV_FRAME_MISSION))
    if trigger_distance_m is not None:
        items.append(_cmd(MAV_CMD_DO_SET_CAM_TRIGG_DIST, 0, 0, 0, 0))
    items.append(_cmd(MAV_CMD_NAV_RETURN_TO_LAUNCH))
    return items


def to_path(points_m: np.ndarray, frame_id: str = "map", stamp_s: float = 0.0, z_m: float = 0.0) -> Path:
    """A polyline (n, 2|3) as a nav_msgs/Path core type (orientation along the path, ENU)."""
    pts = np.asarray(points_m, float)
    poses = []
    for i, p in enumerate(pts):
        q = pts[min(i + 1, len(pts) - 1)] - pts[max(i - 1, 0)] if len(pts) > 1 else np.zeros(2)
        yaw = math.atan2(q[1], q[0]) if np.linalg.norm(q[:2]) > 1e-12 else 0.0
        pos = np.array([p[0], p[1], p[2] if len(p) > 2 else z_m])
        poses.append(PoseStamped(stamp_s, frame_id, Pose(pos, np.array([0, 0, math.sin(yaw / 2), math.cos(yaw / 2)]))))
    return Path(stamp_s, frame_id, tuple(poses))
