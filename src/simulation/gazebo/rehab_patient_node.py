"""The simulated stroke patient of the rehabilitation twins as a ROS node: patient, cuff and the harness's faults.

Headless, :class:`~sanqin.simulation.rehab.RehabPlanarSim` steps the robot and the patient's arm in MuJoCo,
couples hand and handle through a compliant cuff (a spring–damper it computes every physics step and applies
to both bodies as external forces), drives the arm with :class:`~sanqin.simulation.rehab_patient.ImpairedPatient`
and, through :class:`~sanqin.simulation.rehab_harness.TherapyHarness`, applies the drive's torque, injects spasms
and a sensor dropout and publishes the sensors. In the Gazebo twin the robot and the arm are rigid bodies
stepped by DART, and this component (node ``rehab_patient``) does the rest, every time Gazebo's joint states
of both arms arrive:

* **the patient** — the very :class:`ImpairedPatient` (unchanged): it sees the therapy node's target, starts
  reaching when the phase turns to ``move``, recovers between sessions (on ``done``), and its joint torques go
  to the arm's joints (``patient_effort_<i>``, Gazebo ``ApplyJointForce``), clipped like the MuJoCo motors;
* **the cuff** — ``f = K (x_hand − x_handle) + D (v_hand − v_handle)`` from the forward kinematics of both arms
  (link lengths of the MJCF), applied as joint torques ``Jᵣᵀ f`` on the robot and ``−Jₕᵀ f`` on the arm — what
  MuJoCo's ``mj_applyFT`` does headless. The cuff cannot be Gazebo joints with springs: hand and handle belong
  to two chains fixed to the world, so any joint between them closes a kinematic loop, which Gazebo
  Harmonic's DART integration does not support (neither in SDF nor through ``DetachableJoint``);
* **the drive** — ``ApplyJointForce`` reads one topic per joint and keeps the last value, so the robot's
  motor torque (the therapy command split per joint by ``joint_command_split``, zero after its command
  timeout, inputs ``drive_<i>``) and the cuff's reaction are summed here into ``robot_effort_<i>``; the drive
  torque is clipped to the MuJoCo actuator's range as headless, the cuff's is not;
* **the sensors** — ``joint_states`` (robot joints: Gazebo's angles plus the start configuration the model
  was written in, ``robot_offsets_rad``; effort = the applied drive torque) and ``wrench`` (the cuff force
  the patient applies to the handle plus Gaussian noise, robot base frame), every ``relay_period_s``;
  ``~/cuff_wrench`` is the same force without noise and never withheld (ground truth for the scorer);
* **the faults** — spasms at ``spasm_at_s`` and the sensor dropout (``dropout_at_s`` for ``dropout_s``: the
  sensors are withheld) on sim time: the patient's clock is the stamp of Gazebo's joint states (every physics
  step), not the node clock, which follows ``/clock`` in coarser steps. Headless they are times from t = 0 with
  the first session started at ``start_at_s``; the twin's sessions are started by ``ros2 service call`` whenever
  the node is ready, so the fault times count from the first session start this component sees on ``phase``
  (minus ``start_at_s``), which keeps each fault at the same point of the session. Every fault and session is
  logged on ``~/events`` (``std_msgs/String`` JSON) for the scorer.

Bad input never crashes it: joint states missing a joint, holding NaN/inf or overflowing the cuff force are
rejected and counted (the robot then gets its drive torque only and the arm none: the cuff is not applied from a
state it cannot trust), a non-finite drive value is taken as zero and counted, a target before any state is kept
until the arm's state is known, a non-finite target is refused. When sim time goes back (a Gazebo reset) the
sensors are relayed again at once. ApplyJointForce keeps the last torque, and this component answers joint
states: when they stop (bridge or Gazebo stalled) for ``state_timeout_s``, every drive input is passed on alone
(no cuff, no patient torque), so the drive's stop still reaches the robot.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sanqin.common.diagnostics import DiagLevel, DiagnosticStatus
from sanqin.common.types import JointStates, Wrench, WrenchStamped
from sanqin.runtime.config import nested, param, require
from sanqin.simulation.rehab_patient import ImpairedPatient, PatientConfig

#: Drive inputs ``drive_0/1``, robot outputs ``robot_effort_0/1``, patient outputs ``patient_effort_0/1``.
MAX_ROBOT_JOINTS = 2
PATIENT_JOINTS = 2
#: Phases in which no session runs (a change from one of these to another phase is a session start).
IDLE_PHASES = ("", "done", "stopped")


def planar_chain(base_xy: np.ndarray, links: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tip position (2,) and Jacobian (2×2) of a planar 2-link chain (angles from +x about +z, elbow relative)."""
    a, b = float(links[0]), float(links[1])
    s1, c1 = math.sin(q[0]), math.cos(q[0])
    s12, c12 = math.sin(q[0] + q[1]), math.cos(q[0] + q[1])
    tip = np.asarray(base_xy, dtype=np.float64) + np.array([a * c1 + b * c12, a * s1 + b * s12])
    jac = np.array([[-a * s1 - b * s12, -b * s12], [a * c1 + b * c12, b * c12]])
    return tip, jac


