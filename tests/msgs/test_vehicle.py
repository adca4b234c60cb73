"""UAV vehicle state ↔ diagnostic_msgs/DiagnosticStatus and text ↔ std_msgs/String, with CDR round trips."""

from __future__ import annotations

import math

import pytest

from sanqin.msgs.errors import MessageError
from sanqin.msgs.factory import default_factory
from sanqin.msgs.vehicle import text_from_msg, text_to_msg, vehicle_state_from_msg, vehicle_state_to_msg
from sanqin.uav_bridge.telemetry import VehicleState

STATE = VehicleState(stamp_s=12.5, connected=True, armed=True, mode="AUTO", system_status=4, autopilot="ardupilot",
                     landed_state=2, mission_seq=7, mission_total=40, items_reached=7, latitude_deg=52.0871234,
                     longitude_deg=5.1634567, relative_alt_m=4.02, battery_percentage=0.81, gps_fix_type=3,
                     satellites=14, failsafe="")


def test_vehicle_state_cdr_round_trip_and_levels() -> None:
    f = default_factory()
    msg = vehicle_state_to_msg(STATE, f)
    back = vehicle_state_from_msg(f.deserialize(f.serialize(msg), "diagnostic_msgs/msg/DiagnosticStatus"))
    assert back == STATE
    assert int(msg.level[0] if isinstance(msg.level, bytes) else msg.level) == 0 and msg.message == "armed AUTO"
    lost = vehicle_state_to_msg(VehicleState(**{**STATE.__dict__, "connected": False}), f)
    fs = vehicle_state_to_msg(VehicleState(**{**STATE.__dict__, "failsafe": "battery"}), f)
    assert int(lost.level) == 2 and int(fs.level) == 1 and "failsafe: battery" in fs.message


def test_nan_values_survive_and_malformed_states_raise() -> None:
    f = default_factory()
    s = VehicleState(**{**STATE.__dict__, "latitude_deg": math.nan, "battery_percentage": math.nan})
    back = vehicle_state_from_msg(vehicle_state_to_msg(s, f))
    assert math.isnan(back.latitude_deg) and math.isnan(back.battery_percentage)
    msg = vehicle_state_to_msg(STATE, f)
    msg.values = [kv for kv in msg.values if kv.key != "mode"]
    with pytest.raises(MessageError, match="mode"):
        vehicle_state_from_msg(msg)
    msg = vehicle_state_to_msg(STATE, f)
    next(kv for kv in msg.values if kv.key == "mission_seq").value = "seven"
    with pytest.raises(MessageError, match="malformed"):
        vehicle_state_from_msg(msg)


def test_text_round_trip() -> None:
    f = default_factory()
    msg = text_to_msg("plan staged: 9 mission items", f)
    assert text_from_msg(f.deserialize(f.serialize(msg), "std_msgs/msg/String")) == "plan staged: 9 mission items"

    class Bad:
        data = b"bytes"

    with pytest.raises(MessageError):
        text_from_msg(Bad())
