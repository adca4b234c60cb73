"""Vehicle telemetry: MAVLink messages (NED, int-scaled) → core types (ENU/FLU, SI) and a state snapshot.

:class:`Telemetry` keeps the latest of each stream and converts a message as it arrives into what the
node publishes: ``fix`` (:class:`GeoFix`), ``imu`` (:class:`ImuSample`), ``odom`` (:class:`Odometry`,
``map`` ENU at the autopilot's local origin → ``base_link`` FLU, twist in the body frame) and
``battery`` (:class:`BatteryState`, current negative while discharging as sensor_msgs has it).
Stamps are the receive time on the node clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sanqin.common.types import BatteryState, GeoFix, ImuSample, Odometry, Pose, Twist
from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.frames import attitude_ned_to_enu, frd_to_flu, ned_to_enu, quat_from_rpy, yaw_ned_to_enu
from sanqin.uav_bridge.geo import e7_to_deg

G_M_S2 = 9.80665


@dataclass(frozen=True)
class VehicleState:
    """Vehicle state for ROS: link, arming, mode, system status, landed state, mission progress, position."""

    stamp_s: float
    connected: bool
    armed: bool
    mode: str
    system_status: int
    autopilot: str
    landed_state: int
    mission_seq: int
    mission_total: int
    items_reached: int
    latitude_deg: float
    longitude_deg: float
    relative_alt_m: float
    battery_percentage: float
    gps_fix_type: int
    satellites: int
    failsafe: str = ""

    def as_dict(self) -> dict[str, str]:
        """Readable key/value pairs (for diagnostic_msgs/KeyValue)."""
        return {k: (f"{v:.7f}" if isinstance(v, float) else str(v)) for k, v in self.__dict__.items()
                if k != "stamp_s"}


@dataclass
class Telemetry:
    """Latest telemetry of one vehicle and the converters from MAVLink."""

    orientation_xyzw: tuple[float, float, float, float] | None = None
    rates_flu_rad_s: tuple[float, float, float] = (0.0, 0.0, 0.0)
    accel_flu_m_s2: tuple[float, float, float] | None = None
    gps_fix_type: int = 0
    satellites: int = 0
    latitude_deg: float = math.nan
    longitude_deg: float = math.nan
    altitude_msl_m: float = math.nan
    relative_alt_m: float = math.nan
    velocity_enu_m_s: tuple[float, float, float] = (0.0, 0.0, 0.0)
    local_enu_m: tuple[float, float, float] | None = None  # LOCAL_POSITION_NED in ENU (autopilot's origin)
    heading_enu_rad: float = math.nan
    battery: BatteryState | None = None
    landed_state: int = 0
    home: tuple[float, float, float] | None = None
    sensors_health: int = 0
    sensors_present: int = 0
    ekf_flags: int = -1
    counts: dict[str, int] = field(default_factory=dict)

    def update(self, msg: Any, now_s: float) -> tuple[str, Any] | None:
        """Fold one message in; returns ``(kind, core object)`` when it yields something to publish."""
        mtype = msg.get_type()
        fn = _HANDLERS.get(mtype)
        if fn is None:
            return None
        self.counts[mtype] = self.counts.get(mtype, 0) + 1
        return fn(self, msg, now_s)

    # --- converters -------------------------------------------------------------------------------
    def _attitude_quaternion(self, msg: Any, now_s: float) -> tuple[str, Any] | None:
        q = (msg.q1, msg.q2, msg.q3, msg.q4)
        if not all(math.isfinite(v) for v in q):
            return None
        try:
            self.orientation_xyzw = attitude_ned_to_enu(q)
        except ValueError:
            return None
        self.rates_flu_rad_s = frd_to_flu(msg.rollspeed, msg.pitchspeed, msg.yawspeed)
        return "imu", self.imu(now_s)

    def _attitude(self, msg: Any, now_s: float) -> tuple[str, Any] | None:
        vals = (msg.roll, msg.pitch, msg.yaw)
        if not all(math.isfinite(v) for v in vals):
            return None
        q = quat_from_rpy(msg.roll, msg.pitch, msg.yaw)
        self.orientation_xyzw = attitude_ned_to_enu((q[3], q[0], q[1], q[2]))
        self.rates_flu_rad_s = frd_to_flu(msg.rollspeed, msg.pitchspeed, msg.yawspeed)
        return "imu", self.imu(now_s)

    def _scaled_imu(self, msg: Any, now_s: float) -> None:
        a = (msg.xacc * G_M_S2 / 1000.0, msg.yacc * G_M_S2 / 1000.0, msg.zacc * G_M_S2 / 1000.0)
        self.accel_flu_m_s2 = frd_to_flu(*a)
        return None

    def _highres_imu(self, msg: Any, now_s: float) -> None:
        a = (msg.xacc, msg.yacc, msg.zacc)
        if all(math.isfinite(v) for v in a):
            self.accel_flu_m_s2 = frd_to_flu(*a)
        return None

    def imu(self, now_s: float) -> ImuSample:
        """The current IMU sample (orientation unknown → None with covariance[0] = -1 at the boundary)."""
        acc = self.accel_flu_m_s2
        acc_cov = np.zeros((3, 3)) if acc is not None else np.diag([-1.0, 0.0, 0.0])
        return ImuSample(
            stamp_s=now_s, frame_id="base_link",
            orientation_xyzw=None if self.orientation_xyzw is None else np.array(self.orientation_xyzw),
            angular_velocity_rad_s=np.array(self.rates_flu_rad_s),
            linear_acceleration_m_s2=np.array(acc if acc is not None else (0.0, 0.0, 0.0)),
            linear_acceleration_covariance=acc_cov,
        )

    def _gps_raw(self, msg: Any, now_s: float) -> tuple[str, Any]:
        self.gps_fix_type = int(msg.fix_type)
        self.satellites = int(msg.satellites_visible) if msg.satellites_visible != 255 else 0
        status = -1
        if self.gps_fix_type >= mavlink.GPS_FIX_TYPE_RTK_FLOAT:
            status = 2
        elif self.gps_fix_type == mavlink.GPS_FIX_TYPE_DGPS:
            status = 1
        elif self.gps_fix_type >= mavlink.GPS_FIX_TYPE_2D_FIX:
            status = 0
        h_acc = float(getattr(msg, "h_acc", 0) or 0) / 1000.0
        v_acc = float(getattr(msg, "v_acc", 0) or 0) / 1000.0
        cov = np.zeros((3, 3))
        cov_type = 0
        if h_acc > 0:
            cov = np.diag([h_acc**2, h_acc**2, (v_acc if v_acc > 0 else 2 * h_acc) ** 2])
            cov_type = 2
        elif msg.eph not in (0, 65535):
            hdop = msg.eph / 100.0
            cov = np.diag([(hdop * 2.5) ** 2, (hdop * 2.5) ** 2, (hdop * 5.0) ** 2])
            cov_type = 1
        alt_e = float(getattr(msg, "alt_ellipsoid", 0) or 0)
        alt = alt_e / 1000.0 if alt_e else msg.alt / 1000.0
        if status < 0:
            lat = lon = alt = math.nan
        else:
            lat, lon = e7_to_deg(msg.lat), e7_to_deg(msg.lon)
        return "fix", GeoFix(stamp_s=now_s, frame_id="gps", latitude_deg=lat, longitude_deg=lon, altitude_m=alt,
                             status=status, service=1, position_covariance_m2=cov, covariance_type=cov_type)

    def _global_position(self, msg: Any, now_s: float) -> None:
        self.latitude_deg, self.longitude_deg = e7_to_deg(msg.lat), e7_to_deg(msg.lon)
        self.altitude_msl_m = msg.alt / 1000.0
        self.relative_alt_m = msg.relative_alt / 1000.0
        self.velocity_enu_m_s = ned_to_enu(msg.vx / 100.0, msg.vy / 100.0, msg.vz / 100.0)
        if msg.hdg != 65535:
            self.heading_enu_rad = yaw_ned_to_enu(math.radians(msg.hdg / 100.0))
        return None

    def _local_position(self, msg: Any, now_s: float) -> tuple[str, Any] | None:
        pos = ned_to_enu(msg.x, msg.y, msg.z)
        vel = ned_to_enu(msg.vx, msg.vy, msg.vz)
        if not all(math.isfinite(v) for v in (*pos, *vel)):
            return None
        self.local_enu_m = pos
        q = self.orientation_xyzw or (0.0, 0.0, 0.0, 1.0)
        body_vel = _rotate_inverse(q, vel)
        return "odom", Odometry(
            stamp_s=now_s, frame_id="map", child_frame_id="base_link",
            pose=Pose(np.array(pos), np.array(q)),
            twist=Twist(np.array(body_vel), np.array(self.rates_flu_rad_s)),
        )

    def _sys_status(self, msg: Any, now_s: float) -> tuple[str, Any] | None:
        self.sensors_present = int(msg.onboard_control_sensors_present)
        self.sensors_health = int(msg.onboard_control_sensors_health)
        if msg.voltage_battery == 65535 and msg.battery_remaining < 0:
            return None
        prev = self.battery or BatteryState()
        self.battery = _battery(
            prev, now_s,
            voltage_v=msg.voltage_battery / 1000.0 if msg.voltage_battery != 65535 else math.nan,
            current_a=-msg.current_battery / 100.0 if msg.current_battery >= 0 else math.nan,
            percentage=msg.battery_remaining / 100.0 if msg.battery_remaining >= 0 else math.nan,
        )
        return "battery", self.battery

    def _battery_status(self, msg: Any, now_s: float) -> tuple[str, Any] | None:
        cells = [v / 1000.0 for v in msg.voltages if v not in (65535, 0)]
        prev = self.battery or BatteryState()
        self.battery = _battery(
            prev, now_s,
            voltage_v=sum(cells) if cells else prev.voltage_v,
            current_a=-msg.current_battery / 100.0 if msg.current_battery >= 0 else prev.current_a,
            percentage=msg.battery_remaining / 100.0 if msg.battery_remaining >= 0 else prev.percentage,
            cell_voltage_v=np.array(cells),
            charge_ah=prev.charge_ah,
            temperature_c=msg.temperature / 100.0 if msg.temperature != 32767 else math.nan,
        )
        return "battery", self.battery

    def _extended_sys_state(self, msg: Any, now_s: float) -> None:
        self.landed_state = int(msg.landed_state)
        return None

    def _home(self, msg: Any, now_s: float) -> None:
        self.home = (e7_to_deg(msg.latitude), e7_to_deg(msg.longitude), msg.altitude / 1000.0)
        return None

    def _ekf(self, msg: Any, now_s: float) -> None:
        self.ekf_flags = int(msg.flags)
        return None


def _battery(prev: BatteryState, now_s: float, **values: Any) -> BatteryState:
    """A BatteryState from the previous one with some fields updated (discharging LiPo)."""
    fields = {k: getattr(prev, k) for k in ("voltage_v", "current_a", "percentage", "cell_voltage_v",
                                             "charge_ah", "temperature_c")}
    fields.update(values)
    return BatteryState(stamp_s=now_s, frame_id="battery", power_supply_status=2, power_supply_technology=3,
                        present=True, **fields)


def _rotate_inverse(q: tuple[float, float, float, float], v: tuple[float, float, float]) -> tuple[float, ...]:
    """Rotate a world vector into the body frame of orientation ``q`` (xyzw)."""
    x, y, z, w = q
    # R^T v with R from the unit quaternion
    r00, r01, r02 = 1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)
    r10, r11, r12 = 2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)
    r20, r21, r22 = 2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)
    return (r00 * v[0] + r10 * v[1] + r20 * v[2], r01 * v[0] + r11 * v[1] + r21 * v[2],
            r02 * v[0] + r12 * v[1] + r22 * v[2])


_HANDLERS = {
    "ATTITUDE_QUATERNION": Telemetry._attitude_quaternion,
    "ATTITUDE": Telemetry._attitude,
    "SCALED_IMU": Telemetry._scaled_imu,
    "SCALED_IMU2": Telemetry._scaled_imu,
    "HIGHRES_IMU": Telemetry._highres_imu,
    "GPS_RAW_INT": Telemetry._gps_raw,
    "GLOBAL_POSITION_INT": Telemetry._global_position,
    "LOCAL_POSITION_NED": Telemetry._local_position,
    "SYS_STATUS": Telemetry._sys_status,
    "BATTERY_STATUS": Telemetry._battery_status,
    "EXTENDED_SYS_STATE": Telemetry._extended_sys_state,
    "HOME_POSITION": Telemetry._home,
    "EKF_STATUS_REPORT": Telemetry._ekf,
}

#: Streams the bridge asks for with MAV_CMD_SET_MESSAGE_INTERVAL: message id → rate key in the config.
STREAMS = {
    mavlink.MAVLINK_MSG_ID_ATTITUDE_QUATERNION: "attitude_hz",
    mavlink.MAVLINK_MSG_ID_SCALED_IMU: "imu_hz",
    mavlink.MAVLINK_MSG_ID_GLOBAL_POSITION_INT: "position_hz",
    mavlink.MAVLINK_MSG_ID_LOCAL_POSITION_NED: "position_hz",
    mavlink.MAVLINK_MSG_ID_GPS_RAW_INT: "gps_hz",
    mavlink.MAVLINK_MSG_ID_SYS_STATUS: "status_hz",
    mavlink.MAVLINK_MSG_ID_BATTERY_STATUS: "status_hz",
    mavlink.MAVLINK_MSG_ID_EXTENDED_SYS_STATE: "status_hz",
    mavlink.MAVLINK_MSG_ID_MISSION_CURRENT: "status_hz",
    mavlink.MAVLINK_MSG_ID_HOME_POSITION: "status_hz",
}
