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
