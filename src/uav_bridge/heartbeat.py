"""Our own HEARTBEAT and per-vehicle heartbeat monitoring with link-loss detection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.modes import autopilot_kind, mode_name

ROLES = ("onboard", "gcs")
#: A ground station's usual system id, and ArduPilot's SYSID_MYGCS default: the only system whose heartbeats the
#: autopilot's GCS failsafe (FS_GCS_ENABLE) watches.
GCS_SYSTEM_ID = 255


def own_system_id(role: str, requested: int, vehicle_system_id: int) -> int:
    """Our system id: ``requested`` unless 0, else by role — 255 for a ground station (what ArduPilot's GCS
    failsafe watches by default), the vehicle's own id for an onboard companion (MAVLink's convention)."""
    if requested:
        return int(requested)
    return GCS_SYSTEM_ID if role == "gcs" else int(vehicle_system_id)


def own_heartbeat(mav: Any, role: str) -> Any:
    """The HEARTBEAT we send: an onboard companion computer or a ground station (never an autopilot)."""
    kind = mavlink.MAV_TYPE_ONBOARD_CONTROLLER if role == "onboard" else mavlink.MAV_TYPE_GCS
    return mav.heartbeat_encode(kind, mavlink.MAV_AUTOPILOT_INVALID, 0, 0, mavlink.MAV_STATE_ACTIVE)


def own_component_id(role: str) -> int:
    """Our MAVLink component id for a role."""
    return mavlink.MAV_COMP_ID_ONBOARD_COMPUTER if role == "onboard" else mavlink.MAV_COMP_ID_MISSIONPLANNER


@dataclass
class VehicleStatus:
    """What the vehicle's HEARTBEATs say (state at the last one)."""

    autopilot: str = "generic"
    vehicle_type: int = 0
    armed: bool = False
    custom_mode: int = 0
    mode: str = "UNKNOWN"
    system_status: int = 0
    component_id: int = 1


class LinkMonitor:
    """Heartbeats of one vehicle → status plus link up/lost events (lost after ``timeout_s`` of silence)."""

    def __init__(self, timeout_s: float = 3.0) -> None:
        self.timeout_s = float(timeout_s)
        self.status = VehicleStatus()
        self.last_heartbeat_s: float | None = None
        self.connected = False
        self.losses = 0
        self.heartbeats = 0
        self.autopilot_component: int | None = None  # the component whose heartbeats are the vehicle's state
        self.other_components = 0  # heartbeats ignored from other components claiming an autopilot

    def on_heartbeat(self, msg: Any, now_s: float) -> str | None:
        """Record a vehicle heartbeat; returns ``"connected"`` on the first one after silence.

        Only the autopilot's heartbeats count: not a GCS's or a companion's on the same system id, nor those
        of any other component (a camera or gimbal that fills in an autopilot type would otherwise make the
        mode flip between its and the autopilot's at every heartbeat). The first component heard is taken
        for the autopilot until MAV_COMP_ID_AUTOPILOT1 speaks.
        """
        if msg.type in (mavlink.MAV_TYPE_GCS, mavlink.MAV_TYPE_ONBOARD_CONTROLLER) or \
                msg.autopilot == mavlink.MAV_AUTOPILOT_INVALID:
            return None  # another companion or GCS on the same system id, not the autopilot
        comp = int(msg.get_srcComponent())
        if self.autopilot_component is None or (comp == mavlink.MAV_COMP_ID_AUTOPILOT1
                                                and self.autopilot_component != comp):
            self.autopilot_component = comp
        elif comp != self.autopilot_component:
            self.other_components += 1
            return None
        s = self.status
        s.autopilot = autopilot_kind(msg.autopilot)
        s.vehicle_type = int(msg.type)
        s.armed = bool(msg.base_mode & mavlink.MAV_MODE_FLAG_SAFETY_ARMED)
        s.custom_mode = int(msg.custom_mode)
        s.mode = mode_name(s.autopilot, s.custom_mode)
        s.system_status = int(msg.system_status)
        s.component_id = int(msg.get_srcComponent())
        self.last_heartbeat_s = now_s
        self.heartbeats += 1
        if not self.connected:
            self.connected = True
            return "connected"
        return None

    def step(self, now_s: float) -> str | None:
        """Returns ``"lost"`` once when the heartbeat has been silent for longer than the timeout."""
        if self.connected and self.last_heartbeat_s is not None and now_s - self.last_heartbeat_s > self.timeout_s:
            self.connected = False
            self.losses += 1
            return "lost"
        return None

    def silence_s(self, now_s: float) -> float:
        """Seconds since the last heartbeat (inf before the first)."""
        return float("inf") if self.last_heartbeat_s is None else now_s - self.last_heartbeat_s
