"""diagnostic_msgs/DiagnosticArray ↔ :class:`~sanqin.common.diagnostics.DiagnosticStatus` lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sanqin.common.diagnostics import DiagLevel, DiagnosticStatus
from sanqin.msgs.time import make_header, time_to_s


def status_to_msg(status: DiagnosticStatus, factory: Any) -> Any:
    """One status → diagnostic_msgs/DiagnosticStatus (level as its byte value)."""
    values = [
        factory.new("diagnostic_msgs/msg/KeyValue", key=str(k), value=str(v))
        for k, v in status.values.items()
    ]
    return factory.new(
        "diagnostic_msgs/msg/DiagnosticStatus",
        level=int(status.level),
        name=status.name,
        message=status.message,
        hardware_id=status.hardware_id,
        values=values,
    )


def diagnostics_to_msg(
    statuses: Sequence[DiagnosticStatus], stamp_s: float, factory: Any
) -> Any:
    """Statuses → diagnostic_msgs/DiagnosticArray stamped at ``stamp_s``."""
    return factory.new(
        "diagnostic_msgs/msg/DiagnosticArray",
        header=make_header(factory, stamp_s, ""),
        status=[status_to_msg(s, factory) for s in statuses],
    )


def _level(raw: Any) -> DiagLevel:
    value = raw[0] if isinstance(raw, (bytes, bytearray)) else int(raw)
    return DiagLevel(value) if value in DiagLevel._value2member_map_ else DiagLevel.ERROR


def diagnostics_from_msg(msg: Any) -> tuple[float, list[DiagnosticStatus]]:
    """diagnostic_msgs/DiagnosticArray → (stamp seconds, statuses); unknown levels read as ERROR."""
    statuses = [
        DiagnosticStatus(
            level=_level(s.level),
            name=str(s.name),
            message=str(s.message),
            hardware_id=str(s.hardware_id),
            values={str(kv.key): str(kv.value) for kv in s.values},
        )
        for s in msg.status
    ]
    return time_to_s(msg.header.stamp), statuses
