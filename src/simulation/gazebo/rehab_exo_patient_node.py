"""The musculoskeletal patient of the exoskeleton twins as a ROS node: MyoElbow muscles, cuff torque and faults.

Headless, :class:`~sanqin.simulation.rehab_exo.RehabExoSim` steps MyoSuite's MyoElbow (from the installed
``myo_sim`` package) in MuJoCo: the forearm on the ``r_elbow_flex`` hinge, six Hill-type muscles driven by the
excitations of :class:`~sanqin.simulation.rehab_patient.ElbowPatient`, and the exoskeleton motor on the same
joint; the cuff reads the muscles' torque about the elbow. SDFormat and Gazebo have no muscle or tendon model,
so in the twin Gazebo steps the forearm as a rigid body on the hinge (gravity, inertia, joint limits) and this
component (node ``rehab_exo_patient``) evaluates the muscles, every time Gazebo's joint state arrives:

* **the patient** — the very :class:`ElbowPatient` (unchanged) turns the therapy target, phase and the elbow
  state into flexor/extensor excitations, scaled by the muscles' capacity at 1 rad as headless;
* **the muscles** — MuJoCo evaluates the same MJCF's muscles (tendon lengths and velocities over their wrapping
  paths, force–length–velocity curves, passive forces) at Gazebo's elbow angle and speed with the current
  activations (:class:`MyoElbowMuscles`), and integrates the activation dynamics over the step: MuJoCo is used
  as a muscle model here, the rigid-body dynamics are Gazebo's;
* **the drive** — the exoskeleton motor's torque (``drive_0`` from ``joint_command_split``, clipped to the
  exoskeleton's torque limit as headless) plus the muscles' torque go to ``ApplyJointForce`` as one
  ``robot_effort_0`` (it keeps one value per joint);
* **the sensors and faults** — ``joint_states`` (angle + the start angle the model was written in, effort =
  drive torque) and ``wrench`` (``torque.z`` = muscle torque + noise, frame ``cuff``), spasms and the sensor
  dropout on the session clock and the session/recovery bookkeeping exactly as in :mod:`.rehab_patient_node`
  (whose component this one extends).

Bad input: a joint state without the elbow or with NaN/inf is rejected and counted (the motor torque alone
is applied: no muscle torque from a state it cannot trust); a non-finite drive value is no torque; a non-finite
target is refused; joint states absent for ``state_timeout_s`` pass every drive input on alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sanqin.common.types import JointStates, Wrench, WrenchStamped
from sanqin.runtime.config import nested, param, require
from sanqin.simulation.gazebo.rehab_patient_node import RehabPatientTwin
from sanqin.simulation.rehab_patient import ElbowPatient, PatientConfig

FLEXORS = ("BIClong", "BICshort", "BRA")
EXTENSORS = ("TRIlong", "TRIlat", "TRImed")


class MyoElbowMuscles:
    """MuJoCo's muscle model of the MyoElbow MJCF, evaluated at a given elbow state (no rigid-body stepping)."""

    def __init__(self, model_path: str, joint: str, dt_s: float) -> None:
        import mujoco

        self.mj = mujoco
        self.m = mujoco.MjModel.from_xml_path(model_path)
        self.m.opt.timestep = dt_s
        self.d = mujoco.MjData(self.m)
        jid = mujoco.mj_name2id(self.m, mujoco.mjtObj.mjOBJ_JOINT, joint)
        names = [mujoco.mj_id2name(self.m, mujoco.mjtObj.mjOBJ_ACTUATOR, i) for i in range(self.m.nu)]
        missing = [n for n in (*FLEXORS, *EXTENSORS) if n not in names]
        if jid < 0 or missing:
            raise ValueError(f"{model_path}: lacks joint {joint!r} or muscles {missing}")
        self.qadr, self.vadr = int(self.m.jnt_qposadr[jid]), int(self.m.jnt_dofadr[jid])
        self.flex = [names.index(n) for n in FLEXORS]
        self.ext = [names.index(n) for n in EXTENSORS]
        self.others = [i for i in range(self.m.nu) if i not in self.flex + self.ext]  # the exo motor: off here
        self.adr = [int(self.m.actuator_actadr[i]) for i in self.flex + self.ext]

    def capacity(self, q: float) -> tuple[float, float]:
        """Flexor and extensor torque (N·m) at full activation at angle ``q`` (the headless scaling)."""
        d = self.mj.MjData(self.m)
        d.qpos[self.qadr] = q
        out = []
        for group in (self.flex, self.ext):
            d.act[:] = 0.0
            self.mj.mj_forward(self.m, d)
            rest = d.qfrc_actuator[self.vadr]
            d.act[[self.m.actuator_actadr[i] for i in group]] = 1.0
            self.mj.mj_forward(self.m, d)
            out.append(abs(float(d.qfrc_actuator[self.vadr] - rest)))
        return out[0], out[1]

    def torque(self, q: float, qd: float, flex: float, ext: float, dt_s: float) -> float:
        """The muscles' torque about the elbow now (current activations), then the activations after ``dt_s``."""
        d = self.d
        d.qpos[self.qadr], d.qvel[self.vadr] = q, qd
        d.ctrl[self.flex], d.ctrl[self.ext] = flex, ext
        d.ctrl[self.others] = 0.0
        self.mj.mj_forward(self.m, d)
        tau = float(d.qfrc_actuator[self.vadr])
        d.act[self.adr] = np.clip(d.act[self.adr] + dt_s * d.act_dot[self.adr], 0.0, 1.0)
        return tau


