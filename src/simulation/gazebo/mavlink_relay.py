"""A MAVLink UDP relay that drops the link on a schedule: the headless radio-link fault for an ArduPilot SITL twin.

Headless, the multicopter simulator drops its own MAVLink link between ``link_down_start_s`` and
``link_down_end_s``: nothing passes either way. With ArduPilot SITL the link is UDP, so the twin puts this
relay between SITL and the bridge::

    SITL --serial0=udpclient:H:vehicle_port  →  relay (bound to H:vehicle_port)
    relay (ephemeral port)                   →  bridge (udpin:bridge_host:bridge_port)
    bridge replies to the relay's port        →  relay  →  SITL's source address

Every datagram is forwarded unchanged, except inside a drop window, when every datagram in both directions
is discarded (and counted). A UDP link carries no connection state, so the ends see exactly what a radio
outage shows them: silence, then traffic again.

**Time.** Windows are on the node clock ``t_s`` — Gazebo's /clock under ``use_sim_time`` — measured from
``time_origin``: ``clock`` (t = 0 of the clock) or ``armed`` (the first HEARTBEAT of the vehicle's autopilot,
``vehicle_system_id`` component 1, with ``MAV_MODE_FLAG_SAFETY_ARMED`` set; the relay parses the vehicle's
datagrams with pymavlink only until it has seen it). ``armed`` exists because SITL boots, waits for GPS and
lets its EKF converge for tens of seconds of sim time before it can arm, while the headless autopilot is ready
at t = 0: a window on the raw clock would hit a vehicle still on the ground.

**Parameters.** SITL starts from ArduPilot's defaults, while the headless autopilot applies the scenario's
parameter overrides (``param_names``/``param_values``) at boot. The relay sets the same overrides: once the
vehicle's autopilot has sent a HEARTBEAT, it sends PARAM_SET for every override not yet confirmed (as its own
system ``injector_system_id``, component MAV_COMP_ID_MISSIONPLANNER, the way a ground-station tool would),
every ``retry_period_s`` until the autopilot's PARAM_VALUE echoes the value, at most ``max_param_attempts`` times
(a name the autopilot does not know, or a value another node keeps overwriting, is then counted as failed).

**Battery.** With ``battery_capacity_ah`` > 0 the relay also runs the headless battery pack and imposes it on
SITL every ``battery_period_s`` (MAV_CMD_BATTERY_RESET to its state of charge, SIM_BATT_VOLTAGE to its
terminal voltage; see :mod:`.sitl_battery`), from SITL's first heartbeat on. Its COMMAND_ACKs are counted.

**Polling.** The node's timer (``period_s``) drains both non-blocking sockets each tick (at most
``max_datagrams_per_tick`` per socket), so a datagram waits at most one period. Socket errors never escape:
a refused send (ICMP port unreachable while the bridge is not yet listening) is counted and the datagram lost
as a real link would lose it; a failed socket is closed, counted and reopened after ``retry_period_s`` (the
bridge learns the relay's new bridge-side port from the next datagram, as pymavlink's ``udpin`` answers the
last sender). Datagrams on the bridge side from any other address than the bridge's are counted and discarded.

**Health.** The counters (forwarded/dropped datagrams and bytes per direction, send and socket errors,
parameters sent/confirmed, windows entered) go on /diagnostics as ``sanqin/gazebo/mavlink_fault_relay``, which
the Gazebo scorer reads as ``nodes.mavlink_fault_relay.<counter>`` for a node of that name.
"""

from __future__ import annotations

import math
import socket
from dataclasses import dataclass
from typing import Any

from sanqin.common.diagnostics import DiagLevel, DiagnosticStatus
from sanqin.runtime.config import param, require
from sanqin.simulation.gazebo.sitl_battery import MAV_CMD_BATTERY_RESET, MAV_MODE_FLAG_SAFETY_ARMED, PackEmulator
from sanqin.simulation.multicopter.dynamics import BatteryParams

MAX_DATAGRAM_BYTES = 65535
MAV_COMP_ID_AUTOPILOT1 = 1
MAV_COMP_ID_MISSIONPLANNER = 190
MAV_PARAM_TYPE_REAL32 = 9
TIME_ORIGINS = ("clock", "armed")


