"""Mission, fence and rally items at the MAVLink boundary: ``MissionItem`` (degrees) ↔ MISSION_ITEM_INT.

Global frames carry latitude/longitude as int32 degE7 in ``x``/``y``; other frames (MAV_FRAME_MISSION,
local frames) carry param5/param6 as plain integers, which :class:`MissionItem` keeps in
``latitude_deg``/``longitude_deg`` unscaled. Also the fence/rally helpers and the validation every upload
runs first (NaN/inf, ranges, fence vertex counts).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shapely.geometry import Polygon
from shapely.validation import explain_validity

from sanqin.common.mission import MissionItem
from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.errors import InvalidMission
from sanqin.uav_bridge.geo import deg_to_e7, e7_to_deg

GLOBAL_FRAMES = frozenset({
    mavlink.MAV_FRAME_GLOBAL, mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT, mavlink.MAV_FRAME_GLOBAL_INT,
    mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT,
    mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT_INT,
})

FENCE_POLYGON_INCLUSION = mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION
FENCE_POLYGON_EXCLUSION = mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION
FENCE_CIRCLE_INCLUSION = mavlink.MAV_CMD_NAV_FENCE_CIRCLE_INCLUSION
FENCE_CIRCLE_EXCLUSION = mavlink.MAV_CMD_NAV_FENCE_CIRCLE_EXCLUSION
FENCE_RETURN_POINT = mavlink.MAV_CMD_NAV_FENCE_RETURN_POINT
RALLY_POINT = mavlink.MAV_CMD_NAV_RALLY_POINT

#: Commands whose item carries a position the vehicle flies to or that marks a place.
NAV_COMMANDS = frozenset({
    mavlink.MAV_CMD_NAV_WAYPOINT, mavlink.MAV_CMD_NAV_LOITER_UNLIM, mavlink.MAV_CMD_NAV_LOITER_TURNS,
    mavlink.MAV_CMD_NAV_LOITER_TIME, mavlink.MAV_CMD_NAV_LAND, mavlink.MAV_CMD_NAV_TAKEOFF,
    mavlink.MAV_CMD_NAV_SPLINE_WAYPOINT, mavlink.MAV_CMD_NAV_LOITER_TO_ALT,
})


@dataclass(frozen=True)
class WireItem:
    """The fields of a MISSION_ITEM_INT (x/y int-scaled in global frames)."""

    seq: int
    frame: int
    command: int
    current: int
    autocontinue: int
    param1: float
    param2: float
    param3: float
    param4: float
    x: int
    y: int
    z: float
    mission_type: int = 0

    def encode(self, mav: Any, target_system: int, target_component: int) -> Any:
        """This item as a MISSION_ITEM_INT message."""
        return mav.mission_item_int_encode(
            target_system, target_component, self.seq, self.frame, self.command, self.current,
            self.autocontinue, self.param1, self.param2, self.param3, self.param4, self.x, self.y, self.z,
            self.mission_type,
        )

    @classmethod
    def from_msg(cls, msg: Any) -> WireItem:
        """From a received MISSION_ITEM_INT, or a legacy MISSION_ITEM (float x/y in degrees)."""
        if msg.get_type() == "MISSION_ITEM":
            glob = int(msg.frame) in GLOBAL_FRAMES
            x = deg_to_e7(msg.x) if glob and math.isfinite(msg.x) else _int(msg.x)
            y = deg_to_e7(msg.y) if glob and math.isfinite(msg.y) else _int(msg.y)
        else:
            x, y = int(msg.x), int(msg.y)
        return cls(int(msg.seq), int(msg.frame), int(msg.command), int(msg.current), int(msg.autocontinue),
                   float(msg.param1), float(msg.param2), float(msg.param3), float(msg.param4), x, y, float(msg.z),
                   int(getattr(msg, "mission_type", 0)))


def _int(v: float) -> int:
    return int(round(v)) if math.isfinite(v) else 0


def to_wire(item: MissionItem, seq: int, mission_type: int = 0, current: bool = False) -> WireItem:
    """A :class:`MissionItem` → wire item; raises :class:`InvalidMission` on non-finite positions."""
    if not item.is_finite():
        raise InvalidMission(f"item {seq}: non-finite position ({item.latitude_deg}, {item.longitude_deg}, "
                             f"{item.altitude_m})")
    if item.frame in GLOBAL_FRAMES:
        x, y = deg_to_e7(item.latitude_deg), deg_to_e7(item.longitude_deg)
    else:
        x, y = int(round(item.latitude_deg)), int(round(item.longitude_deg))
    p = tuple(float(v) for v in item.params)
    return WireItem(seq, int(item.frame), int(item.command), int(current), int(item.autocontinue),
                    p[0], p[1], p[2], p[3], x, y, float(item.altitude_m), mission_type)


def from_wire(w: WireItem) -> MissionItem:
    """A wire item → :class:`MissionItem` (degrees for global frames)."""
    if w.frame in GLOBAL_FRAMES:
        lat, lon = e7_to_deg(w.x), e7_to_deg(w.y)
    else:
        lat, lon = float(w.x), float(w.y)
    return MissionItem(command=w.command, latitude_deg=lat, longitude_deg=lon, altitude_m=w.z,
                       params=(w.param1, w.param2, w.param3, w.param4), frame=w.frame,
                       autocontinue=bool(w.autocontinue))


def validate_items(items: Sequence[MissionItem], mission_type: int = 0) -> None:
    """Reject items a vehicle must never receive: NaN/inf positions, out-of-range lat/lon, bad fence lists."""
    for i, it in enumerate(items):
        if not isinstance(it, MissionItem):
            raise InvalidMission(f"item {i}: expected a MissionItem, got {type(it).__name__}")
        if not it.is_finite():
            raise InvalidMission(f"item {i} ({it.command}): non-finite position "
                                 f"({it.latitude_deg}, {it.longitude_deg}, {it.altitude_m})")
        if it.frame in GLOBAL_FRAMES and (it.latitude_deg, it.longitude_deg) != (0.0, 0.0):
            if not (-90.0 <= it.latitude_deg <= 90.0 and -180.0 <= it.longitude_deg <= 180.0):
                raise InvalidMission(f"item {i}: latitude/longitude out of range ({it.latitude_deg}, "
                                     f"{it.longitude_deg})")
        if any(math.isinf(p) for p in it.params):
            raise InvalidMission(f"item {i}: infinite parameter {it.params}")
        if it.command in (mavlink.MAV_CMD_NAV_FENCE_CIRCLE_INCLUSION, mavlink.MAV_CMD_NAV_FENCE_CIRCLE_EXCLUSION):
            if not it.params[0] > 0:
                raise InvalidMission(f"item {i}: fence circle radius must be positive, got {it.params[0]}")
    if mission_type == mavlink.MAV_MISSION_TYPE_FENCE:
        _check_polygons(items)


def _check_polygons(items: Sequence[MissionItem]) -> None:
    i = 0
    while i < len(items):
        it = items[i]
        if it.command in (FENCE_POLYGON_INCLUSION, FENCE_POLYGON_EXCLUSION):
            if not math.isfinite(it.params[0]):
                raise InvalidMission(f"fence item {i}: polygon vertex count is {it.params[0]}")
            n = int(it.params[0])
            if n < 3 or i + n > len(items):
                raise InvalidMission(f"fence item {i}: polygon of {n} vertices does not fit the list")
            for k in range(i, i + n):
                vk = items[k].params[0]
                if items[k].command != it.command or not math.isfinite(vk) or int(vk) != n:
                    raise InvalidMission(f"fence item {k}: vertex does not belong to the polygon starting at {i}")
            problem = polygon_problem([(items[k].latitude_deg, items[k].longitude_deg) for k in range(i, i + n)])
            if problem:
                raise InvalidMission(f"fence items {i}..{i + n - 1}: {problem}")
            i += n
        else:
            i += 1


def polygon_problem(vertices: Sequence[tuple[float, float]]) -> str:
    """Why ``vertices`` (lat, lon) do not make a simple polygon (self-intersecting, degenerate); "" if they do."""
    if len(vertices) < 3:
        return f"a polygon needs at least 3 vertices, got {len(vertices)}"
    poly = Polygon([(lon, lat) for lat, lon in vertices])
    if poly.is_valid and poly.area > 0:
        return ""
    return f"not a simple polygon ({explain_validity(poly) if not poly.is_valid else 'zero area'})"


@dataclass(frozen=True)
class FencePolygon:
    """A geofence polygon: vertices (lat, lon) in degrees; inclusion (stay inside) or exclusion (stay out)."""

    vertices: tuple[tuple[float, float], ...]
    inclusion: bool = True


@dataclass(frozen=True)
class FenceCircle:
    """A geofence circle: centre (lat, lon) in degrees and radius in metres."""

    latitude_deg: float
    longitude_deg: float
    radius_m: float
    inclusion: bool = True


def fence_items(polygons: Sequence[FencePolygon] = (), circles: Sequence[FenceCircle] = (),
                return_point: tuple[float, float, float] | None = None) -> list[MissionItem]:
    """Fence shapes → MAVLink fence items (polygon vertices with their count in param1, circles, return point)."""
    items: list[MissionItem] = []
    for poly in polygons:
        cmd = FENCE_POLYGON_INCLUSION if poly.inclusion else FENCE_POLYGON_EXCLUSION
        n = len(poly.vertices)
        if n < 3:
            raise InvalidMission(f"a fence polygon needs at least 3 vertices, got {n}")
        items += [MissionItem(cmd, lat, lon, 0.0, (float(n), 0.0, 0.0, 0.0), mavlink.MAV_FRAME_GLOBAL)
                  for lat, lon in poly.vertices]
    for c in circles:
        cmd = FENCE_CIRCLE_INCLUSION if c.inclusion else FENCE_CIRCLE_EXCLUSION
        items.append(MissionItem(cmd, c.latitude_deg, c.longitude_deg, 0.0, (float(c.radius_m), 0.0, 0.0, 0.0),
                                 mavlink.MAV_FRAME_GLOBAL))
    if return_point is not None:
        items.append(MissionItem(FENCE_RETURN_POINT, *return_point, frame=mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT))
    validate_items(items, mavlink.MAV_MISSION_TYPE_FENCE)
    return items


def fence_shapes(items: Sequence[MissionItem]) -> tuple[list[FencePolygon], list[FenceCircle]]:
    """MAVLink fence items → polygons and circles (the inverse of :func:`fence_items`)."""
    validate_items(items, mavlink.MAV_MISSION_TYPE_FENCE)
    polys: list[FencePolygon] = []
    circles: list[FenceCircle] = []
    i = 0
    while i < len(items):
        it = items[i]
        if it.command in (FENCE_POLYGON_INCLUSION, FENCE_POLYGON_EXCLUSION):
            n = int(it.params[0])
            verts = tuple((items[k].latitude_deg, items[k].longitude_deg) for k in range(i, i + n))
            polys.append(FencePolygon(verts, it.command == FENCE_POLYGON_INCLUSION))
            i += n
            continue
        if it.command in (FENCE_CIRCLE_INCLUSION, FENCE_CIRCLE_EXCLUSION):
            circles.append(FenceCircle(it.latitude_deg, it.longitude_deg, it.params[0],
                                       it.command == FENCE_CIRCLE_INCLUSION))
        i += 1
    return polys, circles


def rally_items(points: Sequence[tuple[float, float, float]]) -> list[MissionItem]:
    """Rally points (lat, lon deg, alt m relative) → MAV_CMD_NAV_RALLY_POINT items."""
    return [MissionItem(RALLY_POINT, lat, lon, alt, frame=mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT)
            for lat, lon, alt in points]


def with_home(items: Sequence[MissionItem], home: tuple[float, float, float]) -> list[MissionItem]:
    """ArduPilot numbering: seq 0 is home (a NAV_WAYPOINT at the home position, absolute altitude)."""
    h = MissionItem(mavlink.MAV_CMD_NAV_WAYPOINT, home[0], home[1], home[2], frame=mavlink.MAV_FRAME_GLOBAL)
    return [h, *items]


def strip_home(items: Sequence[MissionItem]) -> list[MissionItem]:
    """Drop ArduPilot's seq-0 home item from a downloaded mission."""
    return list(items[1:]) if items else []


def same_item(a: MissionItem, b: MissionItem, tol_deg: float = 2e-7) -> bool:
    """Equal up to the degE7 quantisation of the wire format (NaN params compare equal)."""
    def eq(u: float, v: float) -> bool:
        return (math.isnan(u) and math.isnan(v)) or abs(u - v) <= 1e-4 * max(1.0, abs(u))
    return (a.command == b.command and a.frame == b.frame and a.autocontinue == b.autocontinue
            and abs(a.latitude_deg - b.latitude_deg) <= tol_deg and abs(a.longitude_deg - b.longitude_deg) <= tol_deg
            and eq(a.altitude_m, b.altitude_m) and all(eq(u, v) for u, v in zip(a.params, b.params)))

