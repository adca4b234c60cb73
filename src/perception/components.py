"""Node components of perception: state, handlers, diagnostics and metrics around the ROS-free cores.

Each class is built from its typed config and follows the handler contract of :mod:`sanqin.runtime.node`
(``on_x(data, t_s) -> {output topic: core object}``); the declarations that wire them to topics are in
:mod:`sanqin.perception.nodes`. Nothing here imports ROS.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from sanqin.common.detections import Detections2D, LocatedDetections
from sanqin.common.diagnostics import DiagLevel, DiagnosticStatus
from sanqin.common.grid import ScalarGrid
from sanqin.common.obstacles import ObstacleList
from sanqin.common.types import ImageFrame, ImuSample, Odometry, PointCloud, Pose, Twist
from sanqin.perception.attitude import AttitudeConfig, AttitudeFilter
from sanqin.perception.canopy import (
    CanopyGrid,
    CanopyGridConfig,
    PrescriptionConfig,
    SegmentationConfig,
    prescription,
    vegetation_rgb,
)
from sanqin.perception.errors import ImageInputError, InspectionLogError, OdometryError, PerceptionError
from sanqin.perception.inspection_log import InspectionLog
from sanqin.perception.obstacles import ObstaclePipeline, ObstaclePipelineConfig
from sanqin.perception.odometry import LidarOdometry, OdometryConfig, OdometryEstimate, pose_to_xyz_quat
from sanqin.perception.thermal import GRADE_NAMES, HotspotConfig, HotspotTracker, TrackerLocationConfig, find_hotspots
from sanqin.runtime.config import nested, param, require


def _orientation(pose: Pose) -> Rotation:
    """The pose's rotation; a non-finite or zero quaternion or position is an :class:`OdometryError`."""
    q = np.asarray(pose.orientation_xyzw, float).reshape(-1)
    n = float(np.linalg.norm(q)) if q.size == 4 else 0.0
    if not (q.size == 4 and np.all(np.isfinite(q)) and n > 1e-9 and np.all(np.isfinite(pose.position_m))):
        raise OdometryError(f"unusable pose: position {pose.position_m}, orientation xyzw {q}")
    return Rotation.from_quat(q / n)


def _pose_matrix(pose: Pose) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = _orientation(pose).as_matrix()
    m[:3, 3] = pose.position_m
    return m


@dataclass
class _Timing:
    """Processing times of a node's handler: running count, total and maximum, and the last 20.

    Bounded: a node running for days keeps no per-frame history, and ``metrics()`` (read with every
    /diagnostics status) costs the same after a million frames as after ten.
    """

    count: int = 0
    total_s: float = 0.0
    max_s: float = 0.0
    recent: deque[float] = field(default_factory=lambda: deque(maxlen=20))

    def add(self, dt_s: float) -> None:
        self.count += 1
        self.total_s += dt_s
        self.max_s = max(self.max_s, dt_s)
        self.recent.append(dt_s)

    @property
    def mean_ms(self) -> float:
        return 1000 * self.total_s / self.count if self.count else 0.0


def _mount(xyz: tuple[float, ...], rpy: tuple[float, ...]) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = Rotation.from_euler("xyz", rpy).as_matrix()
    m[:3, 3] = xyz
    return m


# --- obstacle detector --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ObstacleDetectorConfig:
    """Obstacle detector node: pipeline, tracking frame and the LiDAR mount on the robot."""

    pipeline: ObstaclePipelineConfig = nested(ObstaclePipelineConfig)
    use_odometry: bool = param(True, "track in the odometry frame (needs the odom input), else in the sensor frame")
    odom_timeout_s: float = param(0.5, "older odometry is not used; tracking falls back to the sensor frame", min=0.0)
    mount_xyz_m: tuple[float, ...] = param((0.0, 0.0, 0.5), "base_link → lidar translation (m)")
    mount_rpy_rad: tuple[float, ...] = param((0.0, 0.0, 0.0), "base_link → lidar roll, pitch, yaw (rad)")

    def __post_init__(self) -> None:
        require(len(self.mount_xyz_m) == 3 and len(self.mount_rpy_rad) == 3, "mount_xyz_m/mount_rpy_rad need 3 values")


