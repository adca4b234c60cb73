"""Assist-as-needed: trial-by-trial adaptation of the assistance gain with a forgetting factor.

After trial *k* with normalised error ``e_k`` the gain becomes ``g_{k+1} = clip(f·g_k + c·e_k, g_min, g_max)``
(Emken, Reinkensmeyer et al. 2007): the forgetting factor ``f < 1`` makes assistance fade whenever the
patient performs well, while errors raise it again, so the robot assists only as much as needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sanqin.rehab_robot.errors import ControlError
from sanqin.runtime.config import param, require


@dataclass(frozen=True)
class AssistConfig:
    """Assist-as-needed adaptation law parameters."""

    forgetting_factor: float = param(0.85, "f: fraction of the assistance kept from one trial to the next",
                                     min=0.0, max=1.0)
    error_gain: float = param(0.2, "c: assistance added per unit of normalised trial error", min=0.0, max=10.0)
    initial_gain: float = param(1.0, "assistance gain of the first trial of a new patient", min=0.0, max=1.0)
    min_gain: float = param(0.0, "lowest assistance gain", min=0.0, max=1.0)
    max_gain: float = param(1.0, "highest assistance gain", min=0.0, max=1.0)
    error_cap: float = param(10.0, "normalised errors above this count as this (one bad trial cannot saturate)",
                             min=0.1, max=1000.0)

    def __post_init__(self) -> None:
        require(self.min_gain <= self.max_gain, "assist: min_gain must not exceed max_gain")


class AssistAsNeeded:
    """Holds the current assistance gain and updates it after each trial."""

    def __init__(self, config: AssistConfig, initial_gain: float | None = None) -> None:
        self.config = config
        g = config.initial_gain if initial_gain is None else float(initial_gain)
        if not math.isfinite(g):
            raise ControlError(f"initial assistance gain must be finite, got {initial_gain!r}")
        self.gain = min(max(g, config.min_gain), config.max_gain)
        self.history: list[tuple[float, float]] = []  # (error, gain after the update)

    def update(self, normalised_error: float) -> float:
        """Fold one trial's normalised error (≥ 0; NaN counts as the cap) into the gain; return the new gain."""
        c = self.config
        e = normalised_error if math.isfinite(normalised_error) else c.error_cap
        e = min(max(e, 0.0), c.error_cap)
        self.gain = min(max(c.forgetting_factor * self.gain + c.error_gain * e, c.min_gain), c.max_gain)
        self.history.append((e, self.gain))
        return self.gain
