"""The arm twins' drive: a ros2_control forward position controller, reproduced with Gazebo systems.

Headless, our arm nodes (``seam_follower``, ``cartesian_admittance``) command the MuJoCo position servos
with ``std_msgs/Float64MultiArray`` on the forward position controller's topic — as on the real robot with
ros2_control's ``forward_command_controller``. ``ros_gz_bridge`` cannot carry that array, so the twin runs
:mod:`.command_split` (``joint_command_split``) on the same topic: element *i* goes to joint *i*'s
``JointPositionController`` (the MuJoCo servo's ``kp``, ``kv`` and force range as PID gains and output
limit, targeting the model's keyframe until the first command). The nodes keep their shipped
``command_interface: forward_position``; when commands stop, the controllers hold their last targets
(``on_timeout: keep_last``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sanqin.simulation.gazebo import systems
from sanqin.simulation.gazebo.bridge import ROS_TO_GZ, BridgeEntry
from sanqin.simulation.gazebo.mujoco_sdf import position_servo_gains
from sanqin.simulation.gazebo.twin import Twin

SPLIT_NODE = "forward_position_split"
COMMAND_TIMEOUT_S = 0.1  # counted by joint_command_split; the position controllers keep their last target


def joint_command_topic(model_name: str, joint: str) -> str:
    """The Gazebo (and bridged ROS) topic of one joint's position target."""
    return f"/model/{model_name}/joint/{joint}/cmd_pos"


def forward_position_drive(twin: Twin, m: Any, model: object, model_name: str, joints: Sequence[str],
                           forward_topic: str, timeout_s: float = COMMAND_TIMEOUT_S) -> list[float]:
    """Per-joint ``JointPositionController`` with the gains of the compiled MuJoCo model ``m``'s position servo
    (``kp``, ``kv``, force range; unlimited = no output limit) targeting its keyframe (``qpos0`` without one),
    their bridges and the ``joint_command_split`` node on ``forward_topic``. Returns that home (rad)."""
    home_rad = [float(v) for v in (m.key_qpos[0] if m.nkey else m.qpos0)[: len(joints)]]
    gains = [position_servo_gains(m, j) for j in joints]
    topics = [joint_command_topic(model_name, joint) for joint in joints]
    for joint, topic, home, (kp, kd, fmax) in zip(joints, topics, home_rad, gains):
        systems.joint_position_controller(model, joint, topic, kp, kd, cmd_max=fmax, initial_position=home)
        twin.add_bridge(BridgeEntry(topic, topic, "std_msgs/msg/Float64", "gz.msgs.Double", ROS_TO_GZ))
    twin.add_command_split(SPLIT_NODE, forward_topic, topics, timeout_s=float(timeout_s), on_timeout="keep_last")
    twin.record_topics.add(forward_topic)
    return home_rad
