"""Scan-to-map registration: voxel local map, point-to-plane ICP, adaptive threshold, degeneracy.

The design follows KISS-ICP (Vizzo et al., RA-L 2023) — a voxel hash map holding a few points per voxel,
a correspondence threshold adapted from how far the motion prior was off in past frames, a robust
Geman–McClure kernel — with two changes that matter in tunnels and plants:

* **point-to-plane residuals**: every map point carries the normal (PCA) of its map neighbourhood; a
  correspondence to a planar neighbourhood constrains only its normal (flat walls); edges and clutter
  are left out (optionally point-to-point), since they invent constraints along a featureless corridor;
* **degeneracy detection and solution remapping** (Zhang, Kaess & Singh, ICRA 2016): the Gauss–Newton
  Hessian, normalised by the total weight and with rotations scaled by ``rotation_scale_m``, is
  eigen-decomposed; directions
  whose eigenvalue is below ``degeneracy_threshold`` are unobservable (the axis of a featureless tunnel)
  and the update is projected onto the observable subspace, so the pose along them stays at the prior
  (wheel odometry + IMU in :mod:`sanqin.perception.fusion`).

Poses are 4×4 ``map ← sensor`` transforms; updates are perturbations ``[ω, δt]`` in map axes about the
sensor origin (rotation does not move the sensor), so the information matrix is local to the robot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

from sanqin.perception.clustering import voxel_keys
from sanqin.runtime.config import param, require

#: A neighbourhood whose middle spread is below this fraction of its largest is a line (one scan ring).
LINE_RATIO = 0.05


@dataclass(frozen=True)
class RegistrationConfig:
    """Local map, ICP and threshold parameters (lengths in m)."""

    voxel_m: float = param(0.5, "map voxel edge (m)", min=0.05, max=10.0)
    max_points_per_voxel: int = param(8, "points kept per map voxel", min=1, max=100)
    map_radius_m: float = param(40.0, "map points farther than this from the sensor are dropped (m)", min=1.0)
    source_voxel_m: float = param(0.6, "scan downsampling for registration (m)", min=0.02, max=10.0)
    map_insert_voxel_m: float = param(0.25, "scan downsampling before map insertion (m)", min=0.01, max=10.0)
    max_iterations: int = param(20, "Gauss-Newton iterations per scan", min=1, max=500)
    convergence_m: float = param(1e-4, "stop when the update is smaller than this (m, rad·range)", min=0.0)
    initial_threshold_m: float = param(2.0, "correspondence threshold before motion statistics exist (m)", min=0.01)
    min_motion_m: float = param(0.05, "frames with smaller prior error do not update the threshold (m)", min=0.0)
    threshold_history: int = param(200, "frames in the adaptive-threshold statistics", min=1, max=100000)
    max_range_m: float = param(60.0, "sensor range used to turn rotation errors into metres (m)", min=1.0)
    max_curvature: float = param(
        0.1, "map points whose neighbourhood curvature λ3/(λ1+λ2+λ3) exceeds this are not planar", min=0.0, max=0.34
    )
    point_to_point_fallback: bool = param(False, "non-planar neighbourhoods add point-to-point residuals")
    rotation_scale_m: float = param(
        2.0, "lever arm (m) that makes rotations comparable to translations in the degeneracy test", min=0.01
    )
    degeneracy_threshold: float = param(
        0.06, "normalised Hessian eigenvalue below which a direction is degenerate", min=0.0, max=1.0
    )
    min_correspondences: int = param(30, "fewer correspondences: the scan is not registered", min=6)

    def __post_init__(self) -> None:
        require(self.map_insert_voxel_m <= self.voxel_m, "map_insert_voxel_m must be <= voxel_m")


def apply_update(pose: np.ndarray, xi: np.ndarray) -> np.ndarray:
    """Pose after a perturbation ``[ω, δt]`` about the sensor origin, in map axes."""
    out = np.array(pose, dtype=np.float64)
    out[:3, :3] = Rotation.from_rotvec(xi[:3]).as_matrix() @ pose[:3, :3]
    out[:3, 3] = pose[:3, 3] + xi[3:]
    return out


def transform(points: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """Points (N, 3) moved by a 4×4 transform."""
    return points @ pose[:3, :3].T + pose[:3, 3]


def downsample_first(points: np.ndarray, voxel_m: float) -> np.ndarray:
    """One point per voxel (the first one), as KISS-ICP does: keeps real measurements, not centroids."""
    if points.shape[0] == 0:
        return points
    _, keys = voxel_keys(points, voxel_m)
    _, first = np.unique(keys, return_index=True)
    return points[np.sort(first)]


class VoxelMap:
    """Local map: at most ``max_points_per_voxel`` points per voxel, each with a normal from its neighbours.

    Normals are fitted once, when a point enters the map (k nearest map points within two voxels), so the
    per-scan cost is a k-d tree build plus a neighbour query for the new points only.
    """

    def __init__(self, voxel_m: float, max_points_per_voxel: int) -> None:
        self.voxel_m = voxel_m
        self.max_points = max_points_per_voxel
        self.points = np.zeros((0, 3))
        self.keys = np.zeros(0, np.int64)
        self.normals = np.zeros((0, 3))
        self.planar = np.zeros(0, bool)
        self._tree: cKDTree | None = None

    def __len__(self) -> int:
        return int(self.points.shape[0])

    def clear(self) -> None:
        """Drop every map point."""
        self.__init__(self.voxel_m, self.max_points)  # type: ignore[misc]

    def update(self, points_map: np.ndarray, origin: np.ndarray, radius_m: float, max_curvature: float) -> None:
        """Insert points (map frame), drop those farther than ``radius_m`` from ``origin``, fit new normals."""
        _, new_keys = voxel_keys(points_map, self.voxel_m)
        pts = np.vstack([self.points, points_map])
        keys = np.concatenate([self.keys, new_keys])
        normals = np.vstack([self.normals, np.zeros((points_map.shape[0], 3))])
        planar = np.concatenate([self.planar, np.zeros(points_map.shape[0], bool)])
        fresh = np.concatenate([np.zeros(len(self), bool), np.ones(points_map.shape[0], bool)])
        far = np.einsum("ij,ij->i", pts - origin, pts - origin) > radius_m**2
        keep = ~far
        order = np.argsort(keys[keep], kind="stable")  # existing points first within each voxel
        sel = np.nonzero(keep)[0][order]
        k_sorted = keys[sel]
        if k_sorted.size:
            starts = np.concatenate([[0], np.nonzero(k_sorted[1:] != k_sorted[:-1])[0] + 1])
            group = np.repeat(np.arange(starts.size), np.diff(np.concatenate([starts, [k_sorted.size]])))
            rank = np.arange(k_sorted.size) - starts[group]
            sel = sel[rank < self.max_points]
        self.points, self.keys = pts[sel], keys[sel]
        self.normals, self.planar = normals[sel], planar[sel]
        self._tree = cKDTree(self.points) if len(self) else None
        todo = np.nonzero(fresh[sel])[0]
        if todo.size and self._tree is not None:
            self._fit_normals(todo, max_curvature)

    def _fit_normals(self, idx: np.ndarray, max_curvature: float, k: int = 10) -> None:
        """Normals and planarity flags of the given map points from their k nearest map neighbours."""
        k = min(k, len(self))
        if k < 3 or self._tree is None:
            return
        dist, nb = self._tree.query(self.points[idx], k=k, workers=1)
        nbp = self.points[nb]  # (m, k, 3)
        ok_nb = dist <= 2.0 * self.voxel_m
        cnt = ok_nb.sum(1)
        wts = ok_nb[:, :, None].astype(np.float64)
        mean = (nbp * wts).sum(1) / np.maximum(cnt, 1)[:, None]
        d = (nbp - mean[:, None, :]) * wts
        cov = np.einsum("mki,mkj->mij", d, d) / np.maximum(cnt, 1)[:, None, None]
        w, vec = np.linalg.eigh(cov)
        # λ1 ≥ λ2 ≥ λ3 (w is ascending): a plane has a small curvature λ3/Σλ and is no line (λ2 ≪ λ1),
        # whose normal would be arbitrary.
        curvature = w[:, 0] / np.maximum(w.sum(1), 1e-12)
        not_line = w[:, 1] >= LINE_RATIO * w[:, 2]
        self.normals[idx] = vec[:, :, 0]
        self.planar[idx] = (cnt >= 5) & (curvature <= max_curvature) & not_line

    def nearest(self, points: np.ndarray, max_dist_m: float) -> tuple[np.ndarray, np.ndarray]:
        """Index of the nearest map point for each query (-1 beyond ``max_dist_m``) and the distances."""
        if self._tree is None:
            return np.full(points.shape[0], -1), np.full(points.shape[0], np.inf)
        dist, idx = self._tree.query(points, k=1, distance_upper_bound=max_dist_m, workers=1)
        idx = np.where(np.isfinite(dist), idx, -1)
        return idx, dist


@dataclass(frozen=True)
class RegistrationResult:
    """Outcome of one scan-to-map registration."""

    pose: np.ndarray  # 4×4 map ← sensor
    information: np.ndarray  # 6×6 in [ω, δt] (map axes, about the sensor), 1/σ² scaled, degenerate part removed
    degenerate_dirs: np.ndarray  # (k, 6) unit directions in [ω·L, δt] space that were not updated
    eigenvalues: np.ndarray  # (6,) normalised Hessian eigenvalues, ascending
    n_correspondences: int
    iterations: int
    rms_m: float
    converged: bool

    @property
    def degenerate(self) -> bool:
        """Whether any direction was unobservable."""
        return self.degenerate_dirs.shape[0] > 0


class AdaptiveThreshold:
    """KISS-ICP's correspondence threshold: 3σ of the motion-prior error over recent frames."""

    def __init__(self, initial_m: float, min_motion_m: float, max_range_m: float, history: int) -> None:
        self.initial = initial_m
        self.min_motion = min_motion_m
        self.max_range = max_range_m
        self.history = history
        self._errors: list[float] = []

    def update(self, deviation: np.ndarray) -> None:
        """Record how far the prior was from the registered pose (4×4 relative transform)."""
        theta = float(np.linalg.norm(Rotation.from_matrix(deviation[:3, :3]).as_rotvec()))
        err = 2.0 * self.max_range * np.sin(theta / 2.0) + float(np.linalg.norm(deviation[:3, 3]))
        if err > self.min_motion:
            self._errors.append(err * err)
            if len(self._errors) > self.history:
                self._errors.pop(0)

    @property
    def sigma_m(self) -> float:
        """Current σ estimate (m)."""
        if not self._errors:
            return self.initial / 3.0
        return float(np.sqrt(np.mean(self._errors)))

    @property
    def threshold_m(self) -> float:
        """Current correspondence threshold (m)."""
        return 3.0 * self.sigma_m