class ObstacleDetector:
    """Per cloud: detect and track obstacles; publishes the obstacle list and display markers."""

    def __init__(self, config: ObstacleDetectorConfig) -> None:
        self.config = config
        self.pipeline = ObstaclePipeline(config.pipeline)
        self.mount = _mount(config.mount_xyz_m, config.mount_rpy_rad)
        self.odom_pose: np.ndarray | None = None
        self.odom_frame = "odom"
        self.frames = 0
        self.frames_sensor_frame = 0
        self.process_timing = _Timing()
        self.last_counts: dict[str, float] = {}
        self.frame_switches = 0
        self._last_frame_id = ""
        self._odom_hist: list[tuple[float, np.ndarray]] = []  # recent (stamp, odom ← base_link), time order

    def on_odom(self, odom: Odometry, t_s: float) -> None:
        """Pose of base_link in odom; recent ones are kept to interpolate the pose at each cloud's stamp."""
        m = _pose_matrix(odom.pose)
        if not np.isfinite(odom.stamp_s):
            raise OdometryError(f"odometry stamp {odom.stamp_s!r} is not finite")
        if self._odom_hist and odom.stamp_s <= self._odom_hist[-1][0]:
            self._odom_hist.clear()  # time went back (bag loop, clock reset): older poses no longer apply
        self._odom_hist.append((odom.stamp_s, m))
        del self._odom_hist[:-50]
        self.odom_pose = m
        self.odom_frame = odom.frame_id or "odom"

    def pose_at(self, t_s: float) -> np.ndarray | None:
        """odom ← base_link at ``t_s``: interpolated between the odometry around it (slerp for the rotation),
        else the nearest within ``odom_timeout_s``, else None. A robot turning at 0.5 rad/s with 20 Hz odometry
        would otherwise place a static box 20 m away up to 0.5 m off, and the tracker would give it a speed."""
        hist = self._odom_hist
        if not hist:
            return None
        stamps = np.array([h[0] for h in hist])
        k = int(np.searchsorted(stamps, t_s))
        if 0 < k < len(hist):
            (ta, ma), (tb, mb) = hist[k - 1], hist[k]
            if tb - ta <= 2 * self.config.odom_timeout_s:
                a = (t_s - ta) / (tb - ta)
                m = np.eye(4)
                rots = Rotation.from_matrix(np.stack([ma[:3, :3], mb[:3, :3]]))
                m[:3, :3] = Slerp([0.0, 1.0], rots)(a).as_matrix()
                m[:3, 3] = (1 - a) * ma[:3, 3] + a * mb[:3, 3]
                return m
        j = int(np.argmin(np.abs(stamps - t_s)))
        return hist[j][1] if abs(stamps[j] - t_s) <= self.config.odom_timeout_s else None

    def on_points(self, cloud: PointCloud, t_s: float) -> dict[str, Any]:
        """Detect and track in one cloud."""
        cfg = self.config
        pose = None
        frame_id = cloud.frame_id
        base = self.pose_at(cloud.stamp_s) if cfg.use_odometry else None
        if base is not None:
            pose = base @ self.mount
            frame_id = self.odom_frame
        else:
            self.frames_sensor_frame += int(cfg.use_odometry)
        if frame_id != self._last_frame_id:
            if self._last_frame_id:
                self.pipeline.tracker.reset()  # tracks from another frame would jump
                self.frame_switches += 1
            self._last_frame_id = frame_id
        t0 = time.perf_counter()
        frame = self.pipeline.process(cloud.points, cloud.stamp_s, pose)
        self.process_timing.add(time.perf_counter() - t0)
        self.frames += 1
        self.last_counts = {
            "points_in": float(frame.n_input),
            "points_used": float(frame.n_used),
            "ground_points": float(frame.n_ground),
            "clusters": float(frame.n_clusters),
            "detections": float(len(frame.detections)),
            "tracks": float(len(frame.tracks)),
        }
        obstacles = ObstacleList(obstacles=frame.tracks, stamp_s=cloud.stamp_s, frame_id=frame_id)
        return {"obstacles": obstacles, "obstacle_markers": obstacles}

    def diagnostics(self) -> list[DiagnosticStatus]:
        """Processing time, counts, and whether tracking had to fall back to the sensor frame."""
        recent = self.process_timing.recent
        mean_ms = 1000 * float(np.mean(recent)) if recent else 0.0
        level = DiagLevel.OK
        msg = "ok"
        if self.config.use_odometry and self.odom_pose is None and self.frames:
            level, msg = DiagLevel.WARN, "no odometry yet: tracking in the sensor frame"
        values = {k: f"{v:g}" for k, v in self.last_counts.items()}
        values["mean_process_ms"] = f"{mean_ms:.1f}"
        return [DiagnosticStatus(level, "sanqin/obstacle_detector/pipeline", msg, "", values)]

    def metrics(self) -> dict[str, float]:
        """Frames, tracking-frame switches (each resets the tracker) and processing time."""
        return {
            "frames": float(self.frames),
            "frames_sensor_frame": float(self.frames_sensor_frame),
            "frame_switches": float(self.frame_switches),
            "process_mean_ms": self.process_timing.mean_ms,
            "process_max_ms": 1000 * self.process_timing.max_s,
            "births": float(self.pipeline.tracker.births),
            "rejected_detections": float(self.pipeline.tracker.rejected),
        }


