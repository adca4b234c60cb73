"""Admittance hand-guiding of an omnidirectional base: operator push on the handle → base velocity.

Planar admittance ``M(payload) v̇ + D v = F_handle`` per axis (x, y, yaw), with a virtual mass and
inertia that grow with the payload so a loaded base feels (and is) heavier and slower to start;
then acceleration limiting, the shared safety layer's speed/power limits and mecanum wheel-speed
saturation that preserves the direction of motion. A safety refusal commands zero velocity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sanqin.control.errors import InvalidInputError
from sanqin.control.limits import deadband, scale_to_norm
from sanqin.control.mecanum import MecanumConfig, MecanumKinematics
from sanqin.control.safety import SafetyConfig, SafetyLayer, Verdict
from sanqin.runtime.config import nested, param, require


@dataclass(frozen=True)
class HandGuidingConfig:
    """Virtual dynamics, limits and kinematics of the hand-guided base."""

    mecanum: MecanumConfig = nested(MecanumConfig)
    safety: SafetyConfig = nested(SafetyConfig)
    base_mass_kg: float = param(60.0, "virtual mass with no payload (kg), > 0")
    mass_per_payload: float = param(1.0, "virtual mass added per kg of payload", min=0.0)
    base_inertia_kg_m2: float = param(15.0, "virtual yaw inertia with no payload (kg·m²), > 0")
    payload_gyration_m: float = param(0.4, "payload radius of gyration (m) for the inertia increase", min=0.0)
    damping_ratio_s: float = param(2.0, "damping as a multiple of the virtual mass (1/s), > 0")
    payload_kg: float = param(0.0, "payload at start (kg)", min=0.0)
    max_payload_kg: float = param(1500.0, "largest payload the base may carry (kg)", min=0.0)
    max_accel_m_s2: float = param(0.5, "linear acceleration limit (m/s²)", min=1e-3)
    max_yaw_accel_rad_s2: float = param(0.8, "yaw acceleration limit (rad/s²)", min=1e-3)
    force_deadband_n: float = param(5.0, "handle force deadband (N)", min=0.0)
    torque_deadband_nm: float = param(2.0, "handle torque deadband (N·m)", min=0.0)
    max_dt_s: float = param(0.05, "integration step cap (s)", min=1e-4)

    def __post_init__(self) -> None:
        require(self.base_mass_kg > 0, f"base_mass_kg must be > 0 (got {self.base_mass_kg})")
        require(self.base_inertia_kg_m2 > 0, f"base_inertia_kg_m2 must be > 0 (got {self.base_inertia_kg_m2})")
        require(self.damping_ratio_s > 0, f"damping_ratio_s must be > 0 (got {self.damping_ratio_s})")
        require(self.payload_kg <= self.max_payload_kg, "payload_kg exceeds max_payload_kg")


class HandGuidingController:
    """Handle wrench (base frame) → body twist command for a mecanum base."""

    def __init__(self, config: HandGuidingConfig) -> None:
        self.config = config
        self.kin = MecanumKinematics(config.mecanum)
        self.safety = SafetyLayer(config.safety, ("handle",))
        self.v = np.zeros(3)
        self.force = np.zeros(3)
        self.payload_kg = 0.0
        self.set_payload(config.payload_kg)

    def set_payload(self, payload_kg: float) -> None:
        """Update the carried payload (kg); raises :class:`InvalidInputError` if negative, NaN or too heavy."""
        c = self.config
        if not np.isfinite(payload_kg) or payload_kg < 0 or payload_kg > c.max_payload_kg:
            raise InvalidInputError(f"payload {payload_kg!r} kg outside [0, {c.max_payload_kg:g}] kg")
        self.payload_kg = float(payload_kg)
        m = c.base_mass_kg + c.mass_per_payload * payload_kg
        inertia = c.base_inertia_kg_m2 + payload_kg * c.payload_gyration_m**2
        self.mass = np.array([m, m, inertia])
        self.damping = c.damping_ratio_s * self.mass

    def on_handle(self, stamp_s: float, t_s: float, fx: float, fy: float, tz: float) -> bool:
        """Register a handle reading (N, N, N·m in the base frame)."""
        if self.safety.observe("handle", stamp_s, t_s, np.array([fx, fy, tz])):
            self.force = np.array([fx, fy, tz], float)
            return True
        return False

    def step(self, t_s: float) -> tuple[np.ndarray, np.ndarray, Verdict]:
        """One cycle: (twist vx vy wz, wheel speeds FL FR RL RR, verdict); zero on a safety refusal."""
        c = self.config
        f3 = np.array([self.force[0], self.force[1], 0.0])
        t3 = np.array([0.0, 0.0, self.force[2]])  # a violent twist of the handle latches like a violent push
        verdict = self.safety.assess(t_s, force_n=f3, torque_nm=t3)
        if not verdict.allowed:
            self.v = np.zeros(3)
            return np.zeros(3), np.zeros(4), verdict
        dt = min(self.safety.dt_s, c.max_dt_s)
        f = np.concatenate(
            (deadband(self.force[:2], c.force_deadband_n), deadband(self.force[2:], c.torque_deadband_nm))
        )
        v_des = self.v + dt * (f - self.damping * self.v) / self.mass
        dv = v_des - self.v
        dv[:2] = scale_to_norm(dv[:2], c.max_accel_m_s2 * dt)
        dv[2] = float(np.clip(dv[2], -c.max_yaw_accel_rad_s2 * dt, c.max_yaw_accel_rad_s2 * dt))
        v = self.v + dv
        lin, ang = self.safety.limit_twist(np.array([v[0], v[1], 0.0]), np.array([0.0, 0.0, v[2]]), force_n=f3,
                                          torque_nm=t3)
        twist, wheels, _ = self.kin.saturate(lin[0], lin[1], ang[2])
        if not self.safety.check_output(twist, wheels):
            self.v = np.zeros(3)
            return np.zeros(3), np.zeros(4), verdict
        self.v = twist
        return twist, wheels, verdict
