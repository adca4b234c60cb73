"""LiDAR preprocessing: drop non-finite points, bound the work, range filter, crop box, voxel downsampling.

Everything happens in the cloud's own frame (usually the sensor frame, e.g. ``lidar``): ranges are
distances from that frame's origin and the crop box is an axis-aligned box in that frame (typically
the robot's body seen from the sensor, removed with ``remove_inside``). Intensity, when present,
follows its points (averaged per voxel); non-finite intensities become 0.

Steps, in order (each counted in :class:`PreprocessStats`):

1. points with a non-finite coordinate are dropped (``is_dense == False`` clouds, driver NaNs);
2. a cloud larger than ``max_points`` is randomly subsampled to ``max_points`` (seeded, order kept),
   so a huge cloud costs bounded time and memory; the component reports it as a warning;
3. range filter ``min_m <= |p| <= max_m``;
4. crop box (``off``, ``remove_inside`` or ``keep_inside``);
5. voxel downsampling (:mod:`sanqin.perception.voxel`; ``size_m = 0`` disables it). A voxel centroid
   can fall back inside the crop box or the minimum range (the outside of a box or a ball is not
   convex), so the range and crop tests are applied once more to the centroids: every output point
   satisfies every filter.

:class:`LidarPreprocessor` is the component of the ``lidar_preprocessor`` node
(:mod:`sanqin.perception.nodes`): it runs the pipeline per cloud and keeps counters, diagnostics and
metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sanqin.common.diagnostics import DiagLevel, DiagnosticStatus
from sanqin.common.types import PointCloud
from sanqin.perception.errors import InvalidCloudError
from sanqin.perception.voxel import voxel_downsample, voxel_downsample_open3d
from sanqin.runtime.config import nested, param, require


@dataclass(frozen=True)
class RangeFilterConfig:
    """Keep points whose distance from the frame origin is within [min_m, max_m]."""

    min_m: float = param(0.5, "minimum range (m); nearer points are dropped", min=0.0)
    max_m: float = param(80.0, "maximum range (m); farther points are dropped", min=0.01)

    def __post_init__(self) -> None:
        require(self.max_m > self.min_m, f"range_filter.max_m ({self.max_m}) must exceed min_m ({self.min_m})")


@dataclass(frozen=True)
class CropBoxConfig:
    """An axis-aligned box in the cloud's frame whose inside is removed or kept."""

    mode: str = param("remove_inside", "what to do with points inside the box",
                      choices=("off", "remove_inside", "keep_inside"))
    min_m: tuple[float, ...] = param((-0.8, -0.5, -1.0), "box min corner x, y, z in the cloud frame (m)")
    max_m: tuple[float, ...] = param((0.6, 0.5, 0.1), "box max corner x, y, z in the cloud frame (m)")

    def __post_init__(self) -> None:
        require(len(self.min_m) == 3 and len(self.max_m) == 3, "crop_box.min_m and crop_box.max_m need 3 values")
        require(all(hi > lo for lo, hi in zip(self.min_m, self.max_m)),
                "crop_box.max_m must exceed crop_box.min_m on every axis")


@dataclass(frozen=True)
class VoxelConfig:
    """Voxel-grid downsampling."""

    size_m: float = param(0.1, "voxel edge length (m); 0 disables downsampling", min=0.0, max=10.0)
    method: str = param("numpy", "'numpy': frame-fixed grid; 'open3d': Open3D voxel_down_sample",
                        choices=("numpy", "open3d"))
    min_points: int = param(1, "voxels with fewer points are dropped (numpy method)", min=1, max=1000)


@dataclass(frozen=True)
class LidarPreprocessorConfig:
    """Config of the LiDAR preprocessing pipeline and the ``lidar_preprocessor`` node."""

    max_points: int = param(
        500_000, "clouds with more finite points are randomly subsampled to this many first", min=1000
    )
    seed: int = param(0, "seed of the subsampling random generator", min=0)
    range_filter: RangeFilterConfig = nested(RangeFilterConfig)
    crop_box: CropBoxConfig = nested(CropBoxConfig)
    voxel: VoxelConfig = nested(VoxelConfig)


@dataclass(frozen=True)
class PreprocessStats:
    """Point counts through the pipeline for one cloud.

    ``merged`` counts the points the voxel step removed: merged into a centroid, in a voxel below
    ``min_points``, or a centroid that failed the final range / crop re-check.
    """

    points_in: int = 0
    nonfinite: int = 0
    subsampled: int = 0
    out_of_range: int = 0
    cropped: int = 0
    merged: int = 0
    points_out: int = 0

    @property
    def dropped(self) -> int:
        """Points in minus points out."""
        return self.points_in - self.points_out


