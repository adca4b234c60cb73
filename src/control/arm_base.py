"""Shared plumbing of the arm controllers: model, safety layer, input checks and the safe commands."""

from __future__ import annotations

import numpy as np

from sanqin.control.command import JointCommand
from sanqin.control.errors import InvalidInputError
from sanqin.control.robot_model import RobotModel
from sanqin.control.safety import SafetyConfig, SafetyLayer, Verdict
from sanqin.control.wrench_filter import WrenchFilter, WrenchFilterConfig
from sanqin.runtime.errors import ConfigError


def per_joint(values: tuple[float, ...], n: int, name: str) -> np.ndarray:
    """A per-joint parameter as an array: one value (broadcast) or exactly ``n`` values."""
    arr = np.asarray(values, float)
    if arr.size == 1:
        return np.full(n, float(arr[0]))
    if arr.size != n:
        raise ConfigError(f"{name} needs 1 or {n} values (one per joint), got {arr.size}")
    return arr


def posture_of(values: tuple[float, ...], n: int) -> np.ndarray | None:
    """The null-space posture as an array (None = take the state at activation); exactly ``n`` values."""
    if not values:
        return None
    if len(values) != n:
        raise ConfigError(f"null_space.posture needs {n} values (one per joint), got {len(values)}")
    return np.asarray(values, float)


class ArmControllerBase:
    """Holds the robot model and the one safety layer; produces safe commands when a cycle is refused.

    The safety layer watches the channels ``joint_states`` and, for a controller given a ``wrench``
    filter config (one with a tool F/T sensor), ``wrench``.
    """

    def __init__(self, model: RobotModel, safety: SafetyConfig, wrench: WrenchFilterConfig | None) -> None:
        self.model = model
        self.n = model.n
        channels = ("joint_states", "wrench") if wrench is not None else ("joint_states",)
        self.safety = SafetyLayer(safety, channels, model.lower, model.upper)
        self.filter = None if wrench is None else WrenchFilter(wrench)
        self.wrench_s = (np.zeros(3), np.zeros(3))  # last accepted raw F/T reading (force, torque; sensor frame)
        self.q_hold: np.ndarray | None = None  # last finite measured or commanded position
        self.g_hold = np.zeros(self.n)  # last finite gravity torque
        self.m_diag = np.ones(self.n)  # last finite joint-space inertia diagonal (for the brake)
        self.dt_nominal = 0.0  # last positive control period seen (s)

    def on_joint_states(self, stamp_s: float, t_s: float, q: np.ndarray, qd: np.ndarray) -> bool:
        """Register a joint-state reading; NaN/inf or out-of-order readings are rejected."""
        return self.safety.observe("joint_states", stamp_s, t_s, q, qd)

    def on_wrench(self, stamp_s: float, t_s: float, force_n: np.ndarray, torque_nm: np.ndarray) -> bool:
        """Register a raw F/T reading (sensor frame = tool site frame); NaN/inf or out-of-order ones are rejected."""
        if self.filter is None:
            raise InvalidInputError(f"{type(self).__name__} has no F/T sensor input")
        if self.safety.observe("wrench", stamp_s, t_s, force_n, torque_nm):
            self.wrench_s = (np.asarray(force_n, float), np.asarray(torque_nm, float))
            return True
        return False

    def assess_with_wrench(
        self, t_s: float, q: np.ndarray, qd: np.ndarray
    ) -> tuple[Verdict, np.ndarray | None, np.ndarray | None]:
        """The cycle's safety verdict on the joint state and the latest F/T reading, less the tool's weight.

        Returns the verdict, the site rotation at ``q`` and the compensated force (sensor frame); the
        last two are None when ``q`` is not finite (the verdict is then a stop).
        """
        f_raw, t_raw = self.wrench_s
        if not np.all(np.isfinite(q)):
            return self.safety.assess(t_s, q=q, extra=(qd, f_raw, t_raw)), None, None
        self.model.update(q)
        _, R = self.model.site_pose()
        f_c, t_c = self.filter.compensate(f_raw, t_raw, R)
        return self.safety.assess(t_s, force_n=f_c, torque_nm=t_c, q=q, extra=(qd, f_raw, t_raw)), R, f_c

    def check_state(self, q: np.ndarray, qd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Shape check (a wrong size is a programming/config error, not a sensor fault)."""
        q = np.asarray(q, float).reshape(-1)
        qd = np.asarray(qd, float).reshape(-1) if qd is not None and np.size(qd) else np.zeros(self.n)
        if q.size != self.n or qd.size != self.n:
            raise InvalidInputError(f"expected {self.n} joint positions/velocities, got {q.size}/{qd.size}")
        return q, qd

    def hold_position(self, verdict: Verdict) -> JointCommand:
        """Position-level safe stop: hold the last good position with zero velocity."""
        pos = self.q_hold.copy() if self.q_hold is not None else np.zeros(0)
        return JointCommand(self.model.joint_names, pos, np.zeros(self.n), np.zeros(0), True,
                            self.safety.state, self.safety.reasons or verdict.reasons)

    def brake_torque(self, verdict: Verdict, q: np.ndarray, qd: np.ndarray, damping: float,
                     max_torque: np.ndarray) -> JointCommand:
        """Torque-level safe stop: gravity compensation plus joint damping (stop category 1 style).

        The damping per joint is capped at ``M_jj / dt`` so the explicit brake stays stable in discrete
        time on light wrist joints (a larger gain would make the joint oscillate, not stop).
        """
        if self.safety.dt_s > 0:
            self.dt_nominal = self.safety.dt_s
        if np.all(np.isfinite(q)):
            self.g_hold = self.model.gravity(q)
            self.m_diag = np.diag(self.model.mass_matrix()).copy()
        d = np.full(self.n, damping)
        if self.dt_nominal > 0:
            d = np.minimum(d, self.m_diag / self.dt_nominal)
        tau = self.g_hold - (d * qd if np.all(np.isfinite(qd)) else 0.0)
        tau = np.clip(tau, -max_torque, max_torque)
        return JointCommand(self.model.joint_names, np.zeros(0), np.zeros(0), tau, True,
                            self.safety.state, self.safety.reasons or verdict.reasons)
