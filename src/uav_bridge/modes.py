"""Flight-mode mappings: ArduPilot Copter custom modes and PX4 main/sub modes ↔ names.

Sanqin speaks a small common vocabulary (GUIDED, AUTO, LOITER, RTL, LAND, …); :func:`mode_for` maps it
onto an autopilot's own names (PX4's AUTO is ``MISSION``, its LOITER ``HOLD``, its GUIDED ``OFFBOARD``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.errors import ModeError

#: ArduCopter ``custom_mode`` numbers (ArduCopter/mode.h).
ARDUCOPTER_MODES: dict[str, int] = {
    "STABILIZE": 0, "ACRO": 1, "ALT_HOLD": 2, "AUTO": 3, "GUIDED": 4, "LOITER": 5, "RTL": 6, "CIRCLE": 7,
    "LAND": 9, "DRIFT": 11, "SPORT": 13, "FLIP": 14, "AUTOTUNE": 15, "POSHOLD": 16, "BRAKE": 17, "THROW": 18,
    "AVOID_ADSB": 19, "GUIDED_NOGPS": 20, "SMART_RTL": 21, "FLOWHOLD": 22, "FOLLOW": 23, "ZIGZAG": 24,
    "SYSTEMID": 25, "AUTOROTATE": 26, "AUTO_RTL": 27,
}

PX4_MAIN = {"MANUAL": 1, "ALTCTL": 2, "POSCTL": 3, "AUTO": 4, "ACRO": 5, "OFFBOARD": 6, "STABILIZED": 7,
            "RATTITUDE": 8}
PX4_AUTO_SUB = {"READY": 1, "TAKEOFF": 2, "LOITER": 3, "MISSION": 4, "RTL": 5, "LAND": 6, "FOLLOW_TARGET": 8,
                "PRECLAND": 9}

#: PX4 mode names (as QGroundControl shows them) → (main mode, sub mode).
PX4_MODES: dict[str, tuple[int, int]] = {
    "MANUAL": (1, 0), "ALTCTL": (2, 0), "POSCTL": (3, 0), "ACRO": (5, 0), "OFFBOARD": (6, 0),
    "STABILIZED": (7, 0), "RATTITUDE": (8, 0),
    "READY": (4, 1), "TAKEOFF": (4, 2), "HOLD": (4, 3), "MISSION": (4, 4), "RTL": (4, 5), "LAND": (4, 6),
    "FOLLOW_TARGET": (4, 8), "PRECLAND": (4, 9),
}

#: Common vocabulary → PX4 names (names not listed map to themselves).
_PX4_ALIASES = {"AUTO": "MISSION", "LOITER": "HOLD", "GUIDED": "OFFBOARD", "POSHOLD": "POSCTL",
                "ALT_HOLD": "ALTCTL", "STABILIZE": "STABILIZED"}

AUTOPILOTS = ("ardupilot", "px4")


@dataclass(frozen=True)
class ModeCommand:
    """MAV_CMD_DO_SET_MODE params 1–3 for a mode."""

    base_mode: int
    custom_mode: int
    custom_sub_mode: int = 0


def px4_custom_mode(main: int, sub: int) -> int:
    """PX4's HEARTBEAT custom_mode: main mode in bits 16–23, sub mode in bits 24–31."""
    return (main << 16) | (sub << 24)


def mode_for(autopilot: str, name: str) -> ModeCommand:
    """The DO_SET_MODE parameters of mode ``name`` on ``autopilot`` (``ardupilot`` or ``px4``)."""
    key = name.strip().upper()
    flag = mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED
    if autopilot == "ardupilot":
        if key not in ARDUCOPTER_MODES:
            raise ModeError(f"unknown ArduCopter mode {name!r}; known: {sorted(ARDUCOPTER_MODES)}")
        return ModeCommand(flag, ARDUCOPTER_MODES[key])
    if autopilot == "px4":
        key = _PX4_ALIASES.get(key, key)
        if key not in PX4_MODES:
            raise ModeError(f"unknown PX4 mode {name!r}; known: {sorted(PX4_MODES)}")
        main, sub = PX4_MODES[key]
        return ModeCommand(flag, main, sub)
    raise ModeError(f"unknown autopilot {autopilot!r}; known: {AUTOPILOTS}")


def mode_name(autopilot: str, custom_mode: int) -> str:
    """A HEARTBEAT's custom_mode as a name (``"UNKNOWN(n)"`` when unmapped)."""
    if autopilot == "ardupilot":
        for k, v in ARDUCOPTER_MODES.items():
            if v == custom_mode:
                return k
    elif autopilot == "px4":
        main, sub = (custom_mode >> 16) & 0xFF, (custom_mode >> 24) & 0xFF
        for k, (m, s) in PX4_MODES.items():
            if m == main and (s == sub or (m != 4 and s == 0)):
                return k
    return f"UNKNOWN({custom_mode})"


def autopilot_kind(mav_autopilot: int) -> str:
    """HEARTBEAT.autopilot → ``ardupilot``, ``px4`` or ``generic``."""
    if mav_autopilot == mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA:
        return "ardupilot"
    if mav_autopilot == mavlink.MAV_AUTOPILOT_PX4:
        return "px4"
    return "generic"


def canonical(autopilot: str, name: str) -> str:
    """An autopilot's mode name in the common vocabulary (PX4 ``MISSION`` → ``AUTO``, ``HOLD`` → ``LOITER``)."""
    if autopilot == "px4":
        back = {v: k for k, v in _PX4_ALIASES.items() if k in ("AUTO", "LOITER", "GUIDED")}
        return back.get(name, name)
    return name
