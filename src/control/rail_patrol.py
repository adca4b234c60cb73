"""Rail-hanging cable-tunnel robot: patrol along the rail with a trapezoidal speed profile, stopping at
inspection points for a dwell, pausable and resumable; the shared safety layer caps speed and stops
on stale or invalid position data.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np

from sanqin.control.safety import SafetyConfig, SafetyLayer
from sanqin.runtime.config import nested, param, require


class PatrolState(enum.Enum):
    """Patrol states."""

    TRAVEL = "travel"
    DWELL = "dwell"
    PAUSED = "paused"
    DONE = "done"


@dataclass(frozen=True)
class RailPatrolConfig:
    """Rail, inspection points and the speed profile."""

    safety: SafetyConfig = nested(SafetyConfig)
    rail_length_m: float = param(200.0, "usable rail length (m)", min=0.1)
    inspection_points_m: tuple[float, ...] = param((10.0, 35.0, 60.0), "stops along the rail (m from the start)")
    dwell_s: float = param(5.0, "time at each inspection point (s)", min=0.0)
    cruise_speed_m_s: float = param(0.8, "patrol speed (m/s)", min=0.01)
    max_accel_m_s2: float = param(0.3, "acceleration/deceleration limit (m/s²)", min=0.01)
    position_tolerance_m: float = param(0.02, "arrival tolerance (m)", min=1e-4)
    position_gain_1_s: float = param(2.0, "final-approach position gain (1/s)", min=0.0)
    loop: bool = param(False, "restart from the first point after the last")
    wait_for_inspection: bool = param(False, "stay at a point until the inspection reports done (after dwell_s)")
    max_wait_s: float = param(60.0, "longest wait for the inspection before moving on (s)", min=0.0)

    def __post_init__(self) -> None:
        pts = self.inspection_points_m
        require(len(pts) > 0, "inspection_points_m must not be empty")
        require(all(0.0 <= p <= self.rail_length_m for p in pts), "inspection points must lie on the rail")


class RailPatrolController:
    """Carriage position (m) in, carriage speed command (m/s) out."""

    def __init__(self, config: RailPatrolConfig) -> None:
        self.config = config
        self.safety = SafetyLayer(config.safety, ("position",))
        self.state = PatrolState.TRAVEL
        self.index = 0
        self.v = 0.0
        self.x: float | None = None
        self.dwell_left = 0.0
        self.visited: list[tuple[float, float]] = []  # (time s, point m)
        self._resume_state = PatrolState.TRAVEL
        self.inspection_done = False
        self.waited_s = 0.0
        self.timeouts = 0
        self.arrivals = 0  # increments on each arrival (the node announces it)
        self.interlock_ok = True  # e.g. the probe is retracted; False holds the carriage

    def on_position(self, stamp_s: float, t_s: float, x_m: float) -> bool:
        """Register a carriage position reading."""
        if self.safety.observe("position", stamp_s, t_s, np.array([x_m])):
            self.x = float(x_m)
            return True
        return False

    def pause(self) -> None:
        """Decelerate and hold until :meth:`resume`."""
        if self.state is not PatrolState.PAUSED:
            self._resume_state = self.state
            self.state = PatrolState.PAUSED

    def resume(self) -> None:
        """Continue where the patrol was paused."""
        if self.state is PatrolState.PAUSED:
            self.state = self._resume_state

    def on_inspection_done(self) -> None:
        """The inspection at the current point finished (success or abort): the patrol may move on."""
        if self.state is PatrolState.DWELL or self._resume_state is PatrolState.DWELL:
            self.inspection_done = True

    @property
    def target_m(self) -> float:
        """The inspection point being approached."""
        return self.config.inspection_points_m[self.index]

    def step(self, t_s: float) -> float:
        """One cycle: the speed command (m/s, + along the rail); 0 on a safety refusal."""
        c = self.config
        verdict = self.safety.assess(t_s, extra=(self.v,))
        dt = self.safety.dt_s
        if not verdict.allowed or self.x is None:
            self.v = 0.0
            return 0.0
        v_des = 0.0
        if self.state is PatrolState.TRAVEL:
            d = self.target_m - self.x
            if abs(d) <= c.position_tolerance_m and abs(self.v) < 0.05:
                self.state, self.dwell_left = PatrolState.DWELL, c.dwell_s
                self.inspection_done, self.waited_s = False, 0.0
                self.visited.append((t_s, self.target_m))
                self.arrivals += 1
            else:
                # the fastest speed from which the point can still be reached at max deceleration
                v_brake = math.sqrt(2.0 * c.max_accel_m_s2 * abs(d))
                v_des = math.copysign(min(c.cruise_speed_m_s, v_brake, c.position_gain_1_s * abs(d) + 0.02), d)
        elif self.state is PatrolState.DWELL:
            self.dwell_left -= dt
            self.waited_s += dt
            released = not c.wait_for_inspection or self.inspection_done
            if c.wait_for_inspection and not self.inspection_done and self.waited_s >= c.max_wait_s:
                released = True
                self.timeouts += 1
            if self.dwell_left <= 0.0 and released and self.interlock_ok:
                if self.index + 1 < len(c.inspection_points_m):
                    self.index += 1
                    self.state = PatrolState.TRAVEL
                elif c.loop:
                    self.index = 0
                    self.state = PatrolState.TRAVEL
                else:
                    self.state = PatrolState.DONE
        if not self.interlock_ok:
            v_des = 0.0  # never move the carriage with the probe out
        dv = float(np.clip(v_des - self.v, -c.max_accel_m_s2 * dt, c.max_accel_m_s2 * dt))
        v = self.safety.limit_scalar_speed(self.v + dv)
        if self.x <= 0.0 and v < 0 or self.x >= c.rail_length_m and v > 0:
            v = 0.0  # never drive off the rail ends
        self.v = v
        return v
