"""The headless pack emulated for ArduPilot SITL: drain law, messages, and through the relay over UDP."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
from pymavlink import mavutil
from pymavlink.dialects.v20 import ardupilotmega as mav

from sanqin.runtime.config import load_config
from sanqin.simulation.gazebo.mavlink_relay import MavlinkFaultRelay, MavlinkFaultRelayConfig
from sanqin.simulation.gazebo.sitl_battery import MAV_CMD_BATTERY_RESET, PackEmulator
from sanqin.simulation.multicopter.dynamics import Battery, BatteryParams

HOST = "127.0.0.1"
PACK = BatteryParams(cells=6, capacity_ah=12.0, internal_resistance_ohm=0.02, hover_current_a=70.0,
                     idle_current_a=0.8)


def _msg(kind: str, **fields: Any) -> Any:
    enc = mav.MAVLink(None, srcSystem=1, srcComponent=1)
    if kind == "HEARTBEAT":
        m = enc.heartbeat_encode(2, 3, fields["base_mode"], 3, 4)
    else:
        m = enc.scaled_imu_encode(0, *fields["acc_mg"], 0, 0, 0, 0, 0, 0)
    return mav.MAVLink(None).decode(bytearray(m.pack(enc)))


def test_the_pack_drains_by_the_headless_law_from_the_measured_specific_force() -> None:
    pack = PackEmulator(PACK, 0.75, 0.35)
    ref = Battery(PACK, soc=0.75)
    pack.step(0.0)
    pack.step(10.0)  # disarmed: idle current only
    ref.step(0.0, False, 10.0)
    assert pack.soc == pytest.approx(ref.soc, abs=1e-12)
    pack.observe(_msg("HEARTBEAT", base_mode=128 | 1), 10.0)
    for k in range(1, 61):  # armed, climbing at 1.2 g for a minute, IMU at 1 Hz
        pack.observe(_msg("SCALED_IMU", acc_mg=(0, 0, -1200)), 10.0 + k)
        pack.step(10.0 + k)
        ref.step(1.2, True, 1.0)
    assert pack.soc == pytest.approx(ref.soc, abs=1e-9)
    assert pack.battery.current_a == pytest.approx(0.8 + 70.0 * 1.2**1.5)
    pack.step(75.0)  # no IMU for 4 s: hover (thrust = weight)
    ref.step(1.0, True, 5.0)
    assert pack.soc == pytest.approx(ref.soc, abs=1e-9)
    assert pack.sitl_voltage_v() == pytest.approx(ref.voltage_v + 0.35)


def test_messages_reset_the_remaining_charge_and_set_the_sitl_voltage() -> None:
    pack = PackEmulator(PACK, 0.75, 0.35)
    enc = mav.MAVLink(None, srcSystem=245, srcComponent=190)
    reset, volt = pack.messages(enc, 3)
    assert reset.get_type() == "COMMAND_LONG" and reset.command == MAV_CMD_BATTERY_RESET
    assert (reset.target_system, reset.param1, reset.param2) == (3, 1.0, 75.0)  # first battery, 75 %
    assert volt.get_type() == "PARAM_SET" and volt.param_id in ("SIM_BATT_VOLTAGE", b"SIM_BATT_VOLTAGE")
    assert volt.param_value == pytest.approx(Battery(PACK, soc=0.75).voltage_v + 0.35, abs=1e-3)


def test_the_relay_imposes_the_pack_on_the_autopilot_over_udp() -> None:
    bridge = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    bridge.bind((HOST, 0))
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind((HOST, 0))
    port = probe.getsockname()[1]
    probe.close()
    cfg = load_config(MavlinkFaultRelayConfig, {
        "vehicle_port": port, "bridge_port": bridge.getsockname()[1], "battery_capacity_ah": 12.0,
        "battery_soc_start": 0.75, "battery_hover_current_a": 70.0, "battery_period_s": 1.0})
    relay = MavlinkFaultRelay(cfg)
    sitl = mavutil.mavlink_connection(f"udpout:{HOST}:{port}", source_system=1, source_component=1)
    resets: list[Any] = []

    def run(t: float) -> None:
        for _ in range(5):  # a few ticks at the same node time: the loopback delivers within them
            relay.tick(t)
            while (m := sitl.recv_match(blocking=False)) is not None:
                if m.get_type() == "COMMAND_LONG":
                    resets.append((t, m))
            time.sleep(0.002)

    try:
        run(0.0)
        assert relay.counters["battery_updates"] == 0  # nothing before the autopilot's first heartbeat
        armed = mavutil.mavlink.MAV_MODE_FLAG_SAFETY_ARMED | mavutil.mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED
        sitl.mav.heartbeat_send(2, 3, armed, 3, 4)
        for t in range(1, 62):
            sitl.mav.scaled_imu_send(0, 0, 0, -1000, 0, 0, 0, 0, 0, 0)
            run(float(t))
        sitl.mav.command_ack_send(MAV_CMD_BATTERY_RESET, 0, 0, 0, 245, 190)
        run(62.0)
    finally:
        sitl.close()
        relay.close()
        bridge.close()
    assert relay.counters["battery_updates"] >= 60 and relay.counters["battery_resets_accepted"] == 1
    first, last = resets[0][1], resets[-1][1]
    assert first.param2 == pytest.approx(75.0, abs=1e-3) and (first.get_srcSystem(), first.target_system) == (245, 1)
    ref = Battery(PACK, soc=0.75)
    ref.step(1.0, True, resets[-1][0] - resets[0][0])  # armed in hover from the first reset on
    assert last.param2 == pytest.approx(100.0 * ref.soc, abs=0.02)
    assert relay.metrics()["battery_soc"] < 0.75