# --- lidar odometry -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LidarOdometryNodeConfig:
    """Odometry node: the core config plus frames and whether to broadcast odom → base_link."""

    odometry: OdometryConfig = nested(OdometryConfig)
    odom_frame: str = param("odom", "frame of the published pose")
    base_frame: str = param("base_link", "robot body frame")
    publish_tf: bool = param(True, "broadcast odom → base_link on /tf")


class LidarOdometryNode:
    """Wheel odometry and IMU samples predict; each scan registers and corrects; publishes odometry and tf."""

    def __init__(self, config: LidarOdometryNodeConfig) -> None:
        self.config = config
        self.odo = LidarOdometry(config.odometry)
        self.scan_timing = _Timing()
        self.skipped_scans = 0
        self.last: OdometryEstimate | None = None
        self.imu_rejected = 0

    def on_wheel(self, odom: Odometry, t_s: float) -> None:
        """Wheel odometry in base_link: forward (twist.linear.x) and sideways (twist.linear.y, mecanum and omni
        bases; 0 for differential drive) speed and yaw rate (twist.angular.z)."""
        tw = odom.twist
        self.odo.wheel(float(tw.linear_m_s[0]), float(tw.angular_rad_s[2]), odom.stamp_s, float(tw.linear_m_s[1]))

    def on_imu(self, imu: ImuSample, t_s: float) -> None:
        """An IMU sample; non-finite samples raise ImuSampleError (counted and reported by the host)."""
        self.odo.imu(imu.angular_velocity_rad_s, imu.linear_acceleration_m_s2, imu.stamp_s)

    def on_points(self, cloud: PointCloud, t_s: float) -> dict[str, Any]:
        """Register a scan; publish the new estimate."""
        t0 = time.perf_counter()
        try:
            est = self.odo.scan(cloud.points, cloud.stamp_s)
        except PerceptionError:
            self.skipped_scans += 1  # reported by the host as a domain error; the pose carries on from wheel/IMU
            raise
        self.scan_timing.add(time.perf_counter() - t0)
        self.last = est
        odom = self.to_odometry(est)
        out: dict[str, Any] = {"odometry": odom}
        if self.config.publish_tf:
            out["/tf"] = odom
        return out

    def to_odometry(self, est: OdometryEstimate) -> Odometry:
        """The estimate as an Odometry core object (pose in odom, twist in base_link)."""
        pos, quat = pose_to_xyz_quat(est.pose)
        return Odometry(
            stamp_s=est.stamp_s,
            frame_id=self.config.odom_frame,
            child_frame_id=self.config.base_frame,
            pose=Pose(pos, quat),
            twist=Twist(est.linear_m_s, est.angular_rad_s),
            pose_covariance=est.covariance,
            twist_covariance=np.diag([0.01] * 3 + [0.001] * 3),
        )

    def diagnostics(self) -> list[DiagnosticStatus]:
        """Degeneracy, rejected corrections and timing of the last scan."""
        o = self.odo
        level, msg = DiagLevel.OK, "ok"
        values = {
            "frames": str(o.frames),
            "degenerate_frames": str(o.degenerate_frames),
            "rejected_corrections": str(o.rejected_corrections),
            "imu_time_jumps": str(o.attitude.time_jumps),
            "wheel_gaps": str(o.wheel_gaps),
            "skipped_scans": str(self.skipped_scans),
        }
        if self.last is not None:
            values.update({k: f"{v:.4g}" for k, v in self.last.info.items()})
            if self.last.degenerate_dims:
                level = DiagLevel.WARN
                msg = f"LiDAR registration degenerate in {self.last.degenerate_dims} direction(s): relying on wheel/IMU"
            if not self.last.icp_accepted:
                level, msg = DiagLevel.WARN, "LiDAR correction rejected (innovation gate)"
        return [DiagnosticStatus(level, "sanqin/lidar_odometry/registration", msg, "", values)]

    def metrics(self) -> dict[str, float]:
        """Frames, degenerate frames and processing time."""
        return {
            "frames": float(self.odo.frames),
            "degenerate_frames": float(self.odo.degenerate_frames),
            "rejected_corrections": float(self.odo.rejected_corrections),
            "scan_mean_ms": self.scan_timing.mean_ms,
            "scan_max_ms": 1000 * self.scan_timing.max_s,
            "imu_time_jumps": float(self.odo.attitude.time_jumps),
            "wheel_gaps": float(self.odo.wheel_gaps),
            "skipped_scans": float(self.skipped_scans),
        }


