"""The MuJoCo robot-model wrapper against finite differences and MuJoCo's own forward pass."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from sanqin.control.errors import RobotModelError
from sanqin.control.nullspace import dls_pinv, dynamic_null_space_projector, null_space_projector
from sanqin.control.robot_model import RobotModel, load_mjcf, orientation_error, rotvec_to_matrix

from .control_fixtures import HOME


def test_jacobian_matches_finite_differences(ur5e: RobotModel) -> None:
    q = HOME + np.array([0.1, -0.2, 0.3, 0.1, 0.2, -0.1])
    ur5e.update(q)
    p0, R0 = ur5e.site_pose()
    J = ur5e.jacobian()
    eps = 1e-6
    for j in range(6):
        dq = np.zeros(6)
        dq[j] = eps
        ur5e.update(q + dq)
        p1, R1 = ur5e.site_pose()
        assert (p1 - p0) / eps == pytest.approx(J[:3, j], abs=1e-5)
        assert orientation_error(R0, R1) / eps == pytest.approx(J[3:, j], abs=1e-5)


def test_dynamics_match_mujoco_forward(ur5e: RobotModel, ur5e_path) -> None:
    m = mujoco.MjModel.from_xml_path(str(ur5e_path))
    d = mujoco.MjData(m)
    q, qd = HOME + 0.2, np.linspace(-0.5, 0.5, 6)
    d.qpos[:], d.qvel[:] = q, qd
    mujoco.mj_forward(m, d)
    ur5e.update(q, qd)
    M = ur5e.mass_matrix()
    assert ur5e.bias_forces() == pytest.approx(d.qfrc_bias, abs=1e-9)
    assert np.allclose(M, M.T) and np.all(np.linalg.eigvalsh(M) > 0)
    assert ur5e.gravity(q)[1] == pytest.approx(d.qfrc_bias[1], rel=0.2)  # gravity dominates at low speed


def test_missing_or_broken_model_is_a_typed_error(tmp_path) -> None:
    with pytest.raises(RobotModelError, match="not found"):
        load_mjcf(tmp_path / "nope.xml")
    bad = tmp_path / "bad.xml"
    bad.write_text("<mujoco><worldbody><body></mujoco>")
    with pytest.raises(RobotModelError, match="cannot load"):
        load_mjcf(bad)


def test_unknown_site_or_joint_rejected(ur5e_path) -> None:
    m = mujoco.MjModel.from_xml_path(str(ur5e_path))
    with pytest.raises(RobotModelError, match="site"):
        RobotModel(m, "nope")
    with pytest.raises(RobotModelError, match="joint"):
        RobotModel(m, "attachment_site", ("shoulder_pan", "nope"))


def test_rotation_helpers_round_trip() -> None:
    rv = np.array([0.2, -0.4, 0.7])
    assert orientation_error(np.eye(3), rotvec_to_matrix(rv)) == pytest.approx(rv)


REDUNDANT = """
<mujoco><worldbody><body name="b0">
  <joint name="j0" axis="0 0 1"/><geom type="capsule" fromto="0 0 0 0 0 .3" size=".03"/>
  <body pos="0 0 .3"><joint name="j1" axis="0 1 0"/><geom type="capsule" fromto="0 0 0 .3 0 0" size=".03"/>
  <body pos=".3 0 0"><joint name="j2" axis="0 0 1"/><geom type="capsule" fromto="0 0 0 .3 0 0" size=".03"/>
  <body pos=".3 0 0"><joint name="j3" axis="0 1 0"/><geom type="capsule" fromto="0 0 0 .2 0 0" size=".03"/>
  <body pos=".2 0 0"><joint name="j4" axis="1 0 0"/><geom type="capsule" fromto="0 0 0 .1 0 0" size=".03"/>
  <body pos=".1 0 0"><joint name="j5" axis="0 1 0"/><geom type="capsule" fromto="0 0 0 .1 0 0" size=".03"/>
  <body pos=".1 0 0"><joint name="j6" axis="1 0 0"/><geom type="sphere" size=".03"/>
  <site name="ee" pos=".05 0 0"/>
  </body></body></body></body></body></body></body></worldbody></mujoco>
"""


def test_null_space_projectors_leave_the_end_effector_still() -> None:
    model = RobotModel(mujoco.MjModel.from_xml_string(REDUNDANT), "ee")
    assert model.n == 7
    q = np.array([0.1, 0.4, -0.3, 0.8, 0.2, -0.5, 0.3])
    model.update(q)
    J, M = model.jacobian(), model.mass_matrix()
    N = null_space_projector(J, dls_pinv(J, 0.0))
    z = N @ np.arange(7.0)
    assert np.linalg.norm(J @ z) < 1e-9 and np.linalg.norm(z) > 0.1
    Nd = dynamic_null_space_projector(J, M)
    tau = Nd @ np.arange(7.0)
    # a null-space torque produces no end-effector acceleration: J M⁻¹ τ = 0
    assert np.linalg.norm(J @ np.linalg.solve(M, tau)) < 1e-8
