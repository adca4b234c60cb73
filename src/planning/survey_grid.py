"""Survey grid for mapping: lawnmower lines over a polygon with frontal/side overlap at a GSD or altitude."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from shapely.geometry import Polygon

from sanqin.planning.boustrophedon import serpentine
from sanqin.planning.camera import Camera, line_spacing_m, trigger_distance_m
from sanqin.planning.errors import InspectionError
from sanqin.planning.swaths import Swath, best_heading, swath_lines


@dataclass(frozen=True)
class SurveyGrid:
    """Survey lines (list of (2, 3) start/end m ENU), their spacing, the trigger distance and altitude."""

    lines_m: list[np.ndarray]
    line_spacing_m: float
    trigger_distance_m: float
    altitude_m: float
    heading_rad: float


def survey_grid(area: Polygon, altitude_m: float, camera: Camera | None = None, frontal_overlap: float = 0.75,
                side_overlap: float = 0.65, heading_deg: float | None = None, turn_cost_m: float = 50.0
                ) -> SurveyGrid:
    """A mapping grid over ``area`` (local m) at ``altitude_m`` above ground; heading optimized if not given."""
    if area.is_empty or area.area <= 0:
        raise InspectionError("survey area is empty")
    if not (math.isfinite(altitude_m) and altitude_m > 0):
        raise InspectionError(f"altitude must be positive, got {altitude_m}")
    cam = camera or Camera()
    spacing = line_spacing_m(cam, altitude_m, side_overlap)
    trig = trigger_distance_m(cam, altitude_m, frontal_overlap)
    heading = math.radians(heading_deg) if heading_deg is not None else best_heading(area, spacing, turn_cost_m)
    sw = swath_lines(area, heading, spacing, min_piece_m2=0.0)
    if not sw:
        raise InspectionError("the survey area is too small for one line")
    # mapping flies every line end to end (photos over gaps do no harm): one cell, serpentine
    first: dict[int, np.ndarray] = {}
    last: dict[int, np.ndarray] = {}
    for s in sw:  # pieces of a line come ordered along it
        first.setdefault(s.line, s.start_m)
        last[s.line] = s.end_m
    lines = [Swath(first[k], last[k], k, heading) for k in sorted(first)]
    ordered = serpentine(lines, False, False)
    out = [np.array([[*s.start_m, altitude_m], [*s.end_m, altitude_m]]) for s in ordered]
    return SurveyGrid(out, spacing, trig, altitude_m, heading)
