"""Node declaration of the rehabilitation twins' simulated patient (standard messages only).

``rehab_patient``: in ``joint_states_in`` (sensor_msgs/JointState from Gazebo: the robot's and the patient
arm's joints, angles counted from the start configuration the model was written in), ``drive_0``,
``drive_1`` (std_msgs/Float64, the robot motor torques split from the therapy node's effort command by
``joint_command_split``), ``target`` (geometry_msgs/PointStamped, the therapy node's reach target) and
``phase`` (std_msgs/String, the therapy phase); out ``robot_effort_<i>`` / ``patient_effort_<i>``
(std_msgs/Float64, joint torques for Gazebo's ``ApplyJointForce``: drive + cuff reaction on the robot,
patient + cuff on the arm), ``joint_states`` (sensor_msgs/JointState, the robot joints in absolute angles,
effort = drive torque) and ``wrench`` (geometry_msgs/WrenchStamped, the cuff force on the handle with F/T
noise, base frame) — both withheld during the scenario's sensor dropout —, ``~/cuff_wrench`` (the cuff force
without noise, never withheld: ground truth for scoring) and ``~/events`` (std_msgs/String, one JSON object
per session start, recovery, spasm, dropout start/end). Counters and the patient's state on /diagnostics.
See :mod:`.rehab_patient_node`.

``rehab_exo_patient``: the same for the elbow exoskeleton — in ``joint_states_in`` (the elbow), ``drive_0``
(the exoskeleton motor torque), ``target`` (target angle in x), ``phase``; out ``robot_effort_0`` (motor +
muscle torque for ``ApplyJointForce``), ``joint_states``, ``wrench`` (``torque.z`` = the muscles' torque about
the elbow with sensor noise, frame ``cuff``), ``~/cuff_wrench``, ``~/events``; the MyoElbow muscles are
evaluated with MuJoCo's muscle model (the installed ``myo_sim`` package). See :mod:`.rehab_exo_patient_node`.
"""

from __future__ import annotations

from typing import Any

from sanqin.msgs.geometry import point_from_msg, wrench_stamped_to_msg
from sanqin.msgs.rehab import float64_from_msg, float64_to_msg, string_from_msg, string_to_msg
from sanqin.msgs.sensors import joint_state_from_msg, joint_state_to_msg
from sanqin.runtime.node import Input, NodeSpec, Output, Qos
from sanqin.simulation.gazebo.rehab_exo_patient_node import ExoPatientConfig, ExoPatientTwin
from sanqin.simulation.gazebo.rehab_patient_node import (
    MAX_ROBOT_JOINTS,
    PATIENT_JOINTS,
    RehabPatientConfig,
    RehabPatientTwin,
)


def _target_from_msg(msg: Any) -> Any:
    return point_from_msg(msg.point)


REHAB_PATIENT = NodeSpec(
    name="rehab_patient",
    config=RehabPatientConfig,
    component=RehabPatientTwin,
    inputs=(
        Input("joint_states_in", "sensor_msgs/msg/JointState", "on_joint_states", joint_state_from_msg, Qos.SENSOR,
              "robot and patient-arm joints from Gazebo (angles from the model's start configuration)"),
        *(Input(f"drive_{i}", "std_msgs/msg/Float64", f"on_drive_{i}", float64_from_msg, Qos.RELIABLE,
                f"motor torque of robot joint {i} (N·m)") for i in range(MAX_ROBOT_JOINTS)),
        Input("target", "geometry_msgs/msg/PointStamped", "on_target", _target_from_msg, Qos.LATCHED,
              "the therapy node's reach target (m, base frame)"),
        Input("phase", "std_msgs/msg/String", "on_phase", string_from_msg, Qos.LATCHED, "therapy phase"),
    ),
    outputs=(
        *(Output(f"robot_effort_{i}", "std_msgs/msg/Float64", float64_to_msg, Qos.RELIABLE,
                 description=f"robot joint {i} torque: drive + cuff reaction (N·m)") for i in range(MAX_ROBOT_JOINTS)),
        *(Output(f"patient_effort_{i}", "std_msgs/msg/Float64", float64_to_msg, Qos.RELIABLE,
                 description=f"patient joint {i} torque: muscles + cuff (N·m)") for i in range(PATIENT_JOINTS)),
        Output("joint_states", "sensor_msgs/msg/JointState", joint_state_to_msg, Qos.SENSOR,
               description="robot joints (absolute angles, effort = drive torque); withheld in a dropout"),
        Output("wrench", "geometry_msgs/msg/WrenchStamped", wrench_stamped_to_msg, Qos.SENSOR,
               description="cuff force on the handle with F/T noise (base frame); withheld in a dropout"),
        Output("~/cuff_wrench", "geometry_msgs/msg/WrenchStamped", wrench_stamped_to_msg, Qos.SENSOR,
               description="cuff force without noise, never withheld (ground truth)"),
        Output("~/events", "std_msgs/msg/String", string_to_msg, Qos.RELIABLE, many=True,
               description="session starts, recovery, spasms, dropout start/end (JSON)"),
    ),
    description="simulated stroke patient, compliant cuff and fault injection of the rehabilitation twins (Gazebo)",
)

REHAB_EXO_PATIENT = NodeSpec(
    name="rehab_exo_patient",
    config=ExoPatientConfig,
    component=ExoPatientTwin,
    inputs=(
        Input("joint_states_in", "sensor_msgs/msg/JointState", "on_joint_states", joint_state_from_msg, Qos.SENSOR,
              "the elbow from Gazebo (angle from the model's start configuration)"),
        Input("drive_0", "std_msgs/msg/Float64", "on_drive_0", float64_from_msg, Qos.RELIABLE,
              "exoskeleton motor torque (N·m)"),
        Input("target", "geometry_msgs/msg/PointStamped", "on_target", _target_from_msg, Qos.LATCHED,
              "the therapy node's target elbow angle (rad, x)"),
        Input("phase", "std_msgs/msg/String", "on_phase", string_from_msg, Qos.LATCHED, "therapy phase"),
    ),
    outputs=(
        Output("robot_effort_0", "std_msgs/msg/Float64", float64_to_msg, Qos.RELIABLE,
               description="elbow torque: exoskeleton motor + the patient's muscles (N·m)"),
        Output("joint_states", "sensor_msgs/msg/JointState", joint_state_to_msg, Qos.SENSOR,
               description="the elbow (absolute angle, effort = motor torque); withheld in a dropout"),
        Output("wrench", "geometry_msgs/msg/WrenchStamped", wrench_stamped_to_msg, Qos.SENSOR,
               description="cuff torque (torque.z = muscles about the elbow, with noise); withheld in a dropout"),
        Output("~/cuff_wrench", "geometry_msgs/msg/WrenchStamped", wrench_stamped_to_msg, Qos.SENSOR,
               description="the muscles' torque without noise, never withheld (ground truth)"),
        Output("~/events", "std_msgs/msg/String", string_to_msg, Qos.RELIABLE, many=True,
               description="session starts, recovery, spasms, dropout start/end (JSON)"),
    ),
    description="musculoskeletal elbow patient (MyoElbow muscles), cuff torque and fault injection of the "
                "exoskeleton twins (Gazebo)",
)
