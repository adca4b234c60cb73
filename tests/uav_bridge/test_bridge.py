"""Link-level behaviour: several vehicles on one UDP port by system id, and signed links end to end."""

from __future__ import annotations

import socket
from dataclasses import replace

from sanqin.simulation.multicopter import MulticopterConfig, MulticopterSimulator
from sanqin.simulation.multicopter.harness import SimulatedLink
from sanqin.uav_bridge.bridge import Bridge, BridgeOptions
from sanqin.uav_bridge.errors import Timeout


def _port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_vehicles_on_one_udp_port_are_kept_apart() -> None:
    port = _port()
    bridge = Bridge.open(f"udpin:127.0.0.1:{port}", BridgeOptions(role="gcs", system_id=255, vehicles=(1, 2)))
    sims = [MulticopterSimulator(MulticopterConfig(connection=f"udpout:127.0.0.1:{port}", system_id=k,
                                                   home_latitude_deg=52.0 + k * 0.01)) for k in (1, 2)]
    try:
        t = 0.0
        for _ in range(200):
            t += 0.02
            for s in sims:
                s.step(t)
            bridge.step(t)
        v1, v2 = bridge.vehicle(1), bridge.vehicle(2)
        assert v1.connected and v2.connected
        assert abs(v1.telemetry.latitude_deg - 52.01) < 1e-3 and abs(v2.telemetry.latitude_deg - 52.02) < 1e-3
        op = v2.set_mode("GUIDED")
        for _ in range(50):
            t += 0.02
            for s in sims:
                s.step(t)
            bridge.step(t)
        assert op.ok and sims[1].autopilot.mode == 4 and sims[0].autopilot.mode == 0
    finally:
        bridge.close()
        for s in sims:
            s.close()


def test_signed_link_end_to_end_and_unsigned_bridge_is_ignored(tmp_path) -> None:
    key = tmp_path / "key"
    key.write_text(bytes(range(32)).hex())
    signed = MulticopterConfig(signing_key_file=str(key), require_signing=True)
    with SimulatedLink(signed, BridgeOptions(signing_key_file=str(key), require_signing=True)) as link:
        v = link.connect()
        assert link.run(v.set_mode("GUIDED")) == 0
        assert link.sim.conn.counters["rx_rejected_signature"] == 0
    with SimulatedLink(replace(signed, connection="mem:unsigned"), BridgeOptions()) as link:
        v = link.connect()  # the vehicle's signed frames are accepted by an unsigned receiver
        try:
            link.run(v.set_mode("GUIDED"), 6.0)
            raise AssertionError("an unsigned command must not be accepted")
        except Timeout:
            pass
        assert link.sim.conn.counters["rx_rejected_signature"] > 0 and link.sim.autopilot.mode == 0


def test_tcp_link_through_pymavlink() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sim = MulticopterSimulator(MulticopterConfig(connection=f"tcpin:127.0.0.1:{port}"))
    bridge = Bridge.open(f"tcp:127.0.0.1:{port}", BridgeOptions(role="gcs", system_id=255))
    try:
        t = 0.0
        for _ in range(100):
            t += 0.02
            sim.step(t)
            bridge.step(t)
        v = bridge.vehicle(1)
        assert v.connected and v.telemetry.counts.get("GLOBAL_POSITION_INT", 0) > 5
        op = v.set_mode("LOITER")
        for _ in range(20):
            t += 0.02
            sim.step(t)
            bridge.step(t)
        assert op.ok and sim.autopilot.mode == 5
    finally:
        bridge.close()
        sim.close()
