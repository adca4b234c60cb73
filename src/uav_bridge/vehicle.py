"""One vehicle seen through the bridge: link monitor, telemetry, and the command/mission/param clients.

High-level actions (arm, set mode, takeoff, land, RTL, goto, set home, message intervals, start
mission) are commands through :class:`CommandClient`; each returns an :class:`Operation`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sanqin.common.mission import MissionItem
from sanqin.uav_bridge.commands import CommandClient, CommandTiming
from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.errors import LinkLost
from sanqin.uav_bridge.heartbeat import LinkMonitor
from sanqin.uav_bridge.mission import MissionClient, MissionTiming
from sanqin.uav_bridge.mission_items import strip_home, with_home
from sanqin.uav_bridge.modes import mode_for
from sanqin.uav_bridge.operation import Operation
from sanqin.uav_bridge.params import ParamClient
from sanqin.uav_bridge.telemetry import STREAMS, Telemetry, VehicleState

C = mavlink


@dataclass(frozen=True)
class VehicleOptions:
    """Per-vehicle protocol settings."""

    autopilot: str = "ardupilot"  # mode mapping and mission numbering (ArduPilot: seq 0 is home)
    home_at_seq0: bool = False  # prepend/strip ArduPilot's home item on mission upload/download
    link_timeout_s: float = 3.0
    command: CommandTiming = CommandTiming()
    mission: MissionTiming = MissionTiming()
    param_timeout_s: float = 1.0
    param_retries: int = 3
    stream_rates_hz: tuple[tuple[str, float], ...] = (
        ("attitude_hz", 20.0), ("imu_hz", 20.0), ("position_hz", 10.0), ("gps_hz", 5.0), ("status_hz", 2.0))


class Vehicle:
    """A vehicle with system id ``system_id`` on a shared link; fed by :class:`~sanqin.uav_bridge.bridge.Bridge`."""

    def __init__(self, system_id: int, mav: Any, send: Callable[[Any], None],
                 options: VehicleOptions | None = None, component_id: int = 1) -> None:
        self.system_id = system_id
        self.options = options or VehicleOptions()
        self.mav = mav
        self._send = send
        o = self.options
        self.link = LinkMonitor(o.link_timeout_s)
        self.telemetry = Telemetry()
        self.commands = CommandClient(mav, send, system_id, component_id, o.command)
        self.missions = MissionClient(mav, send, system_id, component_id, o.mission)
        self.params = ParamClient(mav, send, system_id, component_id, o.param_timeout_s, o.param_retries)
        self.statustexts: list[tuple[float, int, str]] = []
        self.events: list[tuple[float, str]] = []
        self.outputs: list[tuple[str, Any]] = []  # (kind, core object) produced since the last drain
        self.now_s = 0.0

    # --- feeding --------------------------------------------------------------------------------
    def handle(self, msg: Any, now_s: float) -> None:
        """One message from this vehicle."""
        self.now_s = now_s
        mtype = msg.get_type()
        if mtype == "HEARTBEAT":
            if self.link.on_heartbeat(msg, now_s) == "connected":
                self.events.append((now_s, "connected"))
                self.request_streams(now_s)
            return
        if mtype == "STATUSTEXT":
            text = msg.text.decode("utf-8", "replace") if isinstance(msg.text, bytes) else str(msg.text)
            self.statustexts.append((now_s, int(msg.severity), text.split("\x00", 1)[0]))
            del self.statustexts[:-50]
        out = self.telemetry.update(msg, now_s)
        if out is not None:
            self.outputs.append(out)
        self.commands.handle(msg, now_s)
        self.missions.handle(msg, now_s)
        self.params.handle(msg, now_s)

    def step(self, now_s: float) -> None:
        """Timeouts and retries of every client; link-loss detection."""
        self.now_s = now_s
        if self.link.step(now_s) == "lost":
            self.events.append((now_s, "link_lost"))
            err = LinkLost(f"vehicle {self.system_id}: no heartbeat for {self.link.timeout_s:.1f} s")
            self.commands.cancel_all(err)
            self.missions.cancel(err)
            self.params.cancel_all(err)
        self.commands.step(now_s)
        self.missions.step(now_s)
        self.params.step(now_s)

    def drain_outputs(self) -> list[tuple[str, Any]]:
        """Telemetry produced since the last call."""
        out, self.outputs = self.outputs, []
        return out

    # --- state ------------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        """Heartbeats are arriving."""
        return self.link.connected

    def state(self, now_s: float, failsafe: str = "") -> VehicleState:
        """A snapshot for the vehicle-state topic."""
        t, s, p = self.telemetry, self.link.status, self.missions.progress
        bat = t.battery.percentage if t.battery is not None else math.nan
        return VehicleState(
            stamp_s=now_s, connected=self.link.connected, armed=s.armed, mode=s.mode, system_status=s.system_status,
            autopilot=s.autopilot, landed_state=t.landed_state, mission_seq=p.current_seq, mission_total=p.total,
            items_reached=len(p.reached), latitude_deg=t.latitude_deg, longitude_deg=t.longitude_deg,
            relative_alt_m=t.relative_alt_m, battery_percentage=bat, gps_fix_type=t.gps_fix_type,
            satellites=t.satellites, failsafe=failsafe,
        )

    # --- commands ---------------------------------------------------------------------------------
    def command(self, command: int, params: tuple[float, ...] = (), *, use_int: bool = False,
                frame: int = C.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT) -> Operation[int]:
        """Any MAV_CMD through the command protocol."""
        return self.commands.submit(command, params, self.now_s, use_int=use_int, frame=frame)

    def arm(self, arm: bool = True, force: bool = False) -> Operation[int]:
        """Arm or disarm (``force`` skips the autopilot's checks: 21196 is the magic number)."""
        return self.command(C.MAV_CMD_COMPONENT_ARM_DISARM, (1.0 if arm else 0.0, 21196.0 if force else 0.0))

    def set_mode(self, name: str) -> Operation[int]:
        """Switch flight mode by name (mapped for this vehicle's autopilot)."""
        autopilot = self.link.status.autopilot if self.link.status.autopilot != "generic" else self.options.autopilot
        m = mode_for(autopilot, name)
        return self.command(C.MAV_CMD_DO_SET_MODE, (float(m.base_mode), float(m.custom_mode), float(m.custom_sub_mode)))

    def takeoff(self, altitude_m: float) -> Operation[int]:
        """Take off to ``altitude_m`` above home (the vehicle should be armed in GUIDED)."""
        if not (math.isfinite(altitude_m) and altitude_m > 0):
            raise ValueError(f"takeoff altitude must be positive, got {altitude_m!r}")
        return self.command(C.MAV_CMD_NAV_TAKEOFF, (0, 0, 0, math.nan, math.nan, math.nan, altitude_m))

    def land(self) -> Operation[int]:
        """Land here."""
        return self.command(C.MAV_CMD_NAV_LAND, (0, 0, 0, math.nan, math.nan, math.nan, math.nan))

    def return_to_launch(self) -> Operation[int]:
        """Return to launch (or the nearest rally point)."""
        return self.command(C.MAV_CMD_NAV_RETURN_TO_LAUNCH)

    def goto(self, latitude_deg: float, longitude_deg: float, relative_alt_m: float,
             speed_m_s: float = -1.0) -> Operation[int]:
        """Reposition (MAV_CMD_DO_REPOSITION as COMMAND_INT, relative altitude)."""
        if not all(math.isfinite(v) for v in (latitude_deg, longitude_deg, relative_alt_m)):
            raise ValueError("goto target must be finite")
        return self.command(C.MAV_CMD_DO_REPOSITION,
                            (speed_m_s, float(C.MAV_DO_REPOSITION_FLAGS_CHANGE_MODE), 0.0, math.nan,
                             latitude_deg, longitude_deg, relative_alt_m), use_int=True)

    def set_home(self, latitude_deg: float | None = None, longitude_deg: float | None = None,
                 altitude_m: float = 0.0) -> Operation[int]:
        """Set home here (no position) or at a position (absolute altitude)."""
        if latitude_deg is None or longitude_deg is None:
            return self.command(C.MAV_CMD_DO_SET_HOME, (1.0,))
        return self.command(C.MAV_CMD_DO_SET_HOME, (0.0, 0, 0, 0, latitude_deg, longitude_deg, altitude_m),
                            use_int=True, frame=C.MAV_FRAME_GLOBAL_INT)

    def set_message_interval(self, message_id: int, rate_hz: float) -> Operation[int]:
        """Ask for a message at ``rate_hz`` (0 or less: stop it)."""
        interval_us = 1e6 / rate_hz if rate_hz > 0 else -1.0
        return self.command(C.MAV_CMD_SET_MESSAGE_INTERVAL, (float(message_id), interval_us))

    def request_streams(self, now_s: float) -> None:
        """Request every telemetry stream at its configured rate, one command after the other."""
        rates = dict(self.options.stream_rates_hz)
        queue = list(STREAMS.items())

        def next_one(_op: Operation[int] | None = None) -> None:
            if not queue or not self.link.connected or self.commands.busy(C.MAV_CMD_SET_MESSAGE_INTERVAL):
                return
            msg_id, key = queue.pop(0)
            self.set_message_interval(msg_id, rates.get(key, 1.0)).on_done(next_one)

        next_one()

    def start_mission(self, first: int = 0, last: int = 0) -> Operation[int]:
        """MAV_CMD_MISSION_START (the vehicle switches to its mission mode)."""
        return self.command(C.MAV_CMD_MISSION_START, (float(first), float(last)))

    def do(self, item: MissionItem) -> Operation[int]:
        """Run a DO command built as a mission item (payload builders) now, as COMMAND_LONG."""
        p5, p6, p7 = (float(v) if math.isfinite(v) else 0.0 for v in (item.latitude_deg, item.longitude_deg,
                                                                        item.altitude_m))
        return self.command(item.command, (*item.params, p5, p6, p7))

    def pause(self) -> Operation[int]:
        """Hold position (LOITER / HOLD)."""
        return self.set_mode("LOITER")

    # --- missions ---------------------------------------------------------------------------------
    def upload(self, items: list[MissionItem], mission_type: int = 0) -> Operation[int]:
        """Upload mission/fence/rally items (with ArduPilot's home item prepended when configured)."""
        if mission_type == 0 and self.options.home_at_seq0:
            home = self.telemetry.home or (0.0, 0.0, 0.0)
            items = with_home(items, home)
        return self.missions.upload(items, mission_type, self.now_s)

    def set_current(self, seq: int) -> Operation[int]:
        """Make mission item ``seq`` current (shifted by one when ArduPilot's home item is at seq 0)."""
        return self.missions.set_current(seq + (1 if self.options.home_at_seq0 else 0), self.now_s)

    def clear(self, mission_type: int = 0) -> Operation[None]:
        """Clear the vehicle's mission, fence or rally points."""
        return self.missions.clear(mission_type, self.now_s)

    def download(self, mission_type: int = 0) -> Operation[list[MissionItem]]:
        """Download mission/fence/rally items (ArduPilot's home item stripped when configured)."""
        op = self.missions.download(mission_type, self.now_s)
        if mission_type != 0 or not self.options.home_at_seq0:
            return op
        out: Operation[list[MissionItem]] = Operation(op.name)

        def done(o: Operation[list[MissionItem]]) -> None:
            if o.error is not None:
                out.fail(o.error)
            else:
                out.finish(strip_home(o.result()))

        op.on_done(done)
        return out
