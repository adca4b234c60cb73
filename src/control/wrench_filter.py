"""Force/torque sensor conditioning: tool gravity compensation, tare, first-order low-pass, deadband.

Convention: the sensor reports the wrench acting **on the tool** (external contact plus the tool's
own weight) in the sensor frame; after conditioning, only the external contact wrench remains.
``R_ws`` is the sensor frame's orientation in the world frame (columns = sensor axes in world).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sanqin.control.limits import deadband
from sanqin.runtime.config import param, require


@dataclass(frozen=True)
class WrenchFilterConfig:
    """Parameters of the wrench conditioning chain."""

    cutoff_hz: float = param(15.0, "first-order low-pass cutoff (Hz)", min=0.01)
    force_deadband_n: float = param(1.0, "per-axis force deadband (N)", min=0.0)
    torque_deadband_nm: float = param(0.05, "per-axis torque deadband (N·m)", min=0.0)
    tool_mass_kg: float = param(0.0, "tool mass beyond the sensor (kg)", min=0.0)
    tool_com_m: tuple[float, ...] = param((0.0, 0.0, 0.0), "tool centre of mass in the sensor frame (m)")
    gravity_m_s2: tuple[float, ...] = param((0.0, 0.0, -9.81), "gravity in the world frame (m/s²)")

    def __post_init__(self) -> None:
        require(len(self.tool_com_m) == 3, f"tool_com_m needs 3 values, got {len(self.tool_com_m)}")
        require(len(self.gravity_m_s2) == 3, f"gravity_m_s2 needs 3 values, got {len(self.gravity_m_s2)}")


class WrenchFilter:
    """Stateful conditioning chain: compensate tool gravity, subtract tare, low-pass, deadband."""

    def __init__(self, config: WrenchFilterConfig) -> None:
        self.config = config
        self.com = np.asarray(config.tool_com_m, float)
        self.weight_w = config.tool_mass_kg * np.asarray(config.gravity_m_s2, float)
        self.bias_f = np.zeros(3)
        self.bias_t = np.zeros(3)
        self.force_n = np.zeros(3)
        self.torque_nm = np.zeros(3)
        self._primed = False

    def reset(self) -> None:
        """Forget the low-pass state (e.g. after a stop or a clock jump)."""
        self._primed = False

    def compensate(
        self, force_s: np.ndarray, torque_s: np.ndarray, R_ws: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Remove the tool weight (needs the sensor orientation) and the tare bias."""
        f = force_s - self.bias_f
        t = torque_s - self.bias_t
        if R_ws is not None and self.config.tool_mass_kg > 0.0:
            g_s = R_ws.T @ self.weight_w
            f = f - g_s
            t = t - np.cross(self.com, g_s)
        return f, t

    def tare(self, force_s: np.ndarray, torque_s: np.ndarray, R_ws: np.ndarray | None) -> None:
        """Take the current (contact-free) reading as zero, after gravity compensation."""
        self.bias_f = np.zeros(3)
        self.bias_t = np.zeros(3)
        f, t = self.compensate(force_s, torque_s, R_ws)
        self.bias_f, self.bias_t = f, t
        self._primed = False

    def tare_filtered(self) -> None:
        """Take the current low-passed (compensated) reading as zero — a tare averaged over the filter window."""
        if self._primed:
            self.bias_f = self.bias_f + self.force_n
            self.bias_t = self.bias_t + self.torque_nm
            self.force_n = np.zeros(3)
            self.torque_nm = np.zeros(3)

    def step(
        self, force_s: np.ndarray, torque_s: np.ndarray, R_ws: np.ndarray | None, dt_s: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Conditioned external wrench (sensor frame) from one raw reading."""
        f, t = self.compensate(force_s, torque_s, R_ws)
        if not self._primed or dt_s <= 0.0:
            if not self._primed:
                self.force_n, self.torque_nm = f, t
                self._primed = True
        else:
            a = 1.0 - math.exp(-2.0 * math.pi * self.config.cutoff_hz * dt_s)
            self.force_n = self.force_n + a * (f - self.force_n)
            self.torque_nm = self.torque_nm + a * (t - self.torque_nm)
        return (
            deadband(self.force_n, self.config.force_deadband_n),
            deadband(self.torque_nm, self.config.torque_deadband_nm),
        )
