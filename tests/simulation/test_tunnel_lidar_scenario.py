"""The flagship scenario end to end: simulated LiDAR → lidar_preprocessor → scored, recorded run folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.spatial.transform import Rotation

from sanqin.msgs.factory import default_factory
from sanqin.msgs.pointcloud import pointcloud2_to_cloud
from sanqin.runtime.errors import ConfigError, ScenarioError
from sanqin.runtime.runner import build_graph, run_scenario
from sanqin.runtime.scenario import load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "sim" / "scenarios" / "tunnel_lidar.yaml"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    return run_scenario(SCENARIO, out_dir=tmp_path_factory.mktemp("tunnel_lidar") / "run")


def test_scenario_passes_its_criteria(run) -> None:
    assert run.passed, "\n".join(text for ok, text in run.checks if not ok)
    m = run.metrics
    assert m["tunnel.frames_published"] == m["tunnel.frames_received"] == 200
    assert m["nodes.lidar_preprocessor.frames"] == 200
    assert 20_000 < m["tunnel.mean_points_in"] < 30_000
    assert m["tunnel.mean_points_out"] < 0.5 * m["tunnel.mean_points_in"]
    assert m["tunnel.distance_travelled_m"] == pytest.approx(30.0)
    assert m["tunnel.lidar_self_hits_per_scan"] > 0 and m["nodes.lidar_preprocessor.cropped_points"] > 0


def test_run_folder_has_metrics_report_plots_and_params(run) -> None:
    d = run.run_dir
    doc = json.loads((d / "metrics.json").read_text())
    assert doc["passed"] is True and doc["topics"]["/lidar/points"] == "sensor_msgs/msg/PointCloud2"
    report = (d / "report.md").read_text()
    assert "PASSED" in report and "tunnel_top_view.png" in report
    for name in ("tunnel_top_view.png", "points_per_frame.png"):
        assert (d / "plots" / name).stat().st_size > 10_000
    assert (d / "params" / "lidar_preprocessor.yaml").is_file()


def test_bag_holds_raw_and_filtered_clouds(run) -> None:
    from rosbags.rosbag2 import Reader

    f = default_factory()
    with Reader(run.run_dir / "bag") as reader:
        counts = {c.topic: c.msgcount for c in reader.connections}
        assert counts["/lidar/points"] == 200 and counts["/lidar/points_filtered"] == 200
        assert counts["/odom_gt"] == counts["/tf"] >= 1000 and counts["/tf_static"] == 1
        first = {}
        for conn, _, raw in reader.messages(connections=[c for c in reader.connections if "points" in c.topic]):
            first.setdefault(conn.topic, f.deserialize(raw, "sensor_msgs/msg/PointCloud2"))
            if len(first) == 2:
                break
    raw_msg = first["/lidar/points"]
    assert [fld.name for fld in raw_msg.fields] == ["x", "y", "z", "intensity", "ring", "time"]
    cloud = pointcloud2_to_cloud(first["/lidar/points_filtered"])
    assert cloud.frame_id == "lidar" and len(cloud) > 1000 and np.isfinite(cloud.points).all()
    assert cloud.stamp_s == pytest.approx(pointcloud2_to_cloud(raw_msg).stamp_s)


def _short(tmp: Path, node_params: dict, duration_s: float = 1.0):
    doc = yaml.safe_load(SCENARIO.read_text())
    doc["duration_s"] = duration_s
    doc["nodes"][0]["params"] = node_params
    doc["nodes"][0]["params_file"] = str(ROOT / "config" / "lidar_preprocessor.yaml")
    return run_scenario(parse_scenario(doc), record=False, plots=False)


def test_scoring_catches_a_misconfigured_node(tmp_path: Path) -> None:
    # Without the crop box the robot's own body leaks into the output, off the tunnel surface.
    no_crop = _short(tmp_path, {"crop_box": {"mode": "off"}})
    failed = {text.split(" ")[0] for ok, text in no_crop.checks if not ok}
    assert {"tunnel.body_points", "tunnel.off_surface_fraction"} <= failed
    assert no_crop.metrics["tunnel.body_points"] > 0
    # Without voxel downsampling the output is barely reduced.
    no_voxel = _short(tmp_path, {"voxel": {"size_m": 0.0}})
    assert no_voxel.metrics["tunnel.reduction_ratio"] > 0.9 and not no_voxel.passed


def test_bad_simulator_params_fail_at_load(tmp_path: Path) -> None:
    doc = yaml.safe_load(SCENARIO.read_text())
    doc["simulators"][0]["params"]["lidar"]["max_range_m"] = 0.2
    with pytest.raises((ConfigError, ScenarioError), match="max_range_m"):
        run_scenario(parse_scenario(doc), record=False, plots=False)
    assert load_scenario(SCENARIO).name == "tunnel_lidar"


def test_driving_through_a_bend_keeps_the_filtered_points_on_the_tunnel_surface() -> None:
    doc = yaml.safe_load(SCENARIO.read_text())
    doc["duration_s"] = 4.0
    doc["nodes"][0]["params_file"] = str(ROOT / "config" / "lidar_preprocessor.yaml")
    doc["simulators"][0]["params"]["world"].update(bend_start_m=[93.0], bend_length_m=[15.0], bend_angle_deg=[-30.0])
    scenario = parse_scenario(doc)
    # The robot follows the bend: on the centre line, facing along it.
    _, sims, _ = build_graph(scenario)
    sim = sims[0][1]
    for t in (0.5, 2.0, 3.5):
        s = sim.station_at(t)
        pose = sim.pose_at(t)
        forward = Rotation.from_quat(pose.orientation_xyzw).apply([1.0, 0.0, 0.0])
        tangent = sim.world.centerline(s + 0.01) - sim.world.centerline(s - 0.01)
        np.testing.assert_allclose(forward, tangent / np.linalg.norm(tangent), atol=1e-4)
        np.testing.assert_allclose(pose.position_m, sim.world.centerline(s), atol=1e-9)
    assert sim.world.heading(sim.station_at(4.0)) < -0.1
    res = run_scenario(scenario, record=False, plots=False)
    failed = [text for ok, text in res.checks if not ok]
    assert failed == ["tunnel.frames_published = 40 >= 200"]  # only the shortened duration
    assert res.metrics["tunnel.surface_dist_p95_m"] < 0.05


def test_sensors_due_several_times_in_one_step_are_stamped_at_their_own_times() -> None:
    # A 0.25 s step with a 10 Hz LiDAR and 100 Hz odometry: each step publishes two or three sweeps and 25 odometry
    # messages; each carries its own stamp, so every filtered frame is matched to the sweep it came from.
    doc = yaml.safe_load(SCENARIO.read_text())
    doc["duration_s"], doc["step_s"] = 1.0, 0.25
    doc["nodes"][0]["params_file"] = str(ROOT / "config" / "lidar_preprocessor.yaml")
    doc["simulators"][0]["params"]["odom_rate_hz"] = 100.0
    m = run_scenario(parse_scenario(doc), record=False, plots=False).metrics
    assert m["tunnel.frames_published"] == m["tunnel.frames_received"] == 10
    assert m["tunnel.unknown_stamp_frames"] == 0 and m["tunnel.frames_lost"] == 0
    assert m["tunnel.off_surface_fraction"] <= 0.001
