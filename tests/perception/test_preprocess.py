"""LiDAR preprocessing: each filter, voxel grid invariants, bad and huge input, and the node on the headless bus."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sanqin.common.diagnostics import DiagLevel
from sanqin.common.types import PointCloud
from sanqin.msgs.pointcloud import cloud_to_pointcloud2, pointcloud2_to_cloud
from sanqin.perception.errors import InvalidCloudError
from sanqin.perception.nodes import LIDAR_PREPROCESSOR
from sanqin.perception.preprocess import (
    CropBoxConfig,
    LidarPreprocessor,
    LidarPreprocessorConfig,
    RangeFilterConfig,
    VoxelConfig,
    preprocess_cloud,
)
from sanqin.perception.voxel import occupancy_violations, voxel_downsample, voxel_downsample_open3d, voxel_indices
from sanqin.runtime.config import load_config
from sanqin.runtime.errors import ConfigError
from sanqin.runtime.headless import Graph
from sanqin.runtime.params import load_node_config

ROOT = Path(__file__).resolve().parents[2]
REAL_SCAN = Path("/work/shared/data/lidar/velodyne_fast_gicp_pair/251370668.pcd")


def _cfg(**kw) -> LidarPreprocessorConfig:
    base = {
        "range_filter": RangeFilterConfig(min_m=1.0, max_m=10.0),
        "crop_box": CropBoxConfig(mode="off"),
        "voxel": VoxelConfig(size_m=0.0),
    }
    base.update(kw)
    return LidarPreprocessorConfig(**base)


def _cloud(points, intensity=None, stamp=3.5, frame="lidar") -> PointCloud:
    pts = np.asarray(points, dtype=np.float32).reshape(-1, 3)
    inten = None if intensity is None else np.asarray(intensity, dtype=np.float32)
    return PointCloud(stamp_s=stamp, frame_id=frame, points=pts, intensity=inten)


def _run(cloud, config, seed=0):
    return preprocess_cloud(cloud, config, np.random.default_rng(seed))


def test_range_filter_keeps_exactly_the_points_within_limits() -> None:
    r = np.array([0.5, 0.999, 1.0, 5.0, 10.0, 10.01, 50.0])
    dirs = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.6, 0.8, 0], [0, 0.6, -0.8], [1, 0, 0], [0, -1, 0]])
    out, stats = _run(_cloud(dirs * r[:, None], intensity=r), _cfg())
    np.testing.assert_allclose(np.sort(out.intensity), [1.0, 5.0, 10.0])
    assert (stats.points_in, stats.out_of_range, stats.points_out) == (7, 4, 3)
    assert out.stamp_s == 3.5 and out.frame_id == "lidar"


@pytest.mark.parametrize("mode, expected", [("remove_inside", [2.0, 3.0]), ("keep_inside", [1.0]), ("off", [1, 2, 3])])
def test_crop_box_modes(mode: str, expected: list[float]) -> None:
    pts = [[1.5, 0, 0], [3.0, 0, 0], [1.5, 2.0, 0]]  # first inside the box
    crop = CropBoxConfig(mode=mode, min_m=(1.0, -1.0, -1.0), max_m=(2.0, 1.0, 1.0))
    out, stats = _run(_cloud(pts, intensity=[1, 2, 3]), _cfg(crop_box=crop))
    np.testing.assert_allclose(np.sort(out.intensity), expected)
    assert stats.cropped == 3 - len(expected)


def test_voxel_downsampling_gives_centroids_one_per_voxel_with_mean_intensity() -> None:
    pts = [[2.01, 0.01, 0.01], [2.09, 0.09, 0.05], [2.51, 0.0, 0.0]]
    out, stats = _run(_cloud(pts, intensity=[10, 30, 7]), _cfg(voxel=VoxelConfig(size_m=0.1)))
    order = np.argsort(out.points[:, 0])
    np.testing.assert_allclose(out.points[order], [[2.05, 0.05, 0.03], [2.51, 0.0, 0.0]], atol=1e-6)
    np.testing.assert_allclose(out.intensity[order], [20.0, 7.0])
    assert stats.merged == 1 and stats.points_out == 2


def test_voxel_grid_is_fixed_to_the_frame_and_never_holds_two_points() -> None:
    rng = np.random.default_rng(1)
    pts = (rng.normal(size=(50_000, 3)) * [8, 3, 1]).astype(np.float32)
    down, _ = voxel_downsample(pts, 0.2)
    assert occupancy_violations(down, 0.2) == 0
    assert len(np.unique(voxel_indices(pts, 0.2), axis=0)) == len(down)
    # Shifting the cloud by whole voxels shifts the output by the same amount: the grid does not move.
    shifted, _ = voxel_downsample(pts + np.float32(0.2 * 7), 0.2)
    assert len(shifted) == len(down)
    # Open3D's grid is anchored at each cloud's minimum: a similar count, but not frame-fixed.
    o3d_down, _ = voxel_downsample_open3d(pts, 0.2)
    assert abs(len(o3d_down) - len(down)) < 0.05 * len(down)


def test_voxel_min_points_drops_sparse_voxels() -> None:
    pts = np.array([[0.01, 0.01, 0.01], [0.02, 0.02, 0.02], [5.05, 0.05, 0.05]], np.float32)
    down, _ = voxel_downsample(pts, 0.1, min_points=2)
    assert len(down) == 1 and down[0, 0] == pytest.approx(0.015)


def test_voxel_centroids_falling_into_the_crop_box_are_removed() -> None:
    # Two points outside the box on either side of its corner, in one voxel: their centroid is inside.
    crop = CropBoxConfig(mode="remove_inside", min_m=(-1.0, -1.0, -1.0), max_m=(1.05, 1.05, 1.0))
    pts = [[1.07, 1.01, 0.0], [1.01, 1.07, 0.0], [3.0, 3.0, 0.0]]
    out, _ = _run(_cloud(pts), _cfg(crop_box=crop, voxel=VoxelConfig(size_m=0.1)))
    assert len(out) == 1 and out.points[0, 0] == pytest.approx(3.0)


def test_empty_cloud_gives_an_empty_output_and_a_warning() -> None:
    comp = LidarPreprocessor(LidarPreprocessorConfig())
    out = comp.on_points(_cloud(np.zeros((0, 3))), 1.0)["points_filtered"]
    assert len(out) == 0 and out.points.shape == (0, 3) and out.points.dtype == np.float32
    [diag] = comp.diagnostics()
    assert diag.level == DiagLevel.WARN and "empty input" in diag.message
    assert comp.diagnostics()[0].level == DiagLevel.OK  # the level is per reporting period


def test_all_nan_cloud_is_counted_and_gives_an_empty_output() -> None:
    comp = LidarPreprocessor(LidarPreprocessorConfig())
    out = comp.on_points(_cloud(np.full((1000, 3), np.nan), intensity=np.ones(1000)), 1.0)["points_filtered"]
    assert len(out) == 0 and out.intensity is not None and len(out.intensity) == 0
    assert comp.metrics()["nonfinite_points"] == 1000
    assert "all points non-finite" in comp.diagnostics()[0].message


def test_nan_and_inf_points_are_dropped_and_bad_intensity_zeroed() -> None:
    pts = [[2, 0, 0], [np.nan, 0, 0], [np.inf, 1, 1], [0, 3, 0]]
    out, stats = _run(_cloud(pts, intensity=[np.nan, 1, 2, 4]), _cfg())
    assert stats.nonfinite == 2 and len(out) == 2
    assert np.isfinite(out.points).all()
    np.testing.assert_allclose(np.sort(out.intensity), [0.0, 4.0])


def test_single_point_and_no_intensity() -> None:
    out, stats = _run(_cloud([[3.0, 4.0, 0.0]]), _cfg(voxel=VoxelConfig(size_m=0.1)))
    assert len(out) == 1 and out.intensity is None
    np.testing.assert_allclose(out.points[0], [3.0, 4.0, 0.0])


def test_two_million_points_are_subsampled_to_max_points_with_a_warning() -> None:
    n, cap = 2_000_000, 200_000
    rng = np.random.default_rng(2)
    pts = (rng.uniform(-30, 30, size=(n, 3))).astype(np.float32)
    cfg = replace(LidarPreprocessorConfig(), max_points=cap)
    comp = LidarPreprocessor(cfg)
    out = comp.on_points(_cloud(pts, intensity=np.ones(n)), 1.0)["points_filtered"]
    stats = comp.last
    assert stats.subsampled == n - cap
    assert stats.points_out <= cap and len(out) == stats.points_out
    assert occupancy_violations(out.points, cfg.voxel.size_m) == 0
    [diag] = comp.diagnostics()
    assert diag.level == DiagLevel.WARN and "max_points=200000" in diag.message
    assert comp.metrics()["subsampled_frames"] == 1


def test_subsampling_is_deterministic_for_a_seed() -> None:
    pts = np.random.default_rng(3).uniform(-20, 20, size=(5000, 3)).astype(np.float32)
    cfg = replace(_cfg(range_filter=RangeFilterConfig(0.0, 100.0)), max_points=1000)
    a, _ = _run(_cloud(pts), cfg, seed=5)
    b, _ = _run(_cloud(pts), cfg, seed=5)
    c, _ = _run(_cloud(pts), cfg, seed=6)
    np.testing.assert_array_equal(a.points, b.points)
    assert not np.array_equal(a.points, c.points)


def test_malformed_core_input_raises_typed_errors() -> None:
    with pytest.raises(InvalidCloudError, match=r"shape \(N, 3\)"):
        _run(PointCloud(points=np.zeros((4, 2), np.float32)), _cfg())
    with pytest.raises(InvalidCloudError, match="intensities"):
        _run(_cloud(np.zeros((4, 3)), intensity=np.zeros(3)), _cfg())
    with pytest.raises(InvalidCloudError, match="positive"):
        voxel_downsample(np.zeros((1, 3), np.float32), 0.0)


def test_config_rejects_inconsistent_values() -> None:
    with pytest.raises(ConfigError, match="max_m"):
        load_config(LidarPreprocessorConfig, {"range_filter": {"min_m": 5.0, "max_m": 2.0}})
    with pytest.raises(ConfigError, match="crop_box"):
        load_config(LidarPreprocessorConfig, {"crop_box": {"min_m": [0, 0, 0], "max_m": [1, -1, 1]}})
    with pytest.raises(ConfigError, match="not one of"):
        load_config(LidarPreprocessorConfig, {"voxel": {"method": "pcl"}})
    with pytest.raises(ConfigError, match="unknown parameter"):
        load_config(LidarPreprocessorConfig, {"voxel_size": 0.1})


def test_shipped_params_file_builds_the_config() -> None:
    cfg = load_node_config(LidarPreprocessorConfig, ROOT / "config" / "lidar_preprocessor.yaml", "lidar_preprocessor")
    assert cfg.voxel.size_m == pytest.approx(0.1) and cfg.crop_box.mode == "remove_inside"


@pytest.mark.skipif(not REAL_SCAN.is_file(), reason="shared real LiDAR data not available")
def test_real_velodyne_scan() -> None:
    import open3d as o3d

    pcd = o3d.t.io.read_point_cloud(str(REAL_SCAN))
    pts = pcd.point.positions.numpy().astype(np.float32)
    inten = pcd.point.intensity.numpy().reshape(-1).astype(np.float32)
    cfg = load_node_config(LidarPreprocessorConfig, ROOT / "config" / "lidar_preprocessor.yaml", "lidar_preprocessor")
    out, stats = _run(_cloud(pts, intensity=inten), cfg)
    assert 0.1 * len(pts) < stats.points_out < 0.9 * len(pts)
    r = np.linalg.norm(out.points, axis=1)
    assert np.isfinite(out.points).all() and r.min() >= cfg.range_filter.min_m - 1e-4
    assert r.max() <= cfg.range_filter.max_m + 1e-4
    assert occupancy_violations(out.points, cfg.voxel.size_m) == 0
    assert out.intensity.min() >= inten.min() and out.intensity.max() <= inten.max()


# --- the node on the headless bus ------------------------------------------------------------------


def _graph():
    g = Graph()
    node = g.add_node(LIDAR_PREPROCESSOR, LidarPreprocessorConfig(), remap={"points": "/lidar/points"})
    out, diags = [], []
    g.bus.subscribe("/points_filtered", "sensor_msgs/msg/PointCloud2", out.append)
    g.bus.subscribe("/diagnostics", "diagnostic_msgs/msg/DiagnosticArray", diags.append)
    return g, node, out, diags


def test_node_filters_and_keeps_stamp_and_frame() -> None:
    g, node, out, _ = _graph()
    pts = np.random.default_rng(4).uniform(-10, 10, size=(20_000, 3)).astype(np.float32)
    pts[::10] = np.nan
    msg = cloud_to_pointcloud2(_cloud(pts, intensity=np.ones(len(pts)), stamp=12.25), g.bus.factory)
    assert not msg.is_dense
    g.bus.publish("/lidar/points", msg)
    g.advance_to(0.1)
    [res] = out
    cloud = pointcloud2_to_cloud(res)
    assert cloud.stamp_s == pytest.approx(12.25) and cloud.frame_id == "lidar"
    assert res.is_dense and 0 < len(cloud) < 18_000
    m = node.host.metrics()
    assert m["nonfinite_points"] == 2000 and m["frames"] == 1 and m["points_out"] == len(cloud)


def test_node_survives_a_malformed_pointcloud2_and_reports_it() -> None:
    g, node, out, diags = _graph()
    f = g.bus.factory
    good = cloud_to_pointcloud2(_cloud(np.array([[3.0, 0, 0], [0, 4.0, 0]])), f)
    bad = cloud_to_pointcloud2(_cloud(np.array([[3.0, 0, 0], [0, 4.0, 0]])), f)
    bad.data = bad.data[:-5]  # data length no longer row_step * height
    no_xyz = f.new("sensor_msgs/msg/PointCloud2", height=1, width=0, point_step=4, row_step=0)
    for msg in (bad, no_xyz, good):
        g.bus.publish("/lidar/points", msg)
    g.advance_to(1.0)
    assert len(out) == 1 and len(pointcloud2_to_cloud(out[0])) == 2
    c = node.host.counters
    assert c["messages_rejected"] == 2 and c["handler_errors"] == 0
    status = diags[-1].status[0]
    assert int(status.level) == int(DiagLevel.WARN) and "rejected" in status.message
    assert "row_step" in status.message or "lacks field" in status.message