# --- IMU attitude ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImuAttitudeConfig:
    """IMU attitude node: the complementary filter."""

    filter: AttitudeConfig = nested(AttitudeConfig)


class ImuAttitude:
    """Raw IMU in, the same IMU with orientation (and bias-corrected rates) out."""

    def __init__(self, config: ImuAttitudeConfig) -> None:
        self.config = config
        self.filter = AttitudeFilter(config.filter)
        self.samples = 0

    def on_imu(self, imu: ImuSample, t_s: float) -> dict[str, Any] | None:
        """Fuse one sample; non-finite samples raise ImuSampleError (skipped, reported)."""
        rate = self.filter.update(imu.angular_velocity_rad_s, imu.linear_acceleration_m_s2, imu.stamp_s)
        self.samples += 1
        if not self.filter.initialized:
            return None
        var = 0.01**2
        out = ImuSample(
            stamp_s=imu.stamp_s,
            frame_id=imu.frame_id,
            orientation_xyzw=self.filter.q_xyzw.copy(),
            angular_velocity_rad_s=rate,
            linear_acceleration_m_s2=imu.linear_acceleration_m_s2,
            orientation_covariance=np.diag([var, var, 0.05**2]),
            angular_velocity_covariance=imu.angular_velocity_covariance,
            linear_acceleration_covariance=imu.linear_acceleration_covariance,
        )
        return {"imu_out": out}

    def diagnostics(self) -> list[DiagnosticStatus]:
        """Bias estimate and rejected samples."""
        f = self.filter
        level = DiagLevel.WARN if f.rejected or f.time_jumps else DiagLevel.OK
        msg = f"{f.rejected} non-finite samples, {f.time_jumps} time jumps" if level else "ok"
        values = {"gyro_bias_rad_s": " ".join(f"{b:.5f}" for b in f.bias_rad_s), "samples": str(self.samples)}
        return [DiagnosticStatus(level, "sanqin/imu_attitude/filter", msg, "", values)]

    def metrics(self) -> dict[str, float]:
        """Samples, rejections, time jumps and the bias estimate."""
        f = self.filter
        return {
            "samples": float(self.samples),
            "rejected": float(f.rejected),
            "time_jumps": float(f.time_jumps),
            "bias_x": float(f.bias_rad_s[0]),
            "bias_y": float(f.bias_rad_s[1]),
            "bias_z": float(f.bias_rad_s[2]),
        }


# --- thermal inspection ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ThermalInspectorConfig:
    """Thermal inspection node: detection and grading, debouncing/location, and the inspection log."""

    detection: HotspotConfig = nested(HotspotConfig)
    tracking: TrackerLocationConfig = nested(TrackerLocationConfig)
    log_path: str = param(
        "~/.ros/sanqin/thermal_inspection.jsonl", "append-only JSON-lines inspection log ('' disables)"
    )
    station_offset_m: float = param(0.0, "tunnel station where odometry starts (the dock) (m)")
    odom_timeout_s: float = param(1.0, "images without odometry this recent are not located (s)", min=0.0)
    hardware_id: str = param("thermal_camera", "hardware id in the diagnostics")


@dataclass(frozen=True)
class AlarmBatch:
    """Alarm statuses raised by one image (published as a DiagnosticArray)."""

    stamp_s: float
    statuses: tuple[DiagnosticStatus, ...] = field(default_factory=tuple)


_GRADE_LEVEL = {0: DiagLevel.OK, 1: DiagLevel.WARN, 2: DiagLevel.ERROR, 3: DiagLevel.ERROR}


