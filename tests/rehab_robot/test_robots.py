"""Robot kinematics and dynamics agree with themselves and with basic physics."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.rehab_robot.errors import KinematicsError
from sanqin.rehab_robot.robots import Exoskeleton, make_robot


def test_planar_fk_ik_jacobian_round_trip() -> None:
    r = make_robot("planar")
    for x in ([0.0, 0.4], [0.15, 0.3], [-0.2, 0.55]):
        q = r.inverse(np.array(x))
        assert r.forward(q) == pytest.approx(x, abs=1e-12)
        eps = 1e-7
        num = np.column_stack([(r.forward(q + eps * e) - r.forward(q - eps * e)) / (2 * eps) for e in np.eye(2)])
        assert r.jacobian(q) == pytest.approx(num, abs=1e-6)
        f = np.array([3.0, -2.0])
        assert r.task_force(q, r.joint_torque(q, f)) == pytest.approx(f)
    with pytest.raises(KinematicsError, match="reachable"):
        r.inverse(np.array([0.0, 0.9]))
    with pytest.raises(KinematicsError, match="finite"):
        r.forward(np.array([np.nan, 0.0]))


def test_dynamics_mass_matrix_is_symmetric_positive_and_energy_is_conserved() -> None:
    r = make_robot("planar")
    chain = r.chain
    q = np.array([0.5, -1.2])
    M = chain.mass_matrix(q)
    assert np.allclose(M, M.T) and np.all(np.linalg.eigvalsh(M) > 0)
    # frictionless free motion conserves kinetic energy (RK4, 1 ms)
    from dataclasses import replace
    free = replace(chain, damping_nms_rad=(0.0, 0.0))
    qd = np.array([1.0, -2.0])
    e0 = 0.5 * qd @ free.mass_matrix(q) @ qd
    dt = 1e-3
    for _ in range(500):
        def f(s):
            return np.concatenate([s[2:], free.forward_dynamics(s[:2], s[2:], np.zeros(2))])
        s = np.concatenate([q, qd])
        k1 = f(s); k2 = f(s + dt / 2 * k1); k3 = f(s + dt / 2 * k2); k4 = f(s + dt * k3)  # noqa: E702
        s = s + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        q, qd = s[:2], s[2:]
    assert 0.5 * qd @ free.mass_matrix(q) @ qd == pytest.approx(e0, rel=1e-6)


def test_exoskeleton_gravity_and_compensation() -> None:
    exo = Exoskeleton(1)
    assert exo.chain.gravity(np.array([0.0])) == pytest.approx([0.0])
    tau_90 = exo.chain.gravity(np.array([np.pi / 2]))[0]
    assert tau_90 == pytest.approx(9.81 * 1.2 * 0.15)
    # compensation holds the arm still
    q, qd = np.array([1.0]), np.zeros(1)
    assert exo.chain.forward_dynamics(q, qd, exo.compensation(q, qd)) == pytest.approx([0.0], abs=1e-12)
    two = make_robot("exo_elbow_wrist")
    assert two.n_joints == 2 and two.hardware.task_unit == "rad"
    with pytest.raises(KinematicsError):
        make_robot("hexapod")
