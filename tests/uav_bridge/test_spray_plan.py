"""Spraying plans from the coverage planner: options, fence, the route's start without a take-off point,
refills as sorties, and bad input."""

from __future__ import annotations

import math

import pytest
from shapely.geometry import Point, Polygon

from sanqin.planning.boundary import field_from_local
from sanqin.planning.errors import PlanningError
from sanqin.uav_bridge.errors import InvalidMission
from sanqin.uav_bridge.geo import GeoOrigin
from sanqin.uav_bridge.preflight import mission_fence_violations, return_leg_violations
from sanqin.uav_bridge.spray_plan import SprayPlanOptions, plan_spray

HOME = (52.0870, 5.1630)
ORIGIN = GeoOrigin(*HOME)
# an L-shaped (concave) field
L_FIELD = [(10, 10), (110, 10), (110, 40), (40, 40), (40, 100), (10, 100)]


def _field():
    return field_from_local(L_FIELD, origin_lat_lon_deg=HOME, name="L")


def _xy(it):
    return ORIGIN.to_enu(it.latitude_deg, it.longitude_deg)[:2]


def test_a_concave_field_from_home_and_back_inside_its_fence() -> None:
    sp = plan_spray(_field(), SprayPlanOptions(swath_m=6.0, alt_m=4.0), home=HOME)
    (plan,) = sp.plans
    assert sp.metrics["covered_share"] > 0.97
    fence = Polygon([ORIGIN.to_enu(*v)[:2] for v in plan.fence_polygons[0].vertices])
    assert fence.contains(Polygon(L_FIELD).buffer(14.0)) and fence.contains(Point(0, 0).buffer(14.0))
    assert mission_fence_violations(plan.mission, plan.fence_polygons) == []
    assert return_leg_violations(plan.mission, plan.fence_polygons, [], HOME) == []
    wps = [_xy(it) for it in plan.mission if it.command == 16]
    assert math.dist(wps[0], (0, 0)) < 0.5 and math.dist(wps[-1], (0, 0)) < 0.5  # from home, back to home
    assert plan.mission[0].command == 22 and plan.mission[-1].command == 20
    servo = [it for it in plan.mission if it.command == 183]
    assert servo and {int(it.params[0]) for it in servo} == {9} and {it.params[1] for it in servo} == {1100, 1900}


def test_without_home_the_flight_starts_over_the_field() -> None:
    (plan,) = plan_spray(_field(), SprayPlanOptions(swath_m=6.0)).plans
    first = [_xy(it) for it in plan.mission if it.command == 16][0]
    assert Polygon(L_FIELD).buffer(0.5).contains(Point(first))  # not the bounding box's corner
    assert plan.planned_home is None


def test_refills_become_sorties_each_from_and_back_to_home() -> None:
    sp = plan_spray(_field(), SprayPlanOptions(swath_m=6.0, tank_l=4.0, rate_l_ha=50.0), home=HOME)
    assert len(sp.plans) >= 2 and sp.metrics["refills"] == len(sp.plans) - 1
    for p in sp.plans:
        assert p.mission[0].command == 22 and p.mission[-1].command == 20
        assert return_leg_violations(p.mission, p.fence_polygons, [], HOME) == []


def test_bad_options_and_inputs_are_typed_errors() -> None:
    with pytest.raises(InvalidMission):
        SprayPlanOptions(method="hose")
    with pytest.raises(InvalidMission):
        SprayPlanOptions(swath_m=math.nan)
    with pytest.raises(InvalidMission, match="refill point"):
        plan_spray(_field(), SprayPlanOptions(tank_l=10.0))
    with pytest.raises(InvalidMission, match="finite"):
        plan_spray(_field(), home=(math.nan, 5.0))
    with pytest.raises(PlanningError, match="wider than the field"):
        plan_spray(_field(), SprayPlanOptions(swath_m=200.0), home=HOME)
    with pytest.raises(InvalidMission, match="geographic frame"):
        plan_spray(field_from_local(L_FIELD))
