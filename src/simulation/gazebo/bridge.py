"""ROS 2 ↔ Gazebo Transport bridge entries for ``ros_gz_bridge``'s ``parameter_bridge`` YAML config.

:data:`ROS_GZ_TYPES` is the message-type table of ``ros_gz_bridge`` (Jazzy, the pairs its README lists
and ``ros_gz_bridge/mappings.py`` generates converters for) restricted to the standard messages a
Sanqin node can use; an entry whose pair is not in it would make the bridge fail at start-up, so
:func:`check_entry` rejects it here, at generation time.

The config file is a YAML list of maps (``ros_topic_name``, ``gz_topic_name``, ``ros_type_name``,
``gz_type_name``, ``direction``, ``lazy``, queue sizes), read by ``parameter_bridge`` from its
``config_file`` parameter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import yaml

from sanqin.simulation.gazebo.errors import BridgeError

#: ROS type → Gazebo types ``ros_gz_bridge`` converts (one ROS type can map to several gz types).
ROS_GZ_TYPES: dict[str, tuple[str, ...]] = {
    "builtin_interfaces/msg/Time": ("gz.msgs.Time",),
    "geometry_msgs/msg/Point": ("gz.msgs.Vector3d",),
    "geometry_msgs/msg/Pose": ("gz.msgs.Pose",),
    "geometry_msgs/msg/PoseArray": ("gz.msgs.Pose_V",),
    "geometry_msgs/msg/PoseStamped": ("gz.msgs.Pose",),
    "geometry_msgs/msg/PoseWithCovariance": ("gz.msgs.PoseWithCovariance",),
    "geometry_msgs/msg/PoseWithCovarianceStamped": ("gz.msgs.PoseWithCovariance",),
    "geometry_msgs/msg/Quaternion": ("gz.msgs.Quaternion",),
    "geometry_msgs/msg/Transform": ("gz.msgs.Pose",),
    "geometry_msgs/msg/TransformStamped": ("gz.msgs.Pose",),
    "geometry_msgs/msg/Twist": ("gz.msgs.Twist",),
    "geometry_msgs/msg/TwistStamped": ("gz.msgs.Twist",),
    "geometry_msgs/msg/TwistWithCovariance": ("gz.msgs.TwistWithCovariance",),
    "geometry_msgs/msg/TwistWithCovarianceStamped": ("gz.msgs.TwistWithCovariance",),
    "geometry_msgs/msg/Vector3": ("gz.msgs.Vector3d",),
    "geometry_msgs/msg/Wrench": ("gz.msgs.Wrench",),
    "geometry_msgs/msg/WrenchStamped": ("gz.msgs.Wrench",),
    "nav_msgs/msg/Odometry": ("gz.msgs.Odometry", "gz.msgs.OdometryWithCovariance"),
    "rosgraph_msgs/msg/Clock": ("gz.msgs.Clock",),
    "sensor_msgs/msg/BatteryState": ("gz.msgs.BatteryState",),
    "sensor_msgs/msg/CameraInfo": ("gz.msgs.CameraInfo",),
    "sensor_msgs/msg/FluidPressure": ("gz.msgs.FluidPressure",),
    "sensor_msgs/msg/Image": ("gz.msgs.Image",),
    "sensor_msgs/msg/Imu": ("gz.msgs.IMU",),
    "sensor_msgs/msg/JointState": ("gz.msgs.Model",),
    "sensor_msgs/msg/LaserScan": ("gz.msgs.LaserScan",),
    "sensor_msgs/msg/MagneticField": ("gz.msgs.Magnetometer",),
    "sensor_msgs/msg/NavSatFix": ("gz.msgs.NavSat",),
    "sensor_msgs/msg/PointCloud2": ("gz.msgs.PointCloudPacked",),
    "std_msgs/msg/Bool": ("gz.msgs.Boolean",),
    "std_msgs/msg/Empty": ("gz.msgs.Empty",),
    "std_msgs/msg/Float32": ("gz.msgs.Float",),
    "std_msgs/msg/Float64": ("gz.msgs.Double",),
    "std_msgs/msg/Header": ("gz.msgs.Header",),
    "std_msgs/msg/Int32": ("gz.msgs.Int32",),
    "std_msgs/msg/String": ("gz.msgs.StringMsg",),
    "std_msgs/msg/UInt32": ("gz.msgs.UInt32",),
    "tf2_msgs/msg/TFMessage": ("gz.msgs.Pose_V",),
    "trajectory_msgs/msg/JointTrajectory": ("gz.msgs.JointTrajectory",),
}

GZ_TO_ROS, ROS_TO_GZ, BIDIRECTIONAL = "GZ_TO_ROS", "ROS_TO_GZ", "BIDIRECTIONAL"
DIRECTIONS = (GZ_TO_ROS, ROS_TO_GZ, BIDIRECTIONAL)
_TOPIC = re.compile(r"^/[A-Za-z][A-Za-z0-9_]*(/[A-Za-z][A-Za-z0-9_]*)*$")


@dataclass(frozen=True)
class BridgeEntry:
    """One bridged topic: absolute ROS and Gazebo names, both types, direction (who publishes)."""

    ros_topic: str
    gz_topic: str
    ros_type: str
    gz_type: str
    direction: str
    lazy: bool = False

    def as_yaml_item(self) -> dict[str, object]:
        """The map ``parameter_bridge`` reads for this entry."""
        return {
            "ros_topic_name": self.ros_topic,
            "gz_topic_name": self.gz_topic,
            "ros_type_name": self.ros_type,
            "gz_type_name": self.gz_type,
            "direction": self.direction,
            "lazy": self.lazy,
        }


def check_entry(entry: BridgeEntry) -> None:
    """Raise :class:`BridgeError` unless the entry is one ``ros_gz_bridge`` can run."""
    for name in (entry.ros_topic, entry.gz_topic):
        if not _TOPIC.match(name):
            raise BridgeError(f"bridge topic {name!r} must be an absolute, valid topic name")
    if entry.direction not in DIRECTIONS:
        raise BridgeError(f"bridge {entry.ros_topic}: direction must be one of {DIRECTIONS}, got {entry.direction!r}")
    if entry.gz_type not in ROS_GZ_TYPES.get(entry.ros_type, ()):
        known = ROS_GZ_TYPES.get(entry.ros_type)
        raise BridgeError(
            f"bridge {entry.ros_topic}: ros_gz_bridge cannot convert {entry.ros_type} <-> {entry.gz_type}"
            + (f"; it maps {entry.ros_type} to {list(known)}" if known else f"; {entry.ros_type} is not bridgeable")
        )


def clock_entry() -> BridgeEntry:
    """Gazebo's simulation clock → ROS ``/clock`` (the only clock source; nodes run with ``use_sim_time``)."""
    return BridgeEntry("/clock", "/clock", "rosgraph_msgs/msg/Clock", "gz.msgs.Clock", GZ_TO_ROS)


