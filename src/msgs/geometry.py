"""geometry_msgs, nav_msgs (Odometry, Path) and tf2_msgs ↔ core types of :mod:`sanqin.common.types`.

Values are carried faithfully (a NaN or a non-unit quaternion stays as it is: judging them is the
cores' job); structural problems (a covariance that is not 36 values) raise :class:`MessageError`.
Quaternions are x, y, z, w on both sides. Covariances are 6×6, row-major on the wire, in the order
(x, y, z, rot x, rot y, rot z).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from sanqin.common.types import (
    FrameTransform,
    Odometry,
    Path,
    Pose,
    PoseStamped,
    Twist,
    TwistCommand,
    TwistStamped,
    Wrench,
    WrenchStamped,
)
from sanqin.msgs.errors import MessageError
from sanqin.msgs.time import header_stamp_frame, make_header

# --- primitives --------------------------------------------------------------------------------


def _xyz(values: Any, where: str) -> tuple[float, float, float]:
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.size != 3:
        raise MessageError(f"{where} needs 3 values, got {arr.size}")
    return float(arr[0]), float(arr[1]), float(arr[2])


def point_from_msg(msg: Any) -> np.ndarray:
    """geometry_msgs/Point (or anything with x, y, z) → (3,) float64."""
    return np.array([float(msg.x), float(msg.y), float(msg.z)])


def point_to_msg(xyz: Any, factory: Any) -> Any:
    """(3,) → geometry_msgs/Point."""
    x, y, z = _xyz(xyz, "Point")
    return factory.new("geometry_msgs/msg/Point", x=x, y=y, z=z)


vector3_from_msg = point_from_msg


def vector3_to_msg(xyz: Any, factory: Any) -> Any:
    """(3,) → geometry_msgs/Vector3."""
    x, y, z = _xyz(xyz, "Vector3")
    return factory.new("geometry_msgs/msg/Vector3", x=x, y=y, z=z)


def quaternion_from_msg(msg: Any) -> np.ndarray:
    """geometry_msgs/Quaternion → (4,) float64 xyzw."""
    return np.array([float(msg.x), float(msg.y), float(msg.z), float(msg.w)])


def quaternion_to_msg(xyzw: Any, factory: Any) -> Any:
    """(4,) xyzw → geometry_msgs/Quaternion."""
    arr = np.asarray(xyzw, dtype=np.float64).reshape(-1)
    if arr.size != 4:
        raise MessageError(f"Quaternion needs 4 values (x, y, z, w), got {arr.size}")
    return factory.new("geometry_msgs/msg/Quaternion", x=arr[0], y=arr[1], z=arr[2], w=arr[3])


def pose_from_msg(msg: Any) -> Pose:
    """geometry_msgs/Pose → :class:`Pose`."""
    return Pose(position_m=point_from_msg(msg.position), orientation_xyzw=quaternion_from_msg(msg.orientation))


def pose_to_msg(pose: Pose, factory: Any) -> Any:
    """:class:`Pose` → geometry_msgs/Pose."""
    return factory.new(
        "geometry_msgs/msg/Pose",
        position=point_to_msg(pose.position_m, factory),
        orientation=quaternion_to_msg(pose.orientation_xyzw, factory),
    )


def transform_from_msg(msg: Any) -> Pose:
    """geometry_msgs/Transform → :class:`Pose` (translation as position, rotation as orientation)."""
    return Pose(position_m=vector3_from_msg(msg.translation), orientation_xyzw=quaternion_from_msg(msg.rotation))


def transform_to_msg(pose: Pose, factory: Any) -> Any:
    """:class:`Pose` → geometry_msgs/Transform."""
    return factory.new(
        "geometry_msgs/msg/Transform",
        translation=vector3_to_msg(pose.position_m, factory),
        rotation=quaternion_to_msg(pose.orientation_xyzw, factory),
    )


def twist_from_msg(msg: Any) -> Twist:
    """geometry_msgs/Twist → :class:`Twist` (m/s, rad/s)."""
    return Twist(linear_m_s=vector3_from_msg(msg.linear), angular_rad_s=vector3_from_msg(msg.angular))


def twist_to_msg(twist: Twist, factory: Any) -> Any:
    """:class:`Twist` → geometry_msgs/Twist."""
    return factory.new(
        "geometry_msgs/msg/Twist",
        linear=vector3_to_msg(twist.linear_m_s, factory),
        angular=vector3_to_msg(twist.angular_rad_s, factory),
    )


def twist_command_from_msg(msg: Any) -> TwistCommand:
    """geometry_msgs/Twist (a velocity command, e.g. ``cmd_vel``) → :class:`TwistCommand`."""
    return TwistCommand(twist=twist_from_msg(msg))


def twist_command_to_msg(command: TwistCommand, factory: Any) -> Any:
    """:class:`TwistCommand` → geometry_msgs/Twist."""
    return twist_to_msg(command.twist, factory)


def wrench_from_msg(msg: Any) -> Wrench:
    """geometry_msgs/Wrench → :class:`Wrench` (N, N·m)."""
    return Wrench(force_n=vector3_from_msg(msg.force), torque_nm=vector3_from_msg(msg.torque))


def wrench_to_msg(wrench: Wrench, factory: Any) -> Any:
    """:class:`Wrench` → geometry_msgs/Wrench."""
    return factory.new(
        "geometry_msgs/msg/Wrench",
        force=vector3_to_msg(wrench.force_n, factory),
        torque=vector3_to_msg(wrench.torque_nm, factory),
    )


# --- stamped -----------------------------------------------------------------------------------


def pose_stamped_from_msg(msg: Any) -> PoseStamped:
    """geometry_msgs/PoseStamped → :class:`PoseStamped`."""
    stamp_s, frame_id = header_stamp_frame(msg.header)
    return PoseStamped(stamp_s=stamp_s, frame_id=frame_id, pose=pose_from_msg(msg.pose))


def pose_stamped_to_msg(pose: PoseStamped, factory: Any) -> Any:
    """:class:`PoseStamped` → geometry_msgs/PoseStamped."""
    return factory.new(
        "geometry_msgs/msg/PoseStamped",
        header=make_header(factory, pose.stamp_s, pose.frame_id),
        pose=pose_to_msg(pose.pose, factory),
    )


def twist_stamped_from_msg(msg: Any) -> TwistStamped:
    """geometry_msgs/TwistStamped → :class:`TwistStamped`."""
    stamp_s, frame_id = header_stamp_frame(msg.header)
    return TwistStamped(stamp_s=stamp_s, frame_id=frame_id, twist=twist_from_msg(msg.twist))


def twist_stamped_to_msg(twist: TwistStamped, factory: Any) -> Any:
    """:class:`TwistStamped` → geometry_msgs/TwistStamped."""
    return factory.new(
        "geometry_msgs/msg/TwistStamped",
        header=make_header(factory, twist.stamp_s, twist.frame_id),
        twist=twist_to_msg(twist.twist, factory),
    )


def wrench_stamped_from_msg(msg: Any) -> WrenchStamped:
    """geometry_msgs/WrenchStamped → :class:`WrenchStamped`."""
    stamp_s, frame_id = header_stamp_frame(msg.header)
    return WrenchStamped(stamp_s=stamp_s, frame_id=frame_id, wrench=wrench_from_msg(msg.wrench))


def wrench_stamped_to_msg(wrench: WrenchStamped, factory: Any) -> Any:
    """:class:`WrenchStamped` → geometry_msgs/WrenchStamped."""
    return factory.new(
        "geometry_msgs/msg/WrenchStamped",
        header=make_header(factory, wrench.stamp_s, wrench.frame_id),
        wrench=wrench_to_msg(wrench.wrench, factory),
    )


def transform_stamped_from_msg(msg: Any) -> FrameTransform:
    """geometry_msgs/TransformStamped → :class:`FrameTransform` (child pose in the header's frame)."""
    stamp_s, frame_id = header_stamp_frame(msg.header)
    return FrameTransform(
        stamp_s=stamp_s,
        frame_id=frame_id,
        child_frame_id=str(msg.child_frame_id),
        pose=transform_from_msg(msg.transform),
    )


def transform_stamped_to_msg(transform: FrameTransform, factory: Any) -> Any:
    """:class:`FrameTransform` → geometry_msgs/TransformStamped."""
    if not transform.child_frame_id:
        raise MessageError("a transform needs a child_frame_id")
    return factory.new(
        "geometry_msgs/msg/TransformStamped",
        header=make_header(factory, transform.stamp_s, transform.frame_id),
        child_frame_id=transform.child_frame_id,
        transform=transform_to_msg(transform.pose, factory),
    )


def tf_from_msg(msg: Any) -> tuple[FrameTransform, ...]:
    """tf2_msgs/TFMessage → transforms in message order."""
    return tuple(transform_stamped_from_msg(t) for t in msg.transforms)


def tf_to_msg(transforms: FrameTransform | Iterable[FrameTransform], factory: Any) -> Any:
    """One transform or several → tf2_msgs/TFMessage (for ``/tf`` and ``/tf_static``)."""
    items = [transforms] if isinstance(transforms, FrameTransform) else list(transforms)
    return factory.new("tf2_msgs/msg/TFMessage", transforms=[transform_stamped_to_msg(t, factory) for t in items])


# --- nav_msgs ----------------------------------------------------------------------------------


def _cov6(values: Any, where: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.size != 36:
        raise MessageError(f"{where} covariance needs 36 values (6×6), got {arr.size}")
    return arr.reshape(6, 6).copy()


def odometry_from_msg(msg: Any) -> Odometry:
    """nav_msgs/Odometry → :class:`Odometry` (pose in header frame, twist in child frame, 6×6 covariances)."""
    stamp_s, frame_id = header_stamp_frame(msg.header)
    return Odometry(
        stamp_s=stamp_s,
        frame_id=frame_id,
        child_frame_id=str(msg.child_frame_id),
        pose=pose_from_msg(msg.pose.pose),
        twist=twist_from_msg(msg.twist.twist),
        pose_covariance=_cov6(msg.pose.covariance, "Odometry.pose"),
        twist_covariance=_cov6(msg.twist.covariance, "Odometry.twist"),
    )


def odometry_to_msg(odom: Odometry, factory: Any) -> Any:
    """:class:`Odometry` → nav_msgs/Odometry."""
    return factory.new(
        "nav_msgs/msg/Odometry",
        header=make_header(factory, odom.stamp_s, odom.frame_id),
        child_frame_id=odom.child_frame_id,
        pose=factory.new(
            "geometry_msgs/msg/PoseWithCovariance",
            pose=pose_to_msg(odom.pose, factory),
            covariance=_cov6(odom.pose_covariance, "Odometry.pose").reshape(36),
        ),
        twist=factory.new(
            "geometry_msgs/msg/TwistWithCovariance",
            twist=twist_to_msg(odom.twist, factory),
            covariance=_cov6(odom.twist_covariance, "Odometry.twist").reshape(36),
        ),
    )


def odometry_to_transform(odom: Odometry) -> FrameTransform:
    """The ``frame_id → child_frame_id`` transform an odometry source broadcasts (e.g. odom → base_link)."""
    return FrameTransform(
        stamp_s=odom.stamp_s, frame_id=odom.frame_id, child_frame_id=odom.child_frame_id, pose=odom.pose
    )


def odometry_to_tf(odom: Odometry, factory: Any) -> Any:
    """:class:`Odometry` → tf2_msgs/TFMessage with its ``frame_id → child_frame_id`` transform."""
    return tf_to_msg(odometry_to_transform(odom), factory)


def path_from_msg(msg: Any) -> Path:
    """nav_msgs/Path → :class:`Path` (each pose keeps its own stamp and frame)."""
    stamp_s, frame_id = header_stamp_frame(msg.header)
    return Path(stamp_s=stamp_s, frame_id=frame_id, poses=tuple(pose_stamped_from_msg(p) for p in msg.poses))


def path_to_msg(path: Path, factory: Any) -> Any:
    """:class:`Path` → nav_msgs/Path."""
    return factory.new(
        "nav_msgs/msg/Path",
        header=make_header(factory, path.stamp_s, path.frame_id),
        poses=[pose_stamped_to_msg(p, factory) for p in path.poses],
    )
