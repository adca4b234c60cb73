"""MAVLink bridge figures: mission upload time against MAVSDK, and telemetry ingest rate.

1. **Upload of a 500-item mission over loopback UDP** to the simulator running as its own process
   (``python -m sanqin.simulation.multicopter``, protocol loop every ``--sim-step`` s): our bridge
   (``Vehicle.upload``, MISSION_COUNT → MISSION_REQUEST_INT → MISSION_ITEM_INT → MISSION_ACK) against
   MAVSDK's ``MissionRaw.upload_mission`` (C++ via ctypes) on a fresh simulator each; median of
   ``--rounds`` rounds; the ratio is ours / MAVSDK's (below 1: we are faster).
2. **Telemetry ingest**: a 50 Hz stream (attitude, IMU, global and local position, GPS, status; ~300
   messages/s) recorded from the simulator in flight, then parsed (pymavlink, robust mode, through
   :class:`MavConnection`) and converted NED → ENU into core types (:class:`Telemetry`), and, in a second
   figure, further into ROS messages (NavSatFix, Imu, Odometry, BatteryState). Baseline in the same run:
   pymavlink's bare ``parse_buffer`` of the same bytes.

Run: ``.venv/bin/python bench/mavlink.py [--rounds 3] [--items 500]``. The last line is the headline.
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import time

from _common import free_udp_port, machine

from sanqin.common.mission import MissionItem
from sanqin.msgs.factory import default_factory
from sanqin.msgs.geometry import odometry_to_msg
from sanqin.msgs.sensors import battery_to_msg, imu_to_msg, navsat_to_msg
from sanqin.simulation.multicopter import MulticopterConfig
from sanqin.simulation.multicopter.harness import SimulatedLink
from sanqin.uav_bridge.bridge import Bridge, BridgeOptions
from sanqin.uav_bridge.connection import MavConnection, MemoryTransport
from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.telemetry import Telemetry

LAT, LON = 52.0870, 5.1630


def _sim(port: int, step: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sanqin.simulation.multicopter", "--connect",
                             f"udpout:127.0.0.1:{port}", "--step", str(step), "--duration", "600"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def mission(n: int) -> list[MissionItem]:
    """``n`` waypoints on a lawn-mower pattern."""
    return [MissionItem(16, LAT + 1e-5 * (i // 20), LON + 1e-5 * (i % 20), 20.0) for i in range(n)]


def upload_ours(n: int, step: float) -> float:
    """Seconds for our bridge to upload ``n`` items."""
    port = free_udp_port()
    bridge = Bridge.open(f"udpin:127.0.0.1:{port}", BridgeOptions(role="gcs", system_id=255))
    proc = _sim(port, step)
    try:
        v = bridge.wait_connected(1, timeout_s=20.0)
        bridge.run(v.missions.clear(0, time.monotonic()), 10.0)
        items = mission(n)
        t0 = time.perf_counter()
        count = bridge.run(v.upload(items), 120.0)
        dt = time.perf_counter() - t0
        if count != n:
            raise RuntimeError(f"uploaded {count} of {n}")
        return dt
    finally:
        _stop(proc)
        bridge.close()


def upload_mavsdk(n: int, step: float) -> float:
    """Seconds for MAVSDK MissionRaw to upload ``n`` items."""
    from mavsdk import ComponentType, Configuration, Mavsdk
    from mavsdk.plugins.mission_raw import MissionRaw
    from mavsdk.plugins.mission_raw.mission_raw import MissionItem as RawItem

    port = free_udp_port()
    drone = Mavsdk(Configuration.create_with_component_type(ComponentType.GROUND_STATION))
    drone.add_any_connection(f"udpin://127.0.0.1:{port}")
    proc = _sim(port, step)
    try:
        system = drone.first_autopilot(20.0)
        if system is None:
            raise RuntimeError("MAVSDK found no autopilot")
        raw = MissionRaw(system)
        items = [RawItem(i, 3, 16, int(i == 0), 1, 0, 0, 0, math.nan, int(round(m.latitude_deg * 1e7)),
                         int(round(m.longitude_deg * 1e7)), 20.0, 0) for i, m in enumerate(mission(n))]
        t0 = time.perf_counter()
        raw.upload_mission(items)
        return time.perf_counter() - t0
    finally:
        _stop(proc)
        drone.destroy()


def record_stream(seconds: float) -> bytes:
    """Raw MAVLink bytes of ``seconds`` of a 50 Hz telemetry stream from the simulator in flight."""
    link = SimulatedLink(MulticopterConfig(), dt_s=0.005)
    try:
        v = link.connect()
        link.run(v.set_mode("GUIDED"))
        link.run(v.arm())
        link.run(v.takeoff(20.0))
        link.advance(2.0)  # let the bridge's own stream requests finish, then ask for 50 Hz
        for name in ("ATTITUDE_QUATERNION", "SCALED_IMU", "GLOBAL_POSITION_INT", "LOCAL_POSITION_NED",
                     "GPS_RAW_INT", "SYS_STATUS"):
            link.run(v.set_message_interval(getattr(mavlink, f"MAVLINK_MSG_ID_{name}"), 50.0))
        frames: list[bytes] = []
        link.sim.conn.on_bytes = lambda frame, out: out and frames.append(frame)
        lat, lon, _ = link.sim.origin.to_geodetic(200.0, 100.0)
        link.run(v.goto(lat, lon, 25.0))
        link.advance(seconds)
        return b"".join(frames)
    finally:
        link.close()


def ingest(data: bytes, ros: bool) -> tuple[int, float]:
    """(messages, seconds) to parse and convert ``data`` (into core types, and ROS messages if ``ros``)."""
    conn = MavConnection(MemoryTransport(f"bench-{ros}", "gcs"))
    tel = Telemetry()
    f = default_factory()
    build = {"fix": navsat_to_msg, "imu": imu_to_msg, "odom": odometry_to_msg, "battery": battery_to_msg}
    n = 0
    t0 = time.perf_counter()
    for i in range(0, len(data), 4096):
        for msg in conn.feed(data[i:i + 4096]):
            n += 1
            out = tel.update(msg, 0.0)
            if ros and out is not None and out[0] in build:
                build[out[0]](out[1], f)
    dt = time.perf_counter() - t0
    conn.close()
    return n, dt


def parse_only(data: bytes) -> tuple[int, float]:
    """(messages, seconds) for pymavlink's bare parser on the same bytes."""
    mav = mavlink.MAVLink(None)
    mav.robust_parsing = True
    n = 0
    t0 = time.perf_counter()
    for i in range(0, len(data), 4096):
        n += len(mav.parse_buffer(data[i:i + 4096]) or [])
    return n, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--items", type=int, default=500)
    ap.add_argument("--sim-step", type=float, default=0.005, help="simulator protocol loop period (s)")
    ap.add_argument("--stream-s", type=float, default=60.0, help="seconds of 50 Hz telemetry to record")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    ours = [upload_ours(args.items, args.sim_step) for _ in range(args.rounds)]
    print(f"upload {args.items} items, our bridge:   median {statistics.median(ours):.2f} s  "
          f"({', '.join(f'{t:.2f}' for t in ours)})")
    try:
        theirs = [upload_mavsdk(args.items, args.sim_step) for _ in range(args.rounds)]
    except (ImportError, OSError, RuntimeError) as err:
        theirs = []
        print(f"upload {args.items} items, MAVSDK: not measured ({err})")
    ratio = math.nan
    if theirs:
        ratio = statistics.median(ours) / statistics.median(theirs)
        print(f"upload {args.items} items, MAVSDK:       median {statistics.median(theirs):.2f} s  "
              f"({', '.join(f'{t:.2f}' for t in theirs)})")
        print(f"upload time ratio ours / MAVSDK: {ratio:.2f}")
    data = record_stream(args.stream_s)
    n0, t0 = min((parse_only(data) for _ in range(args.rounds)), key=lambda r: r[1])
    n1, t1 = min((ingest(data, False) for _ in range(args.rounds)), key=lambda r: r[1])
    n2, t2 = min((ingest(data, True) for _ in range(args.rounds)), key=lambda r: r[1])
    rate_in = n1 / args.stream_s
    print(f"telemetry stream: {n1} messages in {args.stream_s:.0f} s ({rate_in:.0f} msg/s), {len(data) / 1e3:.0f} kB")
    print(f"pymavlink parse only (baseline):     {n0 / t0:,.0f} msg/s")
    print(f"parse + convert to core types (ENU): {n1 / t1:,.0f} msg/s  ({(n1 / t1) / (n0 / t0):.2f}× baseline, "
          f"{(n1 / t1) / rate_in:.0f}× the stream rate)")
    print(f"parse + core + ROS messages:         {n2 / t2:,.0f} msg/s  ({(n2 / t2) / (n0 / t0):.2f}× baseline)")
    print(f"headline: {args.items}-item mission upload over loopback UDP {statistics.median(ours):.2f} s "
          f"(ours/MAVSDK time ratio {ratio:.2f}); telemetry ingest {n1 / t1:,.0f} msg/s parsed and converted "
          f"({(n1 / t1) / rate_in:.0f}× a 50 Hz stream)")


if __name__ == "__main__":
    main()
