"""The therapy controller: runs a plan's reaching trials — intent → training mode → interaction control.

:class:`TherapySession` is stepped once per control cycle with the latest sensor sample and the safety
supervisor's state, and returns the joint-torque *command*; the supervisor (a separate object with its
own inputs) decides what is applied. Phases of each trial::

    wait (hold, watch for intent: auto / force / EMG / BCI, or time out) → move (minimum-jerk reference)
    → settle → trial metrics, assist-as-needed update → rest → next trial … → done

A supervisor HOLD/STOP/ESTOP aborts the running trial (recorded with its cause) and pauses the session
until the supervisor runs again. Every phase, mode and safety change goes through a bumpless transfer, so
the commanded force is continuous. Everything worth keeping is passed to ``sink`` as plain records
(decimated samples, trial metrics, phase/mode changes) for the durable session log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sanqin.rehab_robot.assist import AssistAsNeeded, AssistConfig
from sanqin.rehab_robot.errors import ControlError, SessionStateError
from sanqin.rehab_robot.intent import BciTrigger, EmgOnset, IntentConfig, OnsetDetector, force_toward
from sanqin.rehab_robot.metrics import TrialMetrics, summarize, trial_metrics
from sanqin.rehab_robot.modes import BumplessTransfer, ModeConfig, ModeLaws
from sanqin.rehab_robot.plan import MODES, Block, TherapyPlan, check_plan_against_profile
from sanqin.rehab_robot.profile import PatientProfile
from sanqin.rehab_robot.robots import Robot
from sanqin.rehab_robot.supervisor import SafetyState
from sanqin.rehab_robot.trajectory import MinimumJerk
from sanqin.runtime.config import nested, param

Sink = Callable[[dict], None]


@dataclass(frozen=True)
class TherapyConfig:
    """Therapy controller configuration."""

    settle_s: float = param(0.4, "time after the reference ends before a trial is scored (s)", min=0.0, max=5.0)
    record_every: int = param(10, "log every n-th control cycle as a sample record", min=1, max=10000)
    modes: ModeConfig = nested(ModeConfig)
    assist: AssistConfig = nested(AssistConfig)
    intent: IntentConfig = nested(IntentConfig)


@dataclass(frozen=True)
class RobotSample:
    """One sensor sample: stamp (s), joint positions (rad), velocities (rad/s), task interaction force.

    ``interaction`` is the force the patient applies to the robot in task coordinates (N at the handle,
    or N·m at the exoskeleton cuff per joint).
    """

    stamp_s: float
    q: np.ndarray
    qd: np.ndarray
    interaction: np.ndarray


def task_inertia(robot: Robot, profile: PatientProfile) -> np.ndarray:
    """Diagonal of the robot's task-space inertia Λ = (J M⁻¹ Jᵀ)⁻¹ at the centre of the patient's ROM."""
    lim = profile.limits
    q = robot.inverse((lim.task_min + lim.task_max) / 2)
    J = robot.jacobian(q)
    lam = np.linalg.inv(J @ np.linalg.solve(robot.chain.mass_matrix(q), J.T))
    return np.diag(lam).copy()


class TherapySession:
    """One therapy session over a plan for one patient; see the module docstring."""

    def __init__(self, config: TherapyConfig, robot: Robot, profile: PatientProfile, plan: TherapyPlan,
                 initial_gain: float | None = None, sink: Sink | None = None) -> None:
        check_plan_against_profile(plan, profile)
        self.config = config
        self.robot = robot
        self.profile = profile
        self.plan = plan
        self.sink = sink or (lambda rec: None)
        self.laws = ModeLaws(config.modes, profile.limits, task_inertia(robot, profile))
        self.aan = AssistAsNeeded(config.assist, initial_gain)
        ic = config.intent
        self.force_intent = OnsetDetector(ic.force_on, ic.force_off, ic.force_min_on_s, 0.05)
        self.emg = EmgOnset(ic.emg_k_on, ic.emg_k_off, ic.emg_min_on_s)
        self.bci = BciTrigger(ic.bci_threshold, ic.bci_dwell_s, ic.bci_refractory_s)
        self.bumpless = BumplessTransfer(config.modes.switch_time_s)
        self.phase = "idle"
        self.mode_override: str | None = None
        self.trial_index = 0
        self.trials: list[TrialMetrics] = []
        self._phase_t0 = 0.0
        self._x_hold: np.ndarray | None = None
        self._traj: MinimumJerk | None = None
        self._buf: list[tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._f_last = np.zeros(robot.n_task)
        self._switch_pending = False
        self._emg_active = False
        self._bci_fired = False
        self._last_t: float | None = None
        self._cycle = 0
        self._safety_epoch = 0
        self._trigger_cause = ""
        self._f_last_int = np.zeros(robot.n_task)
        self._f_baseline = np.zeros(robot.n_task)
        self.paused_by_therapist = False
        self._reanchor_admittance = False

    # --- therapist commands -------------------------------------------------------------------------
    def start(self, t_s: float) -> None:
        """Begin the plan (from ``idle``)."""
        if self.phase != "idle":
            raise SessionStateError(f"cannot start: session is {self.phase!r}")
        self._record({"type": "session_start", "t_s": t_s, "plan_id": self.plan.plan_id,
                      "patient_id": self.profile.patient_id, "assist_gain": self.aan.gain})
        self._enter("wait", t_s)

    def stop(self, t_s: float, reason: str = "therapist stop") -> None:
        """End the session now; a running trial is recorded as aborted."""
        if self.phase in ("stopped", "done"):
            raise SessionStateError(f"cannot stop: session is already {self.phase!r}")
        self._abort(t_s, reason)
        self._enter("stopped", t_s)
        self._record({"type": "session_end", "t_s": t_s, "reason": reason, "summary": self.summary()})

    def set_paused(self, t_s: float, paused: bool) -> None:
        """Therapist pause/resume; pausing aborts a running trial."""
        if self.phase in ("idle", "stopped", "done"):
            raise SessionStateError(f"cannot pause or resume: session is {self.phase!r}")
        if paused and not self.paused_by_therapist:
            self._abort(t_s, "paused by therapist")
            self.paused_by_therapist = True
            self._enter("paused", t_s)
        elif not paused and self.paused_by_therapist:
            self.paused_by_therapist = False

    def set_mode(self, mode: str, t_s: float) -> None:
        """Override the plan's training mode from now on ('' or 'plan' returns to the plan)."""
        if mode in ("", "plan"):
            self.mode_override = None
        elif mode not in MODES:
            raise ControlError(f"unknown training mode {mode!r}; known: {list(MODES)} or 'plan'")
        else:
            self.mode_override = mode
        self._switch_pending = True
        # entering transparent mid-phase: the admittance reference restarts where the limb is (a stale reference
        # — the ROM centre or where the last transparent phase ended — would pull the limb there)
        self._reanchor_admittance = self.mode == "transparent"
        self._record({"type": "mode", "t_s": t_s, "mode": self.mode})

    def on_emg(self, t_s: float, envelope: float) -> None:
        """EMG envelope sample (normalised units)."""
        self._emg_active = self.emg.step(t_s, envelope)

    def on_bci(self, t_s: float, confidence: float) -> None:
        """Motor-imagery confidence sample (0..1)."""
        if self.bci.step(t_s, confidence):
            self._bci_fired = True

    # --- state --------------------------------------------------------------------------------------
    @property
    def block(self) -> Block:
        """The plan block of the current trial (the last block once done)."""
        return self.plan.trial(min(self.trial_index, self.plan.n_trials - 1))[0]

    @property
    def mode(self) -> str:
        """The active training mode (therapist override or the plan's)."""
        return self.mode_override or self.block.mode

    @property
    def target(self) -> np.ndarray:
        """Target of the current trial."""
        return self.plan.trial(min(self.trial_index, self.plan.n_trials - 1))[1]

    def summary(self) -> dict:
        """Session summary as plain data."""
        return summarize(self.trials).to_dict()

    def live_metrics(self) -> dict[str, float | str]:
        """What a therapist's screen shows: phase, mode, progress, assistance, last trial."""
        s = summarize(self.trials)
        out: dict[str, float | str] = {
            "phase": self.phase, "mode": self.mode, "trial": float(self.trial_index),
            "trials_total": float(self.plan.n_trials), "assist_gain": self.aan.gain,
            "success_rate": s.success_rate, "mean_sparc": s.mean_sparc, "mean_peak_speed": s.mean_peak_speed,
        }
        if self.trials:
            last = self.trials[-1]
            out.update(last_success=float(last.success), last_final_error=last.final_error,
                       last_peak_speed=last.peak_speed, last_sparc=last.sparc)
        return out

    # --- the cycle ----------------------------------------------------------------------------------
    def step(self, t_s: float, sample: RobotSample, safety: SafetyState = SafetyState.RUN,
             safety_epoch: int = 0) -> np.ndarray:
        """One control cycle: the joint-torque command (N·m). Non-finite samples give compensation only."""
        robot = self.robot
        dt = 0.0 if self._last_t is None else max(t_s - self._last_t, 0.0)
        self._last_t = t_s
        self._cycle += 1
        q, qd, f_int = sample.q, sample.qd, sample.interaction
        # safety: any new non-RUN episode aborts the trial and pauses until the supervisor runs again
        if safety != SafetyState.RUN or safety_epoch != self._safety_epoch:
            if self.phase in ("wait", "move", "rest"):
                self._abort(t_s, f"safety {safety.name}")
                self._enter("paused", t_s)
            self._safety_epoch = safety_epoch
        if not (np.isfinite(q).all() and np.isfinite(qd).all() and np.isfinite(f_int).all()):
            return np.zeros(robot.n_joints)  # nothing sensible to compute; the supervisor stops independently
        self._f_last_int = np.asarray(f_int, float)
        x = robot.forward(q)
        v = robot.task_velocity(q, qd)
        if self._reanchor_admittance:
            self.laws.reset_admittance(x)
            self._reanchor_admittance = False
        if self.phase == "paused" and safety == SafetyState.RUN and not self.paused_by_therapist:
            self._enter("wait" if self.trial_index < self.plan.n_trials else "done", t_s, x)

        self._advance(t_s, x, f_int)
        f = self._law(t_s, x, v, f_int, dt)
        if self._switch_pending:
            self.bumpless.switch(t_s, self._f_last, f)
            self._switch_pending = False
        f = self.bumpless.apply(t_s, f)
        self._f_last = f
        if self.phase == "move" and self._traj is not None:
            self._buf.append((t_s, x, v, self._traj.sample(t_s)[0], f))
        if self._cycle % self.config.record_every == 0 and self.phase not in ("idle",):
            self._record({"type": "sample", "t_s": t_s, "phase": self.phase, "mode": self.mode,
                          "trial": self.trial_index, "x": x.tolist(), "v": v.tolist(), "f_int": f_int.tolist(),
                          "f_cmd": f.tolist(), "gain": self.aan.gain})
        return robot.compensation(q, qd) + robot.joint_torque(q, f)

    # --- internals ----------------------------------------------------------------------------------
    def _advance(self, t_s: float, x: np.ndarray, f_int: np.ndarray) -> None:
        """Phase transitions for this cycle."""
        b = self.block
        if self.phase == "wait":
            trig = ""
            if b.trigger == "auto":
                trig = "auto"
            elif b.trigger == "force" and self.force_intent.step(
                    t_s, force_toward(f_int - self._f_baseline, x, self.target)):
                trig = "force onset"
            elif b.trigger == "emg" and self._emg_active:
                trig = "EMG onset"
            elif b.trigger == "bci" and self._bci_fired:
                trig = "BCI motor imagery"
            if not trig and t_s - self._phase_t0 >= b.trigger_timeout_s:
                trig = "timeout"
            if trig:
                self._bci_fired = False
                self._trigger_cause = trig
                self._traj = MinimumJerk(x, self.target, t_s, b.movement_time_s)
                self._buf = []
                self._enter("move", t_s, x)
        elif self.phase == "move" and self._traj is not None:
            if t_s >= self._traj.t0_s + self._traj.duration_s + self.config.settle_s:
                self._finish_trial(t_s, "")
                self._enter("rest" if self.trial_index < self.plan.n_trials else "done", t_s, x)
                if self.phase == "done":
                    self._record({"type": "session_end", "t_s": t_s, "reason": "plan complete",
                                  "summary": self.summary()})
        elif self.phase == "rest":
            if t_s - self._phase_t0 >= self.plan.trial(self.trial_index - 1)[0].rest_s:
                self._enter("wait", t_s, x)

    def _law(self, t_s: float, x: np.ndarray, v: np.ndarray, f_int: np.ndarray, dt: float) -> np.ndarray:
        if self.phase in ("idle", "paused", "stopped", "done"):
            return np.zeros(self.robot.n_task)
        mode = self.mode
        if self.phase == "move" and self._traj is not None:
            x_ref, v_ref, _ = self._traj.sample(t_s)
        else:
            x_ref = self._x_hold if self._x_hold is not None else x
            v_ref = np.zeros_like(x)
            if mode in ("active_assist",) and self.phase in ("wait", "rest"):
                # between reaches nothing is assisted: the patient rests in a gentle hold
                return 0.2 * self.laws.assist.force(x, v, x_ref, v_ref)
        return self.laws.force(mode, x, v, f_int, x_ref, v_ref, self.aan.gain, self.block.resistance,
                               dt if dt > 0 else 1e-3)

    def _enter(self, phase: str, t_s: float, x: np.ndarray | None = None) -> None:
        if phase == self.phase:
            return
        self._record({"type": "phase", "t_s": t_s, "from": self.phase, "to": phase, "trial": self.trial_index,
                      "mode": self.mode, "trigger": self._trigger_cause if phase == "move" else ""})
        self.phase = phase
        self._phase_t0 = t_s
        self._x_hold = None if x is None else np.array(x, float)
        self.force_intent.reset()
        if phase == "wait":
            # intent is a change of the interaction toward the target, measured from the holding force at the
            # start of the wait (an exoskeleton user already pushes against gravity while resting)
            self._f_baseline = self._f_last_int.copy()
        if x is not None and self.mode == "transparent":
            self.laws.reset_admittance(x)
        self._switch_pending = True

    def _abort(self, t_s: float, cause: str) -> None:
        if self.phase == "move":
            self._finish_trial(t_s, cause)

    def _finish_trial(self, t_s: float, aborted: str) -> None:
        block, goal = self.plan.trial(self.trial_index)
        mode = self.mode
        if self._buf:
            t = np.array([r[0] for r in self._buf])
            m = trial_metrics(self.trial_index, mode, t, np.array([r[1] for r in self._buf]),
                              np.array([r[2] for r in self._buf]), np.array([r[3] for r in self._buf]),
                              np.array([r[4] for r in self._buf]),
                              self._traj.start if self._traj else goal, goal, self.plan.success_tolerance,
                              self.aan.gain, aborted)
        else:
            m = trial_metrics(self.trial_index, mode, np.zeros(0), np.zeros((0, goal.size)),
                              np.zeros((0, goal.size)), np.zeros((0, goal.size)), np.zeros((0, goal.size)),
                              goal, goal, self.plan.success_tolerance, self.aan.gain, aborted or "no samples")
        gain_before = self.aan.gain
        if mode == "active_assist" and not aborted:
            self.aan.update(m.rms_tracking_error / self.plan.success_tolerance)  # non-finite counts as the cap
        self.trials.append(m)
        rec = m.to_dict()
        rec.update(type="trial", t_s=t_s, target=goal.tolist(), trigger=self._trigger_cause,
                   gain_before=gain_before, gain_after=self.aan.gain)
        self._record(rec)
        self.trial_index += 1
        self._buf = []
        self._traj = None

    def _record(self, rec: dict) -> None:
        self.sink(rec)
