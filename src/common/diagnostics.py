"""Diagnostic status as a core type (mirrors diagnostic_msgs/DiagnosticStatus without ROS)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class DiagLevel(enum.IntEnum):
    """Levels of diagnostic_msgs/DiagnosticStatus."""

    OK = 0
    WARN = 1
    ERROR = 2
    STALE = 3


@dataclass(frozen=True)
class DiagnosticStatus:
    """One component's health: level, name, human message, hardware id and key/value details."""

    level: DiagLevel
    name: str
    message: str = ""
    hardware_id: str = ""
    values: dict[str, str] = field(default_factory=dict)
