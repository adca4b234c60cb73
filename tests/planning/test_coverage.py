"""Coverage planning: full coverage on real fields, turns inside, spray off over zones, refills, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import Point, Polygon

from sanqin.planning import boundary as b
from sanqin.planning import coverage as cv
from sanqin.planning.decomposition import decompose
from sanqin.planning.errors import CoverageError
from sanqin.planning.plot import plot_coverage
from sanqin.planning.spray import RateZone, flow_l_min, segments_for_pass
from sanqin.planning.swaths import best_heading, boom_swath_width, swath_lines
from sanqin.planning.turns import TransitRouter, inside, turn_path

DATA = Path("/work/shared/data/fields")
needs_data = pytest.mark.skipif(not DATA.exists(), reason="shared real data not available")


def test_heading_search_prefers_passes_along_the_long_side() -> None:
    rect = Polygon([(0, 0), (200, 0), (200, 40), (0, 40)])
    assert best_heading(rect, 5.0, turn_cost_m=20.0) == pytest.approx(0.0, abs=np.deg2rad(1))
    assert len(swath_lines(rect, 0.0, 5.0)) == 8
    assert boom_swath_width(24, 0.5, overlap_fraction=0.05) == pytest.approx(11.4)


def test_u_shaped_field_decomposes_into_cells_of_neighbouring_passes() -> None:
    u_shape = Polygon([(0, 0), (100, 0), (100, 100), (70, 100), (70, 30), (30, 30), (30, 100), (0, 100)])
    sw = swath_lines(u_shape, 0.0, 5.0)  # passes east-west: the notch splits the upper lines
    cells = decompose(sw)
    assert len(cells) == 3
    for cell in cells:
        lines = [s.line for s in cell]
        assert lines == list(range(lines[0], lines[0] + len(lines)))


def test_turns_connect_pass_ends_and_transits_stay_inside() -> None:
    for radius, spacing in ((0.0, 6.0), (2.0, 6.0), (5.0, 6.0)):
        path = turn_path(np.array([0.0, 0.0]), 0.0, np.array([0.0, spacing]), radius)
        assert path[0] == pytest.approx([0, 0]) and path[-1] == pytest.approx([0, spacing])
        assert np.max(np.linalg.norm(np.diff(path, axis=0), axis=1)) <= max(spacing, 2 * radius)
    u_shape = Polygon([(0, 0), (100, 0), (100, 100), (70, 100), (70, 30), (30, 30), (30, 100), (0, 100)])
    route = TransitRouter(u_shape).route(np.array([10.0, 90.0]), np.array([90.0, 90.0]))
    assert len(route) > 2 and inside(route, u_shape)


def test_spray_segments_switch_sections_at_a_zone_and_follow_the_prescription() -> None:
    field = Polygon([(0, 0), (100, 0), (100, 20), (0, 20)])
    zone = Point(50, 10).buffer(5)
    sprayable = field.difference(zone.buffer(1.0))
    rates = (RateZone(Polygon([(70, 0), (100, 0), (100, 20), (70, 20)]), 40.0),)
    segs = segments_for_pass(np.array([0, 10.0]), np.array([100, 10.0]), sprayable, 20.0, 6.0, 5.0, rates, sections=3)
    assert segs[0].sections == (True, True, True) and segs[0].rate_l_ha == 20.0
    middle = [s for s in segs if abs((s.start_m[0] + s.end_m[0]) / 2 - 50) < 2][0]
    assert not middle.on and middle.flow_l_min == 0.0
    assert any(s.sections == (True, False, True) for s in segs)  # outer sections pass beside the zone
    assert segs[-1].rate_l_ha == 40.0 and segs[-1].flow_l_min == pytest.approx(flow_l_min(40.0, 6.0, 5.0))
    assert sum(s.length_m for s in segs) == pytest.approx(100.0)


@needs_data
@pytest.mark.parametrize("kind", ["convex", "concave", "holes"])
def test_real_fields_are_covered(kind, tmp_path) -> None:
    fields = [*b.read_fields(DATA / "nl_brp_2023_53fields.geojson"),
              *b.read_fields(DATA / "dk_marker_2026_100fields.geojson")]
    pick = max({
        "convex": [f for f in fields if f.properties.get("convex")],
        "concave": [f for f in fields if f.properties.get("convex") is False],
        "holes": [f for f in fields if f.boundary.interiors],
    }[kind], key=lambda f: f.area_m2)
    c = pick.boundary.representative_point()
    fld = b.Field(pick.boundary, (Point(c.x, c.y).buffer(10),), pick.frame, pick.name)
    plan = cv.plan_coverage(fld, cv.CoverageConfig(swath_m=6.0, boom_sections=6))
    m = plan.metrics
    assert m["covered_share"] >= 0.99, m
    assert m["turns_outside_boundary"] == 0 and m["outside_share"] < 0.001
    assert m["overlap_share"] < 0.15
    on_over_zone = [s for p in plan.pieces for s in p.spray if s.on and
                    fld.no_spray[0].buffer(-0.5).intersects(
                        Point(*(s.start_m + s.end_m) / 2).buffer(0.01)) and all(s.sections)]
    assert not on_over_zone
    png = plot_coverage(plan, tmp_path / "plan.png")
    assert png.stat().st_size > 10_000


def test_refills_split_the_route_by_tank_and_battery() -> None:
    fld = b.field_from_local([(0, 0), (300, 0), (300, 120), (0, 120)])
    cfg = cv.CoverageConfig(swath_m=6.0, rate_l_ha=20.0, speed_m_s=5.0, tank_l=15.0, endurance_s=600.0)
    plan = cv.plan_coverage(fld, cfg, home_m=np.array([-10.0, -10.0]))
    litres = 3.6 * 20.0 / 10_000 * 6.0 * plan.metrics["sprayed_length_m"] / 3.6  # rate · area
    assert plan.metrics["refills"] >= int(litres // 15.0)
    assert {r.reason for r in plan.refills} <= {"tank", "battery"}
    _assert_sorties_fit(plan, home=np.array([-10.0, -10.0]))


def _assert_sorties_fit(plan, home) -> None:
    """Walk the route sortie by sortie: the liquid sprayed fits the tank, the flight (out, route, back) the
    usable endurance, and the tank is not sent home far from empty when the tank is what ends a sortie."""
    cfg = plan.config
    legs, stops = plan.legs(), {r.leg_index: r for r in plan.refills}
    usable = cfg.endurance_s * (1 - cfg.reserve_fraction) if cfg.endurance_s else np.inf
    litres, t = 0.0, float(np.linalg.norm(legs[0].start_m - home)) / cfg.speed_m_s
    for i, leg in enumerate(legs):
        if i in stops:
            if stops[i].reason == "tank":
                assert litres > 0.8 * cfg.tank_l
            litres, t = 0.0, float(np.linalg.norm(leg.start_m - home)) / cfg.speed_m_s
        dur = float(np.linalg.norm(leg.end_m - leg.start_m)) / cfg.speed_m_s
        litres += leg.flow_l_min * dur / 60.0
        t += dur
        assert litres <= (cfg.tank_l or np.inf) + 1e-6
        assert t + float(np.linalg.norm(leg.end_m - home)) / cfg.speed_m_s <= usable + 1e-6


def test_long_passes_are_broken_for_a_small_tank_instead_of_refused() -> None:
    """A 1 km pass at 30 L/ha needs ~18 L: more than a 10 L tank. The refill breaks the pass mid-way."""
    fld = b.field_from_local([(0, 0), (1000, 0), (1000, 60), (0, 60)])
    cfg = cv.CoverageConfig(swath_m=6.0, rate_l_ha=30.0, speed_m_s=5.0, tank_l=10.0, heading_deg=0.0)
    plan = cv.plan_coverage(fld, cfg, home_m=np.array([-10.0, -10.0]))
    assert plan.metrics["covered_share"] >= 0.99 and plan.refills
    assert all(r.reason == "tank" for r in plan.refills)
    _assert_sorties_fit(plan, home=np.array([-10.0, -10.0]))
    sprayed_l = sum(leg.flow_l_min * np.linalg.norm(leg.end_m - leg.start_m) / 5.0 / 60.0 for leg in plan.legs())
    assert len(plan.refills) <= int(sprayed_l / (10.0 * (1 - 1 / cv.REFILL_GRAIN))) + 1  # no half-empty returns


@pytest.mark.parametrize(
    "outline, cfg, match",
    [
        ([(0, 0), (100, 0), (100, 4), (0, 4)], cv.CoverageConfig(swath_m=6.0), "wider than the field"),
        ([(0, 0), (10, 0), (10, 10), (0, 10)], cv.CoverageConfig(swath_m=6.0, headland_laps=0, headland_m=20.0,
                                                                 ), "nothing to cover"),
    ],
)
def test_impossible_coverage_raises(outline, cfg, match) -> None:
    with pytest.raises(CoverageError, match=match):
        cv.plan_coverage(b.field_from_local(outline), cfg)


def test_self_intersecting_local_field_raises() -> None:
    with pytest.raises(b.BoundaryError, match="invalid polygon"):
        b.field_from_local([(0, 0), (10, 10), (10, 0), (0, 10)])


@needs_data
def test_ground_sprayer_turns_stay_inside_a_deeper_headland() -> None:
    fields = b.read_fields(DATA / "nl_brp_2023_53fields.geojson")
    fld = sorted([f for f in fields if f.properties.get("convex") is False], key=lambda f: f.area_m2)[-3]
    plan = cv.plan_coverage(fld, cv.CoverageConfig(swath_m=6.0, turn_radius_m=6.0, boom_sections=6))
    m = plan.metrics
    assert m["turns"] > 5 and m["turns_outside_boundary"] == 0
    assert m["covered_share"] >= 0.99
    assert sum(p.kind == "lap" for p in plan.pieces) >= 3  # omega turns need about 17 m: three 6 m laps
    assert cv.turn_reach_m(6.0, 2.0) == pytest.approx(2.0 + 3.0)  # a U-turn reaches one radius past the end
