"""Voxel-grid accelerated Euclidean clustering of (non-ground) points.

Points are hashed into cubic voxels whose edge is the clustering tolerance; two occupied voxels that touch
(26-neighbourhood) belong to the same cluster, found as connected components of the voxel adjacency graph
(scipy.sparse.csgraph). Every pair of points closer than the tolerance lies in the same or in touching
voxels, so clusters are never split that Euclidean clustering with the same tolerance would join; they
may join a little more eagerly (up to 2·√3 tolerance apart). Cost is a sort over the points plus
26 searches over the occupied voxels — no k-d tree, no Python loop over points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from sanqin.runtime.config import param, require

_OFFSETS = np.array(
    [(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1) if (i, j, k) > (0, 0, 0)],
    dtype=np.int64,
)  # 13 half-neighbourhood offsets: each undirected adjacency is found once
_BITS = 21
_BIAS = 1 << (_BITS - 1)


@dataclass(frozen=True)
class ClusterConfig:
    """Clustering tolerance and the sizes a cluster must have to be reported."""

    tolerance_m: float = param(0.35, "voxel edge = linking distance between points (m)", min=0.02, max=5.0)
    min_points: int = param(5, "smallest cluster kept (points)", min=1, max=100000)
    max_points: int = param(200000, "largest cluster kept (points)", min=1)
    min_voxels: int = param(1, "smallest cluster kept (occupied voxels)", min=1, max=100000)

    def __post_init__(self) -> None:
        require(self.max_points >= self.min_points, "max_points must be >= min_points")


def voxel_keys(points: np.ndarray, voxel_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Integer voxel coordinates (N, 3) and a packed int64 key per point (21 bits per axis)."""
    ijk = np.floor(np.asarray(points, dtype=np.float64) / voxel_m).astype(np.int64)
    np.clip(ijk, -_BIAS, _BIAS - 1, out=ijk)
    return ijk, pack(ijk)


def pack(ijk: np.ndarray) -> np.ndarray:
    """Pack (N, 3) integer voxel coordinates into one int64 each (range ±2^20 voxels per axis)."""
    u = ijk + _BIAS
    return (u[:, 0] << (2 * _BITS)) | (u[:, 1] << _BITS) | u[:, 2]


def cluster_points(points: np.ndarray, config: ClusterConfig) -> np.ndarray:
    """Cluster label per point (0..K-1, by decreasing size), -1 for points of rejected clusters."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    n = pts.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    ijk, keys = voxel_keys(pts, config.tolerance_m)
    uniq, first, inverse, counts = np.unique(keys, return_index=True, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    m = uniq.size
    vijk = ijk[first]
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for off in _OFFSETS:
        nk = pack(vijk + off)
        pos = np.searchsorted(uniq, nk)
        pos = np.minimum(pos, m - 1)
        hit = uniq[pos] == nk
        rows.append(np.nonzero(hit)[0])
        cols.append(pos[hit])
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    graph = coo_matrix((np.ones(r.size, np.int8), (r, c)), shape=(m, m))
    n_comp, vlabel = connected_components(graph, directed=False)
    comp_points = np.bincount(vlabel, weights=counts, minlength=n_comp).astype(np.int64)
    comp_voxels = np.bincount(vlabel, minlength=n_comp)
    keep = (comp_points >= config.min_points) & (comp_points <= config.max_points) & (comp_voxels >= config.min_voxels)
    order = np.argsort(-comp_points, kind="stable")
    order = order[keep[order]]
    remap = np.full(n_comp, -1, np.int64)
    remap[order] = np.arange(order.size)
    return remap[vlabel[inverse]]


def split_clusters(labels: np.ndarray) -> list[np.ndarray]:
    """Point indices of each cluster 0..K-1 (one sort, no per-cluster scan)."""
    valid = np.nonzero(labels >= 0)[0]
    if valid.size == 0:
        return []
    lab = labels[valid]
    order = np.argsort(lab, kind="stable")
    idx = valid[order]
    bounds = np.searchsorted(lab[order], np.arange(int(lab.max()) + 2))
    return [idx[bounds[k] : bounds[k + 1]] for k in range(int(lab.max()) + 1)]
