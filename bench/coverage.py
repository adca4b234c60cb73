"""Coverage planning on real parcels: our planner against a fixed-heading baseline (and fields2cover if present).

Run: ``.venv/bin/python bench/coverage.py [--swath-m 6] [--limit N]``

Fields: the Dutch (53) and Danish (100) parcels in ``/work/shared/data/fields`` of at least 1 ha, grouped
convex / concave / with holes; every third field also gets a no-spray zone (a 10 m disc at an interior
point). Both planners use the same machinery (headland lap, boustrophedon cells, 6 boom sections,
turn-arounds inside the boundary); the baseline flies every field east-west (heading 0°), ours picks the
heading that minimizes path length plus turn cost. Reported per group and overall: covered share of the
sprayable area, overlap, path length, turns and planning time; the last line states the headline.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from shapely.geometry import Point

from sanqin.planning import boundary as bnd
from sanqin.planning import coverage as cv
from sanqin.planning.errors import CoverageError

DATA = Path("/work/shared/data/fields")


def fields(min_area_m2: float) -> list[tuple[str, bnd.Field]]:
    """(group, field) for the real parcels, with a no-spray disc on every third one."""
    out = []
    files = ("nl_brp_2023_53fields.geojson", "dk_marker_2026_100fields.geojson")
    all_fields = [f for name in files for f in bnd.read_fields(DATA / name)]
    for i, f in enumerate(all_fields):
        if f.area_m2 < min_area_m2:
            continue
        group = "holes" if f.boundary.interiors else ("convex" if f.properties.get("convex") else "concave")
        if i % 3 == 0:
            c = f.boundary.buffer(-15).representative_point() if not f.boundary.buffer(-15).is_empty else None
            if c is not None and not c.is_empty:
                f = bnd.Field(f.boundary, (Point(c.x, c.y).buffer(10.0),), f.frame, f.name, f.properties)
                group += "+zone"
        out.append((group, f))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--swath-m", type=float, default=6.0)
    ap.add_argument("--sections", type=int, default=6)
    ap.add_argument("--min-area-ha", type=float, default=1.0)
    ap.add_argument("--limit", type=int, default=0, help="at most this many fields (0 = all)")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {1})
        except OSError:
            pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores (pinned to core 1), load average {load:.2f}; "
          f"Python {sys.version.split()[0]}; shared with other developers, so times are indicative")
    f2c = importlib.util.find_spec("fields2cover") is not None
    print("fields2cover: " + ("installed, compared below" if f2c else
          "not installed (PyPI ships only the 2.1.0 sdist; its CMake build needs GDAL >= 3.0 development files, "
          "absent here) — no comparison"))
    items = fields(args.min_area_ha * 1e4)
    if args.limit:
        items = items[: args.limit]
    ours_cfg = cv.CoverageConfig(swath_m=args.swath_m, boom_sections=args.sections)
    base_cfg = cv.CoverageConfig(swath_m=args.swath_m, boom_sections=args.sections, heading_deg=0.0)
    rows: dict[str, list[tuple[dict, dict, float, float]]] = {}
    failed = []
    for group, f in items:
        try:
            t0 = time.perf_counter()
            ours = cv.plan_coverage(f, ours_cfg).metrics
            t1 = time.perf_counter()
            base = cv.plan_coverage(f, base_cfg).metrics
            t2 = time.perf_counter()
        except CoverageError as err:
            failed.append(f"{f.name}: {err}")
            continue
        rows.setdefault(group, []).append((ours, base, t1 - t0, t2 - t1))
    print(f"{sum(len(v) for v in rows.values())} fields >= {args.min_area_ha:g} ha, swath {args.swath_m:g} m, "
          f"{args.sections} boom sections; {len(failed)} not plannable")
    for line in failed:
        print(f"  skipped {line}")
    hdr = (f"{'group':<14}{'n':>4}  {'covered % (min/mean)':>22}  {'overlap %':>10}  {'path km':>16}  "
           f"{'turns':>14}  {'plan s':>7}")
    print(hdr)
    print(f"{'':<18}{'ours':>11} {'base':>10}  {'ours/base':>10}  {'ours / base':>16}  {'ours / base':>14}")
    all_rows = []
    for group in sorted(rows):
        r = rows[group]
        all_rows.extend(r)
        cov_o = [o["covered_share"] * 100 for o, _, _, _ in r]
        cov_b = [b["covered_share"] * 100 for _, b, _, _ in r]
        ov_o = statistics.mean(o["overlap_share"] * 100 for o, _, _, _ in r)
        ov_b = statistics.mean(b["overlap_share"] * 100 for _, b, _, _ in r)
        len_o = sum(o["path_length_m"] for o, _, _, _ in r) / 1000
        len_b = sum(b["path_length_m"] for _, b, _, _ in r) / 1000
        tu_o = sum(o["turns"] for o, _, _, _ in r)
        tu_b = sum(b["turns"] for _, b, _, _ in r)
        tp = statistics.mean(t for _, _, t, _ in r)
        print(f"{group:<14}{len(r):>4}  {min(cov_o):6.2f}/{statistics.mean(cov_o):6.2f} {min(cov_b):6.2f}/"
              f"{statistics.mean(cov_b):6.2f}  {ov_o:4.1f}/{ov_b:4.1f}  {len_o:7.1f} / {len_b:6.1f}  "
              f"{tu_o:6.0f} / {tu_b:5.0f}  {tp:7.2f}")
    cov = [o["covered_share"] for o, _, _, _ in all_rows]
    len_ratio = sum(o["path_length_m"] for o, _, _, _ in all_rows) / sum(b["path_length_m"] for _, b, _, _ in all_rows)
    turn_ratio = sum(o["turns"] for o, _, _, _ in all_rows) / max(sum(b["turns"] for _, b, _, _ in all_rows), 1)
    outside = sum(o["turns_outside_boundary"] for o, _, _, _ in all_rows)
    print(f"turn-arounds leaving the boundary (ours): {outside:.0f}")
    print(f"HEADLINE {len(all_rows)} real fields: covered {np.min(cov) * 100:.2f} % min / "
          f"{np.mean(cov) * 100:.2f} % mean of the sprayable area; vs fixed heading: path length x{len_ratio:.3f}, "
          f"turns x{turn_ratio:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
