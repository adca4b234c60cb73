"""Headless perception scenarios with ground truth: the industrial bay (obstacles) and the 200 m tunnel (odometry)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanqin.runtime.runner import run_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "sim" / "scenarios"


def _run(name: str, tmp_path: Path):
    result = run_scenario(SCENARIOS / f"{name}.yaml", out_dir=tmp_path / "run", record=False)
    failed = [text for ok, text in result.checks if not ok]
    assert result.passed, failed
    return result.metrics


def test_industrial_bay_obstacles_precision_and_recall(tmp_path) -> None:
    m = _run("industrial_bay_obstacles", tmp_path)
    assert m["bay.precision"] >= 0.9 and m["bay.recall"] >= 0.9
    assert m["bay.walker_speed_error_mean_m_s"] < 0.4
    assert m["nodes.obstacle_detector.frames_sensor_frame"] == 0  # tracked in odom throughout
    assert (tmp_path / "run" / "plots" / "bay_obstacles.png").is_file()


def test_tunnel_odometry_fusion_drifts_under_one_percent_and_beats_icp_alone(tmp_path) -> None:
    m = _run("tunnel_odometry", tmp_path)
    assert m["tunnel.odometry.distance_m"] >= 190
    assert m["tunnel.odometry.drift_pct"] < 1.0
    # LiDAR alone in a tunnel: the axis is nearly unobservable; report it, and fusion must do better.
    assert m["tunnel.odometry_icp.drift_pct"] > m["tunnel.odometry.drift_pct"]
    assert m["nodes.imu_attitude.bias_z"] == pytest.approx(0.003, abs=0.001)  # estimated at rest


def test_tunnel_thermal_hotspots_found_graded_located_and_logged(tmp_path) -> None:
    import dataclasses

    from sanqin.perception.inspection_log import read_log
    from sanqin.runtime.scenario import load_scenario

    sc = load_scenario(SCENARIOS / "tunnel_thermal.yaml")
    log = tmp_path / "inspection.jsonl"
    nodes = tuple(
        dataclasses.replace(n, params={**n.params, "log_path": str(log)}) if n.node == "thermal_inspector" else n
        for n in sc.nodes
    )
    result = run_scenario(dataclasses.replace(sc, nodes=nodes), out_dir=tmp_path / "run", record=False)
    assert result.passed, [t for ok, t in result.checks if not ok]
    m = result.metrics
    assert m["thermal.recall"] == 1.0 and m["thermal.false_alarms"] == 0
    records, bad = read_log(log)
    assert bad == 0 and len(records) == m["thermal.alarms"] == m["thermal.defects"]
    assert {r["grade_name"] for r in records} == {"general", "serious", "critical"}


def test_crop_canopy_cover_error(tmp_path) -> None:
    m = _run("crop_canopy", tmp_path)
    assert m["field.cover_mae"] <= 0.05 and abs(m["field.cover_bias"]) < 0.03
    assert m["field.observed_fraction"] >= 0.95


def test_crop_field_cell_must_be_whole_texels() -> None:
    # A 2 m grid over 0.15 m texels would score each cell against 1.95 m of truth, drifting off the mapper's grid.
    from sanqin.runtime.config import load_config
    from sanqin.runtime.errors import ConfigError
    from sanqin.simulation.crop_field import CropFieldConfig

    with pytest.raises(ConfigError, match="whole number of texels"):
        load_config(CropFieldConfig, {"cell_m": 2.0, "texel_m": 0.15})
    assert load_config(CropFieldConfig, {"cell_m": 2.0, "texel_m": 0.1}).cell_m == 2.0
