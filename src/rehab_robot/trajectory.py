"""Minimum-jerk point-to-point trajectories (Flash & Hogan 1985), the reference for reaching trials."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sanqin.rehab_robot.errors import ControlError


@dataclass(frozen=True)
class MinimumJerk:
    """A minimum-jerk move from ``start`` to ``goal`` (task coordinates) over ``duration_s`` from ``t0_s``."""

    start: np.ndarray
    goal: np.ndarray
    t0_s: float
    duration_s: float

    def __post_init__(self) -> None:
        if not (np.isfinite(self.duration_s) and self.duration_s > 0):
            raise ControlError(f"minimum-jerk duration must be positive, got {self.duration_s!r}")
        s, g = np.asarray(self.start, float), np.asarray(self.goal, float)
        if s.shape != g.shape or not (np.all(np.isfinite(s)) and np.all(np.isfinite(g))):
            raise ControlError(f"minimum-jerk start {s} and goal {g} must be finite and of equal shape")
        object.__setattr__(self, "start", s)
        object.__setattr__(self, "goal", g)

    def sample(self, t_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Position, velocity and acceleration at ``t_s`` (held at the ends outside the move)."""
        T = self.duration_s
        tau = min(max((t_s - self.t0_s) / T, 0.0), 1.0)
        d = self.goal - self.start
        t2, t3 = tau * tau, tau * tau * tau
        p = 10 * t3 - 15 * t3 * tau + 6 * t3 * t2
        dp = (30 * t2 - 60 * t3 + 30 * t3 * tau) / T
        ddp = (60 * tau - 180 * t2 + 120 * t3) / T**2
        return self.start + d * p, d * dp, d * ddp

    def peak_speed(self) -> float:
        """Peak speed of the move (1.875 · distance / duration)."""
        return 1.875 * float(np.linalg.norm(self.goal - self.start)) / self.duration_s

    def done(self, t_s: float) -> bool:
        """True once the move has ended."""
        return t_s >= self.t0_s + self.duration_s