class ThermalInspector:
    """Radiometric images + odometry → graded, located, debounced hotspot alarms and an inspection log."""

    def __init__(self, config: ThermalInspectorConfig) -> None:
        self.config = config
        self.tracker = HotspotTracker(config.tracking)
        self.log: InspectionLog | None = None
        self.log_error = ""
        self.unlogged: list[dict[str, Any]] = []
        self._open_log()
        self.pose: np.ndarray | None = None
        self.heading = 0.0
        self.station_m = config.station_offset_m
        self.odom_stamp = -np.inf
        self._last_xyz: np.ndarray | None = None
        self.images = 0
        self.images_unlocated = 0
        self.hotspots_seen = 0
        self.alarms = 0

    def _open_log(self) -> None:
        if not self.config.log_path or self.log is not None:
            return
        try:
            self.log = InspectionLog(self.config.log_path)
            self.log_error = ""
        except InspectionLogError as err:
            self.log_error = str(err)

    def on_odom(self, odom: Odometry, t_s: float) -> None:
        """Robot pose; the station is ``station_offset_m`` plus the signed distance driven along base_link x.

        Reversing (a rail robot shuttling back) brings the station back, and pose jitter while standing at
        a joint cancels out instead of adding up as path length would. A pose with a non-finite or zero
        quaternion or position is an :class:`OdometryError` and changes nothing.
        """
        rot = _orientation(odom.pose)
        xyz = np.asarray(odom.pose.position_m, float)
        forward = rot.apply([1.0, 0.0, 0.0])
        if self._last_xyz is not None:
            self.station_m += float(np.dot(xyz - self._last_xyz, forward))
        self._last_xyz = xyz
        self.pose = xyz
        self.heading = float(rot.as_euler("ZYX")[0])
        self.odom_stamp = odom.stamp_s

    def on_image(self, frame: ImageFrame, t_s: float) -> dict[str, Any] | None:
        """Find, grade and debounce hotspots; confirmed ones are logged and published as alarms."""
        if frame.encoding != "32FC1":
            raise ImageInputError(f"thermal images must be 32FC1 in °C, got {frame.encoding!r}")
        hotspots = find_hotspots(frame.data, self.config.detection)
        self.images += 1
        self.hotspots_seen += len(hotspots)
        if self.pose is None or abs(frame.stamp_s - self.odom_stamp) > self.config.odom_timeout_s:
            self.images_unlocated += 1
            return None  # a hotspot we cannot place is not an inspection result
        new = self.tracker.update(hotspots, self.station_m, self.pose, self.heading)
        if not new:
            return None
        statuses = []
        for tr in new:
            hs = tr.best
            record = {
                "type": "hotspot",
                "stamp_s": frame.stamp_s,
                "hotspot_id": tr.hotspot_id,
                "station_m": round(tr.station_m, 3),
                "position_m": [round(float(v), 3) for v in tr.position_m],
                "t1_c": round(hs.t1_c, 2),
                "t2_c": round(hs.t2_c, 2),
                "t0_c": round(hs.t0_c, 2),
                "delta_pct": round(hs.delta_pct, 1),
                "rise_k": round(hs.rise_k, 2),
                "grade": hs.grade,
                "grade_name": GRADE_NAMES[hs.grade],
                "frames": tr.hits,
                "image_frame_id": frame.frame_id,
            }
            self._write(record)
            self.alarms += 1
            statuses.append(self._status(tr))
        return {"hotspot_alarms": AlarmBatch(frame.stamp_s, tuple(statuses))}

    def _write(self, record: dict[str, Any]) -> None:
        if not self.config.log_path:
            return
        self._open_log()
        pending = [*self.unlogged, record]
        self.unlogged = []
        for i, rec in enumerate(pending):
            try:
                if self.log is None:
                    raise InspectionLogError(self.log_error or "inspection log not open")
                self.log.append(rec)
            except InspectionLogError as err:
                self.log_error = str(err)
                self.log = None
                self.unlogged = pending[i:]  # kept in memory and retried with the next record
                return

    def _status(self, tr: Any) -> DiagnosticStatus:
        hs = tr.best
        return DiagnosticStatus(
            _GRADE_LEVEL[hs.grade],
            f"sanqin/thermal_inspector/hotspot_{tr.hotspot_id}",
            f"{GRADE_NAMES[hs.grade]} defect at station {tr.station_m:.1f} m: T1 {hs.t1_c:.1f} °C, "
            f"δt {hs.delta_pct:.0f} %",
            self.config.hardware_id,
            {
                "station_m": f"{tr.station_m:.2f}",
                "x_m": f"{tr.position_m[0]:.2f}",
                "y_m": f"{tr.position_m[1]:.2f}",
                "z_m": f"{tr.position_m[2]:.2f}",
                "t1_c": f"{hs.t1_c:.2f}",
                "t2_c": f"{hs.t2_c:.2f}",
                "t0_c": f"{hs.t0_c:.2f}",
                "delta_pct": f"{hs.delta_pct:.1f}",
                "grade": GRADE_NAMES[hs.grade],
            },
        )

    def diagnostics(self) -> list[DiagnosticStatus]:
        """Every confirmed hotspot (level by grade) plus the state of the inspection log."""
        out = [self._status(t) for t in self.tracker.confirmed]
        if self.config.log_path:
            level = DiagLevel.ERROR if self.log_error else DiagLevel.OK
            msg = self.log_error or f"{self.log.records_written if self.log else 0} records written"
            out.append(
                DiagnosticStatus(
                    level,
                    "sanqin/thermal_inspector/log",
                    msg,
                    self.config.hardware_id,
                    {"path": self.config.log_path, "unlogged": str(len(self.unlogged))},
                )
            )
        return out

    def metrics(self) -> dict[str, float]:
        """Images, hotspots seen per frame, confirmed alarms."""
        return {
            "images": float(self.images),
            "images_unlocated": float(self.images_unlocated),
            "hotspot_detections": float(self.hotspots_seen),
            "alarms": float(self.alarms),
            "confirmed": float(len(self.tracker.confirmed)),
            "unlogged": float(len(self.unlogged)),
        }


