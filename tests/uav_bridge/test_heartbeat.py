"""LinkMonitor: the vehicle's state comes from its autopilot's heartbeats only."""

from __future__ import annotations

from pymavlink.dialects.v20 import common as mavlink2

from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.heartbeat import LinkMonitor

GUIDED, AUTO = 4, 3  # ArduCopter custom modes


def _hb(comp: int, custom_mode: int, *, armed: bool = True, mav_type: int = mavlink.MAV_TYPE_QUADROTOR,
        autopilot: int = mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA):
    enc = mavlink2.MAVLink(None, srcSystem=1, srcComponent=comp)
    base = mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED | (mavlink.MAV_MODE_FLAG_SAFETY_ARMED if armed else 0)
    msg = enc.heartbeat_encode(mav_type, autopilot, base, custom_mode, mavlink.MAV_STATE_ACTIVE)
    return enc.parse_char(msg.pack(enc))  # a decoded message, with its source component


def test_a_camera_claiming_an_autopilot_does_not_change_the_vehicles_mode() -> None:
    mon = LinkMonitor()
    assert mon.on_heartbeat(_hb(1, AUTO), 0.0) == "connected"
    mon.on_heartbeat(_hb(mavlink.MAV_COMP_ID_CAMERA, GUIDED, armed=False, mav_type=mavlink.MAV_TYPE_CAMERA,
                         autopilot=mavlink.MAV_AUTOPILOT_GENERIC), 0.5)
    assert (mon.status.mode, mon.status.armed, mon.status.component_id) == ("AUTO", True, 1)
    assert mon.other_components == 1 and mon.heartbeats == 1


def test_the_autopilot_component_takes_over_from_the_first_one_heard() -> None:
    mon = LinkMonitor()
    mon.on_heartbeat(_hb(mavlink.MAV_COMP_ID_CAMERA, GUIDED, autopilot=mavlink.MAV_AUTOPILOT_GENERIC), 0.0)
    mon.on_heartbeat(_hb(1, AUTO), 0.2)
    assert mon.autopilot_component == 1 and mon.status.mode == "AUTO"
    mon.on_heartbeat(_hb(mavlink.MAV_COMP_ID_CAMERA, GUIDED, autopilot=mavlink.MAV_AUTOPILOT_GENERIC), 0.4)
    assert mon.status.mode == "AUTO"


def test_gcs_and_companion_heartbeats_are_never_the_vehicle() -> None:
    mon = LinkMonitor()
    assert mon.on_heartbeat(_hb(190, 0, mav_type=mavlink.MAV_TYPE_GCS, autopilot=mavlink.MAV_AUTOPILOT_INVALID),
                            0.0) is None
    assert not mon.connected and mon.autopilot_component is None
