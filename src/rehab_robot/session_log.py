"""Durable session recording: an append-only, checksummed JSON-lines file that survives a crash.

Each record is one line ``<crc32 as 8 hex digits> <compact JSON>\\n``; the first record is a header
(format, patient, plan, start time). Every append is one ``write(2)`` on an unbuffered descriptor opened
with ``O_APPEND``, so once :meth:`SessionWriter.append` returns the record is in the kernel and survives the
process being killed. ``fsync`` (which takes milliseconds on ordinary disks — far too long for a 1 kHz
control cycle) runs on a background thread: every ``fsync_every`` records, after ``fsync_interval_s``, and
as soon as possible after a record marked ``durable`` (safety events, trial results), bounding what a power
loss can take to the records of the last sync interval. ``background_sync=False`` fsyncs inline instead.

:func:`read_session` reloads a file: a line whose checksum or JSON is bad is skipped and reported (the
records after it are kept: newline framing resynchronises), a final line without its newline is reported
as a truncated tail, and sequence-number gaps are reported. Nothing before a damaged record is ever lost.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sanqin.rehab_robot.errors import SessionLogError

FORMAT = "sanqin-rehab-session/1"


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN/inf → None, numpy scalars/arrays → Python values, tuples → lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "tolist"):
        return _clean(value.tolist())
    return value


def encode_record(record: dict[str, Any]) -> bytes:
    """One framed line for ``record``."""
    try:  # fast path: plain Python data without NaN (the common sample record)
        text = json.dumps(record, separators=(",", ":"), allow_nan=False)
    except (ValueError, TypeError):
        text = json.dumps(_clean(record), separators=(",", ":"), allow_nan=False)
    payload = text.encode("utf-8")
    return b"%08x %s\n" % (zlib.crc32(payload), payload)


class SessionWriter:
    """Append-only writer of one session file (see the module docstring)."""

    def __init__(self, path: str | Path, header: dict[str, Any], *, fsync_every: int = 20,
                 fsync_interval_s: float = 0.25, background_sync: bool = True) -> None:
        self.path = Path(path)
        self.fsync_every = max(1, int(fsync_every))
        self.fsync_interval_s = fsync_interval_s
        self.seq = 0
        self._written = 0  # records written (only the appending thread changes it)
        self._synced = 0  # records known to be on disk (only the syncing thread changes it)
        self._last_sync = time.monotonic()
        self.sync_error: SessionLogError | None = None
        self.syncs = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        except FileExistsError as err:
            raise SessionLogError(f"{self.path}: session file exists; sessions are never overwritten") from err
        except OSError as err:
            raise SessionLogError(f"{self.path}: cannot create session file: {err.strerror or err}") from err
        self._sync_dir()
        if background_sync:
            self._thread = threading.Thread(target=self._sync_loop, name=f"fsync {self.path.name}", daemon=True)
            self._thread.start()
        try:
            self.append({"type": "header", "format": FORMAT, "wall_time": time.time(), **header}, durable=True)
        except SessionLogError:
            self.close()  # no leaked descriptor or sync thread behind a refused session
            raise

    def append(self, record: dict[str, Any], durable: bool = False) -> int:
        """Append one record (a ``seq`` number is added); return its sequence number."""
        if self._fd is None:
            raise SessionLogError(f"{self.path}: session file is closed")
        rec = {"seq": self.seq, **record}
        try:
            line = encode_record(rec)
        except (TypeError, ValueError) as err:
            raise SessionLogError(f"record {record.get('type')!r} is not serialisable: {err}") from err
        try:
            written = os.write(self._fd, line)
            while written < len(line):  # regular files write fully; be safe anyway
                written += os.write(self._fd, line[written:])
        except OSError as err:
            raise SessionLogError(f"{self.path}: write failed: {err.strerror or err}") from err
        self.seq += 1
        self._written += 1
        if self.sync_error is not None:
            raise self.sync_error
        unsynced = self._written - self._synced
        if durable or unsynced >= self.fsync_every or time.monotonic() - self._last_sync >= self.fsync_interval_s:
            if self._thread is not None:
                self._wake.set()
            else:
                self.sync()
        return rec["seq"]

    def sync(self) -> None:
        """fsync the file now (from the calling thread; the descriptor is never closed while the thread runs)."""
        fd, target = self._fd, self._written
        if fd is None or target == self._synced:
            return
        try:
            os.fsync(fd)
        except OSError as err:
            raise SessionLogError(f"{self.path}: fsync failed: {err.strerror or err}") from err
        self._synced = max(self._synced, target)
        self._last_sync = time.monotonic()
        self.syncs += 1

    @property
    def unsynced(self) -> int:
        """Records written but not yet known to be on disk."""
        return self._written - self._synced

    def _sync_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.fsync_interval_s)
            self._wake.clear()
            try:
                self.sync()
            except SessionLogError as err:
                self.sync_error = err  # reported by the next append
                return

    def close(self) -> None:
        """Stop the sync thread, fsync and close (idempotent)."""
        if self._thread is not None:
            self._stop.set()
            self._wake.set()
            self._thread.join()
            self._thread = None
        if self._fd is not None:
            try:
                self.sync()
            finally:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _sync_dir(self) -> None:
        try:
            dfd = os.open(self.path.parent, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(dfd)
        except OSError:
            pass  # some filesystems cannot fsync directories; the file itself is still synced
        finally:
            os.close(dfd)


@dataclass
class SessionRead:
    """What :func:`read_session` recovered: the valid records and a report of every problem found."""

    path: Path
    records: list[dict[str, Any]]
    problems: list[str] = field(default_factory=list)
    corrupt_records: int = 0
    truncated_tail: bool = False

    @property
    def header(self) -> dict[str, Any] | None:
        """The header record, if it survived."""
        return self.records[0] if self.records and self.records[0].get("type") == "header" else None

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        """Records of one ``type``."""
        return [r for r in self.records if r.get("type") == kind]

    def report(self) -> str:
        """One readable paragraph: how many records were recovered and what was skipped."""
        head = f"{self.path}: recovered {len(self.records)} record(s)"
        if not self.problems:
            return head + ", no problems"
        return head + f"; {len(self.problems)} problem(s): " + "; ".join(self.problems)


def read_session(path: str | Path) -> SessionRead:
    """Reload a session file, skipping (and reporting) corrupt records and a truncated tail."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise SessionLogError(f"{path}: cannot read session file: {err.strerror or err}") from err
    out = SessionRead(path, [])
    offset = 0
    expected_seq = 0
    lines = data.split(b"\n")
    for i, raw in enumerate(lines):
        is_last = i == len(lines) - 1
        start = offset
        offset += len(raw) + 1
        if is_last:
            if raw:
                out.truncated_tail = True
                out.problems.append(f"truncated final record at byte {start} ({len(raw)} bytes without a line end) "
                                    "skipped")
            break
        rec = _decode(raw)
        if isinstance(rec, str):
            out.corrupt_records += 1
            out.problems.append(f"line {i + 1} (byte {start}): {rec}; skipped")
            continue
        seq = rec.get("seq")
        if isinstance(seq, int):
            if seq != expected_seq:
                out.problems.append(f"line {i + 1}: sequence jumps from {expected_seq} to {seq} "
                                    f"({seq - expected_seq:+d} record(s) missing or reordered)")
            expected_seq = seq + 1
        out.records.append(rec)
    if not out.records or out.records[0].get("type") != "header":
        out.problems.append("header record missing or damaged")
    elif out.records[0].get("format") != FORMAT:
        out.problems.append(f"unknown format {out.records[0].get('format')!r} (expected {FORMAT!r})")
    return out


