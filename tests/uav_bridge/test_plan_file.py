"""QGroundControl .plan and WPL files: the real samples, the malformed ones, round trips, NaN coordinates."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from sanqin.common.mission import MissionItem
from sanqin.uav_bridge.errors import PlanFileError
from sanqin.uav_bridge.mission_items import FenceCircle, FencePolygon, same_item
from sanqin.uav_bridge.plan_file import Plan, loads_plan, plan_to_dict, read_plan, read_wpl, write_plan, write_wpl

DATA = Path("/work/shared/data/qgc_plans")
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="shared QGC plan samples not present")


def test_simple_sample() -> None:
    plan = read_plan(DATA / "qgroundcontrol_sample.plan")
    assert [it.command for it in plan.mission] == [22, 16, 2000, 16, 16, 20]
    assert plan.mission[1].latitude_deg == pytest.approx(47.39777106)
    assert math.isnan(plan.mission[1].params[3])  # QGC's null yaw
    assert plan.planned_home is not None and plan.fence_polygons == [] and plan.rally_points == []


def test_survey_is_expanded_through_its_generated_items() -> None:
    plan = read_plan(DATA / "qgroundcontrol_sample_with_survey.plan")
    assert len(plan.mission) == 1 + 12
    assert all(-90 <= it.latitude_deg <= 90 for it in plan.mission)


def test_digicam_sample() -> None:
    plan = read_plan(DATA / "qgroundcontrol_sample_with_digicam_control.plan")
    assert plan.mission[0].command == 203


@pytest.mark.parametrize(("name", "match"), [
    ("qgroundcontrol_sample_with_structured_scan.plan", "StructureScan"),
    ("qgroundcontrol_sample_with_survey_missing_items.plan", "no generated 'Items'"),
    ("qgroundcontrol_sample_with_survey_wrong_version.plan", "unsupported version"),
    ("qgroundcontrol_sample_without_mission.plan", "no 'mission'"),
    ("qgroundcontrol_sample_wrong_mission_version.plan", "mission: unsupported version"),
    ("qgroundcontrol_sample_wrong_overall_version.plan", "unsupported version 42"),
])
def test_malformed_samples_raise_typed_errors(name: str, match: str) -> None:
    with pytest.raises(PlanFileError, match=match):
        read_plan(DATA / name)


def test_wpl_sample() -> None:
    items = read_wpl(DATA / "mission_planner_sample.txt")
    assert [it.command for it in items] == [22, 16, 16, 20]
    assert items[1].longitude_deg == pytest.approx(8.5454669)
    assert len(read_wpl(DATA / "mission_planner_sample.txt", drop_home=True)) == 3


def test_round_trip_with_fence_and_rally(tmp_path) -> None:
    lat, lon = 47.3977, 8.5456
    plan = Plan(
        mission=[MissionItem(22, 0, 0, 20), MissionItem(16, lat + 1e-4, lon, 20, (0, 0, 0, math.nan)),
                 MissionItem(206, params=(15, 0, 1, 0), frame=2), MissionItem(20)],
        fence_polygons=[FencePolygon(((lat, lon), (lat + 1e-3, lon), (lat + 1e-3, lon + 1e-3)), True),
                        FencePolygon(((lat + 5e-4, lon + 1e-4), (lat + 6e-4, lon + 1e-4), (lat + 6e-4, lon + 2e-4)),
                                     False)],
        fence_circles=[FenceCircle(lat, lon, 300.0, True)],
        rally_points=[(lat + 2e-4, lon + 2e-4, 30.0)],
    )
    write_plan(plan, tmp_path / "p.plan")
    back = read_plan(tmp_path / "p.plan")
    assert all(same_item(a, b) for a, b in zip(plan.mission, back.mission))
    assert back.fence_polygons == plan.fence_polygons and back.fence_circles == plan.fence_circles
    assert back.rally_points == plan.rally_points
    write_wpl(plan.mission, tmp_path / "m.waypoints")
    assert all(same_item(a, b) for a, b in zip(plan.mission, read_wpl(tmp_path / "m.waypoints")))


def test_nan_and_garbage_coordinates_are_rejected(tmp_path) -> None:
    doc = plan_to_dict(Plan(mission=[MissionItem(16, 47.0, 8.0, 20)]))
    doc["mission"]["items"][0]["params"][4] = None
    with pytest.raises(PlanFileError, match="non-finite coordinates"):
        loads_plan(json.dumps(doc))
    doc["mission"]["items"][0]["params"][4] = "47.0"
    with pytest.raises(PlanFileError, match="expected a number"):
        loads_plan(json.dumps(doc))
    doc["mission"]["items"][0]["params"][4] = 147.0
    with pytest.raises(PlanFileError, match="out of range"):
        loads_plan(json.dumps(doc))
    (tmp_path / "nan.plan").write_text(json.dumps(doc).replace("147.0", "NaN"))
    with pytest.raises(PlanFileError, match="non-finite"):
        read_plan(tmp_path / "nan.plan")
    (tmp_path / "broken.plan").write_text("{not json")
    with pytest.raises(PlanFileError, match="not valid JSON"):
        read_plan(tmp_path / "broken.plan")
    with pytest.raises(PlanFileError, match="cannot read"):
        read_plan(tmp_path / "missing.plan")


def test_self_intersecting_fence_polygon_is_rejected() -> None:
    lat, lon = 47.3977, 8.5456
    square = ((lat, lon), (lat + 1e-3, lon), (lat + 1e-3, lon + 1e-3), (lat, lon + 1e-3))
    doc = plan_to_dict(Plan(mission=[MissionItem(16, lat + 5e-4, lon + 5e-4, 20)],
                            fence_polygons=[FencePolygon(square)]))
    assert loads_plan(json.dumps(doc)).fence_polygons == [FencePolygon(square)]
    bow_tie = [list(square[0]), list(square[2]), list(square[1]), list(square[3])]
    doc["geoFence"]["polygons"][0]["polygon"] = bow_tie
    with pytest.raises(PlanFileError, match="polygons\\[0\\]: not a simple polygon"):
        loads_plan(json.dumps(doc))
