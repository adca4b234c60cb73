"""Joint-space impedance at torque level: τ = K (q_ref − q) − D q̇ + g(q), D = 2ζ√(K·M_ii(q))."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sanqin.control.arm_base import ArmControllerBase, per_joint
from sanqin.control.command import JointCommand
from sanqin.control.errors import InvalidInputError
from sanqin.control.robot_model import RobotModel, RobotModelConfig
from sanqin.control.safety import SafetyConfig
from sanqin.runtime.config import nested, param, require
from sanqin.runtime.errors import ConfigError


@dataclass(frozen=True)
class JointImpedanceConfig:
    """Joint impedance parameters (one value for all joints, or one per joint)."""

    robot: RobotModelConfig = nested(RobotModelConfig)
    safety: SafetyConfig = nested(SafetyConfig)
    stiffness_nm_rad: tuple[float, ...] = param((200.0,), "joint stiffness (N·m/rad), >= 0")
    damping_ratio: tuple[float, ...] = param((1.0,), "joint damping ratio, > 0")
    max_torque_nm: tuple[float, ...] = param((150.0, 150.0, 150.0, 28.0, 28.0, 28.0), "per-joint torque cap", min=0.0)
    brake_damping_nms: float = param(20.0, "joint damping of the safe stop (N·m·s/rad)", min=0.0)

    def __post_init__(self) -> None:
        require(all(k >= 0 for k in self.stiffness_nm_rad), "stiffness_nm_rad must be >= 0")
        require(all(z > 0 for z in self.damping_ratio), "damping_ratio must be > 0 on every joint (unstable otherwise)")


class JointImpedanceController(ArmControllerBase):
    """Torque-level joint impedance with model-based gravity compensation and inertia-scaled damping."""

    def __init__(self, config: JointImpedanceConfig, model: RobotModel | None = None) -> None:
        model = model or RobotModel.from_config(config.robot)
        super().__init__(model, config.safety, None)
        self.config = config
        self.k = per_joint(config.stiffness_nm_rad, self.n, "stiffness_nm_rad")
        self.zeta = per_joint(config.damping_ratio, self.n, "damping_ratio")
        self.tau_max = per_joint(config.max_torque_nm, self.n, "max_torque_nm")
        self.target: np.ndarray | None = None

    def check_sampled_stability(self, period_s: float, q: np.ndarray | None = None) -> None:
        """Refuse gains a ``period_s`` loop cannot realise: √(K/M_jj)·T ≥ 1 on a joint (at ``q``)."""
        self.model.update(self.model.reference_configuration() if q is None else q)
        m_ii = np.diag(self.model.mass_matrix())
        wt = np.sqrt(self.k / m_ii) * period_s
        bad = [f"{n} (ωT={w:.2f})" for n, w in zip(self.model.joint_names, wt) if w >= 1.0]
        if bad:
            raise ConfigError(
                f"joint impedance stiffness unstable at a {period_s * 1e3:.2g} ms control period on {bad}: "
                "lower it, raise the rate, or give the drives' armature"
            )

    def set_target(self, q_ref: np.ndarray) -> None:
        """Joint target (rad / m); non-finite, wrongly sized or outside the joint limits raises InvalidInputError.

        A target beyond a limit would have the spring press the joint into its end stop (and latch the
        safety layer's joint-limit e-stop), so it is refused and the previous target kept.
        """
        q_ref = np.asarray(q_ref, float).reshape(-1)
        if q_ref.size != self.n or not np.all(np.isfinite(q_ref)):
            raise InvalidInputError(f"joint target needs {self.n} finite values, got {q_ref.tolist()}")
        m = self.config.safety.joint_limit_margin
        outside = np.nonzero((q_ref < self.model.lower + m) | (q_ref > self.model.upper - m))[0]
        if outside.size:
            j = int(outside[0])
            raise InvalidInputError(
                f"joint target {q_ref[j]:.4f} for {self.model.joint_names[j]} outside its limits "
                f"[{self.model.lower[j]:.4f}, {self.model.upper[j]:.4f}] less the {m:g} margin"
            )
        self.target = q_ref.copy()

    def step(self, t_s: float, q: np.ndarray, qd: np.ndarray) -> JointCommand:
        """One cycle: joint state in, torques out (or the safe brake)."""
        q, qd = self.check_state(q, qd)
        verdict = self.safety.assess(t_s, q=q, extra=(qd,))
        if not verdict.allowed:
            return self.brake_torque(verdict, q, qd, self.config.brake_damping_nms, self.tau_max)
        if self.target is None:
            self.target = q.copy()  # hold where the arm is (it may sit inside the margin band)
        self.model.update(q, qd)
        m_ii = np.diag(self.model.mass_matrix())
        d = 2.0 * self.zeta * np.sqrt(self.k * m_ii)
        qd_lim = self.safety.limit_joint_velocity(qd, q)
        brake = 0.0 if qd_lim is qd else self.config.brake_damping_nms * (qd - qd_lim)
        tau = self.k * (self.target - q) - d * qd - brake + self.model.bias_forces()
        tau = np.clip(tau, -self.tau_max, self.tau_max)
        if not self.safety.check_output(tau):
            return self.brake_torque(verdict, q, qd, self.config.brake_damping_nms, self.tau_max)
        self.q_hold = q
        return JointCommand(self.model.joint_names, np.zeros(0), np.zeros(0), tau, False, self.safety.state,
                            self.safety.reasons)
