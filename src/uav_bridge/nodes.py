"""The ``uav_bridge`` node: one MAVLink vehicle ↔ ROS 2, under the vehicle's own namespace.

Topics (relative, so ``namespace: uav1`` gives ``/uav1/fix`` …):

* out ``fix`` sensor_msgs/NavSatFix, ``imu`` sensor_msgs/Imu (FLU in ENU), ``odom`` nav_msgs/Odometry
  (``map`` ENU at the autopilot's origin → ``base_link``), ``battery`` sensor_msgs/BatteryState,
  ``vehicle_state`` diagnostic_msgs/DiagnosticStatus (armed, mode, system status, mission progress as
  key/values — standard messages only: an ament_python package cannot define .msg types),
  ``events`` std_msgs/String (command and mission outcomes, failsafe actions; one line each);
* in ``setpoint`` geometry_msgs/PoseStamped (offboard position target, ENU ``map``) from the MPC planner;
  ``mission_plan`` std_msgs/String holding a QGroundControl .plan JSON document (replaces the staged plan).

Services (std_srvs): ``arm`` SetBool, ``takeoff``/``land``/``rtl``/``hold``/``set_home``/``start_mission``/
``clear_mission``/``download_mission``/``capture_image`` Trigger, ``spray`` SetBool (pump on/off now),
``upload`` Trigger (the staged plan: fence, rally, mission), ``fly`` Trigger (upload → pre-flight → arm →
start), ``preflight`` Trigger (answers at once), ``offboard`` SetBool. Commands run through the MAVLink
command protocol, so their outcome arrives later: the service answers "sent" and the result (with the
autopilot's reason on failure) is published on ``events``.

Link loss by role (ArduPilot's GCS failsafe counts only heartbeats from system id SYSID_MYGCS, default 255):
``link.role: gcs`` (system id 255 unless set) — before arming the plan executive sets SYSID_MYGCS to our id and
FS_GCS_ENABLE to ``safety.link_loss_action``, so the autopilot returns or lands by itself when we go silent;
``link.role: onboard`` (the vehicle's system id) — the autopilot's GCS failsafe watches the ground station, never
this companion, and is left alone; the companion commands ``safety.link_loss_action`` when the autopilot link
comes back after a loss in flight (unless the vehicle is already returning or landing).

The pump (:mod:`~sanqin.uav_bridge.pump_guard`): ArduPilot keeps a DO_SET_SERVO/DO_SET_RELAY output and its
sprayer through mode changes, so while the pump may be on (a spray plan flying, or ``spray`` switched it on) the
companion switches it off with the ``payload`` method when the vehicle leaves AUTO, enters RTL/LAND/BRAKE or disarms,
or when it commands a failsafe itself — resent until acknowledged, also after a link outage; ``events`` says
``payload: pump off (<why>)`` (``payload.pump_off_on_failsafe``, on by default).

Diagnostics: the link's protocol counters (``uav_bridge/vehicle<id>/link``) and the flight's key figures
(``sanqin/uav/uav_bridge``: connected, link_losses, failsafe_actions, executive_done/failed, pumps_off,
pump_off_pending), which a recording's scorer reads as ``nodes.uav_bridge.*``.

Several vehicles: one node per vehicle, each with its namespace and ``vehicle_system_id``; with their own
connections, or sharing one link (``link.share: true``, same ``link.url``, nodes in one process).
Go-to targets are offboard setpoints on ``setpoint`` (a Trigger/SetBool service cannot carry coordinates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sanqin.common.diagnostics import DiagLevel, DiagnosticStatus
from sanqin.common.types import PoseStamped
from sanqin.msgs.geometry import odometry_to_msg, pose_stamped_from_msg
from sanqin.msgs.sensors import battery_to_msg, imu_to_msg, navsat_to_msg
from sanqin.msgs.vehicle import text_from_msg, text_to_msg, vehicle_state_to_msg
from sanqin.runtime.config import nested, param, require
from sanqin.runtime.node import Input, NodeSpec, Output, Qos, Service, ServiceResult, Timer
from sanqin.runtime.paths import resolve_data_path
from sanqin.uav_bridge.bridge import Bridge, BridgeOptions
from sanqin.uav_bridge.commands import CommandTiming
from sanqin.uav_bridge.errors import PlanFileError, UavBridgeError
from sanqin.uav_bridge.executive import ExecutiveOptions, MissionExecutive
from sanqin.uav_bridge.mission import MissionTiming
from sanqin.uav_bridge.offboard import OffboardStreamer, Setpoint, setpoint_from_pose
from sanqin.uav_bridge.operation import Operation
from sanqin.uav_bridge.payload import SprayConfig, single_photo, spray_off, spray_on
from sanqin.uav_bridge.plan_file import Plan, loads_plan, read_plan
from sanqin.uav_bridge.preflight import FailsafeMonitor, FailsafePolicy, PreflightLimits, preflight_failures
from sanqin.uav_bridge.pump_guard import PumpGuard, PumpGuardOptions
from sanqin.uav_bridge.vehicle import Vehicle, VehicleOptions


@dataclass(frozen=True)
class LinkConfig:
    """The MAVLink connection and our identity on it."""

    url: str = param("udpin:127.0.0.1:14550", "connection URL (udpin/udpout/tcp/tcpin/serial/mem)")
    role: str = param("onboard", "our HEARTBEAT: onboard companion computer or gcs", choices=("onboard", "gcs"))
    system_id: int = param(0, "our MAVLink system id; 0: by role — 255 as gcs (what ArduPilot's GCS failsafe "
                              "watches, SYSID_MYGCS), the vehicle's id onboard", min=0, max=255)
    vehicle_system_id: int = param(1, "the vehicle's system id; other system ids are ignored", min=1, max=255)
    heartbeat_hz: float = param(1.0, "our heartbeat rate (Hz)", min=0.2, max=10.0)
    link_timeout_s: float = param(3.0, "heartbeat silence that counts as link loss (s)", min=0.5, max=60.0)
    signing_key_file: str = param("", "MAVLink 2 signing key (64 hex characters); empty: unsigned")
    require_signing: bool = param(False, "refuse unsigned incoming traffic")
    tlog_path: str = param("", "telemetry log (.tlog) to append to; empty: none")
    autopilot: str = param("ardupilot", "mode mapping when the heartbeat does not say", choices=("ardupilot", "px4"))
    share: bool = param(False, "share this URL with other uav_bridge nodes in the process (several vehicles "
                               "on one link, one node and namespace per vehicle)")
    home_at_seq0: bool = param(False, "ArduPilot mission numbering (seq 0 = home) on upload/download")


@dataclass(frozen=True)
class ProtocolConfig:
    """Command and mission protocol timing."""

    command_timeout_s: float = param(1.0, "COMMAND_ACK timeout (s)", min=0.05, max=30.0)
    command_retries: int = param(3, "command resends", min=0, max=10)
    in_progress_timeout_s: float = param(30.0, "how long IN_PROGRESS may last (s)", min=1.0, max=600.0)
    mission_timeout_s: float = param(1.5, "mission handshake timeout (s)", min=0.05, max=30.0)
    mission_item_timeout_s: float = param(0.25, "mission item timeout while downloading (s)", min=0.01, max=10.0)
    mission_retries: int = param(5, "mission protocol retries", min=0, max=20)


@dataclass(frozen=True)
class StreamConfig:
    """Telemetry rates requested with MAV_CMD_SET_MESSAGE_INTERVAL, and our publishing of vehicle state."""

    attitude_hz: float = param(20.0, "ATTITUDE_QUATERNION rate (Hz)", min=0.0, max=200.0)
    imu_hz: float = param(20.0, "SCALED_IMU rate (Hz)", min=0.0, max=200.0)
    position_hz: float = param(10.0, "GLOBAL_POSITION_INT / LOCAL_POSITION_NED rate (Hz)", min=0.0, max=100.0)
    gps_hz: float = param(5.0, "GPS_RAW_INT rate (Hz)", min=0.0, max=50.0)
    status_hz: float = param(2.0, "SYS_STATUS / BATTERY_STATUS / MISSION_CURRENT … rate (Hz)", min=0.0, max=50.0)
    state_publish_hz: float = param(2.0, "vehicle_state publishing rate (Hz)", min=0.1, max=50.0)


@dataclass(frozen=True)
class MissionConfig:
    """The staged plan and the flight sequence."""

    plan_file: str = param("", "QGroundControl .plan staged at start (absolute or relative to the share folder); "
                                "empty: wait for ~/mission_plan")
    autostart: bool = param(False, "fly the staged plan as soon as the vehicle is connected")
    takeoff_alt_m: float = param(10.0, "altitude of the ~/takeoff service (m above home)", min=1.0, max=500.0)
    telemetry_wait_s: float = param(10.0, "how long pre-flight waits for good telemetry (s)", min=0.0, max=300.0)
    configure_failsafes: bool = param(True, "before arming, set the autopilot's battery failsafe action to the "
                                            "policy, and as gcs also its GCS failsafe (FS_GCS_ENABLE, SYSID_MYGCS)")


@dataclass(frozen=True)
class SafetyConfig:
    """Pre-flight limits and the companion's failsafe policy."""

    min_fix_type: int = param(3, "minimum GPS fix type (3 = 3D)", min=0, max=8)
    min_satellites: int = param(6, "minimum satellites", min=0, max=50)
    min_battery: float = param(0.5, "minimum battery to start (fraction)", min=0.0, max=1.0)
    require_ekf: bool = param(True, "EKF/AHRS must be healthy")
    require_fence: bool = param(True, "a geofence is required and the mission must stay inside it")
    landing_fence_margin_m: float = param(2.0, "home and rally points (where RTL lands) must be this far inside "
                                               "the fence (m; ArduPilot's FENCE_MARGIN is 2 m)", min=0.0, max=100.0)
    battery_low: float = param(0.25, "battery fraction that triggers battery_action", min=0.0, max=1.0)
    battery_action: str = param("rtl", "on low battery", choices=("rtl", "land", "none"))
    link_loss_action: str = param("rtl", "on a link loss in flight. role gcs: the autopilot's GCS failsafe "
                                         "(FS_GCS_ENABLE, set before arming with SYSID_MYGCS = our id) acts on its "
                                         "own; role onboard: the autopilot does not watch a companion, so the "
                                         "companion commands it when the autopilot link returns",
                                  choices=("rtl", "land", "none"))


