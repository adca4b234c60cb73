"""What every rehabilitation simulator shares: the therapy node's bus I/O, session scheduling, fault injection
and an independent measurement of every patient limit.

A world plugin (planar robot, exoskeleton) owns the physics and calls the harness: :meth:`TherapyHarness.begin_step`
(starts sessions, fires spasms), :meth:`~TherapyHarness.effort_now` (the drive's torque, zero after a command
timeout), :meth:`~TherapyHarness.measure` (limit margins), :meth:`~TherapyHarness.publishing` (false during a
sensor dropout) and :meth:`~TherapyHarness.note_sample` (spasm visibility for the reaction metric).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from sanqin.msgs.control import float64_array_from_msg
from sanqin.rehab_robot.profile import PatientProfile


class TherapyHarness:
    """Bus I/O, session scheduling, fault injection and limit measurement around a simulated rehab robot."""

    def __init__(self, ctx: Any, config: Any, profile: PatientProfile, n_joints: int,
                 on_target: Callable[[float, np.ndarray], None], on_session: Callable[[int], None],
                 on_move: Callable[[float], None]) -> None:
        self.ctx, self.config, self.profile, self.n = ctx, config, profile, n_joints
        self._on_target_cb, self._on_session_cb, self._on_move_cb = on_target, on_session, on_move
        self.effort = np.zeros(n_joints)
        self.last_command_t = -math.inf
        self.commands_rejected = 0
        self.phase = ""
        self.session_k = 0
        self.next_start_s = config.start_at_s if config.sessions > 0 else math.inf
        self.sessions_done = 0
        self.start_failures: list[str] = []
        self.spasm_pending = sorted(config.spasm_at_s)
        self.spasm_onsets: list[float] = []
        self.first_spasm_sample: float | None = None
        self.hold_at: float | None = None
        self.last_sample_before_dropout: float | None = None
        self.stop_at: float | None = None
        self.max = {"rom_excursion": -math.inf, "speed_ratio": 0.0, "interaction_ratio": 0.0, "torque_ratio": 0.0}
        self.t = 0.0
        self.dt = 0.001
        self._v_slow: np.ndarray | None = None
        ctx.subscribe(config.effort_topic, "std_msgs/msg/Float64MultiArray", self._on_effort)
        ctx.subscribe(config.target_topic, "geometry_msgs/msg/PointStamped", self._on_target)
        ctx.subscribe(config.phase_topic, "std_msgs/msg/String", self._on_phase)
        ctx.subscribe(config.events_topic, "std_msgs/msg/String", self._on_event)

    # --- bus callbacks ----------------------------------------------------------------------------
    def _on_effort(self, msg: Any) -> None:
        try:
            tau = float64_array_from_msg(msg)
        except ValueError:
            self.commands_rejected += 1
            return
        if tau.size != self.n or not np.all(np.isfinite(tau)):
            self.commands_rejected += 1  # a real drive refuses malformed commands
            return
        self.effort = tau
        self.last_command_t = self.t

    def _on_target(self, msg: Any) -> None:
        self._on_target_cb(self.t, np.array([msg.point.x, msg.point.y, msg.point.z]))

    def _on_phase(self, msg: Any) -> None:
        phase = str(msg.data)
        if phase == "move" and self.phase != "move":
            self._on_move_cb(self.t)
        if phase == "done" and self.phase != "done":
            self.sessions_done += 1
            if self.session_k < self.config.sessions:
                self._on_session_cb(self.config.first_session + self.session_k)  # recovery between sessions
                self.next_start_s = self.t + self.config.between_sessions_s
        self.phase = phase

    def _on_event(self, msg: Any) -> None:
        try:
            ev = json.loads(msg.data)
        except (TypeError, ValueError):
            return
        kind = ev.get("kind") if isinstance(ev, dict) else None
        if kind == "spasm" and self.hold_at is None and self.first_spasm_sample is not None:
            self.hold_at = self.t
        c = self.config
        if kind == "sensor_timeout" and self.stop_at is None and c.dropout_at_s >= 0 and self.t >= c.dropout_at_s:
            self.stop_at = self.t

    # --- per step -----------------------------------------------------------------------------------
    def begin_step(self, t_s: float, dt_s: float) -> list[float]:
        """Start a due session; return the spasm onsets due now."""
        self.dt = dt_s
        if t_s >= self.next_start_s:
            self.next_start_s = math.inf
            self.session_k += 1
            result = self.ctx.node(self.config.node).call_service("~/start")
            if not result.success:
                self.start_failures.append(result.message)
        due = []
        while self.spasm_pending and t_s >= self.spasm_pending[0]:
            due.append(self.spasm_pending.pop(0))
            self.spasm_onsets.append(t_s)
        return due

    def effort_now(self, t_s: float) -> np.ndarray:
        """The drive's torque: the last command, or zero once commands stop for ``command_timeout_s``."""
        self.t = t_s
        return self.effort if t_s - self.last_command_t <= self.config.command_timeout_s else np.zeros(self.n)

    def publishing(self, t_s: float) -> bool:
        """False during the injected sensor dropout."""
        c = self.config
        if c.dropout_at_s >= 0 and c.dropout_at_s <= t_s < c.dropout_at_s + c.dropout_s:
            return False
        if c.dropout_at_s >= 0 and t_s < c.dropout_at_s:
            self.last_sample_before_dropout = t_s
        return True

    def measure(self, x: np.ndarray, v: np.ndarray, interaction: np.ndarray, tau: np.ndarray) -> None:
        """Fold the true state into the limit margins (task coordinates, patient limits)."""
        lim = self.profile.limits
        m = self.max
        m["rom_excursion"] = max(m["rom_excursion"], float(np.max(np.maximum(lim.task_min - x, x - lim.task_max))))
        speed = float(np.max(np.abs(v))) if lim.task_unit == "rad" else float(np.linalg.norm(v))
        m["speed_ratio"] = max(m["speed_ratio"], speed / lim.max_speed)
        f = float(np.max(np.abs(interaction))) if lim.task_unit == "rad" else float(np.linalg.norm(interaction))
        m["interaction_ratio"] = max(m["interaction_ratio"], f / lim.max_interaction)
        m["torque_ratio"] = max(m["torque_ratio"], float(np.max(np.abs(tau) / lim.max_joint_torque_nm)))

    def note_sample(self, t_s: float, v: np.ndarray, measured: np.ndarray) -> None:
        """After publishing: the first sample whose interaction opposes the recent motion beyond the spasm level."""
        self._v_slow = v.copy() if self._v_slow is None else self._v_slow + min(1.0, self.dt / 0.1) * (
            v - self._v_slow)
        if self.spasm_onsets and self.first_spasm_sample is None:
            u = self._v_slow / max(float(np.linalg.norm(self._v_slow)), 1e-9)
            if -float(measured @ u) > self.profile.spasm_opposing:
                self.first_spasm_sample = t_s

    def done(self) -> bool:
        """All requested sessions completed."""
        return self.config.sessions > 0 and self.sessions_done >= self.config.sessions

    def metrics(self, unit: str) -> dict[str, float]:
        """Limit margins (``rom_excursion_<unit>`` ≤ 0 means inside the ROM), reactions, sessions."""
        out = {("rom_excursion_" + unit if k == "rom_excursion" else k): float(v) for k, v in self.max.items()}
        out.update(sessions_done=float(self.sessions_done), start_failures=float(len(self.start_failures)),
                   commands_rejected=float(self.commands_rejected))
        if self.first_spasm_sample is not None:
            out["spasm_hold_cycles"] = (round((self.hold_at - self.first_spasm_sample) / self.dt)
                                        if self.hold_at is not None else math.inf)
        if self.last_sample_before_dropout is not None and self.config.dropout_at_s >= 0:
            out["dropout_stop_s"] = (self.stop_at - self.last_sample_before_dropout
                                     if self.stop_at is not None else math.inf)
        return out
