"""Payload commands as mission items: spraying on/off and rate at swath starts and ends, camera triggering
by distance or time, single images, and gimbal pointing — and the two mission shapes built from them
(a spraying mission from coverage swaths, an inspection corridor with a photo every N metres).

Spraying can be driven three ways, as autopilots wire pumps: a servo output (DO_SET_SERVO with a PWM that
encodes the rate), a relay (DO_SET_RELAY) or ArduPilot's sprayer library (DO_SPRAYER).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sanqin.common.mission import MissionItem
from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.errors import InvalidMission

C = mavlink
MISSION_FRAME = C.MAV_FRAME_MISSION
LatLon = tuple[float, float]


@dataclass(frozen=True)
class SprayConfig:
    """How the pump is switched: ``servo`` (channel, PWM off/min/max), ``relay`` (number) or ``sprayer``."""

    method: str = "servo"
    servo_channel: int = 9
    pwm_off: int = 1100
    pwm_min: int = 1600
    pwm_max: int = 1900
    relay: int = 0

    def __post_init__(self) -> None:
        if self.method not in ("servo", "relay", "sprayer"):
            raise InvalidMission(f"spray method must be servo, relay or sprayer, got {self.method!r}")
        if not (800 <= self.pwm_off <= 2200 and 800 <= self.pwm_min <= self.pwm_max <= 2200):
            raise InvalidMission("spray PWM values must satisfy 800 <= off and min <= max <= 2200")


def spray_on(cfg: SprayConfig, rate: float = 1.0) -> list[MissionItem]:
    """Items that start spraying at ``rate`` (0..1 of the pump's range)."""
    if not 0.0 < rate <= 1.0:
        raise InvalidMission(f"spray rate must be in (0, 1], got {rate!r}")
    if cfg.method == "servo":
        pwm = round(cfg.pwm_min + rate * (cfg.pwm_max - cfg.pwm_min))
        return [MissionItem(C.MAV_CMD_DO_SET_SERVO, params=(cfg.servo_channel, pwm, 0, 0), frame=MISSION_FRAME)]
    if cfg.method == "relay":
        return [MissionItem(C.MAV_CMD_DO_SET_RELAY, params=(cfg.relay, 1, 0, 0), frame=MISSION_FRAME)]
    return [MissionItem(C.MAV_CMD_DO_SPRAYER, params=(1, 0, 0, 0), frame=MISSION_FRAME)]


def spray_off(cfg: SprayConfig) -> list[MissionItem]:
    """Items that stop spraying."""
    if cfg.method == "servo":
        return [MissionItem(C.MAV_CMD_DO_SET_SERVO, params=(cfg.servo_channel, cfg.pwm_off, 0, 0),
                            frame=MISSION_FRAME)]
    if cfg.method == "relay":
        return [MissionItem(C.MAV_CMD_DO_SET_RELAY, params=(cfg.relay, 0, 0, 0), frame=MISSION_FRAME)]
    return [MissionItem(C.MAV_CMD_DO_SPRAYER, params=(0, 0, 0, 0), frame=MISSION_FRAME)]


def camera_trigger_distance(distance_m: float, trigger_now: bool = True) -> MissionItem:
    """DO_SET_CAM_TRIGG_DIST: a photo every ``distance_m`` (0 stops); optionally one at once."""
    if not (math.isfinite(distance_m) and distance_m >= 0):
        raise InvalidMission(f"trigger distance must be >= 0, got {distance_m!r}")
    return MissionItem(C.MAV_CMD_DO_SET_CAM_TRIGG_DIST, params=(distance_m, 0, 1 if trigger_now else 0, 0),
                       frame=MISSION_FRAME)


def camera_trigger_interval(interval_s: float, count: int = 0) -> MissionItem:
    """IMAGE_START_CAPTURE: a photo every ``interval_s`` (``count`` images, 0 = until stopped)."""
    if not (math.isfinite(interval_s) and interval_s > 0) or count < 0:
        raise InvalidMission("capture interval must be positive and count >= 0")
    return MissionItem(C.MAV_CMD_IMAGE_START_CAPTURE, params=(0, interval_s, count, 0), frame=MISSION_FRAME)


def capture_stop() -> MissionItem:
    """IMAGE_STOP_CAPTURE."""
    return MissionItem(C.MAV_CMD_IMAGE_STOP_CAPTURE, frame=MISSION_FRAME)


def single_photo() -> MissionItem:
    """One image now (IMAGE_START_CAPTURE, interval 0, one image)."""
    return MissionItem(C.MAV_CMD_IMAGE_START_CAPTURE, params=(0, 0, 1, 0), frame=MISSION_FRAME)


def gimbal_point(pitch_deg: float, yaw_deg: float = 0.0) -> MissionItem:
    """DO_GIMBAL_MANAGER_PITCHYAW: pitch (deg, negative down) and yaw (deg, relative to the vehicle)."""
    if not (-90.0 <= pitch_deg <= 30.0 and -180.0 <= yaw_deg <= 180.0):
        raise InvalidMission(f"gimbal pitch/yaw out of range: {pitch_deg}, {yaw_deg}")
    return MissionItem(C.MAV_CMD_DO_GIMBAL_MANAGER_PITCHYAW, params=(pitch_deg, yaw_deg, math.nan, math.nan),
                       frame=MISSION_FRAME)


def change_speed(speed_m_s: float) -> MissionItem:
    """DO_CHANGE_SPEED (ground speed, m/s)."""
    if not (math.isfinite(speed_m_s) and speed_m_s > 0):
        raise InvalidMission(f"speed must be positive, got {speed_m_s!r}")
    return MissionItem(C.MAV_CMD_DO_CHANGE_SPEED, params=(1, speed_m_s, -1, 0), frame=MISSION_FRAME)


def _wp(p: LatLon, alt_m: float) -> MissionItem:
    return MissionItem(C.MAV_CMD_NAV_WAYPOINT, p[0], p[1], alt_m)


def spray_mission(swaths: Sequence[tuple[LatLon, LatLon]], *, alt_m: float, speed_m_s: float,
                  spray: SprayConfig | None = None, rate: float = 1.0, takeoff_alt_m: float | None = None,
                  return_home: bool = True) -> list[MissionItem]:
    """A spraying mission: take off, then per swath fly to its start, spray on, fly to its end, spray off."""
    cfg = spray or SprayConfig()
    if not swaths:
        raise InvalidMission("a spraying mission needs at least one swath")
    items = [MissionItem(C.MAV_CMD_NAV_TAKEOFF, 0.0, 0.0, takeoff_alt_m or alt_m), change_speed(speed_m_s)]
    items += spray_off(cfg)
    for start, end in swaths:
        items.append(_wp(start, alt_m))
        items += spray_on(cfg, rate)
        items.append(_wp(end, alt_m))
        items += spray_off(cfg)
    if return_home:
        items.append(MissionItem(C.MAV_CMD_NAV_RETURN_TO_LAUNCH))
    return items


def corridor_mission(points: Sequence[LatLon], *, alt_m: float, photo_spacing_m: float, speed_m_s: float = 5.0,
                     gimbal_pitch_deg: float = -45.0, return_home: bool = True) -> list[MissionItem]:
    """An inspection corridor along ``points``: gimbal set, a photo every ``photo_spacing_m`` metres."""
    if len(points) < 2:
        raise InvalidMission("a corridor needs at least two points")
    items = [MissionItem(C.MAV_CMD_NAV_TAKEOFF, 0.0, 0.0, alt_m), change_speed(speed_m_s), _wp(points[0], alt_m),
             gimbal_point(gimbal_pitch_deg), camera_trigger_distance(photo_spacing_m, trigger_now=True)]
    items += [_wp(p, alt_m) for p in points[1:]]
    items.append(camera_trigger_distance(0.0, trigger_now=False))
    if return_home:
        items.append(MissionItem(C.MAV_CMD_NAV_RETURN_TO_LAUNCH))
    return items


def spray_segments(items: Sequence[MissionItem], cfg: SprayConfig | None = None) -> list[tuple[int, int]]:
    """(start item, end item) index pairs of the legs flown with the pump on, read back from a mission."""
    cfg = cfg or SprayConfig()
    on = False
    last_wp = -1
    start = -1
    out = []
    for i, it in enumerate(items):
        if it.command == C.MAV_CMD_NAV_WAYPOINT:
            if on and start >= 0:
                out.append((start, i))
                start = i
            last_wp = i
        elif (it.command == C.MAV_CMD_DO_SET_SERVO and int(it.params[0]) == cfg.servo_channel) or \
                it.command in (C.MAV_CMD_DO_SET_RELAY, C.MAV_CMD_DO_SPRAYER):
            now_on = (it.params[1] > 1500) if it.command == C.MAV_CMD_DO_SET_SERVO else bool(
                it.params[1] if it.command == C.MAV_CMD_DO_SET_RELAY else it.params[0])
            if now_on and not on:
                start = last_wp
            on = now_on
    return out