@dataclass(frozen=True)
class OffboardConfig:
    """Offboard setpoint streaming."""

    rate_hz: float = param(10.0, "setpoint stream rate (Hz)", min=2.0, max=100.0)
    planner_timeout_s: float = param(0.5, "planner silence before the safe hold (s)", min=0.05, max=10.0)


@dataclass(frozen=True)
class PayloadConfig:
    """How the spray pump is switched by the ``spray`` service (plans carry their own items)."""

    spray_method: str = param("servo", "servo (DO_SET_SERVO), relay (DO_SET_RELAY) or sprayer (DO_SPRAYER)",
                              choices=("servo", "relay", "sprayer"))
    spray_servo_channel: int = param(9, "servo output of the pump", min=1, max=16)
    spray_pwm_off: int = param(1100, "pump off PWM (µs)", min=800, max=2200)
    spray_pwm_on: int = param(1900, "pump on PWM at full rate (µs)", min=800, max=2200)
    spray_relay: int = param(0, "relay of the pump", min=0, max=15)
    pump_off_on_failsafe: bool = param(True, "while the pump may be on (a spray plan flying, or the spray service "
                                             "switched it on), command it off when the vehicle leaves AUTO, enters "
                                             "RTL/LAND/BRAKE, disarms, or the companion commands a failsafe action: "
                                             "ArduPilot's servo, relay and sprayer outputs outlast mode changes")
    pump_off_retry_s: float = param(1.0, "wait before resending a refused or unacknowledged pump-off (s)",
                                    min=0.1, max=30.0)

    def __post_init__(self) -> None:
        # the pump guard tells a plan's pump-on servo items by a PWM above spray_pwm_off: on at or below off would
        # leave every spray plan unguarded (and the spray service's "on" would not switch anything)
        require(self.spray_pwm_on > self.spray_pwm_off, "payload.spray_pwm_on must be above payload.spray_pwm_off")


