"""What the MPC commands when the solver cannot deliver: the shifted previous plan, else braking.

A plan solved at cycle k stays usable for a few cycles: at cycle k + j its input j is what the robot
would have done anyway. Beyond ``max_shifts`` (or with no plan at all) the model's brake law slows the
robot within its acceleration limits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sanqin.planning.models import Model


@dataclass
class PlanBuffer:
    """The last good plan and how many cycles it has been shifted."""

    states: np.ndarray | None = None  # (N+1, nx)
    inputs: np.ndarray | None = None  # (N, nu)
    shifts: int = 0

    def store(self, states: np.ndarray, inputs: np.ndarray) -> None:
        """Keep a freshly solved plan."""
        self.states, self.inputs, self.shifts = states.copy(), inputs.copy(), 0

    def clear(self) -> None:
        """Forget the plan (e.g. after a reset or a new path)."""
        self.states = self.inputs = None
        self.shifts = 0


def fallback_command(model: Model, buffer: PlanBuffer, x_now: np.ndarray, u_prev: np.ndarray, dt_s: float,
                     max_shifts: int) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, str]:
    """(command input, shifted states, shifted inputs, source) — ``source`` is ``shifted`` or ``brake``."""
    if buffer.inputs is not None and buffer.shifts + 1 <= min(max_shifts, len(buffer.inputs) - 1):
        buffer.shifts += 1
        j = buffer.shifts
        # clipped: the plan may predate new input bounds (a payload change lowers the acceleration limits)
        u = np.clip(buffer.inputs[j], model.u_lb, model.u_ub)
        return u, buffer.states[j:].copy(), buffer.inputs[j:].copy(), "shifted"
    u_brake = np.clip(model.brake(x_now, u_prev, dt_s), model.u_lb, model.u_ub)
    return np.asarray(u_brake, float), None, None, "brake"
