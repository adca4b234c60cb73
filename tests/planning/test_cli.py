"""``sanqin plan`` writes plan JSON, QGC .plan and PNG; bad input exits 2 with one line."""

from __future__ import annotations

import json

import pytest

from sanqin.planning.cli import main

SQUARE = [[5.0, 52.0], [5.002, 52.0], [5.002, 52.001], [5.0, 52.001], [5.0, 52.0]]


def _field(tmp_path, ring=SQUARE):
    p = tmp_path / "field.geojson"
    p.write_text(json.dumps({"type": "Feature", "properties": {},
                             "geometry": {"type": "Polygon", "coordinates": [ring]}}))
    return p


def test_coverage_outputs_round_trip_through_the_uav_bridge_reader(tmp_path, capsys) -> None:
    from sanqin.uav_bridge.plan_file import read_plan

    f = _field(tmp_path)
    outs = [tmp_path / "p.json", tmp_path / "p.plan", tmp_path / "p.png"]
    rc = main(["coverage", "--boundary", str(f), "--swath-m", "6", "--sections", "3", "--home", "52.0", "5.0",
               *sum((["--out", str(o)] for o in outs), [])])
    assert rc == 0 and all(o.exists() for o in outs)
    doc = json.loads(outs[0].read_text())
    assert doc["metrics"]["covered_share"] >= 0.99
    plan = read_plan(outs[1])
    assert len(plan.mission) == len(doc["sorties"][0])
    # the fence holds the field and a take-off point 30 m outside it (the field outline alone did not)
    from shapely.geometry import Point, Polygon

    rc = main(["coverage", "--boundary", str(f), "--swath-m", "6", "--home", "51.9997", "5.001",
               "--out", str(tmp_path / "h.plan")])
    fence = Polygon([(lon, lat) for lat, lon in read_plan(tmp_path / "h.plan").fence_polygons[0].vertices])
    assert rc == 0 and fence.contains(Point(5.001, 51.9997)) and fence.contains(Point(5.002, 52.001))
    assert "covered" in capsys.readouterr().out
    assert main(["coverage", "--boundary", str(f), "--boom", "24", "0.5", "--out", str(outs[0])]) == 0
    assert json.loads(outs[0].read_text())["config"]["swath_m"] == 12.0


def test_inspection_subcommands(tmp_path) -> None:
    line = tmp_path / "line.geojson"
    line.write_text(json.dumps({"type": "LineString", "coordinates": [[5.0, 52.0], [5.004, 52.001]]}))
    assert main(["inspect", "corridor", "--line", str(line), "--alt-m", "40", "--offsets-m", "-15", "15",
                 "--out", str(tmp_path / "c.json")]) == 0
    assert main(["inspect", "structure", "--center", "52", "5", "--radius-m", "2", "--standoff-m", "12",
                 "--bottom-m", "5", "--top-m", "30", "--out", str(tmp_path / "s.plan")]) == 0
    assert main(["inspect", "survey", "--boundary", str(_field(tmp_path)), "--alt-m", "60",
                 "--out", str(tmp_path / "v.png")]) == 0


@pytest.mark.parametrize(
    "ring, args, match",
    [
        ([[5.0, 52.0], [5.002, 52.001], [5.002, 52.0], [5.0, 52.001], [5.0, 52.0]], [], "invalid polygon"),
        (SQUARE, ["--swath-m", "500"], "wider than the field"),
        ([[5.0, 52.0], [5.002, 95.0], [5.0, 52.001], [5.0, 52.0]], [], "out of range"),
        (SQUARE, ["--home", "95.0", "5.0"], "not a WGS84"),
    ],
)
def test_bad_input_exits_2_with_a_message(tmp_path, capsys, ring, args, match) -> None:
    argv = ["coverage", "--boundary", str(_field(tmp_path, ring)), "--swath-m", "6", *args,
            "--out", str(tmp_path / "p.json")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1


def test_prescription_sets_rates_and_bad_prescription_is_an_error(tmp_path) -> None:
    east = [[5.001, 52.0], [5.002, 52.0], [5.002, 52.001], [5.001, 52.001], [5.001, 52.0]]
    rx = tmp_path / "rx.geojson"
    zone = {"type": "Feature", "properties": {"rate_l_ha": 35.0},
            "geometry": {"type": "Polygon", "coordinates": [east]}}
    rx.write_text(json.dumps({"type": "FeatureCollection", "features": [zone]}))
    out = tmp_path / "p.json"
    argv = ["coverage", "--boundary", str(_field(tmp_path)), "--swath-m", "6", "--sprayer", "servo",
            "--pump-servo", "13", "--prescription", str(rx), "--out", str(out)]
    assert main(argv) == 0
    pumps = {i["params"][1] for s in json.loads(out.read_text())["sorties"] for i in s
             if i["command"] == 183 and i["params"][0] == 13}
    assert len(pumps - {1100.0}) >= 2  # the pump PWM follows two different rates
    rx.write_text(json.dumps({"type": "Feature", "properties": {"rate_l_ha": "lots"},
                              "geometry": {"type": "Polygon", "coordinates": [east]}}))
    assert main(argv) == 2


@pytest.mark.parametrize("doc", [[1, 2], {"type": "FeatureCollection", "features": [3]},
                                 {"type": "FeatureCollection", "features": {"a": 1}},
                                 {"type": "Feature", "geometry": "line"},
                                 {"type": "LineString", "coordinates": [["a", "b"], [5.0]]}])
def test_inspect_corridor_refuses_a_malformed_line_file_with_a_message(tmp_path, doc) -> None:
    line = tmp_path / "line.geojson"
    line.write_text(json.dumps(doc))
    assert main(["inspect", "corridor", "--line", str(line), "--alt-m", "40", "--offsets-m", "-15", "15",
                 "--out", str(tmp_path / "c.json")]) != 0  # a typed error, not a traceback
    assert not (tmp_path / "c.json").exists()
