"""builtin Time ↔ seconds and DiagnosticArray ↔ statuses round-trip through CDR."""

from __future__ import annotations

import math

import pytest

from sanqin.common.diagnostics import DiagLevel, DiagnosticStatus
from sanqin.msgs.diagnostics import diagnostics_from_msg, diagnostics_to_msg
from sanqin.msgs.errors import MessageError
from sanqin.msgs.time import header_stamp_frame, make_header, s_to_sec_nanosec, s_to_time, time_to_s


@pytest.mark.parametrize(
    ("t_s", "expected"),
    [
        (0.0, (0, 0)),
        (1.5, (1, 500_000_000)),
        (1700000000.000000001, (1700000000, 0)),  # below float64 resolution at this magnitude
        (12.999999999, (12, 999_999_999)),
        (-0.25, (-1, 750_000_000)),
    ],
)
def test_seconds_to_sec_nanosec(t_s, expected):
    assert s_to_sec_nanosec(t_s) == expected


def test_time_roundtrip(factory, cdr):
    for t_s in (0.0, 3.25, 123456.000001, 2**31 - 1.5):
        assert time_to_s(cdr(s_to_time(t_s, factory))) == pytest.approx(t_s, abs=1e-9 * max(1.0, t_s))


def test_header(factory, cdr):
    assert header_stamp_frame(cdr(make_header(factory, 42.125, "base_link"))) == (42.125, "base_link")


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 2.0**31, -(2.0**31) - 1])
def test_bad_times(bad):
    with pytest.raises(MessageError, match="time"):
        s_to_sec_nanosec(bad)


def test_diagnostics_roundtrip(factory, cdr):
    statuses = [
        DiagnosticStatus(level=DiagLevel.OK, name="lidar_preproc", message="ok", hardware_id="vlp16",
                         values={"rate_hz": "10.0", "points": "28000"}),
        DiagnosticStatus(level=DiagLevel.ERROR, name="planner", message="infeasible"),
    ]  # fmt: skip
    stamp, back = diagnostics_from_msg(cdr(diagnostics_to_msg(statuses, 5.5, factory)))
    assert stamp == 5.5
    assert [(b.level, b.name, b.message, b.hardware_id, b.values) for b in back] == [
        (s.level, s.name, s.message, s.hardware_id, s.values) for s in statuses
    ]


def test_diagnostics_unknown_level_reads_as_error(factory):
    msg = diagnostics_to_msg([DiagnosticStatus(level=DiagLevel.OK, name="x")], 0.0, factory)
    msg.status[0].level = 9
    assert diagnostics_from_msg(msg)[1][0].level == DiagLevel.ERROR
