"""MuJoCo arm glue for simulator plugins: load the UR5e spec, publish joint states and F/T, take commands.

The arm's position servos come from the model (its ``<position>`` actuators). Bodies get MuJoCo's
``gravcomp`` so the servos behave like an industrial controller with internal gravity compensation,
and joints get the reflected rotor inertia the kinematic model omits (``armature``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mujoco
import numpy as np

from sanqin.common.types import JointStates, Wrench, WrenchStamped
from sanqin.control.errors import RobotModelError
from sanqin.control.robot_model import resolve_model_path
from sanqin.msgs.control import float64_array_from_msg, joint_trajectory_from_msg
from sanqin.msgs.geometry import wrench_stamped_to_msg
from sanqin.msgs.sensors import joint_state_to_msg
from sanqin.simulation.errors import SimulationError

UR5E_ARMATURE = (0.4, 0.4, 0.2, 0.05, 0.05, 0.05)


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

    def publish_wrench(self, topic: str, t_s: float, frame: str, force: np.ndarray, torque: np.ndarray) -> None:
        """geometry_msgs/WrenchStamped."""
        w = WrenchStamped(stamp_s=t_s, frame_id=frame, wrench=Wrench(force_n=force, torque_nm=torque))
        self.ctx.publish(topic, wrench_stamped_to_msg(w, self.ctx.factory))
