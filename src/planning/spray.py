"""Spray on/off segments along the passes, with rates from a variable-rate prescription.

A pass is sprayed where its centre line lies in the sprayable area (the field minus no-spray zones grown
by a margin, typically half a swath so the boom edge stays out). Where a prescription zone covers the
pass, its rate applies (L/ha); elsewhere the default rate. The nozzle flow follows from rate, swath
width and ground speed: ``flow_l_min = rate_l_ha · width_m · speed_m_s · 60 / 10 000``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry

from sanqin.planning.errors import CoverageError


@dataclass(frozen=True)
class RateZone:
    """A prescription zone: polygon (local m) and application rate (L/ha)."""

    polygon: Polygon
    rate_l_ha: float


@dataclass(frozen=True)
class SpraySegment:
    """A stretch of a pass: start/end (m), which boom sections spray, rate (L/ha), total flow (L/min)."""

    start_m: np.ndarray
    end_m: np.ndarray
    sections: tuple[bool, ...]
    rate_l_ha: float = 0.0
    flow_l_min: float = 0.0

    @property
    def on(self) -> bool:
        """True when at least one section sprays."""
        return any(self.sections)

    @property
    def length_m(self) -> float:
        """Segment length, m."""
        return float(np.linalg.norm(self.end_m - self.start_m))


def flow_l_min(rate_l_ha: float, width_m: float, speed_m_s: float) -> float:
    """Total boom flow (L/min) to apply ``rate_l_ha`` over ``width_m`` at ``speed_m_s``."""
    return rate_l_ha * width_m * speed_m_s * 60.0 / 10_000.0


def _intervals(line: LineString, area: BaseGeometry) -> list[tuple[float, float]]:
    inter = line.intersection(area)
    parts = [inter] if isinstance(inter, LineString) else list(getattr(inter, "geoms", []))
    out = []
    for p in parts:
        if isinstance(p, LineString) and p.length > 1e-6:
            a, b = line.project(p.interpolate(0.0)), line.project(p.interpolate(1.0, normalized=True))
            out.append((min(a, b), max(a, b)))
    return sorted(out)


def segments_for_pass(start_m: np.ndarray, end_m: np.ndarray, sprayable: BaseGeometry, default_rate_l_ha: float,
                      width_m: float, speed_m_s: float, zones: tuple[RateZone, ...] = (), sections: int = 1,
                      min_length_m: float = 0.2) -> list[SpraySegment]:
    """Consecutive segments covering the pass from start to end, with each boom section's on/off state.

    Section ``i`` of ``sections`` runs parallel to the pass at lateral offset ``-w/2 + (i + ½)·w/sections``
    (left positive); it sprays where its own centre line lies in ``sprayable``.
    """
    if not (math.isfinite(default_rate_l_ha) and default_rate_l_ha >= 0):
        raise CoverageError(f"application rate must be finite and >= 0, got {default_rate_l_ha}")
    if sections < 1:
        raise CoverageError(f"a boom needs at least one section, got {sections}")
    a, b = np.asarray(start_m, float), np.asarray(end_m, float)
    length = float(np.linalg.norm(b - a))
    if length < 1e-9:
        return []
    d = (b - a) / length
    left = np.array([-d[1], d[0]])
    offsets = [-width_m / 2 + (i + 0.5) * width_m / sections for i in range(sections)]
    cuts = {0.0, length}
    sec_iv = []
    for o in offsets:
        iv = _intervals(LineString([a + o * left, b + o * left]), sprayable)
        sec_iv.append(iv)
        for lo, hi in iv:
            cuts.update((lo, hi))
    line = LineString([a, b])
    for z in zones:
        for lo, hi in _intervals(line, z.polygon):
            cuts.update((lo, hi))
    ts = sorted(cuts)
    raw: list[tuple[float, float, tuple[bool, ...], float]] = []
    for t0, t1 in zip(ts[:-1], ts[1:], strict=True):
        if t1 - t0 < 1e-6:
            continue
        mid = (t0 + t1) / 2
        state = tuple(any(lo - 1e-9 <= mid <= hi + 1e-9 for lo, hi in iv) for iv in sec_iv)
        rate = default_rate_l_ha
        p_mid = a + d * mid
        for z in zones:
            if z.polygon.covers(LineString([p_mid, p_mid + 1e-9])):
                rate = z.rate_l_ha
        raw.append((t0, t1, state, rate if any(state) else 0.0))
    merged: list[list] = []
    for t0, t1, state, rate in raw:
        if merged and (merged[-1][2] == state and abs(merged[-1][3] - rate) < 1e-9 or t1 - t0 < min_length_m):
            merged[-1][1] = t1  # same state, or a sliver shorter than a valve can switch: extend
        else:
            merged.append([t0, t1, state, rate])
    out = []
    for t0, t1, state, rate in merged:
        frac = sum(state) / sections
        out.append(SpraySegment(a + d * t0, a + d * t1, state, rate, flow_l_min(rate, width_m * frac, speed_m_s)))
    return out


def read_prescription(path: str, frame) -> tuple[RateZone, ...]:
    """Variable-rate zones from a GeoJSON file: polygon features with a ``rate_l_ha`` property (WGS84).

    ``frame`` is the field's :class:`~sanqin.planning.boundary.LocalFrame`; a missing/negative/non-numeric
    rate or a bad polygon raises :class:`CoverageError` naming the feature.
    """
    import json
    from pathlib import Path

    from sanqin.planning import boundary as bnd
    from sanqin.planning.errors import BoundaryError

    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise CoverageError(f"{path}: cannot read the prescription: {err}") from err
    feats = doc.get("features") if isinstance(doc, dict) and doc.get("type") == "FeatureCollection" else [doc]
    zones = []
    for i, f in enumerate(feats or []):
        where = f"{path}: feature {i}"
        props = (f or {}).get("properties") or {}
        try:
            rate = float(props.get("rate_l_ha"))
        except (TypeError, ValueError) as err:
            raise CoverageError(f"{where}: needs a numeric rate_l_ha property") from err
        if not (math.isfinite(rate) and rate >= 0):
            raise CoverageError(f"{where}: rate_l_ha must be finite and >= 0, got {rate}")
        try:
            for outer, holes in bnd._geojson_polygons((f or {}).get("geometry"), where):
                zones.append(RateZone(bnd._polygon_local(outer, holes, frame, where), rate))
        except BoundaryError as err:
            raise CoverageError(str(err)) from err
    if not zones:
        raise CoverageError(f"{path}: no prescription zones")
    return tuple(zones)