# --- camera–LiDAR fusion ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CameraLidarFusionConfig:
    """Camera–LiDAR fusion node: the camera's optical frame in the LiDAR frame and how fresh images must be."""

    camera_xyz_m: tuple[float, ...] = param((0.1, 0.0, -0.1), "camera optical frame origin in the LiDAR frame (m)")
    camera_rpy_rad: tuple[float, ...] = param(
        (-1.5707963267948966, 0.0, -1.5707963267948966),
        "camera optical frame orientation in the LiDAR frame, roll pitch yaw (rad; default: looking along +x)",
    )
    max_image_age_s: float = param(0.2, "clouds without an image this recent are not colorized (s)", min=0.0)
    keep_uncolored: bool = param(False, "publish points outside the image too (black)")
    detection_tolerance_s: float = param(
        0.05, "a detection list is placed with the cloud nearest its image stamp if within this (s)", min=0.0, max=10.0
    )
    cloud_history: int = param(10, "recent clouds kept for matching late detections", min=1, max=1000)
    depth_bin_m: float = param(0.5, "depth histogram bin separating an object from what lies behind it (m)", min=0.01)
    min_points: int = param(3, "LiDAR points inside a box needed to place a detection", min=1)
    marker_size_m: float = param(0.5, "edge of the cube drawn at each located detection (m)", min=0.01)
    marker_lifetime_s: float = param(0.5, "detection markers expire after this (s; 0 = never)", min=0.0)

    def __post_init__(self) -> None:
        require(len(self.camera_xyz_m) == 3 and len(self.camera_rpy_rad) == 3, "camera pose needs 3 + 3 values")


@dataclass(frozen=True)
class ColoredCloud:
    """Points (N, 3) float32 with rgb8 colours (N, 3) in a frame."""

    stamp_s: float
    frame_id: str
    points: np.ndarray
    colors: np.ndarray


