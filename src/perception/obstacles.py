"""The LiDAR obstacle pipeline: sanitise → crop → voxel downsample → ground → clusters → boxes → tracks.

A component-free core: :class:`ObstaclePipeline` takes an (N, 3) cloud in the sensor frame (z up) and,
optionally, the sensor's pose in the tracking frame (``odom``), and returns the detected boxes of this
frame and the confirmed tracks with velocities. Work is bounded: clouds above ``max_input_points`` are
thinned with a fixed stride before anything else, so a 2-million-point cloud costs what the cap costs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from sanqin.common.obstacles import Obstacle
from sanqin.perception.boxes import box_from_points
from sanqin.perception.clustering import ClusterConfig, cluster_points, split_clusters
from sanqin.perception.errors import InvalidCloudError
from sanqin.perception.ground import GroundConfig, GroundResult, GroundSegmenter
from sanqin.perception.tracking import MultiObjectTracker, TrackerConfig
from sanqin.perception.voxel import voxel_downsample
from sanqin.runtime.config import nested, param, require


@dataclass(frozen=True)
class BoxFilterConfig:
    """Which clusters are obstacles: size limits of their boxes.

    Structure — long clusters, thin wall or fence segments, overhead clusters — is left to the static map;
    the obstacle list carries what stands on the floor and may move (people, pallets, carts, vehicles).
    """

    min_height_m: float = param(0.15, "clusters lower than this are ignored (m)", min=0.0, max=10.0)
    max_length_m: float = param(8.0, "longer clusters (walls, trays) are structure, not obstacles (m)", min=0.1)
    wall_min_length_m: float = param(3.0, "clusters at least this long and ...", min=0.1)
    wall_max_width_m: float = param(0.4, "... at most this wide are wall or fence segments: structure (m)", min=0.0)
    max_height_m: float = param(4.0, "taller clusters are structure (m)", min=0.1)
    max_bottom_m: float = param(1.0, "clusters whose bottom is higher above the floor are overhead (m)", min=0.0)
    min_size_m: float = param(0.05, "smallest reported box side (m)", min=0.001, max=1.0)


@dataclass(frozen=True)
class ObstaclePipelineConfig:
    """Obstacle pipeline: input bounds, downsampling, ground model, clustering, box filter, tracker."""

    max_input_points: int = param(300000, "clouds above this are thinned with a fixed stride first", min=1000)
    min_range_m: float = param(0.5, "drop returns nearer than this (robot body) (m)", min=0.0, max=50.0)
    max_range_m: float = param(40.0, "drop returns farther than this (m)", min=0.5, max=300.0)
    max_z_m: float = param(3.0, "drop returns higher than this above the sensor (ceiling) (m)", min=-5.0, max=100.0)
    voxel_m: float = param(0.1, "voxel downsampling edge (m); 0 disables", min=0.0, max=2.0)
    ground: GroundConfig = nested(GroundConfig)
    cluster: ClusterConfig = nested(ClusterConfig)
    boxes: BoxFilterConfig = nested(BoxFilterConfig)
    tracker: TrackerConfig = nested(TrackerConfig)

    def __post_init__(self) -> None:
        require(self.max_range_m > self.min_range_m, "max_range_m must exceed min_range_m")


@dataclass(frozen=True)
class ObstacleFrame:
    """Result of one cloud: detections (sensor or tracking frame), confirmed tracks, counts and timing."""

    detections: tuple[Obstacle, ...]
    tracks: tuple[Obstacle, ...]
    n_input: int
    n_used: int
    n_ground: int
    n_clusters: int
    timings_s: dict[str, float] = field(default_factory=dict)


def transform_obstacle(ob: Obstacle, rot: np.ndarray, trans: np.ndarray, yaw_rad: float) -> Obstacle:
    """A box moved by a rigid transform whose rotation is (about) a yaw ``yaw_rad``."""
    return Obstacle(
        center_m=rot @ ob.center_m + trans,
        size_m=ob.size_m,
        yaw_rad=float(np.mod(ob.yaw_rad + yaw_rad + np.pi / 2, np.pi) - np.pi / 2),
        velocity_m_s=rot @ ob.velocity_m_s,
        track_id=ob.track_id,
        confidence=ob.confidence,
    )


class FloorGrid:
    """Mean ground height per 2-D cell (one bincount), for the floor under each cluster."""

    CELL_M = 0.5

    def __init__(self, ground_points: np.ndarray) -> None:
        g = np.asarray(ground_points, dtype=np.float64).reshape(-1, 3)
        ij = np.floor(g[:, :2] / self.CELL_M).astype(np.int64)
        keys = ij[:, 0] * 1_000_003 + ij[:, 1]
        self.keys, inv, counts = np.unique(keys, return_inverse=True, return_counts=True)
        inv = inv.reshape(-1)
        self.height = np.bincount(inv, weights=g[:, 2], minlength=self.keys.size) / np.maximum(counts, 1)
        self.counts = counts

    def height_near(self, xy: np.ndarray, radius_m: float) -> float:
        """Lowest-quartile mean height of the ground cells within ``radius_m`` of ``xy`` (NaN if none)."""
        if self.keys.size == 0:
            return float("nan")
        r = int(np.ceil(radius_m / self.CELL_M))
        ci, cj = np.floor(np.asarray(xy, float) / self.CELL_M).astype(np.int64)
        di, dj = np.meshgrid(np.arange(-r, r + 1), np.arange(-r, r + 1), indexing="ij")
        want = (ci + di.ravel()) * 1_000_003 + (cj + dj.ravel())
        pos = np.clip(np.searchsorted(self.keys, want), 0, self.keys.size - 1)
        hit = self.keys[pos] == want
        if hit.sum() < 2:
            return float("nan")
        return float(np.percentile(self.height[pos[hit]], 25))


class ObstaclePipeline:
    """Detects and tracks obstacles in successive clouds."""

    def __init__(self, config: ObstaclePipelineConfig) -> None:
        self.config = config
        self.ground = GroundSegmenter(config.ground)
        self.tracker = MultiObjectTracker(config.tracker)

    def sanitize(self, points: np.ndarray) -> np.ndarray:
        """Finite (M, 3) float32 points within the range and height limits, thinned to the input cap."""
        cfg = self.config
        pts = np.asarray(points)
        if pts.ndim != 2 or pts.shape[1] < 3:
            raise InvalidCloudError(f"expected an (N, 3) cloud, got shape {pts.shape}")
        if pts.shape[0] > cfg.max_input_points:
            stride = int(np.ceil(pts.shape[0] / cfg.max_input_points))
            pts = pts[::stride]
        pts = np.asarray(pts[:, :3], dtype=np.float32)
        r2 = np.einsum("ij,ij->i", pts[:, :2], pts[:, :2])
        keep = np.isfinite(pts).all(axis=1)
        keep &= (r2 >= cfg.min_range_m**2) & (r2 <= cfg.max_range_m**2) & (pts[:, 2] <= cfg.max_z_m)
        return pts[keep]

    def detect(self, points: np.ndarray) -> tuple[list[Obstacle], dict[str, float], tuple[int, int, int, int]]:
        """Boxes in the sensor frame, per-stage timings, and (n_input, n_used, n_ground, n_clusters)."""
        cfg = self.config
        t0 = time.perf_counter()
        n_in = int(np.asarray(points).shape[0]) if np.asarray(points).ndim >= 1 else 0
        pts = self.sanitize(points)
        if cfg.voxel_m > 0 and pts.shape[0]:
            pts, _ = voxel_downsample(pts, cfg.voxel_m)
        t1 = time.perf_counter()
        if pts.shape[0] == 0:
            return [], {"preprocess": t1 - t0}, (n_in, 0, 0, 0)
        gr = self.ground.segment(pts)
        t2 = time.perf_counter()
        obst = pts[~gr.ground]
        labels = cluster_points(obst, cfg.cluster)
        t3 = time.perf_counter()
        boxes: list[Obstacle] = []
        bf = cfg.boxes
        clusters = split_clusters(labels)
        floor_grid = FloorGrid(pts[gr.ground]) if clusters else None
        for idx in clusters:
            cpts = obst[idx]
            zmin, zmax = float(cpts[:, 2].min()), float(cpts[:, 2].max())
            centre_xy = 0.5 * (cpts[:, :2].min(0) + cpts[:, :2].max(0))
            floor_z = self._floor_near(floor_grid, centre_xy, cpts, gr)
            if zmin - floor_z > bf.max_bottom_m:
                continue  # overhead structure (trays, pipes), not something the robot drives into
            # A standing object reaches the floor: its lowest returns were within the ground band.
            zmin = min(zmin, floor_z)
            if zmax - zmin < bf.min_height_m or zmax - zmin > bf.max_height_m:
                continue
            box = box_from_points(cpts, bf.min_size_m)
            if box.size_m[0] > bf.max_length_m:
                continue
            if box.size_m[0] >= bf.wall_min_length_m and box.size_m[1] <= bf.wall_max_width_m:
                continue  # a (partly occluded) wall: part of the static map, not a tracked obstacle
            box = Obstacle(
                center_m=np.array([box.center_m[0], box.center_m[1], 0.5 * (zmin + zmax)]),
                size_m=np.array([box.size_m[0], box.size_m[1], zmax - zmin]),
                yaw_rad=box.yaw_rad,
            )
            boxes.append(box)
        t4 = time.perf_counter()
        timings = {"preprocess": t1 - t0, "ground": t2 - t1, "cluster": t3 - t2, "boxes": t4 - t3}
        return boxes, timings, (n_in, int(pts.shape[0]), gr.n_ground, len(clusters))

    def _floor_near(self, grid: FloorGrid | None, centre_xy: np.ndarray, cpts: np.ndarray, gr: GroundResult) -> float:
        """Floor height under a cluster: the ground cells around it, else the zone model's plane."""
        if grid is not None:
            radius = 0.5 * float(np.ptp(cpts[:, 0]) + np.ptp(cpts[:, 1])) + 1.0
            z = grid.height_near(centre_xy, radius)
            if np.isfinite(z):
                return z
        z = float(gr.floor_height(centre_xy[None, :])[0])
        return z if np.isfinite(z) else -self.config.ground.sensor_height_m

    def process(self, points: np.ndarray, t_s: float, sensor_pose: np.ndarray | None = None) -> ObstacleFrame:
        """Detect in ``points`` (sensor frame) and track; ``sensor_pose`` (4×4, tracking ← sensor) or None.

        Without a pose, tracking happens in the sensor frame (a static sensor, or relative tracking).
        """
        boxes, timings, (n_in, n_used, n_ground, n_clusters) = self.detect(points)
        if sensor_pose is not None:
            rot = np.asarray(sensor_pose, float)[:3, :3]
            trans = np.asarray(sensor_pose, float)[:3, 3]
            yaw = float(np.arctan2(rot[1, 0], rot[0, 0]))
            boxes = [transform_obstacle(b, rot, trans, yaw) for b in boxes]
        t0 = time.perf_counter()
        tracks = self.tracker.update(boxes, t_s)
        timings["track"] = time.perf_counter() - t0
        return ObstacleFrame(tuple(boxes), tuple(tracks), n_in, n_used, n_ground, n_clusters, timings)
