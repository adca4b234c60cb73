"""Simulator plugin: an industrial bay with people and pallets, a LiDAR on a moving base; scores obstacles.

World (frame ``odom`` = the bay frame, ENU, floor at z = 0): a floor slab with perimeter walls, static
pallets (pallet-sized boxes), standing and walking people (person-sized boxes, each walking back and forth
on a straight segment). The robot drives along x at ``robot_speed_m_s``; the simulated spinning LiDAR
(:mod:`sanqin.simulation.lidar`, Open3D raycasting of the scene rebuilt every sweep so people move) is
mounted at ``lidar.mount_xyz_m``.

Publishes: ``/lidar/points`` (sensor_msgs/PointCloud2, frame ``lidar``), ``/odom`` (nav_msgs/Odometry,
ground truth odom → base_link, 50 Hz) and ``/tf``.

Scores ``/obstacles`` (the obstacle table, :mod:`sanqin.msgs.obstacles`) against the ground truth, per
frame after ``warmup_s``: an object is *visible* when at least ``min_visible_points`` returns of the
sweep fall in its box; a published obstacle matches an object when their centres are within
``match_distance_m`` (one-to-one, nearest first). Precision = matched / published (published obstacles
matching any object, visible or occluded, are not false); recall = visible objects matched / visible
objects. For matched walking people the speed error is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.transform import Rotation

from sanqin.common.types import Odometry, Pose, Twist
from sanqin.msgs.errors import MessageError
from sanqin.msgs.geometry import odometry_to_msg, odometry_to_tf
from sanqin.msgs.obstacles import pointcloud2_to_obstacles
from sanqin.msgs.pointcloud import cloud_to_pointcloud2
from sanqin.runtime.config import nested, param, require
from sanqin.simulation.lidar import LidarConfig, LidarScene, LidarSimulator, mount_matrix, pose_to_matrix
from sanqin.simulation.worlds.tunnel import Box

PERSON_SIZE = (0.5, 0.4, 1.75)


@dataclass(frozen=True)
class IndustrialBayConfig:
    """Bay size, objects, robot motion, LiDAR and scoring."""

    lidar: LidarConfig = nested(LidarConfig)
    bay_length_m: float = param(60.0, "bay extent along x (m)", min=5.0)
    bay_width_m: float = param(40.0, "bay extent along y (m)", min=5.0)
    wall_height_m: float = param(6.0, "perimeter wall height (m)", min=0.5)
    pallets_xy_yaw: tuple[float, ...] = param(
        (8.0, -3.0, 0.3, 12.0, 5.0, -0.5, -6.0, -4.0, 0.0, 18.0, -6.0, 1.2),
        "pallet stacks as flat (x, y, yaw) triples (m, rad)",
    )
    pallet_size_m: tuple[float, ...] = param((1.2, 1.0, 1.2), "pallet stack length, width, height (m)", min=0.05)
    people_xy: tuple[float, ...] = param((5.0, 3.0, -4.0, 6.0), "standing people as flat (x, y) pairs (m)")
    walkers: tuple[float, ...] = param(
        (10.0, -8.0, 10.0, 8.0, 1.2, 15.0, 4.0, 3.0, 4.0, 1.0, 0.0, -10.0, 14.0, -10.0, 1.4),
        "walking people as flat (x0, y0, x1, y1, speed m/s) quintuples: back and forth on the segment",
    )
    robot_start_xy: tuple[float, ...] = param((0.0, 0.0), "robot start (m)")
    robot_speed_m_s: float = param(0.3, "robot speed along +x (m/s)", min=0.0, max=5.0)
    odom_rate_hz: float = param(50.0, "ground-truth odometry rate (Hz)", min=1.0, max=1000.0)
    points_topic: str = param("/lidar/points", "LiDAR topic")
    odom_topic: str = param("/odom", "ground-truth odometry topic")
    obstacles_topic: str = param("/obstacles", "obstacle table topic under test")
    warmup_s: float = param(1.0, "frames before this are not scored (tracks confirm) (s)", min=0.0)
    match_distance_m: float = param(1.0, "largest centre distance of a match (m)", min=0.05)
    min_visible_points: int = param(15, "returns needed for an object to count as visible", min=1)
    max_score_range_m: float = param(25.0, "objects farther from the robot are not scored (m)", min=1.0)

    def __post_init__(self) -> None:
        require(len(self.pallets_xy_yaw) % 3 == 0, "pallets_xy_yaw needs (x, y, yaw) triples")
        require(len(self.people_xy) % 2 == 0, "people_xy needs (x, y) pairs")
        require(len(self.walkers) % 5 == 0, "walkers needs (x0, y0, x1, y1, speed) quintuples")
        require(len(self.pallet_size_m) == 3 and len(self.robot_start_xy) == 2, "sizes need 3 values, start 2")


@dataclass(frozen=True)
class GroundTruthObject:
    """An object at one instant: centre (m), size, yaw, velocity (m/s) and kind."""

    kind: str
    center_m: np.ndarray
    size_m: tuple[float, float, float]
    yaw_rad: float
    velocity_m_s: np.ndarray


def _box(center: np.ndarray, size: tuple[float, ...], yaw: float) -> Any:
    import open3d as o3d

    sx, sy, sz = size
    m = o3d.geometry.TriangleMesh.create_box(sx, sy, sz)
    m.translate((-sx / 2, -sy / 2, -sz / 2))
    m.rotate(Rotation.from_euler("z", yaw).as_matrix(), center=(0, 0, 0))
    m.translate(tuple(float(v) for v in center))
    return m


class IndustrialBaySim:
    """Moves people and the robot, scans, publishes, and scores the obstacle list."""

    Config = IndustrialBayConfig

    def __init__(self, config: IndustrialBayConfig, ctx: Any) -> None:
        self.config = config
        self.ctx = ctx
        self.rng = ctx.rng
        self.static_mesh = self._static_mesh()
        first = LidarScene(self.static_mesh, default_reflectivity=config.lidar.default_reflectivity)
        self.lidar = LidarSimulator(config.lidar, first, ctx.rng)
        self.mount = mount_matrix(config.lidar)
        self._next_scan = config.lidar.period_s
        self._next_odom = 0.0
        self._pending: list[tuple[float, list[GroundTruthObject], np.ndarray, np.ndarray]] = []
        self.tp = self.fp = self.fn = 0
        self.frames_scored = 0
        self.frames_received = 0
        self.malformed = 0
        self.speed_errors: list[float] = []
        self.position_errors: list[float] = []
        self._history: list[tuple[float, float, float]] = []
        ctx.graph.bus.advertise(config.points_topic, "sensor_msgs/msg/PointCloud2")
        ctx.graph.bus.advertise(config.odom_topic, "nav_msgs/msg/Odometry")
        ctx.graph.bus.advertise("/tf", "tf2_msgs/msg/TFMessage")
        ctx.subscribe(config.obstacles_topic, "sensor_msgs/msg/PointCloud2", self._on_obstacles)

    # --- world --------------------------------------------------------------------------------------
    def _static_mesh(self) -> Any:
        c = self.config
        lx, ly, h = c.bay_length_m, c.bay_width_m, c.wall_height_m
        mesh = _box(np.array([0.0, 0.0, -0.05]), (lx, ly, 0.1), 0.0)
        mesh += _box(np.array([lx / 2, 0.0, h / 2]), (0.3, ly, h), 0.0)
        mesh += _box(np.array([-lx / 2, 0.0, h / 2]), (0.3, ly, h), 0.0)
        mesh += _box(np.array([0.0, ly / 2, h / 2]), (lx, 0.3, h), 0.0)
        mesh += _box(np.array([0.0, -ly / 2, h / 2]), (lx, 0.3, h), 0.0)
        for o in self.objects(0.0):
            if o.kind == "pallet":
                mesh += _box(o.center_m, o.size_m, o.yaw_rad)
        return mesh

    def objects(self, t_s: float) -> list[GroundTruthObject]:
        """Every object at ``t_s`` (pallets, standing and walking people)."""
        c = self.config
        out = []
        ps = tuple(c.pallet_size_m)
        for i in range(0, len(c.pallets_xy_yaw), 3):
            x, y, yaw = c.pallets_xy_yaw[i : i + 3]
            out.append(GroundTruthObject("pallet", np.array([x, y, ps[2] / 2]), ps, yaw, np.zeros(3)))  # type: ignore[arg-type]
        for i in range(0, len(c.people_xy), 2):
            x, y = c.people_xy[i : i + 2]
            out.append(GroundTruthObject("person", np.array([x, y, PERSON_SIZE[2] / 2]), PERSON_SIZE, 0.0, np.zeros(3)))
        for i in range(0, len(c.walkers), 5):
            x0, y0, x1, y1, v = c.walkers[i : i + 5]
            a, b = np.array([x0, y0]), np.array([x1, y1])
            length = float(np.linalg.norm(b - a))
            period = 2 * length / v
            phase = (t_s % period) * v
            d = (b - a) / length
            if phase <= length:
                pos, vel = a + d * phase, d * v
            else:
                pos, vel = b - d * (phase - length), -d * v
            yaw = float(np.arctan2(vel[1], vel[0]))
            out.append(
                GroundTruthObject(
                    "walker",
                    np.array([pos[0], pos[1], PERSON_SIZE[2] / 2]),
                    PERSON_SIZE,
                    yaw,
                    np.array([vel[0], vel[1], 0.0]),
                )
            )
        return out

    def robot_pose(self, t_s: float) -> Pose:
        """Ground-truth base_link pose."""
        c = self.config
        return Pose([c.robot_start_xy[0] + c.robot_speed_m_s * t_s, c.robot_start_xy[1], 0.0])

    # --- stepping ---------------------------------------------------------------------------------------
    def step(self, t_s: float, dt_s: float) -> None:
        """Publish odometry and sweeps due at ``t_s``."""
        eps = 1e-9
        while self._next_odom <= t_s + eps:
            odom = Odometry(
                stamp_s=self._next_odom,
                frame_id="odom",
                child_frame_id="base_link",
                pose=self.robot_pose(self._next_odom),
                twist=Twist([self.config.robot_speed_m_s, 0.0, 0.0]),
            )
            self.ctx.publish(self.config.odom_topic, odometry_to_msg(odom, self.ctx.factory))
            self.ctx.publish("/tf", odometry_to_tf(odom, self.ctx.factory))
            self._next_odom += 1.0 / self.config.odom_rate_hz
        while self._next_scan <= t_s + eps:
            self._scan(self._next_scan)
            self._next_scan += self.config.lidar.period_s

    def _scan(self, t_s: float) -> None:
        objs = self.objects(t_s)
        mesh = self.static_mesh
        for o in objs:
            if o.kind != "pallet":
                mesh = mesh + _box(o.center_m, o.size_m, o.yaw_rad)
        self.lidar.scene = LidarScene(mesh, default_reflectivity=self.config.lidar.default_reflectivity)
        pose = self.robot_pose(t_s)
        start = self.robot_pose(t_s - self.config.lidar.period_s)
        cloud = self.lidar.scan(pose, t_s, start)
        world_from_lidar = pose_to_matrix(pose) @ self.mount
        world_pts = cloud.points.astype(np.float64) @ world_from_lidar[:3, :3].T + world_from_lidar[:3, 3]
        visible = np.array([self._count_inside(world_pts, o) >= self.config.min_visible_points for o in objs])
        self._pending.append((t_s, objs, visible, pose.position_m.copy()))
        self._pending = self._pending[-50:]
        self.ctx.publish(self.config.points_topic, cloud_to_pointcloud2(cloud, self.ctx.factory))

    @staticmethod
    def _count_inside(points: np.ndarray, o: GroundTruthObject) -> int:
        """Returns in the object's box grown by 10 cm."""
        box = Box(tuple(float(v) for v in o.center_m), o.size_m, o.yaw_rad)
        return int(np.count_nonzero(box.contains(points, margin_m=0.1)))

    # --- scoring --------------------------------------------------------------------------------------
    def _on_obstacles(self, msg: Any) -> None:
        try:
            obstacles = pointcloud2_to_obstacles(msg)
        except MessageError:
            self.malformed += 1
            return
        self.frames_received += 1
        match = [p for p in self._pending if abs(p[0] - obstacles.stamp_s) < 1e-6]
        if not match or obstacles.stamp_s < self.config.warmup_s or obstacles.frame_id != "odom":
            return
        _, objs, visible, robot_xy = match[0]
        in_range = np.array(
            [np.linalg.norm(o.center_m[:2] - robot_xy[:2]) <= self.config.max_score_range_m for o in objs]
        )
        det = np.array([o.center_m[:2] for o in obstacles.obstacles]).reshape(-1, 2)
        gt = np.array([o.center_m[:2] for o in objs]).reshape(-1, 2)
        matched_gt: set[int] = set()
        matched_det: set[int] = set()
        if len(det) and len(gt):
            cost = np.linalg.norm(det[:, None, :] - gt[None, :, :], axis=2)
            di, gi = linear_sum_assignment(np.where(cost <= self.config.match_distance_m, cost, 1e6))
            for a, b in zip(di, gi):
                if cost[a, b] <= self.config.match_distance_m:
                    matched_det.add(int(a))
                    matched_gt.add(int(b))
                    self.position_errors.append(float(cost[a, b]))
                    if objs[b].kind == "walker" and visible[b]:
                        v_est = obstacles.obstacles[a].velocity_m_s[:2]
                        self.speed_errors.append(float(np.linalg.norm(v_est - objs[b].velocity_m_s[:2])))
        # Published obstacles far from the robot are outside the scored area, like far objects.
        det_in = [i for i in range(len(det)) if np.linalg.norm(det[i] - robot_xy[:2]) <= self.config.max_score_range_m]
        self.fp += sum(1 for i in det_in if i not in matched_det)
        self.tp += sum(1 for j in range(len(objs)) if visible[j] and in_range[j] and j in matched_gt)
        self.fn += sum(1 for j in range(len(objs)) if visible[j] and in_range[j] and j not in matched_gt)
        self.frames_scored += 1
        self._history.append((obstacles.stamp_s, float(len(det_in)), float(visible.sum())))

    def metrics(self) -> dict[str, float]:
        """Precision, recall, speed error of walkers, counts."""
        nan = float("nan")
        tp, fp, fn = self.tp, self.fp, self.fn
        return {
            "frames_received": float(self.frames_received),
            "frames_scored": float(self.frames_scored),
            "malformed": float(self.malformed),
            "true_positives": float(tp),
            "false_positives": float(fp),
            "false_negatives": float(fn),
            "precision": tp / (tp + fp) if tp + fp else nan,
            "recall": tp / (tp + fn) if tp + fn else nan,
            "walker_speed_error_mean_m_s": float(np.mean(self.speed_errors)) if self.speed_errors else nan,
            "position_error_mean_m": float(np.mean(self.position_errors)) if self.position_errors else nan,
        }

    def plots(self, out_dir: Path) -> list[Path]:
        """Published vs visible objects per frame."""
        if not self._history:
            return []
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        h = np.array(self._history)
        fig, ax = plt.subplots(figsize=(7, 3))
        ax.plot(h[:, 0], h[:, 2], label="visible objects")
        ax.plot(h[:, 0], h[:, 1], label="published obstacles")
        ax.set_xlabel("t (s)")
        ax.legend()
        fig.tight_layout()
        path = Path(out_dir) / "bay_obstacles.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return [path]
