"""Swath width from the boom, swath lines over a region at a heading, and the heading search.

Swaths are straight passes ``width_m`` apart. Each swath is the *strip* (a rectangle of the swath width
around its centre line) cut by the region, so a pass that ends on a slanted edge runs on until its
strip has covered the region there (overlap spills into the headland rather than leaving triangles
unsprayed). A concave region or a hole cuts one line into several pieces.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from shapely import affinity
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from sanqin.planning.errors import CoverageError


@dataclass(frozen=True)
class Swath:
    """One straight pass: start/end (m, local ENU), the line it lies on, and its heading (rad)."""

    start_m: np.ndarray
    end_m: np.ndarray
    line: int
    heading_rad: float

    @property
    def length_m(self) -> float:
        """Pass length, m."""
        return float(np.linalg.norm(self.end_m - self.start_m))

    def reversed(self) -> Swath:
        """The same pass driven the other way."""
        return Swath(self.end_m, self.start_m, self.line, (self.heading_rad + math.pi) % (2 * math.pi))


def boom_swath_width(nozzle_count: int, nozzle_spacing_m: float, overlap_fraction: float = 0.0) -> float:
    """Effective swath width of a boom: nozzles × spacing, reduced by the wanted pass-to-pass overlap."""
    if nozzle_count < 1 or not (nozzle_spacing_m > 0 and math.isfinite(nozzle_spacing_m)):
        raise CoverageError(f"need >= 1 nozzle and a positive spacing, got {nozzle_count}, {nozzle_spacing_m}")
    if not 0.0 <= overlap_fraction < 1.0:
        raise CoverageError(f"overlap_fraction must be in [0, 1), got {overlap_fraction}")
    return nozzle_count * nozzle_spacing_m * (1.0 - overlap_fraction)


def _pieces(geom: BaseGeometry) -> list[Polygon]:
    if geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    return [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]


def swath_lines(region: BaseGeometry, heading_rad: float, width_m: float, min_piece_m2: float | None = None
                ) -> list[Swath]:
    """Swaths covering ``region`` at ``heading_rad`` (ENU, from +x), ordered by line then along the line."""
    if not (width_m > 0 and math.isfinite(width_m)):
        raise CoverageError(f"swath width must be positive, got {width_m}")
    if region.is_empty or region.area <= 0:
        return []
    rot = affinity.rotate(region, -heading_rad, origin=(0, 0), use_radians=True)
    minx, miny, maxx, maxy = rot.bounds
    span = maxy - miny
    n = max(1, math.ceil(span / width_m - 1e-9))
    # spread the lines so the outer strips touch the region's extremes (even overlap, no gap)
    if n == 1:
        ys = [miny + span / 2]
    else:
        ys = list(np.linspace(miny + width_m / 2, maxy - width_m / 2, n))
    min_area = (0.05 * width_m * width_m) if min_piece_m2 is None else min_piece_m2
    c, s = math.cos(heading_rad), math.sin(heading_rad)
    out: list[Swath] = []
    for k, y in enumerate(ys):
        strip = box(minx - 1, y - width_m / 2, maxx + 1, y + width_m / 2)
        pieces = sorted(_pieces(rot.intersection(strip)), key=lambda p: p.bounds[0])
        for piece in pieces:
            if piece.area < min_area:
                continue
            x0, _, x1, _ = piece.bounds
            a = np.array([c * x0 - s * y, s * x0 + c * y])
            b = np.array([c * x1 - s * y, s * x1 + c * y])
            out.append(Swath(a, b, k, heading_rad))
    return out


def heading_cost(region: BaseGeometry, heading_rad: float, width_m: float, turn_cost_m: float
                 ) -> tuple[float, int, float]:
    """(cost, passes, pass length) of covering ``region`` at a heading: length + turn_cost × (passes - 1)."""
    sw = swath_lines(region, heading_rad, width_m)
    length = sum(x.length_m for x in sw)
    return length + turn_cost_m * max(len(sw) - 1, 0), len(sw), length


def best_heading(region: BaseGeometry, width_m: float, turn_cost_m: float, step_deg: float = 2.0) -> float:
    """The heading in [0, π) minimizing :func:`heading_cost` (coarse grid, then refined ±step)."""
    if region.is_empty:
        raise CoverageError("nothing to cover: empty region")
    coarse = np.deg2rad(np.arange(0.0, 180.0, step_deg))
    # edge directions of the (simplified) outline are strong candidates: passes parallel to long edges
    hull = region.convex_hull
    if isinstance(hull, Polygon):
        xy = np.asarray(hull.exterior.coords)
        d = np.diff(xy, axis=0)
        edges = np.arctan2(d[:, 1], d[:, 0]) % math.pi
        coarse = np.concatenate([coarse, edges])
    costs = [heading_cost(region, h, width_m, turn_cost_m)[0] for h in coarse]
    h0 = float(coarse[int(np.argmin(costs))])
    fine = h0 + np.deg2rad(np.linspace(-step_deg, step_deg, 9))
    costs = [heading_cost(region, h, width_m, turn_cost_m)[0] for h in fine]
    return float(fine[int(np.argmin(costs))] % math.pi)
