"""mavlink_fault_relay: real UDP loopback sockets, a fake (sim-time) clock, the NodeSpec in the headless runtime."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
from pymavlink import mavutil
from pymavlink.dialects.v20 import ardupilotmega as mav

from sanqin.runtime.config import load_config
from sanqin.runtime.errors import ConfigError
from sanqin.runtime.headless import Graph
from sanqin.simulation.gazebo.mavlink_relay import MavlinkFaultRelay, MavlinkFaultRelayConfig
from sanqin.simulation.gazebo.nodes import MAVLINK_FAULT_RELAY

HOST = "127.0.0.1"


def free_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def udp(timeout_s: float = 0.0) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST, 0))
    s.settimeout(timeout_s) if timeout_s else s.setblocking(False)
    return s


def recv_all(sock: socket.socket) -> list[bytes]:
    out = []
    while True:
        try:
            out.append(sock.recvfrom(65535)[0])
        except (BlockingIOError, TimeoutError):
            return out


def pump(relay: MavlinkFaultRelay, t_s: float, until: Callable[[], bool] = lambda: False, tries: int = 50) -> None:
    """Tick at node time ``t_s`` until ``until()`` or the loopback has surely delivered (no timing asserts)."""
    for _ in range(tries):
        relay.tick(t_s)
        if until():
            return
        time.sleep(0.002)


@pytest.fixture
def link() -> Any:
    """A bridge-side socket, a vehicle-side socket and a relay between them (windows [1, 2) and [3, 4))."""
    bridge = udp()
    port = free_port()
    cfg = load_config(MavlinkFaultRelayConfig, {"vehicle_port": port, "bridge_port": bridge.getsockname()[1],
                                                "drop_windows_s": [1.0, 2.0, 3.0, 4.0], "period_s": 0.01})
    relay = MavlinkFaultRelay(cfg)
    vehicle = udp()
    yield relay, vehicle, bridge, (HOST, port)
    relay.close()
    vehicle.close()
    bridge.close()


def test_forwards_both_ways_and_drops_only_inside_the_windows(link: Any) -> None:
    relay, vehicle, bridge, relay_addr = link
    got_bridge: list[bytes] = []
    got_vehicle: list[bytes] = []
    for t, expect_through in ((0.5, True), (1.0, False), (1.99, False), (2.0, True), (3.5, False), (4.2, True)):
        payload = f"v{t}".encode()
        vehicle.sendto(payload, relay_addr)
        n = relay.counters["forwarded_to_bridge"] + relay.counters["dropped_to_bridge"]
        pump(relay, t, lambda n=n: relay.counters["forwarded_to_bridge"] + relay.counters["dropped_to_bridge"] > n)
        pump(relay, t, lambda p=payload: bool(got_bridge.extend(recv_all(bridge)) or p in got_bridge), tries=10)
        assert (payload in got_bridge) == expect_through, t
        # the bridge answers to the relay's bridge-side port, which must reach the vehicle's address
        reply = f"b{t}".encode()
        bridge.sendto(reply, (HOST, relay.bridge_side_port))
        m = relay.counters["forwarded_to_vehicle"] + relay.counters["dropped_to_vehicle"]
        pump(relay, t, lambda m=m: relay.counters["forwarded_to_vehicle"] + relay.counters["dropped_to_vehicle"] > m)
        pump(relay, t, lambda r=reply: bool(got_vehicle.extend(recv_all(vehicle)) or r in got_vehicle), tries=10)
        assert (reply in got_vehicle) == expect_through, t
    c = relay.counters
    assert (c["forwarded_to_bridge"], c["dropped_to_bridge"], c["forwarded_to_vehicle"], c["dropped_to_vehicle"]) \
        == (3, 3, 3, 3)
    assert c["windows_entered"] == 2 and c["socket_errors"] == 0
    assert c["bytes_to_bridge"] == sum(len(f"v{t}") for t in (0.5, 2.0, 4.2))


def test_drains_every_pending_datagram_in_one_tick(link: Any) -> None:
    relay, vehicle, bridge, relay_addr = link
    for i in range(200):
        vehicle.sendto(i.to_bytes(2, "big"), relay_addr)
    time.sleep(0.05)
    relay.tick(0.1)  # one tick
    assert relay.counters["forwarded_to_bridge"] == 200
    time.sleep(0.05)
    assert sorted(int.from_bytes(d, "big") for d in recv_all(bridge)) == list(range(200))


def test_bridge_datagrams_before_the_vehicle_spoke_and_from_strangers_are_counted(link: Any) -> None:
    relay, _vehicle, bridge, _ = link
    bridge.sendto(b"early", (HOST, relay.bridge_side_port))
    pump(relay, 0.1, lambda: relay.counters["no_vehicle_address"] == 1)
    stranger = udp()
    stranger.sendto(b"who", (HOST, relay.bridge_side_port))
    pump(relay, 0.2, lambda: relay.counters["foreign_datagrams"] == 1)
    stranger.close()
    assert relay.counters["no_vehicle_address"] == 1 and relay.counters["foreign_datagrams"] == 1


@pytest.mark.parametrize("params, match", [
    ({"drop_windows_s": [1.0, 2.0, 3.0]}, "pairs"),
    ({"drop_windows_s": [-1.0, 2.0]}, "negative"),
    ({"drop_windows_s": [2.0, 2.0]}, "end after"),
    ({"drop_windows_s": [1.0, 5.0, 4.0, 6.0]}, "overlap"),
    ({"drop_windows_s": [4.0, 6.0, 1.0, 2.0]}, "order"),
    ({"drop_windows_s": [1.0, float("nan")]}, "finite"),
    ({"vehicle_port": 0}, "vehicle_port"),
    ({"bridge_port": 70000}, "bridge_port"),
    ({"vehicle_port": 14550, "bridge_port": 14550}, "own endpoint"),
    ({"time_origin": "boot"}, "time_origin"),
    ({"param_names": ["FS_GCS_ENABLE"]}, "length"),
    ({"param_names": ["A_NAME_LONGER_THAN_16"], "param_values": [1.0]}, "1..16"),
    ({"injector_system_id": 1}, "differ"),
    ({"param_names": ["FS_GCS_ENABLE", "FS_GCS_ENABLE"], "param_values": [1.0, 0.0]}, "repeat"),
])
def test_bad_config_fails_at_load(params: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_config(MavlinkFaultRelayConfig, params)


def test_a_port_in_use_is_counted_and_retried_without_raising() -> None:
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # no SO_REUSEADDR: the relay cannot bind
    blocker.bind((HOST, 0))
    port = blocker.getsockname()[1]
    cfg = load_config(MavlinkFaultRelayConfig, {"vehicle_port": port, "bridge_port": free_port(),
                                                "retry_period_s": 1.0})
    relay = MavlinkFaultRelay(cfg)
    assert relay.vehicle_sock is None and relay.counters["socket_errors"] == 1
    relay.tick(0.0)  # failed again: back off for retry_period_s
    assert relay.counters["socket_errors"] == 2
    relay.tick(0.5)
    assert relay.counters["socket_errors"] == 2  # no retry before the period
    assert relay.diagnostics()[0].level == 2 and "retrying" in relay.diagnostics()[0].message
    blocker.close()
    relay.tick(1.1)
    assert relay.vehicle_sock is not None and relay.counters["socket_opens"] == 1
    relay.close()


def test_a_port_another_relay_holds_is_refused_not_shared() -> None:
    """Another process (a second twin's relay, a stale one, pymavlink) holds the vehicle port with SO_REUSEADDR: the
    relay must fail to bind and say so, not share the port — before the fix it bound beside it and the newest
    socket silently took every datagram (the other end's link went dead without an error)."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind((HOST, 0))
    port = holder.getsockname()[1]
    relay = MavlinkFaultRelay(load_config(MavlinkFaultRelayConfig, {"vehicle_port": port, "bridge_port": free_port()}))
    try:
        assert relay.vehicle_sock is None and relay.counters["socket_errors"] == 1
        assert relay.counters["socket_opens"] == 0 and relay.diagnostics()[0].level == 2
    finally:
        relay.close()
        holder.close()


def test_a_bridge_on_another_host_is_reachable_from_a_loopback_vehicle_side() -> None:
    """SITL on this machine (vehicle_host 127.0.0.1), the bridge on another host (the companion computer): the relay
    must forward to it. Before the fix its bridge-side socket was bound to vehicle_host, every send failed with
    EINVAL and both sockets were closed and reopened on every datagram — the link never came up."""
    remote = ("198.51.100.7", free_port())  # TEST-NET-2: routed off this machine, nobody answers
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.sendto(b"", remote)
    except OSError:
        pytest.skip("this machine has no route off loopback")
    finally:
        probe.close()
    port = free_port()
    relay = MavlinkFaultRelay(load_config(MavlinkFaultRelayConfig, {
        "vehicle_host": HOST, "vehicle_port": port, "bridge_host": remote[0], "bridge_port": remote[1]}))
    vehicle = udp()
    try:
        vehicle.sendto(b"hb", (HOST, port))
        pump(relay, 0.1, lambda: relay.counters["forwarded_to_bridge"] + relay.counters["socket_errors"] > 0)
        assert relay.counters["forwarded_to_bridge"] == 1 and relay.counters["socket_errors"] == 0
        assert relay.vehicle_sock is not None and relay.counters["socket_opens"] == 1
        # a datagram from this host, sent from the bridge's port number, is not the bridge: discarded
        stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        stranger.bind((HOST, remote[1]))
        stranger.sendto(b"who", (HOST, relay.bridge_side_port))
        pump(relay, 0.2, lambda: relay.counters["foreign_datagrams"] == 1)
        stranger.close()
        assert relay.counters["foreign_datagrams"] == 1 and relay.counters["forwarded_to_vehicle"] == 0
    finally:
        relay.close()
        vehicle.close()


class _BrokenSocket:
    """A socket whose every call fails as a dead interface would."""

    def recvfrom(self, n: int) -> Any:
        raise OSError(100, "Network is down")

    def sendto(self, data: bytes, addr: Any) -> int:
        raise OSError(100, "Network is down")

    def close(self) -> None:
        pass


def test_a_failing_socket_is_closed_counted_and_reopened(link: Any) -> None:
    relay, vehicle, bridge, relay_addr = link
    vehicle.sendto(b"a", relay_addr)
    pump(relay, 0.1, lambda: relay.counters["forwarded_to_bridge"] == 1)
    good = relay.bridge_sock
    relay.bridge_sock = _BrokenSocket()  # type: ignore[assignment]
    good.close()
    relay.tick(0.2)  # the vehicle socket is fine, the bridge side fails: contained
    assert relay.counters["socket_errors"] >= 1 and relay.vehicle_sock is None
    relay.tick(0.3)  # reopened on the next tick
    assert relay.counters["socket_opens"] == 2
    vehicle.sendto(b"b", relay_addr)
    pump(relay, 0.4, lambda: relay.counters["forwarded_to_bridge"] == 2)
    assert relay.counters["forwarded_to_bridge"] == 2


def test_a_bridge_that_is_not_listening_loses_datagrams_but_not_the_relay() -> None:
    port = free_port()
    cfg = load_config(MavlinkFaultRelayConfig, {"vehicle_port": port, "bridge_port": free_port()})
    relay = MavlinkFaultRelay(cfg)
    vehicle = udp()
    for i in range(5):
        vehicle.sendto(b"x", (HOST, port))
        pump(relay, 0.1 * i, lambda i=i: relay.counters["forwarded_to_bridge"] + relay.counters["send_errors"] > i)
    pump(relay, 1.0, tries=5)
    assert relay.counters["socket_errors"] == 0 and relay.vehicle_sock is not None
    relay.close()
    vehicle.close()


def _heartbeat(enc: Any, armed: bool) -> bytes:
    base = mavutil.mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED | (128 if armed else 0)
    return enc.heartbeat_encode(mavutil.mavlink.MAV_TYPE_QUADROTOR, mavutil.mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA,
                                base, 3, mavutil.mavlink.MAV_STATE_ACTIVE).pack(enc)


def test_armed_origin_starts_the_windows_at_the_first_armed_heartbeat() -> None:
    bridge = udp()
    port = free_port()
    cfg = load_config(MavlinkFaultRelayConfig, {"vehicle_port": port, "bridge_port": bridge.getsockname()[1],
                                                "drop_windows_s": [1.0, 2.0], "time_origin": "armed",
                                                "vehicle_system_id": 2})
    relay = MavlinkFaultRelay(cfg)
    vehicle = udp()
    autopilot = mav.MAVLink(None, srcSystem=2, srcComponent=1)
    companion = mav.MAVLink(None, srcSystem=2, srcComponent=191)
    for n, (t, data) in enumerate(((1.5, _heartbeat(autopilot, False)), (1.6, _heartbeat(companion, True))), 1):
        vehicle.sendto(data, (HOST, port))
        pump(relay, t, lambda n=n: relay.counters["forwarded_to_bridge"] >= n)
    assert relay.origin_s is None and relay.counters["dropped_to_bridge"] == 0  # disarmed / not the autopilot
    vehicle.sendto(_heartbeat(autopilot, True), (HOST, port))
    pump(relay, 10.0, lambda: relay.origin_s is not None)
    assert relay.origin_s == 10.0
    vehicle.sendto(b"during", (HOST, port))
    pump(relay, 11.5, lambda: relay.counters["dropped_to_bridge"] == 1)
    vehicle.sendto(b"after", (HOST, port))
    pump(relay, 12.0, lambda: relay.counters["forwarded_to_bridge"] == 4)
    assert relay.counters["dropped_to_bridge"] == 1 and relay.counters["forwarded_to_bridge"] == 4
    relay.close()
    vehicle.close()
    bridge.close()


def test_parameter_overrides_are_sent_until_the_autopilot_echoes_them() -> None:
    bridge = udp()
    port = free_port()
    cfg = load_config(MavlinkFaultRelayConfig, {
        "vehicle_port": port, "bridge_port": bridge.getsockname()[1], "vehicle_system_id": 2,
        "param_names": ["FS_GCS_ENABLE"], "param_values": [1.0], "retry_period_s": 1.0})
    relay = MavlinkFaultRelay(cfg)
    vehicle = udp()
    autopilot = mav.MAVLink(None, srcSystem=2, srcComponent=1)
    relay.tick(0.0)
    assert relay.counters["params_sent"] == 0  # nobody to send to yet
    vehicle.sendto(_heartbeat(autopilot, False), (HOST, port))
    pump(relay, 0.1, lambda: relay.counters["params_sent"] == 1)
    parser = mav.MAVLink(None)
    sets: list[Any] = []
    pump(relay, 0.1, lambda: bool(sets.extend(m for d in recv_all(vehicle) for m in parser.parse_buffer(d) or []))
         or bool(sets), tries=20)
    (msg,) = sets
    assert msg.get_type() == "PARAM_SET" and msg.param_id == "FS_GCS_ENABLE" and msg.param_value == 1.0
    assert (msg.get_srcSystem(), msg.get_srcComponent(), msg.target_system) == (245, 190, 2)
    relay.tick(0.5)
    assert relay.counters["params_sent"] == 1  # not before retry_period_s
    pump(relay, 1.2, lambda: relay.counters["params_sent"] == 2)  # unconfirmed: sent again
    echo = autopilot.param_value_encode(b"FS_GCS_ENABLE", 1.0, mavutil.mavlink.MAV_PARAM_TYPE_INT8, 400, 12)
    vehicle.sendto(echo.pack(autopilot), (HOST, port))
    pump(relay, 1.3, lambda: relay.counters["params_confirmed"] == 1)
    relay.tick(5.0)
    assert relay.counters["params_sent"] == 2 and relay.metrics()["params_pending"] == 0
    relay.close()
    vehicle.close()
    bridge.close()


def test_node_in_the_headless_runtime_reports_its_counters_on_diagnostics() -> None:
    bridge_port = free_port()
    relay_port = free_port()
    cfg = load_config(MavlinkFaultRelayConfig, {"vehicle_port": relay_port, "bridge_port": bridge_port,
                                                "drop_windows_s": [2.0, 4.0], "period_s": 0.01,
                                                "vehicle_system_id": 2})
    graph = Graph()
    node = graph.add_node(MAVLINK_FAULT_RELAY, cfg, strict=True)
    statuses: list[Any] = []
    graph.bus.subscribe("/diagnostics", "diagnostic_msgs/msg/DiagnosticArray", lambda m: statuses.append(m))
    # end to end: pymavlink heartbeats from a "vehicle" (sysid 2) through the relay to a udpin "bridge"
    bridge = mavutil.mavlink_connection(f"udpin:{HOST}:{bridge_port}")
    sitl = mavutil.mavlink_connection(f"udpout:{HOST}:{relay_port}", source_system=2, source_component=1)
    received: list[float] = []
    dropped: list[float] = []
    t = 0.0
    try:
        for k in range(60):  # a heartbeat every 0.1 s of sim time
            sitl.mav.heartbeat_send(mavutil.mavlink.MAV_TYPE_QUADROTOR, mavutil.mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA,
                                    0, 0, mavutil.mavlink.MAV_STATE_STANDBY)
            time.sleep(0.002)
            for _ in range(200):  # 10 ms ticks until the relay has handled it (the loopback may lag a tick)
                t = round(t + 0.01, 6)
                graph.advance_to(t)
                c = node.component.counters
                if c["forwarded_to_bridge"] + c["dropped_to_bridge"] > k:
                    break
                time.sleep(0.001)
            if c["forwarded_to_bridge"] > len(received):  # wait for it at the bridge
                m = bridge.recv_match(type="HEARTBEAT", blocking=True, timeout=2.0)
                assert m is not None and m.get_srcSystem() == 2
                received.append(t)
            else:
                dropped.append(t)
            assert bridge.recv_match(type="HEARTBEAT", blocking=False) is None
            t = round(t + 0.1, 6)
            graph.advance_to(t)
    finally:
        bridge.close()
        sitl.close()
    assert dropped and all(2.0 <= x < 4.0 for x in dropped)  # dropped inside the window only
    assert received and all(not (2.0 <= x < 4.0) for x in received)  # everything else passed
    assert any(x < 2.0 for x in received) and any(x >= 4.0 for x in received)
    c = node.component.counters
    assert c["dropped_to_bridge"] == len(dropped) and c["forwarded_to_bridge"] == len(received) == 60 - len(dropped)
    last = {kv.key: kv.value for st in statuses[-1].status if st.name == "sanqin/gazebo/mavlink_fault_relay"
            for kv in st.values}
    assert float(last["dropped_to_bridge"]) == len(dropped) and float(last["windows_entered"]) == 1
    assert node.host.counters["handler_errors"] == 0
    node.component.close()


def test_the_twin_nodes_counters_are_scored_from_diagnostics() -> None:
    """A node the twin adds (not in the scenario) is scored from its host and component statuses, merged."""
    from sanqin.common.diagnostics import DiagLevel, DiagnosticStatus
    from sanqin.msgs.diagnostics import diagnostics_to_msg
    from sanqin.msgs.factory import default_factory
    from sanqin.runtime.paths import share_dir
    from sanqin.runtime.scenario import load_scenario
    from sanqin.simulation.gazebo.score import node_counters

    factory = default_factory()
    arrays = [diagnostics_to_msg([
        DiagnosticStatus(DiagLevel.OK, "sanqin/mavlink_fault_relay", "ok", "mavlink_fault_relay",
                         {"handler_errors": "0"}),
        DiagnosticStatus(DiagLevel.WARN, "sanqin/gazebo/mavlink_fault_relay", "down", "udp",
                         {"dropped_to_bridge": str(n), "link_down": "1.0"})], float(n), factory) for n in (3, 7)]

    class FakeBag:
        def messages(self, topic: str) -> Any:
            return iter([(float(i), m) for i, m in enumerate(arrays)] if topic == "/diagnostics" else [])

    sc = load_scenario(share_dir() / "sim" / "scenarios" / "uav_link_loss.yaml")
    out = node_counters(FakeBag(), sc)  # type: ignore[arg-type]
    assert out["nodes.mavlink_fault_relay.dropped_to_bridge"] == 7  # the last status
    assert out["nodes.mavlink_fault_relay.handler_errors"] == 0  # host and component values merged


def test_malformed_frames_are_relayed_unchanged_while_watching_for_the_armed_heartbeat() -> None:
    bridge = udp(timeout_s=1.0)
    port = free_port()
    cfg = load_config(MavlinkFaultRelayConfig, {"vehicle_port": port, "bridge_port": bridge.getsockname()[1],
                                                "drop_windows_s": [1.0, 2.0], "time_origin": "armed",
                                                "param_names": ["FS_GCS_ENABLE"], "param_values": [1.0]})
    relay = MavlinkFaultRelay(cfg)
    vehicle = udp()
    junk = [b"\xfd\x09\x00\x00\x00\x02\x01\x00\x00\x00", b"\xfe" * 300, bytes(range(256)), b""]
    for data in junk:
        vehicle.sendto(data, (HOST, port))
    pump(relay, 1.5, lambda: relay.counters["forwarded_to_bridge"] == len(junk))
    assert sorted(bridge.recvfrom(65535)[0] for _ in junk) == sorted(junk)  # not dropped: no origin yet
    assert relay.origin_s is None and relay.counters["socket_errors"] == 0 and relay.counters["params_sent"] == 0
    relay.close()
    vehicle.close()
    bridge.close()


def test_an_override_the_autopilot_never_echoes_is_given_up_and_reported() -> None:
    bridge = udp()
    port = free_port()
    cfg = load_config(MavlinkFaultRelayConfig, {
        "vehicle_port": port, "bridge_port": bridge.getsockname()[1], "param_names": ["NO_SUCH_PARAM"],
        "param_values": [3.0], "retry_period_s": 1.0, "max_param_attempts": 2})
    relay = MavlinkFaultRelay(cfg)
    vehicle = udp()
    vehicle.sendto(_heartbeat(mav.MAVLink(None, srcSystem=1, srcComponent=1), False), (HOST, port))
    pump(relay, 0.1, lambda: relay.counters["params_sent"] == 1)
    for t in (1.2, 2.4, 3.6, 4.8):
        relay.tick(t)
    assert relay.counters["params_sent"] == 2 and relay.counters["params_failed"] == 1
    assert relay.metrics()["params_pending"] == 0
    status = relay.diagnostics()[0]
    assert status.level == 1 and "NO_SUCH_PARAM" in status.message
    relay.close()
    vehicle.close()
    bridge.close()
