"""Companion-side safety: pre-flight checks, mission-inside-fence, and the link-loss / low-battery policy.

The autopilot keeps its own failsafes; these are the checks and reactions the companion computer adds:
refuse to start a mission the vehicle could not fly safely (no GPS fix, bad EKF, low battery, no fence,
invalid mission or one that leaves the fence), and command RTL or LAND when the battery runs low or the
link comes back after a loss while the vehicle was still flying the mission — and LAND when the vehicle
refuses or never acknowledges that command.

The link-loss reaction is the companion's own: ArduPilot's GCS failsafe counts only heartbeats from its ground
station (SYSID_MYGCS), never an onboard companion's, so onboard nothing on the vehicle notices a lost companion
link and this monitor acts once the link is back. As a ground station the bridge has the autopilot's GCS
failsafe watch it as well (see :mod:`sanqin.uav_bridge.executive`); the monitor then finds the vehicle already
returning and does not command again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from shapely.geometry import LineString, Point, Polygon
from shapely.ops import unary_union

from sanqin.common.mission import MissionItem
from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.errors import InvalidMission
from sanqin.uav_bridge.geo import GeoOrigin
from sanqin.uav_bridge.mission_items import (
    GLOBAL_FRAMES,
    NAV_COMMANDS,
    FenceCircle,
    FencePolygon,
    polygon_problem,
    validate_items,
)
from sanqin.uav_bridge.telemetry import Telemetry

ACTIONS = ("rtl", "land", "none")

#: EKF_STATUS_REPORT flags a GPS mission needs: attitude, velocity, absolute horizontal and vertical position
EKF_NEEDED = (mavlink.EKF_ATTITUDE | mavlink.EKF_VELOCITY_HORIZ | mavlink.EKF_VELOCITY_VERT
              | mavlink.EKF_POS_HORIZ_ABS | mavlink.EKF_POS_VERT_ABS)
#: ... and must not report: no GPS aiding (constant-position mode), not initialised, GPS glitching
EKF_BAD = mavlink.EKF_CONST_POS_MODE | mavlink.EKF_UNINITIALIZED | mavlink.EKF_GPS_GLITCHING


@dataclass(frozen=True)
class PreflightLimits:
    """Thresholds of the pre-flight checks."""

    min_fix_type: int = 3
    min_satellites: int = 6
    min_battery: float = 0.5  # fraction 0..1
    require_ekf: bool = True
    require_fence: bool = True


def _positions(items: Sequence[MissionItem]) -> list[tuple[int, float, float]]:
    return [(i, it.latitude_deg, it.longitude_deg) for i, it in enumerate(items)
            if it.command in NAV_COMMANDS and it.frame in GLOBAL_FRAMES
            and (it.latitude_deg, it.longitude_deg) != (0, 0)]


def mission_fence_violations(items: Sequence[MissionItem], polygons: Sequence[FencePolygon],
                             circles: Sequence[FenceCircle] = (), margin_m: float = 0.0) -> list[str]:
    """Waypoints outside the fence and legs that cross it (empty when the mission stays inside)."""
    pos = _positions(items)
    if not pos or (not polygons and not circles):
        return []
    origin = GeoOrigin(pos[0][1], pos[0][2])

    def xy(lat: float, lon: float) -> tuple[float, float]:
        e, n, _ = origin.to_enu(lat, lon)
        return e, n

    incl, excl = [], []
    for k, p in enumerate(polygons):
        problem = polygon_problem(p.vertices)
        if problem:  # GEOS cannot intersect it, and no autopilot can enforce it
            return [f"fence polygon {k}: {problem}"]
        (incl if p.inclusion else excl).append(Polygon([xy(*v) for v in p.vertices]))
    for c in circles:
        (incl if c.inclusion else excl).append(Point(xy(c.latitude_deg, c.longitude_deg)).buffer(c.radius_m, 64))
    inside = None
    if incl:  # as ArduPilot: inside every inclusion zone (the intersection), outside every exclusion zone
        inside = incl[0]
        for zone in incl[1:]:
            inside = inside.intersection(zone)
        inside = inside.buffer(-margin_m)
    forbidden = unary_union(excl).buffer(margin_m) if excl else None
    out = []
    bad: set[int] = set()
    pts = [(i, xy(lat, lon)) for i, lat, lon in pos]
    for i, p in pts:
        pt = Point(p)
        if inside is not None and not inside.covers(pt):
            out.append(f"item {i} is {pt.distance(inside):.1f} m outside the inclusion fence")
            bad.add(i)
        elif forbidden is not None and forbidden.contains(pt):
            out.append(f"item {i} is inside an exclusion zone")
            bad.add(i)
    for (i, a), (j, b) in zip(pts, pts[1:]):
        if a == b or i in bad or j in bad:
            continue
        leg = LineString([a, b])
        if inside is not None and not inside.covers(leg):
            out.append(f"leg {i}→{j} leaves the inclusion fence")
        if forbidden is not None and leg.intersects(forbidden):
            out.append(f"leg {i}→{j} crosses an exclusion zone")
    return out


def preflight_failures(telemetry: Telemetry, mission: Sequence[MissionItem], polygons: Sequence[FencePolygon],
                       circles: Sequence[FenceCircle], limits: PreflightLimits, *, connected: bool = True,
                       fence_on_vehicle: bool | None = None) -> list[str]:
    """Every reason not to fly now (empty list: go)."""
    out = []
    if not connected:
        out.append("no heartbeat from the vehicle")
    if telemetry.gps_fix_type < limits.min_fix_type:
        out.append(f"GPS fix type {telemetry.gps_fix_type} < {limits.min_fix_type}")
    if telemetry.satellites < limits.min_satellites:
        out.append(f"{telemetry.satellites} satellites < {limits.min_satellites}")
    if limits.require_ekf:
        ahrs = mavlink.MAV_SYS_STATUS_AHRS
        flags = telemetry.ekf_flags
        ekf_bad = flags >= 0 and ((flags & EKF_NEEDED) != EKF_NEEDED or bool(flags & EKF_BAD))
        ekf_bad = ekf_bad or bool(telemetry.sensors_present & ahrs and not telemetry.sensors_health & ahrs)
        if ekf_bad or (flags < 0 and not telemetry.sensors_present):
            out.append("EKF/AHRS not healthy" + (f" (EKF_STATUS_REPORT flags 0x{flags:x})" if flags >= 0 else ""))
    bat = telemetry.battery.percentage if telemetry.battery is not None else math.nan
    if not bat >= limits.min_battery:
        out.append(f"battery {bat:.0%} below {limits.min_battery:.0%}" if math.isfinite(bat) else "battery unknown")
    if limits.require_fence and not polygons and not circles:
        out.append("no geofence")
    if limits.require_fence and fence_on_vehicle is False:
        out.append("geofence not loaded on the vehicle")
    if not mission:
        out.append("no mission")
    try:
        validate_items(mission, 0)
    except InvalidMission as err:
        out.append(f"mission invalid: {err}")
    else:
        out += mission_fence_violations(mission, polygons, circles)
    return out


@dataclass(frozen=True)
class FailsafePolicy:
    """What the companion commands: on low battery and when the link returns after a loss mid-flight."""

    battery_low: float = 0.25  # fraction 0..1
    battery_action: str = "rtl"
    link_loss_action: str = "rtl"

    def __post_init__(self) -> None:
        for name in ("battery_action", "link_loss_action"):
            if getattr(self, name) not in ACTIONS:
                raise ValueError(f"{name} must be one of {ACTIONS}, got {getattr(self, name)!r}")


class FailsafeMonitor:
    """Decides once per condition which action (``"rtl"``/``"land"``) the companion should command."""

    RETURNING = ("RTL", "LAND", "SMART_RTL", "AUTO_RTL")

    def __init__(self, policy: FailsafePolicy, retry_after_s: float = 2.0) -> None:
        self.policy = policy
        self.retry_after_s = retry_after_s
        self.active = ""
        self.link_was_lost_in_flight = False
        self.history: list[tuple[float, str, str]] = []
        self._fallback_at_s: float | None = None

    def command_failed(self, now_s: float) -> None:
        """The vehicle did not take the last action (denied, no ACK): LAND after ``retry_after_s``, as
        ArduPilot lands when it cannot return — unless the vehicle is returning or landing by then."""
        if self.history:
            self._fallback_at_s = now_s + self.retry_after_s

    def step(self, now_s: float, *, connected: bool, armed: bool, mode: str, battery: float) -> str | None:
        """The action to command now, if any (``None`` otherwise)."""
        if not armed:
            self.active = ""
            self.link_was_lost_in_flight = False
            self._fallback_at_s = None
            return None
        if not connected:
            self.link_was_lost_in_flight = True
            return None
        if mode in self.RETURNING:
            self._fallback_at_s = None
            return None
        if self._fallback_at_s is not None and now_s >= self._fallback_at_s:
            self._fallback_at_s = None
            return self._fire(now_s, f"{self.history[-1][1]} (retry)", "land")
        p = self.policy
        if math.isfinite(battery) and battery < p.battery_low and self.active != "battery":
            self.active = "battery"
            return self._fire(now_s, "battery", p.battery_action)
        if self.link_was_lost_in_flight:
            self.link_was_lost_in_flight = False
            return self._fire(now_s, "link_loss", p.link_loss_action)
        return None

    def _fire(self, now_s: float, why: str, action: str) -> str | None:
        self.history.append((now_s, why, action))
        return None if action == "none" else action
