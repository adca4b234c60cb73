"""mavlink_fault_relay throughput: MAVLink datagrams forwarded per second, against a bare UDP forwarder.

The UAV twins put :class:`~sanqin.simulation.gazebo.mavlink_relay.MavlinkFaultRelay` between ArduPilot SITL
and the bridge (a few hundred MAVLink messages per second). Here a sender socket plays SITL and fires bursts
of real MAVLink 2 frames (HEARTBEAT, ATTITUDE, GLOBAL_POSITION_INT, RAW_IMU: 21–40 B) at the relay's vehicle port; a
receiver bound on the bridge port counts what arrives; the relay's ``tick`` drains between bursts, in the
same thread. Three figures, same traffic, same loop:

* **baseline** — a bare forwarder (non-blocking ``recvfrom`` → ``sendto``, nothing else): the cost of the
  sockets and the Python loop themselves;
* **relay** — ``MavlinkFaultRelay`` with a drop window configured (not active): counters, window check;
* **relay + pack** — the low-battery twin's relay, which also parses every vehicle datagram (pymavlink) to
  follow the armed state and the accelerometer.

The ratios are baseline / relay (how many times the relay's per-datagram cost is the bare forwarder's).

Run: ``.venv/bin/python bench/gazebo_relay.py [--datagrams 60000]``. The last line is the headline.
"""

from __future__ import annotations

import argparse
import socket
import time

from _common import free_udp_port, machine
from pymavlink.dialects.v20 import common as mavlink2

from sanqin.runtime.config import load_config
from sanqin.simulation.gazebo.mavlink_relay import MavlinkFaultRelay, MavlinkFaultRelayConfig

BURST = 200


def _frames() -> list[bytes]:
    enc = mavlink2.MAVLink(None, srcSystem=1, srcComponent=1)
    msgs = [enc.heartbeat_encode(2, 3, 0, 0, 3), enc.attitude_encode(1000, 0.01, -0.02, 1.5, 0.0, 0.0, 0.0),
            enc.global_position_int_encode(1000, 520870000, 51630000, 20000, 10000, 100, 0, 0, 9000),
            enc.raw_imu_encode(1000, 10, -5, -1000, 0, 0, 0, 200, 10, -400)]
    return [bytes(m.pack(enc)) for m in msgs]


def _pump(n: int, vehicle_port: int, bridge: socket.socket, drain) -> tuple[float, int]:
    """Send ``n`` frames in bursts at ``vehicle_port``, call ``drain()`` after each burst: (datagrams/s, received)."""
    frames = _frames()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    got = 0
    t0 = time.perf_counter()
    sent = 0
    while sent < n:
        for k in range(min(BURST, n - sent)):
            tx.sendto(frames[(sent + k) % len(frames)], ("127.0.0.1", vehicle_port))
        sent += min(BURST, n - sent)
        drain()
        while True:
            try:
                bridge.recv(2048)
                got += 1
            except BlockingIOError:
                break
    elapsed = time.perf_counter() - t0
    tx.close()
    return got / elapsed if elapsed > 0 else float("nan"), got


def baseline(n: int) -> tuple[float, int]:
    """A bare non-blocking UDP forwarder."""
    vport, bport = free_udp_port(), free_udp_port()
    bridge = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    bridge.bind(("127.0.0.1", bport))
    bridge.setblocking(False)
    bridge.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    rx.bind(("127.0.0.1", vport))
    rx.setblocking(False)
    fwd = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def drain() -> None:
        while True:
            try:
                data, _ = rx.recvfrom(65535)
            except BlockingIOError:
                return
            fwd.sendto(data, ("127.0.0.1", bport))

    try:
        return _pump(n, vport, bridge, drain)
    finally:
        for s in (bridge, rx, fwd):
            s.close()


def relay(n: int, **params: object) -> tuple[float, int]:
    """The relay, ticked after every burst (windows far in the future: nothing dropped)."""
    vport, bport = free_udp_port(), free_udp_port()
    bridge = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    bridge.bind(("127.0.0.1", bport))
    bridge.setblocking(False)
    bridge.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    cfg = load_config(MavlinkFaultRelayConfig, {"vehicle_port": vport, "bridge_port": bport,
                                                "drop_windows_s": [1.0e6, 1.0e6 + 1.0], **params})
    r = MavlinkFaultRelay(cfg)
    r.vehicle_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    t = [0.0]

    def drain() -> None:
        t[0] += 0.002
        r.tick(t[0])

    try:
        return _pump(n, vport, bridge, drain)
    finally:
        r.close()
        bridge.close()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--datagrams", type=int, default=60000)
    args = p.parse_args(argv)
    print(f"machine: {machine()}")
    n = args.datagrams
    base, got_b = baseline(n)
    plain, got_r = relay(n)
    pack, got_p = relay(n, battery_capacity_ah=12.0, battery_soc_start=0.75)
    print(f"bare UDP forwarder (baseline): {base:,.0f} datagrams/s ({got_b}/{n} delivered)")
    print(f"mavlink_fault_relay:           {plain:,.0f} datagrams/s ({got_r}/{n} delivered), "
          f"cost ratio {base / plain:.2f}x the baseline")
    print(f"relay + battery pack parsing:  {pack:,.0f} datagrams/s ({got_p}/{n} delivered), "
          f"cost ratio {base / pack:.2f}x the baseline")
    print(f"headline: the relay forwards {plain:,.0f} MAVLink datagrams/s ({pack:,.0f}/s parsing for the pack), "
          f"{base / plain:.2f}x / {base / pack:.2f}x a bare forwarder's cost; SITL sends a few hundred per second")


if __name__ == "__main__":
    main()
