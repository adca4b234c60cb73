"""Joint impedance on the torque-driven UR5e and its config checks."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.control.errors import InvalidInputError
from sanqin.control.joint_impedance import JointImpedanceConfig, JointImpedanceController
from sanqin.runtime.config import load_config
from sanqin.runtime.errors import ConfigError


def test_converges_to_a_joint_target_and_rejects_nan(ur5e, torque_sim) -> None:
    params = {"stiffness_nm_rad": [200.0, 200.0, 200.0, 10.0, 10.0, 2.0]}
    ctrl = JointImpedanceController(load_config(JointImpedanceConfig, params), ur5e)
    target = torque_sim.d.qpos + np.array([0.1, -0.1, 0.1, 0.0, 0.1, 0.0])
    ctrl.set_target(target)
    for _ in range(1500):
        t = torque_sim.d.time
        ctrl.safety.observe("joint_states", t, t, torque_sim.d.qpos)
        torque_sim.step(ctrl.step(t, torque_sim.d.qpos.copy(), torque_sim.d.qvel.copy()).effort)
    assert np.abs(torque_sim.d.qpos - target).max() < 0.01
    t = torque_sim.d.time
    q = torque_sim.d.qpos.copy()
    q[2] = np.nan
    cmd = ctrl.step(t, q, torque_sim.d.qvel.copy())
    assert cmd.safe_stop and np.all(np.isfinite(cmd.effort))


def test_bad_joint_gains_rejected() -> None:
    with pytest.raises(ConfigError, match="damping_ratio"):
        load_config(JointImpedanceConfig, {"damping_ratio": [0.0]})
    with pytest.raises(ConfigError, match="stiffness"):
        load_config(JointImpedanceConfig, {"stiffness_nm_rad": [-5.0]})


def test_per_joint_length_checked(ur5e) -> None:
    with pytest.raises(ConfigError, match="one per joint"):
        JointImpedanceController(load_config(JointImpedanceConfig, {"stiffness_nm_rad": [1.0, 2.0]}), ur5e)


def test_gains_a_sampled_loop_cannot_realise_are_rejected(ur5e) -> None:
    ctrl = JointImpedanceController(load_config(JointImpedanceConfig, {}), ur5e)  # 200 N·m/rad on every joint
    with pytest.raises(ConfigError, match="wrist_3"):
        ctrl.check_sampled_stability(0.002)  # the bare wrist 3 weighs 1.3e-4 kg·m²
    soft = JointImpedanceController(
        load_config(JointImpedanceConfig, {"stiffness_nm_rad": [200.0, 200.0, 200.0, 10.0, 10.0, 2.0]}), ur5e)
    soft.check_sampled_stability(0.001)


def test_target_outside_the_joint_limits_or_non_finite_is_refused(ur5e) -> None:
    ctrl = JointImpedanceController(load_config(JointImpedanceConfig, {}), ur5e)
    good = np.array([-1.5708, -1.5708, 1.5708, -1.5708, -1.5708, 0.0])
    ctrl.set_target(good)
    beyond = good.copy()
    beyond[2] = 3.2  # the elbow's range is ±π: the spring would press it into the end stop
    with pytest.raises(InvalidInputError, match="elbow"):
        ctrl.set_target(beyond)
    with pytest.raises(InvalidInputError, match="finite"):
        ctrl.set_target(np.full(6, np.nan))
    with pytest.raises(InvalidInputError, match="6 finite"):
        ctrl.set_target(good[:5])
    assert ctrl.target == pytest.approx(good)  # the last good target stays
