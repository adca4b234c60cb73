"""Training-mode control laws (task space) and bumpless transfer between them.

* ``passive``       — stiff impedance along the minimum-jerk reference: the robot moves the limb.
* ``active_assist`` — the same impedance scaled by the assist-as-needed gain ``g`` (0..1): only as much
  help as the patient needs (see :mod:`sanqin.rehab_robot.assist`).
* ``transparent``   — minimal apparent impedance: the robot amplifies the measured interaction force
  (force feedback, apparent inertia ÷ (1 + k)) or, with ``transparent_law: admittance``, follows an
  admittance model of the interaction force with an inner impedance loop.
* ``resistive``     — viscous resistance ``−B v`` (B from the plan block) the patient works against.

Gains are relative to the patient's limits: ``K_ref = max_interaction / (0.1 · mean ROM span)`` so the same
config fits the end-effector robot (N/m) and the exoskeleton (N·m/rad); per task axis the stiffness is capped
at ``Λ_ii (2π · max_bandwidth_hz)²`` (Λ: the robot's task-space inertia) so a light axis — an exoskeleton's
wrist — is not driven beyond what a 1 kHz loop renders stably; damping is ``K · damping_time_s``.

:class:`BumplessTransfer` removes torque jumps at every switch (mode, trial phase, safety release): at the
switch it stores the difference between the last applied force and the new law's force and decays that
offset to zero along a smooth (minimum-jerk-shaped) ramp.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sanqin.rehab_robot.errors import ControlError
from sanqin.rehab_robot.interaction import Admittance, Impedance
from sanqin.rehab_robot.limits import Limits
from sanqin.rehab_robot.plan import MODES
from sanqin.runtime.config import param


@dataclass(frozen=True)
class ModeConfig:
    """Gains of the training modes (relative to the patient's limits) and the switch ramp."""

    passive_stiffness_scale: float = param(1.0, "passive stiffness as a multiple of K_ref", min=0.0, max=5.0)
    assist_stiffness_scale: float = param(1.0, "active-assist stiffness at gain 1 as a multiple of K_ref",
                                          min=0.0, max=5.0)
    damping_time_s: float = param(0.06, "damping = stiffness × this (s)", min=0.0, max=1.0)
    transparent_law: str = param("force_feedback", "transparent mode law",
                                 choices=("force_feedback", "admittance"))
    transparent_force_gain: float = param(0.3, "force-feedback gain k (apparent inertia ÷ (1+k))", min=0.0, max=2.0)
    interaction_filter_s: float = param(0.01, "low-pass time constant on the interaction force for force "
                                              "feedback (s)", min=0.0, max=0.2)
    admittance_damping_fraction: float = param(0.5, "admittance: max_interaction drives this fraction of "
                                                    "max_speed", min=0.01, max=1.0)
    admittance_time_constant_s: float = param(0.1, "admittance virtual mass / damping (s)", min=0.005, max=2.0)
    switch_time_s: float = param(0.3, "bumpless ramp after any switch (s)", min=0.0, max=3.0)
    max_bandwidth_hz: float = param(6.0, "stiffness cap per task axis: inertia × (2π·f)² (Hz)", min=0.5, max=50.0)


class BumplessTransfer:
    """Decays the force offset between the old and the new law after a switch."""

    def __init__(self, duration_s: float) -> None:
        self.duration_s = duration_s
        self._offset: np.ndarray | None = None
        self._t0 = 0.0

    def switch(self, t_s: float, last_output: np.ndarray, new_law_now: np.ndarray) -> None:
        """Start a ramp: ``last_output`` is the force applied so far, ``new_law_now`` the new law's force now."""
        if self.duration_s <= 0:
            self._offset = None
            return
        self._offset = np.asarray(last_output, float) - np.asarray(new_law_now, float)
        self._t0 = t_s

    def apply(self, t_s: float, f_new: np.ndarray) -> np.ndarray:
        """The force to output at ``t_s`` given the new law's force."""
        if self._offset is None:
            return f_new
        tau = (t_s - self._t0) / self.duration_s
        if tau >= 1.0:
            self._offset = None
            return f_new
        tau = max(tau, 0.0)
        s = tau**3 * (10 - 15 * tau + 6 * tau**2)
        return f_new + (1.0 - s) * self._offset

    @property
    def active(self) -> bool:
        """True during a ramp."""
        return self._offset is not None


class ModeLaws:
    """Evaluates the force of a training mode for the current state and reference."""

    def __init__(self, config: ModeConfig, limits: Limits, task_inertia: np.ndarray | None = None) -> None:
        self.config = config
        span = float(np.mean(limits.task_max - limits.task_min))
        k = np.full(limits.task_min.size, limits.max_interaction / (0.1 * span))
        if task_inertia is not None:
            k = np.minimum(k, np.asarray(task_inertia, float) * (2 * np.pi * config.max_bandwidth_hz) ** 2)
        self.k_ref = k
        self.limits = limits
        d_adm = limits.max_interaction / (config.admittance_damping_fraction * limits.max_speed)
        self.admittance = Admittance(d_adm * config.admittance_time_constant_s, d_adm, 0.0, limits.task_min,
                                     limits.task_max)
        self.passive = Impedance(config.passive_stiffness_scale * self.k_ref,
                                 config.passive_stiffness_scale * self.k_ref * config.damping_time_s)
        self.assist = Impedance(config.assist_stiffness_scale * self.k_ref,
                                config.assist_stiffness_scale * self.k_ref * config.damping_time_s)
        self._f_filt: np.ndarray | None = None

    def reset_admittance(self, x: np.ndarray) -> None:
        """Re-anchor the admittance reference at the current position (on entering transparent mode)."""
        self.admittance.reset(x)

    def force(self, mode: str, x: np.ndarray, v: np.ndarray, f_int: np.ndarray, x_ref: np.ndarray,
              v_ref: np.ndarray, gain: float, resistance: float, dt_s: float) -> np.ndarray:
        """Task force (N or N·m) of ``mode``; ``gain`` is the assist-as-needed gain, ``resistance`` B."""
        c = self.config
        if c.interaction_filter_s > 0 and self._f_filt is not None:
            self._f_filt = self._f_filt + min(1.0, dt_s / c.interaction_filter_s) * (f_int - self._f_filt)
        else:
            self._f_filt = np.array(f_int, float)
        if mode == "passive":
            return self.passive.force(x, v, x_ref, v_ref)
        if mode == "active_assist":
            return gain * self.assist.force(x, v, x_ref, v_ref)
        if mode == "transparent":
            if c.transparent_law == "admittance":
                xr, vr = self.admittance.step(self._f_filt, dt_s)
                return self.passive.force(x, v, xr, vr)
            return c.transparent_force_gain * self._f_filt
        if mode == "resistive":
            return -resistance * v
        raise ControlError(f"unknown training mode {mode!r}; known: {list(MODES)}")
