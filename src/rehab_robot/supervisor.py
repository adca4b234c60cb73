"""Safety supervisor, independent of the controllers: its own sensor inputs, its own limits, the last word.

The supervisor sits between every controller and the actuators. Each control cycle it reads the raw
sensor sample (joint positions/velocities, measured interaction force), the time the sample arrived,
and the controller's torque command, and returns the torque that is actually applied. It imports only
the robot model (for kinematics and gravity) and the patient's validated limits — never a controller —
so a controller bug cannot disable it.

States (more severe wins; every transition and every limit hit is a :class:`SafetyEvent` with its cause):

* ``RUN``   — the command passes, clamped to the patient's torque/force limits, with a soft virtual wall
  inside the range-of-motion edges that pushes back and removes outward commands;
* ``HOLD``  — compliant hold after a spasm (a sudden opposing interaction): compensation + a soft spring
  to the position where the spasm started + damping; released automatically once the opposing
  interaction stays low for ``hold_release_s``, with a torque ramp back to the command (no jump);
* ``STOP``  — safe stop, latched: compensation + damping only. Causes: sensor timeout (watchdog),
  non-finite input, clock jump, speed/interaction/range-of-motion limit exceeded. Needs :meth:`reset`;
* ``ESTOP`` — emergency stop, latched: zero torque. Needs :meth:`reset` after the e-stop input clears.

Gains are expressed relative to the patient's limits (fractions of ``max_interaction`` at the ROM
span or at ``max_speed``) so one config fits both the end-effector robot (N, m) and the exoskeleton (N·m, rad).
"""

from __future__ import annotations

import enum
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sanqin.rehab_robot.errors import SafetyError
from sanqin.rehab_robot.limits import Limits
from sanqin.rehab_robot.profile import PatientProfile
from sanqin.rehab_robot.robots import Robot
from sanqin.runtime.config import param, require


class SafetyState(enum.IntEnum):
    """Supervisor states, ordered by severity."""

    RUN = 0
    HOLD = 1
    STOP = 2
    ESTOP = 3


@dataclass(frozen=True)
class SupervisorConfig:
    """Supervisor timing and reaction gains (gains relative to the patient's limits)."""

    sensor_timeout_s: float = param(0.02, "watchdog: a sensor sample older than this stops the robot (s)",
                                    min=0.001, max=1.0)
    max_clock_jump_s: float = param(0.05, "a forward step of the clock larger than this, or any backward step, "
                                          "is a clock fault (s)", min=0.001, max=10.0)
    wall_zone_fraction: float = param(0.06, "soft-wall zone width as a fraction of the ROM span", min=0.0, max=0.3)
    wall_force_fraction: float = param(0.8, "soft-wall force at the ROM edge as a fraction of max_interaction",
                                       min=0.0, max=1.0)
    damping_force_fraction: float = param(0.4, "STOP/HOLD damping force at max_speed as a fraction of "
                                               "max_interaction", min=0.0, max=1.0)
    hold_damping_fraction: float = param(1.25, "HOLD damping force at max_speed as a fraction of max_interaction: "
                                               "above 1 a spasm up to max_interaction cannot drive the limb past "
                                               "max_speed, yet the hold does not fight its position", min=0.0,
                                         max=5.0)
    hold_force_fraction: float = param(0.2, "HOLD spring force at 10% of the ROM span as a fraction of "
                                            "max_interaction", min=0.0, max=1.0)
    spasm_window_s: float = param(0.02, "window over which the opposing-interaction rise rate is measured (s)",
                                  min=0.001, max=0.5)
    hold_release_s: float = param(1.0, "opposing interaction must stay below half the spasm threshold this "
                                       "long to leave HOLD (s)", min=0.0, max=30.0)
    release_ramp_s: float = param(0.3, "torque ramp from the hold torque back to the command (s)",
                                  min=0.0, max=5.0)
    rom_tolerance_fraction: float = param(0.0, "how far beyond the ROM (fraction of span) before STOP",
                                          min=0.0, max=0.2)
    direction_filter_s: float = param(0.1, "time constant of the motion direction a spasm is judged against (s)",
                                      min=0.001, max=1.0)
    interaction_filter_s: float = param(0.005, "time constant of the low-pass on the measured interaction used "
                                               "for the force limit (s); 0 disables", min=0.0, max=0.1)

    def __post_init__(self) -> None:
        require(self.spasm_window_s < self.sensor_timeout_s * 50, "spasm_window_s is implausibly long")