class CameraLidarFusion:
    """Colorizes LiDAR clouds with the latest camera image (pinhole + plumb bob from CameraInfo)."""

    def __init__(self, config: CameraLidarFusionConfig) -> None:
        self.config = config
        lidar_from_cam = _mount(config.camera_xyz_m, config.camera_rpy_rad)
        self.t_cam_lidar = np.linalg.inv(lidar_from_cam)
        self.model: Any = None
        self.image: ImageFrame | None = None
        self.colored = 0
        self.skipped_no_image = 0
        self.fraction: float = 0.0
        self.clouds: deque[PointCloud] = deque(maxlen=config.cloud_history)
        self.detection_lists = 0
        self.detections_located = 0
        self.detections_unlocated = 0
        self.boxes_invalid = 0
        self.skipped_no_camera_info = 0
        self.skipped_no_cloud = 0
        self.skipped_stale = 0
        self.last_detection_problem = ""

    def on_camera_info(self, model: Any, t_s: float) -> None:
        """Calibration; an unusable one raises CameraModelError (reported) and is not kept."""
        from sanqin.perception.camera import check_model

        check_model(model)
        self.model = model

    def on_image(self, frame: ImageFrame, t_s: float) -> None:
        """Keep the latest rgb8/bgr8/mono8 image; other encodings raise ImageInputError."""
        if frame.encoding not in ("rgb8", "bgr8", "mono8"):
            raise ImageInputError(f"camera_lidar_fusion needs rgb8, bgr8 or mono8 images, got {frame.encoding!r}")
        data = frame.data[:, :, ::-1] if frame.encoding == "bgr8" else frame.data
        self.image = ImageFrame(stamp_s=frame.stamp_s, frame_id=frame.frame_id, data=data, encoding=frame.encoding)

    def on_points(self, cloud: PointCloud, t_s: float) -> dict[str, Any] | None:
        """Colorize a cloud with the image nearest in time (if recent enough)."""
        from sanqin.perception.camera import colorize

        if self.clouds and cloud.stamp_s < self.clouds[-1].stamp_s:
            self.clouds.clear()  # time went back (bag loop, sim reset): older clouds belong to another run
        self.clouds.append(cloud)
        img = self.image
        if self.model is None or img is None or abs(img.stamp_s - cloud.stamp_s) > self.config.max_image_age_s:
            self.skipped_no_image += 1
            return None
        pts = np.asarray(cloud.points, dtype=np.float32)
        finite = np.isfinite(pts).all(axis=1)
        pts = pts[finite]
        colors, mask = colorize(pts, img.data, self.model, self.t_cam_lidar)
        self.colored += 1
        self.fraction = float(mask.mean()) if mask.size else 0.0
        if not self.config.keep_uncolored:
            pts, colors = pts[mask], colors[mask]
        return {"points_colored": ColoredCloud(cloud.stamp_s, cloud.frame_id, pts, colors)}

    def _skip(self, counter: str, why: str) -> None:
        setattr(self, counter, getattr(self, counter) + 1)
        self.last_detection_problem = why

    def on_detections(self, detections: Detections2D, t_s: float) -> dict[str, Any] | None:
        """Place 2-D boxes in 3-D with the cloud nearest the image stamp (within ``detection_tolerance_s``).

        Lists with no calibration yet, no cloud yet, or no cloud near enough in time are skipped and counted.
        Boxes that are not finite, empty or wholly outside the image are counted and published unlocated
        (NaN position, 0 points), as are boxes with fewer than ``min_points`` LiDAR points; the output keeps
        the input's order, one row per detection.
        """
        from sanqin.perception.camera import Detection2D, locate_detections

        c = self.config
        self.detection_lists += 1
        if self.model is None:
            self._skip("skipped_no_camera_info", "detections before any CameraInfo")
            return None
        if not self.clouds:
            self._skip("skipped_no_cloud", "detections before any LiDAR cloud")
            return None
        cloud = min(self.clouds, key=lambda cl: abs(cl.stamp_s - detections.stamp_s))
        gap_s = abs(cloud.stamp_s - detections.stamp_s)
        if not gap_s <= c.detection_tolerance_s:
            why = f"no cloud within {c.detection_tolerance_s} s of the detections (nearest {gap_s:.3f} s)"
            self._skip("skipped_stale", why)
            return None
        n = len(detections)
        positions = np.full((n, 3), np.nan)
        n_points = np.zeros(n, np.int64)
        boxes, usable = detections.usable_boxes(self.model.width, self.model.height)
        self.boxes_invalid += int(n - usable.sum())
        idx = np.nonzero(usable)[0]
        if idx.size:
            pts = np.asarray(cloud.points, dtype=np.float64)
            pts = pts[np.isfinite(pts).all(axis=1)]
            boxes2d = [Detection2D(tuple(float(v) for v in boxes[i])) for i in idx]
            for i, d3 in zip(idx, locate_detections(boxes2d, pts, self.model, self.t_cam_lidar, c.depth_bin_m,
                                                    c.min_points)):
                positions[i] = d3.position_m
                n_points[i] = d3.n_points
        n_points[~np.isfinite(positions).all(axis=1)] = 0
        located = LocatedDetections(detections, positions, n_points, detections.stamp_s, cloud.frame_id)
        self.detections_located += int(located.located.sum())
        self.detections_unlocated += int(n - located.located.sum())
        self.last_detection_problem = ""
        return {"detections_3d": located, "detection_markers": (located, c.marker_size_m, c.marker_lifetime_s)}

    def diagnostics(self) -> list[DiagnosticStatus]:
        """Whether calibration and images arrive; detections placed, unplaced and skipped."""
        if self.model is None:
            level, msg = DiagLevel.WARN, "no CameraInfo yet"
        elif self.image is None and not self.detection_lists:
            level, msg = DiagLevel.WARN, "no image yet"
        elif self.last_detection_problem:
            level, msg = DiagLevel.WARN, self.last_detection_problem
        else:
            level, msg = DiagLevel.OK, "ok"
        values = {
            "colored": str(self.colored),
            "skipped_no_image": str(self.skipped_no_image),
            "fraction_in_image": f"{self.fraction:.3f}",
            "detection_lists": str(self.detection_lists),
            "detections_located": str(self.detections_located),
            "detections_unlocated": str(self.detections_unlocated),
            "boxes_invalid": str(self.boxes_invalid),
            "detections_skipped_no_camera_info": str(self.skipped_no_camera_info),
            "detections_skipped_no_cloud": str(self.skipped_no_cloud),
            "detections_skipped_stale": str(self.skipped_stale),
        }
        return [DiagnosticStatus(level, "sanqin/camera_lidar_fusion/projection", msg, "", values)]

    def metrics(self) -> dict[str, float]:
        """Colorized clouds, skipped clouds, fraction of points in the image, detection counts."""
        return {
            "colored": float(self.colored),
            "skipped_no_image": float(self.skipped_no_image),
            "fraction_in_image": self.fraction,
            "detection_lists": float(self.detection_lists),
            "detections_located": float(self.detections_located),
            "detections_unlocated": float(self.detections_unlocated),
            "boxes_invalid": float(self.boxes_invalid),
            "detections_skipped_no_camera_info": float(self.skipped_no_camera_info),
            "detections_skipped_no_cloud": float(self.skipped_no_cloud),
            "detections_skipped_stale": float(self.skipped_stale),
        }


