"""Wheeled robot models shared by the twins: a box body, four wheels, a drive system, ground truth, a LiDAR.

:func:`wheeled_robot` builds the model a LiDAR scenario's kinematic robot becomes in Gazebo: ``base_link``
on the floor (as the headless robots define it), a body box (the visual is exactly the box the headless
LiDAR sees as the robot's own body, if any), four wheels inside the body footprint, and

* ``drive="diff"`` — skid-steer ``DiffDrive`` (two wheel joints per side), or
* ``drive="mecanum"`` — ``MecanumDrive`` with roller friction: each wheel's contact has friction only
  along its roller direction (``fdir1`` at ±45° fixed in ``base_link``, ``mu2 = 0``), as DART models it;

``OdometryPublisher`` gives ground-truth odometry (the headless simulators publish ground truth), and
the LiDAR is a ``gpu_lidar`` from the headless :class:`~sanqin.simulation.lidar.LidarConfig`.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sanqin.simulation.gazebo import systems
from sanqin.simulation.gazebo.bridge import GZ_TO_ROS, ROS_TO_GZ, BridgeEntry
from sanqin.simulation.gazebo.errors import TwinError
from sanqin.simulation.gazebo.sdf import el, fields, pose
from sanqin.simulation.gazebo.sensors import gpu_lidar
from sanqin.simulation.gazebo.twin import (
    Model,
    Twin,
    box_inertia,
    cylinder_inertia,
    geometry,
    inertial,
    material,
    new_model,
    visual_and_collision,
)
from sanqin.simulation.lidar import LidarConfig

GZ_NS = "http://gazebosim.org/schema"
ET.register_namespace("gz", GZ_NS)
#: Roller direction (in base_link) of each mecanum wheel, X-configuration seen from above.
MECANUM_FDIR = {"front_left": (1, -1, 0), "front_right": (1, 1, 0), "rear_left": (1, 1, 0), "rear_right": (1, -1, 0)}


@dataclass(frozen=True)
class WheeledRobot:
    """Dimensions (m, kg) and topics of a wheeled robot twin."""

    part: str
    body_min_m: Sequence[float]
    body_max_m: Sequence[float]
    wheelbase_m: float
    drive: str = "diff"
    wheel_radius_m: float = 0.1
    wheel_width_m: float = 0.08
    body_mass_kg: float = 80.0
    wheel_mass_kg: float = 2.0
    base_frame: str = "base_link"
    odom_frame: str = "odom"
    odom_topic: str = "/odom"
    odom_rate_hz: float = 50.0
    cmd_topic: str = "/cmd_vel"
    tf_topic: str = "/tf"
    body_reflectivity: float = 0.4
    body_seen_by_lidar: bool = True


def wheeled_robot(twin: Twin, spec: WheeledRobot, lidar: LidarConfig | None = None,
                  points_topic: str = "/lidar/points", description: str = "") -> Model:
    """Add the robot model, its bridges (cmd_vel in, odometry and /tf out, LiDAR) and return it."""
    if spec.drive not in ("diff", "mecanum"):
        raise TwinError(f"unknown drive {spec.drive!r}: diff or mecanum")
    name = twin.model_name(spec.part)
    root, model = new_model(name)
    lo, hi = np.asarray(spec.body_min_m, float), np.asarray(spec.body_max_m, float)
    if not np.all(hi > lo):
        raise TwinError(f"{name}: body max must exceed body min on every axis")
    size, centre = hi - lo, (hi + lo) / 2
    r, w = spec.wheel_radius_m, spec.wheel_width_m
    base = el(model, "link", name=spec.base_frame)
    inertial(base, spec.body_mass_kg, box_inertia(spec.body_mass_kg, size), xyz=centre)
    retro = (lidar.intensity_scale if lidar else 100.0) * spec.body_reflectivity
    if spec.body_seen_by_lidar:
        visual_and_collision(base, "body", "box", {"size": list(size)}, xyz=centre, rgba=(0.2, 0.35, 0.6, 1.0),
                             laser_retro=retro, collision=False)
    clear_lo = max(lo[2], 2 * r + 0.02)
    if clear_lo < hi[2]:
        visual_and_collision(base, "body", "box", {"size": [size[0], size[1], hi[2] - clear_lo]},
                             xyz=(centre[0], centre[1], (clear_lo + hi[2]) / 2), visual=False)
    y_wheel = max(0.05, size[1] / 2 - w / 2 - 0.02)
    joints: dict[str, str] = {}
    for fx, tag in ((1, "front"), (-1, "rear")):
        for sy, side in ((1, "left"), (-1, "right")):
            link_name = f"{tag}_{side}_wheel"
            wheel = el(model, "link", name=link_name)
            el(wheel, "pose", pose((centre[0] + fx * spec.wheelbase_m / 2, centre[1] + sy * y_wheel, r),
                                   (-math.pi / 2, 0, 0)))
            inertial(wheel, spec.wheel_mass_kg, cylinder_inertia(spec.wheel_mass_kg, r, w))
            v = el(wheel, "visual", name="wheel_visual")
            geometry(v, "cylinder", radius=r, length=w)
            material(v, (0.05, 0.05, 0.05, 1.0))
            el(v, "laser_retro", retro * 0.1)
            c = el(wheel, "collision", name="wheel_collision")
            geometry(c, "cylinder", radius=r, length=w)
            ode = el(el(el(c, "surface"), "friction"), "ode")
            if spec.drive == "mecanum":
                fields(ode, {"mu": 1.0, "mu2": 0.0})
                fdir = el(ode, "fdir1", list(MECANUM_FDIR[f"{tag}_{side}"]))
                fdir.set(f"{{{GZ_NS}}}expressed_in", spec.base_frame)
            else:
                fields(ode, {"mu": 1.0, "mu2": 1.0})
            joint = el(model, "joint", name=f"{link_name}_joint", type="revolute")
            fields(joint, {"parent": spec.base_frame, "child": link_name})
            el(el(joint, "axis"), "xyz", [0, 0, 1])
            joints[f"{tag}_{side}"] = f"{link_name}_joint"
    if lidar is not None:
        twin.add_sensor(gpu_lidar(base, lidar, name="lidar", gz_topic=f"/model/{name}/lidar", ros_topic=points_topic))
    gz_cmd = f"/model/{name}/cmd_vel"
    if spec.drive == "diff":
        systems.diff_drive(model, left_joints=[joints["front_left"], joints["rear_left"]],
                           right_joints=[joints["front_right"], joints["rear_right"]], wheel_separation_m=2 * y_wheel,
                           wheel_radius_m=r, cmd_topic=gz_cmd, odom_topic=f"/model/{name}/odom",
                           tf_topic=f"/model/{name}/tf_wheel_odom", frame_id=spec.odom_frame,
                           child_frame_id=spec.base_frame)
    else:
        systems.mecanum_drive(model, front_left=joints["front_left"], front_right=joints["front_right"],
                              back_left=joints["rear_left"], back_right=joints["rear_right"],
                              wheel_separation_m=2 * y_wheel, wheelbase_m=spec.wheelbase_m, wheel_radius_m=r,
                              cmd_topic=gz_cmd, odom_topic=f"/model/{name}/odom",
                              tf_topic=f"/model/{name}/tf_wheel_odom", frame_id=spec.odom_frame,
                              child_frame_id=spec.base_frame)
    systems.odometry_publisher(model, odom_topic=f"/model/{name}/odom_gt", tf_topic=f"/model/{name}/tf",
                               rate_hz=spec.odom_rate_hz, frame_id=spec.odom_frame, child_frame_id=spec.base_frame)
    twin.add_bridge(BridgeEntry(spec.cmd_topic, gz_cmd, "geometry_msgs/msg/Twist", "gz.msgs.Twist", ROS_TO_GZ))
    twin.add_bridge(BridgeEntry(spec.odom_topic, f"/model/{name}/odom_gt", "nav_msgs/msg/Odometry",
                                "gz.msgs.Odometry", GZ_TO_ROS))
    twin.add_bridge(BridgeEntry(spec.tf_topic, f"/model/{name}/tf", "tf2_msgs/msg/TFMessage", "gz.msgs.Pose_V",
                                GZ_TO_ROS))
    header = (f"{description}\nBody {list(np.round(lo, 3))}..{list(np.round(hi, 3))} m in {spec.base_frame}; "
              f"4 wheels r = {r} m, wheelbase {spec.wheelbase_m:g} m, {spec.drive} drive from {spec.cmd_topic}; "
              f"ground-truth odometry on {spec.odom_topic}"
              + (f"; gpu_lidar '{lidar.pattern}' at {list(lidar.mount_xyz_m)} m -> {points_topic}." if lidar else "."))
    return twin.add_model(Model(name, root, description or "wheeled robot", {}, header.strip()))
