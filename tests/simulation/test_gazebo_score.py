"""Scoring a recorded run: the bag scorer reproduces the headless runner's metrics from the headless bag."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from sanqin.runtime.paths import share_dir
from sanqin.runtime.runner import run_scenario
from sanqin.runtime.scenario import Criterion, load_scenario
from sanqin.simulation.gazebo import cli
from sanqin.simulation.gazebo.errors import ScoreError
from sanqin.simulation.gazebo.score import score_bag, write_score

SHARE = share_dir()

#: Metrics the bag reproduces only approximately: odometry is sampled (the plugin uses the exact pose).
APPROX = {"tunnel.distance_travelled_m": 0.05, "run.sim_time_s": 1e-6,
          "tunnel.surface_dist_median_m": 1e-3, "tunnel.surface_dist_p95_m": 1e-3}  # the plugin: 1 mm histogram


@pytest.fixture(scope="module")
def tunnel_run(tmp_path_factory: pytest.TempPathFactory):
    sc = load_scenario(SHARE / "sim" / "scenarios" / "tunnel_lidar.yaml")
    short = replace(sc, duration_s=2.0)  # ends on a /diagnostics tick (1 s period)
    out = tmp_path_factory.mktemp("tunnel") / "run"
    result = run_scenario(short, out, plots=False)
    return short, result, out


def test_bag_score_equals_the_headless_metrics(tunnel_run) -> None:
    sc, result, out = tunnel_run
    score = score_bag(sc, out / "bag")
    compared = 0
    for key, value in score.metrics.items():
        if key not in result.metrics:
            continue
        ref = result.metrics[key]
        if key.startswith("nodes."):  # the node's figures as of its last /diagnostics (1 s period, 10 Hz frames)
            assert abs(ref - value) <= 10 + 0.1 * abs(ref), key
            continue
        tol = APPROX.get(key, 1e-6 * max(1.0, abs(ref)))
        assert value == pytest.approx(ref, abs=tol), key
        compared += 1
    assert compared >= 30
    assert score.metrics["tunnel.frames_published"] == 20
    assert score.metrics["nodes.lidar_preprocessor.messages_out"] >= 10
    # The component's own figures reach /diagnostics with the node's counters, so its criteria are measured.
    assert score.metrics["nodes.lidar_preprocessor.cropped_points"] > 0 and not score.not_measured
    assert [ok for ok, _ in score.checks] == [ok for ok, _ in result.checks]


def test_score_passes_only_when_measured_criteria_pass(tunnel_run, tmp_path: Path) -> None:
    sc, _, out = tunnel_run
    easy = replace(sc, criteria=(Criterion("tunnel.frames_lost", "==", 0.0),
                                 Criterion("nodes.lidar_preprocessor.no_such_figure", ">", 0.0)))
    score = score_bag(easy, out / "bag")
    assert score.passed and len(score.checks) == 1 and len(score.not_measured) == 1
    path = write_score(score, tmp_path / "score")
    doc = json.loads(path.read_text())
    assert doc["passed"] is True and doc["not_measured"] == ["nodes.lidar_preprocessor.no_such_figure > 0"]
    assert (tmp_path / "score" / "report.md").read_text().startswith("# Gazebo run of `tunnel_lidar` — PASSED")
    nothing = replace(sc, criteria=(Criterion("nodes.lidar_preprocessor.no_such_figure", ">", 0.0),))
    assert not score_bag(nothing, out / "bag").passed  # nothing measured is not a pass


def test_cli_score_exit_status(tunnel_run, tmp_path: Path) -> None:
    _, _, out = tunnel_run
    # The full scenario asks for 200 frames; the 2 s recording has 20, so the score fails.
    assert cli.main(["score", "tunnel_lidar", str(out / "bag"), "--out", str(tmp_path / "s")]) == 1
    assert json.loads((tmp_path / "s" / "metrics.json").read_text())["passed"] is False
    assert cli.main(["score", "tunnel_lidar", str(tmp_path / "no_bag")]) == 2


@pytest.mark.parametrize(("name", "duration_s"),
                         [("industrial_bay_obstacles", 3.0), ("tunnel_odometry", 5.0), ("crop_canopy", 10.0),
                          ("tunnel_thermal", 40.0)])
def test_bag_score_equals_the_headless_metrics_for(name: str, duration_s: float, tmp_path: Path) -> None:
    sc = replace(load_scenario(SHARE / "sim" / "scenarios" / f"{name}.yaml"), duration_s=duration_s)
    result = run_scenario(sc, tmp_path / "run", plots=False)
    score = score_bag(sc, tmp_path / "run" / "bag")
    prefix = sc.simulators[0].name + "."
    mine = {k: v for k, v in score.metrics.items() if k.startswith(prefix)}
    assert len(mine) >= 5
    for key, value in mine.items():
        assert value == pytest.approx(result.metrics[key], rel=1e-9, abs=1e-9, nan_ok=True), key


def test_missing_or_corrupt_bag_is_a_typed_error(tmp_path: Path) -> None:
    sc = load_scenario(SHARE / "sim" / "scenarios" / "tunnel_lidar.yaml")
    with pytest.raises(ScoreError, match="cannot open bag"):
        score_bag(sc, tmp_path / "missing")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "metadata.yaml").write_text("not: [a, bag")
    with pytest.raises(ScoreError, match="cannot open bag"):
        score_bag(sc, bad)


def test_ci_script_skips_with_status_77_without_gazebo_or_ros(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    res = subprocess.run(["bash", str(SHARE / "scripts" / "gazebo_ci.sh")], env=env, capture_output=True,
                         text=True, timeout=60, check=False)
    assert res.returncode == 77
    assert "skipped" in res.stderr and "gz" in res.stderr
    assert os.access(SHARE / "scripts" / "gazebo_ci.sh", os.X_OK)


def _fake_tools(bin_dir: Path, launch_body: str) -> None:
    """Stand-ins for gz and ros2 so the CI script's own logic runs here (launch/score/timeout paths)."""
    bin_dir.mkdir()
    (bin_dir / "gz").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "ros2").write_text(
        "#!/bin/bash\n"
        'if [ "$1" = pkg ]; then echo /opt/fake; exit 0; fi\n'
        'if [ "$1" = launch ]; then\n'
        '  for a in "$@"; do case "$a" in bag:=*) bag="${a#bag:=}";; esac; done\n'
        f"{launch_body}\n"
        "fi\nexit 0\n")
    sanqin = bin_dir / "sanqin"
    sanqin.write_text(f"#!/bin/sh\nexec {sys.executable} -m sanqin.cli \"$@\"\n")
    for f in bin_dir.iterdir():
        f.chmod(0o755)


