"""Session files are append-only and checksummed; a crash or damage never loses an earlier record."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sanqin.rehab_robot.errors import SessionLogError
from sanqin.rehab_robot.session_log import (
    SessionRecorder,
    SessionWriter,
    encode_record,
    last_assist_gain,
    patient_sessions,
    read_session,
    session_files,
    session_path,
)

HERE = Path(__file__).resolve().parent


def _write(path, n=10):
    with SessionWriter(path, {"patient_id": "P1"}) as w:
        for k in range(n):
            w.append({"type": "sample", "k": k, "x": [0.1 * k, float("nan")]})
    return path


def test_round_trip_header_sequence_and_nan_as_null(tmp_path) -> None:
    got = read_session(_write(tmp_path / "s.jsonl"))
    assert got.problems == [] and got.header["patient_id"] == "P1"
    samples = got.of_type("sample")
    assert [r["k"] for r in samples] == list(range(10)) and samples[3]["x"] == [pytest.approx(0.3), None]
    assert [r["seq"] for r in got.records] == list(range(11))
    assert "no problems" in got.report()


def test_never_overwrites_and_closed_writer_refuses(tmp_path) -> None:
    p = _write(tmp_path / "s.jsonl")
    with pytest.raises(SessionLogError, match="never overwritten"):
        SessionWriter(p, {})
    w = SessionWriter(tmp_path / "t.jsonl", {})
    w.close()
    with pytest.raises(SessionLogError, match="closed"):
        w.append({"type": "x"})


def test_truncated_tail_is_reported_and_earlier_records_kept(tmp_path) -> None:
    p = _write(tmp_path / "s.jsonl")
    data = p.read_bytes()
    p.write_bytes(data[:-7])  # cut into the last record
    got = read_session(p)
    assert got.truncated_tail and len(got.of_type("sample")) == 9
    assert "truncated final record" in got.report()


def test_corrupt_record_in_the_middle_is_skipped_and_later_ones_kept(tmp_path) -> None:
    p = _write(tmp_path / "s.jsonl")
    lines = p.read_bytes().split(b"\n")
    lines[4] = lines[4].replace(b'"k":3', b'"k":9')  # bit rot: checksum no longer matches
    lines[6] = b"\x00\xff garbage"
    p.write_bytes(b"\n".join(lines))
    got = read_session(p)
    assert [r["k"] for r in got.of_type("sample")] == [0, 1, 2, 4, 6, 7, 8, 9]
    assert got.corrupt_records == 2
    text = got.report()
    assert "line 5" in text and "checksum mismatch" in text and "malformed" in text
    assert "sequence jumps" in text


def test_damaged_header_unreadable_file_and_unserialisable_record(tmp_path) -> None:
    p = _write(tmp_path / "s.jsonl")
    data = p.read_bytes()
    p.write_bytes(b"deadbeef {}\n" + data[data.index(b"\n") + 1:])
    got = read_session(p)
    assert got.header is None and "header record missing" in got.report() and len(got.records) == 10
    with pytest.raises(SessionLogError, match="cannot read"):
        read_session(tmp_path / "none.jsonl")
    with SessionWriter(tmp_path / "u.jsonl", {}) as w, pytest.raises(SessionLogError, match="serialisable"):
        w.append({"type": "x", "obj": object()})
    assert encode_record({"a": 1}).endswith(b'{"a":1}\n')


def test_recorder_keeps_a_write_error_instead_of_raising(tmp_path, monkeypatch) -> None:
    w = SessionWriter(tmp_path / "s.jsonl", {})
    rec = SessionRecorder(w)
    rec({"type": "trial", "index": 0})

    def full_disk(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", full_disk)  # the disk fills up under the writer
    rec({"type": "trial", "index": 1})
    rec({"type": "sample"})
    monkeypatch.undo()
    assert rec.error is not None and "No space left" in str(rec.error)
    assert rec.dropped == 2 and rec.written == 1
    rec.close()
    assert [r["index"] for r in read_session(tmp_path / "s.jsonl").of_type("trial")] == [0]


def test_patient_sessions_and_assistance_carry_over(tmp_path) -> None:
    for i, gain in enumerate((0.9, 0.6)):
        with SessionWriter(session_path(tmp_path, "P/1", f"s{i:03d}"), {}) as w:
            w.append({"type": "trial", "gain_after": gain})
    assert [len(s.records) for s in patient_sessions(tmp_path, "P/1")] == [2, 2]
    assert last_assist_gain(tmp_path, "P/1") == 0.6 and last_assist_gain(tmp_path, "nobody") is None
    with SessionWriter(session_path(tmp_path, "P/1", "s1000"), {}) as w:  # past 999: still the newest
        w.append({"type": "trial", "gain_after": 0.3})
    assert last_assist_gain(tmp_path, "P/1") == 0.3
    with SessionWriter(session_path(tmp_path, "P/1", "s999"), {}) as w:
        w.append({"type": "trial", "gain_after": 0.8})
    assert [p.stem for p in session_files(tmp_path, "P/1")] == ["s000", "s001", "s999", "s1000"]
    assert last_assist_gain(tmp_path, "P/1") == 0.3
    session_path(tmp_path, "P/1", "s1001").write_bytes(b"")  # a newest session without a trial: the one before
    assert last_assist_gain(tmp_path, "P/1") == 0.3


def test_killing_the_process_mid_session_loses_no_acknowledged_record(tmp_path) -> None:
    path = tmp_path / "killed.jsonl"
    env = {**os.environ, "PYTHONPATH": str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    child = subprocess.Popen([sys.executable, str(HERE / "session_kill_child.py"), str(path)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    acked: list[int] = []
    deadline = time.monotonic() + 60
    try:
        assert child.stdout is not None
        while len(acked) < 400 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            acked.append(int(line))
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        acked += [int(x) for x in child.stdout.read().split()]  # acknowledged before the kill landed
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    assert len(acked) >= 400, child.stderr.read().decode() if child.stderr else ""
    got = read_session(path)
    seqs = {r["seq"] for r in got.records}
    assert set(acked) <= seqs  # every record acknowledged before the kill is recovered
    assert got.header is not None and got.corrupt_records == 0
    assert any(r["type"] == "trial" for r in got.records)


def test_fsync_runs_off_the_appending_thread_and_everything_is_synced_on_close(tmp_path) -> None:
    w = SessionWriter(tmp_path / "s.jsonl", {}, fsync_every=5, fsync_interval_s=0.05)
    for k in range(50):
        w.append({"type": "sample", "k": k})
    w.append({"type": "trial"}, durable=True)
    deadline = time.monotonic() + 5.0
    while w.unsynced and time.monotonic() < deadline:
        time.sleep(0.01)
    assert w.unsynced == 0 and w.syncs >= 1
    w.close()
    assert len(read_session(tmp_path / "s.jsonl").records) == 52
    inline = SessionWriter(tmp_path / "i.jsonl", {}, background_sync=False, fsync_every=1)
    inline.append({"type": "x"})
    assert inline.unsynced == 0
    inline.close()


def test_a_refused_header_leaks_no_descriptor_or_sync_thread(tmp_path) -> None:
    import threading

    fds = len(os.listdir("/proc/self/fd"))
    with pytest.raises(SessionLogError, match="serialisable"):
        SessionWriter(tmp_path / "h.jsonl", {"profile": object()})
    assert len(os.listdir("/proc/self/fd")) == fds
    assert not any(t.name == "fsync h.jsonl" for t in threading.enumerate())
