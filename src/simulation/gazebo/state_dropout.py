"""A scheduled joint-state dropout replayed in a Gazebo twin: relay the simulator's joint states but a window.

Headless simulators can stop publishing a robot's joint states for a while (an encoder or its bus drops out)
so that the controllers' watchdogs are exercised. Gazebo's ``JointStatePublisher`` cannot be silenced on a
schedule, so the twin bridges its joint states to a private topic and this component relays them to the
controllers' topic — except from ``start_s`` to ``start_s + duration_s``.

The window is counted on the node clock (sim time) from the *reference*: time 0, as headless, or — with
``start_on_command`` — the first controller command (a message on ``command``), because in Gazebo the
controllers start after the simulation; the twin then passes ``start_s`` as the headless start less the time
of the first headless command, so the dropout hits the same moment of the robot's motion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sanqin.common.types import JointStates
from sanqin.runtime.config import param, require


@dataclass(frozen=True)
class JointStateDropoutConfig:
    """The dropout window and what it is counted from."""

    start_s: float = param(0.0, "window start after the reference (s)", min=0.0)
    duration_s: float = param(0.0, "window length (s; 0 = relay everything)", min=0.0)
    start_on_command: bool = param(False, "count from the first message on command instead of time 0")

    def __post_init__(self) -> None:
        require(math.isfinite(self.start_s) and math.isfinite(self.duration_s), "start_s and duration_s must be finite")


class JointStateDropout:
    """``on_joint_states`` relays outside the window; ``on_command`` fixes the reference at the first command."""

    def __init__(self, config: JointStateDropoutConfig) -> None:
        self.config = config
        self.reference_s: float | None = None if config.start_on_command else 0.0
        self.counters = {"relayed": 0, "dropped": 0, "commands": 0}

    def on_command(self, _command: object, t_s: float) -> None:
        """A controller command: the first one starts the schedule (with ``start_on_command``)."""
        self.counters["commands"] += 1
        if self.reference_s is None:
            self.reference_s = t_s

    def dropping(self, t_s: float) -> bool:
        """Whether joint states at node time ``t_s`` fall in the dropout window."""
        c = self.config
        if self.reference_s is None or c.duration_s <= 0:
            return False
        return c.start_s <= t_s - self.reference_s < c.start_s + c.duration_s

    def on_joint_states(self, js: JointStates, t_s: float) -> dict[str, JointStates] | None:
        """Relay ``js`` unless it falls in the window."""
        if self.dropping(t_s):
            self.counters["dropped"] += 1
            return None
        self.counters["relayed"] += 1
        return {"joint_states": js}

    def metrics(self) -> dict[str, float]:
        """Counters and the reference (s, node clock; NaN before the first command)."""
        return {**{k: float(v) for k, v in self.counters.items()},
                "reference_s": math.nan if self.reference_s is None else self.reference_s}