def _checked(cloud: PointCloud) -> tuple[np.ndarray, np.ndarray | None]:
    pts = np.asarray(cloud.points)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise InvalidCloudError(f"cloud points must have shape (N, 3), got {pts.shape}")
    if pts.dtype.kind != "f":
        raise InvalidCloudError(f"cloud points must be floating point, got {pts.dtype}")
    inten = None
    if cloud.intensity is not None:
        inten = np.asarray(cloud.intensity).reshape(-1)
        if inten.shape[0] != pts.shape[0]:
            raise InvalidCloudError(f"cloud has {pts.shape[0]} points but {inten.shape[0]} intensities")
    return pts, inten


def range_mask(points: np.ndarray, min_m: float, max_m: float) -> np.ndarray:
    """Points whose distance from the origin is within [min_m, max_m]."""
    r2 = np.einsum("ij,ij->i", points, points, dtype=np.float64)
    return (r2 >= min_m * min_m) & (r2 <= max_m * max_m)


def box_mask(points: np.ndarray, min_m: tuple[float, ...], max_m: tuple[float, ...]) -> np.ndarray:
    """Points inside the closed axis-aligned box [min_m, max_m]."""
    lo = np.asarray(min_m, dtype=np.float64)
    hi = np.asarray(max_m, dtype=np.float64)
    return np.all((points >= lo) & (points <= hi), axis=1)


def _crop_keep(points: np.ndarray, crop: CropBoxConfig) -> np.ndarray:
    if crop.mode == "off":
        return np.ones(points.shape[0], dtype=bool)
    inside = box_mask(points, crop.min_m, crop.max_m)
    return ~inside if crop.mode == "remove_inside" else inside


def _filter_mask(points: np.ndarray, config: LidarPreprocessorConfig) -> np.ndarray:
    """Points that pass both the range filter and the crop box."""
    rf = config.range_filter
    return range_mask(points, rf.min_m, rf.max_m) & _crop_keep(points, config.crop_box)


def preprocess_cloud(
    cloud: PointCloud, config: LidarPreprocessorConfig, rng: np.random.Generator
) -> tuple[PointCloud, PreprocessStats]:
    """Run the pipeline on one cloud; the output keeps the input's stamp and frame."""
    pts, inten = _checked(cloud)
    n_in = int(pts.shape[0])
    finite = np.isfinite(pts).all(axis=1)
    n_finite = int(np.count_nonzero(finite))
    if n_finite < n_in:
        pts = pts[finite]
        inten = inten[finite] if inten is not None else None
    subsampled = 0
    if pts.shape[0] > config.max_points:
        idx = np.sort(rng.choice(pts.shape[0], size=config.max_points, replace=False))
        subsampled = int(pts.shape[0] - config.max_points)
        pts = pts[idx]
        inten = inten[idx] if inten is not None else None
    pts = pts.astype(np.float32, copy=False)
    if inten is not None:
        inten = np.nan_to_num(inten.astype(np.float32, copy=False), nan=0.0, posinf=0.0, neginf=0.0)

    keep = range_mask(pts, config.range_filter.min_m, config.range_filter.max_m)
    out_of_range = int(pts.shape[0] - np.count_nonzero(keep))
    crop_keep = _crop_keep(pts, config.crop_box)
    cropped = int(np.count_nonzero(keep & ~crop_keep))
    keep &= crop_keep
    pts = pts[keep]
    inten = inten[keep] if inten is not None else None

    n_before_voxel = int(pts.shape[0])
    vox = config.voxel
    if vox.size_m > 0 and n_before_voxel:
        if vox.method == "open3d":
            pts, inten = voxel_downsample_open3d(pts, vox.size_m, inten)
        else:
            pts, inten = voxel_downsample(pts, vox.size_m, inten, vox.min_points)
        recheck = _filter_mask(pts, config)
        if not recheck.all():
            pts = pts[recheck]
            inten = inten[recheck] if inten is not None else None

    stats = PreprocessStats(
        points_in=n_in,
        nonfinite=n_in - n_finite,
        subsampled=subsampled,
        out_of_range=out_of_range,
        cropped=cropped,
        merged=n_before_voxel - int(pts.shape[0]),
        points_out=int(pts.shape[0]),
    )
    out = PointCloud(
        stamp_s=cloud.stamp_s,
        frame_id=cloud.frame_id,
        points=np.ascontiguousarray(pts, dtype=np.float32),
        intensity=None if inten is None else np.ascontiguousarray(inten, dtype=np.float32),
    )
    return out, stats


