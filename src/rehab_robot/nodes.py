"""The rehabilitation-robot node: therapy controller + independent safety supervisor + durable sessions.

Interfaces (standard messages only — an ament_python package cannot define .msg types):

* in: ``joint_states`` (sensor_msgs/JointState, joints named by ``joint_names``), ``wrench``
  (geometry_msgs/WrenchStamped: the force the patient applies to the handle/cuff, expressed in the robot
  base frame; ``interaction_axes`` picks the components, e.g. ``force.x, force.y`` for the end-effector
  robot or ``torque.z`` for the elbow exoskeleton), ``emg`` (std_msgs/Float64 EMG envelope),
  ``bci_confidence`` (std_msgs/Float64 motor-imagery confidence 0..1), ``estop`` (std_msgs/Bool, true =
  pressed), ``mode_request`` (std_msgs/String: passive | active_assist | transparent | resistive | plan);
* out: ``effort_commands`` (std_msgs/Float64MultiArray for a ros2_control effort forward controller),
  ``~/target`` (geometry_msgs/PointStamped, the current reach target for the patient's display),
  ``~/phase`` (std_msgs/String, latched), ``~/safety`` (diagnostic_msgs/DiagnosticArray, latched, on every
  safety change: key ``state`` plus the cause), ``~/safety_events`` (std_msgs/String, one JSON object per
  event), ``~/live_metrics`` (diagnostic_msgs/DiagnosticArray, key/value metrics for a therapist screen);
  the node and supervisor health also go to /diagnostics;
* services (std_srvs): ``~/start``, ``~/stop``, ``~/reset_safety``, ``~/mode/<mode>`` (Trigger);
  ``~/pause``, ``~/estop`` (SetBool).

Every control cycle (``control_period_s``) the therapy controller computes a torque command from the
latest samples and the supervisor — which reads the same raw samples itself — decides the applied torque.
The watchdog uses the arrival time of the older of the two sensor streams; a sample whose stamp is not
finite, goes back or repeats the last one is refused, so it cannot keep the watchdog fed. A controller that
raises yields a non-finite command, which the supervisor turns into a safe stop in the same cycle. The
``estop`` topic and the ``~/estop`` service are separate e-stop inputs (releasing one never releases the
other); a reset is refused while either is pressed. Sessions are written to
``<session_dir>/<patient_id>/<session_prefix>NNN.jsonl`` (append-only, checksummed, fsync'ed); a new
session starts with the assistance gain the patient's previous session ended with.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sanqin.common.diagnostics import DiagLevel, DiagnosticStatus
from sanqin.common.types import JointStates, WrenchStamped
from sanqin.msgs.control import float64_array_to_msg
from sanqin.msgs.diagnostics import diagnostics_to_msg
from sanqin.msgs.geometry import wrench_stamped_from_msg
from sanqin.msgs.rehab import (
    bool_from_msg,
    float64_from_msg,
    string_from_msg,
    string_to_msg,
    target_to_msg,
)
from sanqin.msgs.sensors import joint_state_from_msg
from sanqin.rehab_robot.errors import RehabError, SessionLogError, SessionStateError
from sanqin.rehab_robot.plan import MODES, check_plan_against_profile, load_plan
from sanqin.rehab_robot.profile import load_profile
from sanqin.rehab_robot.robots import ROBOT_KINDS, make_robot
from sanqin.rehab_robot.session_log import SessionRecorder, SessionWriter, last_assist_gain, session_path
from sanqin.rehab_robot.supervisor import SafetyEvent, SafetyInput, SafetyState, SafetySupervisor, SupervisorConfig
from sanqin.rehab_robot.therapy import RobotSample, TherapyConfig, TherapySession
from sanqin.runtime.config import nested, param, require, to_params
from sanqin.runtime.node import Input, NodeSpec, Output, Qos, Service, ServiceResult, Timer
from sanqin.runtime.paths import resolve_data_path

log = logging.getLogger("sanqin.rehab_robot")

AXES = ("force.x", "force.y", "force.z", "torque.x", "torque.y", "torque.z")


@dataclass(frozen=True)
class RehabNodeConfig:
    """Parameters of the rehab_robot node."""

    robot: str = param("planar", "robot kind", choices=ROBOT_KINDS, read_only=True)
    joint_names: tuple[str, ...] = param(("r_shoulder", "r_elbow"), "actuated joints, in robot-model order",
                                         read_only=True)
    interaction_axes: tuple[str, ...] = param(("force.x", "force.y"), "wrench components forming the task-space "
                                              "interaction (one per task axis)", read_only=True)
    profile_file: str = param("sim/rehab/profile_planar_example.yaml", "patient profile (relative: share folder)",
                              read_only=True)
    plan_file: str = param("sim/rehab/plan_center_out.yaml", "therapy plan (relative: share folder)")
    session_dir: str = param("rehab_sessions", "folder of the session files (relative: working directory)")
    session_prefix: str = param("session_", "session file name prefix")
    control_period_s: float = param(0.001, "control cycle (s)", min=0.0002, max=0.02, read_only=True)
    live_metrics_period_s: float = param(0.5, "live-metrics publishing period (s)", min=0.05, max=10.0)
    auto_start: bool = param(False, "start a session as soon as sensor data flows")
    fsync_every: int = param(20, "fsync the session file at least every n records", min=1, max=10000)
    report_on_end: bool = param(False, "write a Markdown/HTML report with plots when a session ends")
    target_frame: str = param("rehab_base", "frame of the published target")
    supervisor: SupervisorConfig = nested(SupervisorConfig)
    therapy: TherapyConfig = nested(TherapyConfig)

    def __post_init__(self) -> None:
        robot = make_robot(self.robot)
        require(len(self.joint_names) == robot.n_joints,
                f"joint_names: robot {self.robot!r} has {robot.n_joints} joints, got {list(self.joint_names)}")
        require(len(self.interaction_axes) == robot.n_task,
                f"interaction_axes: robot {self.robot!r} has {robot.n_task} task axes, got "
                f"{list(self.interaction_axes)}")
        bad = [a for a in self.interaction_axes if a not in AXES]
        require(not bad, f"interaction_axes: unknown component(s) {bad}; known: {list(AXES)}")
        # the supervisor sees time only at the control ticks: a watchdog or clock-jump bound within two periods
        # would stop on every ordinary tick (a node that can never run), so it is a configuration error
        require(self.supervisor.sensor_timeout_s >= 2 * self.control_period_s,
                f"supervisor.sensor_timeout_s {self.supervisor.sensor_timeout_s:g} s must be at least two control "
                f"periods ({2 * self.control_period_s:g} s)")
        require(self.supervisor.max_clock_jump_s >= 2 * self.control_period_s,
                f"supervisor.max_clock_jump_s {self.supervisor.max_clock_jump_s:g} s must be at least two control "
                f"periods ({2 * self.control_period_s:g} s)")


class RehabNode:
    """Component of the rehab_robot node (see the module docstring)."""

    def __init__(self, config: RehabNodeConfig) -> None:
        self.config = config
        self.robot = make_robot(config.robot)
        self.profile = load_profile(resolve_data_path(config.profile_file), self.robot)
        self.plan = load_plan(resolve_data_path(config.plan_file))
        check_plan_against_profile(self.plan, self.profile)
        self.supervisor = SafetySupervisor(config.supervisor, self.robot, self.profile, self._on_safety_event)
        self._axes = [(0 if a.startswith("force") else 1, "xyz".index(a[-1])) for a in config.interaction_axes]
        self.q: np.ndarray | None = None
        self.qd: np.ndarray | None = None
        self.f_int: np.ndarray | None = None
        self.js_time = self.wrench_time = -math.inf
        self._js_stamp = self._w_stamp = -math.inf
        self.session: TherapySession | None = None
        self.recorder: SessionRecorder | None = None
        self.session_file: Path | None = None
        self.history: list[dict[str, Any]] = []  # summaries of the sessions run by this node
        self._pending_events: list[SafetyEvent] = []
        self._published_state: tuple[str, str] | None = None
        self._published_target: tuple[float, ...] | None = None
        self._published_phase = ""
        self.samples_rejected = 0
        self.cycles = 0
        self._estop_topic = False  # the estop topic (e.g. a hardware button bridge)
        self._estop_service = False  # the ~/estop service (software)
        self.controller_errors = 0

    @property
    def estop_input(self) -> bool:
        """True while any e-stop source is pressed."""
        return self._estop_topic or self._estop_service

    # --- inputs -----------------------------------------------------------------------------------
    def on_joint_states(self, js: JointStates, t_s: float) -> None:
        """Store the robot joints' positions/velocities (reordered by ``joint_names``)."""
        index = {n: i for i, n in enumerate(js.names)}
        missing = [n for n in self.config.joint_names if n not in index]
        idx = [index[n] for n in self.config.joint_names if n in index]
        if missing or js.velocity.size == 0 or max(idx, default=0) >= min(js.position.size, js.velocity.size):
            self.samples_rejected += 1
            raise RehabError(f"joint_states lacks joints {missing} or positions/velocities for them")
        self._check_stamp("joint_states", js.stamp_s, self._js_stamp)
        self.q, self.qd = js.position[idx].copy(), js.velocity[idx].copy()
        self._js_stamp, self.js_time = js.stamp_s, t_s

    def on_wrench(self, w: WrenchStamped, t_s: float) -> None:
        """Store the interaction force/torque in task coordinates."""
        self._check_stamp("wrench", w.stamp_s, self._w_stamp)
        parts = (w.wrench.force_n, w.wrench.torque_nm)
        self.f_int = np.array([parts[p][i] for p, i in self._axes])
        self._w_stamp, self.wrench_time = w.stamp_s, t_s

    def on_emg(self, value: float, t_s: float) -> None:
        """EMG envelope sample."""
        if self.session is not None:
            self.session.on_emg(t_s, value)

    def on_bci(self, value: float, t_s: float) -> None:
        """Motor-imagery confidence sample."""
        if self.session is not None:
            self.session.on_bci(t_s, value)

    def on_estop(self, pressed: bool, t_s: float) -> dict[str, Any] | None:
        """E-stop topic input (true = pressed)."""
        self._estop_topic = bool(pressed)
        self._apply_estop(t_s, "e-stop input pressed")
        return self._safety_outputs(t_s)

    def on_mode_request(self, mode: str, t_s: float) -> None:
        """Training-mode request from a therapist's interface."""
        self._set_mode(mode, t_s)

    # --- the control cycle ------------------------------------------------------------------------
    def tick(self, t_s: float) -> dict[str, Any] | None:
        """One control cycle: therapy command → supervisor → effort command (+ state changes)."""
        if self.q is None or self.qd is None or self.f_int is None:
            return None  # nothing is commanded before both sensor streams have arrived
        self.cycles += 1
        q, qd, f = self.q, self.qd, self.f_int
        sensor_time = min(self.js_time, self.wrench_time)
        sup = self.supervisor
        try:
            if self.session is not None and self.session.phase not in ("done", "stopped"):
                tau_cmd = self.session.step(t_s, RobotSample(sensor_time, q, qd, f), sup.state, sup.epoch)
            elif np.all(np.isfinite(q)) and np.all(np.isfinite(qd)):
                tau_cmd = self.robot.compensation(q, qd)
            else:
                tau_cmd = np.zeros(self.robot.n_joints)
        except (RehabError, ArithmeticError, ValueError, TypeError, IndexError) as err:
            # a controller failure must not skip the supervisor (an effort forward controller would keep
            # applying the last command): a non-finite command makes the supervisor stop this very cycle
            self.controller_errors += 1
            log.error("therapy controller failed: %r", err)
            tau_cmd = np.full(self.robot.n_joints, np.nan)
        out = sup.step(SafetyInput(t_s, sensor_time, q, qd, f, tau_cmd))
        outputs: dict[str, Any] = {"effort_commands": out.tau_nm}
        outputs.update(self._safety_outputs(t_s) or {})
        s = self.session
        if s is not None:
            if s.phase in ("wait", "move"):  # the target goes out before the phase that starts reaching for it
                tgt = tuple(float(v) for v in s.target)
                if tgt != self._published_target:
                    self._published_target = tgt
                    outputs["~/target"] = (t_s, self.config.target_frame, np.array(tgt))
            if s.phase != self._published_phase:
                self._published_phase = s.phase
                outputs["~/phase"] = s.phase
            if s.phase in ("done", "stopped") and self.recorder is not None:
                self._finish_session()
        if self.config.auto_start and s is None and sup.state == SafetyState.RUN:
            try:
                self.start(None, t_s)
            except SessionStateError as err:
                log.error("auto start failed: %s", err)
        return outputs

    def publish_live_metrics(self, t_s: float) -> dict[str, Any]:
        """Periodic live metrics for the therapist's screen."""
        values = {k: (f"{v:.4g}" if isinstance(v, float) else str(v)) for k, v in self.live_metrics().items()}
        return {"~/live_metrics": (t_s, [DiagnosticStatus(DiagLevel.OK, "rehab_robot/live_metrics", "",
                                                          self.profile.patient_id, values)])}

    def live_metrics(self) -> dict[str, float | str]:
        """Therapy progress plus the safety state."""
        out: dict[str, float | str] = {"safety_state": self.supervisor.state.name,
                                       "sessions_completed": float(len(self.history))}
        if self.session is not None:
            out.update(self.session.live_metrics())
        return out

    # --- services ---------------------------------------------------------------------------------
    def start(self, request: Any, t_s: float) -> ServiceResult:
        """Start a new session of the plan."""
        if self.session is not None and self.session.phase not in ("done", "stopped"):
            raise SessionStateError(f"a session is already {self.session.phase!r}")
        if self.q is None or self.f_int is None:
            raise SessionStateError("no sensor data yet: joint_states and wrench must flow before a session")
        if self.supervisor.state != SafetyState.RUN:
            raise SessionStateError(f"safety is {self.supervisor.state.name} ({self.supervisor.state_cause}); "
                                    "reset it first")
        root = Path(self.config.session_dir).expanduser()
        pid = self.profile.patient_id
        folder = session_path(root, pid, "x").parent
        prefix = self.config.session_prefix
        numbers = [int(p.stem[len(prefix):]) for p in folder.glob(f"{prefix}*.jsonl")
                   if p.stem[len(prefix):].isdigit()] if folder.is_dir() else []
        index = max(numbers, default=-1) + 1  # after the newest: a missing older file must not cause a collision
        gain = last_assist_gain(root, pid)
        path = session_path(root, pid, f"{self.config.session_prefix}{index:03d}")
        header = {"patient_id": pid, "plan_id": self.plan.plan_id, "robot": self.config.robot,
                  "profile": self.profile.to_dict(), "config": to_params(self.config), "start_t_s": t_s,
                  "initial_assist_gain": gain}
        try:
            writer = SessionWriter(path, header, fsync_every=self.config.fsync_every)
        except SessionLogError as err:
            raise SessionStateError(f"cannot record the session: {err}") from err
        self.recorder = SessionRecorder(writer)
        self.session_file = path
        self.session = TherapySession(self.config.therapy, self.robot, self.profile, self.plan, gain, self.recorder)
        self._published_target = None
        self.session.start(t_s)
        log.info("session %s started (assistance gain %s)", path, gain)
        return ServiceResult(True, f"session started: {path}")

    def stop(self, request: Any, t_s: float) -> ServiceResult:
        """Stop the running session."""
        if self.session is None:
            raise SessionStateError("no session to stop")
        self.session.stop(t_s, "therapist stop")
        self._finish_session()
        return ServiceResult(True, "session stopped")

    def pause(self, request: bool, t_s: float) -> ServiceResult:
        """Pause (true) or resume (false) the running session."""
        if self.session is None:
            raise SessionStateError("no session")
        self.session.set_paused(t_s, bool(request))
        return ServiceResult(True, "paused" if request else "resumed")

    def reset_safety(self, request: Any, t_s: float) -> ServiceResult:
        """Clear a latched STOP/ESTOP (refused while the e-stop is pressed)."""
        ev = self.supervisor.reset(t_s, "therapist reset via ~/reset_safety")
        return ServiceResult(True, f"safety reset from {ev.state_before}")

    def estop(self, request: bool, t_s: float) -> ServiceResult:
        """Software e-stop: true presses, false releases it (a reset is still needed).

        The software e-stop and the ``estop`` topic are separate inputs: releasing one never releases the other.
        """
        self._estop_service = bool(request)
        self._apply_estop(t_s, "software e-stop (service)")
        if request:
            return ServiceResult(True, "e-stop pressed")
        if self._estop_topic:
            return ServiceResult(True, "software e-stop released; the e-stop input is still pressed")
        return ServiceResult(True, "e-stop released; reset to resume")

    def _set_mode(self, mode: str, t_s: float) -> ServiceResult:
        if self.session is None:
            raise SessionStateError("no session: start one before selecting a mode")
        self.session.set_mode(mode, t_s)
        return ServiceResult(True, f"mode {self.session.mode}")

    def mode_passive(self, request: Any, t_s: float) -> ServiceResult:
        """Select passive mode."""
        return self._set_mode("passive", t_s)

    def mode_active_assist(self, request: Any, t_s: float) -> ServiceResult:
        """Select active-assist (assist-as-needed) mode."""
        return self._set_mode("active_assist", t_s)

    def mode_transparent(self, request: Any, t_s: float) -> ServiceResult:
        """Select transparent mode."""
        return self._set_mode("transparent", t_s)

    def mode_resistive(self, request: Any, t_s: float) -> ServiceResult:
        """Select resistive mode."""
        return self._set_mode("resistive", t_s)

    def mode_plan(self, request: Any, t_s: float) -> ServiceResult:
        """Return to the plan's modes."""
        return self._set_mode("plan", t_s)

    # --- health -----------------------------------------------------------------------------------
    def diagnostics(self) -> list[DiagnosticStatus]:
        """Supervisor and session-recording health."""
        out = [self._safety_status()]
        if self.recorder is not None and self.recorder.error is not None:
            out.append(DiagnosticStatus(DiagLevel.ERROR, "rehab_robot/session_log", str(self.recorder.error), "",
                                        {"dropped": str(self.recorder.dropped)}))
        return out

    def metrics(self) -> dict[str, float]:
        """Counters and progress for scenario criteria."""
        sup = self.supervisor
        gains = [h["mean_assist_gain"] for h in self.history if h.get("mean_assist_gain") is not None]
        out = {
            "cycles": float(self.cycles), "samples_rejected": float(self.samples_rejected),
            "controller_errors": float(self.controller_errors),
            "sessions_completed": float(len(self.history)), "safety_state": float(sup.state),
            "safety_events": float(len(sup.events)),
            "holds": float(sum(e.kind == "spasm" for e in sup.events)),
            "stops": float(sum(e.state_after == "STOP" and e.state_before != "STOP" for e in sup.events)),
            "max_speed_seen": sup.max_speed_seen, "max_interaction_seen": sup.max_interaction_seen,
            "max_rom_excursion": sup.max_rom_excursion,
        }
        if gains:
            out["first_session_assist"] = gains[0]
            out["last_session_assist"] = gains[-1]
        if self.history:
            last = self.history[-1]
            for k in ("success_rate", "mean_sparc", "mean_peak_speed", "mean_path_deviation", "trials"):
                if isinstance(last.get(k), (int, float)):
                    out[f"last_session_{k}"] = float(last[k])
        if self.session is not None:
            out["assist_gain"] = self.session.aan.gain
            out["trials_done"] = float(len(self.session.trials))
        if self.recorder is not None:
            out["records_dropped"] = float(self.recorder.dropped)
        return out

    # --- internals --------------------------------------------------------------------------------
    def _check_stamp(self, what: str, stamp_s: float, last_s: float) -> None:
        """Refuse a non-finite, out-of-order or repeated stamp: none of them is fresh data for the watchdog."""
        if not math.isfinite(stamp_s) or stamp_s <= last_s:
            self.samples_rejected += 1
            why = "is not finite" if not math.isfinite(stamp_s) else (
                "repeats the last sample's" if stamp_s == last_s else f"went back from {last_s:.4f} s to")
            raise RehabError(f"{what} stamp {why} {stamp_s:.4f} s")

    def _apply_estop(self, t_s: float, cause: str) -> None:
        self.supervisor.set_estop(self.estop_input, t_s, cause)

    def _on_safety_event(self, ev: SafetyEvent) -> None:
        self._pending_events.append(ev)
        lvl = logging.INFO if ev.kind in ("reset", "release") else logging.WARNING
        log.log(lvl, "safety %s: %s (%s → %s)", ev.kind, ev.cause, ev.state_before, ev.state_after)
        if self.recorder is not None:
            self.recorder({"type": "safety", **ev.to_dict()})

    def _safety_status(self) -> DiagnosticStatus:
        """The supervisor's state as a status: OK in RUN, WARN in HOLD, ERROR when stopped."""
        sup = self.supervisor
        level = {SafetyState.RUN: DiagLevel.OK, SafetyState.HOLD: DiagLevel.WARN}.get(sup.state, DiagLevel.ERROR)
        return DiagnosticStatus(level, "rehab_robot/safety", sup.state_cause, self.profile.patient_id,
                                {"state": sup.state.name, "cause": sup.state_cause, "events": str(len(sup.events)),
                                 "estop_input": str(self.estop_input)})

    def _safety_outputs(self, t_s: float) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        sup = self.supervisor
        key = (sup.state.name, sup.state_cause)
        if key != self._published_state:
            self._published_state = key
            out["~/safety"] = (t_s, [self._safety_status()])
        if self._pending_events:
            out["~/safety_events"] = [json.dumps(e.to_dict()) for e in self._pending_events]
            self._pending_events = []
        return out or None

    def _finish_session(self) -> None:
        s, rec = self.session, self.recorder
        if s is None or rec is None:
            return
        summary = s.summary()
        gains = [t.assist_gain for t in s.trials if t.mode == "active_assist" and not t.aborted]
        summary["mean_assist_gain"] = float(np.mean(gains)) if gains else None
        self.history.append(summary)
        rec.close()
        self.recorder = None
        if self.config.report_on_end and self.session_file is not None:
            from sanqin.rehab_robot.report import write_session_report

            try:
                write_session_report(self.session_file, self.session_file.with_suffix(""))
            except (RehabError, OSError, ValueError) as err:
                log.error("session report failed: %s", err)
        log.info("session %s finished: %s", self.session_file, summary)


