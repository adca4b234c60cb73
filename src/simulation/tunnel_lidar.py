"""Simulator plugin: a robot drives along a cable tunnel with a spinning LiDAR; scores the LiDAR preprocessor.

World: :func:`sanqin.simulation.worlds.tunnel.build_tunnel`. The ``odom`` frame is the tunnel frame
(origin on the floor at the entrance, ``x`` along the first straight, ``z`` up). The robot drives along
the tunnel (following its bends) at constant speed
at ``lateral_m`` from the centre line, base_link between its axles on the floor, pitched with the
floor under the axles; it stops
``end_margin_m`` before the far end wall.

Publishes (simulated time):

* ``/lidar/points`` (sensor_msgs/PointCloud2, frame ``lidar``) — one sweep per LiDAR period, stamped at
  the end of the sweep (:mod:`sanqin.simulation.lidar`), laid out as the Velodyne ROS 2 driver's
  PointXYZIRT: float32 x, y, z, intensity, uint16 ring, float32 time (s, relative to the stamp);
* ``/odom_gt`` (nav_msgs/Odometry, odom → base_link ground truth) and ``/tf`` (the same transform) at
  ``odom_rate_hz``; ``/tf_static`` (base_link → lidar) once at the start.

Scores the preprocessing node (by default ``lidar_preprocessor``, whose config it reads for the
limits) from ``/lidar/points_filtered``: frames received and lost (an output must carry the stamp of an
input), points per frame in and out, output points non-finite, outside the node's range limits or
inside its crop box (``remove_inside``), on the robot's own body (the LiDAR's self box, grown by
5 cm, whatever the node's crop box says), more than one point per voxel of the frame-fixed grid,
latency (bus time received − bus time the raw cloud was sent, simulated time), and how far the
filtered points lie from the true surface once put into ``odom`` with the ground-truth pose at their
stamp (catches frame or transform mistakes; motion skew within a sweep is included).

Plots: a top and a side view of the accumulated filtered points in ``odom`` with the ground truth, and
points per frame in and out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from sanqin.common.types import FrameTransform, Odometry, PointCloud, Pose, Twist
from sanqin.msgs.errors import MessageError
from sanqin.msgs.geometry import odometry_to_msg, odometry_to_tf, tf_to_msg
from sanqin.msgs.pointcloud import pointcloud2_to_cloud, structured_to_pointcloud2
from sanqin.perception.voxel import occupancy_violations
from sanqin.runtime.config import nested, param, require
from sanqin.runtime.errors import ScenarioError
from sanqin.simulation.lidar import LidarConfig, LidarScene, LidarSimulator, mount_matrix, pose_to_matrix
from sanqin.simulation.worlds.tunnel import TunnelConfig, TunnelWorld, build_tunnel

POINTCLOUD2 = "sensor_msgs/msg/PointCloud2"
#: Lower edges of the surface-distance histogram bins (m): 1 mm bins to 1 m, the last bin open-ended.
_DIST_EDGES = np.arange(0.0, 1.0005, 0.001)


@dataclass(frozen=True)
class TunnelLidarConfig:
    """A robot with a LiDAR driving through a tunnel, and how the preprocessing node is scored."""

    world: TunnelConfig = nested(TunnelConfig)
    lidar: LidarConfig = nested(LidarConfig)
    speed_m_s: float = param(1.0, "driving speed along the tunnel (m/s)", min=0.0, max=10.0)
    start_station_m: float = param(5.0, "station of base_link at t = 0 (m)", min=0.0)
    lateral_m: float = param(0.0, "lateral offset of the driving line from the centre line (+ left) (m)")
    end_margin_m: float = param(3.0, "the robot stops this far before the far end wall (m)", min=0.5)
    wheelbase_m: float = param(0.8, "axle distance: the body pitches with the floor under its axles (m)", min=0.05)
    odom_rate_hz: float = param(50.0, "rate of /odom_gt and /tf (Hz)", min=1.0, max=1000.0)
    points_topic: str = param("/lidar/points", "raw LiDAR cloud topic")
    filtered_topic: str = param("/lidar/points_filtered", "topic of the node under test")
    odom_topic: str = param("/odom_gt", "ground-truth odometry topic")
    odom_frame: str = param("odom", "world / odometry frame (the tunnel frame)")
    base_frame: str = param("base_link", "robot body frame")
    preprocessor_node: str = param("lidar_preprocessor", "node whose config gives the limits to check")
    surface_tolerance_m: float = param(0.3, "filtered points farther from the true surface are off-surface (m)",
                                       min=0.0)
    plot_max_points: int = param(400_000, "accumulated points kept for the plots", min=1000)

    def __post_init__(self) -> None:
        require(self.start_station_m < self.world.length_m - self.end_margin_m,
                "start_station_m must be inside the tunnel, before end_margin_m")
        require(abs(self.lateral_m) < self.world.width_m / 2, "lateral_m puts the robot outside the walls")
        require(self.points_topic.startswith("/") and self.filtered_topic.startswith("/")
                and self.odom_topic.startswith("/"), "topics must be absolute (start with '/')")


class TunnelLidarSim:
    """Drive, scan, publish ground truth, and score ``/lidar/points_filtered``."""

    Config = TunnelLidarConfig

    def __init__(self, config: TunnelLidarConfig, ctx: Any) -> None:
        self.config = config
        self.ctx = ctx
        self.world: TunnelWorld = build_tunnel(config.world)
        self.scene = LidarScene(self.world.mesh, self.world.triangle_reflectivity(), config.lidar.default_reflectivity)
        self.lidar = LidarSimulator(config.lidar, self.scene, ctx.rng)
        self.limits = self._node_config(config.preprocessor_node)
        self.mount = mount_matrix(config.lidar)
        self._period_s = config.lidar.period_s
        self._next_scan_s = self._period_s
        self._odom_period_s = 1.0 / config.odom_rate_hz
        self._next_odom_s = 0.0
        self._static_sent = False
        self._sent: dict[int, tuple[float, np.ndarray]] = {}  # stamp µs → (bus time sent, world ← lidar)
        self.points_in: list[tuple[float, int]] = []
        self.points_out: list[tuple[float, int]] = []
        self.latencies: list[float] = []
        # Distances to the surface in 1 mm bins up to 1 m (and one overflow bin): bounded memory on long runs.
        self.surface_hist = np.zeros(len(_DIST_EDGES), dtype=np.int64)
        self.scan_stats: list[Any] = []
        self.counts = dict.fromkeys(
            ("malformed", "unknown_stamp", "wrong_frame", "nonfinite", "out_of_range", "crop_violations",
             "voxel_violations", "off_surface", "body_points", "points_checked"),
            0,
        )
        self._acc: list[np.ndarray] = []
        self._acc_n = 0
        self._trajectory: list[np.ndarray] = []
        ctx.graph.bus.advertise(config.points_topic, POINTCLOUD2)
        ctx.graph.bus.advertise(config.odom_topic, "nav_msgs/msg/Odometry")
        ctx.graph.bus.advertise("/tf", "tf2_msgs/msg/TFMessage")
        ctx.graph.bus.advertise("/tf_static", "tf2_msgs/msg/TFMessage")
        ctx.subscribe(config.filtered_topic, POINTCLOUD2, self._on_filtered)

    def _node_config(self, name: str) -> Any:
        node = self.ctx.node(name)
        cfg = node.host.config
        for attr in ("range_filter", "crop_box", "voxel"):
            if not hasattr(cfg, attr):
                raise ScenarioError(f"node {name!r} has no {attr!r} config: is it a LiDAR preprocessor?")
        return cfg

    # --- motion --------------------------------------------------------------------------------
    def station_at(self, t_s: float) -> float:
        """Station of base_link at time ``t_s`` (m)."""
        cfg = self.config
        return min(cfg.start_station_m + cfg.speed_m_s * max(t_s, 0.0), cfg.world.length_m - cfg.end_margin_m)

    def pose_at(self, t_s: float) -> Pose:
        """Ground-truth base_link pose in odom at ``t_s``: between its axles, pitched with the floor under them."""
        s = self.station_at(t_s)
        half = self.config.wheelbase_m / 2
        z_rear, z_front = float(self.world.floor_z(s - half)), float(self.world.floor_z(s + half))
        pitch = -np.arctan2(z_front - z_rear, 2 * half)  # nose up on a climb (rotation about +y)
        q = Rotation.from_euler("ZY", [float(self.world.heading(s)), pitch]).as_quat()
        position = self.world.to_world(s, self.config.lateral_m, 0.0)
        position[2] = (z_rear + z_front) / 2
        return Pose(position, q)

    def _speed_at(self, t_s: float) -> float:
        cfg = self.config
        moving = cfg.start_station_m + cfg.speed_m_s * t_s < cfg.world.length_m - cfg.end_margin_m
        return cfg.speed_m_s if moving else 0.0

    # --- stepping -------------------------------------------------------------------------------
    def step(self, t_s: float, dt_s: float) -> None:
        """Publish ground truth and scans that are due at ``t_s``."""
        cfg = self.config
        eps = 1e-9
        if not self._static_sent:
            mount = FrameTransform(t_s, cfg.base_frame, cfg.lidar.frame_id, Pose(
                self.mount[:3, 3], Rotation.from_matrix(self.mount[:3, :3]).as_quat()))
            self.ctx.publish("/tf_static", tf_to_msg(mount, self.ctx.factory))
            self._static_sent = True
        while self._next_odom_s <= t_s + eps:
            self._publish_odom(self._next_odom_s)
            self._next_odom_s += self._odom_period_s
        while self._next_scan_s <= t_s + eps:
            self._publish_scan(self._next_scan_s)
            self._next_scan_s += self._period_s

    def _publish_odom(self, t_s: float) -> None:
        cfg = self.config
        pose = self.pose_at(t_s)
        speed = self._speed_at(t_s)
        yaw_rate = speed * self.world.curvature(self.station_at(t_s))
        odom = Odometry(stamp_s=t_s, frame_id=cfg.odom_frame, child_frame_id=cfg.base_frame, pose=pose,
                        twist=Twist(np.array([speed, 0.0, 0.0]), np.array([0.0, 0.0, yaw_rate])))
        self.ctx.publish(cfg.odom_topic, odometry_to_msg(odom, self.ctx.factory))
        self.ctx.publish("/tf", odometry_to_tf(odom, self.ctx.factory))
        self._trajectory.append(pose.position_m)

    def _publish_scan(self, t_s: float) -> None:
        pose_end = self.pose_at(t_s)
        pose_start = self.pose_at(t_s - self._period_s)
        scan = self.lidar.scan_fields(pose_end, t_s, pose_start)
        cloud = scan.cloud
        self.scan_stats.append(scan.stats)
        world_from_lidar = pose_to_matrix(pose_end) @ self.mount
        self._sent[_us(t_s)] = (self.ctx.now(), world_from_lidar)
        self.points_in.append((t_s, len(cloud)))
        msg = structured_to_pointcloud2(scan.to_structured(), t_s, cloud.frame_id, self.ctx.factory)
        self.ctx.publish(self.config.points_topic, msg)

    # --- scoring --------------------------------------------------------------------------------
    def _on_filtered(self, msg: Any) -> None:
        try:
            cloud = pointcloud2_to_cloud(msg)
        except MessageError:
            self.counts["malformed"] += 1
            return
        sent = self._sent.pop(_us(cloud.stamp_s), None)
        if sent is None:
            self.counts["unknown_stamp"] += 1
            return
        if cloud.frame_id != self.config.lidar.frame_id:
            self.counts["wrong_frame"] += 1
        self.latencies.append(self.ctx.now() - sent[0])
        self.points_out.append((cloud.stamp_s, len(cloud)))
        self._check(cloud, sent[1])

    def _check(self, cloud: PointCloud, world_from_lidar: np.ndarray) -> None:
        pts = np.asarray(cloud.points, dtype=np.float64)
        c = self.counts
        finite = np.isfinite(pts).all(axis=1)
        c["nonfinite"] += int(np.count_nonzero(~finite))
        pts = pts[finite]
        if not len(pts):
            return
        c["points_checked"] += len(pts)
        rf, crop, vox = self.limits.range_filter, self.limits.crop_box, self.limits.voxel
        r = np.linalg.norm(pts, axis=1)
        tol = 1e-4  # float32 rounding of the published coordinates
        c["out_of_range"] += int(np.count_nonzero((r < rf.min_m - tol) | (r > rf.max_m + tol)))
        if crop.mode != "off":
            lo, hi = np.asarray(crop.min_m), np.asarray(crop.max_m)
            inside = np.all((pts > lo + tol) & (pts < hi - tol), axis=1)
            outside = np.any((pts < lo - tol) | (pts > hi + tol), axis=1)
            bad = inside if crop.mode == "remove_inside" else outside
            c["crop_violations"] += int(np.count_nonzero(bad))
        if vox.size_m > 0:
            c["voxel_violations"] += occupancy_violations(cloud.points[finite], vox.size_m)
        if self.config.lidar.self_box_min_m:
            base = pts @ self.mount[:3, :3].T + self.mount[:3, 3]
            margin = 0.05
            lo = np.asarray(self.config.lidar.self_box_min_m) - margin
            hi = np.asarray(self.config.lidar.self_box_max_m) + margin
            c["body_points"] += int(np.count_nonzero(np.all((base >= lo) & (base <= hi), axis=1)))
        world = pts @ world_from_lidar[:3, :3].T + world_from_lidar[:3, 3]
        dist = self.scene.distance(world)
        self.surface_hist += np.bincount(np.searchsorted(_DIST_EDGES, dist, side="right") - 1,
                                         minlength=len(_DIST_EDGES))
        c["off_surface"] += int(np.count_nonzero(dist > self.config.surface_tolerance_m))
        self._accumulate(world)

    def _accumulate(self, world: np.ndarray) -> None:
        frames = max(1, int(round(self.ctx.scenario.duration_s / self._period_s)))
        per_frame = max(1, self.config.plot_max_points // frames)
        if len(world) > per_frame:
            world = world[np.linspace(0, len(world) - 1, per_frame).astype(int)]
        if self._acc_n + len(world) <= self.config.plot_max_points:
            self._acc.append(world.astype(np.float32))
            self._acc_n += len(world)

    # --- results --------------------------------------------------------------------------------
    def metrics(self) -> dict[str, float]:
        """Scores of the run (see the module docstring)."""
        c = self.counts
        n_in = np.array([n for _, n in self.points_in], dtype=float)
        n_out = np.array([n for _, n in self.points_out], dtype=float)
        rays = sum(s.rays for s in self.scan_stats)
        returns = sum(s.returns for s in self.scan_stats)
        nan = float("nan")
        received = len(self.points_out)
        return {
            "frames_published": float(len(self.points_in)),
            "frames_received": float(received),
            "frames_lost": float(len(self.points_in) - received),
            "malformed_frames": float(c["malformed"]),
            "unknown_stamp_frames": float(c["unknown_stamp"]),
            "wrong_frame_frames": float(c["wrong_frame"]),
            "mean_points_in": float(n_in.mean()) if n_in.size else nan,
            "mean_points_out": float(n_out.mean()) if n_out.size else nan,
            "min_points_out": float(n_out.min()) if n_out.size else nan,
            "reduction_ratio": float(n_out.sum() / n_in.sum()) if n_in.size and n_in.sum() else nan,
            "nonfinite_points": float(c["nonfinite"]),
            "out_of_range_points": float(c["out_of_range"]),
            "crop_violations": float(c["crop_violations"]),
            "voxel_violations": float(c["voxel_violations"]),
            "body_points": float(c["body_points"]),
            "latency_mean_s": float(np.mean(self.latencies)) if self.latencies else nan,
            "latency_max_s": float(np.max(self.latencies)) if self.latencies else nan,
            "surface_dist_median_m": _hist_quantile(self.surface_hist, 0.5),
            "surface_dist_p95_m": _hist_quantile(self.surface_hist, 0.95),
            "off_surface_fraction": float(c["off_surface"] / c["points_checked"]) if c["points_checked"] else nan,
            "lidar_return_fraction": float(returns / rays) if rays else nan,
            "lidar_self_hits_per_scan": float(np.mean([s.self_hits for s in self.scan_stats])) if rays else nan,
            "distance_travelled_m": float(self.station_at(self.ctx.now()) - self.config.start_station_m),
            "world_triangles": float(self.world.triangles),
        }

    def plots(self, out_dir: Path) -> list[Path]:
        """Top and side view of the accumulated filtered cloud in odom; points per frame in and out."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import Polygon, Rectangle

        out_dir = Path(out_dir)
        paths: list[Path] = []
        acc = np.concatenate(self._acc) if self._acc else np.zeros((0, 3), np.float32)
        traj = np.array(self._trajectory) if self._trajectory else np.zeros((0, 3))
        ann = self.world.annotations
        fig = Figure(figsize=(13, 7.5), layout="constrained")
        FigureCanvasAgg(fig)
        top, side = fig.subplots(2, 1, sharex=True)
        if len(acc):
            sc = top.scatter(acc[:, 0], acc[:, 1], c=acc[:, 2], s=0.3, cmap="viridis", rasterized=True)
            fig.colorbar(sc, ax=top, label="z in odom (m)")
            sc2 = side.scatter(acc[:, 0], acc[:, 2], c=acc[:, 1], s=0.3, cmap="coolwarm", rasterized=True)
            fig.colorbar(sc2, ax=side, label="y in odom (m)")
        if len(traj):
            top.plot(traj[:, 0], traj[:, 1], "r-", lw=1.5, label="robot (ground truth)")
            side.plot(traj[:, 0], traj[:, 2], "r-", lw=1.5)
        if ann.cart is not None:
            corners = ann.cart.box.corners()
            top.add_patch(Polygon(corners[[0, 1, 3, 2], :2], fill=False, ec="k", lw=1.2, label="cart (truth)"))
            lo, hi = ann.cart.box.min_m, ann.cart.box.max_m
            side.add_patch(Rectangle((lo[0], lo[2]), hi[0] - lo[0], hi[2] - lo[2], fill=False, ec="k", lw=1.2))
        if ann.joints:
            j = np.array([jt.box.center_m for jt in ann.joints])
            top.plot(j[:, 0], j[:, 1], "m^", ms=7, label="cable joints (truth)")
            side.plot(j[:, 0], j[:, 2], "m^", ms=7)
        if len(acc):
            x0, x1 = float(acc[:, 0].min()), float(acc[:, 0].max())
            top.set_xlim(x0 - 1, x1 + 1)
        if len(acc):
            y0, y1 = float(acc[:, 1].min()), float(acc[:, 1].max())
            top.set_ylim(y0 - 0.3, y1 + 0.3)
        top.set_ylabel("y (m)")
        top.set_title(f"Filtered LiDAR points accumulated in {self.config.odom_frame} (top view)")
        top.legend(loc="lower left", ncols=3, fontsize=8, framealpha=0.9)
        side.set_xlabel("x (m)")
        side.set_ylabel("z (m)")
        side.set_title("Side view")
        p = out_dir / "tunnel_top_view.png"
        fig.savefig(p, dpi=110)
        paths.append(p)

        fig2 = Figure(figsize=(9, 4), layout="constrained")
        FigureCanvasAgg(fig2)
        ax = fig2.subplots()
        if self.points_in:
            t_in, n_in = zip(*self.points_in)
            ax.plot(t_in, n_in, ".-", label=f"in ({self.config.points_topic})")
        if self.points_out:
            t_out, n_out = zip(*self.points_out)
            ax.plot(t_out, n_out, ".-", label=f"out ({self.config.filtered_topic})")
        ax.set_xlabel("simulated time (s)")
        ax.set_ylabel("points per frame")
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.legend()
        ax.set_title("LiDAR preprocessing: points per frame")
        p2 = out_dir / "points_per_frame.png"
        fig2.savefig(p2, dpi=110)
        paths.append(p2)
        return paths


def _hist_quantile(hist: np.ndarray, q: float) -> float:
    """Upper edge of the bin holding quantile ``q`` (1 mm resolution; inf if it lies in the overflow bin)."""
    total = int(hist.sum())
    if total == 0:
        return float("nan")
    k = int(np.searchsorted(np.cumsum(hist), q * total))
    return float(_DIST_EDGES[k + 1]) if k + 1 < len(_DIST_EDGES) else float("inf")


def _us(t_s: float) -> int:
    return int(round(t_s * 1e6))  # microseconds: robust to the float round trip through builtin Time
