"""NED/FRD → ENU/FLU conversions and the telemetry converters, checked against the simulator's truth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sanqin.simulation.multicopter.harness import SimulatedLink
from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.frames import (
    attitude_enu_to_ned,
    attitude_ned_to_enu,
    enu_to_ned,
    ned_to_enu,
    quat_from_rpy,
    rpy_from_quat,
    yaw_ned_to_enu,
)
from sanqin.uav_bridge.geo import GeoOrigin
from sanqin.uav_bridge.telemetry import Telemetry


def test_heading_north_is_enu_yaw_ninety_degrees() -> None:
    q = attitude_ned_to_enu((1.0, 0.0, 0.0, 0.0))
    assert rpy_from_quat(q)[2] == pytest.approx(math.pi / 2)
    assert yaw_ned_to_enu(math.pi / 2) == pytest.approx(0.0)  # east


@pytest.mark.parametrize("rpy", [(0.1, 0.2, 0.3), (-0.4, 0.1, 2.9), (0.0, -0.5, -1.0)])
def test_attitude_round_trip_and_signs(rpy) -> None:
    q = quat_from_rpy(*rpy)
    enu = attitude_ned_to_enu((q[3], q[0], q[1], q[2]))
    r, p, y = rpy_from_quat(enu)
    assert (r, p) == pytest.approx((rpy[0], -rpy[1]))
    assert math.cos(y - (math.pi / 2 - rpy[2])) == pytest.approx(1.0)
    w, x, yy, z = attitude_enu_to_ned(enu)
    assert abs(np.dot([w, x, yy, z], [q[3], *q[:3]])) == pytest.approx(1.0)


def test_vectors_and_geo() -> None:
    assert ned_to_enu(1.0, 2.0, 3.0) == (2.0, 1.0, -3.0)
    assert enu_to_ned(*ned_to_enu(1.0, 2.0, 3.0)) == (1.0, 2.0, 3.0)
    o = GeoOrigin(52.0, 5.0, 10.0)
    lat, lon, alt = o.to_geodetic(120.0, -340.0, 5.0)
    assert o.to_enu(lat, lon, alt) == pytest.approx((120.0, -340.0, 5.0), abs=1e-6)
    assert o.to_enu(52.0 + 1 / 60, 5.0)[1] == pytest.approx(1853.2, abs=2.0)  # one arc minute ≈ 1 NM
    with pytest.raises(ValueError):
        GeoOrigin(math.nan, 0.0)


def test_telemetry_matches_simulator_truth_in_flight() -> None:
    with SimulatedLink() as link:
        v = link.connect()
        link.run(v.set_mode("GUIDED"))
        link.run(v.arm())
        link.run(v.takeoff(20.0))
        lat, lon, _ = link.sim.origin.to_geodetic(60.0, 0.0)
        link.advance(8.0)
        link.run(v.goto(lat, lon, 20.0))
        link.advance(3.0)
        outs = dict(v.drain_outputs())
        odom, imu, fix, bat = outs["odom"], outs["imu"], outs["fix"], outs["battery"]
        body = link.sim.body
        assert odom.pose.position_m == pytest.approx(body.pos, abs=1.5)  # 10 Hz stream vs live truth
        assert odom.frame_id == "map" and odom.child_frame_id == "base_link"
        assert odom.twist.linear_m_s[0] > 1.0  # flying east, nose first: forward body speed
        assert rpy_from_quat(tuple(imu.orientation_xyzw))[2] == pytest.approx(0.0, abs=0.3)  # facing east
        assert imu.linear_acceleration_m_s2[2] == pytest.approx(9.8, abs=2.0)  # specific force up in FLU
        assert fix.status == 0 and fix.latitude_deg == pytest.approx(link.sim.origin.latitude_deg, abs=1e-3)
        assert bat.current_a < 0 and 0.5 < bat.percentage <= 1.0 and len(bat.cell_voltage_v) == 6


def test_converters_tolerate_nan_and_no_fix() -> None:
    mav = mavlink.MAVLink(None)
    t = Telemetry()
    assert t.update(mav.attitude_quaternion_encode(0, math.nan, 0, 0, 0, 0, 0, 0), 0.0) is None
    assert t.update(mav.attitude_quaternion_encode(0, 0, 0, 0, 0, 0, 0, 0), 0.0) is None
    kind, fix = t.update(mav.gps_raw_int_encode(0, 0, 0, 0, 0, 65535, 65535, 0, 0, 255), 0.0)
    assert kind == "fix" and fix.status == -1 and math.isnan(fix.latitude_deg)
    assert t.update(mav.local_position_ned_encode(0, math.nan, 0, 0, 0, 0, 0), 0.0) is None
    assert t.update(mav.sys_status_encode(0, 0, 0, 0, 65535, -1, -1, 0, 0, 0, 0, 0, 0), 0.0) is None
