"""MuJoCo arm glue for simulator plugins: load the UR5e spec, publish joint states and F/T, take commands.

The arm's position servos come from the model (its ``<position>`` actuators). Bodies get MuJoCo's
``gravcomp`` so the servos behave like an industrial controller with internal gravity compensation,
and joints get the reflected rotor inertia the kinematic model omits (``armature``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

from sanqin.common.types import JointStates, Wrench, WrenchStamped
from sanqin.control.errors import RobotModelError
from sanqin.control.robot_model import DEFAULT_UR5E_PATH, resolve_model_path
from sanqin.msgs.control import float64_array_from_msg, joint_trajectory_from_msg
from sanqin.msgs.geometry import wrench_stamped_to_msg
from sanqin.msgs.sensors import joint_state_to_msg
from sanqin.runtime.config import param, require
from sanqin.simulation.errors import SimulationError

UR5E_ARMATURE = (0.4, 0.4, 0.2, 0.05, 0.05, 0.05)
UR5E_JOINT_NAMES = ("shoulder_pan", "shoulder_lift", "elbow", "wrist_1", "wrist_2", "wrist_3")


def ur5e_spec(model_path: str, gravcomp: bool = True, armature: Sequence[float] = UR5E_ARMATURE) -> mujoco.MjSpec:
    """The UR5e as an editable MjSpec (keyframes kept); raises :class:`SimulationError` if the file is absent."""
    try:
        path = resolve_model_path(model_path)
    except RobotModelError as err:
        raise SimulationError(str(err)) from err
    spec = mujoco.MjSpec.from_file(str(path))
    if gravcomp:
        for body in spec.bodies:
            if body.name != "world":
                body.gravcomp = 1.0
    for joint, arm in zip(spec.joints, armature):
        joint.armature = arm
    return spec


def add_ft_tool(spec: mujoco.MjSpec, name: str) -> mujoco.MjsBody:
    """A tool body on the UR5e flange behind a 6-axis F/T sensor (site ``ft_sensor``; sensors ft_force, ft_torque).

    The two sensors are the model's first six sensor values, which :meth:`ArmIO.publish_ft` reads; the caller
    gives the tool its geoms.
    """
    tool = spec.body("wrist_3_link").add_body(name=name, pos=[0, 0.1, 0], quat=[-1, 1, 1, 1])
    tool.gravcomp = 0.0  # the tool's weight is what the F/T sensor must see
    tool.add_site(name="ft_sensor")
    for kind, sensor in ((mujoco.mjtSensor.mjSENS_FORCE, "ft_force"), (mujoco.mjtSensor.mjSENS_TORQUE, "ft_torque")):
        spec.add_sensor(type=kind, objtype=mujoco.mjtObj.mjOBJ_SITE, objname="ft_sensor", name=sensor)
    return tool


class ArmIO:
    """Bus I/O of a simulated arm: JointState + WrenchStamped out, Float64MultiArray / JointTrajectory in."""

    def __init__(self, ctx: Any, m: mujoco.MjModel, d: mujoco.MjData, joints: Sequence[str]) -> None:
        self.ctx, self.m, self.d = ctx, m, d
        self.joint_names = tuple(joints)
        ids = [mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, j) for j in joints]
        if min(ids) < 0:
            raise SimulationError(f"model lacks one of the joints {list(joints)}")
        self.qadr = np.array([m.jnt_qposadr[j] for j in ids])
        self.vadr = np.array([m.jnt_dofadr[j] for j in ids])
        self.commands_received = 0
        self.commands_rejected = 0

    def subscribe_commands(self, forward_topic: str, trajectory_topic: str) -> None:
        """Accept position commands from a forward position controller or a joint trajectory topic."""
        self.ctx.subscribe(forward_topic, "std_msgs/msg/Float64MultiArray", self._on_forward)
        self.ctx.subscribe(trajectory_topic, "trajectory_msgs/msg/JointTrajectory", self._on_trajectory)

    def _apply(self, q: np.ndarray) -> None:
        if q.size != len(self.joint_names) or not np.all(np.isfinite(q)):
            self.commands_rejected += 1  # a real forward controller refuses malformed commands too
            return
        self.d.ctrl[: q.size] = q
        self.commands_received += 1

    def _on_forward(self, msg: Any) -> None:
        self._apply(float64_array_from_msg(msg))

    def _on_trajectory(self, msg: Any) -> None:
        _, names, points = joint_trajectory_from_msg(msg)
        if not points or tuple(names) != self.joint_names:
            self.commands_rejected += 1
            return
        self._apply(points[-1][1].position)

    def publish_joint_states(self, topic: str, t_s: float) -> None:
        """sensor_msgs/JointState of the arm joints."""
        js = JointStates(stamp_s=t_s, names=self.joint_names, position=self.d.qpos[self.qadr].copy(),
                         velocity=self.d.qvel[self.vadr].copy(), effort=np.zeros(0))
        self.ctx.publish(topic, joint_state_to_msg(js, self.ctx.factory))

    def publish_ft(self, topic: str, t_s: float, force_noise_n: float) -> None:
        """geometry_msgs/WrenchStamped of the :func:`add_ft_tool` sensor: the wrench on the tool, sensor frame.

        MuJoCo's force/torque sensors give what the tool exerts on its parent, hence the sign; the force
        gets Gaussian noise of ``force_noise_n`` (N) from the scenario's generator.
        """
        force = -self.d.sensordata[0:3] + self.ctx.rng.normal(0.0, force_noise_n, 3)
        w = WrenchStamped(stamp_s=t_s, frame_id="ft_sensor",
                          wrench=Wrench(force_n=force, torque_nm=-self.d.sensordata[3:6]))
        self.ctx.publish(topic, wrench_stamped_to_msg(w, self.ctx.factory))


# --- a UR5e pushed by hand at its tool: closed-loop test bed for the admittance controller -----------


@dataclass(frozen=True)
class ArmPushConfig:
    """UR5e with a small tool on a 6-axis F/T sensor, pushed by a scripted operator."""

    model_path: str = param(DEFAULT_UR5E_PATH, "UR5e MJCF (relative to the share folder)")
    tool_mass_kg: float = param(0.3, "tool mass beyond the sensor (kg)", min=0.0)
    push_profile: tuple[float, ...] = param(
        (0.5, 3.5, 0.0, 15.0, 0.0), "pushes on the tool: t_start t_end fx fy fz per row (s, N, world frame)"
    )
    force_noise_n: float = param(0.2, "F/T sensor noise std (N)", min=0.0)
    physics_dt_s: float = param(0.002, "MuJoCo step (s)", min=1e-4)
    joint_states_topic: str = param("/joint_states", "published sensor_msgs/JointState")
    wrench_topic: str = param("/wrench", "published geometry_msgs/WrenchStamped (wrench on the tool)")
    forward_topic: str = param("/forward_position_controller/commands", "position commands in")
    trajectory_topic: str = param("/joint_trajectory_controller/joint_trajectory", "trajectory commands in")

    def __post_init__(self) -> None:
        require(len(self.push_profile) % 5 == 0, "push_profile needs rows of 5 values: t_start t_end fx fy fz")


class ArmPushSim:
    """Simulator plugin: UR5e + tool on an F/T sensor, external pushes on the tool (see the scenario contract)."""

    Config = ArmPushConfig

    def __init__(self, config: ArmPushConfig, ctx: Any) -> None:
        self.config, self.ctx = config, ctx
        spec = ur5e_spec(config.model_path)
        tool = add_ft_tool(spec, "tool")
        tool.add_geom(type=mujoco.mjtGeom.mjGEOM_CYLINDER, fromto=[0, 0, 0, 0, 0, 0.02], size=[0.03, 0, 0],
                      mass=max(config.tool_mass_kg, 1e-4), contype=0, conaffinity=0)
        self.m = spec.compile()
        self.m.opt.timestep = config.physics_dt_s
        self.d = mujoco.MjData(self.m)
        mujoco.mj_resetDataKeyframe(self.m, self.d, 0)
        mujoco.mj_forward(self.m, self.d)
        self.io = ArmIO(ctx, self.m, self.d, UR5E_JOINT_NAMES)
        self.io.subscribe_commands(config.forward_topic, config.trajectory_topic)
        self.tool = mujoco.mj_name2id(self.m, mujoco.mjtObj.mjOBJ_BODY, "tool")
        self.site = mujoco.mj_name2id(self.m, mujoco.mjtObj.mjOBJ_SITE, "ft_sensor")
        self.pushes = np.asarray(config.push_profile, float).reshape(-1, 5)
        self.p0 = self.d.site_xpos[self.site].copy()
        self.trace: list[tuple[float, np.ndarray]] = []
        self.speeds: list[float] = []

    def push(self, t_s: float) -> np.ndarray:
        """Operator force on the tool (world, N) at ``t_s``."""
        for t0, t1, fx, fy, fz in self.pushes:
            if t0 <= t_s < t1:
                return np.array([fx, fy, fz])
        return np.zeros(3)

    def step(self, t_s: float, dt_s: float) -> None:
        """Apply the push, advance physics, publish joint states and the F/T reading."""
        self.d.xfrc_applied[self.tool, :3] = self.push(t_s)
        for _ in range(max(1, round(dt_s / self.m.opt.timestep))):
            mujoco.mj_step(self.m, self.d)
        self.io.publish_joint_states(self.config.joint_states_topic, t_s)
        self.io.publish_ft(self.config.wrench_topic, t_s, self.config.force_noise_n)
        p = self.d.site_xpos[self.site].copy()
        self.trace.append((t_s, p))
        vel = np.zeros(6)
        mujoco.mj_objectVelocity(self.m, self.d, mujoco.mjtObj.mjOBJ_SITE, self.site, vel, 0)
        self.speeds.append(float(np.linalg.norm(vel[3:])))

    def displacement_at(self, t_s: float) -> np.ndarray:
        """Tool displacement from the start (m, world) at the sample nearest ``t_s``."""
        if not self.trace:
            return np.zeros(3)
        i = int(np.argmin([abs(t - t_s) for t, _ in self.trace]))
        return self.trace[i][1] - self.p0

    def metrics(self) -> dict[str, float]:
        """Displacement at the end of the first push, peak speed until 1 s after it, drift after the last push."""
        if not self.trace:
            return {}
        first = self.pushes[0] if len(self.pushes) else np.zeros(5)
        last = self.pushes[-1] if len(self.pushes) else np.zeros(5)
        d1 = self.displacement_at(first[1] - 1e-3)
        times = np.array([t for t, _ in self.trace])
        early = times < first[1] + 1.0
        settle = last[1] + 0.3
        drift = self.trace[-1][1] - (self.displacement_at(settle) + self.p0) if times[-1] > settle else np.zeros(3)
        return {
            "push_disp_x_m": float(d1[0]), "push_disp_y_m": float(d1[1]), "push_disp_z_m": float(d1[2]),
            "max_speed_first_push_m_s": float(np.max(np.asarray(self.speeds)[early])),
            "offset_1s_after_first_push_m": float(np.linalg.norm(self.displacement_at(first[1] + 1.0))),
            "drift_after_last_push_m": float(np.linalg.norm(drift)),
            "commands_received": float(self.io.commands_received),
        }

    def plots(self, out_dir: Path) -> list[Path]:
        """Tool displacement from the start and the operator's push over time."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        if not self.trace:
            return []
        t = np.array([x for x, _ in self.trace])
        disp = np.array([p for _, p in self.trace]) - self.p0
        push = np.array([self.push(x) for x in t])
        fig, ax = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
        ax[0].plot(t, disp * 1e3)
        ax[0].legend(["x", "y", "z"])
        ax[0].set_ylabel("tool displacement (mm)")
        ax[1].plot(t, push)
        ax[1].set_ylabel("push (N)")
        ax[1].set_xlabel("t (s)")
        path = Path(out_dir) / "arm_push.png"
        fig.savefig(path, dpi=80)
        plt.close(fig)
        return [path]