def register(
    source: np.ndarray,
    vmap: VoxelMap,
    initial: np.ndarray,
    threshold_m: float,
    config: RegistrationConfig,
    remap_degenerate: bool = True,
) -> RegistrationResult:
    """Align ``source`` (sensor frame) to the map starting from ``initial``; projected Gauss–Newton.

    With ``remap_degenerate`` false the full update is applied (plain ICP, the KISS-ICP behaviour);
    degenerate directions are still detected and reported.
    """
    pose = np.array(initial, dtype=np.float64)
    kernel = max(threshold_m / 3.0, 1e-3)
    scale = config.rotation_scale_m  # rotations as metres of displacement at this lever arm
    s6 = np.array([scale] * 3 + [1.0] * 3)
    degenerate = np.zeros((0, 6))
    eig = np.zeros(6)
    h = np.zeros((6, 6))
    n_corr = 0
    rms = float("nan")
    converged = False
    it = 0
    res = w = None
    for it in range(1, config.max_iterations + 1):  # noqa: B007 - `it` is reported after the loop
        p = transform(source, pose)
        idx, _ = vmap.nearest(p, threshold_m)
        center = pose[:3, 3].copy()
        ok = idx >= 0
        n_corr = int(ok.sum())
        if n_corr < config.min_correspondences:
            break
        p = p[ok]
        q = vmap.points[idx[ok]]
        nrm = vmap.normals[idx[ok]]
        planar = vmap.planar[idx[ok]]
        diff = p - q
        p = p - center  # rotate about the sensor origin: decouples rotation from position far from the origin
        # Point-to-plane rows where the neighbourhood is planar; three point-to-point rows for the others
        # only with the fallback on (edges and clutter otherwise add phantom constraints along a corridor).
        r_pl = np.einsum("ij,ij->i", diff, nrm[:, :])[planar]
        j_pl = np.hstack([np.cross(p[planar], nrm[planar]), nrm[planar]])
        other = ~planar if config.point_to_point_fallback else np.zeros_like(planar)
        pp = p[other]
        d_pp = diff[other]
        j_pp = np.zeros((pp.shape[0] * 3, 6))
        for a in range(3):
            e = np.zeros(3)
            e[a] = 1.0
            j_pp[a::3, :3] = np.cross(pp, e)
            j_pp[a::3, 3 + a] = 1.0
        r_pp = d_pp.reshape(-1)
        jac = np.vstack([j_pl, j_pp])
        res = np.concatenate([r_pl, r_pp])
        w = kernel**2 / (kernel**2 + res**2) ** 2 * kernel**2  # Geman–McClure weights (scaled to 1 at 0)
        jw = jac * w[:, None]
        h = jac.T @ jw
        g = jw.T @ res
        # Degeneracy on the normalised, scale-balanced Hessian.
        hn = h / (s6[:, None] * s6[None, :]) / max(float(w.sum()), 1e-9)
        eig, vec = np.linalg.eigh(hn)
        deg = eig < config.degeneracy_threshold
        degenerate = vec[:, deg].T
        # Solve in balanced coordinates on the observable subspace only (solution remapping).
        hb = h / (s6[:, None] * s6[None, :])
        gb = g / s6
        # Directions with no information at all (a flat floor says nothing about x, y, yaw) are never
        # solved for, even by plain ICP: the system is singular there (LinAlgError or an exploding step).
        null = eig <= 1e-9 * max(float(eig.max()), 1e-300)
        vo = vec[:, ~(deg | null)] if remap_degenerate else vec[:, ~null]
        if vo.shape[1] == 0:
            break
        coeff = np.linalg.solve(vo.T @ hb @ vo, -(vo.T @ gb))
        xi = (vo @ coeff) / s6
        pose = apply_update(pose, xi)
        step = np.linalg.norm(xi[3:]) + scale * np.linalg.norm(xi[:3])
        if step < config.convergence_m:
            converged = True
            break
    if res is not None and w is not None and res.size:
        rms = float(np.sqrt(np.sum(w * res**2) / max(float(w.sum()), 1e-9)))
    sigma2 = max(rms if np.isfinite(rms) else kernel, 1e-3) ** 2
    info = h / sigma2
    if degenerate.shape[0] and remap_degenerate:
        proj = np.eye(6) - degenerate.T @ degenerate  # in balanced coordinates
        sm = s6[:, None] * s6[None, :]
        info = (proj @ (info / sm) @ proj) * sm
    return RegistrationResult(
        pose=pose,
        information=info,
        degenerate_dirs=degenerate,
        eigenvalues=eig,
        n_correspondences=n_corr,
        iterations=it,
        rms_m=rms,
        converged=converged,
    )
