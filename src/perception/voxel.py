"""Voxel-grid downsampling: one point per occupied voxel, the centroid of the points in it.

The grid is fixed to the cloud's frame: voxel ``(i, j, k)`` covers
``[i·v, (i+1)·v) × [j·v, (j+1)·v) × [k·v, (k+1)·v)`` metres. A centroid lies inside its voxel, so the
output never has two points in one voxel, and the same surface gives the same voxels from frame to
frame (Open3D's ``voxel_down_sample`` instead anchors its grid at each cloud's minimum bound, which
moves with the cloud). :func:`voxel_downsample_open3d` is kept for comparison (``bench/perception.py``).
"""

from __future__ import annotations

import numpy as np

from sanqin.perception.errors import InvalidCloudError

#: Voxel indices within ±2**20 are packed into one int64 key (21 bits per axis); larger ones use rows.
_PACK_BITS = 21
_PACK_LIMIT = 1 << (_PACK_BITS - 1)


def voxel_indices(points: np.ndarray, voxel_size_m: float) -> np.ndarray:
    """(N, 3) int64 voxel indices ``floor(p / v)`` of (N, 3) points (computed in float64)."""
    if not voxel_size_m > 0:
        raise InvalidCloudError(f"voxel size must be positive, got {voxel_size_m!r}")
    return np.floor(np.asarray(points, dtype=np.float64) / voxel_size_m).astype(np.int64)


def _group(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(inverse index of each point's voxel, points per voxel), voxels in sorted key order."""
    if idx.shape[0] and int(np.abs(idx).max()) < _PACK_LIMIT:
        off = idx + _PACK_LIMIT
        keys = (off[:, 0] << (2 * _PACK_BITS)) | (off[:, 1] << _PACK_BITS) | off[:, 2]
        _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    else:
        _, inverse, counts = np.unique(idx, axis=0, return_inverse=True, return_counts=True)
    return inverse.reshape(-1), counts


def voxel_downsample(
    points: np.ndarray,
    voxel_size_m: float,
    intensity: np.ndarray | None = None,
    min_points: int = 1,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Centroid (and mean intensity) per occupied voxel; voxels with fewer than ``min_points`` are dropped.

    Returns float32 (M, 3) points and float32 (M,) intensity (None if none was given), in voxel-key
    order. Points must be finite (filter them first).
    """
    pts = np.asarray(points)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise InvalidCloudError(f"points must have shape (N, 3), got {pts.shape}")
    if intensity is not None and np.asarray(intensity).reshape(-1).shape[0] != pts.shape[0]:
        raise InvalidCloudError(f"{pts.shape[0]} points but {np.asarray(intensity).size} intensities")
    if pts.shape[0] == 0:
        return np.zeros((0, 3), np.float32), (None if intensity is None else np.zeros(0, np.float32))
    inverse, counts = _group(voxel_indices(pts, voxel_size_m))
    n_vox = counts.shape[0]
    sums = np.empty((n_vox, 3), dtype=np.float64)
    for axis in range(3):
        sums[:, axis] = np.bincount(inverse, weights=pts[:, axis], minlength=n_vox)
    keep = counts >= max(1, int(min_points))
    centroids = (sums[keep] / counts[keep, None]).astype(np.float32)
    out_int = None
    if intensity is not None:
        isum = np.bincount(inverse, weights=np.asarray(intensity).reshape(-1), minlength=n_vox)
        out_int = (isum[keep] / counts[keep]).astype(np.float32)
    return centroids, out_int


def voxel_downsample_open3d(
    points: np.ndarray, voxel_size_m: float, intensity: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Open3D's ``voxel_down_sample`` (grid anchored at the cloud's minimum bound); intensity rides in a colour."""
    import open3d as o3d

    pts = np.asarray(points)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise InvalidCloudError(f"points must have shape (N, 3), got {pts.shape}")
    if not voxel_size_m > 0:
        raise InvalidCloudError(f"voxel size must be positive, got {voxel_size_m!r}")
    if pts.shape[0] == 0:
        return np.zeros((0, 3), np.float32), (None if intensity is None else np.zeros(0, np.float32))
    pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(pts.astype(np.float64)))
    if intensity is not None:
        colors = np.zeros((pts.shape[0], 3))
        colors[:, 0] = np.asarray(intensity).reshape(-1)
        pcd.colors = o3d.utility.Vector3dVector(colors)
    down = pcd.voxel_down_sample(voxel_size_m)
    out = np.asarray(down.points, dtype=np.float32)
    out_int = np.asarray(down.colors)[:, 0].astype(np.float32) if intensity is not None else None
    return out, out_int


def occupancy_violations(points: np.ndarray, voxel_size_m: float) -> int:
    """How many points share a voxel with an earlier point (0 for a correctly downsampled cloud)."""
    pts = np.asarray(points)
    if pts.shape[0] == 0:
        return 0
    _, counts = _group(voxel_indices(pts, voxel_size_m))
    return int(pts.shape[0] - counts.shape[0])
