"""Simulated LiDAR against analytic scenes: ranges, noise, dropouts, limits, frames, motion skew, self-hits."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import open3d as o3d
import pytest
from scipy.spatial.transform import Rotation

from sanqin.common.types import Pose
from sanqin.runtime.config import load_config
from sanqin.runtime.errors import ConfigError
from sanqin.simulation.errors import SensorError
from sanqin.simulation.lidar import LidarConfig, LidarScene, LidarSimulator, mount_matrix, pose_to_matrix

ROOM_LO = np.array([-10.0, -8.0, -3.0])
ROOM_HI = np.array([10.0, 8.0, 5.0])


@pytest.fixture(scope="module")
def room() -> LidarScene:
    box = o3d.geometry.TriangleMesh.create_box(*(ROOM_HI - ROOM_LO))
    box.translate(ROOM_LO)
    return LidarScene(box, default_reflectivity=0.5)


def _ideal(**kw) -> LidarConfig:
    """A LiDAR with no noise, no dropouts, no intensity threshold, mounted at base_link; beams every 4°."""
    base = {
        "pattern": "uniform", "channels": 15, "vertical_fov_min_deg": -28.0, "vertical_fov_max_deg": 28.0,
        "horizontal_resolution_deg": 1.0, "range_noise_sigma_m": 0.0, "dropout_probability": 0.0,
        "min_intensity": 0.0, "mount_xyz_m": (0.0, 0.0, 0.0), "motion_distortion": False,
    }
    base.update(kw)
    return LidarConfig(**base)


def _room_range(origin: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    """Analytic distance from an inside point to the room walls along unit directions."""
    with np.errstate(divide="ignore"):
        t = np.where(dirs > 0, (ROOM_HI - origin) / dirs, (ROOM_LO - origin) / dirs)
    t = np.where(dirs == 0, np.inf, t)
    return t.min(axis=1)


def _sim(cfg: LidarConfig, scene: LidarScene, seed: int = 0) -> LidarSimulator:
    return LidarSimulator(cfg, scene, np.random.default_rng(seed))


def test_ranges_match_the_analytic_box_room(room: LidarScene) -> None:
    sim = _sim(_ideal(), room)
    cloud = sim.scan(Pose(np.array([1.0, -2.0, 0.5])), 1.0)
    assert len(cloud) == sim.rays_per_scan == 15 * 360
    assert cloud.points.dtype == np.float32 and cloud.intensity.dtype == np.float32
    r = np.linalg.norm(cloud.points.astype(np.float64), axis=1)
    expected = _room_range(np.array([1.0, -2.0, 0.5]), cloud.points / r[:, None])
    np.testing.assert_allclose(r, expected, atol=2e-3)


def test_beam_patterns_and_columns() -> None:
    assert LidarConfig(pattern="vlp32c").elevations_rad().size == 32
    assert LidarConfig(pattern="os1_64").elevations_rad().size == 64
    np.testing.assert_allclose(np.degrees(LidarConfig(pattern="vlp16").elevations_rad()), np.arange(-15, 16, 2))
    assert LidarConfig(horizontal_resolution_deg=0.2).columns == 1800
    custom = LidarConfig(pattern="custom", vertical_angles_deg=(-10.0, 0.0, 10.0))
    np.testing.assert_allclose(np.degrees(custom.elevations_rad()), [-10, 0, 10])


def test_config_is_validated_at_load() -> None:
    with pytest.raises(ConfigError, match="max_range_m"):
        load_config(LidarConfig, {"min_range_m": 5.0, "max_range_m": 1.0})
    with pytest.raises(ConfigError, match="vertical_angles_deg"):
        load_config(LidarConfig, {"pattern": "custom"})
    with pytest.raises(ConfigError, match="not one of"):
        load_config(LidarConfig, {"pattern": "hdl128"})
    with pytest.raises(ConfigError, match="inside its own self box"):
        load_config(LidarConfig, {"self_box_min_m": [-1, -1, 0], "self_box_max_m": [1, 1, 1]})
    with pytest.raises(ConfigError, match="above the maximum"):
        load_config(LidarConfig, {"dropout_probability": 1.5})


def test_range_noise_is_unbiased_with_the_configured_sigma(room: LidarScene) -> None:
    sigma = 0.05
    sim = _sim(_ideal(range_noise_sigma_m=sigma, horizontal_resolution_deg=0.25), room, seed=11)
    origin = np.zeros(3)
    res = []
    for k in range(3):
        cloud = sim.scan(Pose(origin), float(k))
        r = np.linalg.norm(cloud.points.astype(np.float64), axis=1)
        res.append(r - _room_range(origin, cloud.points / r[:, None]))
    err = np.concatenate(res)
    assert err.size > 60_000
    assert abs(err.mean()) < 0.002
    assert err.std() == pytest.approx(sigma, rel=0.03)


def test_dropout_rate(room: LidarScene) -> None:
    sim = _sim(_ideal(dropout_probability=0.2, horizontal_resolution_deg=0.25), room, seed=3)
    cloud = sim.scan(Pose(), 0.1)
    kept = len(cloud) / sim.rays_per_scan
    assert kept == pytest.approx(0.8, abs=0.012)
    assert sim.last_stats.dropped == sim.rays_per_scan - len(cloud)


def test_no_returns_beyond_max_range_or_below_min_range_and_never_nan(room: LidarScene) -> None:
    sim = _sim(_ideal(min_range_m=3.5, max_range_m=8.0, range_noise_sigma_m=0.02), room)
    cloud = sim.scan(Pose(), 0.1)
    r = np.linalg.norm(cloud.points, axis=1)
    assert np.isfinite(cloud.points).all() and np.isfinite(cloud.intensity).all()
    assert r.min() >= 3.5 and r.max() <= 8.0
    assert sim.last_stats.out_of_range > 0 and len(cloud) < sim.rays_per_scan
    # An open scene: rays that hit nothing give no point at all.
    plane = o3d.geometry.TriangleMesh.create_box(20.0, 20.0, 0.01).translate((-10.0, -10.0, -1.01))
    sky = _sim(_ideal(), LidarScene(plane))
    c = sky.scan(Pose(), 0.0)
    assert np.isfinite(c.points).all() and np.all(c.points[:, 2] < 0) and sky.last_stats.no_hit > 0


def test_points_are_in_the_sensor_frame_after_a_pose_change(room: LidarScene) -> None:
    cfg = _ideal(mount_xyz_m=(0.1, 0.0, 0.5), mount_rpy_rad=(0.0, 0.0, 0.0))
    sim = _sim(cfg, room)
    yaw90 = Pose(np.array([0.0, 0.0, 0.0]), Rotation.from_euler("z", 90, degrees=True).as_quat())
    cloud = sim.scan(yaw90, 2.0)
    # The sensor looks along world +y from (0, 0.1, 0.5): straight ahead is the wall at y = 8.
    horiz = np.abs(cloud.points[:, 2]) < 0.05
    ahead = horiz & (np.abs(cloud.points[:, 1]) < 0.07) & (cloud.points[:, 0] > 0)
    assert np.any(ahead)
    np.testing.assert_allclose(cloud.points[ahead, 0], 7.9, atol=0.01)
    # Its right (-y in the sensor frame) is world +x: the wall at x = 10.
    right = horiz & (np.abs(cloud.points[:, 0]) < 0.07) & (cloud.points[:, 1] < 0)
    np.testing.assert_allclose(cloud.points[right, 1], -10.0, atol=0.01)
    # Every point put back into the world with base pose and mount lies on the room's surface.
    world_from_lidar = pose_to_matrix(yaw90) @ mount_matrix(cfg)
    world = cloud.points @ world_from_lidar[:3, :3].T + world_from_lidar[:3, 3]
    assert room.distance(world).max() < 2e-3


def test_motion_distortion_casts_each_column_from_its_firing_pose(room: LidarScene) -> None:
    cfg = _ideal(channels=1, vertical_fov_min_deg=0.0, vertical_fov_max_deg=0.0, horizontal_resolution_deg=0.5)
    start, end = Pose(np.array([-0.5, 0.0, 0.0])), Pose(np.array([0.5, 0.0, 0.0]))
    skewed = _sim(replace(cfg, motion_distortion=True), room).scan(end, 1.0, start)
    rigid = _sim(cfg, room).scan(end, 1.0, start)
    # Columns start behind the sensor (azimuth -180°): the first one fires from the start pose.
    assert -skewed.points[0, 0] == pytest.approx(9.5, abs=0.02)
    assert -rigid.points[0, 0] == pytest.approx(10.5, abs=0.01)
    # Straight ahead fires half way through the sweep, from x = 0.
    ahead = np.argmin(np.abs(np.arctan2(skewed.points[:, 1], skewed.points[:, 0])))
    assert skewed.points[ahead, 0] == pytest.approx(10.0, abs=0.02)


def test_self_box_returns_from_the_robot_body(room: LidarScene) -> None:
    cfg = _ideal(mount_xyz_m=(0.0, 0.0, 0.8), self_box_min_m=(-0.5, -0.4, 0.0), self_box_max_m=(0.5, 0.4, 0.6))
    sim = _sim(cfg, room)
    cloud = sim.scan(Pose(), 0.0)
    assert sim.last_stats.self_hits > 0
    body = np.linalg.norm(cloud.points, axis=1) < 1.5
    assert np.count_nonzero(body) == sim.last_stats.self_hits  # every self-hit is a returned point
    base = cloud.points[body] + np.array([0.0, 0.0, 0.8])
    assert np.all(np.abs(base[:, 2] - 0.6) < 1e-3)  # on the body's top face


def test_intensity_follows_reflectivity_and_incidence(room: LidarScene) -> None:
    cfg = _ideal(intensity_scale=100.0)
    cloud = _sim(cfg, room).scan(Pose(), 0.0)
    assert cloud.intensity.max() <= 50.0 + 1e-3  # reflectivity 0.5 head-on
    horiz = np.abs(cloud.points[:, 2]) < 0.05
    head_on = horiz & (np.abs(cloud.points[:, 1]) < 0.1) & (cloud.points[:, 0] > 0)
    assert cloud.intensity[head_on].min() > 49.0
    grazing = horiz & (np.abs(cloud.points[:, 1]) > 7.9) & (np.abs(cloud.points[:, 0]) > 8.0)
    assert cloud.intensity[grazing].max() < 40.0
    # Weak (grazing, dark) returns are lost below min_intensity.
    weak = _sim(replace(cfg, min_intensity=30.0), room)
    weak.scan(Pose(), 0.0)
    assert weak.last_stats.too_weak > 0


def test_per_triangle_reflectivity(room: LidarScene) -> None:
    box = o3d.geometry.TriangleMesh.create_box(*(ROOM_HI - ROOM_LO)).translate(ROOM_LO)
    box.compute_triangle_normals()
    refl = np.where(np.asarray(box.triangle_normals)[:, 0] > 0.5, 0.9, 0.1)  # the +x wall is bright
    cloud = _sim(_ideal(), LidarScene(box, refl)).scan(Pose(), 0.0)
    forward = np.abs(cloud.points[:, 0] - 10.0) < 1e-3
    assert forward.any() and cloud.intensity[forward].min() > 2 * cloud.intensity[~forward].max()


def test_scene_and_pose_errors(room: LidarScene) -> None:
    box = o3d.geometry.TriangleMesh.create_box()
    with pytest.raises(SensorError, match="reflectivity"):
        LidarScene(box, np.ones(3))
    with pytest.raises(SensorError, match="no triangles"):
        LidarScene(o3d.geometry.TriangleMesh())
    sim = _sim(_ideal(), room)
    with pytest.raises(SensorError, match="invalid pose"):
        sim.scan(Pose(np.array([np.nan, 0.0, 0.0])), 0.0)
    with pytest.raises(SensorError, match="invalid pose"):
        sim.scan(Pose(orientation_xyzw=np.zeros(4)), 0.0)


def test_same_seed_same_scan(room: LidarScene) -> None:
    cfg = _ideal(range_noise_sigma_m=0.03, dropout_probability=0.1)
    a = _sim(cfg, room, seed=9).scan(Pose(), 0.0)
    b = _sim(cfg, room, seed=9).scan(Pose(), 0.0)
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.intensity, b.intensity)


def test_ring_and_time_fields_in_the_velodyne_layout(room: LidarScene) -> None:
    from sanqin.msgs.factory import default_factory
    from sanqin.msgs.pointcloud import pointcloud2_to_cloud, pointcloud2_to_table, structured_to_pointcloud2

    cfg = _ideal(rate_hz=10.0, dropout_probability=0.3)
    sim = _sim(cfg, room)
    scan = sim.scan_fields(Pose(), 5.0)
    assert scan.ring.dtype == np.uint16 and scan.ring.max() == 14 and scan.ring.min() == 0
    assert -0.1 < scan.time_s.min() < -0.099 and scan.time_s.max() == 0.0
    # Ring k is the k-th elevation; time grows with azimuth from -180°.
    elev = np.arcsin(scan.cloud.points[:, 2] / np.linalg.norm(scan.cloud.points, axis=1))
    np.testing.assert_allclose(elev, cfg.elevations_rad()[scan.ring], atol=1e-5)
    az = np.arctan2(scan.cloud.points[:, 1], scan.cloud.points[:, 0])
    np.testing.assert_allclose(scan.time_s, (az + np.pi) / (2 * np.pi) * 0.1 - 0.1, atol=0.1 / 360)
    f = default_factory()
    msg = f.deserialize(f.serialize(structured_to_pointcloud2(scan.to_structured(), 5.0, "lidar", f)),
                        "sensor_msgs/msg/PointCloud2")
    assert msg.point_step == 22 and [fld.name for fld in msg.fields][-2:] == ["ring", "time"]
    table, _ = pointcloud2_to_table(msg, ("ring", "time"))
    np.testing.assert_array_equal(table[:, 0], scan.ring)
    back = pointcloud2_to_cloud(msg)
    np.testing.assert_array_equal(back.points, scan.cloud.points)
    np.testing.assert_array_equal(back.intensity, scan.cloud.intensity)
