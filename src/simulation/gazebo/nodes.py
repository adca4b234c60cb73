"""Node declarations of the Gazebo twins (standard messages only).

``path_driver``: in ``odom`` (nav_msgs/Odometry, the robot's pose in the path's frame — the twin bridges
Gazebo's ground-truth odometry), out ``cmd_vel`` (geometry_msgs/Twist, body frame) every
``control_period_s``; counters and cross-track error on /diagnostics. Used by twins whose headless
simulator moves the robot along a known path (see :mod:`.path_driver`).

``thermal_counts``: in ``image_in`` (sensor_msgs/Image mono16/16UC1, Gazebo's L16 thermal counts), out
``image_out`` (sensor_msgs/Image 32FC1 in °C, same stamp); other encodings and empty frames are rejected and
counted (see :mod:`.thermal_counts`).

``scene_publisher``: out ``path`` (nav_msgs/Path, latched, once) and ``obstacles`` (sensor_msgs/PointCloud2
obstacle table, :mod:`sanqin.msgs.obstacles`) every ``period_s`` — the known scene a kinematic
headless simulator gives its planner (see :mod:`.scene`).

``operator_push``: in ``joint_states_in`` (sensor_msgs/JointState from Gazebo), out ``joint_states`` (the
same messages, relayed from the moment the arm has stood at home: the hand-over to the controller) and
``event`` (std_msgs/Int32, the index of each push event at its time from the hand-over; the bridge carries
it to the world's ``TriggeredPublisher`` → ``ApplyLinkWrench``); in ``command`` (geometry_msgs/Twist, the
pushed base's velocity command: with ``start_on_command`` the schedule starts at the first) — a headless
simulator's scripted operator push, replayed on sim time (see :mod:`.operator_push`).

``world_twist_relay``: in ``odom`` (nav_msgs/Odometry, the vehicle's attitude) and ``command``
(geometry_msgs/Twist, world-frame ENU velocity and yaw rate), out ``cmd_vel`` (geometry_msgs/Twist, the
latest command in the body frame, for ``MulticopterVelocityControl``; zero = hover when stale) every ``period_s``
(see :mod:`.world_twist`).

``joint_command_split``: in ``commands`` (std_msgs/Float64MultiArray, a ros2_control forward controller's
command), out ``joint_0`` … ``joint_7`` (std_msgs/Float64, element *i* on ``joint_i``; the twin's bridge
maps each to its joint's ``gz.msgs.Double`` topic); wrong-sized or non-finite arrays are rejected whole, and
``hold_value`` is commanded on every joint when commands stop for ``timeout_s`` (see :mod:`.command_split`).

``mavlink_fault_relay``: no topics — a UDP relay between ArduPilot SITL and the bridge that drops every datagram
inside scheduled windows on the node clock (sim time); forwarded/dropped counters per direction on /diagnostics
(see :mod:`.mavlink_relay`).
"""

from __future__ import annotations

from sanqin.msgs.control import float64_array_from_msg
from sanqin.msgs.geometry import odometry_from_msg, path_to_msg, twist_from_msg, twist_to_msg
from sanqin.msgs.image import frame_to_image, image_to_frame
from sanqin.msgs.obstacles import obstacles_to_pointcloud2
from sanqin.msgs.rehab import float64_to_msg
from sanqin.msgs.sensors import joint_state_from_msg, joint_state_to_msg
from sanqin.runtime.node import Input, NodeSpec, Output, Qos, Timer
from sanqin.simulation.gazebo.command_split import MAX_JOINTS, CommandSplit, CommandSplitConfig, output_topic
from sanqin.simulation.gazebo.mavlink_relay import MavlinkFaultRelay, MavlinkFaultRelayConfig
from sanqin.simulation.gazebo.operator_push import OperatorPush, OperatorPushConfig
from sanqin.simulation.gazebo.path_driver import PathDriver, PathDriverConfig
from sanqin.simulation.gazebo.scene import ScenePublisher, ScenePublisherConfig
from sanqin.simulation.gazebo.thermal_counts import ThermalCounts, ThermalCountsConfig
from sanqin.simulation.gazebo.world_twist import WorldTwistRelay, WorldTwistRelayConfig

PATH_DRIVER = NodeSpec(
    name="path_driver",
    config=PathDriverConfig,
    component=PathDriver,
    inputs=(Input("odom", "nav_msgs/msg/Odometry", "on_odom", odometry_from_msg, Qos.SENSOR,
                  "pose of the robot in the path's frame"),),
    outputs=(Output("cmd_vel", "geometry_msgs/msg/Twist", twist_to_msg, Qos.RELIABLE,
                    description="body-frame velocity command"),),
    timers=(Timer("control_period_s", "tick"),),
    description="pure-pursuit path driver: follows a polyline at a set speed from odometry (Gazebo twins)",
)

