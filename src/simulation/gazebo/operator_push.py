"""Scripted operator pushes replayed in Gazebo: a push schedule → timed ``ApplyLinkWrench`` wrenches.

Headless simulators push a link with a force profile (rows ``t_start t_end fx fy fz``, world frame, N).
Gazebo Harmonic applies forces to links through the ``ApplyLinkWrench`` world system, which takes
``gz.msgs.EntityWrench`` messages — a type Sanqin's standard-message nodes cannot publish. So the
profile becomes *events*: each row adds its force at ``t_start`` and takes it away at ``t_end`` (a
persistent wrench of ``+f``, then one of ``-f``: ``ApplyLinkWrench`` sums persistent wrenches, so
overlapping rows add up as headless, and no ``clear`` message can race a new wrench). One
``TriggeredPublisher`` per event holds that event's ``EntityWrench`` in the world file, triggered by the
event's index on a ``gz.msgs.Int32`` topic; the :class:`OperatorPush` component (node
``operator_push``) publishes the index as ``std_msgs/Int32`` at the event's time on the node clock (sim
time), through the bridge. Everything is generated from the scenario's profile, so the schedule in the
world file and the node's times cannot disagree.

Headless, the arm stands at its home configuration from t = 0 and the controller's first joint state is
that pose. In Gazebo the arm starts at its zero configuration and its joint controller drives it home, and
a controller that saw it on the way would latch (and hold) that pose. So the operator *hands the arm over*:
the component relays the arm's joint states (``joint_states_in`` → ``joint_states``) only once the joints
have stood at ``home_q_rad`` (within ``home_tolerance_rad``) for ``settle_s``, and the push schedule's
clock starts at that hand-over. The start (node-clock time) is the schedule's offset; the twin's scorer
reads it from the first event's time and shifts the headless metric times by it. A robot that needs no
hand-over (a velocity-commanded base) starts the schedule at its controller's first command instead
(``start_on_command``: the first message on ``command``), the moment the headless controller runs from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sanqin.common.types import JointStates
from sanqin.runtime.config import param, require


def push_events(profile: tuple[float, ...] | list[float]) -> list[tuple[float, tuple[float, float, float]]]:
    """(time s, force change N) per event of a ``t_start t_end fx fy fz`` profile, in time order (stable)."""
    rows = np.asarray(profile, dtype=np.float64).reshape(-1, 5)
    events: list[tuple[float, tuple[float, float, float]]] = []
    for t0, t1, fx, fy, fz in rows:
        events.append((float(t0), (float(fx), float(fy), float(fz))))
        events.append((float(t1), (-float(fx), -float(fy), -float(fz))))
    return sorted(events, key=lambda e: e[0])


@dataclass(frozen=True)
class OperatorPushConfig:
    """The event times of a push schedule and when the schedule starts."""

    event_times_s: tuple[float, ...] = param((0.5, 3.5), "event times from the schedule start (s), ascending")
    home_q_rad: tuple[float, ...] = param((), "hand the arm over and start once the joints stand here "
                                               "(rad, joint_names order); empty: at the first tick")
    joint_names: tuple[str, ...] = param((), "joints of home_q_rad")
    home_tolerance_rad: float = param(0.01, "joint distance counted as at home (rad)", min=0.0)
    settle_s: float = param(0.2, "time at home before the schedule starts (s)", min=0.0)
    start_on_command: bool = param(False, "start the schedule at the first message on command (instead of the "
                                          "hand-over or the first tick)")
    period_s: float = param(0.002, "tick period (s)", min=1e-4, max=1.0)

    def __post_init__(self) -> None:
        require(len(self.event_times_s) > 0, "event_times_s needs at least one event")
        require(all(math.isfinite(t) and t >= 0 for t in self.event_times_s), "event_times_s must be finite, >= 0")
        require(all(b >= a for a, b in zip(self.event_times_s, self.event_times_s[1:])),
                "event_times_s must be ascending")
        require(len(self.home_q_rad) == len(self.joint_names), "one home position per joint name")
        require(all(math.isfinite(q) for q in self.home_q_rad), "home_q_rad must be finite")
        require(not (self.start_on_command and self.joint_names),
                "start_on_command and a home configuration are two different starts: pick one")


class OperatorPush:
    """``on_joint_states`` hands the arm over once it stands at home, then relays its joint states; ``tick``
    returns the indices of the push events now due."""

    def __init__(self, config: OperatorPushConfig) -> None:
        self.config = config
        self.start_s: float | None = None
        self.home_since_s: float | None = None
        self.next = 0
        self.counters = {"events": 0, "relayed": 0, "rejected_joint_states": 0}

    def on_joint_states(self, js: JointStates, t_s: float) -> dict[str, JointStates] | None:
        """Relay the joint states after the hand-over; before it, track how long the joints stand at home
        (states missing a joint or with a non-finite position are rejected and counted)."""
        cfg = self.config
        if self.start_s is None and cfg.joint_names:
            pos = dict(zip(js.names, np.asarray(js.position, dtype=np.float64)))
            if not all(n in pos and math.isfinite(pos[n]) for n in cfg.joint_names):
                self.counters["rejected_joint_states"] += 1
                return None
            err = max(abs(pos[n] - q) for n, q in zip(cfg.joint_names, cfg.home_q_rad))
            if err > cfg.home_tolerance_rad:
                self.home_since_s = None
            elif self.home_since_s is None:
                self.home_since_s = t_s
            if self.home_since_s is None or t_s - self.home_since_s < cfg.settle_s:
                return None
            self.start_s = t_s
        if self.start_s is None:
            if cfg.start_on_command:
                return None
            self.start_s = t_s  # nothing to wait for: hand over at the first state
        self.counters["relayed"] += 1
        return {"joint_states": js}

    def on_command(self, _command: object, t_s: float) -> None:
        """The pushed robot's controller is running: with ``start_on_command`` the schedule starts now."""
        if self.config.start_on_command and self.start_s is None:
            self.start_s = t_s

    def tick(self, t_s: float) -> dict[str, list[int]] | None:
        """Publish every event whose time has come (a late tick publishes them together, in order)."""
        cfg = self.config
        if self.start_s is None:
            if cfg.joint_names or cfg.start_on_command:
                return None  # the hand-over (on_joint_states) or the first command (on_command) starts it
            self.start_s = t_s
        due: list[int] = []
        while self.next < len(cfg.event_times_s) and t_s - self.start_s >= cfg.event_times_s[self.next] - 1e-9:
            due.append(self.next)
            self.next += 1
        if not due:
            return None
        self.counters["events"] += len(due)
        return {"event": due}

    def metrics(self) -> dict[str, float]:
        """Events published and the schedule start (s, node clock; NaN before it)."""
        return {**{k: float(v) for k, v in self.counters.items()},
                "start_s": float("nan") if self.start_s is None else self.start_s}