def _pair(values: tuple[float, ...], what: str) -> None:
    require(len(values) == 2 and all(math.isfinite(v) for v in values), f"{what} needs two finite values")


@dataclass(frozen=True)
class RehabPatientConfig:
    """The patient, the two planar chains and the cuff (from the MJCF), the drive limits, faults and relay."""

    patient: PatientConfig = nested(PatientConfig)
    first_session: int = param(0, "recovery index of the first session", min=0, max=1000)
    sessions: int = param(1, "sessions of the scenario (recovery is applied after each but the last)", min=0,
                          max=100)
    seed: int = param(0, "seed of the tremor phase and the F/T noise", min=0)
    robot_joints: tuple[str, ...] = param(("r_shoulder", "r_elbow"), "robot joints (Gazebo names), drive order")
    patient_joints: tuple[str, ...] = param(("h_shoulder", "h_elbow"), "patient arm joints (Gazebo names)")
    robot_offsets_rad: tuple[float, ...] = param((0.0, 0.0), "added to Gazebo's robot joint angles (the start "
                                                             "configuration the model was written in)")
    patient_offsets_rad: tuple[float, ...] = param((0.0, 0.0), "added to Gazebo's arm joint angles")
    robot_base_xy_m: tuple[float, ...] = param((0.0, 0.0), "robot shoulder axis in the base frame (m)")
    robot_links_m: tuple[float, ...] = param((0.35, 0.35), "robot link lengths to the handle (m)")
    shoulder_xy_m: tuple[float, ...] = param((0.0, 0.02), "patient shoulder axis in the base frame (m)")
    arm_links_m: tuple[float, ...] = param((0.30, 0.33), "patient upper arm and forearm-to-hand lengths (m)")
    cuff_stiffness_n_m: float = param(2500.0, "hand–handle cuff stiffness (N/m)", min=0.0)
    cuff_damping_ns_m: float = param(25.0, "hand–handle cuff damping (N·s/m)", min=0.0)
    force_noise_n: float = param(0.2, "F/T noise std added to the relayed wrench (N)", min=0.0)
    drive_limits_nm: tuple[float, ...] = param((30.0, 20.0), "robot motor torque range ± (N·m), per joint")
    patient_torque_limit_nm: float = param(100.0, "patient joint torque range ± (N·m)", min=0.0)
    start_at_s: float = param(0.2, "headless time of the first session start (s): fault times count from it",
                              min=0.0)
    spasm_at_s: tuple[float, ...] = param((), "spasm times (s, headless clock)")
    dropout_at_s: float = param(-1.0, "sensor dropout start (s, headless clock); negative: none")
    dropout_s: float = param(0.3, "sensor dropout length (s)", min=0.0)
    relay_period_s: float = param(0.001, "joint_states / wrench relay period (s)", min=0.0, max=1.0)
    state_timeout_s: float = param(0.05, "no joint state for this long (node clock): every drive input sends the "
                                         "drive torque alone, no cuff or patient torque (s)", min=0.001, max=10.0)
    frame_id: str = param("rehab_base", "frame of the relayed wrench")

    def __post_init__(self) -> None:
        n = len(self.robot_joints)
        require(n == 2, f"robot_joints: the planar cuff needs 2 robot joints, got {list(self.robot_joints)}")
        require(len(self.patient_joints) == PATIENT_JOINTS, "patient_joints needs 2 joints")
        require(len(self.drive_limits_nm) == n and all(v >= 0 and math.isfinite(v) for v in self.drive_limits_nm),
                "drive_limits_nm needs one finite value >= 0 per robot joint")
        for values, what in ((self.robot_offsets_rad, "robot_offsets_rad"),
                             (self.patient_offsets_rad, "patient_offsets_rad"),
                             (self.robot_base_xy_m, "robot_base_xy_m"), (self.robot_links_m, "robot_links_m"),
                             (self.shoulder_xy_m, "shoulder_xy_m"), (self.arm_links_m, "arm_links_m")):
            _pair(values, what)
        require(all(math.isfinite(t) and t >= 0 for t in self.spasm_at_s), "spasm_at_s must be finite and >= 0")
        require(math.isfinite(self.dropout_at_s), "dropout_at_s must be finite")


