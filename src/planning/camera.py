"""Camera geometry for mapping and inspection: ground sample distance, footprint, trigger distance.

Pinhole model: ``gsd = distance · sensor_width / (focal_length · image_width)``; the footprint is the
image size times the GSD; photos overlap by ``frontal`` along track (so the trigger distance is
``footprint_along · (1 - frontal)``) and neighbouring lines by ``side`` (line spacing
``footprint_across · (1 - side)``). The image's long side is across track by default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sanqin.planning.errors import InspectionError


@dataclass(frozen=True)
class Camera:
    """Sensor size (mm), image size (px), focal length (mm)."""

    sensor_width_mm: float = 13.2
    sensor_height_mm: float = 8.8
    image_width_px: int = 5472
    image_height_px: int = 3648
    focal_length_mm: float = 8.8

    def __post_init__(self) -> None:
        vals = (self.sensor_width_mm, self.sensor_height_mm, self.focal_length_mm)
        if not all(math.isfinite(v) and v > 0 for v in vals) or self.image_width_px < 1 or self.image_height_px < 1:
            raise InspectionError(f"camera parameters must be positive: {self}")

    def gsd_m(self, distance_m: float) -> float:
        """Ground sample distance (m/px) at ``distance_m`` from the surface."""
        return distance_m * self.sensor_width_mm / (self.focal_length_mm * self.image_width_px)

    def distance_for_gsd(self, gsd_m: float) -> float:
        """Distance (m) from the surface that gives ``gsd_m`` (m/px)."""
        if not (math.isfinite(gsd_m) and gsd_m > 0):
            raise InspectionError(f"ground sample distance must be positive, got {gsd_m}")
        return gsd_m * self.focal_length_mm * self.image_width_px / self.sensor_width_mm

    def footprint_m(self, distance_m: float) -> tuple[float, float]:
        """(across, along) footprint in metres at ``distance_m`` (image width across track)."""
        return (distance_m * self.sensor_width_mm / self.focal_length_mm,
                distance_m * self.sensor_height_mm / self.focal_length_mm)


def _overlap(value: float, name: str) -> float:
    if not (math.isfinite(value) and 0.0 <= value < 1.0):
        raise InspectionError(f"{name} overlap must be in [0, 1), got {value}")
    return value


def trigger_distance_m(camera: Camera, distance_m: float, frontal_overlap: float) -> float:
    """Distance between photos along track for the wanted frontal overlap."""
    if not (math.isfinite(distance_m) and distance_m > 0):
        raise InspectionError(f"distance to the surface must be positive, got {distance_m}")
    return camera.footprint_m(distance_m)[1] * (1.0 - _overlap(frontal_overlap, "frontal"))


def line_spacing_m(camera: Camera, distance_m: float, side_overlap: float) -> float:
    """Distance between neighbouring flight lines for the wanted side overlap."""
    if not (math.isfinite(distance_m) and distance_m > 0):
        raise InspectionError(f"distance to the surface must be positive, got {distance_m}")
    return camera.footprint_m(distance_m)[0] * (1.0 - _overlap(side_overlap, "side"))
