"""The simulated autopilot: Copter-like modes, arming checks, navigation, mission execution, failsafes, payload.

Modes follow ArduCopter's numbering and behaviour where it matters to a companion computer:
STABILIZE (the disarmed default; holds position here since no pilot flies it), GUIDED (takeoff, reposition,
offboard setpoints), AUTO (runs the mission), LOITER, RTL (climb to RTL_ALT, fly home or to the nearest
rally point, land, disarm), LAND (descend, disarm). Failsafes: GCS heartbeat loss (only the ground station
SYSID_MYGCS counts, as in ArduPilot), low/critical battery and fence breach, each with its ArduPilot-style action
parameter. Positions are ENU metres from home inside.

The pump, as ArduPilot drives it: a DO_SET_SERVO PWM and a DO_SET_RELAY state hold until set again — no mode change,
failsafe or disarming touches them (SRV_Channels keeps the output). DO_SPRAYER enables or disables the sprayer
(AC_Sprayer ``run``); once enabled it survives mode changes too, and pumps while the ground speed is at least
SPRAY_SPEED_MIN — switching on after 0.1 s above it, off after 1 s below it (AC_SPRAYER_DEFAULT_TURN_ON_DELAY /
SHUT_OFF_DELAY) — and at once when disabled. So a return that starts mid-pass sprays on the way home unless the
companion switches the pump off (:mod:`sanqin.uav_bridge.pump_guard`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.geo import GeoOrigin

from .dynamics import Battery, Multicopter, Wind

C = mavlink
MODES = {"STABILIZE": 0, "AUTO": 3, "GUIDED": 4, "LOITER": 5, "RTL": 6, "LAND": 9, "BRAKE": 17}
MODE_NAMES = {v: k for k, v in MODES.items()}

#: Mission commands the simulated vehicle executes (others are refused at upload: MAV_MISSION_UNSUPPORTED).
SUPPORTED_MISSION_COMMANDS = frozenset({
    C.MAV_CMD_NAV_WAYPOINT, C.MAV_CMD_NAV_LOITER_UNLIM, C.MAV_CMD_NAV_LOITER_TIME, C.MAV_CMD_NAV_RETURN_TO_LAUNCH,
    C.MAV_CMD_NAV_LAND, C.MAV_CMD_NAV_TAKEOFF, C.MAV_CMD_DO_JUMP, C.MAV_CMD_DO_CHANGE_SPEED,
    C.MAV_CMD_DO_SET_SERVO, C.MAV_CMD_DO_SET_RELAY, C.MAV_CMD_DO_SPRAYER, C.MAV_CMD_DO_SET_CAM_TRIGG_DIST,
    C.MAV_CMD_DO_DIGICAM_CONTROL, C.MAV_CMD_IMAGE_START_CAPTURE, C.MAV_CMD_IMAGE_STOP_CAPTURE,
    C.MAV_CMD_DO_MOUNT_CONTROL, C.MAV_CMD_DO_GIMBAL_MANAGER_PITCHYAW, C.MAV_CMD_CONDITION_YAW,
    C.MAV_CMD_CONDITION_DELAY, C.MAV_CMD_DO_SET_ROI_LOCATION, C.MAV_CMD_DO_SET_ROI_NONE,
    C.MAV_CMD_DO_SET_CAM_TRIGG_INTERVAL, C.MAV_CMD_NAV_DELAY,
})
NAV_COMMANDS = frozenset({
    C.MAV_CMD_NAV_WAYPOINT, C.MAV_CMD_NAV_LOITER_UNLIM, C.MAV_CMD_NAV_LOITER_TIME, C.MAV_CMD_NAV_RETURN_TO_LAUNCH,
    C.MAV_CMD_NAV_LAND, C.MAV_CMD_NAV_TAKEOFF, C.MAV_CMD_NAV_DELAY,
})
GLOBAL_FRAMES = frozenset({0, 3, 5, 6, 10, 11})
#: FS_GCS_ENABLE → action (0 none, 1 land, 2 RTL, 3 brake). Without a SmartRTL path or a DO_LAND_START sequence,
#: ArduCopter's "SmartRTL or RTL" and "DO_LAND_START or RTL" are RTL and "SmartRTL or land" lands.
GCS_FAILSAFE_ACTIONS = {1: 2, 2: 2, 3: 2, 4: 1, 5: 1, 6: 2, 7: 3}
POLY_IN = C.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION
#: AC_Sprayer's delays (s) before the pump follows the ground speed across SPRAY_SPEED_MIN (on / off).
SPRAYER_TURN_ON_DELAY_S, SPRAYER_SHUT_OFF_DELAY_S = 0.1, 1.0
POLY_OUT = C.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION


@dataclass
class Item:
    """A stored mission/fence/rally item (wire fields, x/y degE7 in global frames)."""

    command: int
    frame: int
    params: tuple[float, float, float, float]
    x: int
    y: int
    z: float
    autocontinue: int = 1


@dataclass
class PhotoRecord:
    """A camera trigger: time (s), WGS84 position, relative altitude (m), image index."""

    t_s: float
    latitude_deg: float
    longitude_deg: float
    alt_m: float
    index: int


@dataclass
class PayloadState:
    """Spray pump (servo PWM per channel, relays, sprayer enabled and pumping), camera triggering and gimbal."""

    servos: dict[int, int] = field(default_factory=dict)
    relays: dict[int, bool] = field(default_factory=dict)
    sprayer_on: bool = False  # enabled by DO_SPRAYER (AC_Sprayer's running flag)
    sprayer_pumping: bool = False  # its pump runs: enabled and fast enough (AC_Sprayer's spraying flag)
    sprayer_change_since: float | None = None  # since when the speed disagrees with sprayer_pumping (s)
    trigger_dist_m: float = 0.0
    trigger_interval_s: float = 0.0
    capture_left: int = 0
    last_trigger_pos: np.ndarray | None = None
    last_trigger_t: float = -1e9
    gimbal_pitch_deg: float = 0.0
    gimbal_yaw_deg: float = 0.0
    photos: list[PhotoRecord] = field(default_factory=list)


class Autopilot:
    """Modes, guidance, mission and failsafes over a :class:`Multicopter`; stepped by the simulator."""

    def __init__(self, origin: GeoOrigin, params: dict[str, float], body: Multicopter, battery: Battery,
                 wind: Wind) -> None:
        self.origin = origin
        self.params = params
        self.body = body
        self.battery = battery
        self.wind = wind
        self.armed = False
        self.mode = MODES["STABILIZE"]
        self.t_s = 0.0
        self.home = np.zeros(3)
        self.mission: list[Item] = []
        self.fence: list[Item] = []
        self._shapes_of: list[Item] | None = None  # the fence list _shapes was built from
        self._shapes: tuple[list[tuple[bool, Any]], list[tuple[bool, float, float, float]]] = ([], [])
        self.rally: list[Item] = []
        self.current = 0
        self.reached: list[int] = []
        self.jump_counts: dict[int, int] = {}
        self.target: np.ndarray | None = None
        self.yaw_target = 0.0
        self.speed_m_s = params["WPNAV_SPEED"] / 100.0
        self.hold_until = -1.0
        self.nav_phase = ""
        self.item_started = False
        self.offboard_setpoint: tuple[float, np.ndarray] | None = None
        self.payload = PayloadState()
        self.statustexts: list[tuple[int, str]] = []
        self.failsafe = ""
        self.failsafe_events: list[tuple[float, str]] = []
        self.fence_breaches = 0
        self.max_fence_violation_m = 0.0
        self.spray_log: list[tuple[float, bool, float, float]] = []  # t, on, east, north at each change
        self.sprayed_m = 0.0
        self.flown_m = 0.0
        self.last_gcs_heartbeat_s: float | None = None
        self.mission_complete = False
        self.landed_disarmed_at: float | None = None
        self._spray_prev = False
        self._below_since: dict[str, float] = {}

    # --- helpers ----------------------------------------------------------------------------------
    def say(self, severity: int, text: str) -> None:
        """Queue a STATUSTEXT."""
        self.statustexts.append((severity, text))

    def item_enu(self, it: Item) -> np.ndarray:
        """An item's position in ENU metres from home (relative altitude frames)."""
        if it.frame in GLOBAL_FRAMES:
            lat, lon = it.x / 1e7, it.y / 1e7
            if (it.x, it.y) == (0, 0):
                e, n = self.body.pos[0], self.body.pos[1]
            else:
                e, n, _ = self.origin.to_enu(lat, lon)
        else:
            e, n = self.body.pos[0], self.body.pos[1]
        alt = it.z if it.frame in (3, 6, 11) else it.z - self.origin.altitude_m
        if it.command == C.MAV_CMD_NAV_LAND:
            alt = 0.0
        return np.array([e, n, alt])

    @property
    def spraying(self) -> bool:
        """Whether the pump runs (counted while armed): the sprayer pumping, the pump relay on, or the pump servo
        above mid-stick."""
        ch = int(self.params["SPRAY_SERVO"])
        relay = int(self.params["SPRAY_RELAY"])
        return self.armed and (self.payload.sprayer_pumping or self.payload.servos.get(ch, 1000) > 1500
                               or self.payload.relays.get(relay, False))

    # --- arming and modes -------------------------------------------------------------------------
    def arming_failures(self, gps_ok: bool, ekf_ok: bool) -> list[str]:
        """Reasons the vehicle may not arm now (ArduPilot-style PreArm texts)."""
        if self.params["ARMING_CHECK"] == 0:
            return []
        out = []
        if not gps_ok:
            out.append("PreArm: GPS 1: Bad fix")
        if not ekf_ok:
            out.append("PreArm: EKF attitude is bad")
        if self.battery.voltage_v < self.params["BATT_ARM_VOLT"]:
            out.append(f"PreArm: Battery 1 below minimum arming voltage ({self.battery.voltage_v:.1f}V)")
        if self.mode in (MODES["RTL"], MODES["LAND"]):
            out.append(f"PreArm: Mode {MODE_NAMES[self.mode]} not armable")
        if self.mode == MODES["AUTO"] and not self.mission:
            out.append("PreArm: Mode AUTO requires mission")
        if self.params["FENCE_ENABLE"] >= 1 and self.fence and self.fence_violation_m(self.body.pos) > 0:
            out.append("PreArm: Fence: vehicle outside fence")
        return out

    def arm(self, gps_ok: bool, ekf_ok: bool, force: bool) -> tuple[bool, str]:
        """Try to arm; returns (ok, reason)."""
        if self.armed:
            return True, ""
        fails = [] if force else self.arming_failures(gps_ok, ekf_ok)
        if fails:
            for f in fails:
                self.say(C.MAV_SEVERITY_CRITICAL, f)
            return False, fails[0]
        self.armed = True
        self.home = np.array([self.body.pos[0], self.body.pos[1], 0.0])
        self.mission_complete = False
        self.landed_disarmed_at = None
        self.failsafe = ""
        self.nav_phase = ""
        self.say(C.MAV_SEVERITY_INFO, "Arming motors")
        if self.mode == MODES["AUTO"]:
            self._start_auto()
        return True, ""

    def disarm(self, force: bool = False) -> bool:
        """Disarm (refused in the air unless forced)."""
        if self.armed and not self.body.on_ground and not force:
            self.say(C.MAV_SEVERITY_CRITICAL, "Disarm: vehicle is flying")
            return False
        self.armed = False
        self.landed_disarmed_at = self.t_s
        self.say(C.MAV_SEVERITY_INFO, "Disarming motors")
        return True

    def set_mode(self, mode: int) -> bool:
        """Change flight mode; AUTO needs a mission."""
        if mode not in MODE_NAMES:
            return False
        if mode == MODES["AUTO"] and not self.mission:
            self.say(C.MAV_SEVERITY_WARNING, "Mode change to AUTO failed: no mission")
            return False
        self.mode = mode
        self.target = None
        self.nav_phase = ""
        if mode == MODES["AUTO"]:
            self._start_auto()
        elif mode in (MODES["LOITER"], MODES["GUIDED"], MODES["BRAKE"], MODES["STABILIZE"]):
            self.target = self.body.pos.copy() if not self.body.on_ground else None
        elif mode == MODES["RTL"]:
            self.nav_phase = "climb"
        return True  # the pump's servo, relay and sprayer outputs are left as they are, as ArduPilot does

    def takeoff(self, alt_m: float) -> tuple[bool, str]:
        """GUIDED takeoff to ``alt_m`` above home."""
        if not self.armed:
            return False, "Takeoff: not armed"
        if self.mode != MODES["GUIDED"]:
            return False, "Takeoff: not in GUIDED"
        if not self.body.on_ground and self.body.pos[2] > 1.0:
            return False, "Takeoff: already flying"
        self.target = np.array([self.body.pos[0], self.body.pos[1], alt_m])
        return True, ""

    def reposition(self, enu: np.ndarray) -> None:
        """GUIDED go-to."""
        self.mode = MODES["GUIDED"]
        self.target = enu.copy()

    # --- the mission ------------------------------------------------------------------------------
    def _start_auto(self) -> None:
        if self.current >= len(self.mission) or self.mission_complete:
            self.current = 0
            self.reached.clear()
            self.jump_counts.clear()
            self.mission_complete = False
        self.item_started = False

    def set_current(self, seq: int) -> bool:
        """Jump to mission item ``seq``."""
        if not 0 <= seq < max(1, len(self.mission)):
            return False
        self.current = seq
        self.item_started = False
        self.mission_complete = False
        return True

    def _run_mission(self) -> None:
        for _ in range(64):  # DO items run back to back within one step; bounded against jump loops
            if self.mode != MODES["AUTO"]:
                return
            if self.current >= len(self.mission):
                if not self.mission_complete:
                    self.mission_complete = True
                    self.say(C.MAV_SEVERITY_INFO, "Mission complete, changing mode to RTL" if self.armed else
                             "Mission complete")
                    if self.armed and not self.body.on_ground:
                        self.set_mode(MODES["RTL"])
                return
            it = self.mission[self.current]
            if not self.item_started:
                self.item_started = True
                if not self._begin_item(it):
                    continue
            if not self._item_done(it):
                return
            self._advance(it)

    def _advance(self, it: Item) -> None:
        self.reached.append(self.current)
        self.current += 1
        self.item_started = False

    def _begin_item(self, it: Item) -> bool:
        """Start an item; False when it completed at once (DO commands)."""
        cmd = it.command
        p = it.params
        if cmd in NAV_COMMANDS:
            self.hold_until = -1.0
            if cmd == C.MAV_CMD_NAV_TAKEOFF:
                self.target = np.array([self.body.pos[0], self.body.pos[1], max(it.z, 1.0)])
            elif cmd == C.MAV_CMD_NAV_RETURN_TO_LAUNCH:
                self.reached.append(self.current)
                self.current += 1
                self.item_started = False
                self.mission_complete = self.current >= len(self.mission)
                self.set_mode(MODES["RTL"])
                return False
            elif cmd == C.MAV_CMD_NAV_DELAY:
                self.target = self.body.pos.copy()
                self.hold_until = self.t_s + max(0.0, p[0])
            else:
                tgt = self.item_enu(it)
                if self.body.on_ground and tgt[2] > 0 and cmd != C.MAV_CMD_NAV_LAND:
                    self.nav_phase = "takeoff"
                self.target = tgt
            return True
        self._do_command(cmd, p, it)
        self.reached.append(self.current)
        self.current += 1
        self.item_started = False
        return False

    def _do_command(self, cmd: int, p: tuple[float, float, float, float], it: Item | None = None) -> None:
        pay = self.payload
        if cmd == C.MAV_CMD_DO_SET_SERVO:
            pay.servos[int(p[0])] = int(p[1])
        elif cmd == C.MAV_CMD_DO_SET_RELAY:
            pay.relays[int(p[0])] = bool(p[1])
        elif cmd == C.MAV_CMD_DO_SPRAYER:
            pay.sprayer_on = bool(p[0])
            if not pay.sprayer_on:  # AC_Sprayer::run(false) stops the pump at once
                pay.sprayer_pumping = False
                pay.sprayer_change_since = None
        elif cmd == C.MAV_CMD_DO_SET_CAM_TRIGG_DIST:
            pay.trigger_dist_m = max(0.0, p[0])
            pay.last_trigger_pos = self.body.pos.copy()
            if p[2] >= 1:
                self.photo()
        elif cmd == C.MAV_CMD_DO_SET_CAM_TRIGG_INTERVAL:
            pay.trigger_interval_s = max(0.0, p[0] / 1000.0)
        elif cmd == C.MAV_CMD_DO_DIGICAM_CONTROL:
            if it is None or it.z >= 1 or p[3] >= 0:
                self.photo()
        elif cmd == C.MAV_CMD_IMAGE_START_CAPTURE:
            pay.trigger_interval_s = max(0.0, p[1])
            pay.capture_left = int(p[2]) if p[2] > 0 else -1
            if pay.trigger_interval_s == 0:
                self.photo()
                pay.capture_left = 0
        elif cmd == C.MAV_CMD_IMAGE_STOP_CAPTURE:
            pay.trigger_interval_s = 0.0
            pay.capture_left = 0
        elif cmd in (C.MAV_CMD_DO_MOUNT_CONTROL, C.MAV_CMD_DO_GIMBAL_MANAGER_PITCHYAW):
            pay.gimbal_pitch_deg, pay.gimbal_yaw_deg = float(p[0]), float(p[2] if cmd == 205 else p[1])
        elif cmd == C.MAV_CMD_DO_CHANGE_SPEED and p[1] > 0:
            self.speed_m_s = float(p[1])
        elif cmd == C.MAV_CMD_CONDITION_YAW:
            self.yaw_target = math.pi / 2 - math.radians(p[0])
        elif cmd == C.MAV_CMD_DO_JUMP:
            target, repeat = int(p[0]), int(p[1])
            done = self.jump_counts.get(self.current, 0)
            if (repeat < 0 or done < repeat) and 0 <= target < len(self.mission):
                self.jump_counts[self.current] = done + 1
                self.current = target - 1  # the caller advances by one

    def _item_done(self, it: Item) -> bool:
        cmd = it.command
        if cmd == C.MAV_CMD_NAV_RETURN_TO_LAUNCH:
            return False  # RTL mode takes over
        if cmd == C.MAV_CMD_NAV_LOITER_UNLIM:
            return False
        if self.target is None:
            return True
        if cmd == C.MAV_CMD_NAV_LAND:
            return not self.armed
        radius = max(0.5, self.params["WPNAV_RADIUS"] / 100.0)
        if cmd == C.MAV_CMD_NAV_TAKEOFF:
            return self.body.pos[2] >= self.target[2] - 0.5
        if cmd == C.MAV_CMD_NAV_DELAY:
            return self.t_s >= self.hold_until
        d = float(np.linalg.norm(self.target - self.body.pos))
        if d > radius:
            return False
        hold = it.params[0] if cmd in (C.MAV_CMD_NAV_WAYPOINT, C.MAV_CMD_NAV_LOITER_TIME) else 0.0
        if hold > 0:
            if self.hold_until < 0:
                self.hold_until = self.t_s + hold
            return self.t_s >= self.hold_until
        return True

    # --- payload ------------------------------------------------------------------------------------
    def photo(self) -> None:
        """Trigger the camera here."""
        lat, lon, _ = self.origin.to_geodetic(self.body.pos[0], self.body.pos[1])
        pay = self.payload
        pay.photos.append(PhotoRecord(self.t_s, lat, lon, float(self.body.pos[2]), len(pay.photos)))
        pay.last_trigger_pos = self.body.pos.copy()
        pay.last_trigger_t = self.t_s

    def _payload_step(self, step_m: float) -> None:
        pay = self.payload
        if self.armed and pay.trigger_dist_m > 0 and pay.last_trigger_pos is not None:
            if float(np.linalg.norm(self.body.pos[:2] - pay.last_trigger_pos[:2])) >= pay.trigger_dist_m:
                self.photo()
        if self.armed and pay.trigger_interval_s > 0 and pay.capture_left != 0 and \
                self.t_s - pay.last_trigger_t >= pay.trigger_interval_s:
            self.photo()
            if pay.capture_left > 0:
                pay.capture_left -= 1
        self._sprayer_step()
        on = self.spraying
        if on != self._spray_prev:
            self.spray_log.append((self.t_s, on, float(self.body.pos[0]), float(self.body.pos[1])))
            self._spray_prev = on
        if on:
            self.sprayed_m += step_m

    def _sprayer_step(self) -> None:
        """AC_Sprayer's speed gate: pump after 0.1 s at or above SPRAY_SPEED_MIN, stop after 1 s below it."""
        pay = self.payload
        if not pay.sprayer_on:
            return
        fast = float(np.linalg.norm(self.body.vel[:2])) * 100.0 >= self.params["SPRAY_SPEED_MIN"]
        if fast == pay.sprayer_pumping:
            pay.sprayer_change_since = None
            return
        if pay.sprayer_change_since is None:
            pay.sprayer_change_since = self.t_s
        delay = SPRAYER_SHUT_OFF_DELAY_S if pay.sprayer_pumping else SPRAYER_TURN_ON_DELAY_S
        if self.t_s - pay.sprayer_change_since > delay:
            pay.sprayer_pumping = fast
            pay.sprayer_change_since = None

    # --- fence ------------------------------------------------------------------------------------
    def _fence_shapes(self) -> tuple[list[tuple[bool, Any]], list[tuple[bool, float, float, float]]]:
        """The stored fence in local metres: (inclusion, polygon) and (inclusion, east, north, radius). Rebuilt
        only when a new fence is stored (uploads replace the list): :meth:`fence_violation_m` runs every physics
        step in flight."""
        if self._shapes_of is not self.fence:
            from shapely.geometry import Polygon

            polygons, circles = [], []
            i = 0
            fence = self.fence
            while i < len(fence):
                it = fence[i]
                if it.command in (POLY_IN, POLY_OUT):
                    n = max(1, int(it.params[0]))
                    verts = [self.origin.to_enu(v.x / 1e7, v.y / 1e7)[:2] for v in fence[i:i + n]]
                    i += n
                    if len(verts) >= 3:
                        polygons.append((it.command == POLY_IN, Polygon(verts)))
                    continue
                if it.command in (C.MAV_CMD_NAV_FENCE_CIRCLE_INCLUSION, C.MAV_CMD_NAV_FENCE_CIRCLE_EXCLUSION):
                    e, n_, _ = self.origin.to_enu(it.x / 1e7, it.y / 1e7)
                    circles.append((it.command == C.MAV_CMD_NAV_FENCE_CIRCLE_INCLUSION, e, n_, it.params[0]))
                i += 1
            self._shapes, self._shapes_of = (polygons, circles), fence
        return self._shapes

    def fence_violation_m(self, pos: np.ndarray) -> float:
        """How far (m) ``pos`` is outside the fence (0 inside or without a fence)."""
        from shapely.geometry import Point

        worst = 0.0
        alt_max = self.params["FENCE_ALT_MAX"]
        if alt_max > 0 and pos[2] > alt_max:
            worst = max(worst, pos[2] - alt_max)
        pt = Point(float(pos[0]), float(pos[1]))
        polygons, circles = self._fence_shapes()
        inclusions = []
        for inclusion, poly in polygons:
            if inclusion:
                inclusions.append(0.0 if poly.covers(pt) else poly.exterior.distance(pt))
            elif poly.contains(pt):
                worst = max(worst, poly.exterior.distance(pt))
        for inclusion, e, n, radius in circles:
            d = math.hypot(pos[0] - e, pos[1] - n)
            if inclusion:
                inclusions.append(max(0.0, d - radius))
            elif d < radius:
                worst = max(worst, radius - d)
        if inclusions:
            worst = max(worst, max(inclusions))  # as ArduPilot: the vehicle must be inside every inclusion zone
        return worst

    # --- the loop ---------------------------------------------------------------------------------
    def step(self, t_s: float, dt_s: float, gps_ok: bool, gcs_link_ok: bool) -> None:
        """Guidance, failsafes, dynamics, battery and payload for one step."""
        self.t_s = t_s
        self._failsafes(gcs_link_ok)
        acc, yaw = self._guidance(dt_s)
        wind = self.wind.step(dt_s)
        before = self.body.pos.copy()
        self.body.step(acc, yaw, self.armed, wind, dt_s)
        self.battery.step(self.body.thrust_ratio, self.armed, dt_s)
        step_m = float(np.linalg.norm(self.body.pos[:2] - before[:2]))
        self.flown_m += step_m
        self._payload_step(step_m)
        if self.armed and self.body.on_ground and self.nav_phase == "land":
            auto_land = self.mode == MODES["AUTO"] and self.current < len(self.mission)
            self.disarm()
            self.say(C.MAV_SEVERITY_INFO, "Landed")
            if auto_land:
                self.reached.append(self.current)
                self.current += 1
                self.mission_complete = self.current >= len(self.mission)

    def _failsafes(self, gcs_link_ok: bool) -> None:
        if not self.armed or self.body.on_ground and self.mode not in (MODES["AUTO"], MODES["GUIDED"]):
            return
        v = self.battery.voltage_v
        crit, low = self.params["BATT_CRT_VOLT"], self.params["BATT_LOW_VOLT"]
        # like ArduPilot, a threshold counts only after the voltage stayed below it for BATT_LOW_TIMER
        for name, limit in (("crit", crit), ("low", low)):
            if limit > 0 and v < limit:
                self._below_since.setdefault(name, self.t_s)
            else:
                self._below_since.pop(name, None)
        timer = self.params["BATT_LOW_TIMER"]
        v_crit = self.t_s - self._below_since.get("crit", math.inf) >= timer
        v_low = self.t_s - self._below_since.get("low", math.inf) >= timer
        if v_crit and self.failsafe != "battery_critical":
            self.failsafe = "battery_critical"
            self._failsafe_action(int(self.params["BATT_FS_CRT_ACT"]), "Battery 1 is critical")
        elif v_low and not self.failsafe.startswith("battery"):
            self.failsafe = "battery_low"
            self._failsafe_action(int(self.params["BATT_FS_LOW_ACT"]), "Battery 1 is low")
        fs_gcs = int(self.params["FS_GCS_ENABLE"])
        if not gcs_link_ok and fs_gcs >= 1 and self.failsafe == "":
            self.failsafe = "gcs"
            self._failsafe_action(GCS_FAILSAFE_ACTIONS.get(fs_gcs, 2), "GCS Failsafe")
        if self.fence and not self.body.on_ground:
            d = self.fence_violation_m(self.body.pos)
            self.max_fence_violation_m = max(self.max_fence_violation_m, d)  # measured, enforced or not
            if self.params["FENCE_ENABLE"] >= 1 and d > 0 and self.mode not in (MODES["RTL"], MODES["LAND"]):
                self.fence_breaches += 1
                self._failsafe_action(2 if int(self.params["FENCE_ACTION"]) == 1 else 1, "Fence breached")

    def _failsafe_action(self, action: int, text: str) -> None:
        """ArduPilot battery action numbers: 0 none, 1 land, 2 RTL; 3 here: brake (hold position)."""
        self.failsafe_events.append((self.t_s, text))
        self.say(C.MAV_SEVERITY_CRITICAL, text)
        if action == 2 and self.mode != MODES["LAND"]:
            if self.mode != MODES["RTL"]:
                self.set_mode(MODES["RTL"])
        elif action == 1:
            self.set_mode(MODES["LAND"])
        elif action == 3 and self.mode not in (MODES["RTL"], MODES["LAND"]):
            self.set_mode(MODES["BRAKE"])

    def rtl_destination(self) -> np.ndarray:
        """Where RTL lands: home or the nearest rally point (ENU, ground)."""
        best = self.home.copy()
        if self.rally:
            cands = [self.item_enu(r) for r in self.rally]
            cands.append(self.home)
            best = min(cands, key=lambda c: float(np.linalg.norm(c[:2] - self.body.pos[:2])))
        return np.array([best[0], best[1], 0.0])

    def _guidance(self, dt_s: float) -> tuple[np.ndarray, float]:
        """Commanded acceleration (ENU) and yaw for the mode."""
        if not self.armed:
            return np.zeros(3), self.body.rpy[2]
        mode = self.mode
        pos = self.body.pos
        if self.offboard_setpoint is not None and mode == MODES["GUIDED"]:
            t_sp, sp = self.offboard_setpoint
            if self.t_s - t_sp < 1.0:
                self.target = sp
        if mode == MODES["AUTO"]:
            self._run_mission()
            if self.mode != MODES["AUTO"]:
                return self._guidance(dt_s)
            it = self.mission[self.current] if self.current < len(self.mission) else None
            if it is not None and it.command == C.MAV_CMD_NAV_LAND and self.target is not None:
                return self._land_at(self.target)
        elif mode == MODES["RTL"]:
            dest = self.rtl_destination()
            rtl_alt = max(self.params["RTL_ALT"] / 100.0, 2.0)
            if self.nav_phase == "climb":
                self.target = np.array([pos[0], pos[1], max(pos[2], rtl_alt)])
                if pos[2] >= rtl_alt - 0.5 or pos[2] >= self.target[2] - 0.5:
                    self.nav_phase = "return"
            if self.nav_phase == "return":
                alt = self.target[2] if self.target is not None else rtl_alt
                self.target = np.array([dest[0], dest[1], alt])
                if float(np.linalg.norm(pos[:2] - dest[:2])) < 1.0:
                    self.nav_phase = "land"
            if self.nav_phase in ("land", "landed"):
                return self._land_at(dest)
        elif mode == MODES["LAND"]:
            self.nav_phase = "land"
            return self._land_at(np.array([pos[0], pos[1], 0.0]) if self.target is None else self.target)
        if self.target is None:
            if self.body.on_ground:
                return np.array([0.0, 0.0, -1.0]), self.body.rpy[2]
            self.target = pos.copy()
        return self._goto(self.target), self._yaw_for()

    def _yaw_for(self) -> float:
        if self.target is not None:
            d = self.target[:2] - self.body.pos[:2]
            if float(np.linalg.norm(d)) > 3.0:
                self.yaw_target = math.atan2(d[1], d[0])
        return self.yaw_target

    def _land_at(self, dest: np.ndarray) -> tuple[np.ndarray, float]:
        self.nav_phase = "land"
        pos = self.body.pos
        land_speed = self.params["LAND_SPEED"] / 100.0
        vz = -land_speed if pos[2] < 10 else -max(land_speed, self.params["WPNAV_SPEED_DN"] / 100.0)
        v_des = np.zeros(3)
        v_des[:2] = np.clip(0.8 * (dest[:2] - pos[:2]), -3.0, 3.0)
        v_des[2] = vz
        acc = 2.0 * (v_des - self.body.vel)
        if self.body.on_ground:
            acc[2] = -2.0
        return acc, self.yaw_target

    def _goto(self, target: np.ndarray) -> np.ndarray:
        pos, vel = self.body.pos, self.body.vel
        err = target - pos
        horiz = float(np.linalg.norm(err[:2]))
        v_des = np.zeros(3)
        vmax = self.speed_m_s
        if horiz > 1e-6 and not (pos[2] < 1.5 < target[2]):  # lift off vertically first
            v_des[:2] = err[:2] / horiz * min(vmax, 0.9 * horiz, math.sqrt(2 * 2.5 * horiz))
        up, dn = self.params["WPNAV_SPEED_UP"] / 100.0, self.params["WPNAV_SPEED_DN"] / 100.0
        v_des[2] = max(-dn, min(up, 1.0 * err[2]))
        acc = 2.5 * (v_des - vel)
        lim = 6.0
        n = float(np.linalg.norm(acc[:2]))
        if n > lim:
            acc[:2] *= lim / n
        return acc
