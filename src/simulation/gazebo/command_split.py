"""A ros2_control forward-command array split into one scalar command per joint, for Gazebo joint systems.

Our nodes command ros2_control forward controllers (position, velocity or effort) with one
``std_msgs/Float64MultiArray`` per cycle, in the controller's joint order. ``ros_gz_bridge`` cannot carry
that type, while Gazebo Harmonic's joint systems (``ApplyJointForce``, ``JointController``,
``JointPositionController``) each read one ``gz.msgs.Double`` per joint — which the bridge carries as
``std_msgs/Float64``. This component publishes element *i* of each accepted array as ``joint_i``; the
twin's bridge maps each ``joint_i`` topic to its joint's Gazebo topic.

It behaves as a ros2_control drive does at its command interface:

* an array whose size differs from ``expected_size`` (when set) or that holds NaN/inf is rejected and
  counted, and nothing of it is applied (never a partial command);
* when no accepted array has arrived for ``timeout_s`` and ``on_timeout`` is ``hold_value`` (effort and
  velocity interfaces), every joint is commanded ``hold_value`` (zero), repeated every ``period_s`` until
  commands return (also when sim time goes back, e.g. a Gazebo reset: the last command predates it) —
  Gazebo's joint systems otherwise keep applying the last command for ever; with
  ``keep_last`` (position interfaces: a position controller holding its last target is the safe stop,
  a zero target would swing the arm to its zero pose) nothing is published and the timeout is only counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sanqin.common.diagnostics import DiagLevel, DiagnosticStatus
from sanqin.runtime.config import param, require

#: Outputs ``joint_0`` … ``joint_{MAX_JOINTS-1}``.
MAX_JOINTS = 8


@dataclass(frozen=True)
class CommandSplitConfig:
    """Expected array size, command timeout and its hold value, and the timeout check period."""

    expected_size: int = param(0, "joints per command array (0: any size up to 8)", min=0, max=MAX_JOINTS)
    timeout_s: float = param(0.1, "command hold_value on every joint when commands stop this long (s)",
                             min=0.001, max=60.0)
    on_timeout: str = param("hold_value", "on timeout: command hold_value (effort/velocity) or keep_last "
                            "(position: the controllers hold their last target)", choices=("hold_value", "keep_last"))
    hold_value: float = param(0.0, "command applied on timeout with on_timeout hold_value (0: zero effort or velocity)")
    period_s: float = param(0.01, "timeout check / hold repeat period (s)", min=0.001, max=1.0)

    def __post_init__(self) -> None:
        require(math.isfinite(self.hold_value), f"hold_value must be finite, got {self.hold_value!r}")


def output_topic(index: int) -> str:
    """The output topic carrying element ``index``."""
    return f"joint_{index}"


class CommandSplit:
    """``on_command`` splits an accepted array; ``tick`` commands the hold value when commands are stale."""

    def __init__(self, config: CommandSplitConfig) -> None:
        self.config = config
        self.size = 0  # joints of the last accepted command (none yet)
        self.last_t = -math.inf
        self.holding = False
        self.counters = {"commands": 0, "rejected_size": 0, "rejected_non_finite": 0, "timeouts": 0, "holds": 0}

    def on_command(self, values: np.ndarray, t_s: float) -> dict[str, float] | None:
        data = np.asarray(values, dtype=float).reshape(-1)
        c = self.config
        if data.size == 0 or data.size > MAX_JOINTS or (c.expected_size and data.size != c.expected_size):
            self.counters["rejected_size"] += 1
            return None
        if not np.all(np.isfinite(data)):
            self.counters["rejected_non_finite"] += 1
            return None
        self.counters["commands"] += 1
        self.size, self.last_t, self.holding = data.size, t_s, False
        return {output_topic(i): float(v) for i, v in enumerate(data)}

    def tick(self, t_s: float) -> dict[str, float] | None:
        timeout = self.config.timeout_s
        if self.size == 0 or -timeout <= t_s - self.last_t <= timeout:
            return None  # no joint known yet (nothing was ever applied), or commands are fresh (time going back
            # further, a reset, makes them stale: the joints hold instead of keeping the last command until then)
        if not self.holding:
            self.holding = True
            self.counters["timeouts"] += 1
        if self.config.on_timeout == "keep_last":
            return None
        self.counters["holds"] += 1
        return {output_topic(i): self.config.hold_value for i in range(self.size)}

    def diagnostics(self) -> list[DiagnosticStatus]:
        """Counters on /diagnostics; WARN while commands are stale (the joints hold) or after rejections."""
        c = self.counters
        if self.holding:
            level, text = DiagLevel.WARN, f"no command for over {self.config.timeout_s:g} s ({self.config.on_timeout})"
        elif c["rejected_size"] or c["rejected_non_finite"]:
            level, text = DiagLevel.WARN, "commands rejected (wrong size or non-finite)"
        else:
            level, text = DiagLevel.OK, "ok"
        values = {k: str(v) for k, v in c.items()} | {"joints": str(self.size)}
        return [DiagnosticStatus(level, "sanqin/gazebo/joint_command_split", text, "", values)]

    def metrics(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.counters.items()} | {"holding": float(self.holding)}
