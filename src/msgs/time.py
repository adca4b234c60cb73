"""builtin_interfaces/Time and std_msgs/Header ↔ float seconds and frame ids."""

from __future__ import annotations

import math
from typing import Any

from sanqin.msgs.errors import MessageError


def time_to_s(stamp: Any) -> float:
    """builtin_interfaces/Time (``sec``, ``nanosec``) → seconds as float."""
    return float(stamp.sec) + float(stamp.nanosec) * 1e-9


def s_to_sec_nanosec(t_s: float) -> tuple[int, int]:
    """Seconds → (sec, nanosec) with 0 <= nanosec < 1e9 (negative times round toward -inf)."""
    if not math.isfinite(t_s):
        raise MessageError(f"time must be finite, got {t_s!r}")
    total_ns = round(t_s * 1e9)
    sec, nsec = divmod(total_ns, 1_000_000_000)
    if not -(2**31) <= sec < 2**31:
        raise MessageError(f"time {t_s!r} s does not fit builtin_interfaces/Time")
    return int(sec), int(nsec)


def s_to_time(t_s: float, factory: Any) -> Any:
    """Seconds → builtin_interfaces/Time built by ``factory``."""
    sec, nsec = s_to_sec_nanosec(t_s)
    return factory.new("builtin_interfaces/msg/Time", sec=sec, nanosec=nsec)


def make_header(factory: Any, stamp_s: float, frame_id: str) -> Any:
    """std_msgs/Header with a stamp in seconds and a frame id."""
    return factory.new("std_msgs/msg/Header", stamp=s_to_time(stamp_s, factory), frame_id=frame_id)


def header_stamp_frame(header: Any) -> tuple[float, str]:
    """std_msgs/Header → (stamp seconds, frame id)."""
    return time_to_s(header.stamp), str(header.frame_id)
