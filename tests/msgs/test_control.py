"""JointTrajectory and Float64MultiArray converters with CDR round trips (rosbags Jazzy)."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.control.command import JointCommand
from sanqin.msgs.control import (
    command_to_forward_msg,
    float64_array_from_msg,
    float64_array_to_msg,
    joint_trajectory_from_msg,
    joint_trajectory_to_msg,
)
from sanqin.msgs.errors import MessageError
from sanqin.msgs.factory import default_factory

NAMES = ("a", "b", "c")


def _rt(msg):
    f = default_factory()
    return f.deserialize(f.serialize(msg), msg.__msgtype__)


def test_joint_trajectory_round_trip() -> None:
    f = default_factory()
    cmd = JointCommand(NAMES, np.array([0.1, 0.2, 0.3]), np.array([1.0, -1.0, 0.0]))
    msg = _rt(joint_trajectory_to_msg(cmd, f, stamp_s=12.5, time_from_start_s=0.004))
    stamp, names, points = joint_trajectory_from_msg(msg)
    assert stamp == 12.5 and names == NAMES and len(points) == 1
    tfs, back = points[0]
    assert tfs == pytest.approx(0.004)
    assert back.position == pytest.approx(cmd.position) and back.velocity == pytest.approx(cmd.velocity)
    assert back.effort.size == 0


def test_joint_trajectory_size_mismatch_rejected() -> None:
    f = default_factory()
    with pytest.raises(MessageError, match="2 values for 3 joints"):
        joint_trajectory_to_msg(JointCommand(NAMES, np.zeros(2)), f)
    msg = joint_trajectory_to_msg(JointCommand(NAMES, np.zeros(3)), f)
    msg.points[0].positions = np.zeros(4)
    with pytest.raises(MessageError, match="4 values"):
        joint_trajectory_from_msg(msg)
    for bad in (float("nan"), -0.001):
        with pytest.raises(MessageError, match="time_from_start"):
            joint_trajectory_to_msg(JointCommand(NAMES, np.zeros(3)), f, time_from_start_s=bad)
    with pytest.raises(MessageError, match="does not fit"):  # int32 seconds
        joint_trajectory_to_msg(JointCommand(NAMES, np.zeros(3)), f, time_from_start_s=3e9)


def test_time_from_start_splits_into_sec_and_nanosec() -> None:
    f = default_factory()
    msg = _rt(joint_trajectory_to_msg(JointCommand(NAMES, np.zeros(3)), f, time_from_start_s=2.75))
    d = msg.points[0].time_from_start
    assert (d.sec, d.nanosec) == (2, 750_000_000)
    assert joint_trajectory_from_msg(msg)[2][0][0] == 2.75


def test_float64_array_round_trip_and_interfaces() -> None:
    f = default_factory()
    msg = _rt(float64_array_to_msg(np.array([1.0, 2.0, 3.0]), f, "position"))
    assert msg.layout.dim[0].label == "position" and msg.layout.dim[0].size == 3
    assert float64_array_from_msg(msg) == pytest.approx([1, 2, 3])
    cmd = JointCommand(NAMES, np.zeros(3), np.ones(3))
    assert float64_array_from_msg(command_to_forward_msg(cmd, f, "velocity")) == pytest.approx([1, 1, 1])
    with pytest.raises(MessageError, match="no effort"):
        command_to_forward_msg(cmd, f, "effort")
    bad = float64_array_to_msg(np.zeros(2), f)
    bad.layout.data_offset = 5
    with pytest.raises(MessageError, match="data_offset"):
        float64_array_from_msg(bad)
