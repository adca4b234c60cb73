"""Pose filter (wheel + IMU + LiDAR information) and the IMU attitude filter."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from sanqin.perception.attitude import GRAVITY_M_S2, AttitudeConfig, AttitudeFilter
from sanqin.perception.errors import ImuSampleError
from sanqin.perception.fusion import FusionConfig, PoseFilter, wrap


def _drive(f: PoseFilter, dist: float, steps: int = 100) -> None:
    for _ in range(steps):
        f.predict(dist / steps, 0.0, 0.0, 0.01)


def _meas(x, y, z, yaw):
    m = np.eye(4)
    m[:3, :3] = Rotation.from_euler("z", yaw).as_matrix()
    m[:3, 3] = (x, y, z)
    return m


def test_degenerate_axis_keeps_the_prediction_while_observable_axes_are_corrected() -> None:
    f = PoseFilter(FusionConfig())
    _drive(f, 10.0)
    assert f.s[0] == pytest.approx(10.0)
    info = np.diag([1e4, 1e4, 1e4, 0.0, 1e5, 1e5])  # [ωx ωy ωz tx ty tz]: no information along x
    res = f.correct(_meas(12.0, 0.3, 0.05, 0.02), info)
    assert res.accepted and res.observable_dims == 3
    assert f.s[0] == pytest.approx(10.0, abs=1e-9)  # x untouched (the tunnel axis)
    assert f.s[1] == pytest.approx(0.3, abs=0.02)
    assert 0.01 < f.s[3] < 0.04  # pulled toward the measured yaw (and by the y offset it implies)
    assert f.p[0, 0] > f.p[1, 1] * 10


def test_full_information_pulls_every_axis_and_outliers_are_gated() -> None:
    f = PoseFilter(FusionConfig(gate_chi2=20.0))
    _drive(f, 5.0)
    info = np.eye(6) * 1e5
    assert f.correct(_meas(5.1, 0.05, 0.0, 0.0), info).accepted
    assert f.s[0] == pytest.approx(5.1, abs=0.02)
    bad = f.correct(_meas(25.0, 10.0, 0.0, 1.0), info)
    assert not bad.accepted and bad.chi2 > 20.0
    assert f.s[0] == pytest.approx(5.1, abs=0.02)


def test_prediction_follows_pitch_on_a_ramp() -> None:
    f = PoseFilter(FusionConfig())
    f.set_attitude(0.0, -np.arctan(0.1))  # nose up (REP-103: negative pitch climbs)
    _drive(f, 10.0)
    assert f.s[2] == pytest.approx(10.0 * np.sin(np.arctan(0.1)), abs=1e-6)


def test_wrap() -> None:
    assert wrap(3 * np.pi) == pytest.approx(-np.pi)
    assert wrap(0.5) == 0.5


def _imu_run(filt: AttitudeFilter, seconds: float, tilt_rpy, bias, rate=200, seed=0):
    rng = np.random.default_rng(seed)
    r = Rotation.from_euler("xyz", tilt_rpy)
    acc = r.inv().apply([0, 0, GRAVITY_M_S2])
    t = 0.0
    for _ in range(int(seconds * rate)):
        t += 1.0 / rate
        filt.update(bias + rng.normal(0, 0.002, 3), acc + rng.normal(0, 0.03, 3), t)
    return t


def test_static_tilt_converges_and_gyro_bias_is_estimated() -> None:
    f = AttitudeFilter(AttitudeConfig())
    bias = np.array([0.01, -0.008, 0.005])
    _imu_run(f, 30.0, (0.1, -0.05, 0.0), bias)
    roll, pitch, _ = f.roll_pitch_yaw()
    assert (roll, pitch) == pytest.approx((0.1, -0.05), abs=0.005)
    assert f.bias_rad_s == pytest.approx(bias, abs=0.002)


def test_body_rates_are_composed_in_the_body_frame_while_tilted() -> None:
    # Constant body rates about x and z from a tilted start: R(t) = R0 · exp(ω t). A world-frame composition
    # (exp(ω t) · R0) or a wrong quaternion order would miss by tens of degrees.
    f = AttitudeFilter(AttitudeConfig(kp=0.0, ki=0.0, rest_samples=10**6))
    r0 = Rotation.from_euler("xyz", [0.3, -0.2, 1.0])
    w = np.array([0.4, 0.0, 0.6])
    rate = 400
    f.update(np.zeros(3), r0.inv().apply([0, 0, GRAVITY_M_S2]), 0.0)  # initialise roll/pitch from gravity
    f.q_xyzw = r0.as_quat()  # and take the true yaw
    for k in range(1, 2 * rate + 1):
        t = k / rate
        f.update(w, (r0 * Rotation.from_rotvec(w * t)).inv().apply([0, 0, GRAVITY_M_S2]), t)
    truth = r0 * Rotation.from_rotvec(w * 2.0)
    err = (f.rotation * truth.inv()).magnitude()
    assert err < 1e-6


def test_nan_samples_are_rejected_and_time_jumps_restart_integration() -> None:
    f = AttitudeFilter(AttitudeConfig())
    t = _imu_run(f, 1.0, (0.0, 0.0, 0.0), np.zeros(3))
    q = f.q_xyzw.copy()
    with pytest.raises(ImuSampleError, match="non-finite"):
        f.update([np.nan, 0, 0], [0, 0, 9.8], t + 0.005)
    assert f.rejected == 1 and np.array_equal(f.q_xyzw, q)
    f.update([0.0, 0.0, 5.0], [0, 0, GRAVITY_M_S2], t + 100.0)  # 100 s gap: no 500 rad spin
    assert f.time_jumps == 1
    assert np.allclose(f.q_xyzw, q, atol=1e-9)
    f.update([0.0, 0.0, 5.0], [0, 0, GRAVITY_M_S2], t + 99.0)  # backwards
    assert f.time_jumps == 2


def test_wheel_scale_is_learned_where_the_lidar_sees_motion_and_used_where_it_does_not() -> None:
    f = PoseFilter(FusionConfig())
    full = np.eye(6) * 1e5
    degenerate_x = np.diag([1e4, 1e4, 1e4, 0.0, 1e5, 1e5])
    true_x = 0.0
    for _ in range(30):  # wheels read 4 % long; the LiDAR sees the true position every metre
        for _ in range(10):
            f.predict(0.1 * 1.04, 0.0, 0.0, 0.05)
            true_x += 0.1
        f.correct(_meas(true_x, 0.0, 0.0, 0.0), full)
    assert f.s[4] == pytest.approx(1 / 1.04, abs=0.01)
    start_err = f.s[0] - true_x
    for _ in range(50):  # 50 m of featureless tunnel: x comes from the calibrated wheels only
        for _ in range(10):
            f.predict(0.1 * 1.04, 0.0, 0.0, 0.05)
            true_x += 0.1
        f.correct(_meas(true_x + 3.0, 0.0, 0.0, 0.0), degenerate_x)  # x of the measurement carries no weight
    assert abs((f.s[0] - true_x) - start_err) < 0.5  # < 1 % of 50 m, although the wheels are 4 % off
