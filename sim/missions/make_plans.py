"""Regenerates the scenario plans in this folder (run from the repository root with the package installed).

* ``spray_field.plan`` — a boustrophedon over a 4-sided field near home: swaths 6 m apart parallel to the
  field's south edge, the pump on over each swath and off in between, a 15 m fence and a rally point inside it;
* ``powerline_corridor.plan`` — a photo every 20 m along a 450 m line at 30 m, a corridor fence, a rally point
  beyond the line's far end (where RTL lands after the corridor);
* ``vtol_on_multicopter.plan`` — the corridor led by a VTOL takeoff, which a multicopter refuses.
"""

from __future__ import annotations

import math

from shapely import affinity
from shapely.geometry import LineString, Polygon

from sanqin.common.mission import MissionItem
from sanqin.uav_bridge.geo import GeoOrigin
from sanqin.uav_bridge.mission_items import FenceCircle, FencePolygon
from sanqin.uav_bridge.payload import SprayConfig, corridor_mission, spray_mission
from sanqin.uav_bridge.plan_file import Plan, write_plan

HOME = GeoOrigin(52.0870, 5.1630, 10.0)
FIELD_ENU = [(10, 10), (135, 18), (130, 78), (12, 70)]
LINE_ENU = [(20, 0), (220, 150), (420, 160)]
#: RTL lands at home or the nearest rally point, so each return must stay inside the fence (the pre-flight
#: checks refuse a plan whose return leaves it, and a rally point closer than 2 m to the fence):
#: the spraying rally point sits between home and the field's west edge, 7 m inside the fence;
RALLY_SPRAY_ENU = (3.0, 40.0)
#: the corridor's far end gets one 25 m beyond the last tower (inside the corridor fence's 40 m end cap) —
#: a straight RTL home from there would cut 19 m outside the corridor.
RALLY_CORRIDOR_ENU = (445.0, 161.0)


def _geo(points) -> tuple[tuple[float, float], ...]:
    return tuple(HOME.to_geodetic(x, y)[:2] for x, y in points)


def swaths(field: Polygon, spacing_m: float) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Boustrophedon swaths (lat/lon pairs) parallel to the first edge, inside the field shrunk by half a swath."""
    (x0, y0), (x1, y1) = list(field.exterior.coords)[:2]
    angle = math.degrees(math.atan2(y1 - y0, x1 - x0))
    inner = affinity.rotate(field.buffer(-spacing_m / 2), -angle, origin=(0, 0))
    out = []
    y = inner.bounds[1] + 0.5
    while y < inner.bounds[3]:
        seg = LineString([(-1e4, y), (1e4, y)]).intersection(inner)
        if not seg.is_empty:
            line = affinity.rotate(LineString([seg.coords[0], seg.coords[-1]]), angle, origin=(0, 0))
            a, b = _geo(line.coords)
            out.append((a, b) if len(out) % 2 == 0 else (b, a))
        y += spacing_m
    return out


def main() -> None:
    field = Polygon(FIELD_ENU)
    home = (HOME.latitude_deg, HOME.longitude_deg, HOME.altitude_m)
    sw = swaths(field, 6.0)
    items = spray_mission(sw, alt_m=4.0, speed_m_s=5.0, spray=SprayConfig(), takeoff_alt_m=8.0)
    fence = FencePolygon(_geo(field.buffer(15.0, join_style=2).exterior.coords[:-1]))
    rally = [(*HOME.to_geodetic(RALLY_SPRAY_ENU[0], RALLY_SPRAY_ENU[1])[:2], 15.0)]
    write_plan(Plan(items, [fence], [], rally, home, 5.0, 5.0), "sim/missions/spray_field.plan")
    corridor = corridor_mission(_geo(LINE_ENU), alt_m=30.0, photo_spacing_m=20.0, speed_m_s=6.0,
                                gimbal_pitch_deg=-30.0)
    cf = FencePolygon(_geo(LineString([(0, 0), *LINE_ENU]).buffer(40.0).simplify(2.0).exterior.coords[:-1]))
    circle = FenceCircle(HOME.latitude_deg, HOME.longitude_deg, 800.0)
    far_end = [(*HOME.to_geodetic(*RALLY_CORRIDOR_ENU)[:2], 30.0)]
    write_plan(Plan(corridor, [cf], [circle], far_end, home, 6.0, 6.0), "sim/missions/powerline_corridor.plan")
    vtol = [MissionItem(84, *HOME.to_geodetic(0, 0)[:2], 20.0), *corridor[1:]]
    write_plan(Plan(vtol, [cf], [], [], None, 6.0, 6.0), "sim/missions/vtol_on_multicopter.plan")
    print(f"spray: {len(sw)} swaths, {len(items)} items; corridor: {len(corridor)} items")


if __name__ == "__main__":
    main()
