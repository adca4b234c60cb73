"""Force-limited contact probe (e.g. a partial-discharge sensor placed on a cable).

Approach along the probe axis at a slow speed until contact, regulate the contact force to a target
below the limit, hold it for the measurement, retract. Force above ``abort_force_n`` (an overshoot)
aborts: the probe retracts at once and reports why. A target at or above the abort limit is refused
before any motion. Input: probe extension (m) and the axial contact force (N, + = pressing).
Output: probe extension speed (m/s, + = towards the cable).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from sanqin.control.errors import ForceLimitError
from sanqin.control.safety import SafetyConfig, SafetyLayer
from sanqin.runtime.config import nested, param, require


class ProbeState(enum.Enum):
    """Probe states."""

    IDLE = "idle"
    APPROACH = "approach"
    CONTACT = "contact"
    HOLD = "hold"
    RETRACT = "retract"
    DONE = "done"
    ABORTED = "aborted"


@dataclass(frozen=True)
class ContactProbeConfig:
    """Probe motion, force targets and limits."""

    safety: SafetyConfig = nested(SafetyConfig)
    approach_speed_m_s: float = param(0.01, "approach speed (m/s)", min=1e-4)
    retract_speed_m_s: float = param(0.03, "retract speed (m/s)", min=1e-4)
    target_force_n: float = param(8.0, "contact force to hold (N)", min=0.0)
    abort_force_n: float = param(20.0, "force that aborts the placement (N)", min=0.0)
    contact_threshold_n: float = param(1.0, "force that counts as contact (N)", min=0.0)
    force_gain_m_s_n: float = param(0.002, "force regulation gain (m/s per N)", min=0.0)
    force_tolerance_n: float = param(1.0, "settled when within this of the target (N)", min=0.0)
    settle_s: float = param(0.3, "time within tolerance before the hold starts (s)", min=0.0)
    hold_s: float = param(2.0, "measurement hold time (s)", min=0.0)
    max_extension_m: float = param(0.25, "probe travel; no contact by then aborts (m)", min=0.001)
    home_m: float = param(0.0, "retracted extension (m)")
    tare_on_start: bool = param(True, "take the retracted reading as zero when a placement starts")

    def __post_init__(self) -> None:
        require(self.contact_threshold_n < self.target_force_n < self.abort_force_n,
                "need contact_threshold_n < target_force_n < abort_force_n")
        require(self.home_m < self.max_extension_m,
                f"home_m {self.home_m} m must be below max_extension_m {self.max_extension_m} m")
        require(self.abort_force_n < self.safety.max_force_n,
                f"abort_force_n {self.abort_force_n} N must be below safety.max_force_n {self.safety.max_force_n} N")


class ContactProbe:
    """Approach → contact → hold → retract state machine with force regulation and overshoot abort."""

    def __init__(self, config: ContactProbeConfig) -> None:
        self.config = config
        self.safety = SafetyLayer(config.safety, ("probe",))
        self.state = ProbeState.IDLE
        self.target_force_n = config.target_force_n
        self.x: float | None = None
        self.force_n = 0.0
        self.timer = 0.0
        self.reason = ""
        self.max_force_n = 0.0
        self.held_forces: list[float] = []
        self.raw_force_n = 0.0
        self.bias_n = 0.0

    def start(self, target_force_n: float | None = None) -> None:
        """Begin a placement; a target at/above the abort limit raises :class:`ForceLimitError` (no motion)."""
        f = self.config.target_force_n if target_force_n is None else float(target_force_n)
        if not np.isfinite(f) or f <= self.config.contact_threshold_n or f >= self.config.abort_force_n:
            raise ForceLimitError(
                f"target force {f!r} N refused: must be in ({self.config.contact_threshold_n:g}, "
                f"{self.config.abort_force_n:g}) N"
            )
        self.target_force_n = f
        if self.config.tare_on_start and self.x is not None and self.x <= self.config.home_m + 1e-3:
            self.bias_n = self.raw_force_n  # retracted, in free air: the reading is the sensor's offset
        self.state, self.timer, self.reason = ProbeState.APPROACH, 0.0, ""
        self.held_forces = []

    def on_probe(self, stamp_s: float, t_s: float, extension_m: float, force_n: float) -> bool:
        """Register probe extension (m) and axial force (N)."""
        if self.safety.observe("probe", stamp_s, t_s, np.array([extension_m, force_n])):
            self.raw_force_n = float(force_n)
            self.x, self.force_n = float(extension_m), float(force_n) - self.bias_n
            self.max_force_n = max(self.max_force_n, self.force_n)
            return True
        return False

    def _abort(self, reason: str) -> None:
        self.state, self.reason = ProbeState.ABORTED, reason

    def step(self, t_s: float) -> float:
        """One cycle: the extension speed command (m/s); 0 on a safety refusal."""
        c = self.config
        verdict = self.safety.assess(t_s, force_n=np.array([self.force_n, 0.0, 0.0]))
        if not verdict.allowed or self.x is None:
            if self.state in (ProbeState.APPROACH, ProbeState.CONTACT, ProbeState.HOLD, ProbeState.RETRACT):
                self._abort("safety stop: " + "; ".join(verdict.reasons))
            # release only on fresh, valid probe data: a NaN or silent sensor leaves the last force stale
            fresh = self.x is not None and not self.safety.unfit_channels(t_s)
            if self.safety.release_required and fresh and self.force_n > self.config.contact_threshold_n:
                return -self.config.retract_speed_m_s  # release the clamped contact, then stay stopped
            return 0.0
        dt = self.safety.dt_s
        f = self.force_n
        if self.state in (ProbeState.APPROACH, ProbeState.CONTACT, ProbeState.HOLD) and f > c.abort_force_n:
            self._abort(f"force overshoot {f:.1f} N > abort limit {c.abort_force_n:g} N")
        v = 0.0
        if self.state is ProbeState.APPROACH:
            if f > c.contact_threshold_n:
                self.state, self.timer = ProbeState.CONTACT, 0.0
            elif self.x >= c.max_extension_m:
                self._abort("no contact within the probe travel")
            else:
                v = c.approach_speed_m_s
        if self.state in (ProbeState.CONTACT, ProbeState.HOLD):
            err = self.target_force_n - f
            v = float(np.clip(c.force_gain_m_s_n * err, -c.approach_speed_m_s, c.approach_speed_m_s))
            if f < 0.5 * c.contact_threshold_n and self.state is ProbeState.HOLD:
                self._abort("contact lost during the hold")
                v = 0.0
            elif self.state is ProbeState.CONTACT:
                self.timer = self.timer + dt if abs(err) <= c.force_tolerance_n else 0.0
                if self.timer >= c.settle_s:
                    self.state, self.timer = ProbeState.HOLD, 0.0
            else:
                self.timer += dt
                self.held_forces.append(f)
                if self.timer >= c.hold_s:
                    self.state = ProbeState.RETRACT
        if v > 0.0 and self.x >= c.max_extension_m:  # contact lost while regulating: never extend past the travel
            self._abort(f"probe travel {c.max_extension_m:g} m exhausted while regulating the force")
            v = 0.0
        if self.state in (ProbeState.RETRACT, ProbeState.ABORTED):
            if self.x > c.home_m + 1e-3:
                v = -c.retract_speed_m_s
            elif self.state is ProbeState.RETRACT:
                self.state = ProbeState.DONE
        return self.safety.limit_scalar_speed(v)
