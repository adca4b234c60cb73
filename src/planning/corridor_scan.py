"""Corridor scan along a power line or pipeline: passes at lateral offsets and an altitude, camera triggers.

The polyline (local ENU metres) is offset sideways by each of ``offsets_m`` (left positive; e.g. ``(-15, 15)``
flies both sides), the passes alternate direction, and the camera triggers every
``trigger_distance_m`` computed from the camera, the distance to the line and the frontal overlap.
The gimbal looks down and toward the line: pitch ``-atan2(altitude above the line, |offset|)`` and yaw ±90°
relative to the vehicle (positive = right, as MAVLink's body-frame mount yaw) on the side of the line for the
direction the pass is flown (the vehicle faces along its track).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from shapely.geometry import LineString

from sanqin.planning.camera import Camera, trigger_distance_m
from sanqin.planning.errors import InspectionError


@dataclass(frozen=True)
class ScanPass:
    """One straight-or-polyline pass: waypoints (n, 3) m ENU, gimbal pitch/yaw (deg), trigger distance (m)."""

    waypoints_m: np.ndarray
    gimbal_pitch_deg: float
    trigger_distance_m: float
    offset_m: float = 0.0
    gimbal_yaw_deg: float = 0.0  # relative to the vehicle's nose, positive right (clockwise from above)


def corridor_scan(line_m: np.ndarray, altitude_m: float, offsets_m: tuple[float, ...] = (0.0,),
                  camera: Camera | None = None, frontal_overlap: float = 0.7, line_height_m: float = 0.0
                  ) -> list[ScanPass]:
    """Passes along ``line_m`` (n, 2) at each lateral offset; altitude above ground, the line at ``line_height_m``."""
    pts = np.asarray(line_m, float)
    if pts.ndim != 2 or pts.shape[0] < 2 or pts.shape[1] < 2 or not np.all(np.isfinite(pts)):
        raise InspectionError("a corridor needs a finite polyline of at least two points")
    if not (math.isfinite(altitude_m) and altitude_m > line_height_m):
        raise InspectionError(f"altitude {altitude_m} m must be above the line height {line_height_m} m")
    base = LineString(pts[:, :2])
    if base.length <= 0:
        raise InspectionError("the corridor polyline has zero length")
    cam = camera or Camera()
    out = []
    for i, off in enumerate(offsets_m):
        line = base if abs(off) < 1e-9 else base.offset_curve(off, join_style="round")
        if line.is_empty or line.geom_type != "LineString":
            raise InspectionError(f"offset {off} m does not give a single pass along this polyline")
        xy = np.asarray(line.coords)
        reverse = i % 2 == 1
        if reverse:
            xy = xy[::-1]
        # offset > 0 is left of the line's direction, so the line is on the right: yaw +90° (flown reversed: -90°)
        yaw = 0.0 if abs(off) < 1e-9 else 90.0 * math.copysign(1.0, off) * (-1.0 if reverse else 1.0)
        dz = altitude_m - line_height_m
        dist = math.hypot(dz, off)
        wp = np.column_stack([xy, np.full(len(xy), altitude_m)])
        pitch = -math.degrees(math.atan2(dz, abs(off))) if abs(off) > 1e-9 else -90.0
        out.append(ScanPass(wp, pitch, trigger_distance_m(cam, dist, frontal_overlap), off, yaw))
    return out