@dataclass(frozen=True)
class UavBridgeConfig:
    """Everything the node needs."""

    tick_period_s: float = param(0.02, "how often the link is polled (s)", min=0.001, max=0.5)
    link: LinkConfig = nested(LinkConfig)
    protocol: ProtocolConfig = nested(ProtocolConfig)
    streams: StreamConfig = nested(StreamConfig)
    mission: MissionConfig = nested(MissionConfig)
    safety: SafetyConfig = nested(SafetyConfig)
    offboard: OffboardConfig = nested(OffboardConfig)
    payload: PayloadConfig = nested(PayloadConfig)

    def __post_init__(self) -> None:
        require(self.tick_period_s * 4 <= self.protocol.command_timeout_s,
                "tick_period_s must be at most a quarter of protocol.command_timeout_s")


def spray_config(p: PayloadConfig) -> SprayConfig:
    """How the ``spray`` service and the pump guard switch the pump (full rate at ``spray_pwm_on``)."""
    return SprayConfig(p.spray_method, p.spray_servo_channel, p.spray_pwm_off, p.spray_pwm_on, p.spray_pwm_on,
                       p.spray_relay)


def bridge_options(c: UavBridgeConfig) -> BridgeOptions:
    """The core's options from the node config."""
    p, s = c.protocol, c.streams
    vehicle = VehicleOptions(
        autopilot=c.link.autopilot, home_at_seq0=c.link.home_at_seq0, link_timeout_s=c.link.link_timeout_s,
        command=CommandTiming(p.command_timeout_s, p.command_retries, p.in_progress_timeout_s),
        mission=MissionTiming(p.mission_timeout_s, p.mission_item_timeout_s, p.mission_retries),
        stream_rates_hz=(("attitude_hz", s.attitude_hz), ("imu_hz", s.imu_hz), ("position_hz", s.position_hz),
                         ("gps_hz", s.gps_hz), ("status_hz", s.status_hz)),
    )
    return BridgeOptions(role=c.link.role, system_id=c.link.system_id, heartbeat_hz=c.link.heartbeat_hz,
                         vehicles=(c.link.vehicle_system_id,), signing_key_file=c.link.signing_key_file,
                         require_signing=c.link.require_signing, tlog_path=c.link.tlog_path, vehicle=vehicle)