@dataclass(frozen=True)
class MavlinkFaultRelayConfig:
    """Where the autopilot and the bridge are, the drop windows and how often to poll."""

    vehicle_host: str = param("127.0.0.1", "address the relay listens on for the autopilot (SITL's udpclient)")
    vehicle_port: int = param(14560, "UDP port the relay listens on for the autopilot", min=1, max=65535)
    bridge_host: str = param("127.0.0.1", "address of the bridge's udpin endpoint")
    bridge_port: int = param(14550, "UDP port of the bridge's udpin endpoint", min=1, max=65535)
    drop_windows_s: tuple[float, ...] = param((), "link outages, flat start end pairs after time_origin (s)")
    time_origin: str = param("clock", "what the windows are measured from: clock (t = 0) or armed (first armed "
                             "heartbeat of the vehicle)", choices=TIME_ORIGINS)
    vehicle_system_id: int = param(1, "MAVLink system id of the autopilot (for time_origin armed)", min=1, max=255)
    period_s: float = param(0.002, "poll period (s, node clock)", min=0.0001, max=0.1)
    max_datagrams_per_tick: int = param(1000, "datagrams drained per socket per tick", min=1, max=100000)
    retry_period_s: float = param(1.0, "reopen a failed socket / resend unconfirmed parameters after this long "
                                  "(s, node clock)", min=0.01, max=60.0)
    param_names: tuple[str, ...] = param((), "autopilot parameters to set at boot (names, as the headless overrides)")
    param_values: tuple[float, ...] = param((), "values of param_names, in order")
    max_param_attempts: int = param(10, "PARAM_SETs per override before it counts as failed", min=1, max=1000)
    injector_system_id: int = param(245, "MAVLink system id the relay uses for its PARAM_SETs", min=1, max=255)
    battery_capacity_ah: float = param(0.0, "emulate the headless pack of this capacity in SITL (Ah); 0: leave "
                                       "SITL's own battery", min=0.0, max=100.0)
    battery_soc_start: float = param(1.0, "state of charge of the emulated pack at SITL's first heartbeat (0..1)",
                                     min=0.0, max=1.0)
    battery_cells: int = param(6, "LiPo cells in series of the emulated pack", min=1, max=14)
    battery_hover_current_a: float = param(45.0, "emulated pack current in hover (A)", min=0.1, max=500.0)
    battery_idle_current_a: float = param(0.8, "emulated pack current disarmed (A)", min=0.0, max=50.0)
    battery_internal_resistance_ohm: float = param(0.02, "emulated pack internal resistance (ohm)", min=0.0, max=1.0)
    battery_sitl_sag_v: float = param(0.35, "SITL's own sag added back to SIM_BATT_VOLTAGE (SITL subtracts 0.7 V x "
                                      "throttle; 0.35 V at half throttle)", min=0.0, max=0.7)
    battery_period_s: float = param(1.0, "how often the emulated pack is written into SITL (s)", min=0.05, max=10.0)

    def __post_init__(self) -> None:
        w = self.drop_windows_s
        require(len(w) % 2 == 0, "drop_windows_s needs start end pairs")
        require(all(math.isfinite(v) for v in w), "drop_windows_s must be finite")
        pairs = list(zip(w[0::2], w[1::2]))
        require(all(a >= 0 for a, _ in pairs), "drop windows cannot start before the time origin (negative start)")
        require(all(b > a for a, b in pairs), "each drop window must end after it starts")
        require(all(b0 <= a1 for (_, b0), (a1, _) in zip(pairs, pairs[1:])),
                "drop windows must be in time order and must not overlap")
        require(bool(self.vehicle_host.strip()) and bool(self.bridge_host.strip()), "hosts must not be empty")
        require((self.vehicle_host, self.vehicle_port) != (self.bridge_host, self.bridge_port),
                "the relay cannot listen on the bridge's own endpoint")
        require(len(self.param_names) == len(self.param_values), "param_names and param_values differ in length")
        require(len(set(self.param_names)) == len(self.param_names), "param_names must not repeat a name (the "
                "relay sets each once; a repeated one would silently keep only its last value)")
        require(all(0 < len(n) <= 16 and n.isascii() for n in self.param_names),
                "parameter names must be 1..16 ASCII characters")
        require(all(math.isfinite(v) for v in self.param_values), "param_values must be finite")
        require(self.injector_system_id != self.vehicle_system_id, "injector_system_id must differ from the vehicle's")

    @property
    def windows(self) -> list[tuple[float, float]]:
        """The drop windows as (start, end) pairs, seconds after the time origin."""
        w = self.drop_windows_s
        return list(zip(w[0::2], w[1::2]))


