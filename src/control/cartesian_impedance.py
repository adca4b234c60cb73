"""Cartesian impedance control at torque level: τ = Jᵀ(K e − D v) + bias + null-space posture.

The end effector behaves like a spring-damper around a target pose (per-axis stiffness and damping
ratio, selectable axes); by default the damping uses the robot's own task-space inertia ``Λ(q)``, so the
damping ratio means what it says on every axis (a virtual mass far above a light wrist's inertia would
make an explicit discrete-time damper unstable). Coriolis and gravity are compensated with MuJoCo's bias forces and the
posture task acts through the dynamically consistent null-space projector. Torques are saturated
per joint and rate-limited; every cycle passes through the shared safety layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sanqin.control.arm_base import ArmControllerBase, per_joint, posture_of
from sanqin.control.command import JointCommand
from sanqin.control.gains import CartesianGains
from sanqin.control.limits import RateLimiter
from sanqin.control.nullspace import NullSpaceConfig, dynamic_null_space_projector, posture_torque
from sanqin.control.robot_model import RobotModel, RobotModelConfig, orientation_error
from sanqin.control.safety import SafetyConfig
from sanqin.runtime.config import nested, param
from sanqin.runtime.errors import ConfigError


@dataclass(frozen=True)
class CartesianImpedanceConfig:
    """Cartesian impedance controller parameters."""

    robot: RobotModelConfig = nested(RobotModelConfig)
    gains: CartesianGains = nested(CartesianGains)
    null_space: NullSpaceConfig = nested(NullSpaceConfig)
    safety: SafetyConfig = nested(SafetyConfig)
    max_torque_nm: tuple[float, ...] = param((150.0, 150.0, 150.0, 28.0, 28.0, 28.0), "per-joint torque cap", min=0.0)
    max_torque_rate_nm_s: float = param(2000.0, "torque slew-rate cap (N·m/s, vector norm)", min=1.0)
    max_position_error_m: float = param(0.05, "pose error clip before the spring (m)", min=1e-4)
    max_orientation_error_rad: float = param(0.3, "orientation error clip (rad)", min=1e-4)
    brake_damping_nms: float = param(20.0, "joint damping of the safe stop (N·m·s/rad)", min=0.0)
    damping_from: str = param(
        "task_inertia", "damping d = 2ζ√(k·m) with m the robot's task-space inertia Λ(q) or the gains' virtual mass",
        choices=("task_inertia", "virtual_mass"),
    )


class CartesianImpedanceController(ArmControllerBase):
    """Torque-level Cartesian impedance over a MuJoCo robot model."""

    def __init__(self, config: CartesianImpedanceConfig, model: RobotModel | None = None) -> None:
        model = model or RobotModel.from_config(config.robot)
        super().__init__(model, config.safety, None)
        self.config = config
        self.m, self.k, self.d, self.sel = config.gains.arrays()
        self.k = np.where(self.sel, self.k, 0.0)
        self.d = np.where(self.sel, self.d, 0.0)
        self.zeta = np.asarray(config.gains.damping_ratio, float)
        self.tau_max = per_joint(config.max_torque_nm, self.n, "max_torque_nm")
        self.rate = RateLimiter(config.max_torque_rate_nm_s)
        self.target: tuple[np.ndarray, np.ndarray] | None = None
        self.posture = posture_of(config.null_space.posture, self.n)

    def check_sampled_stability(self, period_s: float, q: np.ndarray | None = None) -> None:
        """Refuse gains a ``period_s`` control loop cannot realise: ω·T ≥ 1 or 2ζω·T ≥ 1.5 on an axis (at ``q``)."""
        model = self.model
        model.update(model.reference_configuration() if q is None else q)
        lam = np.clip(np.diag(model.task_inertia()), 1e-12, None)
        omega = np.sqrt(self.k / lam)
        d = 2.0 * self.zeta * np.sqrt(self.k * lam) if self.config.damping_from == "task_inertia" else self.d
        bad = [f"{ax} (ωT={w * period_s:.2f}, dT/Λ={dd * period_s / li:.2f})"
               for ax, w, dd, li, s in zip(("x", "y", "z", "rx", "ry", "rz"), omega, d, lam, self.sel)
               if s and (w * period_s >= 1.0 or dd * period_s / li >= 1.5)]
        if bad:
            raise ConfigError(
                f"cartesian impedance gains unstable at a {period_s * 1e3:.2g} ms control period on axes {bad}: "
                "lower the stiffness/damping, raise the rate, or give the drives' armature"
            )

    def set_target(self, position_m: np.ndarray, rotation: np.ndarray) -> None:
        """Target pose of the end-effector site (world frame; rotation matrix)."""
        self.target = (np.asarray(position_m, float).copy(), np.asarray(rotation, float).copy())

    def step(self, t_s: float, q: np.ndarray, qd: np.ndarray) -> JointCommand:
        """One control cycle: joint state in, joint torques out (or the safe brake)."""
        q, qd = self.check_state(q, qd)
        verdict = self.safety.assess(t_s, q=q, extra=(qd,))
        if not verdict.allowed:
            cmd = self.brake_torque(verdict, q, qd, self.config.brake_damping_nms, self.tau_max)
            self.rate.reset(cmd.effort)
            return cmd
        model = self.model
        model.update(q, qd)
        p, R = model.site_pose()
        if self.target is None:
            self.set_target(p, R)
        if self.posture is None:
            self.posture = q.copy()
        J = model.jacobian()
        v = J @ qd
        e = np.empty(6)
        e[:3] = self.target[0] - p
        e[3:] = orientation_error(R, self.target[1])
        ne = np.linalg.norm(e[:3])
        if ne > self.config.max_position_error_m:
            e[:3] *= self.config.max_position_error_m / ne
        no = np.linalg.norm(e[3:])
        if no > self.config.max_orientation_error_rad:
            e[3:] *= self.config.max_orientation_error_rad / no
        M = model.mass_matrix()
        Minv = np.linalg.inv(M)
        lam = np.linalg.inv(J @ Minv @ J.T + 1e-9 * np.eye(6))
        if self.config.damping_from == "task_inertia":
            lam_d = np.clip(np.diag(lam), 0.0, None)
            d = np.where(self.k > 0, 2.0 * self.zeta * np.sqrt(self.k * lam_d), 2.0 * self.zeta * lam_d)
            d = np.where(self.sel, d, 0.0)
        else:
            d = self.d
        lin, ang = v[:3], v[3:]
        lin_l, ang_l = self.safety.limit_twist(lin, ang)
        if lin_l is not lin or ang_l is not ang:
            wrench = -d * v  # over the speed cap: brake instead of pulling to the target
        else:
            wrench = self.k * e - d * v
        tau = J.T @ wrench + model.bias_forces()
        N = dynamic_null_space_projector(J, M, Minv=Minv, task_inertia=lam)
        tau += posture_torque(self.config.null_space, self.posture, q, qd, N)
        tau = np.clip(tau, -self.tau_max, self.tau_max)
        tau = self.rate.step(tau, self.safety.dt_s)
        if not self.safety.check_output(tau):
            return self.brake_torque(verdict, q, qd, self.config.brake_damping_nms, self.tau_max)
        self.q_hold = q
        return JointCommand(model.joint_names, np.zeros(0), np.zeros(0), tau, False, self.safety.state,
                            self.safety.reasons)
