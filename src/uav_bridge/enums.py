"""The MAVLink 2 dialect Sanqin speaks (ardupilotmega ⊃ common) and readable names for its enums."""

from __future__ import annotations

from pymavlink.dialects.v20 import ardupilotmega as mavlink

__all__ = ["command_name", "enum_name", "mavlink", "mission_result_name", "mission_type_name", "result_name"]

MISSION_TYPE_MISSION = mavlink.MAV_MISSION_TYPE_MISSION
MISSION_TYPE_FENCE = mavlink.MAV_MISSION_TYPE_FENCE
MISSION_TYPE_RALLY = mavlink.MAV_MISSION_TYPE_RALLY


def enum_name(enum: str, value: int) -> str:
    """The dialect's name for ``value`` of enum ``enum`` (``"MAV_RESULT_DENIED"``), or ``"<enum> <n>"``."""
    entry = mavlink.enums.get(enum, {}).get(int(value))
    return entry.name if entry is not None else f"{enum} {value}"


def command_name(command: int) -> str:
    """``MAV_CMD_…`` name of a command number."""
    return enum_name("MAV_CMD", command)


def result_name(result: int) -> str:
    """``MAV_RESULT_…`` name of a COMMAND_ACK result."""
    return enum_name("MAV_RESULT", result)


def mission_result_name(result: int) -> str:
    """``MAV_MISSION_…`` name of a MISSION_ACK result."""
    return enum_name("MAV_MISSION_RESULT", result)


def mission_type_name(mission_type: int) -> str:
    """``mission``, ``fence``, ``rally`` (or the raw number)."""
    return {0: "mission", 1: "fence", 2: "rally"}.get(int(mission_type), f"mission type {mission_type}")
