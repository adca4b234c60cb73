"""The simulator as its own process over UDP on loopback: our bridge flies it, and MAVSDK (a MAVLink
client written elsewhere, C++ through ctypes) connects, uploads with MissionRaw, arms, starts and sees
progress — a cross-check that the simulator speaks MAVLink as real autopilots do."""

from __future__ import annotations

import contextlib
import math
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from sanqin.common.mission import MissionItem
from sanqin.uav_bridge.bridge import Bridge, BridgeOptions

LAT, LON = 52.0870, 5.1630


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def sim_process(port: int, speedup: float = 4.0) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sanqin.simulation.multicopter", "--connect", f"udpout:127.0.0.1:{port}",
         "--speedup", str(speedup), "--duration", "300"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_bridge_flies_the_simulator_process_over_udp() -> None:
    port = _free_udp_port()
    bridge = Bridge.open(f"udpin:127.0.0.1:{port}", BridgeOptions(role="gcs", system_id=255))
    try:
        with sim_process(port) as proc:
            v = bridge.wait_connected(1, timeout_s=15.0)
            items = [MissionItem(22, 0, 0, 10.0)] + [MissionItem(16, LAT + 2e-4 * i, LON, 12.0) for i in (1, 2)]
            items.append(MissionItem(21, LAT, LON, 0.0))
            assert bridge.run(v.upload(items), 15.0) == 4
            assert len(bridge.run(v.download(), 15.0)) == 4
            bridge.run(v.set_mode("GUIDED"), 5.0)
            bridge.run(v.arm(), 5.0)
            bridge.run(v.start_mission(), 5.0)
            deadline = time.monotonic() + 60.0
            while time.monotonic() < deadline and len(v.missions.progress.reached) < 3:
                bridge.step(time.monotonic())
                bridge.conn.wait(0.02)
            assert v.missions.progress.reached[:3] == [0, 1, 2]
            assert v.telemetry.relative_alt_m > 5.0
            assert proc.poll() is None
        assert proc.returncode == 0 and "stopped" in proc.stdout.read()
    finally:
        bridge.close()


def test_mavsdk_missionraw_against_the_simulator() -> None:
    try:
        from mavsdk import ComponentType, Configuration, Mavsdk
        from mavsdk.plugins.action import Action
        from mavsdk.plugins.mission_raw import MissionRaw
        from mavsdk.plugins.mission_raw.mission_raw import MissionItem as RawItem
    except (ImportError, OSError) as err:  # the C library could not be loaded on this machine
        pytest.skip(f"mavsdk cannot load: {err}")
    port = _free_udp_port()
    drone = Mavsdk(Configuration.create_with_component_type(ComponentType.GROUND_STATION))
    try:
        assert int(drone.add_any_connection(f"udpin://127.0.0.1:{port}")) == 0
        with sim_process(port):
            system = drone.first_autopilot(15.0)
            assert system is not None and system.is_connected()
            mission_raw, action = MissionRaw(system), Action(system)
            items = [RawItem(0, 3, 22, 1, 1, 0, 0, 0, math.nan, int(LAT * 1e7), int(LON * 1e7), 10.0, 0)]
            items += [RawItem(i, 3, 16, 0, 1, 0, 0, 0, math.nan, int((LAT + 2e-4 * i) * 1e7), int(LON * 1e7), 15.0, 0)
                      for i in range(1, 5)]
            items.append(RawItem(5, 2, 20, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0))
            mission_raw.upload_mission(items)
            back = mission_raw.download_mission()
            assert [(it.command, it.x, it.y) for it in back] == [(it.command, it.x, it.y) for it in items]
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:  # wait for a 3-D fix report before arming
                try:
                    action.arm()
                    break
                except Exception:
                    time.sleep(0.5)
            mission_raw.start_mission()
            seen = []
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                p = mission_raw.mission_progress()
                seen.append(p.current)
                if p.total == 6 and p.current >= 6:
                    break
                time.sleep(0.25)
            assert seen[-1] == 6 and max(seen[:-1] or [0]) >= 2  # progress reported item by item
    finally:
        drone.destroy()
