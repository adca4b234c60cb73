"""The link-level bridge: one MAVLink connection, our heartbeat, and the vehicles on it by system id.

``step(now_s)`` polls the connection, routes each message to its :class:`Vehicle` (traffic from system ids
not in ``vehicles`` is counted and ignored), sends our HEARTBEAT at its rate and steps every vehicle's
timeouts. Everything runs on the caller's clock: the node's timer, a CLI loop or a test.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sanqin.uav_bridge.connection import MavConnection, SigningConfig, load_signing_key, open_transport
from sanqin.uav_bridge.errors import LinkLost, UavBridgeError
from sanqin.uav_bridge.heartbeat import ROLES, own_component_id, own_heartbeat, own_system_id
from sanqin.uav_bridge.operation import Operation, run_until_done
from sanqin.uav_bridge.tlog import TlogWriter
from sanqin.uav_bridge.vehicle import Vehicle, VehicleOptions


@dataclass(frozen=True)
class BridgeOptions:
    """Link-level settings: our identity, heartbeat rate, accepted vehicles, signing, telemetry log."""

    role: str = "onboard"  # onboard (companion computer) | gcs
    system_id: int = 0  # ours; 0: by role — 255 as gcs (ArduPilot's SYSID_MYGCS default), the vehicle's id onboard
    heartbeat_hz: float = 1.0
    vehicles: tuple[int, ...] = (1,)  # accepted vehicle system ids; () accepts the first autopilot heard
    signing_key_file: str = ""
    require_signing: bool = False
    tlog_path: str = ""
    vehicle: VehicleOptions = VehicleOptions()

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise UavBridgeError(f"role must be one of {ROLES}, got {self.role!r}")
        if not 0 <= self.system_id <= 255:
            raise UavBridgeError(f"system_id must be 0 (by role) or 1..255, got {self.system_id}")
        resolved = own_system_id(self.role, self.system_id, self.vehicles[0] if self.vehicles else 1)
        object.__setattr__(self, "system_id", resolved)  # frozen: resolve "by role" once, here


class Bridge:
    """Runs a MAVLink connection and the vehicles on it."""

    def __init__(self, conn: MavConnection, options: BridgeOptions | None = None,
                 tlog: TlogWriter | None = None) -> None:
        self.conn = conn
        self.options = options or BridgeOptions()
        self.tlog = tlog
        if tlog is not None:
            conn.on_bytes = tlog.write
        self.vehicles: dict[int, Vehicle] = {}
        for sysid in self.options.vehicles:
            self._add_vehicle(sysid)
        self._next_heartbeat_s = 0.0
        self._last_step_s = float("nan")
        self.counters = {"ignored_foreign_sysid": 0, "heartbeats_sent": 0}

    @classmethod
    def open(cls, url: str, options: BridgeOptions | None = None, side: str = "gcs") -> Bridge:
        """Open ``url`` with signing and a telemetry log as ``options`` say."""
        o = options or BridgeOptions()
        signing = None
        if o.signing_key_file:
            signing = SigningConfig(load_signing_key(o.signing_key_file), require=o.require_signing)
        transport = open_transport(url, side)
        conn = MavConnection(transport, system_id=o.system_id, component_id=own_component_id(o.role),
                             signing=signing)
        tlog = TlogWriter(o.tlog_path) if o.tlog_path else None
        return cls(conn, o, tlog)

    def _add_vehicle(self, sysid: int, component_id: int = 1, options: VehicleOptions | None = None) -> Vehicle:
        v = Vehicle(sysid, self.conn.mav, self.conn.send, options or self.options.vehicle, component_id)
        self.vehicles[sysid] = v
        return v

    def accept_vehicle(self, system_id: int, options: VehicleOptions | None = None) -> Vehicle:
        """Accept (and return) another vehicle on this link, e.g. for a second node sharing it."""
        if system_id in self.vehicles:
            return self.vehicles[system_id]
        self.options = replace(self.options, vehicles=(*self.options.vehicles, system_id))
        return self._add_vehicle(system_id, 1, options)

    def vehicle(self, system_id: int | None = None) -> Vehicle:
        """A vehicle by system id (the only/first one when ``None``)."""
        if system_id is None:
            if not self.vehicles:
                raise LinkLost("no vehicle heard yet")
            return next(iter(self.vehicles.values()))
        try:
            return self.vehicles[system_id]
        except KeyError as err:
            raise UavBridgeError(f"no vehicle with system id {system_id}; known: {sorted(self.vehicles)}") from err

    def step(self, now_s: float) -> None:
        """Poll, route, heartbeat, timeouts."""
        for msg in self.conn.poll():
            sysid = msg.get_srcSystem()
            comp = msg.get_srcComponent()
            if sysid == self.options.system_id and comp == self.conn.mav.srcComponent:
                continue  # our own frames echoed back (e.g. a broadcast link)
            v = self.vehicles.get(sysid)
            if v is None:
                if self.options.vehicles or msg.get_type() != "HEARTBEAT" or self.vehicles:
                    self.counters["ignored_foreign_sysid"] += 1
                    continue
                v = self._add_vehicle(sysid, comp)
            v.handle(msg, now_s)
        if now_s >= self._next_heartbeat_s and self.options.heartbeat_hz > 0:
            self.conn.send(own_heartbeat(self.conn.mav, self.options.role))
            self.counters["heartbeats_sent"] += 1
            self._next_heartbeat_s = now_s + 1.0 / self.options.heartbeat_hz
        for v in self.vehicles.values():
            v.step(now_s)

    def run(self, op: Operation[Any], timeout_s: float = 30.0,
            on_progress: Callable[[Operation[Any]], None] | None = None,
            clock: Callable[[], float] = time.monotonic) -> Any:
        """Block (pumping the link on wall time) until ``op`` is done; return its result or raise."""
        return run_until_done(op, self.step, timeout_s=timeout_s, clock=clock,
                              wait=self.conn.wait, on_progress=on_progress)

    def wait_connected(self, system_id: int | None = None, timeout_s: float = 10.0,
                       clock: Callable[[], float] = time.monotonic) -> Vehicle:
        """Block until the vehicle's heartbeat is heard."""
        start = clock()
        while clock() - start < timeout_s:
            self.step(clock())
            try:
                v = self.vehicle(system_id)
            except (LinkLost, UavBridgeError):
                v = None
            if v is not None and v.connected:
                return v
            self.conn.wait(0.02)
        raise LinkLost(f"no heartbeat from vehicle {system_id or ''} within {timeout_s:.1f} s")

    def step_once(self, now_s: float) -> None:
        """:meth:`step`, unless already stepped at this time (several nodes sharing one link)."""
        if now_s != self._last_step_s:
            self._last_step_s = now_s
            self.step(now_s)

    def close(self) -> None:
        """Close the connection and the telemetry log."""
        self.conn.close()
        if self.tlog is not None:
            self.tlog.close()
