"""Elbow exoskeleton on a musculoskeletal arm (MyoSuite's MyoElbow, 6 muscles + a 1-DoF exo motor) in MuJoCo.

The model is loaded from the installed ``myo_sim`` package (never copied into this repository). The exo
motor and the elbow share the ``r_elbow_flex`` joint; the patient drives the six muscles with excitations
from :class:`~sanqin.simulation.rehab_patient.ElbowPatient` (reduced strength, stretch-reflex spasticity,
tremor, fatigue, recovery over sessions). The cuff sensor is modelled as reading the patient's muscular
torque about the elbow (active + passive muscle forces, i.e. what the patient exerts on the exoskeleton;
the limb's own weight is carried through the shared joint), published as ``torque.z`` of a WrenchStamped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

from sanqin.common.types import JointStates, Wrench, WrenchStamped
from sanqin.msgs.geometry import wrench_stamped_to_msg
from sanqin.msgs.sensors import joint_state_to_msg
from sanqin.rehab_robot.profile import load_profile
from sanqin.rehab_robot.robots import Exoskeleton
from sanqin.runtime.config import nested, param
from sanqin.runtime.paths import resolve_data_path
from sanqin.simulation.errors import WorldError
from sanqin.simulation.rehab_harness import TherapyHarness
from sanqin.simulation.rehab_patient import ElbowPatient, PatientConfig

JOINT = "r_elbow_flex"
FLEXORS = ("BIClong", "BICshort", "BRA")
EXTENSORS = ("TRIlong", "TRIlat", "TRImed")


def myo_model_path(relative: str) -> Path:
    """Absolute path of a model inside the installed ``myo_sim`` package."""
    try:
        import myo_sim
    except ImportError as err:
        raise WorldError("the myo-sim package is not installed (pip install myo-sim)") from err
    path = Path(os.path.dirname(myo_sim.__file__)) / relative
    if not path.is_file():
        raise WorldError(f"myo_sim has no model {relative!r} ({path})")
    return path


@dataclass(frozen=True)
class RehabExoConfig:
    """World, sensor, fault injection and session scheduling of the exoskeleton simulation."""

    myo_model: str = param("models/legacy/elbow/myoelbow_1dof6muscles_1dofexo.xml",
                           "MyoElbow + exo model inside the myo_sim package")
    profile_file: str = param("sim/rehab/profile_exo_example.yaml", "patient profile whose limits are measured")
    physics_dt_s: float = param(0.001, "MuJoCo step (s)", min=1e-4, max=0.005)
    start_angle_rad: float = param(0.5, "initial elbow angle (rad)", min=0.0, max=2.2)
    torque_noise_nm: float = param(0.05, "cuff torque sensor noise std (N·m)", min=0.0)
    command_timeout_s: float = param(0.05, "drive zeroes the torque after this long without commands (s)",
                                     min=0.001)
    patient: PatientConfig = nested(PatientConfig)
    first_session: int = param(0, "recovery index of the first session run here", min=0, max=1000)
    sessions: int = param(1, "therapy sessions to run (0: do not call the node's start service)", min=0,
                          max=100)
    start_at_s: float = param(0.2, "when the first session is started (s)", min=0.0)
    between_sessions_s: float = param(0.5, "pause between sessions (s)", min=0.0)
    node: str = param("rehab_exo", "therapy node to start")
    spasm_at_s: tuple[float, ...] = param((), "times of injected spasms (s)")
    dropout_at_s: float = param(-1.0, "sensor dropout start (s); negative: none")
    dropout_s: float = param(0.3, "sensor dropout length (s)", min=0.0)
    joint_states_topic: str = param("/joint_states", "published sensor_msgs/JointState")
    wrench_topic: str = param("/cuff/wrench", "published geometry_msgs/WrenchStamped (torque.z = elbow)")
    effort_topic: str = param("/effort_controller/commands", "effort commands in (Float64MultiArray)")
    target_topic: str = param("/rehab_exo/target", "target angle the patient reaches for (PointStamped x)")
    phase_topic: str = param("/rehab_exo/phase", "therapy phase (std_msgs/String)")
    safety_topic: str = param("/rehab_exo/safety", "safety state (DiagnosticArray)")
    events_topic: str = param("/rehab_exo/safety_events", "safety events (std_msgs/String, JSON)")


class RehabExoSim:
    """Simulator plugin (see :mod:`sanqin.runtime.scenario`)."""

    Config = RehabExoConfig

    def __init__(self, config: RehabExoConfig, ctx: Any) -> None:
        self.config = config
        self.ctx = ctx
        self.rng = ctx.rng
        path = myo_model_path(config.myo_model)
        try:
            self.m = mujoco.MjModel.from_xml_path(str(path))
        except ValueError as err:
            raise WorldError(f"cannot load {path}: {err}") from err
        self.m.opt.timestep = config.physics_dt_s
        self.d = mujoco.MjData(self.m)
        jid = mujoco.mj_name2id(self.m, mujoco.mjtObj.mjOBJ_JOINT, JOINT)
        names = [mujoco.mj_id2name(self.m, mujoco.mjtObj.mjOBJ_ACTUATOR, i) for i in range(self.m.nu)]
        missing = [n for n in ("Exo", *FLEXORS, *EXTENSORS) if n not in names]
        if jid < 0 or missing:
            raise WorldError(f"{path}: lacks joint {JOINT!r} or actuators {missing}")
        self.qadr, self.vadr = self.m.jnt_qposadr[jid], self.m.jnt_dofadr[jid]
        self.exo = names.index("Exo")
        self.gear = float(self.m.actuator_gear[self.exo, 0])
        self.flex = [names.index(n) for n in FLEXORS]
        self.ext = [names.index(n) for n in EXTENSORS]
        self.profile = load_profile(resolve_data_path(config.profile_file))
        self.robot = Exoskeleton(1)
        self.patient = ElbowPatient(config.patient, config.first_session, self.rng)
        self.flex_max, self.ext_max = self._capacity(1.0)
        self.d.qpos[self.qadr] = config.start_angle_rad
        mujoco.mj_forward(self.m, self.d)
        self.muscle_nm = 0.0
        self.io = TherapyHarness(ctx, config, self.profile, 1, self._on_target, self.patient.set_session,
                                 lambda t: self.patient.go(t, float(self.d.qpos[self.qadr])))
        self.trace: list[tuple[float, ...]] = []

    def _capacity(self, q: float) -> tuple[float, float]:
        """Flexor and extensor torque (N·m) at full activation at angle ``q`` (scales excitations)."""
        d = mujoco.MjData(self.m)
        d.qpos[self.qadr] = q
        out = []
        for group in (self.flex, self.ext):
            d.act[:] = 0.0
            mujoco.mj_forward(self.m, d)
            rest = d.qfrc_actuator[self.vadr]
            d.act[[self.m.actuator_actadr[i] for i in group]] = 1.0
            mujoco.mj_forward(self.m, d)
            out.append(abs(float(d.qfrc_actuator[self.vadr] - rest)))
        return out[0], out[1]

    def _on_target(self, t_s: float, target: np.ndarray) -> None:
        self.patient.see_target(t_s, float(target[0]), float(self.d.qpos[self.qadr]))

    def step(self, t_s: float, dt_s: float) -> None:
        """Advance physics to ``t_s``, then publish the sensors (unless in a dropout)."""
        c = self.config
        for onset in self.io.begin_step(t_s, dt_s):
            self.patient.spasm(onset)
        n = max(1, round(dt_s / self.m.opt.timestep))
        h = dt_s / n
        cap = float(self.robot.hardware.max_joint_torque_nm[0])
        for k in range(n):
            t = t_s - dt_s + (k + 1) * h
            tau = float(np.clip(self.io.effort_now(t)[0], -cap, cap))
            self.d.ctrl[self.exo] = tau / self.gear
            fl, ex = self.patient.excitations(t, float(self.d.qpos[self.qadr]), float(self.d.qvel[self.vadr]), h,
                                              self.flex_max, self.ext_max)
            self.d.ctrl[self.flex] = max(fl, 0.001)
            self.d.ctrl[self.ext] = max(ex, 0.001)
            mujoco.mj_step(self.m, self.d)
        self.io.t = t_s
        q = float(self.d.qpos[self.qadr])
        qd = float(self.d.qvel[self.vadr])
        tau_exo = self.gear * float(self.d.ctrl[self.exo])
        self.muscle_nm = float(self.d.qfrc_actuator[self.vadr]) - tau_exo
        self.io.measure(np.array([q]), np.array([qd]), np.array([self.muscle_nm]), np.array([tau_exo]))
        self.trace.append((t_s, q, qd, self.muscle_nm, tau_exo, float(self.io.session_k)))
        if not self.io.publishing(t_s):
            return
        js = JointStates(stamp_s=t_s, names=(JOINT,), position=np.array([q]), velocity=np.array([qd]),
                         effort=np.array([tau_exo]))
        self.ctx.publish(c.joint_states_topic, joint_state_to_msg(js, self.ctx.factory))
        meas = self.muscle_nm + float(self.rng.normal(0.0, c.torque_noise_nm))
        w = WrenchStamped(stamp_s=t_s, frame_id="cuff",
                          wrench=Wrench(force_n=np.zeros(3), torque_nm=np.array([0.0, 0.0, meas])))
        self.ctx.publish(c.wrench_topic, wrench_stamped_to_msg(w, self.ctx.factory))
        self.io.note_sample(t_s, np.array([qd]), np.array([meas]))

    def done(self) -> bool:
        """All requested sessions completed."""
        return self.io.done()

    def metrics(self) -> dict[str, float]:
        """Limit margins measured here (independent of the node), reactions, patient state."""
        out = self.io.metrics("rad")
        out.update(patient_strength=self.patient.strength, patient_spasticity=self.patient.spasticity,
                   flexor_capacity_nm=self.flex_max, extensor_capacity_nm=self.ext_max)
        return out

    def plots(self, out_dir: Path) -> list[Path]:
        """Elbow angle and the patient's muscular torque over time."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        tr = np.asarray(self.trace)
        if tr.size == 0:
            return []
        lim = self.profile.limits
        fig, ax = plt.subplots(2, 1, figsize=(10, 5), sharex=True)
        ax[0].plot(tr[:, 0], tr[:, 1], lw=0.8)
        for b in (lim.task_min[0], lim.task_max[0]):
            ax[0].axhline(b, ls="--", c="r")
        ax[0].set_ylabel("elbow angle (rad)")
        ax[1].plot(tr[:, 0], tr[:, 3], lw=0.6, label="patient (muscles)")
        ax[1].plot(tr[:, 0], tr[:, 4], lw=0.6, label="exoskeleton")
        ax[1].set_ylabel("torque (N·m)")
        ax[1].set_xlabel("t (s)")
        ax[1].legend(fontsize=7)
        path = Path(out_dir) / "rehab_exo.png"
        fig.tight_layout()
        fig.savefig(path, dpi=80)
        plt.close(fig)
        return [path]
