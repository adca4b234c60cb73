"""The ``sanqin`` command: listing, params, launch check, and exit statuses of ``run``."""

from __future__ import annotations

from pathlib import Path

import yaml

from sanqin.cli import EXIT_ERROR, EXIT_FAILED, EXIT_OK, main


def test_nodes_lists_every_node_with_topics(capsys) -> None:
    assert main(["nodes"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "lidar_preprocessor:" in out and "sub  points" in out and "sensor_msgs/msg/PointCloud2 [sensor]" in out


def test_params_prints_a_params_file_that_loads_back(capsys, tmp_path: Path) -> None:
    assert main(["params", "lidar_preprocessor"]) == EXIT_OK
    text = capsys.readouterr().out
    doc = yaml.safe_load(text)
    assert "ros__parameters" in doc["lidar_preprocessor"]
    f = tmp_path / "p.yaml"
    f.write_text(text)
    assert main(["check-params", str(f), "lidar_preprocessor"]) == EXIT_OK


def test_check_params_reports_an_unknown_key(capsys, tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("lidar_preprocessor:\n  ros__parameters:\n    voxle: 1\n")
    assert main(["check-params", str(f), "lidar_preprocessor"]) == EXIT_ERROR
    assert "unknown parameter 'voxle'" in capsys.readouterr().err


def test_check_launch_passes_on_the_shipped_files(capsys) -> None:
    assert main(["check-launch"]) == EXIT_OK
    assert "0 problem(s)" in capsys.readouterr().out


def test_scenarios_lists_the_flagship(capsys) -> None:
    assert main(["scenarios"]) == EXIT_OK
    assert "tunnel_lidar" in capsys.readouterr().out


def test_run_exits_1_when_a_criterion_fails(tmp_path: Path, capsys) -> None:
    scenario = tmp_path / "short.yaml"
    scenario.write_text(
        "name: short\nduration_s: 0.2\nstep_s: 0.1\n"
        "criteria:\n  - {metric: run.sim_time_s, op: '>', value: 100}\n"
    )
    assert main(["run", str(scenario), "--out", str(tmp_path / "run"), "--no-progress"]) == EXIT_FAILED
    assert "FAILED" in capsys.readouterr().out
    assert (tmp_path / "run" / "report.md").is_file()


def test_run_of_a_missing_scenario_is_an_error(tmp_path: Path, capsys) -> None:
    assert main(["run", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "r"), "--no-progress"]) == EXIT_ERROR
    assert "cannot read" in capsys.readouterr().err