def _effort_out(tau: np.ndarray, factory: Any) -> Any:
    return float64_array_to_msg(tau, factory, "effort")


def _diag_out(value: tuple[float, list[DiagnosticStatus]], factory: Any) -> Any:
    return diagnostics_to_msg(value[1], value[0], factory)


REHAB_ROBOT = NodeSpec(
    name="rehab_robot",
    config=RehabNodeConfig,
    component=RehabNode,
    inputs=(
        Input("joint_states", "sensor_msgs/msg/JointState", "on_joint_states", joint_state_from_msg, Qos.SENSOR),
        Input("wrench", "geometry_msgs/msg/WrenchStamped", "on_wrench", wrench_stamped_from_msg, Qos.SENSOR),
        Input("emg", "std_msgs/msg/Float64", "on_emg", float64_from_msg, Qos.SENSOR, "EMG envelope"),
        Input("bci_confidence", "std_msgs/msg/Float64", "on_bci", float64_from_msg, Qos.SENSOR,
              "motor-imagery confidence 0..1"),
        Input("estop", "std_msgs/msg/Bool", "on_estop", bool_from_msg, Qos.RELIABLE, "true = e-stop pressed"),
        Input("mode_request", "std_msgs/msg/String", "on_mode_request", string_from_msg, Qos.RELIABLE),
    ),
    outputs=(
        Output("effort_commands", "std_msgs/msg/Float64MultiArray", _effort_out, Qos.RELIABLE,
               description="joint torques (N·m) for an effort forward controller"),
        Output("~/target", "geometry_msgs/msg/PointStamped", target_to_msg, Qos.LATCHED),
        Output("~/phase", "std_msgs/msg/String", string_to_msg, Qos.LATCHED),
        Output("~/safety", "diagnostic_msgs/msg/DiagnosticArray", _diag_out, Qos.LATCHED),
        Output("~/safety_events", "std_msgs/msg/String", string_to_msg, Qos.RELIABLE, many=True),
        Output("~/live_metrics", "diagnostic_msgs/msg/DiagnosticArray", _diag_out, Qos.RELIABLE),
    ),
    timers=(Timer("control_period_s", "tick"), Timer("live_metrics_period_s", "publish_live_metrics")),
    services=(
        Service("~/start", "std_srvs/srv/Trigger", "start", "start a new session of the plan"),
        Service("~/stop", "std_srvs/srv/Trigger", "stop", "stop the running session"),
        Service("~/pause", "std_srvs/srv/SetBool", "pause", "pause (true) / resume (false)"),
        Service("~/reset_safety", "std_srvs/srv/Trigger", "reset_safety", "clear a latched safe stop / e-stop"),
        Service("~/estop", "std_srvs/srv/SetBool", "estop", "software e-stop press (true) / release (false)"),
        *(Service(f"~/mode/{m}", "std_srvs/srv/Trigger", f"mode_{m}", f"select {m} mode") for m in MODES),
        Service("~/mode/plan", "std_srvs/srv/Trigger", "mode_plan", "follow the plan's modes again"),
    ),
    description="Stroke-rehabilitation robot: training modes with assist-as-needed, an independent safety "
                "supervisor, durable session recording.",
)
