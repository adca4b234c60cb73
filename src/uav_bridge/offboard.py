"""Offboard setpoints from the planner (ENU, map frame at the autopilot's local origin, or WGS84 with an
altitude above home) → MAVLink SET_POSITION_TARGET_LOCAL_NED / SET_POSITION_TARGET_GLOBAL_INT at a steady
rate, with proof of life and a safe hold.

Autopilots leave offboard/guided control when the setpoint stream stops, so the streamer re-sends the last
setpoint at ``rate_hz``. If the planner itself goes silent for ``planner_timeout_s``, the streamer stops
forwarding its (stale) setpoint, holds the position the vehicle had then, and asks once for the hold
mode (LOITER / HOLD) — the safe behaviour when the brain of the flight is gone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.frames import enu_to_ned, rpy_from_quat, yaw_enu_to_ned
from sanqin.uav_bridge.geo import deg_to_e7

#: Position + yaw: ignore velocity, acceleration and yaw rate.
POSITION_YAW_MASK = (
    mavlink.POSITION_TARGET_TYPEMASK_VX_IGNORE | mavlink.POSITION_TARGET_TYPEMASK_VY_IGNORE
    | mavlink.POSITION_TARGET_TYPEMASK_VZ_IGNORE | mavlink.POSITION_TARGET_TYPEMASK_AX_IGNORE
    | mavlink.POSITION_TARGET_TYPEMASK_AY_IGNORE | mavlink.POSITION_TARGET_TYPEMASK_AZ_IGNORE
    | mavlink.POSITION_TARGET_TYPEMASK_YAW_RATE_IGNORE
)


@dataclass(frozen=True)
class Setpoint:
    """A position setpoint in the local ENU frame (m) with a yaw (rad, counter-clockwise from east)."""

    east_m: float
    north_m: float
    up_m: float
    yaw_rad: float = 0.0

    def is_finite(self) -> bool:
        """No NaN/inf anywhere."""
        return all(math.isfinite(v) for v in (self.east_m, self.north_m, self.up_m, self.yaw_rad))


@dataclass(frozen=True)
class GlobalSetpoint:
    """A position setpoint in WGS84 (deg) with altitude above home (m) and a yaw (rad, CCW from east)."""

    latitude_deg: float
    longitude_deg: float
    relative_alt_m: float
    yaw_rad: float = 0.0

    def is_finite(self) -> bool:
        """No NaN/inf, and latitude/longitude in range."""
        return (all(math.isfinite(v) for v in (self.latitude_deg, self.longitude_deg, self.relative_alt_m,
                                                self.yaw_rad))
                and -90.0 <= self.latitude_deg <= 90.0 and -180.0 <= self.longitude_deg <= 180.0)


def setpoint_from_pose(position_m: Any, orientation_xyzw: Any) -> Setpoint:
    """A planner pose (ENU position, xyzw orientation) → setpoint (yaw from the orientation)."""
    yaw = rpy_from_quat(tuple(float(v) for v in orientation_xyzw))[2]
    return Setpoint(float(position_m[0]), float(position_m[1]), float(position_m[2]), yaw)


class OffboardStreamer:
    """Keeps a setpoint stream alive; falls back to a hold when the planner goes quiet."""

    def __init__(self, mav: Any, send: Callable[[Any], None], target_system: int, target_component: int = 1,
                 rate_hz: float = 10.0, planner_timeout_s: float = 0.5) -> None:
        self.mav = mav
        self._send = send
        self.ts, self.tc = target_system, target_component
        self.period_s = 1.0 / rate_hz
        self.planner_timeout_s = planner_timeout_s
        self.enabled = False
        self.setpoint: Setpoint | GlobalSetpoint | None = None
        self.last_planner_s = -math.inf
        self.holding = False
        self._next_s = 0.0
        self.enabled_at_s = 0.0
        self.counters = {"setpoints_in": 0, "setpoints_rejected": 0, "sent": 0, "holds": 0}

    def on_setpoint(self, sp: Setpoint | GlobalSetpoint, now_s: float) -> None:
        """A new planner setpoint (non-finite ones are rejected and do not count as proof of life)."""
        if not sp.is_finite():
            self.counters["setpoints_rejected"] += 1
            return
        self.counters["setpoints_in"] += 1
        self.setpoint = sp
        self.last_planner_s = now_s
        self.holding = False

    def enable(self, on: bool, now_s: float) -> None:
        """Start or stop streaming."""
        self.enabled = on
        self._next_s = now_s
        self.enabled_at_s = now_s
        self.holding = False

    def step(self, now_s: float, current: Setpoint | None) -> str | None:
        """Send the setpoint when due; returns ``"hold"`` once when the planner has gone silent."""
        if not self.enabled:
            return None
        event = None
        heard = self.last_planner_s >= self.enabled_at_s  # silence counts once the planner has spoken
        if heard and not self.holding and now_s - self.last_planner_s > self.planner_timeout_s:
            self.holding = True
            self.counters["holds"] += 1
            self.setpoint = current if current is not None and current.is_finite() else self.setpoint
            event = "hold"
        if self.setpoint is not None and (heard or self.holding) and now_s >= self._next_s:
            self._send(self.encode(self.setpoint, now_s))
            self.counters["sent"] += 1
            self._next_s = now_s + self.period_s
        return event

    def encode(self, sp: Setpoint | GlobalSetpoint, now_s: float) -> Any:
        """SET_POSITION_TARGET_LOCAL_NED for a local setpoint, SET_POSITION_TARGET_GLOBAL_INT (relative
        altitude) for a global one."""
        if isinstance(sp, GlobalSetpoint):
            return self.mav.set_position_target_global_int_encode(
                int(now_s * 1000) & 0xFFFFFFFF, self.ts, self.tc, mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
                POSITION_YAW_MASK, deg_to_e7(sp.latitude_deg), deg_to_e7(sp.longitude_deg),
                sp.relative_alt_m, 0, 0, 0, 0, 0, 0, yaw_enu_to_ned(sp.yaw_rad), 0)
        n, e, d = enu_to_ned(sp.east_m, sp.north_m, sp.up_m)
        return self.mav.set_position_target_local_ned_encode(
            int(now_s * 1000) & 0xFFFFFFFF, self.ts, self.tc, mavlink.MAV_FRAME_LOCAL_NED, POSITION_YAW_MASK,
            n, e, d, 0, 0, 0, 0, 0, 0, yaw_enu_to_ned(sp.yaw_rad), 0)