#: Links shared between nodes of one process: URL → (bridge, number of nodes using it).
_SHARED: dict[str, tuple[Bridge, int]] = {}


def _open_bridge(c: UavBridgeConfig) -> Bridge:
    if not c.link.share:
        return Bridge.open(c.link.url, bridge_options(c))
    bridge, users = _SHARED.get(c.link.url, (None, 0))
    if bridge is None:
        bridge = Bridge.open(c.link.url, bridge_options(c))
    else:
        bridge.accept_vehicle(c.link.vehicle_system_id, bridge_options(c).vehicle)
    _SHARED[c.link.url] = (bridge, users + 1)
    return bridge


class UavBridgeNode:
    """The component: a :class:`Bridge` with one vehicle, its telemetry, services, plan and safety."""

    def __init__(self, config: UavBridgeConfig) -> None:
        self.config = config
        self.bridge = _open_bridge(config)
        self.vehicle: Vehicle = self.bridge.vehicle(config.link.vehicle_system_id)
        sf = config.safety
        self.limits = PreflightLimits(sf.min_fix_type, sf.min_satellites, sf.min_battery, sf.require_ekf,
                                      sf.require_fence, sf.landing_fence_margin_m)
        self.policy = FailsafePolicy(sf.battery_low, sf.battery_action, sf.link_loss_action)
        self.failsafe = FailsafeMonitor(self.policy)
        self.offboard = OffboardStreamer(self.bridge.conn.mav, self.bridge.conn.send, config.link.vehicle_system_id,
                                         1, config.offboard.rate_hz, config.offboard.planner_timeout_s)
        self.plan: Plan | None = None
        if config.mission.plan_file:  # absolute, or relative to the package's share folder
            self.plan = read_plan(resolve_data_path(config.mission.plan_file))
        self.executive: MissionExecutive | None = None
        self.events: list[str] = []
        self._watch: list[tuple[str, Operation[Any]]] = []
        self._next_state_s = 0.0
        self.counters = {"commands_ok": 0, "commands_failed": 0, "failsafe_actions": 0, "plans_received": 0,
                         "plans_rejected": 0}
        self.last_failsafe = ""
        self._autostarted = False
        self.pump = PumpGuard(self.vehicle.do, spray_config(config.payload),
                              PumpGuardOptions(config.payload.pump_off_on_failsafe, config.payload.pump_off_retry_s))

    # --- events -----------------------------------------------------------------------------------
    def _event(self, text: str) -> None:
        self.events.append(text)

    def _watch_op(self, what: str, op: Operation[Any]) -> ServiceResult:
        self._watch.append((what, op))
        return ServiceResult(True, f"{what}: sent; outcome on events")

    def _check_ops(self, t_s: float) -> None:
        for what, op in list(self._watch):
            if op.done:
                self._watch.remove((what, op))
                if op.error is None:
                    self.counters["commands_ok"] += 1
                    res = op.result()
                    self._event(f"{what}: ok" + (f" ({len(res)} items)" if isinstance(res, list) else ""))
                else:
                    self.counters["commands_failed"] += 1
                    self._event(f"{what}: FAILED: {op.error}")
                    if what.startswith("failsafe "):  # never leave a failsafe unanswered: land instead
                        self.failsafe.command_failed(t_s)

    # --- timer ------------------------------------------------------------------------------------
    def tick(self, t_s: float) -> dict[str, Any]:
        """Poll the link, advance protocols, the plan executive, offboard and safety; publish."""
        self.bridge.step_once(t_s)
        v = self.vehicle
        for _t, e in v.events:
            self._event(f"link {e}")
        v.events.clear()
        if self.executive is None and self.config.mission.autostart and self.plan is not None and v.connected \
                and not self._autostarted:
            self._autostarted = True  # once: a refused plan is reported, not retried every tick
            try:
                self._start_executive(t_s, fly=True)
            except UavBridgeError as err:
                self._event(f"plan: FAILED: {err}")
        if self.executive is not None:
            before = len(self.executive.log_lines)
            self.executive.step(t_s)
            for line in self.executive.log_lines[before:]:
                self._event(f"plan: {line}")
        self._check_ops(t_s)
        self._safety(t_s)
        st = v.link.status
        self.pump.step(t_s, connected=v.connected, armed=st.armed, mode=st.mode, autopilot=st.autopilot)
        for line in self.pump.events:
            self._event(line)
        self.pump.events.clear()
        event = self.offboard.step(t_s, self._current_setpoint())
        if event == "hold":
            self._event("offboard: planner silent, holding position")
            self._try(lambda: v.pause(), "hold after planner silence")
        out: dict[str, Any] = dict(v.drain_outputs())  # the latest of each kind
        if t_s >= self._next_state_s:
            out["vehicle_state"] = v.state(t_s, self.last_failsafe)
            self._next_state_s = t_s + 1.0 / self.config.streams.state_publish_hz
        if self.events:
            out["events"], self.events = self.events, []
        return out

    def _safety(self, t_s: float) -> None:
        v = self.vehicle
        bat = v.telemetry.battery.percentage if v.telemetry.battery is not None else math.nan
        action = self.failsafe.step(t_s, connected=v.connected, armed=v.link.status.armed, mode=v.link.status.mode,
                                    battery=bat)
        if action is None:
            return
        why = self.failsafe.history[-1][1]
        self.last_failsafe = why
        self.counters["failsafe_actions"] += 1
        self._event(f"failsafe ({why}): commanding {action.upper()}")
        self.pump.failsafe(why)
        self._try(lambda: v.return_to_launch() if action == "rtl" else v.land(), f"failsafe {action}")

    def _try(self, make: Any, what: str) -> None:
        try:
            self._watch.append((what, make()))
        except UavBridgeError as err:
            self._event(f"{what}: FAILED: {err}")
            if what.startswith("failsafe "):
                self.failsafe.command_failed(self.vehicle.now_s)

    def _current_setpoint(self) -> Setpoint | None:
        """Where the vehicle is now, in the local frame setpoints use (for the safe hold)."""
        t = self.vehicle.telemetry
        if t.local_enu_m is None:
            return None
        yaw = t.heading_enu_rad if math.isfinite(t.heading_enu_rad) else 0.0
        return Setpoint(*t.local_enu_m, yaw)

    def _start_executive(self, t_s: float, fly: bool) -> None:
        if self.plan is None:
            raise UavBridgeError("no plan staged: set mission.plan_file or publish on mission_plan")
        if self.executive is not None and not self.executive.finished:
            raise UavBridgeError(f"a plan is already running ({self.executive.state})")
        mc = self.config.mission
        opts = ExecutiveOptions(self.limits, mc.telemetry_wait_s, mc.configure_failsafes, self.policy, fly,
                                self.config.link.role)
        executive = MissionExecutive(self.vehicle, self.plan, opts)
        executive.start(t_s)  # validates the plan first: a refused plan must not block the next one
        self.executive = executive
        self.pump.set_plan(self.plan.mission)  # the mission the vehicle will fly: does it switch the pump?

    # --- inputs -----------------------------------------------------------------------------------
    def on_setpoint(self, pose: PoseStamped, t_s: float) -> None:
        """A planner setpoint (ENU, map)."""
        self.offboard.on_setpoint(setpoint_from_pose(pose.pose.position_m, pose.pose.orientation_xyzw), t_s)

    def on_plan(self, text: str, t_s: float) -> dict[str, Any]:
        """A .plan document: validated, then staged (a bad one is reported and the old plan kept)."""
        try:
            plan = loads_plan(text, "mission_plan topic")
        except PlanFileError as err:
            self.counters["plans_rejected"] += 1
            return {"events": [f"plan rejected: {err}"]}
        self.plan = plan
        self.counters["plans_received"] += 1
        return {"events": [f"plan staged: {len(plan.mission)} mission items"]}

    # --- services ---------------------------------------------------------------------------------
    def srv_arm(self, request: bool, t_s: float) -> ServiceResult:
        """Arm (True) or disarm (False)."""
        return self._watch_op("arm" if request else "disarm", self.vehicle.arm(bool(request)))

    def srv_takeoff(self, request: Any, t_s: float) -> ServiceResult:
        """GUIDED takeoff to mission.takeoff_alt_m."""
        return self._watch_op("takeoff", self.vehicle.takeoff(self.config.mission.takeoff_alt_m))

    def srv_land(self, request: Any, t_s: float) -> ServiceResult:
        """Land here."""
        return self._watch_op("land", self.vehicle.land())

    def srv_rtl(self, request: Any, t_s: float) -> ServiceResult:
        """Return to launch."""
        return self._watch_op("rtl", self.vehicle.return_to_launch())

    def srv_hold(self, request: Any, t_s: float) -> ServiceResult:
        """Hold position (LOITER/HOLD)."""
        return self._watch_op("hold", self.vehicle.pause())

    def srv_spray(self, request: bool, t_s: float) -> ServiceResult:
        """Pump on (True, full rate) or off (False) now."""
        cfg = self.pump.spray
        item = (spray_on(cfg, 1.0) if request else spray_off(cfg))[0]
        op = self.vehicle.do(item)
        self.pump.on_spray_command(bool(request), op)
        return self._watch_op("spray on" if request else "spray off", op)

    def srv_capture_image(self, request: Any, t_s: float) -> ServiceResult:
        """Take one image now."""
        return self._watch_op("capture image", self.vehicle.do(single_photo()))

    def srv_set_home(self, request: Any, t_s: float) -> ServiceResult:
        """Set home to the vehicle's current position."""
        return self._watch_op("set home", self.vehicle.set_home())

    def srv_start_mission(self, request: Any, t_s: float) -> ServiceResult:
        """Start the uploaded mission."""
        return self._watch_op("start mission", self.vehicle.start_mission())

    def srv_clear_mission(self, request: Any, t_s: float) -> ServiceResult:
        """Clear the vehicle's mission."""
        return self._watch_op("clear mission", self.vehicle.clear(0))

    def srv_download_mission(self, request: Any, t_s: float) -> ServiceResult:
        """Download the vehicle's mission (the item count is reported on events)."""
        return self._watch_op("download mission", self.vehicle.download(0))

    def srv_upload(self, request: Any, t_s: float) -> ServiceResult:
        """Upload the staged plan (fence, rally, mission) without flying."""
        self._start_executive(t_s, fly=False)
        return ServiceResult(True, "uploading the staged plan; progress on events")

    def srv_fly(self, request: Any, t_s: float) -> ServiceResult:
        """Fly the staged plan: upload, pre-flight, arm, start."""
        self._start_executive(t_s, fly=True)
        return ServiceResult(True, "flying the staged plan; progress on events")

    def srv_preflight(self, request: Any, t_s: float) -> ServiceResult:
        """Run the pre-flight checks now against the staged plan."""
        plan = self.plan or Plan()
        fails = preflight_failures(self.vehicle.telemetry, plan.mission, plan.fence_polygons, plan.fence_circles,
                                   self.limits, connected=self.vehicle.connected, rally_points=plan.rally_points,
                                   planned_home=plan.planned_home)
        return ServiceResult(not fails, "; ".join(fails) if fails else "all pre-flight checks passed")

    def srv_offboard(self, request: bool, t_s: float) -> ServiceResult:
        """Start (True) or stop (False) streaming planner setpoints; starting switches to GUIDED."""
        self.offboard.enable(bool(request), t_s)
        if request:
            return self._watch_op("offboard mode", self.vehicle.set_mode("GUIDED"))
        return ServiceResult(True, "offboard streaming stopped")

    # --- health -----------------------------------------------------------------------------------
    def diagnostics(self) -> list[DiagnosticStatus]:
        """Link and protocol health."""
        v = self.vehicle
        level = DiagLevel.OK if v.connected else DiagLevel.ERROR
        if self.last_failsafe and v.link.status.armed:
            level = max(level, DiagLevel.WARN)
        msg = "connected" if v.connected else "no heartbeat from the vehicle"
        values = {**{k: str(x) for k, x in self.bridge.conn.counters.items()},
                  **{k: str(x) for k, x in v.commands.counters.items()},
                  **{f"mission_{k}": str(x) for k, x in v.missions.counters.items()},
                  "link_losses": str(v.link.losses), "mode": v.link.status.mode}
        tlog = self.bridge.tlog
        if tlog is not None:
            values["tlog_records"], values["tlog_write_errors"] = str(tlog.records), str(tlog.write_errors)
            if tlog.write_errors:
                level = max(level, DiagLevel.WARN)
                msg += f"; telemetry log failing: {tlog.last_error}"
        link = DiagnosticStatus(level, f"uav_bridge/vehicle{v.system_id}/link", msg, v.link.status.autopilot, values)
        return [link, self._flight_status()]

    def _flight_status(self) -> DiagnosticStatus:
        """The flight's key counters, named ``sanqin/uav/uav_bridge`` so that a recording's scorer merges them into
        the node's (``nodes.uav_bridge.*``, as :meth:`metrics` gives them headless): link, failsafes, plan, pump."""
        v = self.vehicle
        values = {"connected": str(int(v.connected)), "link_losses": str(v.link.losses),
                  "failsafe_actions": str(self.counters["failsafe_actions"]),
                  "pumps_off": str(self.pump.counters["pumps_off"]),
                  "pump_off_pending": str(int(bool(self.pump.pending)))}
        level, msg = DiagLevel.OK, self.executive.state if self.executive is not None else "no plan"
        if self.executive is not None:
            values["executive_done"] = str(int(self.executive.state == "done"))
            values["executive_failed"] = str(int(self.executive.state == "failed"))
        if self.pump.pending:
            level, msg = DiagLevel.WARN, f"pump off pending ({self.pump.pending})"
        return DiagnosticStatus(level, "sanqin/uav/uav_bridge", msg, f"vehicle{v.system_id}", values)

    def metrics(self) -> dict[str, float]:
        """Counters for scenario criteria."""
        v = self.vehicle
        out = {k: float(x) for k, x in self.counters.items()}
        out.update({"link_losses": float(v.link.losses), "connected": float(v.connected),
                    "rx_messages": float(self.bridge.conn.counters["rx_messages"]),
                    "items_reached": float(len(v.missions.progress.reached))})
        out.update({k: float(x) for k, x in self.pump.counters.items()})
        if self.executive is not None:
            out.update(self.executive.summary())
        return out

    def close(self) -> None:
        """Close the link (a shared one when its last node closes)."""
        url = self.config.link.url
        if self.config.link.share and url in _SHARED:
            bridge, users = _SHARED[url]
            if users > 1:
                _SHARED[url] = (bridge, users - 1)
                return
            del _SHARED[url]
        self.bridge.close()