@dataclass(frozen=True)
class ExoPatientConfig:
    """The patient, the MyoElbow muscle model, the exoskeleton drive, the cuff sensor, faults and relay."""

    patient: PatientConfig = nested(PatientConfig)
    first_session: int = param(0, "recovery index of the first session", min=0, max=1000)
    sessions: int = param(1, "sessions of the scenario (recovery is applied after each but the last)", min=0,
                          max=100)
    seed: int = param(0, "seed of the F/T noise", min=0)
    myo_model: str = param("models/legacy/elbow/myoelbow_1dof6muscles_1dofexo.xml",
                           "MyoElbow + exo MJCF inside the installed myo_sim package (its muscles are evaluated)")
    joint: str = param("r_elbow_flex", "elbow joint (Gazebo and MJCF name)")
    offset_rad: float = param(0.5, "added to Gazebo's elbow angle (the start angle the model was written in)")
    drive_limit_nm: float = param(20.0, "exoskeleton motor torque range ± (N·m)", min=0.0)
    torque_noise_nm: float = param(0.05, "cuff torque sensor noise std (N·m)", min=0.0)
    start_at_s: float = param(0.2, "headless time of the first session start (s): fault times count from it",
                              min=0.0)
    spasm_at_s: tuple[float, ...] = param((), "spasm times (s, headless clock)")
    dropout_at_s: float = param(-1.0, "sensor dropout start (s, headless clock); negative: none")
    dropout_s: float = param(0.3, "sensor dropout length (s)", min=0.0)
    relay_period_s: float = param(0.001, "joint_states / wrench relay period (s)", min=0.0, max=1.0)
    muscle_dt_s: float = param(0.001, "activation integration step when the state stamps do not give one (s)",
                               min=1e-4, max=0.01)
    state_timeout_s: float = param(0.05, "no joint state for this long (node clock): every drive input sends the "
                                         "motor torque alone, no muscle torque (s)", min=0.001, max=10.0)
    frame_id: str = param("cuff", "frame of the relayed wrench")

    def __post_init__(self) -> None:
        require(math.isfinite(self.offset_rad), "offset_rad must be finite")
        require(all(math.isfinite(t) and t >= 0 for t in self.spasm_at_s), "spasm_at_s must be finite and >= 0")
        require(math.isfinite(self.dropout_at_s), "dropout_at_s must be finite")