def _decode(raw: bytes) -> dict[str, Any] | str:
    """A record, or the reason the line is not one."""
    if len(raw) < 10 or raw[8:9] != b" ":
        return "malformed frame"
    try:
        crc = int(raw[:8], 16)
    except ValueError:
        return "malformed checksum"
    payload = raw[9:]
    if zlib.crc32(payload) != crc:
        return "checksum mismatch"
    try:
        rec = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "checksum matches but JSON is invalid"
    if not isinstance(rec, dict):
        return "record is not an object"
    return rec


#: Record types fsync'ed at once: losing one of these would lose a therapy outcome or a safety cause.
DURABLE_TYPES = frozenset({"header", "session_start", "session_end", "trial", "safety", "mode", "command"})


class SessionRecorder:
    """Routes therapy and safety records into a :class:`SessionWriter`; a write failure is kept, never raised.

    A failing disk must not stop the control loop: the first error is stored in :attr:`error` (the node
    reports it in its diagnostics and refuses to start new sessions) and later records are counted as dropped.
    """

    def __init__(self, writer: SessionWriter) -> None:
        self.writer = writer
        self.error: SessionLogError | None = None
        self.dropped = 0
        self.written = 0

    def __call__(self, record: dict[str, Any]) -> None:
        """Record one therapy or safety record."""
        if self.error is not None:
            self.dropped += 1
            return
        try:
            self.writer.append(record, durable=record.get("type") in DURABLE_TYPES)
            self.written += 1
        except SessionLogError as err:
            self.error = err
            self.dropped += 1

    def close(self) -> None:
        """Close the file, keeping an error instead of raising."""
        try:
            self.writer.close()
        except (SessionLogError, OSError) as err:
            self.error = self.error or SessionLogError(str(err))


def session_path(root: str | Path, patient_id: str, session_id: str) -> Path:
    """Where a session file lives: ``<root>/<patient_id>/<session_id>.jsonl`` (ids made filesystem-safe)."""
    def safe(s: str) -> str:
        return "".join(c if c.isalnum() or c in "-_." else "_" for c in s).strip(".") or "_"
    return Path(root) / safe(patient_id) / f"{safe(session_id)}.jsonl"


def session_files(root: str | Path, patient_id: str) -> list[Path]:
    """A patient's session files, oldest first (by file name, numbers as numbers); empty if there are none."""
    folder = session_path(root, patient_id, "x").parent
    return sorted(folder.glob("*.jsonl"), key=_natural_key)


def patient_sessions(root: str | Path, patient_id: str) -> list[SessionRead]:
    """Every session of a patient, oldest first (see :func:`session_files`), each reloaded with its problems."""
    return [read_session(p) for p in session_files(root, patient_id)]


def _natural_key(path: Path) -> list[str | int]:
    """Sort key that orders numbered names by number (``session_999`` before ``session_1000``)."""
    return [int(tok) if tok.isdigit() else tok for tok in re.split(r"(\d+)", path.name)]


def last_assist_gain(root: str | Path, patient_id: str) -> float | None:
    """The assistance gain at the end of the patient's most recent session with a completed trial."""
    for path in reversed(session_files(root, patient_id)):  # newest first: older files are not read
        trials = read_session(path).of_type("trial")
        if trials and isinstance(trials[-1].get("gain_after"), (int, float)):
            return float(trials[-1]["gain_after"])
    return None
