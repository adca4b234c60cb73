"""LiDAR–inertial–wheel odometry for GPS-denied tunnels and plants (ROS-free core of ``lidar_odometry``).

Per scan: deskew with the motion over the sweep, downsample, register against the voxel local map starting
from the prediction, correct the pose filter, insert the scan into the map at the fused pose. Between
scans, wheel odometry and IMU samples drive the prediction (:mod:`sanqin.perception.fusion`) and the
attitude filter (:mod:`sanqin.perception.attitude`).

``mode`` chooses what is fused:

* ``wheel_imu_icp`` — the full filter; along degenerate directions the pose is the wheel/IMU prediction;
* ``icp`` — LiDAR only, as KISS-ICP: the prior is the constant-velocity model and the pose is the
  registration result (wheel and IMU messages are ignored). Used as the baseline of the drift figures.

Deskewing assumes a spinning sensor whose sweep starts at azimuth ``sweep_start_azimuth_rad`` and turns
counter-clockwise, with the stamp at the end of the sweep (the convention of
:mod:`sanqin.simulation.lidar` and of most drivers that stamp at the last packet).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation

from sanqin.perception.attitude import AttitudeConfig, AttitudeFilter
from sanqin.perception.errors import InvalidCloudError, OdometryError
from sanqin.perception.fusion import CorrectionResult, FusionConfig, PoseFilter
from sanqin.perception.registration import (
    AdaptiveThreshold,
    RegistrationConfig,
    RegistrationResult,
    VoxelMap,
    downsample_first,
    register,
    transform,
)
from sanqin.runtime.config import nested, param, require


@dataclass(frozen=True)
class OdometryConfig:
    """Lidar odometry: fusion mode, sensor mount, input limits, registration, fusion and attitude."""

    mode: str = param("wheel_imu_icp", "what is fused", choices=("wheel_imu_icp", "icp"))
    mount_xyz_m: tuple[float, ...] = param((0.0, 0.0, 0.5), "base_link → lidar translation (m)")
    mount_rpy_rad: tuple[float, ...] = param((0.0, 0.0, 0.0), "base_link → lidar roll, pitch, yaw (rad)")
    min_range_m: float = param(1.0, "returns nearer than this are dropped (robot body) (m)", min=0.0)
    max_range_m: float = param(60.0, "returns farther than this are dropped (m)", min=1.0)
    max_input_points: int = param(300000, "larger clouds are thinned with a fixed stride first", min=1000)
    min_points: int = param(100, "scans with fewer usable points are skipped", min=10)
    deskew: bool = param(True, "correct the motion during the sweep")
    steady_accel_m_s2: float = param(
        0.3, "the accelerometer corrects roll/pitch only while the wheel acceleration is below this (m/s^2)", min=0.0
    )
    tilt_gain: float = param(
        0.0, "fraction of the roll/pitch difference to the registered scan applied to the attitude", min=0.0, max=1.0
    )
    max_wheel_gap_s: float = param(
        2.0,
        "a wheel-odometry dropout up to this long is bridged with the mean of the speeds at both ends; longer "
        "ones are not integrated (s)",
        min=0.0,
        max=60.0,
    )
    sweep_start_azimuth_rad: float = param(-3.141592653589793, "azimuth of the first column of a sweep (rad)")
    sweep_period_s: float = param(0.1, "duration of one sweep (s)", min=0.001, max=10.0)
    registration: RegistrationConfig = nested(RegistrationConfig)
    fusion: FusionConfig = nested(FusionConfig)
    attitude: AttitudeConfig = nested(AttitudeConfig)

    def __post_init__(self) -> None:
        require(len(self.mount_xyz_m) == 3, "mount_xyz_m needs 3 values")
        require(len(self.mount_rpy_rad) == 3, "mount_rpy_rad needs 3 values")
        require(self.max_range_m > self.min_range_m, "max_range_m must exceed min_range_m")


@dataclass(frozen=True)
class OdometryEstimate:
    """Pose of base_link in odom (4×4), body velocity, covariance and what the last scan did."""

    stamp_s: float
    pose: np.ndarray
    linear_m_s: np.ndarray
    angular_rad_s: np.ndarray
    covariance: np.ndarray  # 6×6 over x y z roll pitch yaw
    degenerate_dims: int = 0
    icp_accepted: bool = True
    info: dict[str, float] = field(default_factory=dict)


def deskew(
    points: np.ndarray, lin_m_s: np.ndarray, ang_rad_s: np.ndarray, period_s: float, start_az: float
) -> np.ndarray:
    """Points of a sweep moved into the sensor frame at the end of the sweep (constant body velocity)."""
    az = np.arctan2(points[:, 1], points[:, 0])
    frac = np.mod(az - start_az, 2 * np.pi) / (2 * np.pi)
    tau = (frac - 1.0) * period_s  # ≤ 0: time of each point relative to the stamp
    rots = Rotation.from_rotvec(tau[:, None] * ang_rad_s[None, :])
    return (rots.apply(points) + tau[:, None] * lin_m_s[None, :]).astype(np.float32)


def information_at_base(information6: np.ndarray, lever_m: np.ndarray) -> np.ndarray:
    """A registration's 6×6 ``[ω, δt]`` information about the sensor origin, moved to the base_link origin.

    ``lever_m`` is base_link → sensor in map axes (``R_base · mount_xyz``). A rotation ``ω`` about the sensor
    moves base_link by ``−ω × lever``, so ``δt_base = δt_sensor + [lever]× ω`` and the information transforms
    with the inverse of that Jacobian: along a tall mount, roll and pitch trade against base position.
    """
    lx, ly, lz = np.asarray(lever_m, float).reshape(3)
    skew = np.array([[0.0, -lz, ly], [lz, 0.0, -lx], [-ly, lx, 0.0]])
    j_inv = np.eye(6)
    j_inv[3:, :3] = -skew
    return j_inv.T @ information6 @ j_inv


class LidarOdometry:
    """Stateful odometry; feed ``wheel``, ``imu`` and ``scan`` in time order."""

    def __init__(self, config: OdometryConfig) -> None:
        self.config = config
        rc = config.registration
        self.map = VoxelMap(rc.voxel_m, rc.max_points_per_voxel)
        self.threshold = AdaptiveThreshold(
            rc.initial_threshold_m, rc.min_motion_m, rc.max_range_m, rc.threshold_history
        )
        self.filter = PoseFilter(config.fusion)
        self.attitude = AttitudeFilter(config.attitude)
        self.mount = np.eye(4)
        self.mount[:3, :3] = Rotation.from_euler("xyz", config.mount_rpy_rad).as_matrix()
        self.mount[:3, 3] = config.mount_xyz_m
        self.mount_inv = np.linalg.inv(self.mount)
        self.last_scan_t: float | None = None
        self.last_wheel_t: float | None = None
        self.wheel_speed_m_s = 0.0
        self.wheel_lateral_m_s = 0.0
        self.wheel_accel_m_s2 = 0.0
        self.wheel_yaw_rate = 0.0
        self.imu_yaw_rate: float | None = None
        self.have_wheel = False
        self.wheel_gaps = 0
        self.pose_icp = np.eye(4)  # icp mode: base pose
        self.prev_pose_icp = np.eye(4)
        self.velocity_body = np.zeros(3)
        self.angular_body = np.zeros(3)
        self.frames = 0
        self.degenerate_frames = 0
        self.rejected_corrections = 0
        self.last_registration: RegistrationResult | None = None

    @property
    def fused(self) -> bool:
        """Whether wheel and IMU are fused (mode ``wheel_imu_icp``)."""
        return self.config.mode == "wheel_imu_icp"

    # --- proprioception --------------------------------------------------------------------------
    def imu(self, gyro_rad_s: np.ndarray, accel_m_s2: np.ndarray, t_s: float) -> None:
        """An IMU sample (body FLU); raises :class:`ImuSampleError` for non-finite values."""
        if not self.fused:
            return
        # Remove the centripetal acceleration the wheels imply from the specific force, and let the attitude
        # filter trust the accelerometer only while the wheels say the speed is steady: braking or speeding
        # up would tilt roll/pitch (the differentiated wheel speed is too noisy and late to subtract).
        acc = np.asarray(accel_m_s2, dtype=np.float64).reshape(3)
        at_rest = None
        steady = True
        if self.have_wheel:
            yaw_rate = self.imu_yaw_rate if self.imu_yaw_rate is not None else self.wheel_yaw_rate
            # Centripetal acceleration ω × v of body velocity (v_x, v_y) turning at ω about z: (−ω v_y, ω v_x).
            vx, vy = self.wheel_speed_m_s, self.wheel_lateral_m_s
            acc = acc - np.array([-vy * yaw_rate, vx * yaw_rate, 0.0])
            at_rest = abs(vx) < 0.01 and abs(vy) < 0.01 and abs(self.wheel_yaw_rate) < 0.01
            steady = abs(self.wheel_accel_m_s2) < self.config.steady_accel_m_s2
        rate = self.attitude.update(gyro_rad_s, acc, t_s, at_rest, use_accel=steady)
        roll, pitch, _ = self.attitude.roll_pitch_yaw()
        self.filter.set_attitude(roll, pitch)
        # World yaw rate from body rates at this attitude.
        cp = np.cos(pitch)
        if abs(cp) > 1e-3:
            self.imu_yaw_rate = float((rate[1] * np.sin(roll) + rate[2] * np.cos(roll)) / cp)
        self.angular_body = rate

    def wheel(self, forward_m_s: float, yaw_rate_rad_s: float, t_s: float, lateral_m_s: float = 0.0) -> None:
        """Wheel odometry: forward (and, for a mecanum/omni base, sideways) speed and yaw rate in base_link;
        integrates the prediction since the last sample."""
        if not self.fused:
            return
        if not (np.isfinite(forward_m_s) and np.isfinite(yaw_rate_rad_s) and np.isfinite(t_s)
                and np.isfinite(lateral_m_s)):
            raise OdometryError(f"wheel odometry at t={t_s!r} has non-finite values")
        if self.last_wheel_t is not None:
            dt = t_s - self.last_wheel_t
            yaw_rate = self.imu_yaw_rate if self.imu_yaw_rate is not None else self.wheel_yaw_rate
            v = self.wheel_speed_m_s
            vy = self.wheel_lateral_m_s
            if 0.0 < dt <= self.config.attitude.max_dt_s:
                self.filter.predict(v * dt, vy * dt, yaw_rate * dt, dt)
                alpha = min(1.0, dt / 0.3)  # 0.3 s low-pass of the differentiated (noisy) wheel speed
                self.wheel_accel_m_s2 += alpha * ((float(forward_m_s) - v) / dt - self.wheel_accel_m_s2)
            elif dt > 0.0:
                # A dropout (bus hiccup, driver restart): along a degenerate tunnel axis the LiDAR cannot give
                # back motion the prediction skipped, so a short gap is bridged with the mean speed.
                self.wheel_gaps += 1
                if dt <= self.config.max_wheel_gap_s:
                    vy_mean = 0.5 * (vy + float(lateral_m_s))
                    self.filter.predict(0.5 * (v + float(forward_m_s)) * dt, vy_mean * dt, yaw_rate * dt, dt)
        self.last_wheel_t = t_s
        self.wheel_speed_m_s = float(forward_m_s)
        self.wheel_lateral_m_s = float(lateral_m_s)
        self.wheel_yaw_rate = float(yaw_rate_rad_s)
        self.have_wheel = True
        self.velocity_body = np.array([forward_m_s, lateral_m_s, 0.0], dtype=np.float64)

    # --- scans -------------------------------------------------------------------------------------
    def _clean(self, points: np.ndarray) -> np.ndarray:
        cfg = self.config
        pts = np.asarray(points)
        if pts.ndim != 2 or pts.shape[1] < 3:
            raise InvalidCloudError(f"expected an (N, 3) cloud, got shape {pts.shape}")
        if pts.shape[0] > cfg.max_input_points:
            pts = pts[:: int(np.ceil(pts.shape[0] / cfg.max_input_points))]
        pts = np.asarray(pts[:, :3], dtype=np.float64)
        r2 = np.einsum("ij,ij->i", pts, pts)
        keep = np.isfinite(pts).all(1) & (r2 >= cfg.min_range_m**2) & (r2 <= cfg.max_range_m**2)
        return pts[keep]

    def scan(self, points: np.ndarray, t_s: float) -> OdometryEstimate:
        """Register one scan (sensor frame) stamped at the end of its sweep; returns the new estimate."""
        cfg = self.config
        rc = cfg.registration
        if not np.isfinite(t_s):
            raise OdometryError(f"scan stamp {t_s!r} is not finite")
        pts = self._clean(points)
        if pts.shape[0] < cfg.min_points:
            raise InvalidCloudError(f"scan at t={t_s:.3f} has {pts.shape[0]} usable points (< {cfg.min_points})")
        if cfg.deskew and self.frames > 0:
            lin, ang = self._sensor_velocity()
            pts = deskew(pts, lin, ang, cfg.sweep_period_s, cfg.sweep_start_azimuth_rad)
        frame = downsample_first(pts, rc.map_insert_voxel_m)
        source = downsample_first(frame, rc.source_voxel_m)
        prior_base = self._prior(t_s)
        prior_sensor = prior_base @ self.mount
        info: dict[str, float] = {}
        accepted = True
        deg_dims = 0
        if len(self.map) == 0:
            sensor_pose = prior_sensor
        else:
            reg = register(source, self.map, prior_sensor, self.threshold.threshold_m, rc, self.fused)
            self.last_registration = reg
            deg_dims = int(reg.degenerate_dirs.shape[0])
            self.degenerate_frames += int(deg_dims > 0)
            info.update(
                {
                    "icp_iterations": float(reg.iterations),
                    "icp_correspondences": float(reg.n_correspondences),
                    "icp_rms_m": reg.rms_m,
                    "icp_min_eigenvalue": float(reg.eigenvalues[0]),
                    "threshold_m": self.threshold.threshold_m,
                }
            )
            ok = reg.n_correspondences >= rc.min_correspondences
            if ok:
                self.threshold.update(np.linalg.inv(prior_sensor) @ reg.pose)
            base_meas = reg.pose @ self.mount_inv
            if self.fused:
                if ok:
                    lever = -(reg.pose[:3, :3] @ self.mount_inv[:3, 3])
                    res: CorrectionResult = self.filter.correct(base_meas, information_at_base(reg.information, lever))
                    accepted = res.accepted
                    info["chi2"] = res.chi2
                    if accepted and cfg.tilt_gain > 0 and not self._rotation_degenerate(reg):
                        # The scan sees the floor and walls: pull roll/pitch toward it (a tilt error would
                        # otherwise be built into the map and never corrected).
                        _, pitch_m, roll_m = Rotation.from_matrix(base_meas[:3, :3]).as_euler("ZYX")
                        self.attitude.correct_tilt(float(roll_m), float(pitch_m), cfg.tilt_gain)
                        roll, pitch, _ = self.attitude.roll_pitch_yaw()
                        self.filter.set_attitude(roll, pitch)
                else:
                    accepted = False
                self.rejected_corrections += int(not accepted)
                sensor_pose = self.filter.matrix() @ self.mount
            else:
                accepted = ok
                sensor_pose = reg.pose if ok else prior_sensor
        base_pose = sensor_pose @ self.mount_inv
        if not self.fused:
            self._update_icp_velocity(base_pose, t_s)
        self.map.update(transform(frame, sensor_pose), sensor_pose[:3, 3], rc.map_radius_m, rc.max_curvature)
        self.last_scan_t = t_s
        self.frames += 1
        return self.estimate(t_s, deg_dims, accepted, info)

    @staticmethod
    def _rotation_degenerate(reg: RegistrationResult) -> bool:
        """Whether a degenerate direction involves roll or pitch."""
        d = reg.degenerate_dirs
        return bool(d.shape[0] and np.any(np.abs(d[:, :2]) > 0.3))

    def _prior(self, t_s: float) -> np.ndarray:
        """Predicted base pose at ``t_s``: the filter (fused) or constant velocity (ICP only)."""
        if self.fused:
            return self.filter.matrix()
        if self.frames < 2:
            return self.pose_icp
        delta = np.linalg.inv(self.prev_pose_icp) @ self.pose_icp
        return self.pose_icp @ delta

    def _update_icp_velocity(self, base_pose: np.ndarray, t_s: float) -> None:
        self.prev_pose_icp = self.pose_icp
        self.pose_icp = base_pose
        if self.last_scan_t is not None and t_s > self.last_scan_t:
            dt = t_s - self.last_scan_t
            delta = np.linalg.inv(self.prev_pose_icp) @ self.pose_icp
            self.velocity_body = delta[:3, 3] / dt
            self.angular_body = Rotation.from_matrix(delta[:3, :3]).as_rotvec() / dt

    def _sensor_velocity(self) -> tuple[np.ndarray, np.ndarray]:
        """Linear and angular velocity of the sensor in its own frame (for deskewing)."""
        r = self.mount[:3, :3]
        ang = r.T @ self.angular_body
        lin = r.T @ (self.velocity_body + np.cross(self.angular_body, self.mount[:3, 3]))
        return lin, ang

    def pose(self) -> np.ndarray:
        """Current 4×4 ``odom ← base_link``."""
        return self.filter.matrix() if self.fused else self.pose_icp

    def estimate(
        self, t_s: float, deg_dims: int = 0, accepted: bool = True, info: dict | None = None
    ) -> OdometryEstimate:
        """The current estimate as an :class:`OdometryEstimate`."""
        cov = np.zeros((6, 6))
        if self.fused:
            p = self.filter.p
            cov[:3, :3] = p[:3, :3]
            cov[5, 5] = p[3, 3]
            cov[:3, 5] = p[:3, 3]
            cov[5, :3] = p[3, :3]
            cov[3, 3] = cov[4, 4] = self.config.fusion.attitude_std_rad**2  # roll/pitch: the attitude filter
        else:
            cov[:] = np.diag([1e-2] * 3 + [1e-3] * 3)
        return OdometryEstimate(
            stamp_s=t_s,
            pose=self.pose().copy(),
            linear_m_s=self.velocity_body.copy(),
            angular_rad_s=self.angular_body.copy(),
            covariance=cov,
            degenerate_dims=deg_dims,
            icp_accepted=accepted,
            info=dict(info or {}),
        )


def pose_to_xyz_quat(pose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """4×4 transform → (position m, quaternion xyzw)."""
    return pose[:3, 3].copy(), Rotation.from_matrix(pose[:3, :3]).as_quat()
