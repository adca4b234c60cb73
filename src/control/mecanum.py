"""Mecanum-wheel base kinematics: body twist ↔ four wheel speeds, with direction-preserving saturation.

Wheel order FL, FR, RL, RR; rollers at 45° (X configuration seen from above); body frame FLU (REP-103):
``ω = (1/r)·[[1, −1, −(lx+ly)], [1, 1, lx+ly], [1, 1, −(lx+ly)], [1, −1, lx+ly]] · (vx, vy, wz)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sanqin.runtime.config import param


@dataclass(frozen=True)
class MecanumConfig:
    """Geometry and wheel-speed limit of a mecanum base."""

    wheel_radius_m: float = param(0.1, "wheel radius (m)", min=1e-3)
    half_length_m: float = param(0.35, "lx: centre to wheel axle, along x (m)", min=1e-3)
    half_width_m: float = param(0.3, "ly: centre to wheel, along y (m)", min=1e-3)
    max_wheel_speed_rad_s: float = param(15.0, "wheel speed limit (rad/s)", min=1e-3)


class MecanumKinematics:
    """Inverse and forward kinematics of a four-wheel mecanum base."""

    def __init__(self, config: MecanumConfig) -> None:
        self.config = config
        k = config.half_length_m + config.half_width_m
        self.ik = np.array([[1.0, -1.0, -k], [1.0, 1.0, k], [1.0, 1.0, -k], [1.0, -1.0, k]]) / config.wheel_radius_m
        self.fk = np.linalg.pinv(self.ik)

    def wheel_speeds(self, vx: float, vy: float, wz: float) -> np.ndarray:
        """Wheel speeds (rad/s, FL FR RL RR) for a body twist (m/s, m/s, rad/s)."""
        return self.ik @ np.array([vx, vy, wz])

    def body_twist(self, wheels: np.ndarray) -> np.ndarray:
        """Body twist (vx, vy, wz) from wheel speeds (least squares if they are inconsistent)."""
        return self.fk @ np.asarray(wheels, float)

    def saturate(self, vx: float, vy: float, wz: float) -> tuple[np.ndarray, np.ndarray, float]:
        """(feasible twist, wheel speeds, scale): all wheels scaled alike so the motion keeps its direction."""
        w = self.wheel_speeds(vx, vy, wz)
        peak = float(np.max(np.abs(w)))
        scale = 1.0
        if peak > self.config.max_wheel_speed_rad_s:
            scale = self.config.max_wheel_speed_rad_s / peak
            w = w * scale
        return np.array([vx, vy, wz]) * scale, w, scale
