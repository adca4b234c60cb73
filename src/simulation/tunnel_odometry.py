"""Simulator plugin: a robot drives a cable tunnel with LiDAR, wheel encoders and an IMU; scores odometry drift.

World: :func:`sanqin.simulation.worlds.tunnel.build_tunnel` (frame ``world``; trays, brackets, joints, a
parked cart, ramps and bends). The robot stands still for ``start_rest_s``, then drives the centre line
from ``start_station_m`` to ``end_station_m`` (accelerating to ``speed_m_s`` and braking over
``accel_time_s``), base_link on the floor, pitched with the floor and yawed with the bends.

Publishes (simulated time):

* ``/lidar/points`` (sensor_msgs/PointCloud2, frame ``lidar``) — a sweep per LiDAR period with motion skew;
* ``/wheel/odom`` (nav_msgs/Odometry) at ``wheel_rate_hz``: forward speed with a scale error
  (``wheel_scale``) and noise, yaw rate with noise (what encoders of a skid-steer base give);
* ``/imu/data_raw`` (sensor_msgs/Imu) at ``imu_rate_hz``: body rates with a constant gyro bias and noise,
  specific force (gravity + centripetal) with noise;
* ``/odom_gt`` (nav_msgs/Odometry, ground truth in the world frame).

Scores each odometry topic in ``score_topics`` (nav_msgs/Odometry in its own ``odom`` frame, starting at
identity where the robot started): the ground truth is expressed relative to the start pose, and the
final and largest position errors are reported as a percentage of the distance driven. The ``imu``
topic with orientation (``imu_topic``), when published by an attitude filter, is scored for roll/pitch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from sanqin.common.types import ImuSample, Odometry, Pose, Twist
from sanqin.msgs.geometry import odometry_from_msg, odometry_to_msg
from sanqin.msgs.pointcloud import cloud_to_pointcloud2
from sanqin.msgs.sensors import imu_from_msg, imu_to_msg
from sanqin.runtime.config import nested, param, require
from sanqin.simulation.lidar import LidarConfig, LidarScene, LidarSimulator, pose_to_matrix
from sanqin.simulation.worlds.tunnel import TunnelConfig, TunnelWorld, build_tunnel

GRAVITY = 9.80665


@dataclass(frozen=True)
class TunnelOdometryConfig:
    """Route, sensors and their errors, and what is scored."""

    world: TunnelConfig = nested(TunnelConfig)
    lidar: LidarConfig = nested(LidarConfig)
    speed_m_s: float = param(1.0, "driving speed (m/s)", min=0.05, max=10.0)
    start_station_m: float = param(3.0, "start station (m)", min=0.0)
    end_station_m: float = param(197.0, "end station: the robot stops there (m)", min=0.0)
    start_rest_s: float = param(2.0, "the robot stands still this long before it starts (s)", min=0.0, max=600.0)
    accel_time_s: float = param(1.0, "time to reach speed from rest and to brake to rest (s)", min=0.0, max=60.0)
    wheel_rate_hz: float = param(20.0, "wheel odometry rate (Hz)", min=1.0, max=1000.0)
    imu_rate_hz: float = param(100.0, "IMU rate (Hz)", min=1.0, max=2000.0)
    wheel_scale: float = param(1.01, "wheel distance / true distance (encoder scale error)", min=0.5, max=1.5)
    wheel_speed_noise_m_s: float = param(0.02, "wheel speed noise std (m/s)", min=0.0)
    wheel_yaw_rate_noise_rad_s: float = param(0.02, "wheel yaw-rate noise std (rad/s)", min=0.0)
    gyro_bias_rad_s: tuple[float, ...] = param((0.002, -0.0015, 0.003), "constant gyro bias (rad/s)")
    gyro_noise_rad_s: float = param(0.003, "gyro noise std per sample (rad/s)", min=0.0)
    accel_noise_m_s2: float = param(0.05, "accelerometer noise std (m/s^2)", min=0.0)
    score_topics: tuple[str, ...] = param(("/odometry",), "nav_msgs/Odometry topics to score")
    imu_topic: str = param("", "sensor_msgs/Imu with orientation to score ('' = none)")

    def __post_init__(self) -> None:
        require(self.start_station_m < self.end_station_m <= self.world.length_m, "need start < end <= tunnel length")
        require(len(self.gyro_bias_rad_s) == 3, "gyro_bias_rad_s needs 3 values")


class TunnelOdometrySim:
    """Drive, sense, publish, and score odometry against the ground truth."""

    def __init__(self, config: TunnelOdometryConfig, ctx: Any) -> None:
        self.config = config
        self.ctx = ctx
        self.rng = ctx.rng
        self.world: TunnelWorld = build_tunnel(config.world)
        scene = LidarScene(self.world.mesh, self.world.triangle_reflectivity(), config.lidar.default_reflectivity)
        self.lidar = LidarSimulator(config.lidar, scene, ctx.rng)
        self.start = pose_to_matrix(self.pose_at(0.0))
        self.start_inv = np.linalg.inv(self.start)
        self._next = {"scan": config.lidar.period_s, "wheel": 0.0, "imu": 0.0}
        self.errors: dict[str, list[tuple[float, float, float]]] = {t: [] for t in config.score_topics}
        self.att_errors: list[float] = []
        self.scans = 0
        bus = ctx.graph.bus
        for topic, typ in (
            ("/lidar/points", "sensor_msgs/msg/PointCloud2"),
            ("/wheel/odom", "nav_msgs/msg/Odometry"),
            ("/imu/data_raw", "sensor_msgs/msg/Imu"),
            ("/odom_gt", "nav_msgs/msg/Odometry"),
        ):
            bus.advertise(topic, typ)
        for topic in config.score_topics:
            ctx.subscribe(topic, "nav_msgs/msg/Odometry", lambda msg, topic=topic: self._on_odometry(topic, msg))
        if config.imu_topic:
            ctx.subscribe(config.imu_topic, "sensor_msgs/msg/Imu", self._on_imu)

    Config = TunnelOdometryConfig

    # --- motion ----------------------------------------------------------------------------------
    def _profile(self, t_s: float) -> tuple[float, float]:
        """(distance, speed) of a trapezoidal speed profile: accelerate, cruise, brake to a stop."""
        c = self.config
        v, ta = c.speed_m_s, c.accel_time_s
        dist = c.end_station_m - c.start_station_m
        ta = min(ta, dist / v) if ta > 0 else 0.0
        t_end = dist / v + ta
        t = min(max(t_s - c.start_rest_s, 0.0), t_end)
        if ta > 0 and t < ta:
            return v * t * t / (2 * ta), v * t / ta
        if ta > 0 and t > t_end - ta:
            rem = t_end - t
            return dist - v * rem * rem / (2 * ta), v * rem / ta
        return v * (t - ta / 2), (v if t < t_end else 0.0)

    def station(self, t_s: float) -> float:
        """Station of base_link at ``t_s``."""
        return self.config.start_station_m + self._profile(t_s)[0]

    def speed(self, t_s: float) -> float:
        """Forward speed at ``t_s``."""
        return self._profile(t_s)[1]

    def attitude(self, s: float) -> tuple[float, float]:
        """(yaw, pitch) of the body at station ``s``."""
        pitch = -float(np.arctan(self.world.grade(s)))
        return float(self.world.heading(s)), pitch

    def pose_at(self, t_s: float) -> Pose:
        """Ground-truth base_link pose in the world frame."""
        s = self.station(t_s)
        yaw, pitch = self.attitude(s)
        q = Rotation.from_euler("ZY", [yaw, pitch]).as_quat()
        return Pose(self.world.to_world(s, 0.0, 0.0), q)

    # --- stepping ----------------------------------------------------------------------------------
    def step(self, t_s: float, dt_s: float) -> None:
        """Publish every sensor sample due at ``t_s``."""
        c = self.config
        eps = 1e-9
        while self._next["imu"] <= t_s + eps:
            self._imu(self._next["imu"])
            self._next["imu"] += 1.0 / c.imu_rate_hz
        while self._next["wheel"] <= t_s + eps:
            self._wheel(self._next["wheel"])
            self._next["wheel"] += 1.0 / c.wheel_rate_hz
        while self._next["scan"] <= t_s + eps:
            ts = self._next["scan"]
            cloud = self.lidar.scan(self.pose_at(ts), ts, self.pose_at(ts - c.lidar.period_s))
            self.ctx.publish("/lidar/points", cloud_to_pointcloud2(cloud, self.ctx.factory))
            self.scans += 1
            self._next["scan"] += c.lidar.period_s

    def _rates(self, t_s: float) -> tuple[np.ndarray, np.ndarray]:
        """True body angular rate and specific force at ``t_s`` (finite differences of the trajectory)."""
        h = 0.01
        r0 = Rotation.from_quat(self.pose_at(t_s - h).orientation_xyzw)
        r1 = Rotation.from_quat(self.pose_at(t_s + h).orientation_xyzw)
        omega = (r0.inv() * r1).as_rotvec() / (2 * h)
        rot = Rotation.from_quat(self.pose_at(t_s).orientation_xyzw)
        p0, p1, p2 = (self.pose_at(t_s + k * h).position_m for k in (-1, 0, 1))
        acc_world = (p2 - 2 * p1 + p0) / (h * h)
        f = rot.inv().apply(acc_world + np.array([0.0, 0.0, GRAVITY]))
        return omega, f

    def _imu(self, t_s: float) -> None:
        c = self.config
        omega, f = self._rates(t_s)
        gyro = omega + np.asarray(c.gyro_bias_rad_s) + self.rng.normal(0, c.gyro_noise_rad_s, 3)
        acc = f + self.rng.normal(0, c.accel_noise_m_s2, 3)
        sample = ImuSample(stamp_s=t_s, frame_id="imu", angular_velocity_rad_s=gyro, linear_acceleration_m_s2=acc)
        self.ctx.publish("/imu/data_raw", imu_to_msg(sample, self.ctx.factory))

    def _wheel(self, t_s: float) -> None:
        c = self.config
        v = self.speed(t_s)
        omega, _ = self._rates(t_s)
        v_meas = v * c.wheel_scale + (self.rng.normal(0, c.wheel_speed_noise_m_s) if v > 0 else 0.0)
        w_meas = omega[2] + (self.rng.normal(0, c.wheel_yaw_rate_noise_rad_s) if v > 0 else 0.0)
        odom = Odometry(
            stamp_s=t_s,
            frame_id="odom",
            child_frame_id="base_link",
            twist=Twist([v_meas, 0.0, 0.0], [0.0, 0.0, w_meas]),
        )
        self.ctx.publish("/wheel/odom", odometry_to_msg(odom, self.ctx.factory))
        gt = Odometry(
            stamp_s=t_s,
            frame_id="world",
            child_frame_id="base_link",
            pose=self.pose_at(t_s),
            twist=Twist([v, 0.0, 0.0], omega),
        )
        self.ctx.publish("/odom_gt", odometry_to_msg(gt, self.ctx.factory))

    # --- scoring ---------------------------------------------------------------------------------------
    def _on_odometry(self, topic: str, msg: Any) -> None:
        odom = odometry_from_msg(msg)
        truth = self.start_inv @ pose_to_matrix(self.pose_at(odom.stamp_s))
        dist = self.station(odom.stamp_s) - self.config.start_station_m
        err = float(np.linalg.norm(np.asarray(odom.pose.position_m) - truth[:3, 3]))
        self.errors[topic].append((odom.stamp_s, dist, err))

    def _on_imu(self, msg: Any) -> None:
        imu = imu_from_msg(msg)
        if imu.orientation_xyzw is None:
            return
        est = Rotation.from_quat(imu.orientation_xyzw)
        true = Rotation.from_quat(self.pose_at(imu.stamp_s).orientation_xyzw)
        # Roll/pitch error: angle between the estimated and true gravity directions in the body.
        g_est = est.inv().apply([0, 0, 1.0])
        g_true = true.inv().apply([0, 0, 1.0])
        self.att_errors.append(float(np.degrees(np.arccos(np.clip(g_est @ g_true, -1, 1)))))

    def metrics(self) -> dict[str, float]:
        """Per scored topic: distance, final and largest error (m and % of distance)."""
        out: dict[str, float] = {"scans": float(self.scans)}
        for topic, errs in self.errors.items():
            key = topic.strip("/").replace("/", "_")
            if not errs:
                out[f"{key}.messages"] = 0.0
                continue
            e = np.array(errs)
            dist = float(e[-1, 1])
            out[f"{key}.messages"] = float(len(e))
            out[f"{key}.distance_m"] = dist
            out[f"{key}.final_error_m"] = float(e[-1, 2])
            out[f"{key}.max_error_m"] = float(e[:, 2].max())
            if dist > 0:
                out[f"{key}.drift_pct"] = 100.0 * float(e[-1, 2]) / dist
                out[f"{key}.max_drift_pct"] = 100.0 * float(e[:, 2].max()) / dist
        if self.att_errors:
            a = np.array(self.att_errors)
            out["attitude_error_mean_deg"] = float(a[len(a) // 10 :].mean())
            out["attitude_error_max_deg"] = float(a[len(a) // 10 :].max())
        return out

    def plots(self, out_dir: Path) -> list[Path]:
        """Position error against distance for every scored topic."""
        if not any(self.errors.values()):
            return []
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 3.5))
        for topic, errs in self.errors.items():
            if errs:
                e = np.array(errs)
                ax.plot(e[:, 1], e[:, 2], label=topic)
        ax.set_xlabel("distance driven (m)")
        ax.set_ylabel("position error (m)")
        ax.legend()
        fig.tight_layout()
        path = Path(out_dir) / "odometry_error.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return [path]