def test_ci_script_scores_the_recorded_bag_and_fails_on_criteria(tunnel_run, tmp_path: Path) -> None:
    _, _, out = tunnel_run
    bin_dir = tmp_path / "bin"
    _fake_tools(bin_dir, f'  cp -r {out / "bag"} "$bag"; exit 0')
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin", "SANQIN_GZ_OUT": str(tmp_path / "runs")}
    res = subprocess.run(["bash", str(SHARE / "scripts" / "gazebo_ci.sh"), "tunnel_lidar"], env=env,
                         capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 1, res.stderr  # the 2 s recording cannot meet the 20 s scenario's criteria
    doc = json.loads((tmp_path / "runs" / "tunnel_lidar" / "metrics.json").read_text())
    assert doc["metrics"]["tunnel.frames_published"] == 20 and doc["passed"] is False
    assert "FAILED: tunnel_lidar" in res.stderr


def test_ci_script_reports_a_timeout_and_unknown_scenarios(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    _fake_tools(bin_dir, "  sleep 30")
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin", "SANQIN_GZ_OUT": str(tmp_path / "runs"),
           "SANQIN_GZ_TIMEOUT_FACTOR": "0", "SANQIN_GZ_STARTUP_S": "1"}
    script = str(SHARE / "scripts" / "gazebo_ci.sh")
    res = subprocess.run(["bash", script, "crop_canopy"], env=env, capture_output=True, text=True, timeout=120,
                         check=False)
    assert res.returncode == 1 and "timed out" in res.stderr
    res = subprocess.run(["bash", script, "no_such_scenario"], env=env, capture_output=True, text=True, timeout=120,
                         check=False)
    assert res.returncode == 2 and "no Gazebo twin" in res.stderr


def test_a_recording_without_a_node_or_simulator_fails_their_criteria(tunnel_run) -> None:
    """Nothing of a node (no status) or of a simulator (its scorer measured nothing) in the bag is a broken
    recording: the criteria on them fail instead of going 'not measured' and letting the run pass."""
    sc, _, out = tunnel_run
    ghost = replace(sc.nodes[0], name="ghost")
    broken = replace(sc, nodes=(*sc.nodes, ghost),
                     criteria=(Criterion("tunnel.frames_lost", "==", 0.0),
                               Criterion("nodes.ghost.handler_errors", "==", 0.0)))
    score = score_bag(broken, out / "bag")
    assert not score.passed and not score.not_measured
    assert any(not ok and "holds nothing of nodes.ghost" in text for ok, text in score.checks)


_FAKE_ROS2 = """#!/bin/bash
# stands in for ros2: `pkg prefix` succeeds; `launch` logs its arguments and leaves a recorded bag at bag:=DIR
case "$1" in
  pkg) exit 0 ;;
  launch)
    echo "$@" >> "$FAKE_LOG"
    for a in "$@"; do case "$a" in bag:=*) cp -r "$FAKE_BAG" "${a#bag:=}" ;; esac; done
    exit 0 ;;
esac
exit 3
"""


def test_ci_script_launches_scores_and_gates_each_scenario(tmp_path: Path) -> None:
    """gazebo_ci.sh end to end with stand-ins for gz and ros2 (a headless recording plays the Gazebo one): the
    scenario's launch file with record, bag and its own run_dir, a wall-clock limit from the world's simulated
    time and real-time factor, the score in the run folder, exit 0 on a pass and 1 on a failure."""
    sc = load_scenario(SHARE / "sim" / "scenarios" / "mpc_tunnel_patrol.yaml")
    sim = sc.simulators[0]  # run on after the goal, as the Gazebo world does (headless stops at the goal)
    sc = replace(sc, simulators=(replace(sim, params={**sim.params, "stop_when_done": False}),))
    assert run_scenario(sc, tmp_path / "headless", plots=False).passed
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gz").write_text("#!/bin/bash\nexit 0\n")
    (bin_dir / "ros2").write_text(_FAKE_ROS2)
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    env = {"PATH": f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path),
           "FAKE_LOG": str(tmp_path / "launch_args"), "FAKE_BAG": str(tmp_path / "headless" / "bag"),
           "SANQIN_GZ_OUT": str(tmp_path / "gz_runs")}

    def ci(*scenarios: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(SHARE / "scripts" / "gazebo_ci.sh"), *scenarios], env=env,
                              capture_output=True, text=True, timeout=300, check=False)

    res = ci("mpc_tunnel_patrol")
    assert res.returncode == 0, res.stderr
    args = (tmp_path / "launch_args").read_text().split()
    run = tmp_path / "gz_runs" / "mpc_tunnel_patrol"
    assert args[:3] == ["launch", "sanqin", "gz_mpc_tunnel_patrol.launch.xml"]
    assert {"record:=true", f"bag:={run}/bag", f"run_dir:={run}/run"} <= set(args)
    assert json.loads((run / "metrics.json").read_text())["passed"] is True
    assert "wall-clock limit 820 s" in res.stdout  # 70 s simulated / real-time factor 1 x 10 + 120 s start-up
    # a rehab twin runs at a quarter of real time: four times the wall-clock allowance (its scoring fails here:
    # the stand-in bag is another scenario's)
    res = ci("rehab_safety")
    assert res.returncode == 1 and "wall-clock limit 560 s" in res.stdout  # 11 s / 0.25 x 10 + 120
    assert ci("no_such_scenario").returncode == 2
