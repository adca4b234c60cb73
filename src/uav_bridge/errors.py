"""Typed errors of the MAVLink bridge; each carries the autopilot's reason where there is one."""

from __future__ import annotations

from sanqin.common.errors import SanqinError


class UavBridgeError(SanqinError):
    """Base class of :mod:`sanqin.uav_bridge` errors."""


class ConnectionUrlError(UavBridgeError, ValueError):
    """A connection URL is malformed or names an unsupported transport."""


class SigningError(UavBridgeError):
    """A signing key file is missing or malformed."""


class LinkLost(UavBridgeError):
    """No heartbeat from the vehicle within the link timeout."""


class Timeout(UavBridgeError):
    """A protocol exchange got no answer after all retries."""

    def __init__(self, what: str, attempts: int) -> None:
        super().__init__(f"{what}: no answer after {attempts} attempt(s)")
        self.what = what
        self.attempts = attempts


class CommandDenied(UavBridgeError):
    """The autopilot answered a command with a MAV_RESULT other than ACCEPTED."""

    def __init__(self, command: int, result: int, reason: str = "") -> None:
        from sanqin.uav_bridge.enums import command_name, result_name

        text = f"{command_name(command)} refused: {result_name(result)}"
        super().__init__(text + (f" ({reason})" if reason else ""))
        self.command = command
        self.result = result
        self.reason = reason


class MissionRejected(UavBridgeError):
    """The autopilot ended a mission transfer with a MAV_MISSION_RESULT other than ACCEPTED."""

    def __init__(self, result: int, mission_type: int = 0, detail: str = "") -> None:
        from sanqin.uav_bridge.enums import mission_result_name, mission_type_name

        text = f"{mission_type_name(mission_type)} transfer rejected: {mission_result_name(result)}"
        super().__init__(text + (f" ({detail})" if detail else ""))
        self.result = result
        self.mission_type = mission_type
        self.detail = detail


class ProtocolError(UavBridgeError):
    """The other side broke a protocol (e.g. an item with the wrong sequence number or type)."""


class Busy(UavBridgeError):
    """An operation of the same kind is already running on this vehicle."""


class InvalidMission(UavBridgeError, ValueError):
    """A mission, fence or rally list is invalid (NaN coordinates, outside the fence, bad counts)."""


class PlanFileError(UavBridgeError, ValueError):
    """A QGroundControl .plan, WPL, KML or GeoJSON file is unreadable or malformed."""


class PreflightFailed(UavBridgeError):
    """One or more pre-flight checks failed; ``failures`` names them."""

    def __init__(self, failures: list[str]) -> None:
        super().__init__("pre-flight checks failed: " + "; ".join(failures))
        self.failures = list(failures)


class ReturnOutsideFence(PreflightFailed):
    """Pre-flight failed because the flight to or from the mission leaves the geofence: the outbound leg from
    home, the RTL return after the mission (to home or the nearest rally point), or a point RTL lands at.
    ``return_failures`` names those; ``failures`` every failed check."""

    def __init__(self, failures: list[str], return_failures: list[str]) -> None:
        super().__init__(failures)
        self.return_failures = list(return_failures)


class ModeError(UavBridgeError, ValueError):
    """A flight mode name or number is unknown for this autopilot."""


class ParamError(UavBridgeError):
    """A parameter is unknown on the vehicle or a value could not be set."""
