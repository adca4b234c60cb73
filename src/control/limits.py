"""Saturation and rate limiting of command vectors; direction-preserving where a direction matters."""

from __future__ import annotations

import numpy as np


def scale_to_norm(v: np.ndarray, max_norm: float) -> np.ndarray:
    """``v`` scaled down (direction kept) so that its Euclidean norm is at most ``max_norm``."""
    n = float(np.linalg.norm(v))
    if n > max_norm and n > 0.0:
        return v * (max_norm / n)
    return v


def scale_to_box(v: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """``v`` scaled down uniformly (direction kept) so that ``|v_i| <= limits_i`` for every i."""
    a = np.abs(v)
    over = a > limits
    if not over.any():
        return v
    return v * float(np.min(limits[over] / a[over]))


class RateLimiter:
    """Limits how fast a command vector may change: ``|Δu| / dt <= max_rate`` (uniform scaling of Δu).

    ``max_rate`` is a scalar (Euclidean norm of the change) or per-element; the first call passes
    the target through unless an initial value is given.
    """

    def __init__(self, max_rate: float | np.ndarray, initial: np.ndarray | None = None, per_element: bool = False):
        self.max_rate = np.asarray(max_rate, float)
        self.per_element = per_element
        self.value = None if initial is None else np.array(initial, float)

    def reset(self, value: np.ndarray | None = None) -> None:
        """Forget (or set) the last output, e.g. after a stop."""
        self.value = None if value is None else np.array(value, float)

    def step(self, target: np.ndarray, dt_s: float) -> np.ndarray:
        """The rate-limited value moving towards ``target`` over ``dt_s`` seconds."""
        target = np.asarray(target, float)
        if self.value is None or dt_s <= 0.0:
            if self.value is None:
                self.value = target.copy()
            return self.value.copy()
        delta = target - self.value
        if self.per_element:
            delta = scale_to_box(delta, self.max_rate * dt_s)
        else:
            delta = scale_to_norm(delta, float(self.max_rate) * dt_s)
        self.value = self.value + delta
        return self.value.copy()


def deadband(x: np.ndarray, band: float | np.ndarray) -> np.ndarray:
    """Continuous deadband: zero inside ``|x| <= band``, shifted by ``band`` outside (no step at the edge)."""
    return np.sign(x) * np.maximum(np.abs(x) - band, 0.0)