class MavlinkFaultRelay:
    """``tick(t_s)`` forwards what arrived on both sockets since the last tick, or drops it inside a window."""

    def __init__(self, config: MavlinkFaultRelayConfig) -> None:
        self.config = config
        self.windows = config.windows
        self.vehicle_sock: socket.socket | None = None
        self.bridge_sock: socket.socket | None = None
        self.vehicle_addr: tuple[str, int] | None = None
        self.bridge_addr = (config.bridge_host, config.bridge_port)
        self._bridge_ip = ""  # bridge_host resolved when the sockets open (its replies come from this address)
        self.origin_s: float | None = 0.0 if config.time_origin == "clock" else None
        self._parser: Any = None
        self._encoder: Any = None
        self.pending_params = dict(zip(config.param_names, config.param_values))
        self._param_attempts = dict.fromkeys(config.param_names, 0)
        self.vehicle_seen = False
        self.pack: PackEmulator | None = None
        if config.battery_capacity_ah > 0:
            self.pack = PackEmulator(
                BatteryParams(cells=config.battery_cells, capacity_ah=config.battery_capacity_ah,
                              internal_resistance_ohm=config.battery_internal_resistance_ohm,
                              hover_current_a=config.battery_hover_current_a,
                              idle_current_a=config.battery_idle_current_a),
                config.battery_soc_start, config.battery_sitl_sag_v)
        self._next_battery = -math.inf
        self._next_param_send = -math.inf
        self._retry_at = -math.inf
        self.last_error = ""
        self.link_down = False
        self.counters = {
            "forwarded_to_bridge": 0, "forwarded_to_vehicle": 0, "dropped_to_bridge": 0, "dropped_to_vehicle": 0,
            "bytes_to_bridge": 0, "bytes_to_vehicle": 0, "no_vehicle_address": 0, "foreign_datagrams": 0,
            "send_errors": 0, "socket_errors": 0, "socket_opens": 0, "windows_entered": 0,
            "params_sent": 0, "params_confirmed": 0, "params_failed": 0, "battery_updates": 0,
            "battery_resets_accepted": 0, "battery_resets_refused": 0,
        }
        self._open()

    # --- sockets ------------------------------------------------------------------------------------
    def _open(self) -> bool:
        """Open both sockets; on failure count it, close what opened and let ``tick`` retry later."""
        self._close()
        c = self.config
        try:
            vs = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.vehicle_sock = vs
            # no SO_REUSEADDR: a UDP port has no TIME_WAIT to wait out, and with it a second relay (another twin, a
            # stale process) would share the port silently, the newest socket taking every datagram
            vs.bind((c.vehicle_host, c.vehicle_port))
            vs.setblocking(False)
            bs = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.bridge_sock = bs
            # ephemeral, on every interface: the bridge's udpin replies to it, and the kernel picks the route to the
            # bridge (a socket bound to a loopback vehicle_host cannot send to a bridge on another host: EINVAL)
            bs.bind(("", 0))
            bs.setblocking(False)
            self._bridge_ip = socket.gethostbyname(c.bridge_host)
        except OSError as err:
            self._error(f"cannot open the relay sockets ({c.vehicle_host}:{c.vehicle_port}): {err}")
            self._close()
            return False
        self.counters["socket_opens"] += 1
        return True

    def _close(self) -> None:
        for s in (self.vehicle_sock, self.bridge_sock):
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass
        self.vehicle_sock = self.bridge_sock = None

    def close(self) -> None:
        """Release both sockets (the node is shutting down)."""
        self._close()

    def _error(self, text: str) -> None:
        self.counters["socket_errors"] += 1
        self.last_error = text

    @property
    def bridge_side_port(self) -> int | None:
        """The relay's own port towards the bridge (ephemeral), None while the sockets are closed."""
        return self.bridge_sock.getsockname()[1] if self.bridge_sock is not None else None

    # --- schedule ------------------------------------------------------------------------------------
    def dropping(self, t_s: float) -> bool:
        """Whether the link is down at node time ``t_s`` (never before the time origin is known)."""
        if self.origin_s is None:
            return False
        rel = t_s - self.origin_s
        return any(a <= rel < b for a, b in self.windows)

    def _inspect(self, data: bytes, t_s: float) -> None:
        """Parse the vehicle's datagrams while needed: its heartbeat (armed = time origin), parameter echoes."""
        if self._parser is None:
            from pymavlink.dialects.v20 import ardupilotmega as mav

            self._parser = mav.MAVLink(None)
            self._parser.robust_parsing = True
        try:
            msgs = self._parser.parse_buffer(data) or []
        except Exception:  # a malformed frame is skipped; the datagram is still relayed
            return
        c = self.config
        for m in msgs:
            if m.get_srcSystem() != c.vehicle_system_id or m.get_srcComponent() != MAV_COMP_ID_AUTOPILOT1:
                continue
            kind = m.get_type()
            if self.pack is not None:
                self.pack.observe(m, t_s)
                if (kind == "COMMAND_ACK" and m.command == MAV_CMD_BATTERY_RESET
                        and getattr(m, "target_system", 0) in (0, c.injector_system_id)):
                    self.counters["battery_resets_accepted" if m.result == 0 else "battery_resets_refused"] += 1
            if kind == "HEARTBEAT":
                self.vehicle_seen = True
                if self.origin_s is None and m.base_mode & MAV_MODE_FLAG_SAFETY_ARMED:
                    self.origin_s = t_s
            elif kind == "PARAM_VALUE" and m.param_id in self.pending_params:
                want = self.pending_params[m.param_id]
                if abs(m.param_value - want) <= 1e-5 * max(1.0, abs(want)):
                    del self.pending_params[m.param_id]
                    self.counters["params_confirmed"] += 1

    def _get_encoder(self) -> Any:
        if self._encoder is None:
            from pymavlink.dialects.v20 import ardupilotmega as mav

            self._encoder = mav.MAVLink(None, srcSystem=self.config.injector_system_id,
                                        srcComponent=MAV_COMP_ID_MISSIONPLANNER)
        return self._encoder

    def _can_inject(self, t_s: float) -> bool:
        """Whether the relay can talk to the autopilot now (it has spoken, the sockets work, the link is up)."""
        return (self.vehicle_seen and self.vehicle_addr is not None and self.vehicle_sock is not None
                and not self.dropping(t_s))

    def _send_params(self, t_s: float) -> None:
        """PARAM_SET for every override the autopilot has not echoed yet (every retry_period_s)."""
        if not self.pending_params or t_s < self._next_param_send or not self._can_inject(t_s):
            return
        enc = self._get_encoder()
        self._next_param_send = t_s + self.config.retry_period_s
        for name in [n for n, k in self._param_attempts.items() if k >= self.config.max_param_attempts
                     and n in self.pending_params]:
            del self.pending_params[name]
            self.counters["params_failed"] += 1
            self.last_error = f"{name} not confirmed after {self.config.max_param_attempts} PARAM_SETs"
        for name, value in self.pending_params.items():
            self._param_attempts[name] += 1
            msg = enc.param_set_encode(self.config.vehicle_system_id, MAV_COMP_ID_AUTOPILOT1,
                                       name.encode("ascii"), float(value), MAV_PARAM_TYPE_REAL32)
            if self._send(self.vehicle_sock, msg.pack(enc), self.vehicle_addr):  # type: ignore[arg-type]
                self.counters["params_sent"] += 1

    def _send_battery(self, t_s: float) -> None:
        """Drain the emulated pack to now and write it into SITL (every battery_period_s, from SITL's first
        heartbeat; during an outage the pack keeps draining and SITL integrates on its own)."""
        pack = self.pack
        if pack is None or not self.vehicle_seen or t_s < self._next_battery:
            return
        self._next_battery = t_s + self.config.battery_period_s
        pack.step(t_s)
        if not self._can_inject(t_s):
            return
        enc = self._get_encoder()
        sent = [self._send(self.vehicle_sock, m.pack(enc), self.vehicle_addr)  # type: ignore[arg-type]
                for m in pack.messages(enc, self.config.vehicle_system_id)]
        if all(sent):
            self.counters["battery_updates"] += 1

    # --- relaying ------------------------------------------------------------------------------------
    def tick(self, t_s: float) -> None:
        """Drain both sockets, forwarding or dropping each datagram."""
        if self.vehicle_sock is None or self.bridge_sock is None:
            if t_s < self._retry_at:
                return
            if not self._open():
                self._retry_at = t_s + self.config.retry_period_s
                return
        down = self.dropping(t_s)
        if down and not self.link_down:
            self.counters["windows_entered"] += 1
        self.link_down = down
        self._drain_vehicle(t_s)
        self._drain_bridge(t_s)
        self._send_params(t_s)
        self._send_battery(t_s)

    def _recv(self, sock: socket.socket) -> tuple[bytes, tuple[str, int]] | None:
        """One datagram, or None when the socket is empty or failed (then it is scheduled for reopening)."""
        while True:
            try:
                data, addr = sock.recvfrom(MAX_DATAGRAM_BYTES)
                return data, addr
            except BlockingIOError:
                return None
            except ConnectionRefusedError:  # ICMP port unreachable from an earlier send: not this socket's fault
                self.counters["send_errors"] += 1
                continue
            except OSError as err:
                self._error(f"receive failed: {err}")
                self._fail()
                return None

    def _fail(self) -> None:
        self._close()
        self._retry_at = -math.inf  # reopen on the next tick; _open counts and backs off on failure

    def _send(self, sock: socket.socket, data: bytes, addr: tuple[str, int]) -> bool:
        try:
            sock.sendto(data, addr)
            return True
        except (BlockingIOError, ConnectionRefusedError) as err:  # full buffer / nobody listening: datagram lost
            self.counters["send_errors"] += 1
            self.last_error = f"send to {addr[0]}:{addr[1]} failed: {err}"
            return False
        except OSError as err:
            self._error(f"send to {addr[0]}:{addr[1]} failed: {err}")
            self._fail()
            return False

    def _drain_vehicle(self, t_s: float) -> None:
        for _ in range(self.config.max_datagrams_per_tick):
            sock = self.vehicle_sock
            if sock is None:
                return
            got = self._recv(sock)
            if got is None:
                return
            data, addr = got
            self.vehicle_addr = addr
            if self.origin_s is None or self.pending_params or self.pack is not None:
                self._inspect(data, t_s)
            if self.dropping(t_s):
                self.counters["dropped_to_bridge"] += 1
                continue
            bsock = self.bridge_sock
            if bsock is not None and self._send(bsock, data, self.bridge_addr):
                self.counters["forwarded_to_bridge"] += 1
                self.counters["bytes_to_bridge"] += len(data)

    def _drain_bridge(self, t_s: float) -> None:
        for _ in range(self.config.max_datagrams_per_tick):
            sock = self.bridge_sock
            if sock is None:
                return
            got = self._recv(sock)
            if got is None:
                return
            data, addr = got
            if addr[1] != self.bridge_addr[1] or addr[0] != self._bridge_ip:
                self.counters["foreign_datagrams"] += 1
                continue
            if self.dropping(t_s):
                self.counters["dropped_to_vehicle"] += 1
                continue
            vsock = self.vehicle_sock
            if self.vehicle_addr is None or vsock is None:
                self.counters["no_vehicle_address"] += 1
                continue
            if self._send(vsock, data, self.vehicle_addr):
                self.counters["forwarded_to_vehicle"] += 1
                self.counters["bytes_to_vehicle"] += len(data)

    # --- health --------------------------------------------------------------------------------------
    def metrics(self) -> dict[str, float]:
        """Counters, whether the link is down now and the time origin (-1 while unknown)."""
        out = {k: float(v) for k, v in self.counters.items()}
        out["link_down"] = float(self.link_down)
        out["origin_s"] = -1.0 if self.origin_s is None else float(self.origin_s)
        out["params_pending"] = float(len(self.pending_params))
        if self.pack is not None:
            out["battery_soc"] = self.pack.soc
            out["battery_voltage_v"] = self.pack.battery.voltage_v
        return out

    def diagnostics(self) -> list[DiagnosticStatus]:
        """The relay's counters on /diagnostics; WARN while the sockets are closed or the link is down."""
        c = self.config
        closed = self.vehicle_sock is None or self.bridge_sock is None
        if closed:
            level, msg = DiagLevel.ERROR, f"sockets closed, retrying: {self.last_error}"
        elif self.link_down:
            level, msg = DiagLevel.WARN, "link dropped (scheduled outage)"
        elif self.counters["params_failed"]:
            level, msg = DiagLevel.WARN, f"relaying; {self.last_error}"
        elif self.origin_s is None:
            level, msg = DiagLevel.OK, "relaying; waiting for the vehicle to arm (time origin)"
        else:
            level, msg = DiagLevel.OK, "relaying"
        values = {k: (f"{v:g}" if isinstance(v, float) else str(v)) for k, v in self.metrics().items()}
        return [DiagnosticStatus(level, "sanqin/gazebo/mavlink_fault_relay", msg,
                                 f"udp {c.vehicle_host}:{c.vehicle_port} <-> {c.bridge_host}:{c.bridge_port}", values)]
