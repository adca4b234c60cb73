"""Coverage planning for crop spraying: field → headland laps, passes, turns, spray segments, refills.

``plan_coverage(field, config)`` composes the concept modules: :mod:`headland` (interior and laps),
:mod:`swaths` (pass heading that minimizes length + turn cost, strips), :mod:`decomposition`
(boustrophedon cells for concave fields and holes), :mod:`boustrophedon` (order), :mod:`turns`
(turn-arounds and transits inside the boundary), :mod:`spray` (on/off and variable rate) and
:mod:`refill` (tank/battery returns). :func:`coverage_metrics` measures the result geometrically.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from sanqin.planning import headland as hl
from sanqin.planning.boundary import Field
from sanqin.planning.boustrophedon import order_cells
from sanqin.planning.decomposition import decompose
from sanqin.planning.errors import CoverageError
from sanqin.planning.refill import RefillStop, RouteLeg, plan_refills
from sanqin.planning.spray import RateZone, SpraySegment, segments_for_pass
from sanqin.planning.swaths import Swath, best_heading, swath_lines
from sanqin.planning.turns import TransitRouter, inside, turn_path
from sanqin.runtime.config import param, require


@dataclass(frozen=True)
class CoverageConfig:
    """Coverage planner settings (metres, seconds, litres)."""

    swath_m: float = param(6.0, "effective swath width (m)", min=0.05)
    headland_laps: int = param(1, "sprayed laps around the boundary (and holes)", min=0, max=20)
    headland_m: float = param(-1.0, "headland width (m); -1 = laps × swath", min=-1.0)
    turn_radius_m: float = param(0.0, "minimum turning radius (m); 0 = turn on the spot (multirotor)", min=0.0)
    heading_deg: float = param(-1.0, "pass heading (deg CCW from east); -1 = optimize", min=-1.0, max=180.0)
    heading_step_deg: float = param(2.0, "heading search step (deg)", min=0.1, max=45.0)
    turn_cost_m: float = param(-1.0, "cost of one turn in metres of path; -1 = π · max(swath/2, radius)", min=-1.0)
    boom_sections: int = param(1, "independently switched boom sections", min=1, max=64)
    zone_margin_m: float = param(-1.0, "spray-off margin of a section centre around no-spray zones (m); "
                                       "-1 = half a section", min=-1.0)
    speed_m_s: float = param(5.0, "spraying ground speed (m/s)", min=0.01)
    rate_l_ha: float = param(20.0, "default application rate (L/ha)", min=0.0)
    tank_l: float = param(0.0, "tank capacity (L); 0 = no refill planning", min=0.0)
    endurance_s: float = param(0.0, "battery endurance (s); 0 = unlimited", min=0.0)
    reserve_fraction: float = param(0.2, "battery reserve kept for the return", min=0.0, max=0.9)
    decompose: bool = param(True, "split concave fields into boustrophedon cells")
    fill_gaps: bool = param(True, "add passes over areas the laps and passes missed (larger than a swath square)")

    def __post_init__(self) -> None:
        require(self.headland_m == -1.0 or self.headland_m >= 0, "headland_m must be -1 or >= 0")

    @property
    def headland_width_m(self) -> float:
        """Headland width actually used (m)."""
        return self.headland_laps * self.swath_m if self.headland_m < 0 else self.headland_m


@dataclass(frozen=True)
class PathPiece:
    """A piece of the route: polyline (n, 2) m, its kind, and spray segments for sprayed pieces."""

    points_m: np.ndarray
    kind: str  # "pass", "lap", "turn", "transit"
    spray: tuple[SpraySegment, ...] = ()

    @property
    def length_m(self) -> float:
        """Polyline length, m."""
        return float(np.sum(np.linalg.norm(np.diff(self.points_m, axis=0), axis=1))) if len(self.points_m) > 1 else 0.0


@dataclass
class CoveragePlan:
    """A coverage plan: the route pieces in order, pass heading, cells, refills and metrics."""

    field: Field
    config: CoverageConfig
    heading_rad: float
    pieces: list[PathPiece]
    cells: int
    refills: list[RefillStop] = field(default_factory=list)
    home_m: np.ndarray | None = None
    metrics: dict[str, float] = field(default_factory=dict)

    def legs(self) -> list[RouteLeg]:
        """The route as straight legs with their spray flow (L/min)."""
        out: list[RouteLeg] = []
        for p in self.pieces:
            if p.spray:
                out.extend(RouteLeg(s.start_m, s.end_m, s.flow_l_min if s.on else 0.0) for s in p.spray)
            else:
                out.extend(RouteLeg(a, b, 0.0) for a, b in zip(p.points_m[:-1], p.points_m[1:], strict=True))
        return [leg for leg in out if np.linalg.norm(leg.end_m - leg.start_m) > 1e-9]


def _sprayable(fld: Field, margin_m: float) -> BaseGeometry:
    if not fld.no_spray:
        return fld.boundary
    return fld.boundary.difference(unary_union([z.buffer(margin_m) for z in fld.no_spray]))


#: A sprayed stretch needs at most 1/REFILL_GRAIN of the tank (and of the usable flight time): a refill can then
#: break a long pass where the tank runs dry instead of refusing the field or leaving most of a tank unused.
REFILL_GRAIN = 8


def _split_sprayed(piece: PathPiece, max_l: float, max_s: float, speed_m_s: float) -> PathPiece:
    """``piece`` with every spray segment longer than ``max_l`` litres or ``max_s`` seconds cut in equal parts."""
    if not piece.spray:
        return piece
    segs: list[SpraySegment] = []
    for sg in piece.spray:
        dur_s = sg.length_m / speed_m_s
        n = max(1, math.ceil(max(sg.flow_l_min * dur_s / 60.0 / max_l, dur_s / max_s) - 1e-9))
        if n == 1:
            segs.append(sg)
            continue
        pts = sg.start_m + np.linspace(0.0, 1.0, n + 1)[:, None] * (sg.end_m - sg.start_m)
        segs.extend(SpraySegment(a, b, sg.sections, sg.rate_l_ha, sg.flow_l_min)
                    for a, b in zip(pts[:-1], pts[1:], strict=True))
    return PathPiece(piece.points_m, piece.kind, tuple(segs))


def turn_reach_m(spacing_m: float, radius_m: float) -> float:
    """How far beyond a pass end a turn-around to the neighbouring pass reaches (m), plus half a boom."""
    path = turn_path(np.zeros(2), 0.0, np.array([0.0, spacing_m]), radius_m)
    return float(np.max(path[:, 0])) + spacing_m / 2


def plan_coverage(fld: Field, config: CoverageConfig, home_m: np.ndarray | None = None,
                  rate_zones: tuple[RateZone, ...] = ()) -> CoveragePlan:
    """Plan the spraying route over ``fld``; raises :class:`CoverageError` when the field cannot be covered."""
    w = config.swath_m
    bnd = fld.boundary
    minx, miny, maxx, maxy = bnd.bounds
    rect = bnd.minimum_rotated_rectangle
    xy = np.asarray(rect.exterior.coords)
    min_width = min(np.linalg.norm(xy[1] - xy[0]), np.linalg.norm(xy[2] - xy[1]))
    if w > min_width:
        raise CoverageError(f"swath width {w:g} m is wider than the field ({min_width:.1f} m at its narrowest)")
    margin = w / (2 * config.boom_sections) if config.zone_margin_m < 0 else config.zone_margin_m
    sprayable = _sprayable(fld, margin)
    n_laps, head = config.headland_laps, config.headland_width_m
    if config.turn_radius_m > 0 and config.headland_m < 0:
        # the turn-arounds run in the headland: make it (in whole sprayed laps) as deep as a turn reaches
        reach = turn_reach_m(w, config.turn_radius_m)
        n_laps = max(n_laps, math.ceil(reach / w - 1e-9))
        head = n_laps * w
    region = hl.interior(bnd, head)
    laps = hl.headland_laps(bnd, w, n_laps) if n_laps else []
    turn_cost = math.pi * max(w / 2, config.turn_radius_m) if config.turn_cost_m < 0 else config.turn_cost_m
    if region.is_empty or region.area < 0.5 * w * w:
        heading = 0.0
        swaths: list[Swath] = []
    else:
        heading = (math.radians(config.heading_deg) if config.heading_deg >= 0
                   else best_heading(region, w, turn_cost, config.heading_step_deg))
        swaths = swath_lines(region, heading, w)
    if not swaths and not laps:
        raise CoverageError(f"nothing to cover: field of {bnd.area:.1f} m² leaves no room for {w:g} m passes")
    cells = decompose(swaths) if config.decompose else ([swaths] if swaths else [])
    start = np.asarray(home_m, float) if home_m is not None else np.array([minx, miny])
    router = TransitRouter(bnd)
    pieces: list[PathPiece] = []
    pos = start.copy()

    fine: list[TransitRouter] = []

    def route(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        path = router.route(a, b)
        if len(path) == 2 and not inside(path, bnd) and bnd.covers(Point(a)) and bnd.covers(Point(b)):
            # a neck narrower than the coarse graph's margins: a finer graph, built only when needed
            if not fine:
                fine.append(TransitRouter(bnd, simplify_m=0.05, margin_m=0.01))
            path = fine[0].route(a, b)
        return path

    def transit_to(p: np.ndarray) -> None:
        nonlocal pos
        if np.linalg.norm(p - pos) > 1e-6:
            pieces.append(PathPiece(route(pos, p), "transit"))
        pos = p

    for ring in laps:
        pts = np.asarray(ring.coords)
        k = int(np.argmin(np.linalg.norm(pts - pos, axis=1)))  # enter the lap at its nearest vertex
        pts = np.vstack([pts[k:-1], pts[:k + 1]]) if len(pts) > 2 else pts
        transit_to(pts[0])
        segs: list[SpraySegment] = []
        for a, b in zip(pts[:-1], pts[1:], strict=True):
            segs.extend(segments_for_pass(a, b, sprayable, config.rate_l_ha, w, config.speed_m_s, rate_zones,
                                          config.boom_sections))
        pieces.append(PathPiece(pts, "lap", tuple(segs)))
        pos = pts[-1]
    def drive(cell_list: list[list[Swath]]) -> None:
        nonlocal pos
        for cell in order_cells(cell_list, pos):
            for i, sw in enumerate(cell):
                if i == 0:
                    transit_to(sw.start_m)
                else:
                    prev = cell[i - 1]
                    tp = turn_path(prev.end_m, prev.heading_rad, sw.start_m, config.turn_radius_m)
                    if config.turn_radius_m <= 0 and not inside(tp, bnd):
                        tp = route(prev.end_m, sw.start_m)  # a notch between the pass ends: go round it
                    pieces.append(PathPiece(tp, "turn"))
                segs = segments_for_pass(sw.start_m, sw.end_m, sprayable, config.rate_l_ha, w, config.speed_m_s,
                                         rate_zones, config.boom_sections)
                pieces.append(PathPiece(np.vstack([sw.start_m, sw.end_m]), "pass", tuple(segs)))
                pos = sw.end_m

    drive(cells)
    n_cells = len(cells)
    if config.fill_gaps:
        # what laps and passes missed (narrow necks, slivers between a hole's lap and the passes): cover
        # every gap larger than a swath square with passes of its own, at its own best heading
        probe = CoveragePlan(fld, config, heading, pieces, n_cells)
        target = _sprayable(fld, 0.0)
        missed = target.difference(shapely.union_all(spray_strips(probe), grid_size=1e-3))
        gaps = [g for g in getattr(missed, "geoms", [missed]) if isinstance(g, Polygon) and g.area > w * w]
        extra = []
        inner = bnd.buffer(-0.05)
        for gap in gaps:
            h = best_heading(gap, w, turn_cost, config.heading_step_deg)
            clipped = []
            for sw in swath_lines(gap, h, w, min_piece_m2=0.0):
                # a gap along the edge: keep the pass centre inside the field (its strip may not be)
                part = LineString([sw.start_m, sw.end_m]).intersection(inner)
                for ln in [part] if isinstance(part, LineString) else list(getattr(part, "geoms", [])):
                    if isinstance(ln, LineString) and ln.length > 0.5:
                        a, b = (np.asarray(c, float) for c in (ln.coords[0], ln.coords[-1]))
                        if np.dot(b - a, sw.end_m - sw.start_m) < 0:
                            a, b = b, a
                        clipped.append(Swath(a, b, sw.line, sw.heading_rad))
            extra.extend(decompose(clipped))
        if extra:
            drive(extra)
            n_cells += len(extra)
    if home_m is not None:
        transit_to(np.asarray(home_m, float))
    if config.tank_l > 0 or config.endurance_s > 0:
        usable_s = config.endurance_s * (1 - config.reserve_fraction) if config.endurance_s > 0 else math.inf
        pieces = [_split_sprayed(p, (config.tank_l or math.inf) / REFILL_GRAIN, usable_s / REFILL_GRAIN,
                                 config.speed_m_s) for p in pieces]
    plan = CoveragePlan(fld, config, heading, pieces, n_cells, home_m=None if home_m is None else start)
    if config.tank_l > 0 or config.endurance_s > 0:
        plan.refills = plan_refills(plan.legs(), start, config.speed_m_s, config.tank_l or math.inf,
                                    config.endurance_s or math.inf, config.reserve_fraction)
    plan.metrics = coverage_metrics(plan)
    return plan


def spray_strips(plan: CoveragePlan) -> list[BaseGeometry]:
    """Areas the boom sprays. Stretches with every section on are one joined strip (the boom turning at a
    lap corner sweeps round); stretches with some sections off give one rectangle per active section."""
    w, k = plan.config.swath_m, plan.config.boom_sections
    half = w / (2 * k)
    strips: list[BaseGeometry] = []
    for p in plan.pieces:
        run: list[np.ndarray] = []
        for s in [*(x for x in p.spray if x.length_m > 1e-6), None]:
            full = s is not None and all(s.sections)
            if full and run and np.linalg.norm(run[-1] - s.start_m) < 1e-6:
                run.append(s.end_m)
                continue
            if len(run) > 1:
                strips.append(LineString(run).buffer(w / 2, cap_style="flat", join_style="round"))
            run = [s.start_m, s.end_m] if full else []
            if s is not None and s.on and not full:
                d = (s.end_m - s.start_m) / s.length_m
                left = np.array([-d[1], d[0]])
                for i, on in enumerate(s.sections):
                    if on:
                        o = (-w / 2 + (i + 0.5) * w / k) * left
                        strips.append(LineString([s.start_m + o, s.end_m + o]).buffer(half, cap_style="flat"))
    return strips


def coverage_metrics(plan: CoveragePlan) -> dict[str, float]:
    """Covered share of the sprayable area, overlap and outside shares, path length, turns, refills."""
    fld = plan.field
    target = fld.boundary
    if fld.no_spray:
        target = target.difference(unary_union(list(fld.no_spray)))
    strips = spray_strips(plan)
    # a fixed 1 mm grid: GEOS' floating overlay silently drops pieces when many thin strips touch
    union = shapely.union_all(strips, grid_size=1e-3) if strips else Polygon()
    covered = union.intersection(target).area
    total = sum(s.intersection(fld.boundary).area for s in strips)
    inside_union = union.intersection(fld.boundary).area
    turns = [p for p in plan.pieces if p.kind == "turn"]
    outside_turns = sum(0 if inside(p.points_m, fld.boundary) else 1 for p in turns)
    length = sum(p.length_m for p in plan.pieces)
    sprayed = sum(s.length_m for p in plan.pieces for s in p.spray if s.on)
    return {
        "sprayable_area_m2": float(target.area),
        "covered_share": float(covered / target.area) if target.area > 0 else 0.0,
        "overlap_share": float((total - inside_union) / target.area) if target.area > 0 else 0.0,
        "outside_share": float(union.difference(fld.boundary).area / target.area) if target.area > 0 else 0.0,
        "path_length_m": float(length),
        "sprayed_length_m": float(sprayed),
        "turns": float(len(turns)),
        "turns_outside_boundary": float(outside_turns),
        "cells": float(plan.cells),
        "passes": float(sum(1 for p in plan.pieces if p.kind == "pass")),
        "refills": float(len(plan.refills)),
        "heading_deg": float(math.degrees(plan.heading_rad)),
    }
