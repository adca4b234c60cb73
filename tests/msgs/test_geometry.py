"""geometry_msgs / nav_msgs / tf2_msgs converters round-trip through CDR and reject structural errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

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
from sanqin.msgs import geometry as g
from sanqin.msgs.errors import MessageError


def _pose(seed=0):
    rng = np.random.default_rng(seed)
    q = rng.normal(size=4)
    return Pose(position_m=rng.normal(size=3) * 10, orientation_xyzw=q / np.linalg.norm(q))


def _assert_pose(a: Pose, b: Pose):
    np.testing.assert_array_equal(a.position_m, b.position_m)
    np.testing.assert_array_equal(a.orientation_xyzw, b.orientation_xyzw)


def _assert_twist(a: Twist, b: Twist):
    np.testing.assert_array_equal(a.linear_m_s, b.linear_m_s)
    np.testing.assert_array_equal(a.angular_rad_s, b.angular_rad_s)


def test_pose_and_quaternion_order(factory, cdr):
    pose = Pose(position_m=[1.0, 2.0, 3.0], orientation_xyzw=[0.1, 0.2, 0.3, 0.9])
    msg = cdr(g.pose_to_msg(pose, factory))
    assert (msg.orientation.x, msg.orientation.w) == (0.1, 0.9)  # xyzw, not wxyz
    _assert_pose(g.pose_from_msg(msg), pose)


def test_pose_stamped(factory, cdr):
    src = PoseStamped(stamp_s=1700000000.123456789, frame_id="map", pose=_pose(1))
    back = g.pose_stamped_from_msg(cdr(g.pose_stamped_to_msg(src, factory)))
    assert back.frame_id == "map" and back.stamp_s == pytest.approx(src.stamp_s, abs=1e-6)
    _assert_pose(back.pose, src.pose)


def test_twist_command_and_stamped(factory, cdr):
    twist = Twist(linear_m_s=[0.5, -0.1, 0.0], angular_rad_s=[0.0, 0.0, 0.3])
    back = g.twist_command_from_msg(cdr(g.twist_command_to_msg(TwistCommand(twist=twist), factory)))
    _assert_twist(back.twist, twist)
    stamped = TwistStamped(stamp_s=2.5, frame_id="base_link", twist=twist)
    msg = cdr(g.twist_stamped_to_msg(stamped, factory))
    assert msg.__msgtype__ == "geometry_msgs/msg/TwistStamped"
    back_stamped = g.twist_stamped_from_msg(msg)
    assert back_stamped.frame_id == "base_link" and back_stamped.stamp_s == 2.5
    _assert_twist(back_stamped.twist, twist)


def test_wrench_stamped(factory, cdr):
    src = WrenchStamped(stamp_s=3.0, frame_id="tool0", wrench=Wrench(force_n=[1, -2, 30], torque_nm=[0.1, 0.2, -0.3]))
    back = g.wrench_stamped_from_msg(cdr(g.wrench_stamped_to_msg(src, factory)))
    assert back.frame_id == "tool0"
    np.testing.assert_array_equal(back.wrench.force_n, src.wrench.force_n)
    np.testing.assert_array_equal(back.wrench.torque_nm, src.wrench.torque_nm)


def test_values_are_carried_faithfully(factory, cdr):
    """NaN and non-unit quaternions are data for the cores to judge, not for the converter to fix."""
    pose = Pose(position_m=[math.nan, 0.0, math.inf], orientation_xyzw=[0.0, 0.0, 0.0, 2.0])
    back = g.pose_from_msg(cdr(g.pose_to_msg(pose, factory)))
    assert math.isnan(back.position_m[0]) and math.isinf(back.position_m[2])
    assert back.orientation_xyzw[3] == 2.0


def test_tf_message(factory, cdr):
    transforms = [
        FrameTransform(stamp_s=4.0, frame_id="odom", child_frame_id="base_link", pose=_pose(2)),
        FrameTransform(stamp_s=4.0, frame_id="base_link", child_frame_id="lidar", pose=_pose(3)),
    ]
    back = g.tf_from_msg(cdr(g.tf_to_msg(transforms, factory)))
    assert [(t.frame_id, t.child_frame_id) for t in back] == [("odom", "base_link"), ("base_link", "lidar")]
    for a, b in zip(back, transforms):
        _assert_pose(a.pose, b.pose)
        assert a.stamp_s == 4.0
    single = g.tf_from_msg(cdr(g.tf_to_msg(transforms[0], factory)))
    assert len(single) == 1
    with pytest.raises(MessageError, match="child_frame_id"):
        g.tf_to_msg(FrameTransform(frame_id="odom"), factory)


def _odometry():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
    return Odometry(
        stamp_s=10.5,
        frame_id="odom",
        child_frame_id="base_link",
        pose=_pose(5),
        twist=Twist(linear_m_s=[1.0, 0.0, 0.0], angular_rad_s=[0.0, 0.0, 0.2]),
        pose_covariance=a @ a.T,
        twist_covariance=b @ b.T,
    )


def test_odometry_roundtrip_covariances_row_major(factory, cdr):
    src = _odometry()
    msg = cdr(g.odometry_to_msg(src, factory))
    assert msg.pose.covariance[1] == src.pose_covariance[0, 1] and msg.pose.covariance[6] == src.pose_covariance[1, 0]
    back = g.odometry_from_msg(msg)
    assert (back.frame_id, back.child_frame_id, back.stamp_s) == ("odom", "base_link", 10.5)
    _assert_pose(back.pose, src.pose)
    _assert_twist(back.twist, src.twist)
    np.testing.assert_array_equal(back.pose_covariance, src.pose_covariance)
    np.testing.assert_array_equal(back.twist_covariance, src.twist_covariance)


def test_odometry_broadcast_transform(factory, cdr):
    src = _odometry()
    (t,) = g.tf_from_msg(cdr(g.odometry_to_tf(src, factory)))
    assert (t.frame_id, t.child_frame_id, t.stamp_s) == ("odom", "base_link", 10.5)
    _assert_pose(t.pose, src.pose)


def test_odometry_bad_covariance(factory):
    msg = g.odometry_to_msg(_odometry(), factory)
    msg.twist.covariance = np.zeros(35)
    with pytest.raises(MessageError, match="Odometry.twist covariance needs 36 values"):
        g.odometry_from_msg(msg)
    with pytest.raises(MessageError, match="Odometry.pose covariance needs 36"):
        g.odometry_to_msg(Odometry(pose_covariance=np.zeros((3, 3))), factory)


def test_path(factory, cdr):
    src = Path(
        stamp_s=7.0,
        frame_id="map",
        poses=tuple(PoseStamped(stamp_s=7.0 + i, frame_id="map", pose=_pose(10 + i)) for i in range(25)),
    )
    back = g.path_from_msg(cdr(g.path_to_msg(src, factory)))
    assert back.frame_id == "map" and len(back.poses) == 25
    for a, b in zip(back.poses, src.poses):
        assert a.stamp_s == b.stamp_s
        _assert_pose(a.pose, b.pose)
    empty = g.path_from_msg(cdr(g.path_to_msg(Path(frame_id="map"), factory)))
    assert empty.poses == ()


def test_structural_errors_on_writing(factory):
    with pytest.raises(MessageError, match="Quaternion needs 4 values"):
        g.quaternion_to_msg([0.0, 0.0, 1.0], factory)
    with pytest.raises(MessageError, match="Vector3 needs 3 values"):
        g.vector3_to_msg([0.0, 1.0], factory)


def test_duck_typed_plain_objects():
    """Readers only need the fields: plain namespaces (as rclpy messages look) convert like rosbags classes."""
    from types import SimpleNamespace as NS

    msg = NS(
        header=NS(stamp=NS(sec=1, nanosec=250_000_000), frame_id="odom"),
        child_frame_id="base_link",
        pose=NS(pose=NS(position=NS(x=1.0, y=2.0, z=3.0), orientation=NS(x=0.0, y=0.0, z=0.0, w=1.0)),
                covariance=np.eye(6).reshape(36)),
        twist=NS(twist=NS(linear=NS(x=0.5, y=0.0, z=0.0), angular=NS(x=0.0, y=0.0, z=0.1)),
                 covariance=[0.0] * 36),
    )  # fmt: skip
    odom = g.odometry_from_msg(msg)
    assert odom.stamp_s == 1.25 and odom.child_frame_id == "base_link"
    np.testing.assert_array_equal(odom.pose_covariance, np.eye(6))
    np.testing.assert_array_equal(odom.twist.linear_m_s, [0.5, 0.0, 0.0])