@dataclass(frozen=True)
class SafetyEvent:
    """One logged safety event: when, what, the state change and the measured value against its limit."""

    t_s: float
    kind: str
    cause: str
    state_before: str
    state_after: str
    value: float = float("nan")
    limit: float = float("nan")

    def to_dict(self) -> dict[str, object]:
        """Plain data for the session log (NaN becomes None)."""
        return {"t_s": self.t_s, "kind": self.kind, "cause": self.cause, "state_before": self.state_before,
                "state_after": self.state_after,
                "value": self.value if math.isfinite(self.value) else None,
                "limit": self.limit if math.isfinite(self.limit) else None}


@dataclass(frozen=True)
class SafetyInput:
    """One cycle's inputs: time now, when the sensor sample arrived, the sample, and the controller's command.

    ``interaction`` is the measured force the patient applies to the robot, in task coordinates
    (handle force N, or cuff torque N·m per joint).
    """

    t_s: float
    sensor_time_s: float
    q: np.ndarray
    qd: np.ndarray
    interaction: np.ndarray
    tau_cmd: np.ndarray


@dataclass
class SafetyOutput:
    """The torque to apply (N·m per joint), the state after this cycle and events raised in it."""

    tau_nm: np.ndarray
    state: SafetyState
    events: list[SafetyEvent] = field(default_factory=list)


