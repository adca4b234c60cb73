"""Hybrid force/position welding seam following on a position-controlled arm.

Position control along the seam (tangent) and across it (in the surface plane); force control along
the surface normal: the normal offset of the torch tip integrates the force error
(``ż_n = −k_f (F_target − F_n) − k_i ∫…``), so the torch finds and follows the real surface even when
the surface model is off by millimetres. The commanded joint positions come from closed-loop
damped-least-squares IK on the commanded state (as in :mod:`sanqin.control.admittance`).

Phases: ``move`` (to a stand-off above the seam start) → ``approach`` (along −n until contact) →
``weld`` (along the seam at weld speed, force-regulated) → ``retract`` → ``done``. ``fault`` holds
position after contact was lost beyond the surface tolerance. Every cycle passes the shared safety
layer; a target force at or above the safety force limit is refused at load and at run time.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from sanqin.control.arm_base import ArmControllerBase
from sanqin.control.command import JointCommand
from sanqin.control.errors import ForceLimitError
from sanqin.control.nullspace import dls_pinv
from sanqin.control.robot_model import RobotModel, RobotModelConfig, orientation_error, rotvec_to_matrix
from sanqin.control.safety import SafetyConfig
from sanqin.control.wrench_filter import WrenchFilterConfig
from sanqin.runtime.config import nested, param, require


class SeamPhase(enum.Enum):
    """Phases of one seam."""

    MOVE = "move"
    APPROACH = "approach"
    WELD = "weld"
    RETRACT = "retract"
    DONE = "done"
    FAULT = "fault"


@dataclass(frozen=True)
class SeamConfig:
    """The seam (nominal surface model) and the hybrid force/position law."""

    robot: RobotModelConfig = nested(RobotModelConfig)
    wrench: WrenchFilterConfig = nested(WrenchFilterConfig)
    safety: SafetyConfig = nested(SafetyConfig)
    waypoints_m: tuple[float, ...] = param(
        (0.45, 0.05, 0.30, 0.52, 0.15, 0.30), "seam polyline on the nominal surface, x y z per point (m, world)"
    )
    normal: tuple[float, ...] = param((0.0, 0.0, 1.0), "surface normal (world, pointing out of the part)")
    weld_speed_m_s: float = param(0.02, "travel speed along the seam (m/s)", min=1e-4)
    move_speed_m_s: float = param(0.08, "speed of the free move to the seam start (m/s)", min=1e-4)
    approach_speed_m_s: float = param(0.01, "speed along −normal until contact (m/s)", min=1e-4)
    standoff_m: float = param(0.02, "start height above the nominal surface (m)", min=0.0)
    target_force_n: float = param(15.0, "contact force along the normal while welding (N)", min=0.0)
    contact_threshold_n: float = param(3.0, "normal force that counts as contact (N)", min=0.0)
    force_gain_m_s_n: float = param(1e-3, "normal admittance: offset rate per newton of force error", min=0.0)
    force_integral_gain: float = param(1e-3, "integral gain on the force error (m/(N·s))", min=0.0)
    surface_tolerance_m: float = param(0.012, "largest surface-model error searched before a fault (m)", min=0.0)
    ik_damping: float = param(0.02, "damped least-squares λ", min=0.0)
    ik_gain_1_s: float = param(20.0, "closed-loop IK gain (1/s)", min=0.0)
    max_dt_s: float = param(0.02, "integration step cap (s)", min=1e-4)
    align_to_normal: bool = param(True, "turn the torch (tool z axis) against the surface normal during the move")
    tare_on_start: bool = param(True, "tare the F/T sensor at the stand-off, before the approach")
    tare_settle_s: float = param(0.3, "dwell at the stand-off before the tare and approach (s)", min=0.0)

    def __post_init__(self) -> None:
        require(len(self.waypoints_m) >= 6 and len(self.waypoints_m) % 3 == 0,
                "waypoints_m needs at least two x y z points")
        require(len(self.normal) == 3 and np.linalg.norm(self.normal) > 0, "normal must be a non-zero 3-vector")
        require(
            self.target_force_n < self.safety.max_force_n,
            f"target_force_n {self.target_force_n} N must be below the safety limit "
            f"safety.max_force_n {self.safety.max_force_n} N",
        )
        require(self.contact_threshold_n < self.target_force_n, "contact_threshold_n must be below target_force_n")


def align_tool_axis(R: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """``R`` turned by the smallest rotation that brings its z column onto the unit vector ``axis``."""
    z = R[:, 2]
    rotvec = np.cross(z, axis)
    s, c = float(np.linalg.norm(rotvec)), float(np.dot(z, axis))
    if s < 1e-12:
        if c > 0:
            return R.copy()
        return rotvec_to_matrix(R[:, 0] * np.pi) @ R  # opposite: half a turn about the tool x axis
    return rotvec_to_matrix(rotvec / s * float(np.arctan2(s, c))) @ R


class SeamFollower(ArmControllerBase):
    """Hybrid force/position seam follower producing joint position/velocity targets."""

    def __init__(self, config: SeamConfig, model: RobotModel | None = None) -> None:
        model = model or RobotModel.from_config(config.robot)
        super().__init__(model, config.safety, config.wrench)
        self.config = config
        self.n_hat = np.asarray(config.normal, float) / np.linalg.norm(config.normal)
        self.path = np.asarray(config.waypoints_m, float).reshape(-1, 3)
        seg = np.diff(self.path, axis=0)
        self.seg_len = np.linalg.norm(seg, axis=1)
        self.cum = np.concatenate(([0.0], np.cumsum(self.seg_len)))
        self.length_m = float(self.cum[-1])
        self.target_force_n = config.target_force_n
        self.phase = SeamPhase.MOVE
        self.s = 0.0
        self.z_n = config.standoff_m  # tip offset along the normal from the nominal surface
        self.f_int = 0.0
        self.force_n = 0.0
        self.p_cmd: np.ndarray | None = None
        self.R_cmd: np.ndarray | None = None
        self.q_cmd: np.ndarray | None = None
        self._tared = not config.tare_on_start
        self._settle_s = 0.0
        self._was_stopped = True
        self.fault = ""

    # --- inputs -------------------------------------------------------------------------------------
    def set_target_force(self, force_n: float) -> None:
        """Change the contact force; outside (contact threshold, safety limit) raises :class:`ForceLimitError`.

        The lower bound is the config's own: a target at or below the contact threshold would lift the
        torch off the part while the seam keeps advancing (welding in the air, never detected as lost contact).
        """
        limit = self.safety.config.max_force_n
        low = self.config.contact_threshold_n
        if not np.isfinite(force_n) or force_n <= low or force_n >= limit:
            raise ForceLimitError(f"target force {force_n!r} N refused: must be in ({low:g}, {limit:g}) N")
        self.target_force_n = float(force_n)

    # --- path ---------------------------------------------------------------------------------------
    def seam_point(self, s: float) -> tuple[np.ndarray, np.ndarray]:
        """Nominal seam point and unit tangent at arc length ``s`` (clamped to the seam)."""
        s = min(max(s, 0.0), self.length_m)
        i = int(np.searchsorted(self.cum, s, side="right") - 1)
        i = min(max(i, 0), len(self.seg_len) - 1)
        tangent = (self.path[i + 1] - self.path[i]) / self.seg_len[i]
        return self.path[i] + tangent * (s - self.cum[i]), tangent

    # --- cycle --------------------------------------------------------------------------------------
    def step(self, t_s: float, q: np.ndarray, qd: np.ndarray | None = None) -> JointCommand:
        """One cycle: the latest joint state and wrench in, joint position/velocity targets out."""
        q, qd = self.check_state(q, qd)
        verdict, R, f_c = self.assess_with_wrench(t_s, q, qd)
        if not verdict.allowed or self.phase in (SeamPhase.FAULT, SeamPhase.DONE):
            self._was_stopped = not verdict.allowed or self._was_stopped
            if self.q_hold is None and np.all(np.isfinite(q)):
                self.q_hold = q.copy()
            cmd = self.hold_position(verdict)
            return JointCommand(cmd.names, cmd.position, cmd.velocity, cmd.effort, not verdict.allowed,
                                self.safety.state, cmd.reasons)
        if self._was_stopped or self.q_cmd is None:
            self.q_cmd = q.copy()
            self.filter.reset()
            self._was_stopped = False
            if self.phase is SeamPhase.WELD:  # never resume welding blind: back off and re-approach
                self.phase = SeamPhase.APPROACH
                self.p_cmd = None
        dt = min(self.safety.dt_s, self.config.max_dt_s)
        f_s, _ = self.filter.step(*self.wrench_s, R, dt)
        self.force_n = float(self.n_hat @ (R @ f_s))  # the part pushes the tool out along +n
        v_ff = self._advance(dt)
        qd_cmd = self._ik(v_ff, R @ f_c)  # world frame, like the commanded velocity it is paired with
        q_next = self.q_cmd + qd_cmd * dt
        if not self.safety.check_output(q_next, qd_cmd):
            return self.hold_position(verdict)
        self.q_cmd = q_next
        self.q_hold = q_next
        return JointCommand(self.model.joint_names, q_next.copy(), qd_cmd, np.zeros(0), False,
                            self.safety.state, self.safety.reasons)

    def _advance(self, dt: float) -> np.ndarray:
        """Move the commanded tip along the phase's path; return the feed-forward velocity (world)."""
        c = self.config
        if self.p_cmd is None:
            self.model.update(self.q_cmd)
            self.p_cmd, R = self.model.site_pose()
            self.R_cmd = align_tool_axis(R, -self.n_hat) if c.align_to_normal else R
        start = self.seam_point(self.s)[0]
        v = np.zeros(3)
        if self.phase is SeamPhase.MOVE:
            goal = start + c.standoff_m * self.n_hat
            v = self._towards(goal, c.move_speed_m_s, dt)
            if np.linalg.norm(goal - self.p_cmd) < 1e-4:
                self._settle_s += dt  # dwell at the stand-off so the arm is still when the sensor is tared
                if self._settle_s >= c.tare_settle_s:
                    if not self._tared:
                        self.filter.tare_filtered()
                        self._tared = True
                    self.phase, self.z_n = SeamPhase.APPROACH, c.standoff_m
        elif self.phase is SeamPhase.APPROACH:
            if self.force_n > c.contact_threshold_n:
                self.phase, self.f_int = SeamPhase.WELD, 0.0
            else:
                self.z_n -= c.approach_speed_m_s * dt
                if self.z_n < -c.surface_tolerance_m:
                    return self._fail("no contact within the surface tolerance")
            goal = start + self.z_n * self.n_hat
            v = self._towards(goal, max(c.approach_speed_m_s, c.move_speed_m_s), dt)
        elif self.phase is SeamPhase.WELD:
            err = self.force_n - self.target_force_n  # > 0: pressing too hard → back off along +n
            self.f_int += err * dt
            zdot = c.force_gain_m_s_n * err + c.force_integral_gain * self.f_int
            zdot = float(np.clip(zdot, -c.approach_speed_m_s, c.approach_speed_m_s))
            self.z_n += zdot * dt
            if self.z_n < -c.surface_tolerance_m:
                return self._fail("lost contact: surface not found within tolerance")
            self.s = min(self.s + c.weld_speed_m_s * dt, self.length_m)
            point, tangent = self.seam_point(self.s)
            v = tangent * c.weld_speed_m_s + zdot * self.n_hat
            self.p_cmd = point + self.z_n * self.n_hat
            if self.s >= self.length_m:
                self.phase = SeamPhase.RETRACT
        elif self.phase is SeamPhase.RETRACT:
            goal = self.seam_point(self.length_m)[0] + c.standoff_m * self.n_hat
            v = self._towards(goal, c.approach_speed_m_s * 2.0, dt)
            if np.linalg.norm(goal - self.p_cmd) < 1e-4:
                self.phase = SeamPhase.DONE
        return v

    def _towards(self, goal: np.ndarray, speed: float, dt: float) -> np.ndarray:
        delta = goal - self.p_cmd
        dist = float(np.linalg.norm(delta))
        step = min(dist, speed * dt)
        if dist > 0:
            self.p_cmd = self.p_cmd + delta / dist * step
            return delta / dist * (step / dt if dt > 0 else 0.0)
        return np.zeros(3)

    def _fail(self, reason: str) -> np.ndarray:
        self.phase = SeamPhase.FAULT
        self.fault = reason
        return np.zeros(3)

    def _ik(self, v_ff: np.ndarray, force_w: np.ndarray) -> np.ndarray:
        model = self.model
        model.update(self.q_cmd)
        p, R = model.site_pose()
        e = np.concatenate((self.p_cmd - p, orientation_error(R, self.R_cmd)))
        v = np.concatenate((v_ff, np.zeros(3))) + self.config.ik_gain_1_s * e
        lin, ang = self.safety.limit_twist(v[:3], v[3:], force_n=force_w)
        J = model.jacobian()
        qd = dls_pinv(J, self.config.ik_damping) @ np.concatenate((lin, ang))
        return self.safety.limit_joint_velocity(qd, self.q_cmd)
