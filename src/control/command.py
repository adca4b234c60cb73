"""The command a controller returns each cycle: joint targets, the safety state, whether it is a safe stop."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sanqin.control.safety import SafetyState


@dataclass(frozen=True)
class JointCommand:
    """Joint-space command: positions (rad/m), velocities (rad/s, m/s) and efforts (N·m, N); empty if unused.

    ``safe_stop`` is True when the safety layer replaced the control law this cycle.
    """

    names: tuple[str, ...]
    position: np.ndarray = field(default_factory=lambda: np.zeros(0))
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    effort: np.ndarray = field(default_factory=lambda: np.zeros(0))
    safe_stop: bool = False
    state: SafetyState = SafetyState.OK
    reasons: tuple[str, ...] = ()
