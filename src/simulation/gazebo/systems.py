"""Gazebo Harmonic systems (``gz-sim-*-system`` plugins) used by the generated worlds and models.

Each function adds one ``<plugin>`` with the parameters the system reads. The world systems are
what a headless server needs: physics, sensors rendering with ogre2 (``--headless-rendering``
uses EGL), the scene broadcaster (entity poses for the bridge and GUIs), user commands (``create``
spawns robots through it) and the per-sensor-type systems (IMU, force/torque, NavSat, ...).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from sanqin.simulation.gazebo.sdf import comment, num, plugin

#: World system name → (plugin file, class, parameters).
WORLD_SYSTEMS: dict[str, tuple[str, str, dict[str, object]]] = {
    "physics": ("gz-sim-physics-system", "gz::sim::systems::Physics", {}),
    "sensors": ("gz-sim-sensors-system", "gz::sim::systems::Sensors", {"render_engine": "ogre2"}),
    "scene_broadcaster": ("gz-sim-scene-broadcaster-system", "gz::sim::systems::SceneBroadcaster", {}),
    "user_commands": ("gz-sim-user-commands-system", "gz::sim::systems::UserCommands", {}),
    "imu": ("gz-sim-imu-system", "gz::sim::systems::Imu", {}),
    "forcetorque": ("gz-sim-forcetorque-system", "gz::sim::systems::ForceTorque", {}),
    "navsat": ("gz-sim-navsat-system", "gz::sim::systems::NavSat", {}),
    "air_pressure": ("gz-sim-air-pressure-system", "gz::sim::systems::AirPressure", {}),
    "magnetometer": ("gz-sim-magnetometer-system", "gz::sim::systems::Magnetometer", {}),
    "contact": ("gz-sim-contact-system", "gz::sim::systems::Contact", {}),
}

#: Systems every generated world loads; sensor-type systems are added when a model uses that sensor.
BASE_WORLD_SYSTEMS = ("physics", "sensors", "scene_broadcaster", "user_commands")


def add_world_systems(world: ET.Element, names: Sequence[str]) -> None:
    """Add the named world systems (base systems first, then the others in :data:`WORLD_SYSTEMS` order)."""
    wanted = set(names) | set(BASE_WORLD_SYSTEMS)
    for name, (filename, cls, params) in WORLD_SYSTEMS.items():
        if name in wanted:
            plugin(world, filename, cls, dict(params))


def diff_drive(model: ET.Element, *, left_joints: Sequence[str], right_joints: Sequence[str],
               wheel_separation_m: float, wheel_radius_m: float, cmd_topic: str, odom_topic: str,
               tf_topic: str, frame_id: str = "odom", child_frame_id: str = "base_link",
               odom_rate_hz: float = 50.0, max_velocity_m_s: float | None = None,
               max_acceleration_m_s2: float | None = None) -> None:
    """``DiffDrive``: Twist on ``cmd_topic`` → wheel joint velocities; odometry and TF out."""
    params: dict[str, object] = {
        "left_joint": list(left_joints),
        "right_joint": list(right_joints),
        "wheel_separation": wheel_separation_m,
        "wheel_radius": wheel_radius_m,
        "odom_publish_frequency": odom_rate_hz,
        "topic": cmd_topic,
        "odom_topic": odom_topic,
        "tf_topic": tf_topic,
        "frame_id": frame_id,
        "child_frame_id": child_frame_id,
    }
    if max_velocity_m_s is not None:
        params["max_linear_velocity"] = max_velocity_m_s
        params["min_linear_velocity"] = -max_velocity_m_s
    if max_acceleration_m_s2 is not None:
        params["max_linear_acceleration"] = max_acceleration_m_s2
        params["min_linear_acceleration"] = -max_acceleration_m_s2
    plugin(model, "gz-sim-diff-drive-system", "gz::sim::systems::DiffDrive", params)


def mecanum_drive(model: ET.Element, *, front_left: str, front_right: str, back_left: str, back_right: str,
                  wheel_separation_m: float, wheelbase_m: float, wheel_radius_m: float, cmd_topic: str,
                  odom_topic: str, tf_topic: str, frame_id: str = "odom", child_frame_id: str = "base_link",
                  odom_rate_hz: float = 50.0) -> None:
    """``MecanumDrive``: holonomic Twist (vx, vy, wz) → four mecanum wheel velocities; odometry out."""
    plugin(model, "gz-sim-mecanum-drive-system", "gz::sim::systems::MecanumDrive", {
        "front_left_joint": front_left,
        "front_right_joint": front_right,
        "back_left_joint": back_left,
        "back_right_joint": back_right,
        "wheel_separation": wheel_separation_m,
        "wheelbase": wheelbase_m,
        "wheel_radius": wheel_radius_m,
        "odom_publish_frequency": odom_rate_hz,
        "topic": cmd_topic,
        "odom_topic": odom_topic,
        "tf_topic": tf_topic,
        "frame_id": frame_id,
        "child_frame_id": child_frame_id,
    })


def joint_state_publisher(model: ET.Element, topic: str, joints: Sequence[str] = ()) -> None:
    """``JointStatePublisher``: joint positions/velocities/efforts as gz.msgs.Model (→ sensor_msgs/JointState)."""
    params: dict[str, object] = {"topic": topic}
    if joints:
        params["joint_name"] = list(joints)
    plugin(model, "gz-sim-joint-state-publisher-system", "gz::sim::systems::JointStatePublisher", params)


def joint_trajectory_controller(model: ET.Element, topic: str, joints: Sequence[str],
                                initial_positions: Sequence[float], p_gain: Sequence[float],
                                d_gain: Sequence[float], i_gain: Sequence[float] | None = None,
                                cmd_max: Sequence[float] | None = None) -> None:
    """``JointTrajectoryController``: trajectory_msgs/JointTrajectory → PID position control of the joints
    (force limited to ``±cmd_max``; 0 = unlimited); the joints are driven to ``initial_positions`` at start.

    The system pairs the n-th value of each per-joint parameter with the n-th ``<joint_name>``, so every
    parameter is written once per joint; an unlimited joint gets ``position_cmd_max`` -1 < ``position_cmd_min``
    0, which gz-math's PID reads as "no output clamp" (the system's own default pair).
    """
    n = len(joints)
    i_gain = list(i_gain) if i_gain is not None else [0.0] * n
    cmd_max = list(cmd_max) if cmd_max is not None else [0.0] * n
    if not (len(initial_positions) == len(p_gain) == len(d_gain) == len(i_gain) == len(cmd_max) == n):
        raise ValueError("one initial position, gain and force limit per joint")
    node = plugin(model, "gz-sim-joint-trajectory-controller-system", "gz::sim::systems::JointTrajectoryController",
                  {"topic": topic})
    for k, name in enumerate(joints):
        ET.SubElement(node, "joint_name").text = name
        limited = cmd_max[k] > 0
        for tag, values in (("initial_position", initial_positions), ("position_p_gain", p_gain),
                            ("position_i_gain", i_gain), ("position_d_gain", d_gain)):
            ET.SubElement(node, tag).text = num(values[k])
        ET.SubElement(node, "position_cmd_max").text = num(cmd_max[k] if limited else -1.0)
        ET.SubElement(node, "position_cmd_min").text = num(-cmd_max[k] if limited else 0.0)


def joint_position_controller(model: ET.Element, joint: str, topic: str, p_gain: float, d_gain: float,
                              i_gain: float = 0.0, cmd_max: float | None = None,
                              initial_position: float | None = None) -> None:
    """``JointPositionController``: std_msgs/Float64 target (rad or m) → PID force on one joint, limited to
    ``±cmd_max`` (None or inf: unlimited); the target is ``initial_position`` until the first command.

    Every PID term and the output limit are written out: the system's defaults (i 0.1 with ±1 integral clamp,
    d 0.01, output ±1000) are not neutral. No limit is written as ``cmd_max`` -1 < ``cmd_min`` 0, which
    gz-math's PID reads as "no output clamp".
    """
    limited = cmd_max is not None and math.isfinite(cmd_max)
    if limited and not cmd_max > 0:
        raise ValueError(f"joint {joint}: cmd_max must be > 0 (or None/inf for no limit), got {cmd_max}")
    params: dict[str, object] = {"joint_name": joint, "topic": topic, "p_gain": p_gain, "i_gain": i_gain,
                                 "d_gain": d_gain, "i_max": 0.0 if i_gain == 0 else 1.0,
                                 "i_min": 0.0 if i_gain == 0 else -1.0,
                                 "cmd_max": cmd_max if limited else -1.0, "cmd_min": -cmd_max if limited else 0.0}
    if initial_position is not None:
        params["initial_position"] = initial_position
    node = plugin(model, "gz-sim-joint-position-controller-system", "gz::sim::systems::JointPositionController",
                  params)
    if not limited:
        comment(node, "cmd_max < cmd_min: no output limit")


def odometry_publisher(model: ET.Element, odom_topic: str, tf_topic: str, rate_hz: float,
                       frame_id: str = "odom", child_frame_id: str = "base_link", dimensions: int = 3,
                       gaussian_noise_m: float | None = None) -> None:
    """``OdometryPublisher``: ground-truth odometry of the model (for vehicles without a drive system), with
    ``gaussian_noise_m`` (std) on the pose when given."""
    params: dict[str, object] = {
        "odom_frame": frame_id, "robot_base_frame": child_frame_id, "odom_publish_frequency": rate_hz,
        "odom_topic": odom_topic, "tf_topic": tf_topic, "dimensions": dimensions,
    }
    if gaussian_noise_m is not None:
        params["gaussian_noise"] = gaussian_noise_m
    plugin(model, "gz-sim-odometry-publisher-system", "gz::sim::systems::OdometryPublisher", params)


def velocity_control(model: ET.Element, topic: str) -> None:
    """``VelocityControl``: body-frame Twist on ``topic`` sets the model's velocity (a kinematic carrier)."""
    plugin(model, "gz-sim-velocity-control-system", "gz::sim::systems::VelocityControl", {"topic": topic})