@dataclass
class _Totals:
    frames: int = 0
    points_in: int = 0
    points_out: int = 0
    nonfinite: int = 0
    subsampled: int = 0
    subsampled_frames: int = 0
    out_of_range: int = 0
    cropped: int = 0
    merged: int = 0
    empty_frames: int = 0
    frame_ids: set[str] = field(default_factory=set)


class LidarPreprocessor:
    """Component of the ``lidar_preprocessor`` node: one filtered cloud per input cloud."""

    def __init__(self, config: LidarPreprocessorConfig) -> None:
        self.config = config
        self.rng = np.random.default_rng(config.seed)
        self.totals = _Totals()
        self.last: PreprocessStats | None = None
        self._level = DiagLevel.OK
        self._message = ""

    def on_points(self, cloud: PointCloud, t_s: float) -> dict[str, PointCloud]:
        """Filter one cloud; returns ``{"points_filtered": cloud}`` (possibly empty, never skipped)."""
        out, stats = preprocess_cloud(cloud, self.config, self.rng)
        self.last = stats
        tot = self.totals
        tot.frames += 1
        tot.points_in += stats.points_in
        tot.points_out += stats.points_out
        tot.nonfinite += stats.nonfinite
        tot.subsampled += stats.subsampled
        tot.out_of_range += stats.out_of_range
        tot.cropped += stats.cropped
        tot.merged += stats.merged
        tot.frame_ids.add(cloud.frame_id)
        if stats.subsampled:
            tot.subsampled_frames += 1
            self._warn(
                f"cloud of {stats.points_in} points exceeds max_points={self.config.max_points}: "
                f"randomly subsampled, {stats.subsampled} finite points not processed"
            )
        if stats.points_out == 0:
            tot.empty_frames += 1
            why = "all points non-finite" if stats.points_in and stats.nonfinite == stats.points_in else (
                "empty input" if stats.points_in == 0 else "every point filtered out")
            self._warn(f"empty output cloud at t={t_s:.3f} s: {why}")
        return {"points_filtered": out}

    def _warn(self, text: str) -> None:
        self._level = max(self._level, DiagLevel.WARN)
        self._message = text

    def reconfigure(self, config: LidarPreprocessorConfig) -> None:
        """Use a new validated config from the next cloud on (the subsampling generator is reseeded)."""
        if config.seed != self.config.seed:
            self.rng = np.random.default_rng(config.seed)
        self.config = config

    def diagnostics(self) -> list[DiagnosticStatus]:
        """Filter health since the last call: WARN on subsampled or empty clouds; counts as values."""
        tot, last = self.totals, self.last
        values = {
            "frames": str(tot.frames),
            "points_in_total": str(tot.points_in),
            "points_out_total": str(tot.points_out),
            "nonfinite_total": str(tot.nonfinite),
            "subsampled_frames": str(tot.subsampled_frames),
            "empty_frames": str(tot.empty_frames),
            "last_points_in": str(last.points_in if last else 0),
            "last_points_out": str(last.points_out if last else 0),
            "frame_ids": ",".join(sorted(tot.frame_ids)),
        }
        level, message = self._level, (self._message if self._level > DiagLevel.OK else "ok")
        if tot.frames == 0:
            level, message = DiagLevel.OK, "waiting for clouds"
        self._level, self._message = DiagLevel.OK, ""
        return [DiagnosticStatus(level, "sanqin/lidar_preprocessor/filter", message, "", values)]

    def metrics(self) -> dict[str, float]:
        """Totals and means over the run: frames, points in/out/dropped and why."""
        tot = self.totals
        n = max(tot.frames, 1)
        return {
            "frames": tot.frames,
            "points_in": tot.points_in,
            "points_out": tot.points_out,
            "points_dropped": tot.points_in - tot.points_out,
            "nonfinite_points": tot.nonfinite,
            "subsampled_points": tot.subsampled,
            "subsampled_frames": tot.subsampled_frames,
            "out_of_range_points": tot.out_of_range,
            "cropped_points": tot.cropped,
            "merged_points": tot.merged,
            "empty_frames": tot.empty_frames,
            "mean_points_in": tot.points_in / n,
            "mean_points_out": tot.points_out / n,
        }
