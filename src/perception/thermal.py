"""Thermal hotspots on cable joints and terminals: detection, grading, debouncing and location.

Input is a radiometric image, 32FC1 in °C (one temperature per pixel). Per frame (:func:`find_hotspots`):

1. ``T0`` — the environment reference temperature: ``ambient_c`` or, with ``ambient_from_image``, a low
   percentile of the image (the tunnel wall). That needs unloaded surfaces in more than
   ``ambient_percentile`` of the view: a view filled with loaded cables makes T0 the cable temperature,
   so δt of any hot spot approaches 100 % (critical) — there, set ``ambient_c`` from a tunnel air sensor;
2. warm pixels (``T > T0 + warm_rise_k``) are the loaded cables and equipment; their median is the normal
   operating temperature of the scene;
3. hot pixels exceed that by ``min_diff_k``; connected regions (8-neighbourhood) of at least
   ``min_area_px`` pixels are hotspots. ``T1`` is a region's maximum; ``T2``, the "normal corresponding
   point", is by default the median of the warm pixels that are not hot (the other cables and phases under
   the same load), or with ``reference: ring`` the warm pixels in a ring around the hotspot (the same
   cable beside the joint — biased high, since a hot joint warms its cable);
4. grading per the infrared diagnosis practice for live electrical equipment (DL/T 664-2016, current-
   induced heating, metal connections and cable joints): relative temperature difference
   ``δt = (T1 − T2) / (T1 − T0) · 100 %`` and the hot-spot temperature ``T1``:

   ============ ================================================ =====
   grade        criterion (any)                                  value
   ============ ================================================ =====
   general      δt ≥ 35 %  or  T1 − T2 ≥ 15 K                    1
   serious      δt ≥ 80 %  or  T1 ≥ 80 °C                        2
   critical     δt ≥ 95 %  or  T1 ≥ 110 °C                       3
   ============ ================================================ =====

   The δt criteria apply only when ``T1 − T2 ≥ min_diff_k`` (δt of a tiny difference is noise).

Across frames (:class:`HotspotTracker`): each detection is placed along the tunnel (station = the robot's
station from odometry plus the pixel's offset from the optical axis at ``target_range_m``), merged with
candidates within ``merge_distance_m`` on the same tier (image rows within ``merge_rows_px``; one detection
per candidate and frame) and confirmed after ``confirm_frames`` detections within
``window_frames`` frames — a single hot frame (a reflection, a passing lamp) raises no alarm. A confirmed
hotspot is reported once, and again only if its grade worsens.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from sanqin.perception.errors import ImageInputError
from sanqin.runtime.config import param, require

GRADE_NAMES = ("normal", "general", "serious", "critical")


@dataclass(frozen=True)
class HotspotConfig:
    """Detection thresholds and DL/T 664 grading limits (°C, K, %, pixels)."""

    ambient_from_image: bool = param(True, "T0 from the image (low percentile) instead of ambient_c")
    ambient_c: float = param(
        25.0, "environment reference temperature T0 when not from the image (°C)", min=-60, max=100
    )
    ambient_percentile: float = param(10.0, "percentile of the image taken as T0 (%)", min=0.0, max=50.0)
    warm_rise_k: float = param(3.0, "pixels warmer than T0 by this are loaded equipment (K)", min=0.1, max=100.0)
    min_diff_k: float = param(5.0, "hot pixels exceed the normal temperature by this (K)", min=0.1, max=200.0)
    min_area_px: int = param(6, "smallest hotspot region (pixels)", min=1)
    reference: str = param(
        "scene", "T2: 'scene' = median of the warm, non-hot pixels (the other cables under the same load), "
        "'ring' = warm pixels around the hotspot (the same cable beside the joint)", choices=("scene", "ring"))
    ring_px: int = param(8, "width of the ring around a hotspot holding its reference T2 (pixels)", min=1, max=200)
    ring_gap_px: int = param(2, "gap between a hotspot and its reference ring (pixels)", min=0, max=50)
    min_ring_pixels: int = param(10, "fewer warm ring pixels: T2 is the scene's normal temperature", min=1)
    general_delta_pct: float = param(35.0, "δt of a general defect (%)", min=0.0, max=100.0)
    serious_delta_pct: float = param(80.0, "δt of a serious defect (%)", min=0.0, max=100.0)
    critical_delta_pct: float = param(95.0, "δt of a critical defect (%)", min=0.0, max=100.0)
    general_diff_k: float = param(15.0, "T1 − T2 of a general defect (K)", min=0.0, max=500.0)
    serious_temp_c: float = param(80.0, "hot-spot temperature of a serious defect (°C)", min=-50.0, max=1000.0)
    critical_temp_c: float = param(110.0, "hot-spot temperature of a critical defect (°C)", min=-50.0, max=1000.0)
    min_valid_c: float = param(-60.0, "pixels below this are invalid (°C)")
    max_valid_c: float = param(1500.0, "pixels above this are invalid (°C)")

    def __post_init__(self) -> None:
        require(
            self.general_delta_pct <= self.serious_delta_pct <= self.critical_delta_pct,
            "delta thresholds must satisfy general <= serious <= critical",
        )
        require(self.serious_temp_c <= self.critical_temp_c, "serious_temp_c must be <= critical_temp_c")
        require(self.max_valid_c > self.min_valid_c, "max_valid_c must exceed min_valid_c")


@dataclass(frozen=True)
class Hotspot:
    """One hotspot in one frame: pixel centroid and peak, temperatures (°C), δt (%), grade 0..3."""

    centroid_px: tuple[float, float]
    peak_px: tuple[int, int]
    area_px: int
    t1_c: float
    t2_c: float
    t0_c: float
    delta_pct: float
    grade: int

    @property
    def grade_name(self) -> str:
        """Grade as a word (normal/general/serious/critical)."""
        return GRADE_NAMES[self.grade]

    @property
    def rise_k(self) -> float:
        """Temperature rise over the environment T1 − T0 (K)."""
        return self.t1_c - self.t0_c


def grade(t1_c: float, t2_c: float, t0_c: float, config: HotspotConfig) -> tuple[float, int]:
    """(δt %, grade 0..3) of a hot spot per DL/T 664 (current-induced heating)."""
    diff = t1_c - t2_c
    denom = t1_c - t0_c
    delta = 100.0 * diff / denom if denom > 1e-6 else 0.0
    delta_ok = diff >= config.min_diff_k
    g = 0
    if (delta_ok and delta >= config.general_delta_pct) or diff >= config.general_diff_k:
        g = 1
    if (delta_ok and delta >= config.serious_delta_pct) or t1_c >= config.serious_temp_c:
        g = 2
    if (delta_ok and delta >= config.critical_delta_pct) or t1_c >= config.critical_temp_c:
        g = 3
    return float(delta), g


def check_thermal(image: np.ndarray, encoding: str = "32FC1") -> np.ndarray:
    """The image as float64 °C (H, W); raises :class:`ImageInputError` for other encodings or shapes."""
    if encoding != "32FC1":
        raise ImageInputError(f"thermal images must be 32FC1 in °C, got encoding {encoding!r}")
    img = np.asarray(image)
    if img.ndim != 2 or img.shape[0] < 3 or img.shape[1] < 3:
        raise ImageInputError(f"thermal image must be 2-D (H, W) with H, W >= 3, got shape {img.shape}")
    if img.dtype.kind != "f":
        raise ImageInputError(f"thermal image must hold floats (°C), got {img.dtype}")
    return img.astype(np.float64)


def find_hotspots(image_c: np.ndarray, config: HotspotConfig) -> list[Hotspot]:
    """Hotspots in a radiometric image (°C); invalid (non-finite, out-of-range) pixels are ignored."""
    img = check_thermal(image_c)
    valid = np.isfinite(img) & (img >= config.min_valid_c) & (img <= config.max_valid_c)
    if valid.sum() < 9:
        return []
    t0 = float(np.percentile(img[valid], config.ambient_percentile)) if config.ambient_from_image else config.ambient_c
    warm = valid & (img > t0 + config.warm_rise_k)
    normal = float(np.median(img[warm])) if warm.any() else t0
    hot = valid & (img > max(normal, t0) + config.min_diff_k)
    normal_ref = warm & ~hot
    if normal_ref.any():
        normal = float(np.median(img[normal_ref]))
    labels, n = ndimage.label(hot, structure=np.ones((3, 3), bool))
    if n == 0:
        return []
    areas = np.bincount(labels.ravel(), minlength=n + 1)
    out: list[Hotspot] = []
    gap = ndimage.generate_binary_structure(2, 2)
    pad = config.ring_px + config.ring_gap_px + 1
    # One pass for every region's bounding box; per-region work stays inside its (padded) window, so a
    # frame with thousands of hot specks (a sensor glitch) costs thousands of small windows, not full frames.
    for lab, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None or areas[lab] < config.min_area_px:
            continue
        r0, r1 = max(sl[0].start - pad, 0), min(sl[0].stop + pad, img.shape[0])
        c0, c1 = max(sl[1].start - pad, 0), min(sl[1].stop + pad, img.shape[1])
        reg = labels[r0:r1, c0:c1] == lab
        win = img[r0:r1, c0:c1]
        t2 = normal
        if config.reference == "ring":
            inner = ndimage.binary_dilation(reg, gap, iterations=config.ring_gap_px) if config.ring_gap_px else reg
            outer = ndimage.binary_dilation(reg, gap, iterations=config.ring_gap_px + config.ring_px)
            ring = outer & ~inner & warm[r0:r1, c0:c1] & ~hot[r0:r1, c0:c1]
            if ring.sum() >= config.min_ring_pixels:
                t2 = float(np.median(win[ring]))
        pr, pc = np.unravel_index(int(np.argmax(np.where(reg, win, -np.inf))), win.shape)
        peak = (int(pr) + r0, int(pc) + c0)
        t1 = float(img[peak])
        rows, cols = np.nonzero(reg)
        rows, cols = rows + r0, cols + c0
        delta, g = grade(t1, t2, t0, config)
        out.append(
            Hotspot(
                centroid_px=(float(cols.mean()), float(rows.mean())),
                peak_px=(int(peak[1]), int(peak[0])),
                area_px=int(areas[lab]),
                t1_c=t1,
                t2_c=t2,
                t0_c=t0,
                delta_pct=delta,
                grade=g,
            )
        )
    return out


@dataclass(frozen=True)
class TrackerLocationConfig:
    """Debouncing and location of hotspots along the tunnel."""

    confirm_frames: int = param(3, "detections needed to confirm a hotspot", min=1, max=1000)
    window_frames: int = param(10, "a candidate not confirmed within this many frames is dropped", min=1)
    merge_distance_m: float = param(1.0, "detections closer than this along the tunnel are one hotspot (m)", min=0.01)
    merge_rows_px: float = param(
        15.0, "... and closer than this vertically in the image (another tray tier is another hotspot) (px)", min=0.0
    )
    target_range_m: float = param(1.3, "distance from the camera to the inspected trays (m)", min=0.05, max=50.0)
    focal_px: float = param(400.0, "horizontal focal length of the thermal camera (px)", min=1.0)
    center_px: float = param(160.0, "horizontal principal point of the thermal camera (px)", min=0.0)
    along_sign: float = param(-1.0, "+1 if image u grows along the tunnel direction of travel, else -1", min=-1, max=1)
    min_grade: int = param(1, "lowest grade that is tracked and reported (0 = every hotspot)", min=0, max=3)

    def __post_init__(self) -> None:
        require(self.window_frames >= self.confirm_frames, "window_frames must be >= confirm_frames")
        require(self.along_sign in (-1.0, 1.0), "along_sign must be -1 or +1")


@dataclass
class HotspotTrack:
    """A hotspot seen over frames: station (m), position in odom (m), best evidence, state."""

    hotspot_id: int
    station_m: float
    position_m: np.ndarray
    best: Hotspot
    hits: int = 1
    first_frame: int = 0
    last_frame: int = 0
    confirmed: bool = False
    reported_grade: int = -1
    stations: list[float] = field(default_factory=list)
    row_px: float = 0.0


class HotspotTracker:
    """Debounces per-frame hotspots into located, confirmed ones; returns new or worsened alarms."""

    def __init__(self, config: TrackerLocationConfig) -> None:
        self.config = config
        self.tracks: list[HotspotTrack] = []
        self.frame = 0
        self._next_id = 0

    def locate(self, hs: Hotspot, robot_station_m: float) -> float:
        """Station (m) of a hotspot seen from a robot at ``robot_station_m``."""
        c = self.config
        return robot_station_m + c.along_sign * (hs.centroid_px[0] - c.center_px) * c.target_range_m / c.focal_px

    def update(
        self, hotspots: list[Hotspot], robot_station_m: float, robot_xyz_m: np.ndarray, heading_rad: float
    ) -> list[HotspotTrack]:
        """Add one frame; returns tracks that became confirmed or got worse this frame."""
        c = self.config
        self.frame += 1
        alarms: list[HotspotTrack] = []
        for hs in hotspots:
            if hs.grade < c.min_grade:
                continue
            st = self.locate(hs, robot_station_m)
            off = st - robot_station_m
            pos = np.asarray(robot_xyz_m, float) + off * np.array([np.cos(heading_rad), np.sin(heading_rad), 0.0])
            row = hs.centroid_px[1]
            # Same place along the tunnel and on the same tier; a track takes one detection per frame, so two
            # joints side by side (phases of one circuit) are not merged or confirmed by each other.
            near = [
                t
                for t in self.tracks
                if abs(t.station_m - st) <= c.merge_distance_m
                and abs(t.row_px - row) <= c.merge_rows_px
                and t.last_frame != self.frame
            ]
            if near:
                tr = min(near, key=lambda t: abs(t.station_m - st))
                tr.hits += 1
                tr.last_frame = self.frame
                tr.stations.append(st)
                tr.station_m = float(np.median(tr.stations))
                tr.row_px = 0.8 * tr.row_px + 0.2 * row
                tr.position_m = 0.8 * tr.position_m + 0.2 * pos
                if hs.t1_c > tr.best.t1_c or hs.grade > tr.best.grade:
                    tr.best = hs
            else:
                tr = HotspotTrack(
                    self._next_id, st, pos, hs, first_frame=self.frame, last_frame=self.frame, stations=[st], row_px=row
                )
                self._next_id += 1
                self.tracks.append(tr)
            if tr.hits >= c.confirm_frames and tr.best.grade > tr.reported_grade and tr not in alarms:
                tr.confirmed = True
                tr.reported_grade = tr.best.grade
                alarms.append(tr)
        # Unconfirmed candidates that went stale are dropped; confirmed ones are kept (the inspection record).
        self.tracks = [t for t in self.tracks if t.confirmed or self.frame - t.first_frame < c.window_frames]
        return alarms

    @property
    def confirmed(self) -> list[HotspotTrack]:
        """Every confirmed hotspot so far."""
        return [t for t in self.tracks if t.confirmed]