class ExoPatientTwin(RehabPatientTwin):
    """Component of the ``rehab_exo_patient`` node (see the module docstring)."""

    status_name = "sanqin/gazebo/rehab_exo_patient"

    def __init__(self, config: ExoPatientConfig) -> None:
        from sanqin.simulation.rehab_exo import myo_model_path

        c = self.config = config  # type: ignore[assignment]
        self.rng = np.random.default_rng(c.seed)
        self.muscles = MyoElbowMuscles(str(myo_model_path(c.myo_model)), c.joint, c.muscle_dt_s)
        self.flex_max, self.ext_max = self.muscles.capacity(1.0)
        self.patient = ElbowPatient(c.patient, c.first_session, self.rng)  # type: ignore[assignment]
        self.drive = np.zeros(1)
        self._init_session_state()

    def on_drive_1(self, value: float, t_s: float) -> None:
        """One motor: a second drive value is refused."""
        self.counters["rejected_drive"] += 1

    def _drive_only(self) -> dict[str, float]:
        """The motor torque alone (clipped), no muscles."""
        limit = self.config.drive_limit_nm
        return {"robot_effort_0": float(np.clip(self.drive[0], -limit, limit))}

    def on_target(self, target: np.ndarray, t_s: float) -> None:
        """The therapy node's target elbow angle (rad, x)."""
        x = np.asarray(target, dtype=np.float64).reshape(-1)[:1]
        if x.size < 1 or not math.isfinite(float(x[0])):
            self.counters["rejected_target"] += 1
            return
        if self.q_arm is None:
            self.pending_target = x
            return
        self.patient.see_target(self._now(t_s), float(x[0]), self.q_arm)

    def on_joint_states(self, js: JointStates, t_s: float) -> dict[str, Any] | None:
        """Gazebo's elbow state: excitations, muscle torque, drive + muscles, sensors."""
        c = self.config
        clock_s = t_s
        if math.isfinite(js.stamp_s):
            t_s = js.stamp_s
        drive = float(np.clip(self.drive[0], -c.drive_limit_nm, c.drive_limit_nm))
        index = {n: i for i, n in enumerate(js.names)}
        i = index.get(c.joint, -1)
        pos = np.asarray(js.position, dtype=np.float64).reshape(-1)
        vel = np.asarray(js.velocity, dtype=np.float64).reshape(-1)
        if i < 0 or i >= min(pos.size, vel.size) or not (math.isfinite(pos[i]) and math.isfinite(vel[i])):
            self.counters["rejected_joint_states"] += 1
            return {"robot_effort_0": drive}
        self.counters["states"] += 1
        self.last_state_clock = clock_s
        q, qd = float(pos[i]) + c.offset_rad, float(vel[i])
        self.q_arm = q
        if self.pending_target is not None:
            self.patient.see_target(t_s, float(self.pending_target[0]), q)
            self.pending_target = None
        events = self._faults(t_s)
        dt = c.muscle_dt_s if self.last_t is None or t_s <= self.last_t else min(t_s - self.last_t, 0.01)
        self.last_t = t_s
        fl, ex = self.patient.excitations(t_s, q, qd, dt, self.flex_max, self.ext_max)
        muscle = self.muscles.torque(q, qd, max(fl, 0.001), max(ex, 0.001), dt)
        out: dict[str, Any] = {"robot_effort_0": drive + muscle}
        out["~/cuff_wrench"] = WrenchStamped(stamp_s=js.stamp_s, frame_id=c.frame_id,
                                             wrench=Wrench(force_n=np.zeros(3), torque_nm=np.array([0.0, 0.0, muscle])))
        if events:
            out["~/events"] = events
        if self.dropout_active:
            self.counters["withheld"] += 1
            return out
        if 0.0 <= t_s - self.last_relay < c.relay_period_s - 1e-9:  # sim time going back (a reset): relay now
            return out
        self.last_relay = t_s
        self.counters["relayed"] += 1
        out["joint_states"] = JointStates(stamp_s=js.stamp_s, names=(c.joint,), position=np.array([q]),
                                          velocity=np.array([qd]), effort=np.array([drive]))
        noise = float(self.rng.normal(0.0, c.torque_noise_nm)) if c.torque_noise_nm > 0 else 0.0
        measured = np.array([0.0, 0.0, muscle + noise])
        out["wrench"] = WrenchStamped(stamp_s=js.stamp_s, frame_id=c.frame_id,
                                      wrench=Wrench(force_n=np.zeros(3), torque_nm=measured))
        return out

    def metrics(self) -> dict[str, float]:
        """Counters, sessions, the patient's state and the muscles' capacity."""
        return {**super().metrics(), "flexor_capacity_nm": self.flex_max, "extensor_capacity_nm": self.ext_max}

