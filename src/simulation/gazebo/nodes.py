"""Node declarations of the Gazebo twins (standard messages only).

``path_driver``: in ``odom`` (nav_msgs/Odometry, the robot's pose in the path's frame — the twin bridges
Gazebo's ground-truth odometry), out ``cmd_vel`` (geometry_msgs/Twist, body frame) every
``control_period_s``; counters and cross-track error on /diagnostics. Used by twins whose headless
simulator moves the robot along a known path (see :mod:`.path_driver`).
"""

from __future__ import annotations

from sanqin.msgs.geometry import odometry_from_msg, twist_to_msg
from sanqin.runtime.node import Input, NodeSpec, Output, Qos, Timer
from sanqin.simulation.gazebo.path_driver import PathDriver, PathDriverConfig

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