THERMAL_COUNTS = NodeSpec(
    name="thermal_counts",
    config=ThermalCountsConfig,
    component=ThermalCounts,
    inputs=(Input("image_in", "sensor_msgs/msg/Image", "on_image", image_to_frame, Qos.SENSOR,
                  "16-bit thermal counts (kelvin / kelvin_per_count)"),),
    outputs=(Output("image_out", "sensor_msgs/msg/Image", frame_to_image, Qos.SENSOR,
                    description="radiometric image, 32FC1 in °C"),),
    description="Gazebo thermal camera counts (mono16, K per count) to a 32FC1 °C radiometric image",
)

SCENE_PUBLISHER = NodeSpec(
    name="scene_publisher",
    config=ScenePublisherConfig,
    component=ScenePublisher,
    outputs=(
        Output("path", "nav_msgs/msg/Path", path_to_msg, Qos.LATCHED, description="the path to follow (once)"),
        Output("obstacles", "sensor_msgs/msg/PointCloud2", obstacles_to_pointcloud2, Qos.RELIABLE,
               description="known obstacles as the obstacle table"),
    ),
    timers=(Timer("period_s", "tick"),),
    description="publishes a scenario's known path (latched) and obstacle table (Gazebo twins)",
)

OPERATOR_PUSH = NodeSpec(
    name="operator_push",
    config=OperatorPushConfig,
    component=OperatorPush,
    inputs=(Input("joint_states_in", "sensor_msgs/msg/JointState", "on_joint_states", joint_state_from_msg,
                  Qos.SENSOR, "arm joints from the simulator"),
            Input("command", "geometry_msgs/msg/Twist", "on_command", twist_from_msg, Qos.RELIABLE,
                  "the pushed base's velocity command (start_on_command)")),
    outputs=(Output("joint_states", "sensor_msgs/msg/JointState", joint_state_to_msg, Qos.SENSOR,
                    description="the arm joints, relayed from the hand-over on"),
             Output("event", "std_msgs/msg/Int32", lambda k, f: f.new("std_msgs/msg/Int32", data=int(k)),
                    Qos.RELIABLE, many=True, description="index of each push event, at its time"),),
    timers=(Timer("period_s", "tick"),),
    description="replays a scripted operator push schedule as event indices on sim time (Gazebo twins)",
)

WORLD_TWIST_RELAY = NodeSpec(
    name="world_twist_relay",
    config=WorldTwistRelayConfig,
    component=WorldTwistRelay,
    inputs=(Input("odom", "nav_msgs/msg/Odometry", "on_odom", odometry_from_msg, Qos.SENSOR,
                  "attitude of the vehicle (ground-truth odometry)"),
            Input("command", "geometry_msgs/msg/Twist", "on_command", twist_from_msg, Qos.RELIABLE,
                  "world-frame (ENU) velocity command and yaw rate, as planners publish it")),
    outputs=(Output("cmd_vel", "geometry_msgs/msg/Twist", twist_to_msg, Qos.RELIABLE,
                    description="the command in the body frame (MulticopterVelocityControl)"),),
    timers=(Timer("period_s", "tick"),),
    description="rotates a world-frame velocity command into the body frame of a Gazebo multicopter (twins)",
)

JOINT_COMMAND_SPLIT = NodeSpec(
    name="joint_command_split",
    config=CommandSplitConfig,
    component=CommandSplit,
    inputs=(Input("commands", "std_msgs/msg/Float64MultiArray", "on_command", float64_array_from_msg, Qos.RELIABLE,
                  "forward-controller command: one value per joint, in joint order"),),
    outputs=tuple(Output(output_topic(i), "std_msgs/msg/Float64", float64_to_msg, Qos.RELIABLE,
                         description=f"element {i} of the accepted command (hold_value on timeout)")
                  for i in range(MAX_JOINTS)),
    timers=(Timer("period_s", "tick"),),
    description="splits a forward-controller Float64MultiArray into per-joint Float64 commands (Gazebo twins)",
)

MAVLINK_FAULT_RELAY = NodeSpec(
    name="mavlink_fault_relay",
    config=MavlinkFaultRelayConfig,
    component=MavlinkFaultRelay,
    timers=(Timer("period_s", "tick"),),
    description="UDP MAVLink relay between SITL and the bridge that drops the link in scheduled sim-time windows",
)
