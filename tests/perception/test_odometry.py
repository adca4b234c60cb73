"""LiDAR–inertial–wheel odometry in a simulated cable tunnel, deskewing, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from sanqin.common.types import Pose
from sanqin.perception.errors import InvalidCloudError, OdometryError
from sanqin.perception.odometry import LidarOdometry, OdometryConfig, deskew
from sanqin.simulation.lidar import LidarConfig, LidarScene, LidarSimulator
from sanqin.simulation.worlds.tunnel import TunnelConfig, build_tunnel


@pytest.fixture(scope="module")
def tunnel():
    world = build_tunnel(TunnelConfig(length_m=60.0, joint_stations_m=(30.0,), joint_sides=("left",),
                                      joint_tiers=(1,), joint_cables=(0,), cart_station_m=20.0,
                                      ramp_start_m=(35.0,), ramp_length_m=(15.0,), ramp_grade=(0.05,)))
    return world, LidarScene(world.mesh, world.triangle_reflectivity())


def _run(tunnel, mode: str, distance: float = 40.0, wheel_scale: float = 1.01):
    world, scene = tunnel
    lc = LidarConfig(pattern="vlp16", horizontal_resolution_deg=0.5, mount_xyz_m=(0, 0, 0.6), max_range_m=40.0)
    sim = LidarSimulator(lc, scene, np.random.default_rng(1))
    odo = LidarOdometry(OdometryConfig(mode=mode, mount_xyz_m=(0.0, 0.0, 0.6)))
    rng = np.random.default_rng(2)
    v, t, s0 = 2.0, 0.0, 5.0
    s = s0

    def pose(st):
        pitch = -np.arctan(world.grade(st))
        return Pose([st, 0.0, world.floor_z(st)], Rotation.from_euler("xyz", [0, pitch, 0]).as_quat()), pitch

    prev, _ = pose(s)
    est = None
    while s < s0 + distance:
        for _ in range(10):
            t += 0.01
            s += v * 0.01
            _, pitch = pose(s)
            acc = Rotation.from_euler("xyz", [0, pitch, 0]).inv().apply([0, 0, 9.80665]) + rng.normal(0, 0.05, 3)
            odo.imu(np.array([0.001, -0.001, 0.002]) + rng.normal(0, 0.003, 3), acc, t)
            odo.wheel(v * wheel_scale + rng.normal(0, 0.02), 0.0, t)
        p, _ = pose(s)
        cloud = sim.scan(p, t, prev)
        prev = p
        est = odo.scan(cloud.points, t)
    truth = np.array([s - s0, 0.0, world.floor_z(s) - world.floor_z(s0)])
    return est, truth, odo


def test_fused_odometry_drifts_less_than_one_percent(tunnel) -> None:
    est, truth, odo = _run(tunnel, "wheel_imu_icp")
    err = np.linalg.norm(est.pose[:3, 3] - truth)
    assert err / truth[0] < 0.01  # the wheels alone are 1 % long
    assert odo.frames > 150


def test_icp_alone_is_worse_than_fusion_in_a_tunnel(tunnel) -> None:
    est_f, truth, _ = _run(tunnel, "wheel_imu_icp", distance=20.0)
    est_i, _, _ = _run(tunnel, "icp", distance=20.0)
    assert np.linalg.norm(est_i.pose[:3, 3] - truth) > np.linalg.norm(est_f.pose[:3, 3] - truth)


def test_deskew_undoes_a_constant_velocity_sweep() -> None:
    rng = np.random.default_rng(0)
    az = rng.uniform(-np.pi, np.pi, 500)
    world = np.stack([5 * np.cos(az), 5 * np.sin(az), rng.uniform(-1, 1, 500)], 1)  # points in end frame
    v = np.array([2.0, 0.0, 0.0])
    tau = (np.mod(az + np.pi, 2 * np.pi) / (2 * np.pi) - 1.0) * 0.1
    seen = world - tau[:, None] * v  # the sensor was -tau*v behind at each firing
    fixed = deskew(seen, v, np.zeros(3), 0.1, -np.pi)
    # Deskewing uses the measured azimuth, which moved slightly; the residual is second order.
    assert np.abs(fixed - world).max() < 0.01
    assert np.abs(seen - world).max() > 0.15


def test_bad_scans_and_wheel_values_raise_typed_errors() -> None:
    odo = LidarOdometry(OdometryConfig())
    with pytest.raises(InvalidCloudError, match="usable points"):
        odo.scan(np.zeros((0, 3)), 0.1)
    with pytest.raises(InvalidCloudError, match="usable points"):
        odo.scan(np.full((1000, 3), np.nan), 0.1)
    with pytest.raises(InvalidCloudError, match="usable points"):
        odo.scan(np.array([[3.0, 0.0, 0.0]]), 0.1)
    with pytest.raises(InvalidCloudError, match="shape"):
        odo.scan(np.zeros((10,)), 0.1)
    with pytest.raises(OdometryError, match="non-finite"):
        odo.wheel(float("nan"), 0.0, 0.1)
    with pytest.raises(OdometryError, match="stamp"):
        odo.scan(np.random.default_rng(0).uniform(-10, 10, (1000, 3)), float("nan"))
    assert odo.frames == 0


def test_two_million_point_cloud_is_thinned_to_the_cap() -> None:
    rng = np.random.default_rng(0)
    pts = rng.uniform(-30, 30, (2_000_000, 3)).astype(np.float32)
    odo = LidarOdometry(OdometryConfig(max_input_points=100_000))
    assert odo._clean(pts).shape[0] <= 100_000
    est = odo.scan(pts, 0.1)
    assert odo.frames == 1 and np.all(np.isfinite(est.pose))


@pytest.mark.parametrize(("gap_s", "expected_m"), [(0.8, 2.8), (1.6, 3.6), (3.0, 2.0)])
def test_a_wheel_odometry_dropout_is_bridged_not_lost(gap_s: float, expected_m: float) -> None:
    odo = LidarOdometry(OdometryConfig(max_wheel_gap_s=2.0))
    stamps = [0.02 * k for k in range(51)]  # 1 m at 1 m/s, a dropout, 1 m more
    stamps += [1.0 + gap_s + 0.02 * k for k in range(51)]
    for t in stamps:
        odo.wheel(1.0, 0.0, t)
    # Up to max_wheel_gap_s the dropout is bridged (it was skipped: 0.8 m lost for good along a tunnel
    # axis); a longer one is not integrated.
    assert odo.pose()[0, 3] == pytest.approx(expected_m, abs=1e-6)
    assert odo.wheel_gaps == 1


def test_registration_information_is_moved_from_the_sensor_to_base_link() -> None:
    from sanqin.perception.odometry import information_at_base
    from sanqin.perception.registration import apply_update

    rng = np.random.default_rng(0)
    mount = np.eye(4)
    mount[:3, 3] = (0.2, 0.0, 0.75)
    base = np.eye(4)
    base[:3, :3] = Rotation.from_euler("xyz", [0.05, -0.1, 0.7]).as_matrix()
    base[:3, 3] = (3.0, -1.0, 0.2)
    sensor = base @ mount
    lever = base[:3, :3] @ mount[:3, 3]
    # First-order map of a sensor perturbation [ω, δt] (about the sensor, map axes) to base_link's.
    jac = np.zeros((6, 6))
    for i in range(6):
        xi = np.zeros(6)
        xi[i] = 1e-6
        moved = apply_update(sensor, xi) @ np.linalg.inv(mount)
        jac[:3, i] = Rotation.from_matrix(moved[:3, :3] @ base[:3, :3].T).as_rotvec() / 1e-6
        jac[3:, i] = (moved[:3, 3] - base[:3, 3]) / 1e-6
    a = rng.normal(size=(6, 6))
    cov_sensor = a @ a.T + 0.1 * np.eye(6)
    info_base = information_at_base(np.linalg.inv(cov_sensor), lever)
    assert np.linalg.inv(info_base) == pytest.approx(jac @ cov_sensor @ jac.T, rel=1e-4, abs=1e-6)


def test_a_mecanum_base_strafing_sideways_is_predicted_sideways() -> None:
    odo = LidarOdometry(OdometryConfig())
    for k in range(101):  # 0.5 m/s to the left for 2 s (twist.linear.y of an omnidirectional base)
        t = 0.02 * k
        odo.imu(np.zeros(3), np.array([0.0, 0.0, 9.80665]), t)
        odo.wheel(0.0, 0.0, t, lateral_m_s=0.5)
    assert odo.pose()[:3, 3] == pytest.approx([0.0, 1.0, 0.0], abs=1e-6)
    assert odo.estimate(2.0).linear_m_s == pytest.approx([0.0, 0.5, 0.0])
    with pytest.raises(OdometryError, match="non-finite"):
        odo.wheel(0.0, 0.0, 2.1, lateral_m_s=float("nan"))
