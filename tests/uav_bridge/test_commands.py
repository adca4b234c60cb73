"""The command protocol against the simulated autopilot: accepted, denied with a reason, IN_PROGRESS,
missing ACKs with retries and the confirmation counter, mode mappings, arming checks."""

from __future__ import annotations

import pytest

from sanqin.simulation.multicopter import MulticopterConfig
from sanqin.simulation.multicopter.harness import SimulatedLink
from sanqin.uav_bridge.commands import CommandClient, CommandTiming
from sanqin.uav_bridge.connection import MavConnection, MemoryTransport
from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.errors import Busy, CommandDenied, ModeError, Timeout
from sanqin.uav_bridge.modes import mode_for, mode_name, px4_custom_mode


def test_arm_takeoff_goto_land_through_guided() -> None:
    with SimulatedLink() as link:
        v = link.connect()
        assert link.run(v.set_mode("GUIDED")) == mavlink.MAV_RESULT_ACCEPTED
        link.run(v.arm())
        link.run(v.takeoff(12.0))
        assert link.wait_until(lambda: v.telemetry.relative_alt_m > 11.0, 30)
        lat, lon, _ = link.sim.origin.to_geodetic(30.0, 20.0)
        link.run(v.goto(lat, lon, 15.0))
        body = link.sim.body
        assert link.wait_until(lambda: abs(body.pos[0] - 30) < 1.5 and abs(body.pos[1] - 20) < 1.5, 40)
        assert v.link.status.mode == "GUIDED" and v.link.status.armed
        link.run(v.land())
        assert link.wait_until(lambda: not v.link.status.armed, 60)


def test_arming_refused_with_the_autopilots_reason() -> None:
    with SimulatedLink(MulticopterConfig(gps_ok=False)) as link:
        v = link.connect()
        with pytest.raises(CommandDenied, match="GPS") as info:
            link.run(v.arm())
        assert info.value.result == mavlink.MAV_RESULT_FAILED
        assert "PreArm" in info.value.reason
        assert not link.sim.autopilot.armed


def test_takeoff_when_disarmed_is_refused() -> None:
    with SimulatedLink() as link:
        v = link.connect()
        link.run(v.set_mode("GUIDED"))
        with pytest.raises(CommandDenied, match="not armed"):
            link.run(v.takeoff(10.0))


def test_denied_command_raises_with_result() -> None:
    cfg = MulticopterConfig(deny_commands=(mavlink.MAV_CMD_DO_SET_HOME,))
    with SimulatedLink(cfg) as link:
        v = link.connect()
        with pytest.raises(CommandDenied) as info:
            link.run(v.set_home())
        assert info.value.result == mavlink.MAV_RESULT_DENIED


def test_missing_ack_is_retried_with_confirmation_then_times_out() -> None:
    cfg = MulticopterConfig(no_ack_commands=(mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH,))
    with SimulatedLink(cfg) as link:
        v = link.connect()
        sent = []
        link.bridge.conn.on_bytes = lambda frame, out: out and sent.append(frame)
        op = v.return_to_launch()
        with pytest.raises(Timeout, match="4 attempt"):
            link.run(op, 10.0)
        mav = mavlink.MAVLink(None)
        confirmations = [m.confirmation for f in sent for m in (mav.parse_buffer(f) or [])
                         if m.get_type() == "COMMAND_LONG" and m.command == mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH]
        assert confirmations == [0, 1, 2, 3]


def test_in_progress_extends_the_wait_until_the_final_result() -> None:
    with SimulatedLink() as link:
        v = link.connect()
        op = v.command(mavlink.MAV_CMD_PREFLIGHT_CALIBRATION, (1.0,))
        link.advance(0.3)
        assert not op.done  # IN_PROGRESS arrived; default timeout 1 s would have resent by now otherwise
        assert link.run(op, 5.0) == mavlink.MAV_RESULT_ACCEPTED
        assert v.commands.counters["resends"] == 0


def test_same_command_twice_is_busy() -> None:
    with SimulatedLink() as link:
        v = link.connect()
        v.set_home()
        with pytest.raises(Busy):
            v.set_home()


def test_unsupported_command_and_unknown_mode() -> None:
    with SimulatedLink() as link:
        v = link.connect()
        with pytest.raises(CommandDenied, match="UNSUPPORTED"):
            link.run(v.command(mavlink.MAV_CMD_DO_FENCE_ENABLE, (1.0,)))
        with pytest.raises(ModeError):
            v.set_mode("SPORTY")


def test_stray_acks_and_link_loss_fail_pending_commands() -> None:
    a = MavConnection(MemoryTransport("acks", "gcs"))
    veh = MavConnection(MemoryTransport("acks", "vehicle"), system_id=1, component_id=1)
    client = CommandClient(a.mav, a.send, 1, 1, CommandTiming(timeout_s=0.5, retries=1))
    veh.send(veh.mav.command_ack_encode(400, 0))
    for m in a.poll():
        client.handle(m, 0.0)
    assert client.counters["stray_acks"] == 1
    op = client.submit(400, (1.0,), 0.0)
    client.cancel_all(Timeout("link", 1))
    assert op.done and isinstance(op.error, Timeout)


def test_mode_mappings() -> None:
    assert mode_for("ardupilot", "guided").custom_mode == 4
    assert mode_for("ardupilot", "RTL").custom_mode == 6
    px4 = mode_for("px4", "AUTO")
    assert (px4.custom_mode, px4.custom_sub_mode) == (4, 4)
    assert mode_name("px4", px4_custom_mode(4, 3)) == "HOLD"
    assert mode_name("px4", px4_custom_mode(6, 0)) == "OFFBOARD"
    assert mode_name("ardupilot", 9) == "LAND"
    assert mode_name("ardupilot", 99).startswith("UNKNOWN")
    with pytest.raises(ModeError):
        mode_for("betaflight", "AUTO")
