"""Connection URLs, signing, robust parsing of hostile byte streams, heartbeats and system-id filtering."""

from __future__ import annotations

import random
import socket

import pytest

from sanqin.simulation.multicopter import MulticopterConfig
from sanqin.simulation.multicopter.harness import SimulatedLink
from sanqin.uav_bridge.bridge import Bridge, BridgeOptions
from sanqin.uav_bridge.connection import (
    MavConnection,
    MemoryTransport,
    SigningConfig,
    load_signing_key,
    open_transport,
    parse_url,
)
from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.errors import ConnectionUrlError, SigningError


@pytest.mark.parametrize(
    ("url", "scheme", "host", "port"),
    [
        ("udpin:127.0.0.1:14550", "udpin", "127.0.0.1", 14550),
        ("udp://127.0.0.1:14540", "udpin", "127.0.0.1", 14540),
        ("udpout:127.0.0.1:14550", "udpout", "127.0.0.1", 14550),
        ("tcp:127.0.0.1:5760", "tcp", "127.0.0.1", 5760),
        ("tcpin:127.0.0.1:5760", "tcpin", "127.0.0.1", 5760),
    ],
)
def test_network_urls_parse(url: str, scheme: str, host: str, port: int) -> None:
    u = parse_url(url)
    assert (u.scheme, u.host, u.port) == (scheme, host, port)


def test_serial_and_memory_urls_parse() -> None:
    assert parse_url("serial:/dev/ttyUSB0:921600").device == "/dev/ttyUSB0"
    assert parse_url("serial:///dev/ttyACM0:115200").baud == 115200
    assert parse_url("mem:uav7").name == "uav7"


@pytest.mark.parametrize("bad", ["", "127.0.0.1:14550", "bogus:1.2.3.4:5", "udpout:127.0.0.1:notaport",
                                 "udpout:127.0.0.1:70000", "tcp::5760", "mem:", "serial:/dev/ttyUSB0:fast"])
def test_malformed_urls_raise_a_typed_error(bad: str) -> None:
    with pytest.raises(ConnectionUrlError):
        parse_url(bad)


def test_signing_key_file_formats(tmp_path) -> None:
    key = bytes(range(32))
    (tmp_path / "hex.key").write_text(key.hex() + "\n")
    (tmp_path / "raw.key").write_bytes(key)
    (tmp_path / "short.key").write_text("abcd")
    assert load_signing_key(tmp_path / "hex.key") == key
    assert load_signing_key(tmp_path / "raw.key") == key
    with pytest.raises(SigningError, match="64 hex"):
        load_signing_key(tmp_path / "short.key")
    with pytest.raises(SigningError, match="cannot read"):
        load_signing_key(tmp_path / "missing.key")


def _pair(name: str, sign_a: SigningConfig | None = None, sign_b: SigningConfig | None = None):
    a = MavConnection(MemoryTransport(name, "gcs"), system_id=255, signing=sign_a)
    b = MavConnection(MemoryTransport(name, "vehicle"), system_id=1, component_id=1, signing=sign_b)
    return a, b


def test_signed_link_accepts_signed_and_rejects_unsigned_and_wrong_key() -> None:
    key = bytes(range(32))
    gcs, veh = _pair("sign1", SigningConfig(key), SigningConfig(key, require=True))
    gcs.send(gcs.mav.heartbeat_encode(6, 8, 0, 0, 4))
    got = veh.poll()
    assert [m.get_type() for m in got] == ["HEARTBEAT"] and got[0]._signed
    plain, _ = _pair("sign2")
    plain.transport = gcs.transport  # same channel, no key
    plain.send(plain.mav.heartbeat_encode(6, 8, 0, 0, 4))
    wrong = MavConnection(gcs.transport, system_id=254, signing=SigningConfig(bytes(32)))
    wrong.send(wrong.mav.heartbeat_encode(6, 8, 0, 0, 4))
    assert veh.poll() == []
    assert veh.counters["rx_rejected_signature"] == 2


def test_optional_signing_accepts_unsigned_traffic() -> None:
    gcs, veh = _pair("sign3", None, SigningConfig(bytes(range(32)), require=False))
    gcs.send(gcs.mav.heartbeat_encode(6, 8, 0, 0, 4))
    assert len(veh.poll()) == 1


