"""The simulated autopilot's MAVLink side: heartbeat and telemetry streams, and the command, mission
(mission/fence/rally), parameter and offboard protocols, server side, as an ArduCopter answers them.

Fault knobs (for bad-input and failsafe tests) refuse or drop chosen commands and mission uploads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sanqin.uav_bridge.connection import MavConnection
from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.frames import attitude_enu_to_ned, frd_to_flu, quat_from_rpy, rpy_from_quat, yaw_enu_to_ned

from .autopilot import GLOBAL_FRAMES, MODE_NAMES, MODES, SUPPORTED_MISSION_COMMANDS, Autopilot, Item
from .dynamics import G_M_S2
from .params import ParamTable

C = mavlink
ACCEPTED, DENIED, FAILED, UNSUPPORTED = (C.MAV_RESULT_ACCEPTED, C.MAV_RESULT_DENIED, C.MAV_RESULT_FAILED,
                                         C.MAV_RESULT_UNSUPPORTED)
FENCE_COMMANDS = frozenset({5000, 5001, 5002, 5003, 5004})

#: Default stream rates (Hz) before a SET_MESSAGE_INTERVAL changes them.
DEFAULT_RATES_HZ = {
    "HEARTBEAT": 1.0, "SYS_STATUS": 1.0, "GPS_RAW_INT": 2.0, "GLOBAL_POSITION_INT": 4.0, "LOCAL_POSITION_NED": 4.0,
    "ATTITUDE_QUATERNION": 4.0, "ATTITUDE": 4.0, "SCALED_IMU": 4.0, "BATTERY_STATUS": 1.0, "EXTENDED_SYS_STATE": 1.0,
    "MISSION_CURRENT": 1.0, "HOME_POSITION": 0.2, "VFR_HUD": 2.0, "SERVO_OUTPUT_RAW": 1.0, "EKF_STATUS_REPORT": 1.0,
}
MSG_IDS = {name: getattr(C, f"MAVLINK_MSG_ID_{name}") for name in DEFAULT_RATES_HZ}
ID_NAMES = {v: k for k, v in MSG_IDS.items()}


@dataclass
class Faults:
    """Injected faults: commands never acknowledged or denied, mission uploads refused with a result."""

    no_ack_commands: frozenset[int] = frozenset()
    deny_commands: frozenset[int] = frozenset()
    mission_reject_result: int = 0  # MAV_MISSION_RESULT to answer every upload with (0: none)
    gps_ok: bool = True
    ekf_ok: bool = True


@dataclass
class _Upload:
    mission_type: int
    count: int
    items: dict[int, Item] = field(default_factory=dict)
    next_seq: int = 0
    deadline_s: float = 0.0
    retries: int = 0
    legacy: bool = False


class MavlinkServer:
    """Answers one autopilot's protocols over a :class:`MavConnection`; call :meth:`step` every tick."""

    ITEM_TIMEOUT_S = 0.5
    RETRIES = 5

    def __init__(self, conn: MavConnection, ap: Autopilot, params: ParamTable, faults: Faults | None = None) -> None:
        self.conn = conn
        self.mav = conn.mav
        self.ap = ap
        self.params = params
        self.faults = faults or Faults()
        self.now_s = 0.0
        self.intervals: dict[str, float] = {k: 1.0 / v for k, v in DEFAULT_RATES_HZ.items()}
        self.next_due: dict[str, float] = dict.fromkeys(DEFAULT_RATES_HZ, 0.0)
        self.upload: _Upload | None = None
        self.pending_acks: list[tuple[float, int, int, int, int]] = []  # due, command, result, sysid, compid
        self.reached_sent = 0
        self.photos_sent = 0
        self.last_mission_current: tuple[int, int] | None = None
        self.counters = {"commands": 0, "mission_uploads_ok": 0, "mission_uploads_failed": 0, "item_rerequests": 0,
                         "gcs_heartbeats": 0, "other_heartbeats": 0}

    # --- I/O --------------------------------------------------------------------------------------
    def send(self, msg: Any) -> None:
        """Send one message."""
        self.conn.send(msg)

    def step(self, now_s: float, link_up: bool = True) -> None:
        """Handle received messages, run transfer timeouts, send due telemetry."""
        self.now_s = now_s
        msgs = self.conn.poll()
        if not link_up:
            return
        for m in msgs:
            self.handle(m)
        self._upload_timeouts()
        for due, cmd, result, sysid, compid in [a for a in self.pending_acks if a[0] <= now_s]:
            self.pending_acks.remove((due, cmd, result, sysid, compid))
            self.send(self.mav.command_ack_encode(cmd, result, 100, 0, sysid, compid))
        self.step_statustexts()
        while self.reached_sent < len(self.ap.reached):
            self.send(self.mav.mission_item_reached_encode(self.ap.reached[self.reached_sent]))
            self.reached_sent += 1
        if len(self.ap.reached) < self.reached_sent:
            self.reached_sent = len(self.ap.reached)
        while self.photos_sent < len(self.ap.payload.photos):
            self._camera_feedback(self.ap.payload.photos[self.photos_sent])
            self.photos_sent += 1
        cur = (self.ap.current, len(self.ap.mission))
        if cur != self.last_mission_current:
            self.last_mission_current = cur
            self.next_due["MISSION_CURRENT"] = now_s
        for name, interval in self.intervals.items():
            if interval > 0 and now_s >= self.next_due[name]:
                self.send(self.encode(name))
                self.next_due[name] = max(self.next_due[name] + interval, now_s)

    def gcs_link_ok(self) -> bool:
        """False when the ground station SYSID_MYGCS was heard and then went silent for FS_GCS_TIMEOUT
        (never heard: no GCS failsafe, as in ArduCopter's failsafe_gcs_check)."""
        last = self.ap.last_gcs_heartbeat_s
        return last is None or self.now_s - last < self.params["FS_GCS_TIMEOUT"]

    # --- telemetry --------------------------------------------------------------------------------
    def encode(self, name: str) -> Any:
        """The current value of telemetry message ``name``."""
        ap, body, mav = self.ap, self.ap.body, self.mav
        t_ms = int(self.now_s * 1000) & 0xFFFFFFFF
        lat, lon, alt_msl = ap.origin.to_geodetic(*body.pos)
        vn, ve, vd = body.vel[1], body.vel[0], -body.vel[2]
        gps_ok = self.faults.gps_ok
        if name == "HEARTBEAT":
            base = (C.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED | C.MAV_MODE_FLAG_STABILIZE_ENABLED
                    | C.MAV_MODE_FLAG_GUIDED_ENABLED)
            if ap.armed:
                base |= C.MAV_MODE_FLAG_SAFETY_ARMED
            status = C.MAV_STATE_CRITICAL if ap.failsafe and ap.armed else (
                C.MAV_STATE_ACTIVE if ap.armed else C.MAV_STATE_STANDBY)
            return mav.heartbeat_encode(C.MAV_TYPE_QUADROTOR, C.MAV_AUTOPILOT_ARDUPILOTMEGA, base, ap.mode, status)
        if name == "SYS_STATUS":
            sensors = C.MAV_SYS_STATUS_SENSOR_3D_GYRO | C.MAV_SYS_STATUS_SENSOR_3D_ACCEL | C.MAV_SYS_STATUS_AHRS | \
                C.MAV_SYS_STATUS_SENSOR_GPS | C.MAV_SYS_STATUS_SENSOR_BATTERY | C.MAV_SYS_STATUS_GEOFENCE
            health = sensors
            if not gps_ok:
                health &= ~C.MAV_SYS_STATUS_SENSOR_GPS
            if not self.faults.ekf_ok:
                health &= ~C.MAV_SYS_STATUS_AHRS
            b = ap.battery
            return mav.sys_status_encode(sensors, sensors, health, 200, int(b.voltage_v * 1000),
                                         int(b.current_a * 100), int(round(b.soc * 100)), 0, 0, 0, 0, 0, 0)
        if name == "GPS_RAW_INT":
            fix = C.GPS_FIX_TYPE_3D_FIX if gps_ok else C.GPS_FIX_TYPE_NO_FIX
            cog = int((math.degrees(math.atan2(ve, vn)) % 360) * 100)
            return mav.gps_raw_int_encode(int(self.now_s * 1e6), fix, int(lat * 1e7), int(lon * 1e7),
                                          int(alt_msl * 1000), 80, 120, int(math.hypot(vn, ve) * 100), cog,
                                          14 if gps_ok else 0, int((alt_msl + 40.0) * 1000), 800, 1200, 150, 0, 0)
        if name == "GLOBAL_POSITION_INT":
            hdg = int((math.degrees(yaw_enu_to_ned(body.rpy[2])) % 360) * 100)
            return mav.global_position_int_encode(t_ms, int(lat * 1e7), int(lon * 1e7), int(alt_msl * 1000),
                                                  int(body.pos[2] * 1000), int(vn * 100), int(ve * 100),
                                                  int(vd * 100), hdg)
        if name == "LOCAL_POSITION_NED":
            return mav.local_position_ned_encode(t_ms, body.pos[1], body.pos[0], -body.pos[2], vn, ve, vd)
        if name in ("ATTITUDE_QUATERNION", "ATTITUDE"):
            q = attitude_enu_to_ned(quat_from_rpy(*body.rpy))
            p, qr, r = frd_to_flu(*body.rates)
            if name == "ATTITUDE":
                w, x, y, z = q
                roll, pitch, yaw = rpy_from_quat((x, y, z, w))
                return mav.attitude_encode(t_ms, roll, pitch, yaw, p, qr, r)
            return mav.attitude_quaternion_encode(t_ms, q[0], q[1], q[2], q[3], p, qr, r)
        if name == "SCALED_IMU":
            ax, ay, az = frd_to_flu(*body.specific_force_flu)
            g = G_M_S2
            gx, gy, gz = frd_to_flu(*body.rates)
            return mav.scaled_imu_encode(t_ms, int(ax / g * 1000), int(ay / g * 1000), int(az / g * 1000),
                                         int(gx * 1000), int(gy * 1000), int(gz * 1000), 200, 0, 400)
        if name == "BATTERY_STATUS":
            b = ap.battery
            cell_mv = int(b.voltage_v / b.p.cells * 1000)
            cells = [cell_mv] * b.p.cells + [65535] * (10 - b.p.cells)
            return mav.battery_status_encode(0, C.MAV_BATTERY_FUNCTION_ALL, C.MAV_BATTERY_TYPE_LIPO, 2500, cells,
                                             int(b.current_a * 100), int(b.consumed_ah * 1000), -1,
                                             int(round(b.soc * 100)))
        if name == "EXTENDED_SYS_STATE":
            if not ap.armed or body.on_ground:
                landed = C.MAV_LANDED_STATE_ON_GROUND
            elif ap.nav_phase == "land":
                landed = C.MAV_LANDED_STATE_LANDING
            else:
                landed = C.MAV_LANDED_STATE_IN_AIR
            return mav.extended_sys_state_encode(C.MAV_VTOL_STATE_MC, landed)
        if name == "MISSION_CURRENT":
            n = len(ap.mission)
            state = C.MISSION_STATE_NO_MISSION if n == 0 else (
                C.MISSION_STATE_COMPLETE if ap.mission_complete else (
                    C.MISSION_STATE_ACTIVE if ap.mode == MODES["AUTO"] and ap.armed else C.MISSION_STATE_NOT_STARTED))
            return mav.mission_current_encode(min(ap.current, max(0, n - 1)) if n else 0, n, state,
                                              1 if ap.mode == MODES["AUTO"] else 0)
        if name == "HOME_POSITION":
            hl, hn, ha = ap.origin.to_geodetic(*ap.home)
            return mav.home_position_encode(int(hl * 1e7), int(hn * 1e7), int(ha * 1000), ap.home[1], ap.home[0],
                                            -ap.home[2], [1.0, 0.0, 0.0, 0.0], 0.0, 0.0, 0.0, int(self.now_s * 1e6))
        if name == "VFR_HUD":
            gs = float(np.linalg.norm(body.vel[:2]))
            hdg = int(math.degrees(yaw_enu_to_ned(body.rpy[2])) % 360)
            return mav.vfr_hud_encode(gs, gs, hdg, int(min(100, body.thrust_ratio * 45)), alt_msl, body.vel[2])
        if name == "SERVO_OUTPUT_RAW":
            servos = [ap.payload.servos.get(i, 1500 if ap.armed and i <= 4 else 1000) for i in range(1, 17)]
            return mav.servo_output_raw_encode(int(self.now_s * 1e6), 0, *servos)
        if name == "EKF_STATUS_REPORT":
            # healthy with GPS as ArduPilot reports it (831: attitude, velocities, rel/abs position, predicted
            # positions; not const-pos mode); unhealthy: attitude only, no GPS aiding
            flags = 831 if self.faults.ekf_ok else C.EKF_ATTITUDE | C.EKF_CONST_POS_MODE
            return mav.ekf_status_report_encode(flags, 0.1, 0.1, 0.1, 0.1, 0.0)
        raise KeyError(name)

    def _camera_feedback(self, ph: Any) -> None:
        self.send(self.mav.camera_feedback_encode(
            int(ph.t_s * 1e6), self.mav.srcSystem, 0, ph.index, int(ph.latitude_deg * 1e7), int(ph.longitude_deg * 1e7),
            self.ap.origin.altitude_m + ph.alt_m, ph.alt_m, 0.0, self.ap.payload.gimbal_pitch_deg, 0.0, 0.0, 0,
            ph.index + 1))

    # --- dispatch ---------------------------------------------------------------------------------
    def handle(self, m: Any) -> None:
        """One received message."""
        mtype = m.get_type()
        target = getattr(m, "target_system", None)
        if target not in (None, 0, self.mav.srcSystem):
            return
        if mtype == "HEARTBEAT":
            # as ArduPilot (GCS_MAVLINK::handle_heartbeat): only heartbeats from system id SYSID_MYGCS feed the GCS
            # failsafe, whatever their MAV_TYPE — a companion on the vehicle's own system id, or a second ground
            # station, keeps nothing alive
            if m.get_srcSystem() == int(self.params["SYSID_MYGCS"]):
                self.ap.last_gcs_heartbeat_s = self.now_s
                self.counters["gcs_heartbeats"] += 1
            else:
                self.counters["other_heartbeats"] += 1
            return
        fn = getattr(self, "_on_" + mtype.lower(), None)
        if fn is not None:
            fn(m)

    # --- commands ---------------------------------------------------------------------------------
    def _ack(self, m: Any, command: int, result: int, progress: int = 0, result_param2: int = 0) -> None:
        self.send(self.mav.command_ack_encode(command, result, progress, result_param2, m.get_srcSystem(),
                                              m.get_srcComponent()))

    def _on_command_long(self, m: Any) -> None:
        self._command(m, int(m.command), [m.param1, m.param2, m.param3, m.param4, m.param5, m.param6, m.param7],
                      None)

    def _on_command_int(self, m: Any) -> None:
        frame = int(m.frame)
        self._command(m, int(m.command), [m.param1, m.param2, m.param3, m.param4, m.x / 1e7, m.y / 1e7, m.z], frame)

    def _command(self, m: Any, cmd: int, p: list[float], frame: int | None) -> None:
        self.counters["commands"] += 1
        if cmd in self.faults.no_ack_commands:
            return
        if cmd in self.faults.deny_commands:
            self._ack(m, cmd, DENIED)
            return
        ap = self.ap
        if cmd == C.MAV_CMD_COMPONENT_ARM_DISARM:
            force = abs(p[1] - 21196) < 0.5
            if p[0] >= 0.5:
                ok, _ = ap.arm(self.faults.gps_ok, self.faults.ekf_ok, force)
            else:
                ok = ap.disarm(force)
            if not ok:
                self.step_statustexts()
            self._ack(m, cmd, ACCEPTED if ok else FAILED)
        elif cmd == C.MAV_CMD_DO_SET_MODE:
            mode = int(p[1])
            self._ack(m, cmd, ACCEPTED if mode in MODE_NAMES and ap.set_mode(mode) else FAILED)
        elif cmd == C.MAV_CMD_NAV_TAKEOFF:
            ok, why = ap.takeoff(float(p[6]))
            if not ok:
                ap.say(C.MAV_SEVERITY_WARNING, why)
                self.step_statustexts()
            self._ack(m, cmd, ACCEPTED if ok else FAILED)
        elif cmd == C.MAV_CMD_NAV_LAND:
            self._ack(m, cmd, ACCEPTED if ap.set_mode(MODES["LAND"]) else FAILED)
        elif cmd == C.MAV_CMD_NAV_RETURN_TO_LAUNCH:
            self._ack(m, cmd, ACCEPTED if ap.set_mode(MODES["RTL"]) else FAILED)
        elif cmd == C.MAV_CMD_DO_REPOSITION:
            if not ap.armed or not all(math.isfinite(v) for v in (p[4], p[5])):
                self._ack(m, cmd, FAILED)
                return
            e, n, _ = ap.origin.to_enu(p[4], p[5])
            alt = p[6] if math.isfinite(p[6]) else float(ap.body.pos[2])
            if frame is not None and frame not in (C.MAV_FRAME_GLOBAL_RELATIVE_ALT,
                                                   C.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT):
                alt -= ap.origin.altitude_m
            if p[0] > 0:
                ap.speed_m_s = float(p[0])
            ap.reposition(np.array([e, n, alt]))
            self._ack(m, cmd, ACCEPTED)
        elif cmd == C.MAV_CMD_DO_SET_HOME:
            if p[0] >= 0.5:
                ap.home = np.array([ap.body.pos[0], ap.body.pos[1], 0.0])
            elif all(math.isfinite(v) for v in (p[4], p[5])):
                e, n, _ = ap.origin.to_enu(p[4], p[5])
                ap.home = np.array([e, n, 0.0])
            else:
                self._ack(m, cmd, FAILED)
                return
            self.next_due["HOME_POSITION"] = self.now_s
            self._ack(m, cmd, ACCEPTED)
        elif cmd == C.MAV_CMD_SET_MESSAGE_INTERVAL:
            name = ID_NAMES.get(int(p[0]))
            if name is None:
                self._ack(m, cmd, UNSUPPORTED)
                return
            us = p[1]
            self.intervals[name] = (1.0 / DEFAULT_RATES_HZ[name]) if us == 0 else (-1.0 if us < 0 else us / 1e6)
            self.next_due[name] = self.now_s
            self._ack(m, cmd, ACCEPTED)
        elif cmd in (C.MAV_CMD_REQUEST_MESSAGE, C.MAV_CMD_REQUEST_AUTOPILOT_CAPABILITIES):
            mid = int(p[0]) if cmd == C.MAV_CMD_REQUEST_MESSAGE else C.MAVLINK_MSG_ID_AUTOPILOT_VERSION
            if mid == C.MAVLINK_MSG_ID_AUTOPILOT_VERSION:
                self._ack(m, cmd, ACCEPTED)
                caps = C.MAV_PROTOCOL_CAPABILITY_MISSION_INT | C.MAV_PROTOCOL_CAPABILITY_COMMAND_INT | \
                    C.MAV_PROTOCOL_CAPABILITY_MISSION_FENCE | C.MAV_PROTOCOL_CAPABILITY_MISSION_RALLY | \
                    C.MAV_PROTOCOL_CAPABILITY_MAVLINK2 | C.MAV_PROTOCOL_CAPABILITY_PARAM_FLOAT | \
                    C.MAV_PROTOCOL_CAPABILITY_SET_POSITION_TARGET_LOCAL_NED
                self.send(self.mav.autopilot_version_encode(caps, 0x04050000, 0, 0, 0, [0] * 8, [0] * 8, [0] * 8,
                                                            0, 0, self.mav.srcSystem))
            elif mid in ID_NAMES:
                self._ack(m, cmd, ACCEPTED)
                self.send(self.encode(ID_NAMES[mid]))
            else:
                self._ack(m, cmd, UNSUPPORTED)
        elif cmd == C.MAV_CMD_MISSION_START:
            if not ap.mission:
                ap.say(C.MAV_SEVERITY_WARNING, "Mission start failed: no mission")
                self.step_statustexts()
                self._ack(m, cmd, FAILED)
                return
            if p[0] > 0:
                ap.set_current(int(p[0]))
            self._ack(m, cmd, ACCEPTED if ap.set_mode(MODES["AUTO"]) else FAILED)
        elif cmd == C.MAV_CMD_DO_SET_MISSION_CURRENT:
            ok = ap.set_current(int(p[0]))
            self.next_due["MISSION_CURRENT"] = self.now_s
            self._ack(m, cmd, ACCEPTED if ok else DENIED)
        elif cmd == C.MAV_CMD_DO_PAUSE_CONTINUE:
            self._ack(m, cmd, ACCEPTED if ap.set_mode(MODES["LOITER"] if p[0] == 0 else MODES["AUTO"]) else FAILED)
        elif cmd == C.MAV_CMD_PREFLIGHT_CALIBRATION:
            # long-running: IN_PROGRESS now, the final ACK a second later
            self._ack(m, cmd, C.MAV_RESULT_IN_PROGRESS, 0)
            self.pending_acks.append((self.now_s + 1.0, cmd, ACCEPTED, m.get_srcSystem(), m.get_srcComponent()))
        elif cmd in SUPPORTED_MISSION_COMMANDS and cmd not in (16, 17, 19, 20, 21, 22, 93, 177):
            ap._do_command(cmd, (p[0], p[1], p[2], p[3]))
            self._ack(m, cmd, ACCEPTED)
        else:
            self._ack(m, cmd, UNSUPPORTED)

    def step_statustexts(self) -> None:
        """Flush queued STATUSTEXTs now (so a refusal's reason precedes its ACK)."""
        for sev, text in self.ap.statustexts:
            self.send(self.mav.statustext_encode(sev, text.encode()[:50]))
        self.ap.statustexts.clear()

    # --- offboard ---------------------------------------------------------------------------------
    def _on_set_position_target_local_ned(self, m: Any) -> None:
        if not all(math.isfinite(v) for v in (m.x, m.y, m.z)):
            return
        self.ap.offboard_setpoint = (self.now_s, np.array([m.y, m.x, -m.z]))

    def _on_set_position_target_global_int(self, m: Any) -> None:
        e, n, _ = self.ap.origin.to_enu(m.lat_int / 1e7, m.lon_int / 1e7)
        if math.isfinite(m.alt):
            relative = int(m.coordinate_frame) in (C.MAV_FRAME_GLOBAL_RELATIVE_ALT, C.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT)
            up = m.alt if relative else m.alt - self.ap.origin.altitude_m
            self.ap.offboard_setpoint = (self.now_s, np.array([e, n, up]))

    # --- parameters -------------------------------------------------------------------------------
    def _param_value(self, name: str) -> Any:
        idx = self.params.names.index(name)
        return self.mav.param_value_encode(name.encode(), self.params[name], self.params.type_of(name),
                                           len(self.params.names), idx)

    def _on_param_request_list(self, m: Any) -> None:
        for name in self.params.names:
            self.send(self._param_value(name))

    def _on_param_request_read(self, m: Any) -> None:
        name = m.param_id.decode("utf-8", "replace") if isinstance(m.param_id, bytes) else str(m.param_id)
        name = name.split("\x00", 1)[0]
        if m.param_index >= 0 and not name:
            if m.param_index < len(self.params.names):
                self.send(self._param_value(self.params.names[m.param_index]))
            return
        if name in self.params.values:
            self.send(self._param_value(name))

    def _on_param_set(self, m: Any) -> None:
        name = m.param_id.decode("utf-8", "replace") if isinstance(m.param_id, bytes) else str(m.param_id)
        name = name.split("\x00", 1)[0]
        if name not in self.params.values:
            return  # ArduPilot ignores unknown names: the client times out
        if math.isfinite(m.param_value):
            self.params.set(name, float(m.param_value))
        self.send(self._param_value(name))

    # --- mission protocol -------------------------------------------------------------------------
    def _store(self, mission_type: int) -> list[Item]:
        return {0: self.ap.mission, 1: self.ap.fence, 2: self.ap.rally}.get(mission_type, [])

    def _mission_ack(self, m: Any, result: int, mission_type: int) -> None:
        self.send(self.mav.mission_ack_encode(m.get_srcSystem(), m.get_srcComponent(), result, mission_type))

    def _on_mission_count(self, m: Any) -> None:
        mt = int(m.mission_type)
        if mt not in (0, 1, 2):
            self._mission_ack(m, C.MAV_MISSION_UNSUPPORTED, mt)
            return
        if self.faults.mission_reject_result and mt == 0:
            self._mission_ack(m, self.faults.mission_reject_result, mt)
            self.counters["mission_uploads_failed"] += 1
            return
        if m.count > self.params["MIS_TOTAL_MAX"]:
            self._mission_ack(m, C.MAV_MISSION_NO_SPACE, mt)
            self.counters["mission_uploads_failed"] += 1
            return
        if self.ap.armed and mt == 0 and self.ap.mode == MODES["AUTO"]:
            self._mission_ack(m, C.MAV_MISSION_DENIED, mt)
            return
        if m.count == 0:
            self._commit(mt, [])
            self._mission_ack(m, C.MAV_MISSION_ACCEPTED, mt)
            return
        self.upload = _Upload(mt, int(m.count), deadline_s=self.now_s + self.ITEM_TIMEOUT_S)
        self._upload_src = (m.get_srcSystem(), m.get_srcComponent())
        self._request_item()

    def _request_item(self) -> None:
        up = self.upload
        if up is None:
            return
        ts, tc = self._upload_src
        self.send(self.mav.mission_request_int_encode(ts, tc, up.next_seq, up.mission_type))
        up.deadline_s = self.now_s + self.ITEM_TIMEOUT_S

    def _upload_timeouts(self) -> None:
        up = self.upload
        if up is None or self.now_s < up.deadline_s:
            return
        if up.retries >= self.RETRIES:
            ts, tc = self._upload_src
            self.send(self.mav.mission_ack_encode(ts, tc, C.MAV_MISSION_OPERATION_CANCELLED, up.mission_type))
            self.upload = None
            self.counters["mission_uploads_failed"] += 1
            return
        up.retries += 1
        self.counters["item_rerequests"] += 1
        self._request_item()

    def _validate(self, it: Item, mt: int) -> int:
        if mt == 0 and it.command not in SUPPORTED_MISSION_COMMANDS:
            return C.MAV_MISSION_UNSUPPORTED
        if mt == 1 and it.command not in FENCE_COMMANDS:
            return C.MAV_MISSION_UNSUPPORTED
        if mt == 1 and it.command in (C.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION,
                                      C.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION):
            if not (math.isfinite(it.params[0]) and it.params[0] >= 3):  # the vertex count
                return C.MAV_MISSION_INVALID_PARAM1
        if mt == 1 and it.command in (C.MAV_CMD_NAV_FENCE_CIRCLE_INCLUSION, C.MAV_CMD_NAV_FENCE_CIRCLE_EXCLUSION):
            if not (math.isfinite(it.params[0]) and it.params[0] > 0):  # the radius
                return C.MAV_MISSION_INVALID_PARAM1
        if mt == 2 and it.command != C.MAV_CMD_NAV_RALLY_POINT:
            return C.MAV_MISSION_UNSUPPORTED
        if it.frame not in GLOBAL_FRAMES and it.frame != C.MAV_FRAME_MISSION:
            return C.MAV_MISSION_UNSUPPORTED_FRAME
        if it.frame in GLOBAL_FRAMES and (it.x, it.y) != (0, 0):
            if not -900_000_000 <= it.x <= 900_000_000:
                return C.MAV_MISSION_INVALID_PARAM5_X
            if not -1_800_000_000 <= it.y <= 1_800_000_000:
                return C.MAV_MISSION_INVALID_PARAM6_Y
        if not math.isfinite(it.z) and it.frame in GLOBAL_FRAMES and it.command in (16, 21, 22):
            return C.MAV_MISSION_INVALID_PARAM7
        return C.MAV_MISSION_ACCEPTED

    def _item_from(self, m: Any) -> Item:
        if m.get_type() == "MISSION_ITEM":
            glob = int(m.frame) in GLOBAL_FRAMES
            x = int(round(m.x * 1e7)) if glob and math.isfinite(m.x) else 0
            y = int(round(m.y * 1e7)) if glob and math.isfinite(m.y) else 0
        else:
            x, y = int(m.x), int(m.y)
        return Item(int(m.command), int(m.frame), (m.param1, m.param2, m.param3, m.param4), x, y, float(m.z),
                    int(m.autocontinue))

    def _on_mission_item_int(self, m: Any) -> None:
        up = self.upload
        if up is None or int(m.mission_type) != up.mission_type:
            return
        if int(m.seq) != up.next_seq:
            return  # a stale or duplicated item: the request for next_seq stands
        it = self._item_from(m)
        res = self._validate(it, up.mission_type)
        if res != C.MAV_MISSION_ACCEPTED:
            self._mission_ack(m, res, up.mission_type)
            self.upload = None
            self.counters["mission_uploads_failed"] += 1
            return
        up.items[up.next_seq] = it
        up.next_seq += 1
        up.retries = 0
        if up.next_seq >= up.count:
            self._commit(up.mission_type, [up.items[i] for i in range(up.count)])
            self._mission_ack(m, C.MAV_MISSION_ACCEPTED, up.mission_type)
            self.upload = None
            self.counters["mission_uploads_ok"] += 1
        else:
            self._request_item()

    _on_mission_item = _on_mission_item_int

    def _commit(self, mt: int, items: list[Item]) -> None:
        if mt == 0:
            self.ap.mission = items
            self.ap.current = 0
            self.ap.reached.clear()
            self.reached_sent = 0
            self.ap.mission_complete = False
            self.next_due["MISSION_CURRENT"] = self.now_s
        elif mt == 1:
            self.ap.fence = items
        else:
            self.ap.rally = items

    def _on_mission_request_list(self, m: Any) -> None:
        mt = int(m.mission_type)
        self.send(self.mav.mission_count_encode(m.get_srcSystem(), m.get_srcComponent(), len(self._store(mt)), mt))

    def _on_mission_request_int(self, m: Any) -> None:
        mt = int(m.mission_type)
        store = self._store(mt)
        seq = int(m.seq)
        if not 0 <= seq < len(store):
            self._mission_ack(m, C.MAV_MISSION_INVALID_SEQUENCE, mt)
            return
        it = store[seq]
        self.send(self.mav.mission_item_int_encode(
            m.get_srcSystem(), m.get_srcComponent(), seq, it.frame, it.command, int(seq == self.ap.current),
            it.autocontinue, *it.params, it.x, it.y, it.z, mt))

    _on_mission_request = _on_mission_request_int

    def _on_mission_clear_all(self, m: Any) -> None:
        mt = int(m.mission_type)
        if self.ap.armed and mt == 0 and self.ap.mode == MODES["AUTO"]:
            self._mission_ack(m, C.MAV_MISSION_DENIED, mt)
            return
        if mt == C.MAV_MISSION_TYPE_ALL:
            for t in (0, 1, 2):
                self._commit(t, [])
        else:
            self._commit(mt, [])
        self._mission_ack(m, C.MAV_MISSION_ACCEPTED, mt)

    def _on_mission_set_current(self, m: Any) -> None:
        if self.ap.set_current(int(m.seq)):
            self.next_due["MISSION_CURRENT"] = self.now_s
            self.last_mission_current = None

    def _on_mission_ack(self, m: Any) -> None:
        return  # the end of a download: nothing to do
