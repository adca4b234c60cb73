"""Pure-pursuit path driver: follows a planar polyline at a set speed from odometry (a twin's scenario driver).

Headless simulators often move a robot kinematically along a known path (the tunnel robot on the tunnel
centre line, through its bends). In Gazebo the robot is driven by its drive system from ``cmd_vel``, so
the twin runs this component to make it travel the same path at the same speed: each cycle it projects
the robot onto the path (progress never goes backwards, so a path that comes close to itself is not
skipped), takes the point ``lookahead_m`` further along and commands the pure-pursuit curvature
``κ = 2 sin(α) / L`` (α: bearing of that point in the robot frame, L: its distance) at ``speed_m_s``,
with the yaw rate clipped; optionally it waits ``start_delay_s`` and ramps the speed up and down at
``max_accel_m_s2`` (a trapezoidal profile like the headless robots'). It stops (zero twist) at the end of
the path, before the first odometry and when odometry is older than ``odom_timeout_s``; non-finite
odometry is rejected and counted.

Frames: path and odometry pose in the same fixed frame (e.g. ``odom``), ENU, metres; yaw from the
odometry quaternion (xyzw). The command is a body-frame twist (x forward, yaw rate about z).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sanqin.common.types import Odometry, Twist
from sanqin.runtime.config import param, require


@dataclass(frozen=True)
class PathDriverConfig:
    """The path to follow and how."""

    path_xy_m: tuple[float, ...] = param((0.0, 0.0, 10.0, 0.0), "path points x0 y0 x1 y1 ... in the odometry frame (m)")
    speed_m_s: float = param(0.5, "forward speed along the path (m/s)", min=0.0, max=20.0)
    lookahead_m: float = param(1.0, "pure-pursuit lookahead distance (m)", min=0.05, max=50.0)
    max_yaw_rate_rad_s: float = param(1.0, "yaw-rate command limit (rad/s)", min=0.01, max=10.0)
    goal_tolerance_m: float = param(0.1, "stop when this close to the path end along the path (m)", min=0.0)
    odom_timeout_s: float = param(0.5, "stop when the last odometry is older than this (s)", min=0.01)
    control_period_s: float = param(0.05, "command period (s)", min=0.001, max=1.0)
    start_delay_s: float = param(0.0, "stand still until this time (s, node clock)", min=0.0)
    max_accel_m_s2: float = param(0.0, "speed ramps up and brakes to the path end at this rate; 0: no limit (m/s²)",
                                  min=0.0)

    def __post_init__(self) -> None:
        require(len(self.path_xy_m) >= 4 and len(self.path_xy_m) % 2 == 0,
                "path_xy_m needs at least two points, as x y pairs")
        require(all(math.isfinite(v) for v in self.path_xy_m), "path_xy_m must be finite")
        pts = np.asarray(self.path_xy_m, dtype=np.float64).reshape(-1, 2)
        require(bool(np.all(np.linalg.norm(np.diff(pts, axis=0), axis=1) > 1e-6)),
                "path_xy_m has repeated consecutive points")


class PathDriver:
    """Follow ``path_xy_m``: ``on_odom`` takes the pose, ``tick`` returns the ``cmd_vel`` twist."""

    def __init__(self, config: PathDriverConfig) -> None:
        self.config = config
        self.path = np.asarray(config.path_xy_m, dtype=np.float64).reshape(-1, 2)
        seg = np.diff(self.path, axis=0)
        self.seg_len = np.linalg.norm(seg, axis=1)
        self.seg_dir = seg / self.seg_len[:, None]
        self.cum = np.concatenate([[0.0], np.cumsum(self.seg_len)])
        self.length_m = float(self.cum[-1])
        self.progress_m = 0.0
        self.odom: Odometry | None = None
        self.odom_t_s = -math.inf
        self.cross_track: list[float] = []
        self.started_s: float | None = None
        self.counters = {"commands": 0, "stops_no_odom": 0, "rejected_odom": 0, "finished": 0}

    def on_odom(self, odom: Odometry, t_s: float) -> None:
        """Take the latest pose (non-finite poses are rejected)."""
        if not (np.all(np.isfinite(odom.pose.position_m)) and np.all(np.isfinite(odom.pose.orientation_xyzw))):
            self.counters["rejected_odom"] += 1
            return
        self.odom, self.odom_t_s = odom, t_s

    def point_at(self, s_m: float) -> np.ndarray:
        """The path point at arc length ``s_m`` (clamped to the path)."""
        s = min(max(s_m, 0.0), self.length_m)
        i = int(min(np.searchsorted(self.cum, s, side="right") - 1, len(self.seg_len) - 1))
        return self.path[i] + self.seg_dir[i] * (s - self.cum[i])

    def project(self, xy: np.ndarray) -> tuple[float, float]:
        """(arc length, distance) of the nearest path point at or after the current progress."""
        rel = xy[None, :] - self.path[:-1]
        t = np.clip(np.einsum("ij,ij->i", rel, self.seg_dir), 0.0, self.seg_len)
        s = self.cum[:-1] + t
        d = np.linalg.norm(self.path[:-1] + self.seg_dir * t[:, None] - xy[None, :], axis=1)
        d = np.where(s + 1e-9 >= self.progress_m - self.config.lookahead_m, d, np.inf)  # no jumping back
        k = int(np.argmin(d))
        return float(s[k]), float(d[k])

    def tick(self, t_s: float) -> dict[str, Twist]:
        """The ``cmd_vel`` command for now."""
        cfg = self.config
        stop = {"cmd_vel": Twist()}
        if self.odom is None or t_s - self.odom_t_s > cfg.odom_timeout_s:
            self.counters["stops_no_odom"] += 1
            return stop
        pose = self.odom.pose
        xy = np.asarray(pose.position_m[:2], dtype=np.float64)
        x, y, z, w = pose.orientation_xyzw
        yaw = math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
        s, dist = self.project(xy)
        self.progress_m = max(self.progress_m, s)
        self.cross_track.append(dist)
        remaining = self.length_m - self.progress_m
        if remaining <= cfg.goal_tolerance_m:
            self.counters["finished"] = 1
            return stop
        if t_s < cfg.start_delay_s:
            self.started_s = None
            return stop
        if self.started_s is None:
            self.started_s = t_s
        target = self.point_at(self.progress_m + cfg.lookahead_m)
        dx, dy = target - xy
        local_x = math.cos(yaw) * dx + math.sin(yaw) * dy
        local_y = -math.sin(yaw) * dx + math.cos(yaw) * dy
        dist_t = math.hypot(local_x, local_y)
        curvature = 2.0 * local_y / (dist_t * dist_t) if dist_t > 1e-6 else 0.0
        speed = cfg.speed_m_s
        if cfg.max_accel_m_s2 > 0:  # trapezoidal profile: ramp up from the start, brake into the path end
            speed = min(speed, cfg.max_accel_m_s2 * (t_s - self.started_s + cfg.control_period_s),
                        math.sqrt(2.0 * cfg.max_accel_m_s2 * remaining))
        yaw_rate = float(np.clip(speed * curvature, -cfg.max_yaw_rate_rad_s, cfg.max_yaw_rate_rad_s))
        if local_x < 0:  # target behind: turn on the spot towards it
            speed, yaw_rate = 0.0, math.copysign(cfg.max_yaw_rate_rad_s, local_y or 1.0)
        self.counters["commands"] += 1
        return {"cmd_vel": Twist(np.array([speed, 0.0, 0.0]), np.array([0.0, 0.0, yaw_rate]))}

    def metrics(self) -> dict[str, float]:
        """Progress along the path and cross-track error (m)."""
        ct = np.asarray(self.cross_track)
        return {
            **{k: float(v) for k, v in self.counters.items()},
            "progress_m": self.progress_m,
            "path_length_m": self.length_m,
            "cross_track_max_m": float(ct.max()) if ct.size else float("nan"),
            "cross_track_rms_m": float(np.sqrt(np.mean(ct**2))) if ct.size else float("nan"),
        }
