"""Interaction control on the measured interaction force: impedance and admittance laws (task space).

* :class:`Impedance` renders a spring–damper to a moving reference: ``F = K (x_r − x) + D (v_r − v)``.
* :class:`Admittance` turns the measured interaction force into reference motion through virtual
  mass–damper–spring dynamics ``M a_r + D v_r + K (x_r − x_eq) = F_int`` (semi-implicit Euler), clamped to a
  box; an inner impedance loop then tracks ``x_r`` — the usual choice when the robot is not backdrivable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sanqin.rehab_robot.errors import ControlError


@dataclass(frozen=True)
class Impedance:
    """Task-space spring–damper (stiffness in N/m or N·m/rad, damping in N·s/m or N·m·s/rad; scalars or per axis)."""

    stiffness: float | np.ndarray
    damping: float | np.ndarray

    def force(self, x: np.ndarray, v: np.ndarray, x_ref: np.ndarray, v_ref: np.ndarray) -> np.ndarray:
        """Force toward the reference."""
        return self.stiffness * (x_ref - x) + self.damping * (v_ref - v)


class Admittance:
    """Virtual mass–damper–spring driven by the interaction force; produces a reference ``(x_r, v_r)``."""

    def __init__(self, mass: float, damping: float, stiffness: float, lo: np.ndarray, hi: np.ndarray) -> None:
        if not (mass > 0 and damping >= 0 and stiffness >= 0):
            raise ControlError(f"admittance needs mass > 0, damping >= 0, stiffness >= 0; got {mass}, {damping}, "
                               f"{stiffness}")
        self.mass, self.damping, self.stiffness = float(mass), float(damping), float(stiffness)
        self.lo, self.hi = np.asarray(lo, float), np.asarray(hi, float)
        self.x_ref = (self.lo + self.hi) / 2
        self.v_ref = np.zeros_like(self.x_ref)
        self.x_eq = self.x_ref.copy()

    def reset(self, x: np.ndarray, x_eq: np.ndarray | None = None) -> None:
        """Restart at position ``x`` at rest (equilibrium ``x_eq``, default ``x``)."""
        self.x_ref = np.asarray(x, float).copy()
        self.v_ref = np.zeros_like(self.x_ref)
        self.x_eq = self.x_ref.copy() if x_eq is None else np.asarray(x_eq, float).copy()

    def step(self, f_int: np.ndarray, dt_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Advance the virtual dynamics by ``dt_s`` under the interaction force; return ``(x_r, v_r)``."""
        f = np.asarray(f_int, float)
        if not np.all(np.isfinite(f)) or not dt_s > 0:
            raise ControlError(f"admittance step needs a finite force and dt > 0, got {f}, {dt_s}")
        a = (f - self.damping * self.v_ref - self.stiffness * (self.x_ref - self.x_eq)) / self.mass
        self.v_ref = self.v_ref + a * dt_s
        x = self.x_ref + self.v_ref * dt_s
        clipped = np.clip(x, self.lo, self.hi)
        self.v_ref = np.where(clipped != x, 0.0, self.v_ref)
        self.x_ref = clipped
        return self.x_ref.copy(), self.v_ref.copy()
