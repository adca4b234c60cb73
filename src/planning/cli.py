"""``sanqin plan``: coverage and inspection planning from files, writing plan JSON, QGC ``.plan`` and PNG.

    sanqin plan coverage --boundary field.geojson --swath-m 6 --out plan.json --out plan.plan --out plan.png
    sanqin plan inspect corridor --line line.geojson --alt-m 40 --offsets-m -20 20 --out corridor.plan
    sanqin plan inspect structure --center 52.0 5.0 --radius-m 2 --standoff-m 10 --bottom-m 5 --top-m 40 --out s.plan
    sanqin plan inspect survey --boundary area.kml --alt-m 80 --out survey.plan --out survey.png

Outputs by suffix: ``.json`` (the plan: metrics, mission items per sortie, route in lat/lon), ``.plan``
(QGroundControl, through :mod:`sanqin.uav_bridge.plan_file`; extra sorties go to ``<stem>_sortie<k>.plan``),
``.png`` (the plan over its field). Errors in the input print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sanqin.common.errors import SanqinError
from sanqin.common.mission import MissionItem
from sanqin.planning import boundary as bnd
from sanqin.planning import coverage as cv
from sanqin.planning import missions as ms
from sanqin.planning.camera import Camera
from sanqin.planning.errors import PlanningError
from sanqin.runtime.config import load_config

EXIT_OK, EXIT_ERROR = 0, 2


def _camera_args(p: argparse.ArgumentParser) -> None:
    c = Camera()
    p.add_argument("--sensor-mm", type=float, nargs=2, default=(c.sensor_width_mm, c.sensor_height_mm),
                   metavar=("W", "H"), help="sensor size (mm)")
    p.add_argument("--image-px", type=int, nargs=2, default=(c.image_width_px, c.image_height_px),
                   metavar=("W", "H"), help="image size (px)")
    p.add_argument("--focal-mm", type=float, default=c.focal_length_mm, help="focal length (mm)")
    p.add_argument("--frontal", type=float, default=0.7, help="frontal overlap (0..1)")


def _camera(a: argparse.Namespace) -> Camera:
    return Camera(a.sensor_mm[0], a.sensor_mm[1], a.image_px[0], a.image_px[1], a.focal_mm)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``sanqin plan``."""
    ap = argparse.ArgumentParser(prog="sanqin plan", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("coverage", help="spraying coverage plan over a field boundary")
    c.add_argument("--boundary", required=True, help="GeoJSON, KML, GML or QGC .plan file")
    c.add_argument("--field-index", type=int, default=0, help="which field of the file")
    sw = c.add_mutually_exclusive_group(required=True)
    sw.add_argument("--swath-m", type=float, help="swath width (m)")
    sw.add_argument("--boom", type=float, nargs=2, metavar=("NOZZLES", "SPACING_M"),
                    help="swath from the boom: nozzle count and spacing (m)")
    c.add_argument("--boom-overlap", type=float, default=0.0, help="wanted pass-to-pass overlap (0..1) with --boom")
    c.add_argument("--sections", type=int, default=1, help="independently switched boom sections")
    c.add_argument("--headland-laps", type=int, default=1)
    c.add_argument("--turn-radius-m", type=float, default=0.0)
    c.add_argument("--heading-deg", type=float, default=-1.0, help="pass heading (CCW from east); -1 = optimize")
    c.add_argument("--rate-l-ha", type=float, default=20.0, help="default application rate (L/ha)")
    c.add_argument("--prescription", help="variable-rate zones: GeoJSON polygons with a rate_l_ha property")
    c.add_argument("--speed-m-s", type=float, default=5.0)
    c.add_argument("--tank-l", type=float, default=0.0)
    c.add_argument("--endurance-s", type=float, default=0.0)
    c.add_argument("--alt-m", type=float, default=3.0, help="spraying height above ground (m)")
    c.add_argument("--home", type=float, nargs=2, metavar=("LAT", "LON"), help="take-off/refill point")
    c.add_argument("--fence-margin-m", type=float, default=15.0,
                   help=".plan inclusion fence: hull of the field and the take-off point, this much wider (m)")
    c.add_argument("--sprayer", choices=("sprayer", "servo"), default="sprayer",
                   help="DO_SPRAYER on/off, or DO_SET_SERVO per boom section (outputs 9, 10, …)")
    c.add_argument("--pump-servo", type=int, default=0,
                   help="servo output of the pump (PWM follows the rate); 0 = none")
    c.add_argument("--out", action="append", required=True, help="output file(s): .json, .plan, .png")
    i = sub.add_parser("inspect", help="inspection patterns for drones")
    isub = i.add_subparsers(dest="pattern", required=True)
    co = isub.add_parser("corridor", help="corridor scan along a line (GeoJSON LineString)")
    co.add_argument("--line", required=True)
    co.add_argument("--alt-m", type=float, required=True)
    co.add_argument("--offsets-m", type=float, nargs="+", default=[0.0])
    co.add_argument("--line-height-m", type=float, default=0.0)
    st = isub.add_parser("structure", help="orbit layers around a tower")
    st.add_argument("--center", type=float, nargs=2, required=True, metavar=("LAT", "LON"))
    st.add_argument("--radius-m", type=float, required=True)
    st.add_argument("--standoff-m", type=float, required=True)
    st.add_argument("--bottom-m", type=float, required=True)
    st.add_argument("--top-m", type=float, required=True)
    st.add_argument("--side", type=float, default=0.6, help="side overlap (0..1)")
    sv = isub.add_parser("survey", help="mapping grid over a boundary")
    sv.add_argument("--boundary", required=True)
    sv.add_argument("--field-index", type=int, default=0)
    g = sv.add_mutually_exclusive_group(required=True)
    g.add_argument("--alt-m", type=float)
    g.add_argument("--gsd-cm", type=float, help="ground sample distance (cm/px): sets the altitude")
    sv.add_argument("--side", type=float, default=0.65, help="side overlap (0..1)")
    for p in (co, st, sv):
        _camera_args(p)
        p.add_argument("--speed-m-s", type=float, default=6.0)
        p.add_argument("--out", action="append", required=True, help="output file(s): .json, .plan, .png")
    return ap


def _item_dict(i: MissionItem) -> dict[str, Any]:
    return {"command": i.command, "frame": i.frame, "lat_deg": i.latitude_deg, "lon_deg": i.longitude_deg,
            "alt_m": i.altitude_m, "params": [None if not math.isfinite(v) else v for v in i.params]}


def _write_plan_files(path: Path, sorties: list[list[MissionItem]], home: tuple[float, float] | None,
                      fence: list[tuple[float, float]] | None, speed: float) -> list[Path]:
    from sanqin.uav_bridge.mission_items import FencePolygon
    from sanqin.uav_bridge.plan_file import Plan, write_plan

    written = []
    for k, items in enumerate(sorties):
        p = path if k == 0 else path.with_name(f"{path.stem}_sortie{k + 1}{path.suffix}")
        fences = [FencePolygon(tuple(fence), True)] if fence else []
        plan = Plan(list(items), fences, [], [], (home[0], home[1], 0.0) if home else None, speed, speed)
        write_plan(plan, p)
        written.append(p)
    return written


def _coverage(a: argparse.Namespace) -> int:
    fld = bnd.read_field(a.boundary, a.field_index)
    if a.boom is not None:
        from sanqin.planning.swaths import boom_swath_width

        if a.boom[0] != int(a.boom[0]):
            raise PlanningError(f"nozzle count must be a whole number, got {a.boom[0]}")
        a.swath_m = boom_swath_width(int(a.boom[0]), a.boom[1], a.boom_overlap)
    cfg = load_config(cv.CoverageConfig, {
        "swath_m": a.swath_m, "boom_sections": a.sections, "headland_laps": a.headland_laps,
        "turn_radius_m": a.turn_radius_m, "heading_deg": a.heading_deg, "rate_l_ha": a.rate_l_ha,
        "speed_m_s": a.speed_m_s, "tank_l": a.tank_l, "endurance_s": a.endurance_s}, where="sanqin plan coverage")
    if a.home and not (all(math.isfinite(v) for v in a.home) and abs(a.home[0]) <= 90 and abs(a.home[1]) <= 180):
        raise PlanningError(f"--home {a.home[0]} {a.home[1]} is not a WGS84 latitude/longitude")
    if not (math.isfinite(a.fence_margin_m) and a.fence_margin_m > 0):
        raise PlanningError(f"--fence-margin-m must be positive, got {a.fence_margin_m}")
    home_m = fld.frame.to_local(np.array([a.home[1]]), np.array([a.home[0]]))[0] if a.home else None
    zones = ()
    if a.prescription:
        from sanqin.planning.spray import read_prescription

        zones = read_prescription(a.prescription, fld.frame)
    plan = cv.plan_coverage(fld, cfg, home_m=home_m, rate_zones=zones)
    sorties = ms.coverage_sorties(plan, a.alt_m, ms.SprayerOutput(a.sprayer, pump_servo=a.pump_servo))
    m = plan.metrics
    print(f"{fld.name or a.boundary}: {fld.area_m2 / 1e4:.2f} ha, heading {m['heading_deg']:.1f}°, "
          f"{m['passes']:.0f} passes in {m['cells']:.0f} cells, {m['turns']:.0f} turns, "
          f"{m['path_length_m'] / 1000:.2f} km, covered {m['covered_share'] * 100:.2f} %, "
          f"overlap {m['overlap_share'] * 100:.1f} %, {len(sorties)} sortie(s)")
    from sanqin.uav_bridge.spray_plan import fence_for

    # the take-off/refill point and every straight return to it must lie inside the fence (the bare field outline
    # put a take-off point outside the field in breach)
    start = home_m if home_m is not None else (plan.pieces[0].points_m[0] if plan.pieces else None)
    outline = list(fence_for(fld, start, a.fence_margin_m)[0].vertices)
    for out in a.out:
        p = Path(out)
        if p.suffix == ".png":
            from sanqin.planning.plot import plot_coverage

            plot_coverage(plan, p)
        elif p.suffix == ".plan":
            home = tuple(a.home) if a.home else None
            for w in _write_plan_files(p, sorties, home, outline, cfg.speed_m_s):
                print(f"wrote {w}")
            continue
        elif p.suffix == ".json":
            route = [fld.frame.to_geo(piece.points_m).tolist() for piece in plan.pieces]
            doc = {"format": "sanqin.coverage_plan", "version": 1, "field": fld.name, "metrics": m,
                   "config": {k: getattr(cfg, k) for k in cfg.__dataclass_fields__},
                   "route_lat_lon": route, "kinds": [piece.kind for piece in plan.pieces],
                   "sorties": [[_item_dict(i) for i in s] for s in sorties]}
            p.write_text(json.dumps(doc, indent=1), encoding="utf-8")
        else:
            raise PlanningError(f"unknown output type {p.suffix!r} (use .json, .plan or .png)")
        print(f"wrote {p}")
    return EXIT_OK


def _read_line(path: str) -> list[tuple[float, float]]:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise PlanningError(f"{path}: cannot read a GeoJSON line: {err}") from err
    if not isinstance(doc, dict):
        raise PlanningError(f"{path}: expected a GeoJSON object, got {type(doc).__name__}")
    if doc.get("type") == "FeatureCollection":
        feats = doc.get("features")
        first = feats[0] if isinstance(feats, list) and feats else None
        geom = first.get("geometry") if isinstance(first, dict) else None
    else:
        geom = doc.get("geometry", doc)
    if not isinstance(geom, dict) or geom.get("type") != "LineString":
        raise PlanningError(f"{path}: expected a GeoJSON LineString")
    try:
        pts = [(float(c[0]), float(c[1])) for c in geom.get("coordinates") or []]
    except (TypeError, ValueError, IndexError) as err:
        raise PlanningError(f"{path}: coordinates are not number pairs") from err
    if len(pts) < 2 or not all(math.isfinite(x) and math.isfinite(y) and abs(y) <= 90 and abs(x) <= 180
                               for x, y in pts):
        raise PlanningError(f"{path}: need at least two valid lon/lat positions")
    return pts


def _inspect(a: argparse.Namespace) -> int:
    cam = _camera(a)
    outline: list[np.ndarray] = []
    triggers = None
    if a.pattern == "corridor":
        from sanqin.planning.corridor_scan import corridor_scan

        lonlat = np.array(_read_line(a.line))
        frame = bnd.LocalFrame(float(lonlat[:, 1].mean()), float(lonlat[:, 0].mean()))
        line = frame.to_local(lonlat[:, 0], lonlat[:, 1])
        passes = corridor_scan(line, a.alt_m, tuple(a.offsets_m), cam, a.frontal, a.line_height_m)
        wp = np.vstack([p.waypoints_m for p in passes])
        pitch = np.concatenate([np.full(len(p.waypoints_m), p.gimbal_pitch_deg) for p in passes])
        gyaw = np.concatenate([np.full(len(p.waypoints_m), p.gimbal_yaw_deg) for p in passes])
        trig = min(p.trigger_distance_m for p in passes)  # the nearest pass needs the densest photos
        items = ms.inspection_items(frame, wp, trigger_distance_m=trig, gimbal_pitch_deg=pitch,
                                    gimbal_yaw_deg=gyaw, speed_m_s=a.speed_m_s, takeoff_alt_m=a.alt_m)
        outline = [line]
        summary = f"{len(passes)} passes, {len(wp)} waypoints, trigger every {trig:.1f} m"
    elif a.pattern == "structure":
        from sanqin.planning.structure_scan import structure_scan

        frame = bnd.LocalFrame(a.center[0], a.center[1])
        pts = structure_scan((0.0, 0.0), a.radius_m, a.standoff_m, a.bottom_m, a.top_m, cam, a.frontal, a.side)
        wp = np.array([p.position_m for p in pts])
        items = ms.inspection_items(frame, wp, gimbal_pitch_deg=np.array([p.gimbal_pitch_deg for p in pts]),
                                    yaw_rad=np.array([p.yaw_rad for p in pts]), speed_m_s=a.speed_m_s,
                                    takeoff_alt_m=a.bottom_m, photo_each_waypoint=True)
        triggers = wp
        outline = [np.array([[a.radius_m * math.cos(t), a.radius_m * math.sin(t)]
                             for t in np.linspace(0, 2 * math.pi, 60)])]
        summary = f"{len({p.layer for p in pts})} layers, {len(pts)} photo stations"
    else:
        from sanqin.planning.survey_grid import survey_grid

        fld = bnd.read_field(a.boundary, a.field_index)
        frame = fld.frame
        alt = a.alt_m if a.alt_m is not None else cam.distance_for_gsd(a.gsd_cm / 100.0)
        grid = survey_grid(fld.boundary, alt, cam, a.frontal, a.side)
        wp = np.vstack(grid.lines_m)
        items = ms.inspection_items(frame, wp, trigger_distance_m=grid.trigger_distance_m, gimbal_pitch_deg=-90.0,
                                    speed_m_s=a.speed_m_s, takeoff_alt_m=alt)
        outline = [np.asarray(fld.boundary.exterior.coords)]
        summary = (f"{len(grid.lines_m)} lines {grid.line_spacing_m:.1f} m apart at {alt:.1f} m, "
                   f"trigger every {grid.trigger_distance_m:.1f} m")
    print(f"{a.pattern}: {summary}, {len(items)} mission items")
    for out in a.out:
        p = Path(out)
        if p.suffix == ".png":
            from sanqin.planning.plot import plot_inspection

            plot_inspection(wp, p, triggers_m=triggers, outline_m=outline, title=f"{a.pattern}: {summary}")
        elif p.suffix == ".plan":
            _write_plan_files(p, [items], None, None, a.speed_m_s)
        elif p.suffix == ".json":
            doc = {"format": f"sanqin.inspection_plan.{a.pattern}", "version": 1,
                   "waypoints_lat_lon_alt": [[*frame.to_geo(w[:2])[0], w[2]] for w in wp],
                   "mission": [_item_dict(i) for i in items]}
            p.write_text(json.dumps(doc, indent=1), encoding="utf-8")
        else:
            raise PlanningError(f"unknown output type {p.suffix!r} (use .json, .plan or .png)")
        print(f"wrote {p}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``sanqin plan``; returns the exit status (2 with a one-line message on bad input)."""
    args = build_parser().parse_args(list(argv) if argv is not None else None)
    try:
        return _coverage(args) if args.command == "coverage" else _inspect(args)
    except SanqinError as err:
        print(f"sanqin plan: error: {err}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    raise SystemExit(main())
