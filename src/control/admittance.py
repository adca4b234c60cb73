"""Cartesian admittance control at position/velocity level: M ẍ + D ẋ + K x = F_ext, then differential IK.

The measured wrench (sensor frame = end-effector site frame) is conditioned by
:class:`~sanqin.control.wrench_filter.WrenchFilter` (tool gravity, tare, low-pass, deadband), rotated
to the world frame and drives a per-axis virtual mass-spring-damper whose state ``x`` offsets a
reference pose. A closed-loop damped-least-squares IK on the *commanded* joint positions (as
ros2_controllers' admittance controller does with its reference state) turns the compliant pose
into joint position and velocity targets for a position or velocity interface. Null-space posture
uses the remaining redundancy. Every cycle passes through the shared safety layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sanqin.control.arm_base import ArmControllerBase, posture_of
from sanqin.control.command import JointCommand
from sanqin.control.errors import ControlError
from sanqin.control.gains import CartesianGains
from sanqin.control.limits import RateLimiter
from sanqin.control.nullspace import NullSpaceConfig, dls_pinv, null_space_projector, posture_velocity
from sanqin.control.robot_model import RobotModel, RobotModelConfig, orientation_error, rotvec_to_matrix
from sanqin.control.safety import SafetyConfig
from sanqin.control.wrench_filter import WrenchFilterConfig
from sanqin.runtime.config import nested, param


@dataclass(frozen=True)
class AdmittanceConfig:
    """Cartesian admittance controller parameters."""

    robot: RobotModelConfig = nested(RobotModelConfig)
    gains: CartesianGains = nested(CartesianGains)
    wrench: WrenchFilterConfig = nested(WrenchFilterConfig)
    null_space: NullSpaceConfig = nested(NullSpaceConfig)
    safety: SafetyConfig = nested(SafetyConfig)
    ik_damping: float = param(0.02, "damped least-squares λ (m)", min=0.0)
    ik_gain_1_s: float = param(20.0, "closed-loop IK gain on the pose error (1/s)", min=0.0)
    max_dt_s: float = param(0.01, "integration step cap (s); longer gaps integrate as this", min=1e-4)
    max_offset_m: float = param(0.15, "admittance offset bound, translation (m)", min=0.0)
    max_offset_rad: float = param(0.5, "admittance offset bound, rotation (rad)", min=0.0)
    max_joint_accel_rad_s2: float = param(8.0, "joint acceleration cap of the output (rad/s², uniform scaling)",
                                          min=1e-3)


class AdmittanceController(ArmControllerBase):
    """Position/velocity-level Cartesian admittance over a MuJoCo robot model."""

    def __init__(self, config: AdmittanceConfig, model: RobotModel | None = None) -> None:
        model = model or RobotModel.from_config(config.robot)
        super().__init__(model, config.safety, config.wrench)
        self.config = config
        self.m, self.k, self.d, self.sel = config.gains.arrays()
        self.x = np.zeros(6)
        self.xd = np.zeros(6)
        self.ref: tuple[np.ndarray, np.ndarray] | None = None
        self.ref_twist = np.zeros(6)
        self.q_cmd: np.ndarray | None = None
        self.posture = posture_of(config.null_space.posture, self.n)
        self.qd_rate = RateLimiter(config.max_joint_accel_rad_s2, initial=np.zeros(self.n))
        self._was_stopped = True

    # --- inputs -------------------------------------------------------------------------------------
    def set_reference(self, position_m: np.ndarray, rotation: np.ndarray, twist: np.ndarray | None = None) -> None:
        """Reference pose of the site (world) and its feed-forward twist (m/s, rad/s)."""
        self.ref = (np.asarray(position_m, float).copy(), np.asarray(rotation, float).copy())
        self.ref_twist = np.zeros(6) if twist is None else np.asarray(twist, float).copy()

    def reset_state(self, q: np.ndarray) -> None:
        """Re-synchronise the commanded state to the measured joints (after a stop)."""
        self.q_cmd = q.copy()
        self.xd[:] = 0.0
        self.filter.reset()
        self.qd_rate.reset(np.zeros(self.n))

    # --- cycle --------------------------------------------------------------------------------------
    def step(self, t_s: float, q: np.ndarray, qd: np.ndarray | None = None) -> JointCommand:
        """One cycle with the latest joint state and the last registered wrench."""
        q, qd = self.check_state(q, qd)
        model = self.model
        verdict, R, f_c = self.assess_with_wrench(t_s, q, qd)
        if not verdict.allowed:
            self._was_stopped = True
            self.xd[:] = 0.0
            if self.q_hold is None and np.all(np.isfinite(q)):
                self.q_hold = q.copy()
            return self.hold_position(verdict)
        if self._was_stopped or self.q_cmd is None:
            self.reset_state(q)
            self._was_stopped = False
        dt = min(self.safety.dt_s, self.config.max_dt_s)
        f_s, t_s_ = self.filter.step(*self.wrench_s, R, dt)
        F = np.concatenate((R @ f_s, R @ t_s_))
        self._integrate(F, dt)
        # the power cap pairs the contact force with the commanded tool velocity: both in the world frame
        qd_cmd = self.qd_rate.step(self._ik(dt, R @ f_c), dt)  # acceleration limit, then the safety caps last
        qd_cmd = self.safety.limit_joint_velocity(qd_cmd, self.q_cmd)
        self.qd_rate.value = qd_cmd.copy()
        q_next = self.q_cmd + qd_cmd * dt
        if not self.safety.check_output(q_next, qd_cmd):
            return self.hold_position(verdict)
        self.q_cmd = q_next
        self.q_hold = q_next
        return JointCommand(model.joint_names, q_next.copy(), qd_cmd, np.zeros(0), False,
                            self.safety.state, self.safety.reasons)

    def _integrate(self, F: np.ndarray, dt: float) -> None:
        acc = (F - self.d * self.xd - self.k * self.x) / self.m
        self.xd = np.where(self.sel, self.xd + acc * dt, 0.0)
        self.x = np.where(self.sel, self.x + self.xd * dt, 0.0)
        for sl, bound in ((slice(0, 3), self.config.max_offset_m), (slice(3, 6), self.config.max_offset_rad)):
            n = float(np.linalg.norm(self.x[sl]))
            if n > bound:
                radial = self.x[sl] / n  # unit vector
                self.x[sl] = radial * bound
                outward = float(np.dot(self.xd[sl], radial))
                if outward > 0:  # stop pushing outwards at the bound
                    self.xd[sl] -= outward * radial

    def desired_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """Reference pose shifted by the admittance offset (world frame)."""
        if self.ref is None:
            raise ControlError("admittance: no reference pose yet (set_reference or one step first)")
        p = self.ref[0] + self.x[:3]
        R = rotvec_to_matrix(self.x[3:]) @ self.ref[1]
        return p, R

    def _ik(self, dt: float, force_w: np.ndarray) -> np.ndarray:
        model = self.model
        model.update(self.q_cmd)
        p, R = model.site_pose()
        if self.ref is None:
            self.set_reference(p, R)
        if self.posture is None:
            self.posture = self.q_cmd.copy()
        p_d, R_d = self.desired_pose()
        e = np.concatenate((p_d - p, orientation_error(R, R_d)))
        v = self.ref_twist + self.xd + self.config.ik_gain_1_s * e
        lin, ang = self.safety.limit_twist(v[:3], v[3:], force_n=force_w)
        v = np.concatenate((lin, ang))
        J = model.jacobian()
        Jp = dls_pinv(J, self.config.ik_damping)
        return Jp @ v + posture_velocity(self.config.null_space, self.posture, self.q_cmd, null_space_projector(J, Jp))
