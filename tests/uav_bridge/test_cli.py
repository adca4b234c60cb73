"""``sanqin uav``: plan/validate offline on real field data and samples; upload, download, fly and monitor
against the simulator process over UDP on loopback."""

from __future__ import annotations

import contextlib
import io
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from sanqin.uav_bridge import cli
from sanqin.uav_bridge.plan_file import read_plan

DATA = Path("/work/shared/data")


@pytest.fixture
def out(monkeypatch):
    buf = io.StringIO()
    monkeypatch.setattr(cli, "OUT", buf)
    return buf


@pytest.mark.skipif(not DATA.is_dir(), reason="shared data not present")
def test_plan_spray_from_a_real_field_and_validate(tmp_path, out) -> None:
    field = DATA / "fields" / "dk_marker_2026_100fields.geojson"
    plan = tmp_path / "f.plan"
    assert cli.main(["plan", "spray", "--field", str(field), "--feature", "3", "--alt", "4", "--spacing", "8",
                     "-o", str(plan), "--png", str(tmp_path / "f.png")]) == 0
    assert (tmp_path / "f.png").stat().st_size > 10_000
    assert cli.main(["validate", str(plan)]) == 0
    assert "valid" in out.getvalue()
    p = read_plan(plan)
    assert p.fence_polygons and sum(1 for it in p.mission if it.command == 183) >= 4


def test_validate_checks_the_return_from_the_planned_home(tmp_path, out) -> None:
    from sanqin.runtime.paths import share_dir
    from sanqin.uav_bridge.plan_file import plan_to_dict

    missions = share_dir() / "sim" / "missions"
    for name in ("spray_field.plan", "powerline_corridor.plan"):  # the shipped plans return inside their fences
        assert cli.main(["validate", str(missions / name)]) == 0, out.getvalue()
    doc = plan_to_dict(read_plan(missions / "powerline_corridor.plan"))
    doc["rallyPoints"]["points"] = []  # RTL would fly straight home across the corridor's bend
    bad = tmp_path / "no_rally.plan"
    bad.write_text(json.dumps(doc))
    assert cli.main(["validate", str(bad)]) == 1
    assert "problem: return leg item 6→home leaves the inclusion fence (up to 19.1 m out)" in out.getvalue()
    doc["mission"]["plannedHomePosition"] = None
    bad.write_text(json.dumps(doc))
    assert cli.main(["validate", str(bad)]) == 0  # no home to check from: said, and checked at fly time
    assert "checked against the vehicle's home at fly time" in out.getvalue()


def test_plan_corridor_and_validate_problems(tmp_path, out) -> None:
    line = tmp_path / "line.geojson"
    line.write_text(json.dumps({"type": "LineString", "coordinates": [[5.163, 52.087], [5.166, 52.088],
                                                                      [5.169, 52.088]]}))
    plan = tmp_path / "c.plan"
    assert cli.main(["plan", "corridor", "--line", str(line), "--photo-every", "25", "--alt", "30",
                     "-o", str(plan)]) == 0
    doc = json.loads(plan.read_text())
    doc["mission"]["items"][5]["params"][4] = 52.2  # a waypoint 12 km away: outside the fence
    bad = tmp_path / "bad.plan"
    bad.write_text(json.dumps(doc))
    assert cli.main(["validate", str(bad)]) == 1
    assert "outside the inclusion fence" in out.getvalue()
    if DATA.is_dir():
        assert cli.main(["validate", str(DATA / "qgc_plans" / "qgroundcontrol_sample_wrong_mission_version.plan")]) == 2
    assert cli.main(["plan", "spray", "-o", str(plan)]) == 2
    assert cli.main(["bogus"]) == 2


def _port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _sim(port: int, speedup: float):
    proc = subprocess.Popen([sys.executable, "-m", "sanqin.simulation.multicopter", "--connect",
                             f"udpout:127.0.0.1:{port}", "--speedup", str(speedup), "--duration", "900"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)


def test_upload_download_fly_monitor_against_the_simulator_process(tmp_path, out) -> None:
    line = tmp_path / "line.geojson"
    line.write_text(json.dumps({"type": "LineString", "coordinates": [[5.1632, 52.0871], [5.1642, 52.0874]]}))
    plan = tmp_path / "c.plan"
    assert cli.main(["plan", "corridor", "--line", str(line), "--photo-every", "10", "--alt", "12",
                     "--speed", "8", "--home", "52.0870,5.1630", "-o", str(plan)]) == 0
    port = _port()
    link = ["--connect", f"udpin:127.0.0.1:{port}", "--tlog", str(tmp_path / "s.tlog")]
    with _sim(port, speedup=8.0):
        assert cli.main(["upload", str(plan), *link]) == 0
        assert cli.main(["download", "-o", str(tmp_path / "back.plan"), *link]) == 0
        back = read_plan(tmp_path / "back.plan")
        assert len(back.mission) == len(read_plan(plan).mission) and back.fence_polygons
        assert cli.main(["fly", str(plan), "--max-flight-s", "60", *link]) == 0
        assert cli.main(["monitor", "--duration", "1.5", *link]) == 0
    text = out.getvalue()
    assert "mission: " in text and "upload mission" in text and "100 %" in text
    assert "pre-flight checks passed" in text and "landed and disarmed" in text
    assert "disarmed" in text.splitlines()[-1]
    assert (tmp_path / "s.tlog").stat().st_size > 1000


def _field_geojson(path: Path) -> tuple[float, float]:
    """A 150 m × 60 m field turned 30°, a 12 m pond (hole) and a no-spray strip (a feature of its own)."""
    import math as m

    from sanqin.uav_bridge.geo import GeoOrigin

    o = GeoOrigin(52.10, 5.20)
    c, s = m.cos(m.radians(30)), m.sin(m.radians(30))

    def ring(pts):
        out = [list(reversed(o.to_geodetic(x * c - y * s, x * s + y * c)[:2])) for x, y in pts]
        return out + [out[0]]

    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "parcel"},
         "geometry": {"type": "Polygon", "coordinates": [ring([(0, 0), (150, 0), (150, 60), (0, 60)]),
                                                         ring([(70, 24), (82, 24), (82, 36), (70, 36)])]}},
        {"type": "Feature", "properties": {"no_spray": True},
         "geometry": {"type": "Polygon", "coordinates": [ring([(120, -5), (135, -5), (135, 65), (120, 65)])]}},
    ]}
    path.write_text(json.dumps(doc))
    return o.to_geodetic(-20 * c, -20 * s)[:2]  # home: 20 m off the field's corner


