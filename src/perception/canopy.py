"""Crop canopy for spraying drones: vegetation segmentation, canopy cover in field coordinates, prescription.

* **RGB**: excess green ``ExG = 2g − r − b`` on chromatic coordinates (``r = R / (R + G + B)`` …;
  Woebbecke et al., 1995) thresholded by Otsu's method (maximum between-class variance of the
  histogram), the threshold clamped to ``[exg_min, exg_max]`` so an all-soil or all-canopy image is not
  split in half.
* **Multispectral**: ``NDVI = (NIR − Red) / (NIR + Red)`` with a fixed threshold (or Otsu, clamped).
* **Cover grid**: each vegetation mask is projected to the ground with the drone's pose and a nadir
  pinhole camera (flat field at ``z = 0`` of the field frame, ENU; image top toward the drone's nose),
  and counted per grid cell; cover = vegetation pixels / observed pixels (NaN where unobserved).
* **Prescription**: a variable-rate map for the coverage planner: no spray below ``min_cover``, else a
  rate growing linearly with cover between ``rate_min_l_ha`` and ``rate_max_l_ha``, quantised to
  ``levels`` rates (sprayer nozzles switch between a few rates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sanqin.perception.errors import ImageInputError
from sanqin.runtime.config import param, require


@dataclass(frozen=True)
class SegmentationConfig:
    """Vegetation index thresholds."""

    exg_min: float = param(0.1, "lowest ExG threshold Otsu may choose", min=-2.0, max=2.0)
    exg_max: float = param(0.4, "highest ExG threshold Otsu may choose", min=-2.0, max=2.0)
    ndvi_threshold: float = param(0.35, "NDVI above this is vegetation (unless ndvi_use_otsu)", min=-1.0, max=1.0)
    ndvi_use_otsu: bool = param(False, "threshold NDVI with Otsu (clamped to ndvi_min..ndvi_max)")
    ndvi_min: float = param(0.2, "lowest NDVI threshold Otsu may choose", min=-1.0, max=1.0)
    ndvi_max: float = param(0.6, "highest NDVI threshold Otsu may choose", min=-1.0, max=1.0)

    def __post_init__(self) -> None:
        require(self.exg_max >= self.exg_min, "exg_max must be >= exg_min")
        require(self.ndvi_max >= self.ndvi_min, "ndvi_max must be >= ndvi_min")


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold of finite values (between-class variance maximum over a histogram)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise ImageInputError("Otsu threshold of an empty (or all non-finite) array")
    lo, hi = float(v.min()), float(v.max())
    if hi - lo < 1e-12:
        return lo
    hist, edges = np.histogram(v, bins=bins, range=(lo, hi))
    centers = 0.5 * (edges[:-1] + edges[1:])
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centers)
    mu0 = m0 / np.maximum(w0, 1)
    mu1 = (m0[-1] - m0) / np.maximum(w1, 1)
    between = (w0 * w1 * (mu0 - mu1) ** 2)[:-1]
    # Well-separated classes give a plateau of equal maxima across the gap: take its middle.
    best = np.nonzero(between >= between.max() * (1.0 - 1e-9))[0]
    k = int(round(0.5 * (best[0] + best[-1])))
    return float(edges[k + 1])


def _rgb(image: np.ndarray, encoding: str) -> np.ndarray:
    img = np.asarray(image)
    if encoding not in ("rgb8", "bgr8", "rgba8", "bgra8") or img.ndim != 3 or img.shape[2] not in (3, 4):
        raise ImageInputError(f"vegetation from RGB needs rgb8/bgr8(+a) (H, W, 3|4), got {encoding!r} {img.shape}")
    if img.dtype != np.uint8:
        raise ImageInputError(f"{encoding} image must be uint8, got {img.dtype}")
    rgb = img[:, :, :3].astype(np.float64)
    return rgb[:, :, ::-1] if encoding.startswith("bgr") else rgb


def excess_green(image: np.ndarray, encoding: str = "rgb8") -> np.ndarray:
    """ExG = 2g − r − b on chromatic coordinates, (H, W) in [-1, 2]; black pixels give 0."""
    rgb = _rgb(image, encoding)
    s = rgb.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.where(s[:, :, None] > 0, rgb / s[:, :, None], 0.0)
    return 2 * c[:, :, 1] - c[:, :, 0] - c[:, :, 2]


def vegetation_rgb(image: np.ndarray, config: SegmentationConfig, encoding: str = "rgb8") -> tuple[np.ndarray, float]:
    """(vegetation mask, ExG threshold used) of an RGB image."""
    exg = excess_green(image, encoding)
    thr = float(np.clip(otsu_threshold(exg), config.exg_min, config.exg_max))
    return exg > thr, thr


def ndvi(nir: np.ndarray, red: np.ndarray) -> np.ndarray:
    """NDVI of two co-registered bands (any numeric dtype); NaN where both are zero or non-finite."""
    n = np.asarray(nir, dtype=np.float64)
    r = np.asarray(red, dtype=np.float64)
    if n.shape != r.shape or n.ndim != 2:
        raise ImageInputError(f"NIR and red bands must be 2-D of equal shape, got {n.shape} and {r.shape}")
    s = n + r
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.abs(s) > 1e-12, (n - r) / s, np.nan)


def vegetation_ndvi(nir: np.ndarray, red: np.ndarray, config: SegmentationConfig) -> tuple[np.ndarray, float]:
    """(vegetation mask, NDVI threshold used) from NIR and red bands."""
    v = ndvi(nir, red)
    thr = config.ndvi_threshold
    if config.ndvi_use_otsu and np.isfinite(v).any():
        thr = float(np.clip(otsu_threshold(v), config.ndvi_min, config.ndvi_max))
    return np.nan_to_num(v, nan=-1.0) > thr, float(thr)


@dataclass(frozen=True)
class CanopyGridConfig:
    """Field grid (ENU field frame) and the nadir camera that observes it."""

    origin_x_m: float = param(0.0, "x of the grid's lower-left corner in the field frame (m)")
    origin_y_m: float = param(0.0, "y of the grid's lower-left corner in the field frame (m)")
    cell_m: float = param(2.0, "grid cell edge (m)", min=0.05, max=1000.0)
    cells_x: int = param(50, "cells along x", min=1, max=10000)
    cells_y: int = param(50, "cells along y", min=1, max=10000)
    fx_px: float = param(500.0, "camera focal length x (px)", min=1.0)
    fy_px: float = param(500.0, "camera focal length y (px)", min=1.0)
    cx_px: float = param(320.0, "principal point x (px)", min=0.0)
    cy_px: float = param(240.0, "principal point y (px)", min=0.0)
    width_px: int = param(0, "image width the intrinsics belong to; other sizes are refused (0: not checked)", min=0)
    height_px: int = param(0, "image height the intrinsics belong to; other sizes are refused (0: not checked)", min=0)
    pixel_stride: int = param(4, "use every n-th pixel in each direction when projecting", min=1, max=64)
    min_altitude_m: float = param(1.0, "images taken lower than this are not mapped (m)", min=0.0)
    max_altitude_m: float = param(120.0, "images taken higher than this are not mapped (m)", min=0.1)
    max_tilt_rad: float = param(0.2, "images taken with more roll/pitch are not mapped (rad)", min=0.0, max=1.5)

    def __post_init__(self) -> None:
        require(self.max_altitude_m > self.min_altitude_m, "max_altitude_m must exceed min_altitude_m")
        require(
            (self.width_px == 0 or self.cx_px < self.width_px) and (self.height_px == 0 or self.cy_px < self.height_px),
            "the principal point (cx_px, cy_px) must lie inside the image (width_px × height_px)",
        )


@dataclass(frozen=True)
class PrescriptionConfig:
    """Variable-rate spraying from canopy cover."""

    min_cover: float = param(0.05, "no spraying below this cover (0..1)", min=0.0, max=1.0)
    rate_min_l_ha: float = param(50.0, "rate at the smallest sprayed cover (l/ha)", min=0.0)
    rate_max_l_ha: float = param(200.0, "rate at full cover (l/ha)", min=0.0)
    levels: int = param(4, "distinct non-zero rates the sprayer can apply", min=1, max=100)
    unobserved_rate_l_ha: float = param(-1.0, "rate of unobserved cells (-1: unknown)", min=-1.0)

    def __post_init__(self) -> None:
        require(self.rate_max_l_ha >= self.rate_min_l_ha, "rate_max_l_ha must be >= rate_min_l_ha")


class CanopyGrid:
    """Vegetation and observation counts per field cell."""

    def __init__(self, config: CanopyGridConfig) -> None:
        self.config = config
        self.veg = np.zeros((config.cells_y, config.cells_x))
        self.seen = np.zeros((config.cells_y, config.cells_x))
        self.images = 0
        self.skipped = 0

    def ground_points(
        self, shape: tuple[int, int], x_m: float, y_m: float, alt_m: float, yaw_rad: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Field x, y (m) of the sampled pixels of a nadir image and their (row, col) indices."""
        c = self.config
        rows = np.arange(0, shape[0], c.pixel_stride)
        cols = np.arange(0, shape[1], c.pixel_stride)
        vv, uu = np.meshgrid(rows, cols, indexing="ij")
        fwd = -(vv + 0.5 - c.cy_px) * alt_m / c.fy_px  # image up = nose
        left = -(uu + 0.5 - c.cx_px) * alt_m / c.fx_px  # image right = right wing
        cy, sy = np.cos(yaw_rad), np.sin(yaw_rad)
        gx = x_m + cy * fwd - sy * left
        gy = y_m + sy * fwd + cy * left
        return gx.ravel(), gy.ravel(), np.stack([vv.ravel(), uu.ravel()], 1)

    def add(
        self,
        mask: np.ndarray,
        x_m: float,
        y_m: float,
        alt_m: float,
        yaw_rad: float,
        roll_rad: float = 0.0,
        pitch_rad: float = 0.0,
    ) -> bool:
        """Count a vegetation mask taken at a pose (field frame); False if the pose is unusable.

        A mask whose size disagrees with the configured image size raises :class:`ImageInputError` (the
        intrinsics would place it wrongly: a camera swapped or set to another resolution).
        """
        c = self.config
        m = np.asarray(mask, bool)
        if m.ndim != 2 or (c.width_px and m.shape[1] != c.width_px) or (c.height_px and m.shape[0] != c.height_px):
            raise ImageInputError(
                f"image is {m.shape[1] if m.ndim == 2 else '?'}×{m.shape[0]} px but the camera intrinsics are for "
                f"{c.width_px}×{c.height_px}"
            )
        pose_ok = all(np.isfinite([x_m, y_m, alt_m, yaw_rad, roll_rad, pitch_rad]))
        if (
            not pose_ok
            or not (c.min_altitude_m <= alt_m <= c.max_altitude_m)
            or max(abs(roll_rad), abs(pitch_rad)) > c.max_tilt_rad
        ):
            self.skipped += 1
            return False
        gx, gy, rc = self.ground_points(m.shape, x_m, y_m, alt_m, yaw_rad)
        ix = np.floor((gx - c.origin_x_m) / c.cell_m).astype(np.int64)
        iy = np.floor((gy - c.origin_y_m) / c.cell_m).astype(np.int64)
        ok = (ix >= 0) & (ix < c.cells_x) & (iy >= 0) & (iy < c.cells_y)
        flat = iy[ok] * c.cells_x + ix[ok]
        veg = m[rc[ok, 0], rc[ok, 1]].astype(np.float64)
        n = c.cells_x * c.cells_y
        self.seen += np.bincount(flat, minlength=n).reshape(self.seen.shape)
        self.veg += np.bincount(flat, weights=veg, minlength=n).reshape(self.veg.shape)
        self.images += 1
        return True

    def cover(self) -> np.ndarray:
        """(cells_y, cells_x) canopy cover 0..1, NaN where never observed; row 0 is the lowest y."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.seen > 0, self.veg / np.maximum(self.seen, 1), np.nan)


def prescription(cover: np.ndarray, config: PrescriptionConfig) -> np.ndarray:
    """Spray rate (l/ha) per cell from cover; ``unobserved_rate_l_ha`` where cover is NaN."""
    cv = np.asarray(cover, dtype=np.float64)
    frac = np.clip((cv - config.min_cover) / max(1.0 - config.min_cover, 1e-9), 0.0, 1.0)
    # Quantise to `levels` rates: level k of 1..levels covers ((k-1)/levels, k/levels].
    level = np.ceil(frac * config.levels)
    level = np.where(cv >= config.min_cover, np.maximum(level, 1), 0)
    span = config.rate_max_l_ha - config.rate_min_l_ha
    step = span / (config.levels - 1) if config.levels > 1 else 0.0
    rate = np.where(level > 0, config.rate_min_l_ha + (level - 1) * step, 0.0)
    if config.levels == 1:
        rate = np.where(level > 0, config.rate_max_l_ha, 0.0)
    return np.where(np.isfinite(cv), rate, config.unobserved_rate_l_ha)
