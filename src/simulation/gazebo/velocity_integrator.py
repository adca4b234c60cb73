"""An integrating velocity drive's set-point: speed commands integrated into a position target (Gazebo twins).

Some drives of our robots are *integrating velocity servos*: the commanded speed is integrated into a
position set-point that a stiff, force-limited position servo tracks (MuJoCo's ``intvelocity`` actuator,
and real velocity loops with integral action). Pressing on a rigid obstacle, such a drive pushes with the
servo stiffness times how far the set-point has run ahead — not with its force limit, as an exact velocity
constraint would. Gazebo Harmonic has the position servo (``JointPositionController``: PID force on the
joint) but nothing that integrates speed commands, so this component does it: every ``period_s`` it
advances the target by the held speed command times the elapsed (node-clock, i.e. sim) time and publishes
it; the twin bridges it to the controller's ``gz.msgs.Double`` target topic.

It behaves as the integrating drive at its command interface:

* the target starts at ``initial_position`` (the joint's position at start, where the servo holds it) and
  is clamped to ``[min_position, max_position]`` (the drive's set-point range, MuJoCo ``actrange``), counted
  per saturated tick;
* a speed is applied from the time it arrives until the next one (zero-order hold, integrated exactly
  between ticks); a non-finite speed is rejected and counted, and the last speed stays in force;
* when no speed has arrived for ``timeout_s`` the target stops (speed 0) — a silent controller never
  leaves the set-point running away — counted once per timeout; time going back by more than ``timeout_s``
  (a Gazebo reset) makes the held speed stale too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sanqin.runtime.config import param, require


@dataclass(frozen=True)
class VelocityIntegratorConfig:
    """Initial target, set-point range, command timeout and publication period."""

    initial_position: float = param(0.0, "target at start: the joint position the servo holds (m or rad)")
    min_position: float = param(-1e9, "lowest target (m or rad; the drive's set-point range)")
    max_position: float = param(1e9, "highest target (m or rad)")
    timeout_s: float = param(0.1, "the target stops when no speed has arrived for this long (s)",
                             min=0.001, max=60.0)
    period_s: float = param(0.01, "target integration and publication period (s)", min=1e-4, max=1.0)

    def __post_init__(self) -> None:
        for name in ("initial_position", "min_position", "max_position"):
            require(math.isfinite(getattr(self, name)), f"{name} must be finite")
        require(self.min_position <= self.initial_position <= self.max_position,
                f"need min_position <= initial_position <= max_position, got {self.min_position}, "
                f"{self.initial_position}, {self.max_position}")


class VelocityIntegrator:
    """``on_velocity`` takes a speed command; ``tick`` integrates it and returns the position target."""

    def __init__(self, config: VelocityIntegratorConfig) -> None:
        self.config = config
        self.target = config.initial_position
        self.speed = 0.0
        self.last_command_s = -math.inf
        self.integrated_to_s: float | None = None  # node time up to which the target is integrated
        self.stale = True
        self.counters = {"commands": 0, "rejected_non_finite": 0, "timeouts": 0, "saturated": 0, "published": 0}

    def _advance(self, t_s: float) -> None:
        """Integrate the held speed up to ``t_s`` (never past its timeout; time going back restarts)."""
        c = self.config
        if self.integrated_to_s is None or t_s < self.integrated_to_s:
            if self.integrated_to_s is not None and t_s < self.integrated_to_s - c.timeout_s:
                self.last_command_s = -math.inf  # a reset: the held speed predates it, stale as after a timeout
            self.integrated_to_s = t_s
            return
        until = min(t_s, self.last_command_s + c.timeout_s)
        if until > self.integrated_to_s:
            raw = self.target + self.speed * (until - self.integrated_to_s)
            self.target = min(max(raw, c.min_position), c.max_position)
            if self.target != raw:
                self.counters["saturated"] += 1
        self.integrated_to_s = t_s

    def on_velocity(self, speed: float, t_s: float) -> None:
        """A speed command (m/s or rad/s): in force from now on; non-finite speeds are rejected."""
        if not math.isfinite(speed):
            self.counters["rejected_non_finite"] += 1
            return
        self._advance(t_s)
        self.speed, self.last_command_s, self.stale = float(speed), t_s, False
        self.counters["commands"] += 1

    def tick(self, t_s: float) -> dict[str, float]:
        """The target at ``t_s`` (published every tick: the servo tracks it)."""
        self._advance(t_s)
        if not self.stale and t_s - self.last_command_s > self.config.timeout_s:
            self.stale = True
            self.counters["timeouts"] += 1
        self.counters["published"] += 1
        return {"position": self.target}

    def metrics(self) -> dict[str, float]:
        """Counters, the current target and whether the commands are stale."""
        return {**{k: float(v) for k, v in self.counters.items()}, "target": self.target,
                "stale": float(self.stale)}
