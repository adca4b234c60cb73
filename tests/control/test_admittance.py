"""Cartesian admittance: force → compliant offset K⁻¹F, filtering, limits and safe stops each cycle."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.control.admittance import AdmittanceConfig, AdmittanceController
from sanqin.runtime.config import load_config
from sanqin.runtime.errors import ConfigError

from .control_fixtures import HOME

DT = 0.002


def _ctrl(ur5e, **params) -> AdmittanceController:
    base = {"wrench": {"force_deadband_n": 0.5}, "safety": {"watchdog_timeout_s": 0.007}}
    for k, v in params.items():
        base[k] = {**base.get(k, {}), **v} if isinstance(v, dict) else v
    return AdmittanceController(load_config(AdmittanceConfig, base), ur5e)


def _cycle(ctrl, t, q, f=(0.0, 0.0, 0.0), feed=True):
    if feed:
        ctrl.on_joint_states(t, t, q, np.zeros(6))
        ctrl.on_wrench(t, t, np.asarray(f, float), np.zeros(3))
    return ctrl.step(t, q, np.zeros(6))


def _closed_loop(ctrl, n, f, q=None, t0=0.0):
    """Ideal position tracking: the measured joints follow the command each cycle."""
    q = HOME.copy() if q is None else q
    t = t0
    cmd = None
    for _ in range(n):
        t += DT
        cmd = _cycle(ctrl, t, q, f)
        if cmd.position.size:
            q = cmd.position.copy()
    return q, t, cmd


def test_steady_offset_is_force_over_stiffness(ur5e) -> None:
    ctrl = _ctrl(ur5e, gains={"stiffness": [500.0, 500, 500, 50, 50, 50]})
    q0, t, _ = _closed_loop(ctrl, 5, (0, 0, 0))
    ur5e.update(q0)
    p0, R0 = ur5e.site_pose()
    f_world = np.array([10.0, 0.0, 0.0])
    f_sensor = R0.T @ f_world
    q, t, cmd = _closed_loop(ctrl, 3000, f_sensor, q0, t)
    ur5e.update(q)
    p, _ = ur5e.site_pose()
    assert not cmd.safe_stop and cmd.velocity.shape == (6,)
    # deadband 0.5 N → effective 9.5 N; 9.5/500 = 19 mm along +x only
    assert p - p0 == pytest.approx([0.019, 0.0, 0.0], abs=1e-3)


def test_unselected_axis_does_not_move(ur5e) -> None:
    ctrl = _ctrl(ur5e, gains={"selected_axes": [False, True, True, True, True, True]})
    q0, t, _ = _closed_loop(ctrl, 5, (0, 0, 0))
    ur5e.update(q0)
    p0, R0 = ur5e.site_pose()
    q, _, _ = _closed_loop(ctrl, 500, R0.T @ np.array([20.0, 0, 0]), q0, t)
    ur5e.update(q)
    assert abs(ur5e.site_pose()[0][0] - p0[0]) < 1e-4


def test_speed_limit_caps_compliant_motion(ur5e) -> None:
    ctrl = _ctrl(ur5e, gains={"stiffness": [0.0] * 6, "mass": [0.5] * 6},
                 safety={"max_linear_speed_m_s": 0.05, "max_force_n": 1000.0, "max_power_w": 1000.0})
    q0, t, _ = _closed_loop(ctrl, 5, (0, 0, 0))
    ur5e.update(q0)
    _, R0 = ur5e.site_pose()
    q, t, cmd = _closed_loop(ctrl, 300, R0.T @ np.array([0, 200.0, 0]), q0, t)
    ur5e.update(q)
    J = ur5e.jacobian()
    assert np.linalg.norm((J @ cmd.velocity)[:3]) <= 0.05 * 1.02
    assert ctrl.safety.counters["limited_cycles"] > 0


def test_nan_wrench_holds_position_in_the_same_cycle(ur5e) -> None:
    ctrl = _ctrl(ur5e)
    q, t, _ = _closed_loop(ctrl, 10, (0, 0, 2.0))
    t += DT
    ctrl.on_joint_states(t, t, q, np.zeros(6))
    assert not ctrl.on_wrench(t, t, np.array([np.nan, 0, 0]), np.zeros(3))
    cmd = ctrl.step(t, q, np.zeros(6))
    assert cmd.safe_stop and cmd.position == pytest.approx(q) and not cmd.velocity.any()


def test_force_spike_latches_and_holds(ur5e) -> None:
    ctrl = _ctrl(ur5e, safety={"max_force_n": 100.0})
    q, t, _ = _closed_loop(ctrl, 10, (0, 0, 0))
    t += DT
    cmd = _cycle(ctrl, t, q, (0, 0, 400.0))
    assert cmd.safe_stop and cmd.state.value == "estop"
    _, t, cmd = _closed_loop(ctrl, 10, (0, 0, 0), q, t)
    assert cmd.safe_stop  # latched until reset
    assert ctrl.safety.reset(t)[0]
    _, _, cmd = _closed_loop(ctrl, 3, (0, 0, 0), q, t)
    assert not cmd.safe_stop


def test_sensor_dropout_and_clock_jumps(ur5e) -> None:
    ctrl = _ctrl(ur5e)
    q, t, _ = _closed_loop(ctrl, 10, (0, 0, 0))
    outs = []
    for _ in range(6):
        t += DT
        ctrl.on_joint_states(t, t, q, np.zeros(6))  # the F/T sensor is silent
        outs.append(ctrl.step(t, q, np.zeros(6)).safe_stop)
    assert outs.index(True) <= 4
    _, t, cmd = _closed_loop(ctrl, 3, (0, 0, 0), q, t)
    assert not cmd.safe_stop
    cmd = _cycle(ctrl, t - 2.0, q)  # clock jumped backwards
    assert cmd.safe_stop and any("backwards" in r for r in cmd.reasons)
    cmd = _cycle(ctrl, t + 100.0, q)  # and far forwards
    assert cmd.safe_stop and any("forwards" in r for r in cmd.reasons)


def test_joint_limit_hit_stops(ur5e) -> None:
    ctrl = _ctrl(ur5e)
    q, t, _ = _closed_loop(ctrl, 5, (0, 0, 0))
    q_bad = q.copy()
    q_bad[2] = 3.2  # elbow range is ±3.1415
    cmd = _cycle(ctrl, t + DT, q_bad)
    assert cmd.safe_stop and "joint 2" in cmd.reasons[0]


def test_output_acceleration_is_limited(ur5e) -> None:
    ctrl = _ctrl(ur5e, max_joint_accel_rad_s2=4.0,
                 gains={"stiffness": [0.0] * 6, "mass": [1.0] * 6},
                 safety={"max_force_n": 1000.0, "max_power_w": 1000.0})
    q = HOME.copy()
    t = 0.0
    vels = []
    for _ in range(200):
        t += DT
        cmd = _cycle(ctrl, t, q, (80.0, 40.0, 0.0))
        q = cmd.position.copy()
        vels.append(cmd.velocity)
    steps = np.linalg.norm(np.diff(np.asarray(vels), axis=0), axis=1)
    assert steps.max() <= 4.0 * DT + 1e-9 and np.abs(vels[-1]).max() > 0.05


def test_null_space_posture_on_a_redundant_arm_keeps_the_tool_still() -> None:
    import mujoco

    from sanqin.control.robot_model import RobotModel

    from .test_robot_model import REDUNDANT

    model = RobotModel(mujoco.MjModel.from_xml_string(REDUNDANT), "ee")
    q0 = np.array([0.1, 0.4, -0.3, 0.8, 0.2, -0.5, 0.3])
    posture = q0 + np.array([0.3, -0.2, 0.3, 0.0, 0.2, 0.0, -0.2])
    cfg = load_config(AdmittanceConfig, {"null_space": {"stiffness": 2.0, "posture": list(posture)},
                                         "safety": {"watchdog_timeout_s": 0.007}})
    ctrl = AdmittanceController(cfg, model)
    model.update(q0)
    p0, _ = model.site_pose()
    q, t = q0.copy(), 0.0
    for _ in range(1500):
        t += DT
        ctrl.on_joint_states(t, t, q, np.zeros(7))
        ctrl.on_wrench(t, t, np.zeros(3), np.zeros(3))
        q = ctrl.step(t, q, np.zeros(7)).position.copy()
    model.update(q)
    assert np.linalg.norm(model.site_pose()[0] - p0) < 1e-3  # the tool stayed put
    # one redundant DoF: the self-motion can only remove the posture error's component along it
    assert np.linalg.norm(q - posture) < 0.95 * np.linalg.norm(q0 - posture)
    assert np.linalg.norm(q - q0) > 0.05


def test_power_cap_pairs_force_and_velocity_in_the_same_frame(ur5e) -> None:
    # at HOME the sensor frame is diag(1, -1, -1) in the world: a push along world (1, 1, 0) reads (1, -1, 0)
    ctrl = _ctrl(ur5e, gains={"stiffness": [0.0] * 6, "mass": [0.5] * 6},
                 safety={"max_force_n": 1000.0, "max_power_w": 2.0})
    q0, t, _ = _closed_loop(ctrl, 5, (0, 0, 0))
    ur5e.update(q0)
    _, R0 = ur5e.site_pose()
    f_world = np.array([100.0, 100.0, 0.0])
    q, t, cmd = _closed_loop(ctrl, 300, R0.T @ f_world, q0, t)
    ur5e.update(q)
    v = (ur5e.jacobian() @ cmd.velocity)[:3]
    assert abs(float(f_world @ v)) <= 2.0 * 1.05 and np.linalg.norm(v) > 1e-3
    assert ctrl.safety.counters["limited_cycles"] > 0


def test_offset_bound_stops_the_outward_velocity(ur5e) -> None:
    ctrl = _ctrl(ur5e, max_offset_m=0.01, gains={"stiffness": [0.0] * 6, "mass": [0.5] * 6},
                 safety={"max_force_n": 1000.0, "max_power_w": 1000.0})
    q0, t, _ = _closed_loop(ctrl, 5, (0, 0, 0))
    ur5e.update(q0)
    _, R0 = ur5e.site_pose()
    _closed_loop(ctrl, 200, R0.T @ np.array([30.0, 0.0, 0.0]), q0, t)
    assert np.linalg.norm(ctrl.x[:3]) == pytest.approx(0.01)
    assert float(ctrl.xd[:3] @ ctrl.x[:3]) <= 1e-12  # no velocity left that pushes past the bound


def test_posture_of_the_wrong_size_is_rejected_at_construction(ur5e) -> None:
    with pytest.raises(ConfigError, match="posture needs 6"):
        _ctrl(ur5e, null_space={"posture": [0.0] * 7})