def test_plan_spray_uses_the_coverage_planner(tmp_path, out) -> None:
    """Headland laps, passes along the field's long side, the pump off over the no-spray strip, the route
    round the pond, refill returns as one .plan per sortie — each checked as pre-flight would."""
    import math as m

    from shapely.geometry import LineString, Polygon

    from sanqin.uav_bridge.geo import GeoOrigin
    from sanqin.uav_bridge.payload import spray_segments

    home = _field_geojson(tmp_path / "field.geojson")
    plan = tmp_path / "f.plan"
    assert cli.main(["plan", "spray", "--field", str(tmp_path / "field.geojson"), "--spacing", "6", "--alt", "4",
                     "--home", f"{home[0]},{home[1]}", "--tank-l", "5", "--rate-l-ha", "40",
                     "-o", str(plan), "--png", str(tmp_path / "f.png")]) == 0, out.getvalue()
    text = out.getvalue()
    assert "1 no-spray zone(s)" in text and "headland lap" in text and "at 30.0°" in text
    sorties = sorted(tmp_path.glob("f*.plan"))
    assert len(sorties) >= 2 and (tmp_path / "f_sortie2.plan").exists() and (tmp_path / "f_sortie2.png").exists()
    o = GeoOrigin(52.10, 5.20)
    c, s = m.cos(m.radians(30)), m.sin(m.radians(30))

    def local(lat, lon):  # back into the field's own axes
        e, n, _ = o.to_enu(lat, lon)
        return e * c + n * s, -e * s + n * c

    no_spray = Polygon([(120, -5), (135, -5), (135, 65), (120, 65)])
    sprayed = 0.0
    for path in sorties:
        assert cli.main(["validate", str(path)]) == 0
        p = read_plan(path)
        assert p.planned_home[:2] == pytest.approx(home) and p.mission[-1].command == 20  # back to refill
        assert [f.inclusion for f in p.fence_polygons] == [True]  # the hull of field and home; the pond isn't fenced
        xy = {i: local(it.latitude_deg, it.longitude_deg) for i, it in enumerate(p.mission) if it.command == 16}
        pond = Polygon([(70, 24), (82, 24), (82, 36), (70, 36)])
        for a, b in zip(sorted(xy), sorted(xy)[1:]):  # the route (transits and turns included) goes round the pond
            assert LineString([xy[a], xy[b]]).intersection(pond).length < 1e-6
        for a, b in spray_segments(p.mission):
            leg = LineString([xy[a], xy[b]])
            sprayed += leg.length
            assert leg.intersection(no_spray).length < 3.5  # off over the strip (half a swath of margin)
    assert sprayed > 1000


def test_plan_spray_relay_and_sprayer_methods(tmp_path, out) -> None:
    _field_geojson(tmp_path / "field.geojson")
    for method, cmd in (("relay", 181), ("sprayer", 216)):
        plan = tmp_path / f"{method}.plan"
        assert cli.main(["plan", "spray", "--field", str(tmp_path / "field.geojson"), "--spacing", "8",
                         "--spray-method", method, "-o", str(plan)]) == 0, out.getvalue()
        items = read_plan(plan).mission
        switches = [it for it in items if it.command in (181, 183, 216)]
        assert switches and all(it.command == cmd for it in switches)
        assert {it.params[1 if cmd == 181 else 0] for it in switches} == {0.0, 1.0}
    assert cli.main(["plan", "spray", "--field", str(tmp_path / "field.geojson"), "--spacing", "500",
                     "-o", str(tmp_path / "x.plan")]) == 2  # wider than the field: the planner's error, no file
    assert "wider than the field" in out.getvalue() and not (tmp_path / "x.plan").exists()


@pytest.mark.parametrize("doc", [[1, 2], {"type": "FeatureCollection", "features": [3]},
                                 {"type": "FeatureCollection", "features": {"a": 1}},
                                 {"type": "Feature", "geometry": "line"},
                                 {"type": "LineString", "coordinates": [["a", "b"], [5.0]]}])
def test_plan_corridor_refuses_a_malformed_line_file_with_a_message(tmp_path, doc) -> None:
    line = tmp_path / "line.geojson"
    line.write_text(json.dumps(doc))
    assert cli.main(["plan", "corridor", "--line", str(line), "--photo-every", "25", "--alt", "30",
                     "-o", str(tmp_path / "c.plan")]) == 2  # a typed error, not a traceback
    assert not (tmp_path / "c.plan").exists()
