"""Ground segmentation on a concentric zone model: per-bin plane fits, continuity sweep, point labels.

In the spirit of Patchwork++ (Lee et al., 2022): the plane around the sensor is cut into polar bins whose
ring width and sector count differ per zone (fine near the sensor, coarse far away). In every bin a plane
is fitted by PCA to the lowest points (seeds) and refined once on the points close to it. A bin's plane is
accepted only if it is upright enough (slope), flat (small smallest eigenvalue), spread in two directions
(a single scan line leaves the plane's tilt undetermined) and continuous in height
with the accepted bin inward along the same sector; so ramps, slopes and tunnel floors (whose lowest
points are floor, with vertical walls beside) stay ground while tops of boxes, pallets and carts do not.
Points in rejected or empty bins are compared with the plane extrapolated from the nearest accepted bin
inward. Everything is vectorised over bins: no Python loop over points.

Frame: the sensor frame, z up (roughly); ``sensor_height_m`` is the height of the sensor over the floor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sanqin.runtime.config import param, require


@dataclass(frozen=True)
class GroundConfig:
    """Concentric zone model and acceptance thresholds for ground planes."""

    sensor_height_m: float = param(1.0, "height of the sensor origin above the floor (m)", min=-5.0, max=20.0)
    zone_edges_m: tuple[float, ...] = param(
        (0.3, 4.0, 10.0, 25.0, 60.0),
        "zone boundaries in range (m), increasing: points nearer than the first or beyond the last are not ground",
        min=0.0,
    )
    zone_rings: tuple[int, ...] = param((4, 4, 4, 3), "rings per zone", min=1, max=64)
    zone_sectors: tuple[int, ...] = param((16, 32, 48, 32), "sectors per zone", min=1, max=720)
    seed_height_m: float = param(0.25, "seed points: within this of the lowest point of the bin (m)", min=0.01, max=3.0)
    distance_m: float = param(0.15, "a point is ground if within this of its bin's plane (m)", min=0.01, max=2.0)
    max_slope_deg: float = param(30.0, "steepest plane still accepted as ground (deg)", min=1.0, max=80.0)
    max_flatness_m2: float = param(0.01, "largest smallest-eigenvalue of the plane fit (m^2)", min=1e-6, max=1.0)
    min_spread_m2: float = param(
        0.002,
        "smallest middle eigenvalue of a fit: a single scan line does not define a plane (m^2)",
        min=0.0,
        max=10.0,
    )
    max_step_m: float = param(
        0.3, "largest height jump between a bin and the accepted bin inward (m)", min=0.01, max=5.0
    )
    first_ring_tolerance_m: float = param(
        0.5, "innermost planes must lie within this of -sensor_height_m (m)", min=0.01, max=10.0
    )
    min_bin_points: int = param(5, "bins with fewer seed points are not fitted", min=3, max=1000)

    def __post_init__(self) -> None:
        edges = self.zone_edges_m
        require(len(edges) >= 2, "zone_edges_m needs at least two values")
        require(all(b > a for a, b in zip(edges, edges[1:])), "zone_edges_m must increase")
        require(len(self.zone_rings) == len(edges) - 1, "zone_rings needs one entry per zone (len(zone_edges_m) - 1)")
        require(len(self.zone_sectors) == len(edges) - 1, "zone_sectors needs one entry per zone")


@dataclass(frozen=True)
class GroundResult:
    """Per-point ground mask and the accepted bin planes (normal n, offset d with n·p + d = 0)."""

    ground: np.ndarray  # (N,) bool
    plane_normals: np.ndarray  # (B, 3) for every bin (NaN where none)
    plane_offsets: np.ndarray  # (B,)
    accepted: np.ndarray  # (B,) bool
    zones: ZoneModel | None = None
    floor_normals: np.ndarray | None = None  # (B, 3) the plane used per bin (own or extrapolated)
    floor_offsets: np.ndarray | None = None

    def floor_height(self, xy: np.ndarray) -> np.ndarray:
        """Height (m, sensor frame) of the floor plane used at each (x, y); NaN outside the zone model."""
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        if self.zones is None or self.floor_normals is None or self.floor_offsets is None:
            return np.full(xy.shape[0], np.nan)
        b = self.zones.bin_of(xy)
        bi = np.maximum(b, 0)
        n = self.floor_normals[bi]
        h = -(n[:, 0] * xy[:, 0] + n[:, 1] * xy[:, 1] + self.floor_offsets[bi]) / np.maximum(n[:, 2], 1e-3)
        return np.where(b >= 0, h, np.nan)

    @property
    def n_ground(self) -> int:
        """Number of ground points."""
        return int(self.ground.sum())


class ZoneModel:
    """Polar bin layout: bin index of each point, ring/sector of each bin."""

    def __init__(self, config: GroundConfig) -> None:
        self.config = config
        edges = np.asarray(config.zone_edges_m, float)
        ring_edges: list[float] = []
        ring_sectors: list[int] = []
        for z in range(len(edges) - 1):
            n = config.zone_rings[z]
            e = np.linspace(edges[z], edges[z + 1], n + 1)
            ring_edges.extend(e[:-1].tolist())
            ring_sectors.extend([config.zone_sectors[z]] * n)
        ring_edges.append(float(edges[-1]))
        self.ring_edges = np.asarray(ring_edges)  # (R+1,)
        self.ring_sectors = np.asarray(ring_sectors, dtype=np.int64)  # (R,)
        self.ring_offset = np.concatenate([[0], np.cumsum(self.ring_sectors)])  # first bin of each ring
        self.n_bins = int(self.ring_offset[-1])
        self.n_rings = len(ring_sectors)
        self.bin_ring = np.repeat(np.arange(self.n_rings), self.ring_sectors)
        self.bin_sector = np.concatenate([np.arange(s) for s in self.ring_sectors])
        mid_r = 0.5 * (self.ring_edges[:-1] + self.ring_edges[1:])
        theta = (self.bin_sector + 0.5) * 2 * np.pi / self.ring_sectors[self.bin_ring]
        self.bin_center_xy = np.stack([mid_r[self.bin_ring] * np.cos(theta), mid_r[self.bin_ring] * np.sin(theta)], 1)
        in_r = self.ring_edges[:-1][self.bin_ring]
        self.bin_inner_xy = np.stack([in_r * np.cos(theta), in_r * np.sin(theta)], 1)
        # Inward neighbour of each bin: the bin of the previous ring covering the same bearing.
        inward = np.full(self.n_bins, -1, dtype=np.int64)
        for r in range(1, self.n_rings):
            b = np.arange(self.ring_offset[r], self.ring_offset[r + 1])
            s_prev = np.floor(theta[b] / (2 * np.pi) * self.ring_sectors[r - 1]).astype(np.int64)
            inward[b] = self.ring_offset[r - 1] + np.clip(s_prev, 0, self.ring_sectors[r - 1] - 1)
        self.inward = inward

    def bin_of(self, xy: np.ndarray) -> np.ndarray:
        """Bin index per point (-1 outside the model)."""
        rng = np.hypot(xy[:, 0], xy[:, 1])
        ring = np.searchsorted(self.ring_edges, rng, side="right") - 1
        inside = (ring >= 0) & (ring < self.n_rings)
        ring_c = np.clip(ring, 0, self.n_rings - 1)
        ang = np.mod(np.arctan2(xy[:, 1], xy[:, 0]), 2 * np.pi)
        ns = self.ring_sectors[ring_c]
        sector = np.minimum((ang / (2 * np.pi) * ns).astype(np.int64), ns - 1)
        return np.where(inside, self.ring_offset[ring_c] + sector, -1)


def _fit_planes(pts: np.ndarray, bins: np.ndarray, sel: np.ndarray, n_bins: int) -> tuple[np.ndarray, ...]:
    """PCA plane per bin over the selected points: (count, mean, normal, smallest and middle eigenvalue)."""
    b = bins[sel]
    p = pts[sel].astype(np.float64)
    cnt = np.bincount(b, minlength=n_bins).astype(np.float64)
    safe = np.maximum(cnt, 1.0)
    mean = np.stack([np.bincount(b, p[:, i], n_bins) for i in range(3)], 1) / safe[:, None]
    d = p - mean[b]
    cov = np.empty((n_bins, 3, 3))
    for i in range(3):
        for j in range(i, 3):
            v = np.bincount(b, d[:, i] * d[:, j], n_bins) / safe
            cov[:, i, j] = v
            cov[:, j, i] = v
    w, vec = np.linalg.eigh(cov)
    normal = vec[:, :, 0]
    normal = normal * np.where(normal[:, 2:3] < 0, -1.0, 1.0)
    return cnt, mean, normal, w[:, 0], w[:, 1]


class GroundSegmenter:
    """Labels ground points of a cloud in the sensor frame; stateless between calls."""

    def __init__(self, config: GroundConfig) -> None:
        self.config = config
        self.zones = ZoneModel(config)
        self._cos_slope = float(np.cos(np.radians(config.max_slope_deg)))

    def segment(self, points: np.ndarray) -> GroundResult:
        """Ground mask for (N, 3) finite points (sensor frame, metres)."""
        cfg = self.config
        zm = self.zones
        pts = np.asarray(points, dtype=np.float32).reshape(-1, 3)
        n = pts.shape[0]
        nb = zm.n_bins
        bins = zm.bin_of(pts[:, :2]) if n else np.zeros(0, np.int64)
        valid = bins >= 0
        if not valid.any():
            return GroundResult(np.zeros(n, bool), np.full((nb, 3), np.nan), np.full(nb, np.nan), np.zeros(nb, bool))
        z = pts[:, 2]
        # Seeds: points within seed_height of the bin's lowest point (lowest 1 % guards against outliers
        # below the floor only if there are many points; a plain minimum is fine after NaN removal).
        zmin = np.full(nb, np.inf, dtype=np.float64)
        np.minimum.at(zmin, bins[valid], z[valid])
        seed = valid & (z <= zmin[np.maximum(bins, 0)] + cfg.seed_height_m)
        cnt, mean, normal, lam, spread = _fit_planes(pts, bins, seed, nb)
        offs = -np.einsum("ij,ij->i", normal, mean)
        # Refine: refit on every point of the bin near the first plane.
        dist = np.einsum("ij,ij->i", pts, normal[np.maximum(bins, 0)]) + offs[np.maximum(bins, 0)]
        near = valid & (np.abs(dist) < cfg.distance_m) & (cnt[np.maximum(bins, 0)] >= cfg.min_bin_points)
        cnt2, mean2, normal2, lam2, spread2 = _fit_planes(pts, bins, near, nb)
        use2 = cnt2 >= cfg.min_bin_points
        mean = np.where(use2[:, None], mean2, mean)
        normal = np.where(use2[:, None], normal2, normal)
        lam = np.where(use2, lam2, lam)
        spread = np.where(use2, spread2, spread)
        cnt = np.where(use2, cnt2, cnt)
        offs = -np.einsum("ij,ij->i", normal, mean)
        ok = (cnt >= cfg.min_bin_points) & (normal[:, 2] >= self._cos_slope) & (lam <= cfg.max_flatness_m2)
        ok &= (spread >= cfg.min_spread_m2) & np.isfinite(offs)
        accepted, ref_n, ref_d = self._continuity(ok, normal, offs)
        # Each point is compared with its bin's plane when accepted, else with the reference plane
        # extrapolated from inward; points below a plane (pits, noise) count as ground too.
        bi = np.maximum(bins, 0)
        nrm = np.where(accepted[bi, None], normal[bi], ref_n[bi])
        off = np.where(accepted[bi], offs[bi], ref_d[bi])
        h = np.einsum("ij,ij->i", pts, nrm) + off
        ground = valid & np.isfinite(h) & (h < cfg.distance_m)
        normals_out = np.where(accepted[:, None], normal, np.nan)
        offs_out = np.where(accepted, offs, np.nan)
        used_n = np.where(accepted[:, None], normal, ref_n)
        used_d = np.where(accepted, offs, ref_d)
        return GroundResult(ground, normals_out, offs_out, accepted, zm, used_n, used_d)

    def _continuity(self, ok: np.ndarray, normal: np.ndarray, offs: np.ndarray) -> tuple[np.ndarray, ...]:
        """Sweep rings outward: accept a bin if its height at its centre continues the reference plane.

        Heights are compared where the bins meet (the inner edge of the ring), so a ramp that starts at a
        ring boundary continues its floor. Returns (accepted, reference normal per bin, reference offset per
        bin) where the reference is the nearest accepted plane inward (the flat floor at -sensor_height for the
        first ring).
        """
        cfg = self.config
        zm = self.zones
        nb = zm.n_bins
        accepted = np.zeros(nb, bool)
        ref_n = np.zeros((nb, 3))
        ref_d = np.zeros(nb)
        ref_n[:, 2] = 1.0
        ref_d[:] = cfg.sensor_height_m
        cxy = zm.bin_inner_xy

        def height_at(nrm: np.ndarray, d: np.ndarray, xy: np.ndarray) -> np.ndarray:
            return -(nrm[:, 0] * xy[:, 0] + nrm[:, 1] * xy[:, 1] + d) / np.maximum(nrm[:, 2], 1e-3)

        for r in range(zm.n_rings):
            b = np.arange(zm.ring_offset[r], zm.ring_offset[r + 1])
            if r > 0:
                inn = zm.inward[b]
                take = accepted[inn]
                ref_n[b] = np.where(take[:, None], normal[inn], ref_n[inn])
                ref_d[b] = np.where(take, offs[inn], ref_d[inn])
                tol = cfg.max_step_m
            else:
                tol = cfg.first_ring_tolerance_m
            h_ref = height_at(ref_n[b], ref_d[b], cxy[b])
            h_own = height_at(normal[b], offs[b], cxy[b])
            accepted[b] = ok[b] & (np.abs(h_own - h_ref) <= tol)
        return accepted, ref_n, ref_d