class SafetySupervisor:
    """Checks every cycle and filters the torque command; see the module docstring for the states."""

    def __init__(self, config: SupervisorConfig, robot: Robot, profile: PatientProfile,
                 on_event: Callable[[SafetyEvent], None] | None = None) -> None:
        lim = profile.limits
        if lim.task_min.shape != (robot.n_task,) or lim.max_joint_torque_nm.shape != (robot.n_joints,):
            raise SafetyError(f"profile {profile.patient_id!r} has limits for {lim.task_min.size} task axes / "
                              f"{lim.max_joint_torque_nm.size} joints, robot {robot.name!r} has {robot.n_task} / "
                              f"{robot.n_joints}")
        problems = lim.exceedances(robot.hardware)
        if problems or profile.robot.startswith("exo") != (robot.name == "exoskeleton"):
            raise SafetyError(f"profile {profile.patient_id!r} does not fit robot {robot.name!r}: {problems}")
        self.config = config
        self.robot = robot
        self.profile = profile
        self.limits: Limits = profile.limits
        self.on_event = on_event
        self.events: list[SafetyEvent] = []
        self.state = SafetyState.RUN
        self.state_cause = "start"
        self.epoch = 0  # counts entries into a non-RUN state; controllers restart their trial on a change
        lim = self.limits
        span = lim.task_max - lim.task_min
        self._zone = config.wall_zone_fraction * span
        self._k_wall = np.where(self._zone > 0, config.wall_force_fraction * lim.max_interaction
                                / np.maximum(self._zone, 1e-12), 0.0)
        self._d_stop = config.damping_force_fraction * lim.max_interaction / lim.max_speed
        self._d_hold = config.hold_damping_fraction * lim.max_interaction / lim.max_speed
        self._k_hold = config.hold_force_fraction * lim.max_interaction / (0.1 * span)
        self._rom_tol = config.rom_tolerance_fraction * span
        self._torque_cap = np.minimum(lim.max_joint_torque_nm, robot.hardware.max_joint_torque_nm)
        self._last_t: float | None = None
        self._last_q: np.ndarray | None = None
        self._hold_x: np.ndarray | None = None
        self._calm_since: float | None = None
        self._ramp_start: float | None = None
        self._ramp_from: np.ndarray | None = None
        self._opp_hist: deque[tuple[float, float]] = deque()
        self._f_filt: np.ndarray | None = None
        self._v_slow: np.ndarray | None = None
        self._hold_dir: np.ndarray | None = None  # the motion direction a spasm opposed (judged during HOLD)
        self._clamping: set[str] = set()
        self._active: set[str] = set()
        self._estop_input = False
        self.max_speed_seen = 0.0
        self.max_interaction_seen = 0.0
        self.max_rom_excursion = -math.inf  # largest distance beyond the ROM (negative: stayed inside)

    # --- external requests ------------------------------------------------------------------------
    def set_estop(self, pressed: bool, t_s: float, cause: str = "e-stop input") -> list[SafetyEvent]:
        """Report the e-stop input; pressing latches ESTOP until :meth:`reset`."""
        self._estop_input = bool(pressed)
        events: list[SafetyEvent] = []
        if pressed and self.state != SafetyState.ESTOP:
            self._raise(events, SafetyState.ESTOP, t_s, "estop", cause)
        return events

    def reset(self, t_s: float, reason: str) -> SafetyEvent:
        """Clear a latched STOP/ESTOP (an explicit, logged therapist action); refused while the e-stop is held."""
        if not reason.strip():
            raise SafetyError("a reset needs a stated reason")
        if self._estop_input:
            raise SafetyError("cannot reset: the e-stop input is still pressed")
        if self.state == SafetyState.RUN:
            raise SafetyError("nothing to reset: the supervisor is running")
        before = self.state
        self.state = SafetyState.RUN
        self.state_cause = f"reset: {reason}"
        self._hold_x = None
        self._active.clear()
        self._opp_hist.clear()
        self._last_t = None  # the next sample restarts the clock check
        ev = SafetyEvent(t_s, "reset", reason, before.name, "RUN")
        self._log(ev)
        return ev

    # --- the cycle ----------------------------------------------------------------------------------
    def step(self, inp: SafetyInput) -> SafetyOutput:
        """Check one cycle and return the torque to apply; never raises on bad data (it stops instead)."""
        events: list[SafetyEvent] = []
        lim = self.limits
        n = self.robot.n_joints
        try:
            t = float(inp.t_s)
            sensor_t = float(inp.sensor_time_s)
        except (ValueError, TypeError) as err:
            self._raise(events, SafetyState.STOP, -1.0, "clock", f"malformed time: {err}")
            return SafetyOutput(self._fallback_tau(), self.state, events)
        try:
            q = np.asarray(inp.q, float).reshape(n)
            qd = np.asarray(inp.qd, float).reshape(n)
            f_int = np.asarray(inp.interaction, float).reshape(self.robot.n_task)
            tau_cmd = np.asarray(inp.tau_cmd, float).reshape(n)
        except (ValueError, TypeError) as err:
            self._raise(events, SafetyState.STOP, t if math.isfinite(t) else -1.0, "bad_input",
                                      f"malformed input: {err}")
            return SafetyOutput(self._fallback_tau(), self.state, events)

        # time: finite, monotonic, no jumps
        if not math.isfinite(t) or not math.isfinite(sensor_t):
            self._raise(events, SafetyState.STOP, -1.0, "clock", "non-finite time")
            return SafetyOutput(self._fallback_tau(), self.state, events)
        dt = 0.0
        if self._last_t is not None:
            dt = t - self._last_t
            if dt < 0 or dt > self.config.max_clock_jump_s:
                self._raise(events, SafetyState.STOP, t, "clock_jump",
                                          f"clock jumped by {dt:+.4f} s", dt, self.config.max_clock_jump_s)
        self._last_t = t
        age = t - sensor_t
        if age > self.config.sensor_timeout_s:
            self._raise(events, SafetyState.STOP, t, "sensor_timeout",
                                      f"no sensor sample for {age:.3f} s", age, self.config.sensor_timeout_s)
        elif age < -self.config.max_clock_jump_s:
            self._raise(events, SafetyState.STOP, t, "clock_jump",
                                      f"sensor sample is {-age:.3f} s in the future", age,
                                      -self.config.max_clock_jump_s)
        if not (np.isfinite(q).all() and np.isfinite(qd).all() and np.isfinite(f_int).all()):
            self._raise(events, SafetyState.STOP, t, "non_finite_sensor",
                                      "non-finite joint state or interaction force")
            return SafetyOutput(self._fallback_tau(), self.state, events)
        self._last_q = q

        x = self.robot.forward(q)
        v = self.robot.task_velocity(q, qd)
        speed = float(np.linalg.norm(v))
        self.max_speed_seen = max(self.max_speed_seen, speed)
        tc = self.config.interaction_filter_s
        if self._f_filt is None or tc <= 0:
            self._f_filt = f_int.copy()
        else:
            self._f_filt = self._f_filt + min(1.0, max(dt, 0.0) / tc) * (f_int - self._f_filt)
        f_mag = self._magnitude(self._f_filt)
        self.max_interaction_seen = max(self.max_interaction_seen, f_mag)
        beyond = float(np.max(np.maximum(lim.task_min - x, x - lim.task_max)))
        self.max_rom_excursion = max(self.max_rom_excursion, beyond)

        # hard limits → latched safe stop
        if speed > lim.max_speed:
            self._raise(events, SafetyState.STOP, t, "max_speed", f"speed {speed:.3f} {lim.speed_unit} above "
                                      f"the limit", speed, lim.max_speed)
        if f_mag > lim.max_interaction:
            self._raise(events, SafetyState.STOP, t, "max_interaction",
                                      f"interaction {f_mag:.2f} {lim.interaction_unit} above the limit",
                                      f_mag, lim.max_interaction)
        if np.any(x < lim.task_min - self._rom_tol) or np.any(x > lim.task_max + self._rom_tol):
            self._raise(events, SafetyState.STOP, t, "range_of_motion",
                                      f"position {np.round(x, 4).tolist()} {lim.task_unit} outside the patient's "
                                      f"range of motion", beyond, 0.0)
        cmd_ok = bool(np.isfinite(tau_cmd).all())
        if not cmd_ok:
            self._raise(events, SafetyState.STOP, t, "non_finite_command", "controller command is not finite")
            tau_cmd = np.zeros(n)

        # spasm: sudden rise of an interaction opposing the motion (or the command)
        try:
            f_cmd = self.robot.task_force(q, tau_cmd)
        except np.linalg.LinAlgError:
            # a singular arm (stretched or folded — never inside a valid ROM, but a glitching encoder can report
            # it): the command has no task-force equivalent, so nothing of it can be checked or passed on
            self._raise(events, SafetyState.STOP, t, "singular_configuration",
                        f"joint position {np.round(q, 4).tolist()} rad is a kinematic singularity")
            f_cmd = np.zeros(self.robot.n_task)
        # the motion the spasm opposes: velocity low-passed over direction_filter_s, so the reference is the
        # movement *before* the disturbance (a spasm quickly bends the current velocity away from it)
        tf = self.config.direction_filter_s
        self._v_slow = v.copy() if self._v_slow is None else self._v_slow + min(1.0, max(dt, 0.0) / tf) * (
            v - self._v_slow)
        ref = self._v_slow if float(np.linalg.norm(self._v_slow)) > 0.05 * lim.max_speed else f_cmd
        ref_n = float(np.linalg.norm(ref))
        opp = max(0.0, -float(f_int @ ref) / ref_n) if ref_n > 1e-9 else 0.0
        if self.state == SafetyState.HOLD and self._hold_dir is not None:
            opp = max(0.0, -float(f_int @ self._hold_dir))
        hist = self._opp_hist
        hist.append((t, opp))
        while len(hist) > 1 and hist[0][0] < t - self.config.spasm_window_s:
            hist.popleft()
        rate = (opp - hist[0][1]) / max(t - hist[0][0], 1e-9) if len(hist) > 1 else 0.0
        p = self.profile
        if self.state == SafetyState.RUN and opp > p.spasm_opposing and rate > p.spasm_rate:
            self._hold_x = x.copy()
            self._hold_dir = ref / ref_n
            self._raise(events, SafetyState.HOLD, t, "spasm",
                                      f"opposing interaction {opp:.2f} {lim.interaction_unit} rising at "
                                      f"{rate:.0f} {lim.interaction_unit}/s", opp, p.spasm_opposing)
            self._calm_since = None

        # HOLD release after a calm period, with a torque ramp
        if self.state == SafetyState.HOLD:
            if opp < 0.5 * p.spasm_opposing:
                self._calm_since = t if self._calm_since is None else self._calm_since
                if t - self._calm_since >= self.config.hold_release_s:
                    self._ramp_from = self._hold_tau(q, qd, x, v)
                    self._ramp_start = t
                    ev = SafetyEvent(t, "release", "opposing interaction subsided", "HOLD", "RUN", opp,
                                     0.5 * p.spasm_opposing)
                    self.state, self.state_cause = SafetyState.RUN, "released"
                    self._hold_dir = None
                    self._log(ev)
                    events.append(ev)
            else:
                self._calm_since = None

        tau = self._output(q, qd, x, v, tau_cmd, f_cmd, t, events)
        return SafetyOutput(tau, self.state, events)

    # --- outputs per state --------------------------------------------------------------------------
    def _wall(self, x: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Soft-wall force (task) and masks of axes inside the low/high wall zones.

        The spring saturates at the ROM edge (``wall_force_fraction`` of max_interaction): beyond the range of
        motion it must not press a limb harder than the patient's interaction limit.
        """
        lim = self.limits
        pen_lo = lim.task_min + self._zone - x
        pen_hi = x - (lim.task_max - self._zone)
        in_lo, in_hi = pen_lo > 0, pen_hi > 0
        pen_lo, pen_hi = np.minimum(pen_lo, self._zone), np.minimum(pen_hi, self._zone)
        f = np.where(in_lo, self._k_wall * pen_lo, 0.0) - np.where(in_hi, self._k_wall * pen_hi, 0.0)
        edge_force = self.config.wall_force_fraction * lim.max_interaction
        mag = self._magnitude(f)
        if mag > edge_force:  # two walls at once (a corner of the planar ROM)
            f = f * (edge_force / mag)
        f = f - np.where((in_lo & (v < 0)) | (in_hi & (v > 0)), self._d_stop * v, 0.0)
        return f, in_lo, in_hi

    def _magnitude(self, f: np.ndarray) -> float:
        """Size of a task force as the limits measure it: handle force norm (N) or the largest cuff torque (N·m)."""
        return float(np.max(np.abs(f))) if self.robot.name == "exoskeleton" else float(np.linalg.norm(f))

    def _hold_tau(self, q: np.ndarray, qd: np.ndarray, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        hold_x = self._hold_x if self._hold_x is not None else x
        f = self._k_hold * (hold_x - x) - self._d_hold * v
        return self.robot.compensation(q, qd) + self.robot.joint_torque(q, f)

    def _output(self, q: np.ndarray, qd: np.ndarray, x: np.ndarray, v: np.ndarray, tau_cmd: np.ndarray,
                f_cmd: np.ndarray, t: float, events: list[SafetyEvent]) -> np.ndarray:
        lim = self.limits
        st = self.state
        if st == SafetyState.ESTOP:
            return np.zeros(self.robot.n_joints)
        f_wall, in_lo, in_hi = self._wall(x, v)
        if st == SafetyState.STOP:
            f = f_wall - self._d_stop * v
            tau = self.robot.compensation(q, qd) + self.robot.joint_torque(q, f)
        elif st == SafetyState.HOLD:
            tau = self._hold_tau(q, qd, x, v) + self.robot.joint_torque(q, f_wall)
        else:
            # remove outward command components inside the wall zones, limit the force the robot applies
            # (command + wall) to the patient's max interaction
            f = np.where((in_lo & (f_cmd < 0)) | (in_hi & (f_cmd > 0)), 0.0, f_cmd) + f_wall
            mag = self._magnitude(f)
            over_f = mag > lim.max_interaction
            if over_f:
                f = f * (lim.max_interaction / mag)
            self._note_clamp("force_clamp", over_f, t, mag - lim.max_interaction, events,
                             f"commanded {lim.interaction_unit} above the patient's max interaction; scaled")
            tau = self.robot.joint_torque(q, f)
            if self._ramp_start is not None:
                a = (t - self._ramp_start) / self.config.release_ramp_s if self.config.release_ramp_s > 0 else 1.0
                if a >= 1.0:
                    self._ramp_start = self._ramp_from = None
                elif self._ramp_from is not None:
                    tau = (1 - a) * self._ramp_from + a * tau
        cap = self._torque_cap
        clamped = np.clip(tau, -cap, cap)
        over = bool(np.any(np.abs(tau) > cap + 1e-9))
        self._note_clamp("torque_clamp", over, t, float(np.max(np.abs(tau) - cap)), events,
                         "joint torque command above the limit; clamped")
        return clamped

    def _note_clamp(self, kind: str, active: bool, t: float, excess: float, events: list[SafetyEvent],
                    cause: str) -> None:
        """Log a clamp once when it starts (not every cycle it lasts)."""
        if active and kind not in self._clamping:
            ev = SafetyEvent(t, kind, cause, self.state.name, self.state.name, excess, 0.0)
            self._log(ev)
            events.append(ev)
            self._clamping.add(kind)
        elif not active:
            self._clamping.discard(kind)

    def _fallback_tau(self) -> np.ndarray:
        """Torque when the sensor sample cannot be trusted: compensation at the last valid pose, no feedback."""
        if self.state == SafetyState.ESTOP or self._last_q is None:
            return np.zeros(self.robot.n_joints)
        tau = self.robot.compensation(self._last_q, np.zeros(self.robot.n_joints))
        return np.clip(tau, -self._torque_cap, self._torque_cap)

    def _enter(self, new: SafetyState, t: float, kind: str, cause: str, value: float = float("nan"),
               limit: float = float("nan")) -> SafetyEvent | None:
        """Raise the state to ``new`` (never lower it); log the event once per latched fault kind."""
        before = self.state
        if kind in self._active and new <= before:
            return None
        if new >= SafetyState.STOP:
            self._active.add(kind)
        if new > before:
            self.state = new
            self.state_cause = f"{kind}: {cause}"
            self.epoch += 1
            self._ramp_start = self._ramp_from = None
            if new != SafetyState.HOLD:
                self._hold_dir = None
        ev = SafetyEvent(t, kind, cause, before.name, self.state.name, value, limit)
        self._log(ev)
        return ev

    def _raise(self, events: list[SafetyEvent], new: SafetyState, t: float, kind: str, cause: str,
               value: float = float("nan"), limit: float = float("nan")) -> None:
        ev = self._enter(new, t, kind, cause, value, limit)
        if ev is not None:
            events.append(ev)

    def _log(self, ev: SafetyEvent) -> None:
        self.events.append(ev)
        if self.on_event is not None:
            self.on_event(ev)
