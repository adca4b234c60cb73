"""The rosbags message factory: defaults, coercion, and clear errors for values that do not fit."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.msgs.errors import MessageError
from sanqin.msgs.factory import default_factory


def test_values_that_do_not_fit_a_field_are_message_errors() -> None:
    f = default_factory()
    with pytest.raises(MessageError, match="PointCloud2.data"):
        f.new("sensor_msgs/msg/PointCloud2", data=[300, 1])
    with pytest.raises(MessageError, match="Float64.data"):
        f.new("std_msgs/msg/Float64", data="fast")


def test_missing_fields_take_ros_defaults_and_arrays_become_numpy() -> None:
    f = default_factory()
    imu = f.new("sensor_msgs/msg/Imu", orientation_covariance=[1.0] * 9)
    assert imu.header.frame_id == "" and imu.orientation.w == 0.0
    assert imu.orientation_covariance.dtype == np.float64 and imu.orientation_covariance.sum() == 9.0
    pc = f.new("sensor_msgs/msg/PointCloud2", data=b"\x01\x02")
    assert pc.data.dtype == np.uint8 and pc.data.tolist() == [1, 2]


def test_unknown_types_fields_and_wrong_fixed_sizes_are_rejected() -> None:
    f = default_factory()
    with pytest.raises(MessageError, match="unknown message type"):
        f.new("no_msgs/msg/Nope")
    with pytest.raises(MessageError, match="no field"):
        f.new("std_msgs/msg/Float64", value=1.0)
    with pytest.raises(MessageError, match="expected 9 elements"):
        f.new("sensor_msgs/msg/Imu", orientation_covariance=[0.0] * 4)


def test_cdr_round_trip_and_malformed_bytes() -> None:
    f = default_factory()
    msg = f.new("std_msgs/msg/String", data="sanqin")
    assert f.deserialize(f.serialize(msg), "std_msgs/msg/String").data == "sanqin"
    with pytest.raises(MessageError, match="cannot deserialize"):
        f.deserialize(b"\x00\x01\x00", "sensor_msgs/msg/PointCloud2")
