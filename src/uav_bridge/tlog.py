"""Telemetry logs (.tlog, as QGroundControl and MAVProxy write them), written durably.

Each record is a big-endian uint64 timestamp in microseconds since the Unix epoch followed by one raw
MAVLink frame. The file is flushed after every record and fsync'd every ``sync_period_s`` and on close, so
a crash or power loss costs at most that period; a partial last record is skipped by readers.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.errors import UavBridgeError


class TlogWriter:
    """Appends frames to a .tlog; ``write(frame, outgoing)`` fits :class:`MavConnection`'s ``on_bytes``."""

    def __init__(self, path: str | Path, *, sync_period_s: float = 1.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._f = open(self.path, "ab")
        except OSError as err:
            raise UavBridgeError(f"cannot open telemetry log {self.path}: {err.strerror or err}") from err
        self.sync_period_s = sync_period_s
        self.clock = clock
        self._last_sync = clock()
        self.records = 0
        self.write_errors = 0
        self.last_error = ""

    def write(self, frame: bytes, outgoing: bool = False) -> None:
        """Append one frame stamped now; flushed at once, fsync'd periodically.

        A failing disk (full, removed) costs log records, counted in ``write_errors``, never the link: this
        runs inside the connection's send and receive paths."""
        if self._f.closed:
            return
        now = self.clock()
        try:
            self._f.write(struct.pack(">Q", int(now * 1e6)) + frame)
            self._f.flush()
            if now - self._last_sync >= self.sync_period_s:
                os.fsync(self._f.fileno())
                self._last_sync = now
        except OSError as err:
            self.write_errors += 1
            self.last_error = err.strerror or str(err)
            return
        self.records += 1

    def close(self) -> None:
        """Flush, fsync and close."""
        if self._f.closed:
            return
        try:
            self._f.flush()
            os.fsync(self._f.fileno())
        except OSError as err:
            self.write_errors += 1
            self.last_error = err.strerror or str(err)
        finally:
            self._f.close()


def read_tlog(path: str | Path) -> Iterator[tuple[float, Any]]:
    """(timestamp s, message) for every parseable record of a .tlog; damage is skipped."""
    data = Path(path).read_bytes()
    mav = mavlink.MAVLink(None)
    mav.robust_parsing = True
    i = 0
    while i + 8 < len(data):
        (t_us,) = struct.unpack(">Q", data[i:i + 8])
        i += 8
        magic = data[i]
        if magic == mavlink.PROTOCOL_MARKER_V2 and i + 3 <= len(data):
            length = data[i + 1] + 12 + (13 if data[i + 2] & mavlink.MAVLINK_IFLAG_SIGNED else 0)
        elif magic == mavlink.PROTOCOL_MARKER_V1 and i + 2 <= len(data):
            length = data[i + 1] + 8
        else:
            i += 1
            continue
        frame = data[i:i + length]
        i += length
        if len(frame) < length:
            break
        try:
            msgs = mav.parse_buffer(frame) or []
        except mavlink.MAVError:
            continue
        for m in msgs:
            if m.get_msgId() >= 0:
                yield t_us / 1e6, m
