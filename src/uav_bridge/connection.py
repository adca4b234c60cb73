"""MAVLink 2 connections: URLs, byte transports (pymavlink's udp/tcp/serial, or in-process memory), signing.

URLs (pymavlink's spelling, plus MAVSDK's ``scheme://`` form and an in-process channel)::

    udpin:127.0.0.1:14550     listen on a UDP port, answer whoever talks to us (``udp:`` and ``udp://`` alike)
    udpout:127.0.0.1:14550    send to a UDP port (``udpout://`` alike)
    tcp:127.0.0.1:5760        TCP client;   tcpin:127.0.0.1:5760 TCP server
    serial:/dev/ttyUSB0:57600 a serial port (``serial:///dev/ttyACM0:115200`` alike)
    mem:NAME                  an in-process channel to a simulator holding the other end (headless runs)

:class:`MavConnection` parses the byte stream robustly (bad CRC, truncation, garbage and unknown ids are
counted, never raised), signs outgoing frames when a key is set and rejects unsigned traffic when signing
is required.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.errors import ConnectionUrlError, SigningError

SCHEMES = ("udpin", "udpout", "tcp", "tcpin", "serial", "mem")


@dataclass(frozen=True)
class ConnectionUrl:
    """A parsed connection URL: transport scheme and its address."""

    scheme: str
    host: str = ""
    port: int = 0
    device: str = ""
    baud: int = 57600
    name: str = ""

    def pymavlink_device(self) -> str:
        """The device string :func:`pymavlink.mavutil.mavlink_connection` expects."""
        if self.scheme in ("udpin", "udpout", "tcp", "tcpin"):
            return f"{self.scheme}:{self.host}:{self.port}"
        if self.scheme == "serial":
            return self.device
        raise ConnectionUrlError(f"{self.scheme!r} is not a pymavlink transport")

    def __str__(self) -> str:
        if self.scheme == "mem":
            return f"mem:{self.name}"
        if self.scheme == "serial":
            return f"serial:{self.device}:{self.baud}"
        return f"{self.scheme}:{self.host}:{self.port}"


def parse_url(url: str) -> ConnectionUrl:
    """Parse a connection URL (see the module docstring); raise :class:`ConnectionUrlError` if malformed."""
    if not isinstance(url, str) or not url.strip():
        raise ConnectionUrlError(f"empty connection URL {url!r}")
    text = url.strip()
    scheme, sep, rest = text.partition(":")
    if not sep:
        raise ConnectionUrlError(f"connection URL {url!r} has no scheme; use one of {SCHEMES}")
    scheme = scheme.lower()
    if rest.startswith("//"):
        rest = rest[2:]
    if scheme == "udp":
        scheme = "udpin"
    if scheme not in SCHEMES:
        raise ConnectionUrlError(f"unsupported scheme {scheme!r} in {url!r}; use one of {SCHEMES}")
    if scheme == "mem":
        if not rest:
            raise ConnectionUrlError(f"{url!r}: an in-process channel needs a name (mem:NAME)")
        return ConnectionUrl("mem", name=rest)
    if scheme == "serial":
        device, _, baud = rest.rpartition(":")
        if not device:
            device, baud = rest, "57600"
        try:
            baud_i = int(baud)
        except ValueError as err:
            raise ConnectionUrlError(f"{url!r}: baud rate {baud!r} is not a number") from err
        if not device or baud_i <= 0:
            raise ConnectionUrlError(f"{url!r}: expected serial:DEVICE:BAUD")
        return ConnectionUrl("serial", device=device, baud=baud_i)
    host, _, port = rest.rpartition(":")
    if not host:
        raise ConnectionUrlError(f"{url!r}: expected {scheme}:HOST:PORT")
    try:
        port_i = int(port)
    except ValueError as err:
        raise ConnectionUrlError(f"{url!r}: port {port!r} is not a number") from err
    if not 0 <= port_i <= 65535 or (port_i == 0 and scheme not in ("udpin", "tcpin")):
        raise ConnectionUrlError(f"{url!r}: port {port_i} out of range")
    return ConnectionUrl(scheme, host=host, port=port_i)


# --- transports -------------------------------------------------------------------------------------
class Transport(Protocol):
    """Moves raw bytes; ``read`` never blocks and returns ``b''`` when nothing is waiting."""

    def write(self, data: bytes) -> None: ...

    def read(self) -> bytes: ...

    def wait(self, timeout_s: float) -> None: ...

    def close(self) -> None: ...


class PymavlinkTransport:
    """udp / tcp / serial through :func:`pymavlink.mavutil.mavlink_connection` (bytes only; we parse)."""

    def __init__(self, url: ConnectionUrl) -> None:
        from pymavlink import mavutil

        try:
            if url.scheme == "serial":
                self.conn = mavutil.mavlink_connection(url.device, baud=url.baud, autoreconnect=True)
            else:
                self.conn = mavutil.mavlink_connection(url.pymavlink_device(), autoreconnect=url.scheme == "tcp")
        except (OSError, ValueError) as err:
            raise ConnectionUrlError(f"cannot open {url}: {err}") from err
        self.url = url

    @property
    def local_port(self) -> int:
        """The bound local port (useful with ``udpin:127.0.0.1:0``)."""
        port = getattr(self.conn, "port", None)
        if isinstance(port, socket.socket):
            return int(port.getsockname()[1])
        return 0

    def write(self, data: bytes) -> None:
        """Send bytes (dropped silently by UDP when no peer is known yet)."""
        try:
            self.conn.write(data)
        except OSError:  # a serial/TCP hiccup is a lost frame, which the protocols retry
            return

    def read(self) -> bytes:
        """All bytes waiting now (bounded so one poll cannot starve the caller)."""
        chunks: list[bytes] = []
        for _ in range(256):
            try:
                data = self.conn.recv()
            except OSError:
                break
            if not data:
                break
            chunks.append(data if isinstance(data, bytes) else bytes(data, "latin-1"))
        return b"".join(chunks)

    def wait(self, timeout_s: float) -> None:
        """Block until bytes may be readable or ``timeout_s`` passed."""
        fd = getattr(self.conn, "fd", None)
        if fd is None:
            time.sleep(timeout_s)
            return
        try:
            select.select([fd], [], [], max(0.0, timeout_s))
        except (OSError, ValueError):
            time.sleep(timeout_s)

    def close(self) -> None:
        """Close the port."""
        try:
            self.conn.close()
        except OSError:
            return


class _MemoryChannel:
    def __init__(self) -> None:
        self.queues: dict[str, deque[bytes]] = {"gcs": deque(), "vehicle": deque()}
        self.open_sides: set[str] = set()
        self.lock = threading.Lock()
        self.event = {"gcs": threading.Event(), "vehicle": threading.Event()}


_CHANNELS: dict[str, _MemoryChannel] = {}
_CHANNELS_LOCK = threading.Lock()


class MemoryTransport:
    """One side (``gcs`` or ``vehicle``) of a named in-process byte channel; thread-safe, lossless."""

    def __init__(self, name: str, side: str = "gcs") -> None:
        if side not in ("gcs", "vehicle"):
            raise ConnectionUrlError(f"memory channel side must be 'gcs' or 'vehicle', got {side!r}")
        with _CHANNELS_LOCK:
            self.channel = _CHANNELS.setdefault(name, _MemoryChannel())
            if side in self.channel.open_sides or side == "vehicle":
                # a new vehicle (or a reopened side) starts a fresh session: drop what an earlier one left
                with self.channel.lock:
                    for q in self.channel.queues.values():
                        q.clear()
            self.channel.open_sides.add(side)
        self.name = name
        self.side = side
        self.peer = "vehicle" if side == "gcs" else "gcs"
        self.closed = False

    def write(self, data: bytes) -> None:
        """Queue bytes for the other side."""
        if self.closed:
            return
        with self.channel.lock:
            self.channel.queues[self.peer].append(bytes(data))
        self.channel.event[self.peer].set()

    def read(self) -> bytes:
        """Everything the other side wrote since the last read."""
        with self.channel.lock:
            q = self.channel.queues[self.side]
            data = b"".join(q)
            q.clear()
            self.channel.event[self.side].clear()
        return data

    def wait(self, timeout_s: float) -> None:
        """Block until the other side writes or ``timeout_s`` passed."""
        self.channel.event[self.side].wait(max(0.0, timeout_s))

    def close(self) -> None:
        """Leave the channel; it is forgotten when both sides closed."""
        if self.closed:
            return
        self.closed = True
        with _CHANNELS_LOCK:
            self.channel.open_sides.discard(self.side)
            if not self.channel.open_sides and _CHANNELS.get(self.name) is self.channel:
                del _CHANNELS[self.name]


def open_transport(url: str | ConnectionUrl, side: str = "gcs") -> Transport:
    """Open the transport a URL names (``side`` only matters for ``mem:`` channels)."""
    parsed = parse_url(url) if isinstance(url, str) else url
    if parsed.scheme == "mem":
        return MemoryTransport(parsed.name, side)
    return PymavlinkTransport(parsed)


# --- signing ----------------------------------------------------------------------------------------
#: MAVLink 2 signing timestamps count 10 µs units since 2015-01-01 00:00:00 UTC.
SIGNING_EPOCH_S = 1420070400


def load_signing_key(path: str | Path) -> bytes:
    """A 32-byte signing key from a file: 64 hex characters (whitespace ignored) or 32 raw bytes."""
    p = Path(path).expanduser()
    try:
        raw = p.read_bytes()
    except OSError as err:
        raise SigningError(f"cannot read signing key {p}: {err.strerror or err}") from err
    text = raw.strip()
    if len(text) == 64:
        try:
            return bytes.fromhex(text.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            pass
    if len(raw) == 32:
        return raw
    raise SigningError(f"signing key {p}: expected 64 hex characters or 32 raw bytes, got {len(raw)} bytes")


@dataclass(frozen=True)
class SigningConfig:
    """Signing of a link: the secret key, whether unsigned incoming traffic is refused, the link id."""

    key: bytes
    require: bool = True
    link_id: int = 0


# --- a parsed, counted MAVLink stream ----------------------------------------------------------------
class MavConnection:
    """A MAVLink 2 endpoint over a :class:`Transport`: robust parsing, optional signing, counters.

    ``send(msg)`` packs a pymavlink message built with ``self.mav.<name>_encode(...)``; ``poll()``
    returns the good messages received since the last poll. Nothing here raises on bad bytes.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        system_id: int = 255,
        component_id: int = mavlink.MAV_COMP_ID_MISSIONPLANNER,
        signing: SigningConfig | None = None,
        on_bytes: Callable[[bytes, bool], None] | None = None,
    ) -> None:
        self.transport = transport
        self.mav = mavlink.MAVLink(_Writer(self), srcSystem=system_id, srcComponent=component_id)
        self.mav.robust_parsing = True
        self.on_bytes = on_bytes  # (one whole frame, outgoing?) → e.g. a tlog writer
        self.counters: dict[str, int] = {
            "rx_messages": 0,
            "rx_bad_crc_or_data": 0,
            "rx_unknown_id": 0,
            "rx_rejected_signature": 0,
            "tx_messages": 0,
            "parser_resets": 0,
        }
        if signing is not None:
            self.set_signing(signing)

    def set_signing(self, signing: SigningConfig) -> None:
        """Sign outgoing frames with ``signing.key``; refuse unsigned incoming frames when required."""
        if len(signing.key) != 32:
            raise SigningError(f"a signing key has 32 bytes, got {len(signing.key)}")
        s = self.mav.signing
        s.secret_key = signing.key
        s.sign_outgoing = True
        s.link_id = signing.link_id & 0xFF
        s.allow_unsigned_callback = None if signing.require else (lambda _mav, _msgid: True)
        s.timestamp = max(s.timestamp, int((max(time.time(), SIGNING_EPOCH_S) - SIGNING_EPOCH_S) * 100_000))

    def send(self, msg: Any) -> None:
        """Pack and write one message (signed if signing is on)."""
        self.mav.send(msg)
        self.counters["tx_messages"] += 1

    def _write(self, data: bytes) -> None:
        self.transport.write(data)
        if self.on_bytes is not None:
            self.on_bytes(bytes(data), True)

    def feed(self, data: bytes) -> list[Any]:
        """Parse raw bytes into messages; bad frames are counted and skipped."""
        if not data:
            return []
        try:
            parsed = self.mav.parse_buffer(data) or []
        except (mavlink.MAVError, struct.error, ValueError, TypeError, IndexError, UnicodeError):
            # pymavlink gave up mid-frame: drop its buffer so the next frame parses cleanly
            self.mav.buf = bytearray()
            self.mav.buf_index = 0
            self.mav.expected_length = mavlink.HEADER_LEN_V1 + 2
            self.counters["parser_resets"] += 1
            return []
        good = []
        for m in parsed:
            mid = m.get_msgId()
            if mid == mavlink.MAVLINK_MSG_ID_BAD_DATA:
                if "signature" in str(getattr(m, "reason", "")):
                    self.counters["rx_rejected_signature"] += 1
                else:
                    self.counters["rx_bad_crc_or_data"] += 1
            elif mid == mavlink.MAVLINK_MSG_ID_UNKNOWN:
                self.counters["rx_unknown_id"] += 1
            else:
                self.counters["rx_messages"] += 1
                good.append(m)
                if self.on_bytes is not None:
                    self.on_bytes(bytes(m.get_msgbuf()), False)
        return good

    def poll(self) -> list[Any]:
        """Read what the transport holds and return the good messages."""
        return self.feed(self.transport.read())

    def wait(self, timeout_s: float) -> None:
        """Block until data may be waiting (for blocking loops such as the CLI)."""
        self.transport.wait(timeout_s)

    def close(self) -> None:
        """Close the transport."""
        self.transport.close()


class _Writer:
    """The ``file`` pymavlink writes packed frames to."""

    def __init__(self, owner: MavConnection) -> None:
        self.owner = owner

    def write(self, data: bytes) -> None:
        self.owner._write(data)