def render_bridge_yaml(entries: Sequence[BridgeEntry], header: str = "") -> str:
    """The ``parameter_bridge`` config file text (/clock first, then by ROS topic; every entry checked)."""
    seen: dict[tuple[str, str], BridgeEntry] = {}
    for e in entries:
        check_entry(e)
        key = (e.ros_topic, e.direction)
        if key in seen and seen[key] != e:
            raise BridgeError(f"two different bridges for {e.ros_topic} ({e.direction}): {seen[key]} and {e}")
        seen[key] = e
    order = sorted(seen.values(), key=lambda e: (e.ros_topic != "/clock", e.ros_topic, e.direction))  # clock first
    items = [e.as_yaml_item() for e in order]
    text = yaml.safe_dump(items, sort_keys=False, default_flow_style=False)
    lines = [f"# {line}".rstrip() for line in header.strip().splitlines()] if header else []
    return "\n".join([*lines, text.rstrip()]) + "\n"


def read_bridge_yaml(text: str, where: str = "bridge config") -> list[BridgeEntry]:
    """Parse (and check) a bridge config file written by :func:`render_bridge_yaml`."""
    doc = yaml.safe_load(text)
    if not isinstance(doc, list):
        raise BridgeError(f"{where}: must be a YAML list of maps")
    out: list[BridgeEntry] = []
    for i, item in enumerate(doc):
        if not isinstance(item, dict):
            raise BridgeError(f"{where}: item {i} must be a map")
        try:
            entry = BridgeEntry(
                item["ros_topic_name"], item["gz_topic_name"], item["ros_type_name"], item["gz_type_name"],
                item.get("direction", BIDIRECTIONAL), bool(item.get("lazy", False)),
            )
        except KeyError as err:
            raise BridgeError(f"{where}: item {i} lacks {err}") from err
        check_entry(entry)
        out.append(entry)
    return out


def ros_published(entries: Iterable[BridgeEntry]) -> dict[str, str]:
    """ROS topics the bridge publishes (Gazebo → ROS): topic → ROS type."""
    return {e.ros_topic: e.ros_type for e in entries if e.direction in (GZ_TO_ROS, BIDIRECTIONAL)}


def ros_subscribed(entries: Iterable[BridgeEntry]) -> dict[str, str]:
    """ROS topics the bridge subscribes to (ROS → Gazebo): topic → ROS type."""
    return {e.ros_topic: e.ros_type for e in entries if e.direction in (ROS_TO_GZ, BIDIRECTIONAL)}