class RehabPatientTwin:
    """Component of the ``rehab_patient`` node (see the module docstring)."""

    status_name = "sanqin/gazebo/rehab_patient"

    def __init__(self, config: RehabPatientConfig) -> None:
        c = self.config = config
        self.rng = np.random.default_rng(c.seed)
        self.patient = ImpairedPatient(c.patient, np.array(c.shoulder_xy_m), c.first_session, self.rng)
        self.drive = np.zeros(len(c.robot_joints))
        self._init_session_state()

    def _init_session_state(self) -> None:
        """Sessions, fault clock, relay and counters at start (the exoskeleton's patient shares them)."""
        c = self.config
        self.q_arm: np.ndarray | None = None
        self.phase = ""
        self.session_k = 0
        self.sessions_done = 0
        self.base_s: float | None = 0.0 if c.sessions == 0 else None  # headless t = 0 on the node clock
        self.spasms = sorted(c.spasm_at_s)
        self.dropout_active = False
        self.last_t: float | None = None
        self.last_relay: float = -math.inf
        self.last_state_clock: float | None = None  # node clock of the last accepted joint state
        self.pending_target: np.ndarray | None = None
        self.counters = {"states": 0, "rejected_joint_states": 0, "rejected_drive": 0, "rejected_target": 0,
                         "relayed": 0, "withheld": 0, "spasms": 0, "sessions_started": 0}

    # --- inputs -----------------------------------------------------------------------------------
    def _drive(self, i: int, value: float, t_s: float) -> dict[str, float] | None:
        if not math.isfinite(value):
            self.counters["rejected_drive"] += 1
            value = 0.0  # a drive refuses a non-finite command: no torque
        self.drive[i] = value
        if self.last_state_clock is None or t_s - self.last_state_clock > self.config.state_timeout_s:
            return self._drive_only()  # no state to answer: the drive (e.g. its stop) must still reach Gazebo
        return None

    def _drive_only(self) -> dict[str, float]:
        """The drive torques alone (clipped), no patient torque: what Gazebo gets without a trusted state."""
        c = self.config
        drive = np.clip(self.drive, -np.array(c.drive_limits_nm), np.array(c.drive_limits_nm))
        out = {f"robot_effort_{i}": float(v) for i, v in enumerate(drive)}
        out.update({f"patient_effort_{i}": 0.0 for i in range(PATIENT_JOINTS)})
        return out

    def on_drive_0(self, value: float, t_s: float) -> dict[str, float] | None:
        """Drive torque of robot joint 0 (N·m, from joint_command_split)."""
        return self._drive(0, value, t_s)

    def on_drive_1(self, value: float, t_s: float) -> dict[str, float] | None:
        """Drive torque of robot joint 1."""
        return self._drive(1, value, t_s)

    def on_target(self, target: np.ndarray, t_s: float) -> None:
        """The therapy node's reach target (base frame, m): the patient leans toward it."""
        xy = np.asarray(target, dtype=np.float64).reshape(-1)[:2]
        if xy.size < 2 or not np.all(np.isfinite(xy)):
            self.counters["rejected_target"] += 1
            return
        if self.q_arm is None:
            self.pending_target = xy  # seen before the arm's first state: applied with it
            return
        self.patient.see_target(self._now(t_s), xy, self.q_arm)

    def on_phase(self, phase: str, t_s: float) -> dict[str, Any] | None:
        """Therapy phase: a session start (fixes the fault clock), ``move`` (reach), ``done`` (recovery)."""
        events: list[str] = []
        t_s = self._now(t_s)
        if phase not in IDLE_PHASES and self.phase in IDLE_PHASES:
            self.session_k += 1
            self.counters["sessions_started"] += 1
            if self.base_s is None:
                self.base_s = t_s - self.config.start_at_s
            events.append(json.dumps({"kind": "session_start", "t_s": t_s, "session": self.session_k,
                                      "fault_clock_offset_s": self.base_s}))
        if phase == "move" and self.phase != "move" and self.q_arm is not None:
            self.patient.go(t_s, self.q_arm)
        if phase == "done" and self.phase != "done":
            self.sessions_done += 1
            if self.session_k < self.config.sessions:
                self.patient.set_session(self.config.first_session + self.session_k)  # recovery between sessions
                events.append(json.dumps({"kind": "recovery", "t_s": t_s, "session_index":
                                          self.config.first_session + self.session_k,
                                          "strength": self.patient.strength, "spasticity": self.patient.spasticity}))
        self.phase = phase
        return {"~/events": events} if events else None

    def on_joint_states(self, js: JointStates, t_s: float) -> dict[str, Any] | None:
        """Gazebo's joint states of both arms: patient torques, cuff, summed robot torques, sensors."""
        c = self.config
        clock_s = t_s
        if math.isfinite(js.stamp_s):
            t_s = js.stamp_s  # Gazebo's step time: exact, where the node clock follows /clock in coarser steps
        robot = self._pick(js, c.robot_joints, c.robot_offsets_rad)
        arm = self._pick(js, c.patient_joints, c.patient_offsets_rad)
        drive = np.clip(self.drive, -np.array(c.drive_limits_nm), np.array(c.drive_limits_nm))
        if robot is None or arm is None:
            self.counters["rejected_joint_states"] += 1
            return self._drive_only()
        self.counters["states"] += 1
        self.last_state_clock = clock_s
        (qr, qdr), (qh, qdh) = robot, arm
        self.q_arm = qh
        if self.pending_target is not None:
            self.patient.see_target(t_s, self.pending_target, qh)
            self.pending_target = None
        events = self._faults(t_s)
        dt = c.relay_period_s if self.last_t is None else min(max(t_s - self.last_t, 0.0), 0.01)
        self.last_t = t_s
        tau_h = np.clip(self.patient.torque(t_s, qh, qdh, dt), -c.patient_torque_limit_nm, c.patient_torque_limit_nm)
        x_r, j_r = planar_chain(np.array(c.robot_base_xy_m), np.array(c.robot_links_m), qr)
        x_h, j_h = planar_chain(np.array(c.shoulder_xy_m), np.array(c.arm_links_m), qh)
        f = c.cuff_stiffness_n_m * (x_h - x_r) + c.cuff_damping_ns_m * (j_h @ qdh - j_r @ qdr)
        tau_r = drive + j_r.T @ f
        tau_h = tau_h - j_h.T @ f
        if not (np.all(np.isfinite(tau_r)) and np.all(np.isfinite(tau_h))):  # overflow from absurd finite states
            self.counters["rejected_joint_states"] += 1
            out: dict[str, Any] = dict(self._drive_only())
            if events:
                out["~/events"] = events
            return out
        out = {f"robot_effort_{i}": float(v) for i, v in enumerate(tau_r)}
        out.update({f"patient_effort_{i}": float(v) for i, v in enumerate(tau_h)})
        force3 = np.array([f[0], f[1], 0.0])
        out["~/cuff_wrench"] = WrenchStamped(stamp_s=js.stamp_s, frame_id=c.frame_id,
                                             wrench=Wrench(force_n=force3, torque_nm=np.zeros(3)))
        if events:
            out["~/events"] = events
        if self.dropout_active:
            self.counters["withheld"] += 1
            return out
        if 0.0 <= t_s - self.last_relay < c.relay_period_s - 1e-9:  # sim time going back (a reset): relay now
            return out
        self.last_relay = t_s
        self.counters["relayed"] += 1
        out["joint_states"] = JointStates(stamp_s=js.stamp_s, names=tuple(c.robot_joints), position=qr,
                                          velocity=qdr, effort=drive.copy())
        noise = self.rng.normal(0.0, c.force_noise_n, 2) if c.force_noise_n > 0 else np.zeros(2)
        out["wrench"] = WrenchStamped(stamp_s=js.stamp_s, frame_id=c.frame_id,
                                      wrench=Wrench(force_n=np.array([f[0] + noise[0], f[1] + noise[1], 0.0]),
                                                    torque_nm=np.zeros(3)))
        return out

    # --- internals --------------------------------------------------------------------------------
    def _now(self, t_s: float) -> float:
        """The patient's time: the latest joint-state stamp (the node clock before the first)."""
        return t_s if self.last_t is None else self.last_t
    def _pick(self, js: JointStates, names: tuple[str, ...], offsets: tuple[float, ...]
              ) -> tuple[np.ndarray, np.ndarray] | None:
        index = {n: i for i, n in enumerate(js.names)}
        pos = np.asarray(js.position, dtype=np.float64).reshape(-1)
        vel = np.asarray(js.velocity, dtype=np.float64).reshape(-1)
        idx = [index.get(n, -1) for n in names]
        if min(idx) < 0 or max(idx) >= min(pos.size, vel.size):
            return None
        q, qd = pos[idx] + np.array(offsets), vel[idx]
        if not (np.all(np.isfinite(q)) and np.all(np.isfinite(qd))):
            return None
        return q, qd

    def _faults(self, t_s: float) -> list[str]:
        """Fire the spasms now due and switch the dropout window, on the fault clock (sim time − offset)."""
        if self.base_s is None:
            return []
        c = self.config
        t = t_s - self.base_s  # the headless clock
        events = []
        while self.spasms and t >= self.spasms[0] - 1e-9:
            at = self.spasms.pop(0)
            self.patient.spasm(t_s)
            self.counters["spasms"] += 1
            events.append(json.dumps({"kind": "spasm", "t_s": t_s, "scheduled_s": at}))
        inside = c.dropout_at_s >= 0 and c.dropout_at_s - 1e-9 <= t < c.dropout_at_s + c.dropout_s - 1e-9
        if inside != self.dropout_active:
            self.dropout_active = inside
            events.append(json.dumps({"kind": "dropout_start" if inside else "dropout_end", "t_s": t_s}))
        return events

    def diagnostics(self) -> list[DiagnosticStatus]:
        """Patient state and counters; WARN while sensors are withheld or after rejected input."""
        bad = self.counters["rejected_joint_states"] + self.counters["rejected_drive"]
        level = DiagLevel.WARN if self.dropout_active or bad else DiagLevel.OK
        msg = "sensor dropout: sensors withheld" if self.dropout_active else (
            f"{bad} rejected inputs" if bad else "ok")
        values = {k: str(v) for k, v in self.metrics().items()}
        return [DiagnosticStatus(level, self.status_name, msg, "", values)]

    def metrics(self) -> dict[str, float]:
        """Counters, sessions and the patient's state."""
        return {**{k: float(v) for k, v in self.counters.items()}, "sessions_done": float(self.sessions_done),
                "strength": float(self.patient.strength), "spasticity": float(self.patient.spasticity),
                "fatigue": float(self.patient.fatigue), "dropout_active": float(self.dropout_active)}
