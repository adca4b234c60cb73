"""Persistent, append-only inspection log: one JSON object per line, flushed and synced per record.

A record written is on disk before :meth:`InspectionLog.append` returns (``flush`` + ``os.fsync``), so a
power cut loses at most the record being written. The file is opened in append mode only; existing
records are never rewritten. :func:`read_log` skips a torn last line (written during a crash) and reports
how many lines it skipped instead of failing the whole log.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from sanqin.perception.errors import InspectionLogError

__all__ = ["InspectionLog", "InspectionLogError", "read_log"]


def _clean(value: Any) -> Any:
    """JSON-safe values: NaN/inf become None, numpy scalars and arrays become Python numbers and lists."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


class InspectionLog:
    """Appends records to a JSON-lines file; the folder is created if needed."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.records_written = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a", encoding="utf-8")
        except OSError as err:
            raise InspectionLogError(f"cannot open inspection log {self.path}: {err.strerror or err}") from err

    def append(self, record: dict[str, Any]) -> None:
        """Write one record and make it durable before returning."""
        line = json.dumps(_clean(record), sort_keys=True, allow_nan=False)
        try:
            self._fh.write(line + "\n")
            self._fh.flush()
            os.fsync(self._fh.fileno())
        except (OSError, ValueError) as err:
            raise InspectionLogError(f"cannot write inspection log {self.path}: {err}") from err
        self.records_written += 1

    def close(self) -> None:
        """Close the file (records already written stay)."""
        if not self._fh.closed:
            self._fh.close()


def read_log(path: str | Path) -> tuple[list[dict[str, Any]], int]:
    """(records, number of unreadable lines) of an inspection log."""
    records: list[dict[str, Any]] = []
    bad = 0
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise InspectionLogError(f"cannot read inspection log {path}: {err.strerror or err}") from err
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            bad += 1
            continue
        if isinstance(rec, dict):
            records.append(rec)
        else:
            bad += 1
    return records, bad