# --- canopy mapping ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CanopyMapperConfig:
    """Canopy mapper node: segmentation, field grid with the nadir camera, prescription, publishing."""

    segmentation: SegmentationConfig = nested(SegmentationConfig)
    grid: CanopyGridConfig = nested(CanopyGridConfig)
    prescription: PrescriptionConfig = nested(PrescriptionConfig)
    frame_id: str = param("field", "frame of the field grid (ENU, origin at the field reference)")
    publish_period_s: float = param(1.0, "period of the cover and prescription grids (s)", min=0.01)
    odom_timeout_s: float = param(0.2, "images without a pose this recent are not mapped (s)", min=0.0)


class CanopyMapper:
    """Nadir RGB images + drone pose → canopy cover grid and spray prescription grid."""

    def __init__(self, config: CanopyMapperConfig) -> None:
        self.config = config
        self.grid = CanopyGrid(config.grid)
        self.pose: Odometry | None = None
        self.images = 0
        self.unposed = 0

    def on_odom(self, odom: Odometry, t_s: float) -> None:
        """Drone pose in the field frame; an unusable one (non-finite, zero quaternion) is an OdometryError."""
        _orientation(odom.pose)
        self.pose = odom

    def on_image(self, frame: ImageFrame, t_s: float) -> None:
        """Segment vegetation and count it into the grid at the drone's pose."""
        mask, _ = vegetation_rgb(frame.data, self.config.segmentation, frame.encoding)
        self.images += 1
        p = self.pose
        if p is None or abs(frame.stamp_s - p.stamp_s) > self.config.odom_timeout_s:
            self.unposed += 1
            return
        yaw, pitch, roll = _orientation(p.pose).as_euler("ZYX")
        x, y, z = (float(v) for v in p.pose.position_m)
        self.grid.add(mask, x, y, z, float(yaw), float(roll), float(pitch))

    def tick(self, t_s: float) -> dict[str, Any]:
        """Publish the current cover and prescription grids."""
        c = self.config
        g = c.grid
        cover = self.grid.cover()
        rate = prescription(cover, c.prescription)
        rate = np.where(rate < 0, np.nan, rate)
        common = {
            "resolution_m": g.cell_m,
            "origin_xy_m": (g.origin_x_m, g.origin_y_m),
            "frame_id": c.frame_id,
            "stamp_s": t_s,
        }
        return {
            "canopy_cover": ScalarGrid(cover, value_max=1.0, label="cover", **common),
            "spray_prescription": ScalarGrid(
                rate, value_max=max(c.prescription.rate_max_l_ha, 1e-9), label="rate_l_ha", **common
            ),
        }

    def diagnostics(self) -> list[DiagnosticStatus]:
        """Images mapped and skipped."""
        level = DiagLevel.WARN if self.images and self.unposed == self.images else DiagLevel.OK
        msg = "no pose for any image" if level else "ok"
        values = {
            "images": str(self.images),
            "mapped": str(self.grid.images),
            "unposed": str(self.unposed),
            "skipped_pose": str(self.grid.skipped),
        }
        return [DiagnosticStatus(level, "sanqin/canopy_mapper/grid", msg, "", values)]

    def metrics(self) -> dict[str, float]:
        """Images, mapped images and observed cells."""
        return {
            "images": float(self.images),
            "mapped": float(self.grid.images),
            "unposed": float(self.unposed),
            "observed_cells": float(np.count_nonzero(self.grid.seen)),
        }
