"""Cartesian impedance on the torque-driven UR5e: holds, tracks, complies with K, brakes safely."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.control.cartesian_impedance import CartesianImpedanceConfig, CartesianImpedanceController
from sanqin.runtime.config import load_config
from sanqin.runtime.errors import ConfigError


def _ctrl(ur5e, **params) -> CartesianImpedanceController:
    cfg = load_config(CartesianImpedanceConfig, {"safety": {"max_force_n": 500.0}, **params})
    return CartesianImpedanceController(cfg, ur5e)


def _run(sim, ctrl, n, force=None):
    for _ in range(n):
        t = sim.d.time
        ctrl.safety.observe("joint_states", t, t, sim.d.qpos, sim.d.qvel)
        cmd = ctrl.step(t, sim.d.qpos.copy(), sim.d.qvel.copy())
        if force is not None:
            sim.d.xfrc_applied[sim.body, :3] = force
        sim.step(cmd.effort)
    return cmd


def test_tracks_a_pose_step_and_complies_with_the_configured_stiffness(ur5e, torque_sim) -> None:
    ctrl = _ctrl(ur5e)
    cmd = _run(torque_sim, ctrl, 10)
    assert not cmd.safe_stop
    ur5e.update(torque_sim.d.qpos)
    p0, R0 = ur5e.site_pose()
    ctrl.set_target(p0 + np.array([0.03, 0.0, -0.02]), R0)
    _run(torque_sim, ctrl, 1000)
    ur5e.update(torque_sim.d.qpos)
    p1, _ = ur5e.site_pose()
    assert np.linalg.norm(p1 - (p0 + [0.03, 0, -0.02])) < 0.003
    _run(torque_sim, ctrl, 1500, force=np.array([0.0, 0.0, 16.0]))  # 16 N up at the flange body
    ur5e.update(torque_sim.d.qpos)
    p2, _ = ur5e.site_pose()
    assert (p2 - p1)[2] == pytest.approx(16.0 / 800.0, rel=0.3)  # K_z = 800 N/m


def test_dropout_brakes_with_gravity_compensation(ur5e, torque_sim) -> None:
    ctrl = _ctrl(ur5e, **{"safety": {"watchdog_timeout_s": 0.005}})
    _run(torque_sim, ctrl, 20)
    q0 = torque_sim.d.qpos.copy()
    stops = []
    for _ in range(200):  # joint states stop arriving
        t = torque_sim.d.time
        cmd = ctrl.step(t, torque_sim.d.qpos.copy(), torque_sim.d.qvel.copy())
        stops.append(cmd.safe_stop)
        torque_sim.step(cmd.effort)
    assert stops.index(True) <= 3
    assert np.abs(torque_sim.d.qpos - q0).max() < 0.02  # braked with gravity held: no fall


def test_unselected_axes_are_free(ur5e, torque_sim) -> None:
    ctrl = _ctrl(ur5e, **{"gains": {"selected_axes": [True, True, False, True, True, True]}})
    assert ctrl.k[2] == 0.0 and ctrl.d[2] == 0.0 and ctrl.k[0] > 0
    _run(torque_sim, ctrl, 10)
    ur5e.update(torque_sim.d.qpos)
    p0, R0 = ur5e.site_pose()
    ctrl.set_target(p0 + np.array([0.0, 0.0, 0.03]), R0)  # off the current pose along the unselected z only
    cmd = _run(torque_sim, ctrl, 1000)
    ur5e.update(torque_sim.d.qpos)
    assert not cmd.safe_stop and abs(ur5e.site_pose()[0][2] - p0[2]) < 1e-3  # no spring pulls along z (a selected
    # z moves the full 30 mm in these 1000 cycles: the law in step(), not just the gain arrays, leaves z free)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"gains": {"mass": [0.0, 5, 5, 1, 1, 1]}}, "mass must be > 0"),
        ({"gains": {"mass": [-1.0, 5, 5, 1, 1, 1]}}, "mass must be > 0"),
        ({"gains": {"damping_ratio": [1, 1, 0.0, 1, 1, 1]}}, "damping_ratio must be > 0"),
        ({"gains": {"damping_ratio": [1, 1, -0.5, 1, 1, 1]}}, "damping_ratio must be > 0"),
        ({"gains": {"stiffness": [100.0, 100.0]}}, "needs 6 values"),
        ({"gains": {"stiffness": [-1.0, 1, 1, 1, 1, 1]}}, "stiffness must be >= 0"),
    ],
)
def test_unstable_gains_rejected_at_load(params, match) -> None:
    with pytest.raises(ConfigError, match=match):
        load_config(CartesianImpedanceConfig, params)


def test_brake_is_stable_on_the_bare_model_without_drive_inertia(ur5e) -> None:
    """Without reflected rotor inertia the wrists weigh grams: the brake must still stop, not oscillate."""
    import mujoco

    from sanqin.control.robot_model import RobotModel

    m = ur5e.model
    d = mujoco.MjData(m)
    d.qpos[:] = [-1.5708, -1.5708, 1.5708, -1.5708, -1.5708, 0.0]
    d.qvel[:] = [0.0, 0.0, 0.0, 0.5, 0.5, 2.0]
    m.actuator_gainprm[:, 0] = 0.0  # the model's position servos off: only our torque acts
    m.actuator_biasprm[:, 1:3] = 0.0
    ctrl = _ctrl(RobotModel(m, "attachment_site"), **{"safety": {"watchdog_timeout_s": 0.001}})
    for _ in range(400):  # no joint states arrive → brake every cycle
        t = d.time
        cmd = ctrl.step(t, d.qpos.copy(), d.qvel.copy())
        assert cmd.safe_stop
        d.qfrc_applied[:] = cmd.effort
        mujoco.mj_step(m, d)
    assert np.abs(d.qvel).max() < 0.05


def test_shipped_impedance_node_config_is_sampled_stable_and_stiffer_is_not(ur5e_path) -> None:
    from sanqin.runtime.params import load_node_config
    from sanqin.runtime.paths import share_dir
    from sanqin.runtime.registry import get_node_spec

    spec = get_node_spec("cartesian_impedance")
    path = share_dir() / "config" / "cartesian_impedance.yaml"
    over = {"robot": {"model_path": str(ur5e_path)}}
    spec.component(load_node_config(spec.config, path, "cartesian_impedance", overrides=over))  # builds
    stiff = {**over, "gains": {"stiffness": [800.0, 800.0, 800.0, 60.0, 60.0, 200000.0]}}
    with pytest.raises(ConfigError, match="rz"):
        spec.component(load_node_config(spec.config, path, "cartesian_impedance", overrides=stiff))


def test_posture_of_the_wrong_size_is_rejected_at_construction(ur5e) -> None:
    with pytest.raises(ConfigError, match="posture needs 6"):
        _ctrl(ur5e, null_space={"posture": [0.0, 0.0, 0.0]})


def test_a_wrench_given_to_a_controller_without_an_ft_input_is_a_typed_refusal(ur5e) -> None:
    from sanqin.control.errors import InvalidInputError

    ctrl = _ctrl(ur5e)
    with pytest.raises(InvalidInputError, match="no F/T sensor input"):
        ctrl.on_wrench(0.0, 0.0, np.zeros(3), np.zeros(3))
    assert set(ctrl.safety.channels) == {"joint_states"}  # no wrench channel for the watchdog to wait on
