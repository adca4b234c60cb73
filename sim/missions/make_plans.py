"""Regenerates the scenario plans in this folder (run from the repository root with the package installed).

* ``spray_field.plan`` — the coverage planner's route (:func:`sanqin.uav_bridge.spray_plan.plan_spray`, as
  ``sanqin uav plan spray``) over a 4-sided field near home: a sprayed headland lap, 6 m passes at the best
  heading, the pump on over each and off in between (DO_SET_SERVO), from and back to home; the fence round
  field and home 15 m wide, and a rally point inside it;
* ``powerline_corridor.plan`` — a photo every 20 m along a 450 m line at 30 m, a corridor fence, a rally point
  beyond the line's far end (where RTL lands after the corridor);
* ``vtol_on_multicopter.plan`` — the corridor led by a VTOL takeoff, which a multicopter refuses.
"""

from __future__ import annotations

from shapely.geometry import LineString

from sanqin.common.mission import MissionItem
from sanqin.planning.boundary import field_from_local
from sanqin.uav_bridge.geo import GeoOrigin
from sanqin.uav_bridge.mission_items import FenceCircle, FencePolygon
from sanqin.uav_bridge.payload import corridor_mission
from sanqin.uav_bridge.plan_file import Plan, write_plan
from sanqin.uav_bridge.spray_plan import SprayPlanOptions, plan_spray

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


def main() -> None:
    home = (HOME.latitude_deg, HOME.longitude_deg, HOME.altitude_m)
    field = field_from_local(FIELD_ENU, origin_lat_lon_deg=home[:2], name="spray_field")
    spray = plan_spray(field, SprayPlanOptions(swath_m=6.0, alt_m=4.0, speed_m_s=5.0, fence_margin_m=15.0),
                       home=home[:2])
    (plan,) = spray.plans  # one sortie: no tank or battery limit given
    plan.rally_points = [(*HOME.to_geodetic(RALLY_SPRAY_ENU[0], RALLY_SPRAY_ENU[1])[:2], 15.0)]
    plan.planned_home = home
    write_plan(plan, "sim/missions/spray_field.plan")
    m = spray.metrics
    corridor = corridor_mission(_geo(LINE_ENU), alt_m=30.0, photo_spacing_m=20.0, speed_m_s=6.0,
                                gimbal_pitch_deg=-30.0)
    cf = FencePolygon(_geo(LineString([(0, 0), *LINE_ENU]).buffer(40.0).simplify(2.0).exterior.coords[:-1]))
    circle = FenceCircle(HOME.latitude_deg, HOME.longitude_deg, 800.0)
    far_end = [(*HOME.to_geodetic(*RALLY_CORRIDOR_ENU)[:2], 30.0)]
    write_plan(Plan(corridor, [cf], [circle], far_end, home, 6.0, 6.0), "sim/missions/powerline_corridor.plan")
    vtol = [MissionItem(84, *HOME.to_geodetic(0, 0)[:2], 20.0), *corridor[1:]]
    write_plan(Plan(vtol, [cf], [], [], None, 6.0, 6.0), "sim/missions/vtol_on_multicopter.plan")
    print(f"spray: {m['passes']:.0f} passes and a headland lap at {m['heading_deg']:.0f}°, covered "
          f"{m['covered_share']:.1%}, {len(plan.mission)} items; corridor: {len(corridor)} items")


if __name__ == "__main__":
    main()
