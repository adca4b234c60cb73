"""Imu, NavSatFix, JointState and BatteryState converters round-trip through CDR; structure is checked."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sanqin.common.types import BatteryState, GeoFix, ImuSample, JointStates
from sanqin.msgs import sensors as s
from sanqin.msgs.errors import MessageError


def _imu(orientation=True):
    return ImuSample(
        stamp_s=1.25,
        frame_id="imu_link",
        orientation_xyzw=np.array([0.0, 0.0, 0.38268343, 0.92387953]) if orientation else None,
        angular_velocity_rad_s=np.array([0.01, -0.02, 0.3]),
        linear_acceleration_m_s2=np.array([0.1, 0.2, 9.81]),
        orientation_covariance=np.diag([1e-4, 1e-4, 4e-4]),
        angular_velocity_covariance=np.diag([1e-6, 2e-6, 3e-6]),
        linear_acceleration_covariance=np.diag([1e-3, 1e-3, 2e-3]),
    )


def test_imu_roundtrip(factory, cdr):
    src = _imu()
    back = s.imu_from_msg(cdr(s.imu_to_msg(src, factory)))
    assert back.frame_id == "imu_link" and back.stamp_s == 1.25
    for name in (
        "orientation_xyzw",
        "angular_velocity_rad_s",
        "linear_acceleration_m_s2",
        "orientation_covariance",
        "angular_velocity_covariance",
        "linear_acceleration_covariance",
    ):
        np.testing.assert_array_equal(getattr(back, name), getattr(src, name))


def test_imu_without_orientation(factory, cdr):
    msg = cdr(s.imu_to_msg(_imu(orientation=False), factory))
    assert msg.orientation_covariance[0] == -1.0
    back = s.imu_from_msg(msg)
    assert back.orientation_xyzw is None
    np.testing.assert_array_equal(back.angular_velocity_rad_s, [0.01, -0.02, 0.3])
    # with the -1 mark the quaternion is ignored whatever it holds (drivers often leave it all zero)
    msg.orientation.w = 0.0
    assert s.imu_from_msg(msg).orientation_xyzw is None


def test_imu_orientation_with_no_orientation_mark_rejected(factory):
    bad = ImuSample(orientation_xyzw=np.array([0, 0, 0, 1.0]), orientation_covariance=np.diag([-1.0, 0, 0]))
    with pytest.raises(MessageError, match="covariance\\[0\\] is -1"):
        s.imu_to_msg(bad, factory)


def test_imu_bad_covariance_size(factory):
    msg = s.imu_to_msg(_imu(), factory)
    msg.angular_velocity_covariance = np.zeros(4)
    with pytest.raises(MessageError, match="Imu.angular_velocity covariance.*9 values, got 4"):
        s.imu_from_msg(msg)


def test_navsat_roundtrip(factory, cdr):
    src = GeoFix(
        stamp_s=100.0,
        frame_id="gps",
        latitude_deg=34.2611,
        longitude_deg=108.9422,
        altitude_m=412.5,
        status=2,
        service=1 | 8,
        position_covariance_m2=np.diag([0.0004, 0.0004, 0.0025]),
        covariance_type=2,
    )
    msg = cdr(s.navsat_to_msg(src, factory))
    assert msg.status.status == 2 and msg.status.service == 9
    back = s.navsat_from_msg(msg)
    assert (back.latitude_deg, back.longitude_deg, back.altitude_m) == (34.2611, 108.9422, 412.5)
    assert (back.status, back.service, back.covariance_type, back.frame_id) == (2, 9, 2, "gps")
    np.testing.assert_array_equal(back.position_covariance_m2, src.position_covariance_m2)


def test_navsat_no_fix_keeps_nan(factory, cdr):
    back = s.navsat_from_msg(cdr(s.navsat_to_msg(GeoFix(frame_id="gps"), factory)))
    assert back.status == -1 and math.isnan(back.latitude_deg)


def test_navsat_out_of_range_status(factory):
    with pytest.raises(MessageError, match="status 300"):
        s.navsat_to_msg(GeoFix(status=300), factory)


def test_joint_state_roundtrip(factory, cdr):
    src = JointStates(
        stamp_s=5.0,
        frame_id="",
        names=("shoulder", "elbow", "wrist"),
        position=np.array([0.1, -1.2, 3.0]),
        velocity=np.array([0.0, 0.5, -0.5]),
        effort=np.zeros(0),
    )
    back = s.joint_state_from_msg(cdr(s.joint_state_to_msg(src, factory)))
    assert back.names == src.names and back.stamp_s == 5.0
    np.testing.assert_array_equal(back.position, src.position)
    np.testing.assert_array_equal(back.velocity, src.velocity)
    assert back.effort.shape == (0,)


def test_joint_state_length_mismatch(factory):
    msg = s.joint_state_to_msg(JointStates(names=("a", "b"), position=np.zeros(2)), factory)
    msg.velocity = np.zeros(1)
    with pytest.raises(MessageError, match="JointState.velocity has 1 values for 2 joints"):
        s.joint_state_from_msg(msg)
    with pytest.raises(MessageError, match="JointStates.effort has 3 values for 2 joints"):
        s.joint_state_to_msg(JointStates(names=("a", "b"), effort=np.zeros(3)), factory)
    with pytest.raises(MessageError, match="more than once"):
        s.joint_state_to_msg(JointStates(names=("a", "a"), position=np.zeros(2)), factory)


def test_battery_roundtrip(factory, cdr):
    src = BatteryState(
        stamp_s=9.0,
        frame_id="battery",
        voltage_v=22.5,
        current_a=-12.25,
        charge_ah=8.5,
        capacity_ah=10.0,
        design_capacity_ah=10.0,
        percentage=0.85,
        temperature_c=float("nan"),
        power_supply_status=2,
        power_supply_health=1,
        power_supply_technology=3,
        cell_voltage_v=np.array([3.75] * 6),
        serial_number="SN-1",
    )
    back = s.battery_from_msg(cdr(s.battery_to_msg(src, factory)))
    assert (back.voltage_v, back.current_a, back.charge_ah) == (22.5, -12.25, 8.5)
    assert back.percentage == pytest.approx(0.85) and math.isnan(back.temperature_c)
    assert (back.power_supply_status, back.power_supply_health, back.power_supply_technology) == (2, 1, 3)
    assert back.present and back.serial_number == "SN-1" and back.frame_id == "battery"
    np.testing.assert_array_equal(back.cell_voltage_v, src.cell_voltage_v)
    assert back.cell_temperature_c.shape == (0,)


def test_battery_bad_constant(factory):
    with pytest.raises(MessageError, match="power_supply_health"):
        s.battery_to_msg(BatteryState(power_supply_health=-1), factory)
