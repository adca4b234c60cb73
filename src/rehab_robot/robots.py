"""Robot models: a planar 2-DoF end-effector robot (MIT-Manus-like) and a 1–2 DoF elbow/wrist exoskeleton.

Both are serial planar chains with rigid-body dynamics ``M(q) q̈ + c(q, q̇) + g(q) + B q̇ = τ``:

* :class:`PlanarRobot` — horizontal plane (no gravity), two revolute joints; task coordinates are the
  handle position ``[x, y]`` in metres in the base frame (x right, y forward, away from the patient).
* :class:`Exoskeleton` — sagittal plane with gravity; joint 0 is elbow flexion (0 = arm straight down,
  positive = flexion), optional joint 1 is wrist flexion; task coordinates are the joint angles (rad).

Hardware limits (:class:`~sanqin.rehab_robot.limits.Limits`) come with the model; a patient profile
can only narrow them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sanqin.rehab_robot.errors import KinematicsError
from sanqin.rehab_robot.limits import Limits

GRAVITY_M_S2 = 9.81


@dataclass(frozen=True)
class LinkParams:
    """One link: length (m), mass (kg), centre-of-mass distance from its joint (m), inertia about the COM (kg·m²)."""

    length_m: float
    mass_kg: float
    com_m: float
    inertia_kgm2: float


def _finite(name: str, v: np.ndarray, n: int) -> np.ndarray:
    a = np.asarray(v, float).reshape(-1)
    if a.shape != (n,):
        raise KinematicsError(f"{name} must have {n} elements, got shape {np.shape(v)}")
    if not np.isfinite(a).all():
        raise KinematicsError(f"{name} must be finite, got {a}")
    return a


@dataclass(frozen=True)
class SerialChain:
    """Planar serial chain of 1 or 2 revolute joints with viscous joint friction (N·m·s/rad)."""

    links: tuple[LinkParams, ...]
    damping_nms_rad: tuple[float, ...]
    gravity_m_s2: float = 0.0

    @property
    def n_joints(self) -> int:
        """Number of joints."""
        return len(self.links)

    def mass_matrix(self, q: np.ndarray) -> np.ndarray:
        """Joint-space inertia M(q) (kg·m²)."""
        q = _finite("q", q, self.n_joints)
        a = self.links[0]
        if self.n_joints == 1:
            return np.array([[a.mass_kg * a.com_m**2 + a.inertia_kgm2]])
        b = self.links[1]
        c2 = np.cos(q[1])
        m22 = b.mass_kg * b.com_m**2 + b.inertia_kgm2
        m12 = m22 + b.mass_kg * a.length_m * b.com_m * c2
        m11 = a.mass_kg * a.com_m**2 + a.inertia_kgm2 + b.mass_kg * (a.length_m**2 + 2 * a.length_m * b.com_m * c2)
        m11 += m22
        return np.array([[m11, m12], [m12, m22]])

    def bias(self, q: np.ndarray, qd: np.ndarray) -> np.ndarray:
        """Coriolis/centrifugal + gravity + viscous friction torques (N·m): the ``c + g + B q̇`` terms."""
        n = self.n_joints
        q = _finite("q", q, n)
        qd = _finite("qd", qd, n)
        tau = self.gravity(q) + np.asarray(self.damping_nms_rad) * qd
        if n == 2:
            a, b = self.links
            h = b.mass_kg * a.length_m * b.com_m * np.sin(q[1])
            tau = tau + np.array([-h * (2 * qd[0] * qd[1] + qd[1] ** 2), h * qd[0] ** 2])
        return tau

    def gravity(self, q: np.ndarray) -> np.ndarray:
        """Gravity torques (N·m) for a chain hanging along −z with angles measured from the vertical."""
        n = self.n_joints
        q = _finite("q", q, n)
        g = self.gravity_m_s2
        if g == 0.0:
            return np.zeros(n)
        a = self.links[0]
        if n == 1:
            return np.array([g * a.mass_kg * a.com_m * np.sin(q[0])])
        b = self.links[1]
        s12 = np.sin(q[0] + q[1])
        return np.array([
            g * ((a.mass_kg * a.com_m + b.mass_kg * a.length_m) * np.sin(q[0]) + b.mass_kg * b.com_m * s12),
            g * b.mass_kg * b.com_m * s12,
        ])

    def forward_dynamics(self, q: np.ndarray, qd: np.ndarray, tau: np.ndarray) -> np.ndarray:
        """Joint accelerations (rad/s²) under joint torques ``tau`` (N·m)."""
        tau = _finite("tau", tau, self.n_joints)
        return np.linalg.solve(self.mass_matrix(q), tau - self.bias(q, qd))


class PlanarRobot:
    """MIT-Manus-like planar end-effector robot; task coordinates = handle position [x, y] (m)."""

    name = "planar"
    n_task = 2

    def __init__(self, l1_m: float = 0.35, l2_m: float = 0.35, hardware: Limits | None = None) -> None:
        self.chain = SerialChain(
            (LinkParams(l1_m, 2.0, l1_m / 2, 0.02), LinkParams(l2_m, 1.5, l2_m / 2, 0.015)),
            damping_nms_rad=(0.05, 0.05),
        )
        self.l1_m, self.l2_m = l1_m, l2_m
        self.hardware = hardware or Limits(
            task_min=np.array([-0.25, 0.20]),
            task_max=np.array([0.25, 0.62]),
            max_speed=1.0,
            max_interaction=60.0,
            max_joint_torque_nm=np.array([30.0, 20.0]),
            task_unit="m",
        )

    @property
    def n_joints(self) -> int:
        """Number of actuated joints."""
        return 2

    def forward(self, q: np.ndarray) -> np.ndarray:
        """Handle position [x, y] (m) for joint angles q (rad; q0 from +x, q1 relative)."""
        q = _finite("q", q, 2)
        return np.array([
            self.l1_m * np.cos(q[0]) + self.l2_m * np.cos(q[0] + q[1]),
            self.l1_m * np.sin(q[0]) + self.l2_m * np.sin(q[0] + q[1]),
        ])

    def jacobian(self, q: np.ndarray) -> np.ndarray:
        """∂x/∂q (2×2, m/rad)."""
        q = _finite("q", q, 2)
        s1, c1 = np.sin(q[0]), np.cos(q[0])
        s12, c12 = np.sin(q[0] + q[1]), np.cos(q[0] + q[1])
        return np.array([
            [-self.l1_m * s1 - self.l2_m * s12, -self.l2_m * s12],
            [self.l1_m * c1 + self.l2_m * c12, self.l2_m * c12],
        ])

    def inverse(self, x: np.ndarray) -> np.ndarray:
        """Joint angles (rad) for handle position x (m), elbow on the right (q1 < 0 keeps the elbow out)."""
        x = _finite("x", x, 2)
        r2 = float(x @ x)
        c2 = (r2 - self.l1_m**2 - self.l2_m**2) / (2 * self.l1_m * self.l2_m)
        if not -1.0 < c2 < 1.0:
            raise KinematicsError(f"handle position {x} m is outside the reachable annulus")
        q1 = -np.arccos(c2)
        q0 = np.arctan2(x[1], x[0]) - np.arctan2(self.l2_m * np.sin(q1), self.l1_m + self.l2_m * np.cos(q1))
        return np.array([q0, q1])

    def task_velocity(self, q: np.ndarray, qd: np.ndarray) -> np.ndarray:
        """Handle velocity (m/s)."""
        return self.jacobian(q) @ _finite("qd", qd, 2)

    def joint_torque(self, q: np.ndarray, f_task: np.ndarray) -> np.ndarray:
        """Joint torques (N·m) that apply handle force ``f_task`` (N): τ = Jᵀ f."""
        return self.jacobian(q).T @ _finite("f_task", f_task, 2)

    def task_force(self, q: np.ndarray, tau: np.ndarray) -> np.ndarray:
        """Handle force (N) equivalent to joint torques τ (N·m): f = J⁻ᵀ τ."""
        return np.linalg.solve(self.jacobian(q).T, _finite("tau", tau, 2))

    def compensation(self, q: np.ndarray, qd: np.ndarray) -> np.ndarray:
        """Joint torques (N·m) cancelling friction (no gravity in the horizontal plane)."""
        return np.asarray(self.chain.damping_nms_rad) * _finite("qd", qd, 2)


class Exoskeleton:
    """Elbow (1 DoF) or elbow + wrist (2 DoF) exoskeleton; task coordinates = joint angles (rad)."""

    name = "exoskeleton"

    def __init__(self, n_joints: int = 1, hardware: Limits | None = None) -> None:
        if n_joints not in (1, 2):
            raise KinematicsError(f"exoskeleton has 1 or 2 joints, got {n_joints}")
        links = (LinkParams(0.30, 1.2, 0.15, 0.01), LinkParams(0.10, 0.4, 0.05, 0.001))[:n_joints]
        self.chain = SerialChain(links, damping_nms_rad=(0.1, 0.02)[:n_joints], gravity_m_s2=GRAVITY_M_S2)
        self._n = n_joints
        self.n_task = n_joints
        lo = np.array([0.0, -1.2])[:n_joints]
        hi = np.array([2.4, 1.2])[:n_joints]
        self.hardware = hardware or Limits(
            task_min=lo, task_max=hi, max_speed=3.0, max_interaction=15.0,
            max_joint_torque_nm=np.array([20.0, 5.0])[:n_joints], task_unit="rad",
        )

    @property
    def n_joints(self) -> int:
        """Number of actuated joints."""
        return self._n

    def forward(self, q: np.ndarray) -> np.ndarray:
        """Task coordinates = joint angles (rad)."""
        return _finite("q", q, self._n).copy()

    def jacobian(self, q: np.ndarray) -> np.ndarray:
        """Identity (task = joint space)."""
        _finite("q", q, self._n)
        return np.eye(self._n)

    def inverse(self, x: np.ndarray) -> np.ndarray:
        """Joint angles for task coordinates (identity)."""
        return _finite("x", x, self._n).copy()

    def task_velocity(self, q: np.ndarray, qd: np.ndarray) -> np.ndarray:
        """Joint velocities (rad/s)."""
        return _finite("qd", qd, self._n).copy()

    def joint_torque(self, q: np.ndarray, f_task: np.ndarray) -> np.ndarray:
        """Task torques are joint torques (N·m)."""
        return _finite("f_task", f_task, self._n).copy()

    def task_force(self, q: np.ndarray, tau: np.ndarray) -> np.ndarray:
        """Joint torques are task torques (N·m)."""
        return _finite("tau", tau, self._n).copy()

    def compensation(self, q: np.ndarray, qd: np.ndarray) -> np.ndarray:
        """Joint torques (N·m) cancelling the exoskeleton's own gravity and friction."""
        return self.chain.gravity(q) + np.asarray(self.chain.damping_nms_rad) * _finite("qd", qd, self._n)


def make_robot(kind: str) -> PlanarRobot | Exoskeleton:
    """Build a robot model by kind: ``planar``, ``exo_elbow`` (1 DoF) or ``exo_elbow_wrist`` (2 DoF)."""
    if kind == "planar":
        return PlanarRobot()
    if kind == "exo_elbow":
        return Exoskeleton(1)
    if kind == "exo_elbow_wrist":
        return Exoskeleton(2)
    raise KinematicsError(f"unknown robot kind {kind!r}; known: planar, exo_elbow, exo_elbow_wrist")


ROBOT_KINDS = ("planar", "exo_elbow", "exo_elbow_wrist")
Robot = PlanarRobot | Exoskeleton
