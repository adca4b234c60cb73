"""Headland: the band along the boundary where the machine turns, sprayed by laps around the field.

The interior (boundary shrunk by the headland width) gets the straight passes; the headland gets
``laps`` passes around the boundary, each one swath wide, the first half a swath inside the edge.
Holes (obstacles inside the field) get the same treatment: laps around them, grown outward.
"""

from __future__ import annotations

from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry

from sanqin.planning.errors import CoverageError


def interior(boundary: Polygon, headland_m: float) -> BaseGeometry:
    """The boundary shrunk by ``headland_m`` (holes grow by the same width)."""
    if headland_m < 0:
        raise CoverageError(f"headland width must be >= 0, got {headland_m}")
    if headland_m == 0:
        return boundary
    return boundary.buffer(-headland_m, join_style="mitre", mitre_limit=3.0)


def headland_laps(boundary: Polygon, width_m: float, laps: int) -> list[LineString]:
    """Closed lap lines: lap i runs (i + ½)·width inside the boundary (and outside every hole)."""
    rings: list[LineString] = []
    for i in range(laps):
        inner = boundary.buffer(-(i + 0.5) * width_m, join_style="mitre", mitre_limit=3.0)
        polys = [inner] if isinstance(inner, Polygon) else list(getattr(inner, "geoms", []))
        for p in polys:
            if isinstance(p, Polygon) and not p.is_empty:
                rings.append(LineString(p.exterior.coords))
                rings.extend(LineString(h.coords) for h in p.interiors)
    return rings
