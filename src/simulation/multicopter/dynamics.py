"""Multicopter rigid-body model in ENU/FLU: attitude dynamics, thrust, quadratic drag in wind, battery drain.

The flight controller commands an acceleration (ENU) and a yaw; the model turns it into a tilt and a
collective thrust, tracks the tilt with second-order attitude dynamics (natural frequency and damping of
the attitude loop), integrates translation with drag against the air (wind with Ornstein–Uhlenbeck gusts),
and drains a battery whose current follows the thrust (momentum theory: P ∝ T^1.5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

G_M_S2 = 9.80665


@dataclass(frozen=True)
class AirframeParams:
    """Mass (kg), thrust-to-weight, attitude loop (rad/s, damping), tilt limit (rad), drag (N/(m/s)²)."""

    mass_kg: float = 12.0
    thrust_to_weight: float = 2.2
    attitude_wn_rad_s: float = 12.0
    attitude_zeta: float = 0.8
    max_tilt_rad: float = math.radians(30.0)
    yaw_rate_max_rad_s: float = math.radians(90.0)
    drag_n_per_m2_s2: float = 0.35


@dataclass(frozen=True)
class BatteryParams:
    """Pack: cells, capacity (Ah), internal resistance (Ω), hover current (A), avionics current (A)."""

    cells: int = 6
    capacity_ah: float = 16.0
    internal_resistance_ohm: float = 0.02
    hover_current_a: float = 45.0
    idle_current_a: float = 0.8


#: Resting LiPo cell voltage against state of charge (a typical discharge curve).
_OCV_SOC = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
_OCV_V = (3.27, 3.50, 3.60, 3.69, 3.74, 3.78, 3.82, 3.87, 3.93, 4.00, 4.09, 4.20)


def cell_ocv_v(soc: float) -> float:
    """Open-circuit voltage (V) of a LiPo cell at state of charge ``soc`` (0..1)."""
    return float(np.interp(min(1.0, max(0.0, soc)), _OCV_SOC, _OCV_V))


class Battery:
    """State of charge and terminal voltage under load."""

    def __init__(self, params: BatteryParams, soc: float = 1.0) -> None:
        self.p = params
        self.soc = soc
        self.current_a = 0.0
        self.consumed_ah = 0.0

    @property
    def voltage_v(self) -> float:
        """Terminal voltage (V) at the present current."""
        return self.p.cells * cell_ocv_v(self.soc) - self.current_a * self.p.internal_resistance_ohm

    def step(self, thrust_ratio: float, armed: bool, dt_s: float) -> None:
        """Drain for ``dt_s`` at the current for ``thrust_ratio`` = thrust / weight."""
        motors = self.p.hover_current_a * max(0.0, thrust_ratio) ** 1.5 if armed else 0.0
        self.current_a = self.p.idle_current_a + motors
        drawn = self.current_a * dt_s / 3600.0
        self.consumed_ah += drawn
        self.soc = max(0.0, self.soc - drawn / self.p.capacity_ah)


class Wind:
    """Mean wind (ENU m/s) plus first-order Gauss–Markov gusts of a given standard deviation and time constant."""

    def __init__(self, mean_enu_m_s: tuple[float, float, float], gust_std_m_s: float, gust_tau_s: float,
                 rng: np.random.Generator) -> None:
        self.mean = np.asarray(mean_enu_m_s, dtype=float)
        self.std = gust_std_m_s
        self.tau = max(gust_tau_s, 1e-3)
        self.rng = rng
        self.gust = np.zeros(3)

    def step(self, dt_s: float) -> np.ndarray:
        """Advance the gusts and return the wind velocity (ENU m/s)."""
        if self.std > 0:
            a = math.exp(-dt_s / self.tau)
            self.gust = a * self.gust + self.std * math.sqrt(1 - a * a) * self.rng.standard_normal(3)
            self.gust[2] *= 0.3
        return self.mean + self.gust


class Multicopter:
    """Translational and attitude state of the airframe; ``step`` integrates one time step."""

    def __init__(self, params: AirframeParams) -> None:
        self.p = params
        self.pos = np.zeros(3)  # ENU m from home
        self.vel = np.zeros(3)  # ENU m/s
        self.acc = np.zeros(3)
        self.rpy = np.zeros(3)  # roll, pitch, yaw (FLU in ENU), rad
        self.rates = np.zeros(3)  # rad/s
        self.thrust_ratio = 0.0
        self.on_ground = True

    def step(self, acc_cmd_enu: np.ndarray, yaw_cmd_rad: float, armed: bool, wind_enu: np.ndarray,
             dt_s: float) -> None:
        """Track the commanded acceleration and yaw for ``dt_s`` seconds."""
        p = self.p
        # desired thrust direction and tilt, expressed in the yaw frame
        f = np.array([acc_cmd_enu[0], acc_cmd_enu[1], acc_cmd_enu[2] + G_M_S2])
        f[2] = max(f[2], 0.2 * G_M_S2)
        cy, sy = math.cos(self.rpy[2]), math.sin(self.rpy[2])
        fx_b = cy * f[0] + sy * f[1]
        fy_b = -sy * f[0] + cy * f[1]
        pitch_d = math.atan2(fx_b, f[2])
        roll_d = math.atan2(-fy_b, math.hypot(fx_b, f[2]))
        lim = p.max_tilt_rad
        roll_d, pitch_d = max(-lim, min(lim, roll_d)), max(-lim, min(lim, pitch_d))
        if not armed:
            roll_d = pitch_d = 0.0
        # second-order attitude loop for roll/pitch, rate-limited yaw
        wn, z = p.attitude_wn_rad_s, p.attitude_zeta
        for i, target in ((0, roll_d), (1, pitch_d)):
            acc = wn * wn * (target - self.rpy[i]) - 2 * z * wn * self.rates[i]
            self.rates[i] += acc * dt_s
            self.rpy[i] += self.rates[i] * dt_s
        if armed and not self.on_ground:
            err = math.atan2(math.sin(yaw_cmd_rad - self.rpy[2]), math.cos(yaw_cmd_rad - self.rpy[2]))
            self.rates[2] = max(-p.yaw_rate_max_rad_s, min(p.yaw_rate_max_rad_s, 2.0 * err))
        else:
            self.rates[2] = 0.0
        yaw = self.rpy[2] + self.rates[2] * dt_s
        self.rpy[2] = math.atan2(math.sin(yaw), math.cos(yaw))
        # collective thrust along body z
        cr, sr, cp, sp = math.cos(self.rpy[0]), math.sin(self.rpy[0]), math.cos(self.rpy[1]), math.sin(self.rpy[1])
        cy, sy = math.cos(self.rpy[2]), math.sin(self.rpy[2])
        zb = np.array([cy * sp * cr + sy * sr, sy * sp * cr - cy * sr, cp * cr])
        t_acc = float(np.linalg.norm(f)) if armed else 0.0
        t_acc = min(t_acc, p.thrust_to_weight * G_M_S2)
        self.thrust_ratio = t_acc / G_M_S2
        air = self.vel - wind_enu
        drag = -p.drag_n_per_m2_s2 / p.mass_kg * air * float(np.linalg.norm(air))
        self.acc = zb * t_acc + drag - np.array([0.0, 0.0, G_M_S2])
        self.vel = self.vel + self.acc * dt_s
        self.pos = self.pos + self.vel * dt_s
        if self.pos[2] <= 0.0:
            self.pos[2] = 0.0
            if self.vel[2] < 0:
                self.vel[:] = 0.0
            self.on_ground = t_acc <= G_M_S2 * 1.0001 or not armed
            if self.on_ground:
                self.vel[:] = 0.0
                self.rpy[:2] = 0.0
                self.rates[:] = 0.0
        else:
            self.on_ground = False

    @property
    def specific_force_flu(self) -> tuple[float, float, float]:
        """What an accelerometer reads in the body frame (m/s²): acceleration minus gravity, rotated in."""
        a = self.acc + np.array([0.0, 0.0, G_M_S2])
        if self.on_ground:
            a = np.array([0.0, 0.0, G_M_S2])
        r, p_, y = self.rpy
        cr, sr, cp, sp, cy, sy = math.cos(r), math.sin(r), math.cos(p_), math.sin(p_), math.cos(y), math.sin(y)
        rot = np.array([[cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
                        [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
                        [-sp, cp * sr, cp * cr]])
        b = rot.T @ a
        return float(b[0]), float(b[1]), float(b[2])