UAV_BRIDGE = NodeSpec(
    name="uav_bridge",
    config=UavBridgeConfig,
    component=UavBridgeNode,
    inputs=(
        Input("setpoint", "geometry_msgs/msg/PoseStamped", "on_setpoint", pose_stamped_from_msg, Qos.SENSOR,
              "offboard position target (ENU, map)"),
        Input("mission_plan", "std_msgs/msg/String", "on_plan", text_from_msg, Qos.LATCHED,
              "QGroundControl .plan JSON to stage"),
    ),
    outputs=(
        Output("fix", "sensor_msgs/msg/NavSatFix", navsat_to_msg, Qos.SENSOR),
        Output("imu", "sensor_msgs/msg/Imu", imu_to_msg, Qos.SENSOR),
        Output("odom", "nav_msgs/msg/Odometry", odometry_to_msg, Qos.SENSOR),
        Output("battery", "sensor_msgs/msg/BatteryState", battery_to_msg, Qos.SENSOR),
        Output("vehicle_state", "diagnostic_msgs/msg/DiagnosticStatus", vehicle_state_to_msg, Qos.RELIABLE),
        Output("events", "std_msgs/msg/String", text_to_msg, Qos.RELIABLE, many=True),
    ),
    timers=(Timer("tick_period_s", "tick"),),
    services=(
        Service("arm", "std_srvs/srv/SetBool", "srv_arm", "arm (true) / disarm (false)"),
        Service("takeoff", "std_srvs/srv/Trigger", "srv_takeoff"),
        Service("land", "std_srvs/srv/Trigger", "srv_land"),
        Service("rtl", "std_srvs/srv/Trigger", "srv_rtl"),
        Service("hold", "std_srvs/srv/Trigger", "srv_hold"),
        Service("start_mission", "std_srvs/srv/Trigger", "srv_start_mission"),
        Service("set_home", "std_srvs/srv/Trigger", "srv_set_home", "home = the current position"),
        Service("spray", "std_srvs/srv/SetBool", "srv_spray", "pump on (true) / off (false) now"),
        Service("capture_image", "std_srvs/srv/Trigger", "srv_capture_image", "one image now"),
        Service("clear_mission", "std_srvs/srv/Trigger", "srv_clear_mission"),
        Service("download_mission", "std_srvs/srv/Trigger", "srv_download_mission"),
        Service("upload", "std_srvs/srv/Trigger", "srv_upload"),
        Service("fly", "std_srvs/srv/Trigger", "srv_fly"),
        Service("preflight", "std_srvs/srv/Trigger", "srv_preflight"),
        Service("offboard", "std_srvs/srv/SetBool", "srv_offboard"),
    ),
    description="MAVLink bridge for one inspection or crop-spraying drone",
)
