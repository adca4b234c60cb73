"""Planar rehabilitation robot + impaired patient arm in MuJoCo, as a scenario simulator plugin.

The MJCF (``sim/mujoco/rehab_planar.xml``) holds the MIT-Manus-like robot and the patient's 2-link arm;
the plugin couples hand and handle through a compliant cuff (spring–damper), whose force is the handle
F/T measurement, and drives the arm with :class:`~sanqin.simulation.rehab_patient.ImpairedPatient`.

Bus I/O: publishes ``/joint_states`` (robot joints, with the applied effort) and the handle wrench (force
the patient applies to the robot, robot base frame); applies ``std_msgs/Float64MultiArray`` effort
commands (the drive zeroes the torque when commands stop for ``command_timeout_s``); the patient reaches
for the target the therapy node publishes. It can run several therapy sessions in one scenario (calling
the node's ``start`` service, applying the patient's recovery between sessions), inject spasms and a
sensor dropout, and it measures every limit of the patient profile independently of the node under test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

from sanqin.common.types import JointStates, Wrench, WrenchStamped
from sanqin.msgs.geometry import wrench_stamped_to_msg
from sanqin.msgs.sensors import joint_state_to_msg
from sanqin.rehab_robot.profile import load_profile
from sanqin.rehab_robot.robots import PlanarRobot
from sanqin.runtime.config import nested, param, require
from sanqin.runtime.paths import resolve_data_path
from sanqin.simulation.errors import WorldError
from sanqin.simulation.rehab_harness import TherapyHarness
from sanqin.simulation.rehab_patient import ImpairedPatient, PatientConfig

ROBOT_JOINTS = ("r_shoulder", "r_elbow")


@dataclass(frozen=True)
class RehabPlanarConfig:
    """World, coupling, fault injection and session scheduling of the planar rehabilitation simulation."""

    model_path: str = param("sim/mujoco/rehab_planar.xml", "MJCF of robot + arm (relative to the share folder)")
    profile_file: str = param("sim/rehab/profile_planar_example.yaml", "patient profile whose limits are measured")
    physics_dt_s: float = param(0.001, "MuJoCo step (s)", min=1e-4, max=0.01)
    start_xy_m: tuple[float, ...] = param((0.0, 0.38), "initial handle/hand position (m)")
    cuff_stiffness_n_m: float = param(2500.0, "hand–handle cuff stiffness (N/m)", min=10.0)
    cuff_damping_ns_m: float = param(25.0, "hand–handle cuff damping (N·s/m)", min=0.0)
    force_noise_n: float = param(0.2, "F/T sensor noise std (N)", min=0.0)
    command_timeout_s: float = param(0.05, "drive zeroes the torque after this long without commands (s)",
                                     min=0.001)
    patient: PatientConfig = nested(PatientConfig)
    first_session: int = param(0, "recovery index of the first session run here", min=0, max=1000)
    sessions: int = param(1, "therapy sessions to run (0: do not call the node's start service)", min=0,
                          max=100)
    start_at_s: float = param(0.2, "when the first session is started (s)", min=0.0)
    between_sessions_s: float = param(0.5, "pause between sessions (s)", min=0.0)
    node: str = param("rehab_robot", "therapy node to start")
    spasm_at_s: tuple[float, ...] = param((), "times of injected spasms (s)")
    dropout_at_s: float = param(-1.0, "sensor dropout start (s); negative: none")
    dropout_s: float = param(0.3, "sensor dropout length (s)", min=0.0)
    joint_states_topic: str = param("/joint_states", "published sensor_msgs/JointState")
    wrench_topic: str = param("/handle/wrench", "published geometry_msgs/WrenchStamped")
    effort_topic: str = param("/effort_controller/commands", "effort commands in (Float64MultiArray)")
    target_topic: str = param("/rehab_robot/target", "target the patient reaches for (PointStamped)")
    phase_topic: str = param("/rehab_robot/phase", "therapy phase (std_msgs/String)")
    safety_topic: str = param("/rehab_robot/safety", "safety state (DiagnosticArray)")
    events_topic: str = param("/rehab_robot/safety_events", "safety events (std_msgs/String, JSON)")

    def __post_init__(self) -> None:
        require(len(self.start_xy_m) == 2, "start_xy_m needs x and y")


class RehabPlanarSim:
    """Simulator plugin (see :mod:`sanqin.runtime.scenario`)."""

    Config = RehabPlanarConfig

    def __init__(self, config: RehabPlanarConfig, ctx: Any) -> None:
        self.config = config
        self.ctx = ctx
        self.rng = ctx.rng
        path = resolve_data_path(config.model_path)
        try:
            self.m = mujoco.MjModel.from_xml_path(str(path))
        except ValueError as err:
            raise WorldError(f"cannot load {path}: {err}") from err
        self.m.opt.timestep = config.physics_dt_s
        self.d = mujoco.MjData(self.m)
        self.profile = load_profile(resolve_data_path(config.profile_file))
        self.robot = PlanarRobot()
        ids = {n: mujoco.mj_name2id(self.m, mujoco.mjtObj.mjOBJ_JOINT, n)
               for n in (*ROBOT_JOINTS, "h_shoulder", "h_elbow")}
        if min(ids.values()) < 0:
            raise WorldError(f"{path} lacks one of the joints {list(ids)}")
        self.r_q = np.array([self.m.jnt_qposadr[ids[n]] for n in ROBOT_JOINTS])
        self.r_v = np.array([self.m.jnt_dofadr[ids[n]] for n in ROBOT_JOINTS])
        self.h_q = np.array([self.m.jnt_qposadr[ids[n]] for n in ("h_shoulder", "h_elbow")])
        self.h_v = np.array([self.m.jnt_dofadr[ids[n]] for n in ("h_shoulder", "h_elbow")])
        self.handle = mujoco.mj_name2id(self.m, mujoco.mjtObj.mjOBJ_SITE, "handle")
        self.hand = mujoco.mj_name2id(self.m, mujoco.mjtObj.mjOBJ_SITE, "hand")
        self.link2 = mujoco.mj_name2id(self.m, mujoco.mjtObj.mjOBJ_BODY, "robot_link2")
        self.forearm = mujoco.mj_name2id(self.m, mujoco.mjtObj.mjOBJ_BODY, "forearm")
        shoulder = self.m.body_pos[mujoco.mj_name2id(self.m, mujoco.mjtObj.mjOBJ_BODY, "upper_arm")][:2]
        self.patient = ImpairedPatient(config.patient, shoulder.copy(), config.first_session, self.rng)
        start = np.array(config.start_xy_m)
        self.d.qpos[self.r_q] = self.robot.inverse(start)
        self.d.qpos[self.h_q] = self.patient.inverse(start)
        mujoco.mj_forward(self.m, self.d)
        self.force = np.zeros(2)
        self._jac = np.zeros((3, self.m.nv)), np.zeros((3, self.m.nv))
        self.io = TherapyHarness(ctx, config, self.profile, 2, self._on_target, self.patient.set_session,
                                 lambda t: self.patient.go(t, self.d.qpos[self.h_q]))
        self.trace: list[tuple[float, ...]] = []

    def _on_target(self, t_s: float, target: np.ndarray) -> None:
        self.patient.see_target(t_s, target[:2], self.d.qpos[self.h_q])

    def _site_vel(self, site: int) -> np.ndarray:
        jp, jr = self._jac
        mujoco.mj_jacSite(self.m, self.d, jp, jr, site)
        return (jp @ self.d.qvel)[:2]

    def step(self, t_s: float, dt_s: float) -> None:
        """Advance physics to ``t_s``, then publish the sensors (unless in a dropout)."""
        c = self.config
        for onset in self.io.begin_step(t_s, dt_s):
            self.patient.spasm(onset)
        n = max(1, round(dt_s / self.m.opt.timestep))
        h = dt_s / n
        lo, hi = self.m.actuator_ctrlrange[:2, 0], self.m.actuator_ctrlrange[:2, 1]
        for k in range(n):
            t = t_s - dt_s + (k + 1) * h
            self.d.ctrl[:2] = np.clip(self.io.effort_now(t), lo, hi)
            self.d.ctrl[2:4] = self.patient.torque(t, self.d.qpos[self.h_q], self.d.qvel[self.h_v], h)
            x_hand, x_handle = self.d.site_xpos[self.hand][:2], self.d.site_xpos[self.handle][:2]
            f = c.cuff_stiffness_n_m * (x_hand - x_handle) + c.cuff_damping_ns_m * (
                self._site_vel(self.hand) - self._site_vel(self.handle))
            self.force = f
            self.d.qfrc_applied[:] = 0.0
            f3 = np.array([f[0], f[1], 0.0])
            mujoco.mj_applyFT(self.m, self.d, f3, np.zeros(3), self.d.site_xpos[self.handle].copy(), self.link2,
                              self.d.qfrc_applied)
            mujoco.mj_applyFT(self.m, self.d, -f3, np.zeros(3), self.d.site_xpos[self.hand].copy(), self.forearm,
                              self.d.qfrc_applied)
            mujoco.mj_step(self.m, self.d)
        self.io.t = t_s
        x = self.d.site_xpos[self.handle][:2].copy()
        v = self._site_vel(self.handle)
        self.io.measure(x, v, self.force, self.d.ctrl[:2])
        self.trace.append((t_s, x[0], x[1], v[0], v[1], self.force[0], self.force[1], self.d.ctrl[0],
                           self.d.ctrl[1], self.patient.strength * self.patient.fatigue, float(self.io.session_k)))
        if not self.io.publishing(t_s):
            return
        q, qd = self.d.qpos[self.r_q].copy(), self.d.qvel[self.r_v].copy()
        js = JointStates(stamp_s=t_s, names=ROBOT_JOINTS, position=q, velocity=qd, effort=self.d.ctrl[:2].copy())
        self.ctx.publish(c.joint_states_topic, joint_state_to_msg(js, self.ctx.factory))
        f_meas = self.force + self.rng.normal(0.0, c.force_noise_n, 2)
        w = WrenchStamped(stamp_s=t_s, frame_id="rehab_base",
                          wrench=Wrench(force_n=np.array([f_meas[0], f_meas[1], 0.0]), torque_nm=np.zeros(3)))
        self.ctx.publish(c.wrench_topic, wrench_stamped_to_msg(w, self.ctx.factory))
        self.io.note_sample(t_s, v, f_meas)

    def done(self) -> bool:
        """All requested sessions completed."""
        return self.io.done()

    def metrics(self) -> dict[str, float]:
        """Limit margins measured here (independent of the node), safety reaction times, patient state."""
        out = self.io.metrics("m")
        out["patient_strength"] = self.patient.strength
        out["patient_spasticity"] = self.patient.spasticity
        return out

    def plots(self, out_dir: Path) -> list[Path]:
        """Handle paths per session and the interaction force over time."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        tr = np.asarray(self.trace)
        if tr.size == 0:
            return []
        lim = self.profile.limits
        fig, ax = plt.subplots(1, 2, figsize=(11, 4.5))
        for k in np.unique(tr[:, 10]):
            sel = tr[:, 10] == k
            ax[0].plot(tr[sel, 1], tr[sel, 2], lw=0.8, label=f"session {int(k)}")
        ax[0].add_patch(plt.Rectangle(lim.task_min, *(lim.task_max - lim.task_min), fill=False, ls="--"))
        ax[0].set_aspect("equal")
        ax[0].set_xlabel("x (m)")
        ax[0].set_ylabel("y (m)")
        ax[0].legend(fontsize=7)
        ax[0].set_title("handle paths (dashed: patient ROM)")
        ax[1].plot(tr[:, 0], np.hypot(tr[:, 5], tr[:, 6]), lw=0.6)
        ax[1].axhline(lim.max_interaction, ls="--", c="r")
        ax[1].set_xlabel("t (s)")
        ax[1].set_ylabel("|interaction force| (N)")
        path = Path(out_dir) / "rehab_planar.png"
        fig.tight_layout()
        fig.savefig(path, dpi=80)
        plt.close(fig)
        return [path]
