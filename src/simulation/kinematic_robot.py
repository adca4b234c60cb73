"""A kinematic robot for closed-loop planner scenarios: integrates the commanded Twist, publishes odometry.

Models: ``differential_drive`` (cmd_vel linear.x, angular.z in the body frame), ``mecanum`` (linear.x/y,
angular.z body), ``multirotor`` (cmd_vel linear = ENU velocity). The commanded velocity is followed
through a first-order lag and clipped to the speed limits; a stale command (older than
``cmd_timeout_s``) decays to zero. Circular obstacles are published as the perception obstacle table
(sensor_msgs/PointCloud2, :mod:`sanqin.msgs.obstacles`) and the path as nav_msgs/Path (latched, once).

Metrics: ``goal_reached``, ``time_to_goal_s``, ``min_clearance_m`` (robot disc to obstacle discs),
``max_path_deviation_m``, ``mean_path_deviation_m``, ``collisions`` (steps in contact), ``distance_m``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

import numpy as np
from shapely.geometry import LineString, Point

from sanqin.common.obstacles import Obstacle, ObstacleList
from sanqin.common.types import Odometry, Path, Pose, PoseStamped, Twist
from sanqin.msgs.geometry import odometry_to_msg, path_to_msg, twist_from_msg
from sanqin.msgs.obstacles import obstacles_to_pointcloud2
from sanqin.runtime.config import param, require


@dataclass(frozen=True)
class KinematicRobotConfig:
    """Robot, world (path, circular obstacles), rates and topics."""

    kind: str = param("differential_drive", "robot kinematics", choices=("differential_drive", "mecanum", "multirotor"))
    start: tuple[float, ...] = param((0.0, 0.0, 0.0), "start x y yaw (m, rad); multirotor: x y z yaw")
    path: tuple[float, ...] = param((0.0, 0.0, 10.0, 0.0), "path waypoints, flat x y (or x y z for multirotor)")
    obstacles: tuple[float, ...] = param((), "circular obstacles, flat x y radius (m)")
    robot_radius_m: float = param(0.3, "robot radius for clearance (m)", min=0.0)
    v_max_m_s: float = param(1.5, "speed limit (m/s)", min=0.01)
    w_max_rad_s: float = param(2.0, "yaw-rate limit (rad/s)", min=0.01)
    lag_s: float = param(0.1, "first-order velocity response time (s)", min=0.0)
    cmd_timeout_s: float = param(0.5, "stale command → stop (s)", min=0.01)
    odom_rate_hz: float = param(50.0, "odometry rate (Hz)", min=1.0)
    obstacles_rate_hz: float = param(10.0, "obstacle table rate (Hz)", min=0.1)
    goal_tolerance_m: float = param(0.15, "goal reached within (m)", min=0.01)
    frame_id: str = param("odom", "odometry/path/obstacle frame")
    cmd_topic: str = param("/cmd_vel", "velocity command in (geometry_msgs/Twist)")
    odom_topic: str = param("/odom", "odometry out")
    path_topic: str = param("/path", "path out (latched, once)")
    obstacles_topic: str = param("/obstacles", "obstacle table out")
    stop_when_done: bool = param(True, "end the run when the goal is reached and the robot stopped")

    def __post_init__(self) -> None:
        dim = 3 if self.kind == "multirotor" else 2
        require(len(self.path) % dim == 0 and len(self.path) >= 2 * dim, f"path needs >= 2 points of {dim} values")
        require(len(self.obstacles) % 3 == 0, "obstacles are x y radius triples")
        require(len(self.start) == dim + 1, f"start needs {dim + 1} values")


class KinematicRobotSim:
    """Simulator plugin (see :mod:`sanqin.runtime.scenario`)."""

    Config = KinematicRobotConfig

    def __init__(self, config: KinematicRobotConfig, ctx: Any) -> None:
        self.config, self.ctx = config, ctx
        c = config
        self.dim = 3 if c.kind == "multirotor" else 2
        self.pos = np.zeros(3)
        self.pos[: self.dim] = c.start[: self.dim]
        self.yaw = float(c.start[-1])
        self.vel_cmd = np.zeros(3)  # body vx vy (or ENU vx vy vz) ...
        self.w_cmd = 0.0
        self.vel = np.zeros(3)
        self.w = 0.0
        self.cmd_t = -math.inf
        self.path_pts = np.asarray(c.path, float).reshape(-1, self.dim)
        self.line = LineString(self.path_pts[:, :2])
        self.obst = np.asarray(c.obstacles, float).reshape(-1, 3)
        self.next_odom = 0.0
        self.next_obst = 0.0
        self.path_sent = False
        self.trace: list[np.ndarray] = []
        self.min_clear = math.inf
        self.collisions = 0
        self.devs: list[float] = []
        self.goal_t = math.nan
        self.distance = 0.0
        ctx.subscribe(c.cmd_topic, "geometry_msgs/msg/Twist", self._on_cmd)

    def _on_cmd(self, msg: Any) -> None:
        tw = twist_from_msg(msg)
        if np.all(np.isfinite(tw.linear_m_s)) and np.all(np.isfinite(tw.angular_rad_s)):
            self.vel_cmd, self.w_cmd, self.cmd_t = tw.linear_m_s.copy(), float(tw.angular_rad_s[2]), self.ctx.now()

    def step(self, t_s: float, dt_s: float) -> None:
        """Advance the robot, publish odometry/obstacles/path on their schedules, score."""
        c = self.config
        if not self.path_sent:
            self.path_sent = True
            poses = tuple(PoseStamped(t_s, c.frame_id, Pose(np.array([*p[:2], p[2] if self.dim == 3 else 0.0])))
                          for p in self.path_pts)
            self.ctx.publish(c.path_topic, path_to_msg(Path(t_s, c.frame_id, poses), self.ctx.factory))
        fresh = t_s - self.cmd_t <= c.cmd_timeout_s
        target_v = self.vel_cmd if fresh else np.zeros(3)
        target_w = self.w_cmd if fresh else 0.0
        if c.kind == "differential_drive":
            target_v = np.array([target_v[0], 0.0, 0.0])
        elif c.kind == "mecanum":
            target_v = np.array([target_v[0], target_v[1], 0.0])
        speed = np.linalg.norm(target_v)
        if speed > c.v_max_m_s:
            target_v = target_v * (c.v_max_m_s / speed)
        target_w = float(np.clip(target_w, -c.w_max_rad_s, c.w_max_rad_s))
        a = 1.0 if c.lag_s <= 0 else min(dt_s / c.lag_s, 1.0)
        self.vel += a * (target_v - self.vel)
        self.w += a * (target_w - self.w)
        if c.kind == "multirotor":
            world = self.vel.copy()
        else:
            cy, sy = math.cos(self.yaw), math.sin(self.yaw)
            world = np.array([cy * self.vel[0] - sy * self.vel[1], sy * self.vel[0] + cy * self.vel[1], 0.0])
            self.yaw = (self.yaw + self.w * dt_s + math.pi) % (2 * math.pi) - math.pi
        step = world * dt_s
        self.pos += step
        self.distance += float(np.linalg.norm(step))
        self._score(t_s)
        if t_s + 1e-9 >= self.next_odom:
            self.next_odom = t_s + 1.0 / c.odom_rate_hz
            self._publish_odom(t_s)
        if len(self.obst) and t_s + 1e-9 >= self.next_obst:
            self.next_obst = t_s + 1.0 / c.obstacles_rate_hz
            side = math.sqrt(2)  # a square of side r·√2 has the circumscribed circle of radius r
            obs = ObstacleList(tuple(Obstacle(np.array([x, y, 1.0]), np.array([r * side, r * side, 2.0]), track_id=i)
                                     for i, (x, y, r) in enumerate(self.obst)), t_s, c.frame_id)
            self.ctx.publish(c.obstacles_topic, obstacles_to_pointcloud2(obs, self.ctx.factory))

    def _publish_odom(self, t_s: float) -> None:
        c = self.config
        q = np.array([0.0, 0.0, math.sin(self.yaw / 2), math.cos(self.yaw / 2)])
        if c.kind == "multirotor":  # twist in the body frame (yaw only)
            cy, sy = math.cos(self.yaw), math.sin(self.yaw)
            body = np.array([cy * self.vel[0] + sy * self.vel[1], -sy * self.vel[0] + cy * self.vel[1], self.vel[2]])
        else:
            body = self.vel.copy()
        odom = Odometry(t_s, c.frame_id, "base_link", Pose(self.pos.copy(), q),
                        Twist(body, np.array([0.0, 0.0, self.w])))
        self.ctx.publish(c.odom_topic, odometry_to_msg(odom, self.ctx.factory))

    def _score(self, t_s: float) -> None:
        c = self.config
        self.trace.append(self.pos.copy())
        if len(self.obst):
            centre = np.hypot(self.obst[:, 0] - self.pos[0], self.obst[:, 1] - self.pos[1])
            d = centre - self.obst[:, 2] - c.robot_radius_m
            self.min_clear = min(self.min_clear, float(d.min()))
            self.collisions += int(np.any(d < 0))
        self.devs.append(float(self.line.distance(Point(self.pos[:2]))))
        goal = self.path_pts[-1]
        near = np.linalg.norm(self.pos[: self.dim] - goal[: self.dim]) <= c.goal_tolerance_m
        if near and np.linalg.norm(self.vel) < 0.05 and math.isnan(self.goal_t):
            self.goal_t = t_s

    def done(self) -> bool:
        """End the run once the goal is reached (if configured)."""
        return self.config.stop_when_done and not math.isnan(self.goal_t)

    def metrics(self) -> dict[str, float]:
        """Closed-loop figures."""
        return {
            "goal_reached": float(not math.isnan(self.goal_t)),
            "time_to_goal_s": self.goal_t,
            "min_clearance_m": self.min_clear if math.isfinite(self.min_clear) else math.nan,
            "collisions": float(self.collisions),
            "max_path_deviation_m": max(self.devs) if self.devs else math.nan,
            "mean_path_deviation_m": float(np.mean(self.devs)) if self.devs else math.nan,
            "distance_m": self.distance,
        }

    def plots(self, out_dir: FsPath) -> list[FsPath]:
        """Trajectory over the path and obstacles."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        tr = np.array(self.trace) if self.trace else np.zeros((0, 3))
        fig, ax = plt.subplots(figsize=(8, 5), dpi=100)
        ax.plot(self.path_pts[:, 0], self.path_pts[:, 1], "k--", lw=1, label="path")
        if len(tr):
            ax.plot(tr[:, 0], tr[:, 1], "tab:blue", lw=1.5, label="robot")
        for x, y, r in self.obst:
            ax.add_patch(plt.Circle((x, y), r, color="tab:red", alpha=0.4))
            ax.add_patch(plt.Circle((x, y), r + self.config.robot_radius_m, color="tab:red", fill=False, ls=":"))
        ax.set_aspect("equal")
        ax.legend(loc="best")
        ax.set_xlabel("x (m)")
        ax.set_ylabel("y (m)")
        out = FsPath(out_dir) / "trajectory.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out)
        plt.close(fig)
        return [out]