def _frames(n: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    mav = mavlink.MAVLink(None, srcSystem=1, srcComponent=1)
    out = []
    for i in range(n):
        msg = rng.choice([
            mav.heartbeat_encode(2, 3, 0, 0, 4),
            mav.global_position_int_encode(i, 520000000, 51000000, 10000, 5000, 1, 2, 3, 900),
            mav.command_ack_encode(400, 0),
            mav.statustext_encode(4, b"PreArm: test"),
        ])
        out.append(bytes(msg.pack(mav)))
    return out


def test_fuzzed_streams_never_raise_and_good_frames_survive() -> None:
    rng = random.Random(3)
    gcs, veh = _pair("fuzz")
    good = _frames(200, 1)
    stream = bytearray()
    expected_intact = 0
    for f in good:
        kind = rng.random()
        if kind < 0.15:
            stream += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))  # garbage
            stream += f
            expected_intact += 1
        elif kind < 0.25:
            bad = bytearray(f)
            bad[-1] ^= 0xFF  # bad CRC
            stream += bad
        elif kind < 0.3:
            stream += f[: rng.randrange(1, len(f))]  # truncated
        elif kind < 0.35:
            unk = bytearray(f)
            unk[7:10] = (60000).to_bytes(3, "little")  # unknown message id
            stream += unk
        else:
            stream += f
            expected_intact += 1
    got = []
    for i in range(0, len(stream), 37):  # arbitrary chunking
        got += veh.feed(bytes(stream[i:i + 37]))
    c = veh.counters
    assert c["rx_bad_crc_or_data"] + c["rx_unknown_id"] > 0
    # truncation can swallow the next frame's start, so a few intact frames may be lost, never invented
    assert 0.8 * expected_intact <= len(got) <= len(good)
    for _ in range(50):
        veh.feed(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300))))
    assert veh.feed(good[0]) or veh.feed(good[1]) or True  # parser still alive
    # and it resynchronises: a bogus header can swallow at most one maximum-length frame of what follows
    alive = [len(veh.feed(f)) for f in good]
    assert alive[-100:] == [1] * 100, alive


def test_pure_random_bytes_do_not_crash_the_bridge() -> None:
    rng = random.Random(11)
    t = MemoryTransport("fuzz-bridge", "vehicle")
    bridge = Bridge.open("mem:fuzz-bridge", BridgeOptions())
    for k in range(200):
        t.write(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 512))))
        bridge.step(k * 0.01)
    assert bridge.conn.counters["rx_messages"] >= 0
    assert bridge.conn.counters["rx_bad_crc_or_data"] + bridge.conn.counters["parser_resets"] > 0
    # the link still works: the vehicle's heartbeats after the noise are heard
    mav = mavlink.MAVLink(None, srcSystem=1, srcComponent=1)
    for k in range(200, 230):
        t.write(bytes(mav.heartbeat_encode(2, 3, 0, 0, 4).pack(mav)))
        bridge.step(k * 0.01)
    assert bridge.vehicle(1).connected
    bridge.close()
    t.close()


def test_heartbeat_link_loss_and_reconnect_with_stream_requests() -> None:
    cfg = MulticopterConfig(link_down_start_s=5.0, link_down_end_s=12.0)
    with SimulatedLink(cfg) as link:
        v = link.connect()
        link.advance(4.0)
        assert v.connected and v.telemetry.counts.get("ATTITUDE_QUATERNION", 0) > 40  # 20 Hz requested
        link.advance(5.0)
        assert not v.connected and ("link_lost" in [e for _, e in v.events])
        link.advance(4.0)
        assert v.connected and [e for _, e in v.events].count("connected") == 2
        assert link.bridge.counters["heartbeats_sent"] > 5


def test_unexpected_system_ids_are_ignored() -> None:
    with SimulatedLink(MulticopterConfig(system_id=7), BridgeOptions(vehicles=(1,))) as link:
        link.advance(2.0)
        assert not link.bridge.vehicles[1].connected
        assert 7 not in link.bridge.vehicles
        assert link.bridge.counters["ignored_foreign_sysid"] > 0


def test_udp_loopback_transport_round_trip() -> None:
    server = open_transport("udpin:127.0.0.1:0")
    port = server.local_port
    client = open_transport(f"udpout:127.0.0.1:{port}")
    try:
        a = MavConnection(client, system_id=255)
        b = MavConnection(server, system_id=1)
        a.send(a.mav.heartbeat_encode(6, 8, 0, 0, 4))
        got = []
        for _ in range(100):
            got += b.poll()
            if got:
                break
            b.wait(0.01)
        assert got and got[0].get_type() == "HEARTBEAT"
        b.send(b.mav.heartbeat_encode(2, 3, 0, 0, 4))  # udpin answers the last sender
        back = []
        for _ in range(100):
            back += a.poll()
            if back:
                break
            a.wait(0.01)
        assert back and back[0].get_srcSystem() == 1
    finally:
        client.close()
        server.close()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", port))  # the port was released
