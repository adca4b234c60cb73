"""Structure scan: orbit layers around a tower or pole, camera facing the structure.

Layers from ``bottom_m`` to ``top_m`` are spaced by the vertical footprint at the standoff distance
times ``1 - frontal_overlap``; on each layer, points are spaced by the horizontal footprint times
``1 - side_overlap`` along the orbit. At every point the vehicle yaws to face the structure's axis and
the gimbal pitches toward the layer's own height on the axis (level unless ``look_at_height_m``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sanqin.planning.camera import Camera
from sanqin.planning.errors import InspectionError


@dataclass(frozen=True)
class OrbitPoint:
    """A photo station: position (m ENU), yaw facing the structure (rad, ENU), gimbal pitch (deg)."""

    position_m: np.ndarray
    yaw_rad: float
    gimbal_pitch_deg: float
    layer: int


def structure_scan(center_m: tuple[float, float], structure_radius_m: float, standoff_m: float, bottom_m: float,
                   top_m: float, camera: Camera | None = None, frontal_overlap: float = 0.6,
                   side_overlap: float = 0.6, look_at_height_m: float | None = None) -> list[OrbitPoint]:
    """Photo stations on orbit layers around a vertical structure (bottom to top, alternating direction)."""
    vals = (structure_radius_m, standoff_m, bottom_m, top_m)
    if not all(math.isfinite(v) for v in vals) or structure_radius_m < 0 or standoff_m <= 0 or top_m < bottom_m:
        raise InspectionError("need radius >= 0, standoff > 0 and top >= bottom (all finite)")
    for ov in (frontal_overlap, side_overlap):
        if not 0 <= ov < 1:
            raise InspectionError(f"overlaps must be in [0, 1), got {ov}")
    cam = camera or Camera()
    across, along = cam.footprint_m(standoff_m)
    dz = along * (1 - frontal_overlap)
    ds = across * (1 - side_overlap)
    r = structure_radius_m + standoff_m
    n_layers = max(1, math.ceil((top_m - bottom_m) / dz) + 1) if top_m > bottom_m else 1
    heights = np.linspace(bottom_m, top_m, n_layers)
    n_pts = max(3, math.ceil(2 * math.pi * r / ds))
    cx, cy = center_m
    out = []
    for k, z in enumerate(heights):
        angles = np.linspace(0, 2 * math.pi, n_pts, endpoint=False)
        if k % 2:
            angles = angles[::-1]
        target_z = z if look_at_height_m is None else look_at_height_m
        pitch = -math.degrees(math.atan2(z - target_z, standoff_m))
        for a in angles:
            pos = np.array([cx + r * math.cos(a), cy + r * math.sin(a), z])
            out.append(OrbitPoint(pos, math.atan2(cy - pos[1], cx - pos[0]), pitch, k))
    return out
