"""Companion-side safety: pre-flight checks, mission-inside-fence, and the link-loss / low-battery policy.

The autopilot keeps its own failsafes; these are the checks and reactions the companion computer adds:
refuse to start a mission the vehicle could not fly safely (no GPS fix, bad EKF, low battery, no fence,
invalid mission or one that leaves the fence — on its own legs, on the way out from home, or on the RTL
return to home or a rally point after it), and command RTL or LAND when the battery runs low or the
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
    landing_margin_m: float = 2.0  # home and rally points at least this far inside the fence (FENCE_MARGIN)


def _positions(items: Sequence[MissionItem]) -> list[tuple[int, float, float]]:
    return [(i, it.latitude_deg, it.longitude_deg) for i, it in enumerate(items)
            if it.command in NAV_COMMANDS and it.frame in GLOBAL_FRAMES
            and (it.latitude_deg, it.longitude_deg) != (0, 0)]


class _FenceGeometry:
    """A fence in local metres about ``origin``: where the vehicle may be (``inside``: every inclusion zone, less
    ``margin_m``) and may not (``forbidden``: any exclusion zone, plus ``margin_m``); ``problem`` if unusable."""

    def __init__(self, origin: GeoOrigin, polygons: Sequence[FencePolygon], circles: Sequence[FenceCircle],
                 margin_m: float = 0.0) -> None:
        self.origin = origin
        self.problem = ""
        incl, excl = [], []
        for k, p in enumerate(polygons):
            problem = polygon_problem(p.vertices)
            if problem:  # GEOS cannot intersect it, and no autopilot can enforce it
                self.problem = f"fence polygon {k}: {problem}"
                break
            (incl if p.inclusion else excl).append(Polygon([self.xy(*v) for v in p.vertices]))
        for c in circles:
            (incl if c.inclusion else excl).append(Point(self.xy(c.latitude_deg, c.longitude_deg)).buffer(c.radius_m,
                                                                                                         64))
        self.zones = (incl, excl)
        self.inside = None
        self.forbidden = None
        if incl:  # as ArduPilot: inside every inclusion zone (the intersection), outside every exclusion zone
            inside = incl[0]
            for zone in incl[1:]:
                inside = inside.intersection(zone)
            self.inside = inside.buffer(-margin_m) if margin_m else inside
        if excl:
            self.forbidden = unary_union(excl).buffer(margin_m) if margin_m else unary_union(excl)

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        """Local east, north (m)."""
        e, n, _ = self.origin.to_enu(lat, lon)
        return e, n

    def with_margin(self, margin_m: float) -> _FenceGeometry:
        """The same fence, ``margin_m`` stricter on every side."""
        out = _FenceGeometry.__new__(_FenceGeometry)
        out.origin, out.problem, out.zones = self.origin, self.problem, self.zones
        out.inside = self.inside.buffer(-margin_m) if self.inside is not None else None
        out.forbidden = self.forbidden.buffer(margin_m) if self.forbidden is not None else None
        return out

    def point_problem(self, p: tuple[float, float]) -> str:
        """'' inside; else how the point is out."""
        pt = Point(p)
        if self.inside is not None and not self.inside.covers(pt):
            return f"{pt.distance(self.inside):.1f} m outside the inclusion fence"
        if self.forbidden is not None and self.forbidden.contains(pt):
            return "inside an exclusion zone"
        return ""

    def leg_problems(self, a: tuple[float, float], b: tuple[float, float]) -> list[str]:
        """How a straight leg leaves the fence (empty when it stays inside)."""
        if a == b:
            return []
        leg = LineString([a, b])
        out = []
        if self.inside is not None and not self.inside.covers(leg):
            n = max(2, int(leg.length) + 1)  # the farthest point out, to a metre
            worst = max(self.inside.distance(leg.interpolate(k / (n - 1), normalized=True)) for k in range(n))
            out.append(f"leaves the inclusion fence (up to {worst:.1f} m out)")
        if self.forbidden is not None and leg.intersects(self.forbidden):
            out.append("crosses an exclusion zone")
        return out


def _fence_for(items: Sequence[MissionItem], polygons: Sequence[FencePolygon], circles: Sequence[FenceCircle],
               margin_m: float = 0.0, ref: tuple[float, float] | None = None) -> _FenceGeometry | None:
    pos = _positions(items)
    if (not pos and ref is None) or (not polygons and not circles):
        return None
    origin = GeoOrigin(*(ref if ref is not None else pos[0][1:]))
    return _FenceGeometry(origin, polygons, circles, margin_m)


def mission_fence_violations(items: Sequence[MissionItem], polygons: Sequence[FencePolygon],
                             circles: Sequence[FenceCircle] = (), margin_m: float = 0.0) -> list[str]:
    """Waypoints outside the fence and legs that cross it (empty when the mission stays inside)."""
    fence = _fence_for(items, polygons, circles, margin_m)
    if fence is None:
        return []
    if fence.problem:
        return [fence.problem]
    out = []
    bad: set[int] = set()
    pts = [(i, fence.xy(lat, lon)) for i, lat, lon in _positions(items)]
    for i, p in pts:
        problem = fence.point_problem(p)
        if problem:
            out.append(f"item {i} is {problem}")
            bad.add(i)
    for (i, a), (j, b) in zip(pts, pts[1:]):
        if i in bad or j in bad:
            continue
        out += [f"leg {i}→{j} {p}" for p in fence.leg_problems(a, b)]
    return out


def _return_start(items: Sequence[MissionItem]) -> int | None:
    """The item the return after the mission starts from: the last positioned nav item before the first
    NAV_RETURN_TO_LAUNCH (or the end); ``None`` when the mission ends by landing (no return leg)."""
    last_nav = None
    for i, it in enumerate(items):
        if it.command == mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH:
            break
        if it.command in NAV_COMMANDS:
            last_nav = i
    if last_nav is not None and items[last_nav].command == mavlink.MAV_CMD_NAV_LAND:
        return None
    positioned = [i for i, _lat, _lon in _positions(items) if last_nav is not None and i <= last_nav]
    return positioned[-1] if positioned else None


def return_leg_violations(items: Sequence[MissionItem], polygons: Sequence[FencePolygon],
                          circles: Sequence[FenceCircle], home: tuple[float, ...] | None,
                          rally_points: Sequence[tuple[float, ...]] = (), *,
                          landing_margin_m: float = 2.0) -> list[str]:
    """Where the flight around the mission would leave the fence (empty when it stays inside).

    Checked, with ``home`` (lat, lon[, alt]) and the rally points: the outbound leg (home → the first waypoint),
    the return after the mission (its last waypoint → home or the nearest rally point, as RTL chooses with
    RALLY_INCL_HOME; none when the mission ends by landing), and every point RTL may land at, which must be at
    least ``landing_margin_m`` inside the fence (ArduPilot's FENCE_MARGIN is 2 m).
    """
    if not polygons and not circles:
        return []
    if home is None:
        return ["home position unknown: the legs to and from the mission cannot be checked against the fence"]
    fence = _fence_for(items, polygons, circles, ref=(home[0], home[1]))
    if fence is None:
        return []
    if fence.problem:
        return [fence.problem]
    out = []
    landing = fence.with_margin(landing_margin_m) if landing_margin_m > 0 else fence
    points = [("home", fence.xy(home[0], home[1]))]
    points += [(f"rally point {k}", fence.xy(r[0], r[1])) for k, r in enumerate(rally_points)]
    for name, p in points:
        problem = fence.point_problem(p)
        if problem:
            out.append(f"{name} is {problem}")
        elif landing_margin_m > 0 and landing.point_problem(p):
            out.append(f"{name} is closer than the {landing_margin_m:g} m landing margin to the fence")
    pos = _positions(items)
    if pos:
        i, lat, lon = pos[0]
        out += [f"outbound leg home→item {i} {p}" for p in fence.leg_problems(points[0][1], fence.xy(lat, lon))]
    k = _return_start(items)
    if k is not None:
        start = fence.xy(items[k].latitude_deg, items[k].longitude_deg)
        name, dest = min(points, key=lambda np_: Point(np_[1]).distance(Point(start)))  # RTL's nearest point
        out += [f"return leg item {k}→{name} {p}" for p in fence.leg_problems(start, dest)]
    return out


def predicted_home(telemetry: Telemetry, planned_home: tuple[float, float, float] | None = None
                   ) -> tuple[float, float] | None:
    """Where home will be once armed: the vehicle's position (ArduCopter sets home there at arming), else its
    HOME_POSITION, else the plan's planned home; ``None`` when none is known."""
    if math.isfinite(telemetry.latitude_deg) and math.isfinite(telemetry.longitude_deg) and \
            telemetry.gps_fix_type >= 3:
        return telemetry.latitude_deg, telemetry.longitude_deg
    if telemetry.home is not None and all(math.isfinite(v) for v in telemetry.home[:2]):
        return telemetry.home[0], telemetry.home[1]
    if planned_home is not None and all(math.isfinite(v) for v in planned_home[:2]):
        return planned_home[0], planned_home[1]
    return None


def preflight_failures(telemetry: Telemetry, mission: Sequence[MissionItem], polygons: Sequence[FencePolygon],
                       circles: Sequence[FenceCircle], limits: PreflightLimits, *, connected: bool = True,
                       fence_on_vehicle: bool | None = None, rally_points: Sequence[tuple[float, ...]] = (),
                       planned_home: tuple[float, float, float] | None = None) -> list[str]:
    """Every reason not to fly now (empty list: go); the legs to and from the mission are checked from
    :func:`predicted_home` (see :func:`return_leg_violations`)."""
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
        if mission:
            out += return_leg_violations(mission, polygons, circles, predicted_home(telemetry, planned_home),
                                         rally_points, landing_margin_m=limits.landing_margin_m)
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
