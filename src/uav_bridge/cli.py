"""``sanqin uav …``: field tools for inspection and crop-spraying drones.

    sanqin uav plan spray --field FIELD.geojson [--feature N] --spacing 6 --alt 4 [--home LAT,LON] [--tank-l 10]
                          -o field.plan --png field.png      the coverage planner; one .plan per sortie
    sanqin uav plan corridor --line LINE.geojson --photo-every 20 --alt 30 -o line.plan --png line.png
    sanqin uav validate PLAN [--png PLAN.png]            exit 1 when the plan is unusable or leaves its fence
    sanqin uav upload PLAN --connect URL                 fence, rally points, mission (with progress)
    sanqin uav download --connect URL -o PLAN            mission, fence and rally points into a .plan
    sanqin uav fly PLAN --connect URL                    upload, pre-flight checks, arm, start, follow to landing
    sanqin uav monitor --connect URL [--duration S]      one status line per second

Exit status: 0 success, 1 a refusal or failed check (the reason is printed), 2 bad usage or input files.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sanqin.common.errors import SanqinError
from sanqin.common.mission import MissionItem
from sanqin.uav_bridge.bridge import Bridge, BridgeOptions
from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.errors import PlanFileError, UavBridgeError
from sanqin.uav_bridge.executive import ExecutiveOptions, MissionExecutive
from sanqin.uav_bridge.geo import GeoOrigin
from sanqin.uav_bridge.mission_items import GLOBAL_FRAMES, NAV_COMMANDS, FencePolygon, fence_shapes
from sanqin.uav_bridge.operation import Operation
from sanqin.uav_bridge.payload import corridor_mission, spray_segments
from sanqin.uav_bridge.plan_file import Plan, read_plan, write_plan
from sanqin.uav_bridge.preflight import PreflightLimits, mission_fence_violations, return_leg_violations

OUT = sys.stdout


def _say(text: str) -> None:
    print(text, file=OUT, flush=True)


# --- planning helpers ---------------------------------------------------------------------------
def _fence_around(points: Sequence[tuple[float, float]], margin_m: float) -> FencePolygon:
    from shapely.geometry import LineString, MultiPoint

    o = GeoOrigin(*points[0])
    xy = [o.to_enu(*p)[:2] for p in points]
    geom = LineString(xy) if len(xy) > 1 else MultiPoint(xy)
    hull = geom.buffer(margin_m, join_style=2).simplify(1.0)
    return FencePolygon(tuple(o.to_geodetic(x, y)[:2] for x, y in hull.exterior.coords[:-1]))


# --- rendering ----------------------------------------------------------------------------------
def render_plan(plan: Plan, path: str | Path, title: str = "") -> Path:
    """A PNG top view of a plan: the route (sprayed legs thick), photo legs, fence, rally points, start."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nav = [(i, it) for i, it in enumerate(plan.mission) if it.command in NAV_COMMANDS and it.frame in GLOBAL_FRAMES
           and (it.latitude_deg, it.longitude_deg) != (0.0, 0.0)]
    if plan.planned_home:
        ref = plan.planned_home[:2]
    elif nav:
        ref = (nav[0][1].latitude_deg, nav[0][1].longitude_deg)
    else:
        ref = plan.fence_polygons[0].vertices[0] if plan.fence_polygons else (0.0, 0.0)
    o = GeoOrigin(*ref)
    fig, ax = plt.subplots(figsize=(7, 7))
    for poly in plan.fence_polygons:
        pts = [o.to_enu(*v)[:2] for v in poly.vertices]
        pts.append(pts[0])
        ax.plot(*zip(*pts), color="red" if poly.inclusion else "black", lw=1.5,
                label="fence (inclusion)" if poly.inclusion else "fence (exclusion)")
    for c in plan.fence_circles:
        e, n, _ = o.to_enu(c.latitude_deg, c.longitude_deg)
        ax.add_patch(plt.Circle((e, n), c.radius_m, fill=False, color="red" if c.inclusion else "black"))
    xy = {i: o.to_enu(it.latitude_deg, it.longitude_deg)[:2] for i, it in nav}
    if nav:
        ax.plot([xy[i][0] for i, _ in nav], [xy[i][1] for i, _ in nav], color="#777777", lw=1, label="route")
        ax.scatter([xy[i][0] for i, _ in nav], [xy[i][1] for i, _ in nav], s=8, color="#555555", zorder=3)
    for k, (a, b) in enumerate(spray_segments(plan.mission)):
        if a in xy and b in xy:
            ax.plot([xy[a][0], xy[b][0]], [xy[a][1], xy[b][1]], color="tab:blue", lw=3,
                    label="spray on" if k == 0 else None)
    trig, last = 0.0, None
    for i, it in enumerate(plan.mission):
        if it.command == mavlink.MAV_CMD_DO_SET_CAM_TRIGG_DIST:
            trig = it.params[0]
        elif i in xy:
            if trig > 0 and last is not None:
                ax.plot([xy[last][0], xy[i][0]], [xy[last][1], xy[i][1]], color="tab:orange", lw=2.5,
                        label=f"photo every {trig:g} m")
            last = i
    for lat, lon, _alt in plan.rally_points:
        e, n, _ = o.to_enu(lat, lon)
        ax.scatter([e], [n], marker="^", s=80, color="green", label="rally point", zorder=4)
    ax.scatter([0.0], [0.0], marker="*", s=150, color="k", label="home / start", zorder=5)
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles))
    ax.legend(uniq.values(), uniq.keys(), fontsize=8, loc="best")
    ax.set_aspect("equal")
    ax.set_xlabel("east (m)")
    ax.set_ylabel("north (m)")
    ax.set_title(title or f"{len(plan.mission)} mission items")
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


# --- link helpers -------------------------------------------------------------------------------
def _open(args: argparse.Namespace) -> Bridge:
    opts = BridgeOptions(role="gcs", system_id=args.gcs_sysid, vehicles=(args.sysid,),
                         signing_key_file=args.signing_key or "", tlog_path=args.tlog or "")
    bridge = Bridge.open(args.connect, opts)
    _say(f"connecting to {args.connect} (vehicle system id {args.sysid}) …")
    return bridge


def _progress(op: Operation[Any], state: dict[str, Any]) -> None:
    pct = int(op.progress * 100)
    if pct >= state.get("last", -10) + 10 or (op.done and state.get("last") != 100):
        state["last"] = pct
        _say(f"  {op.name}: {pct:3d} %")


def _run(bridge: Bridge, op: Operation[Any], timeout_s: float = 60.0) -> Any:
    state: dict[str, Any] = {}
    return bridge.run(op, timeout_s, on_progress=lambda o: _progress(o, state))


def _upload(bridge: Bridge, plan: Plan) -> None:
    v = bridge.vehicle(None)
    for items, mt, what in ((plan.fence_items(), mavlink.MAV_MISSION_TYPE_FENCE, "fence"),
                            (plan.rally_items(), mavlink.MAV_MISSION_TYPE_RALLY, "rally points"),
                            (plan.mission, mavlink.MAV_MISSION_TYPE_MISSION, "mission")):
        n = _run(bridge, v.upload(items, mt))
        _say(f"{what}: {n} items uploaded")


# --- commands -----------------------------------------------------------------------------------
def cmd_plan(args: argparse.Namespace) -> int:
    """Build a spraying or corridor plan from a boundary or line file."""
    if args.kind == "spray":
        return _plan_spray(args)
    else:
        lines = _read_line(args.line)
        items = corridor_mission(lines, alt_m=args.alt, photo_spacing_m=args.photo_every, speed_m_s=args.speed,
                                 gimbal_pitch_deg=args.gimbal_pitch)
        # the fence covers the line and, from the take-off point, the legs out to its start and back from its end
        fence = _fence_around(([tuple(args.home)] if args.home else []) + lines + ([tuple(args.home)] if args.home
                                                                                    else []), args.fence_margin)
        plan = Plan(items, [fence], [], [], (args.home[0], args.home[1], 0.0) if args.home else None,
                    args.speed, args.speed)
        _say(f"corridor of {len(lines)} points, a photo every {args.photo_every:g} m, {len(items)} items")
    return _write_plans([plan], args.output, args.png)


def _sortie_path(path: str | Path, k: int) -> Path:
    p = Path(path)
    return p if k == 0 else p.with_name(f"{p.stem}_sortie{k + 1}{p.suffix}")


def _write_plans(plans: Sequence[Plan], output: str, png: str | None) -> int:
    """Check each plan as pre-flight will (from its planned home), then write it and its PNG; nothing is
    written when one would be refused."""
    bad = False
    for k, plan in enumerate(plans):
        for problem in plan_problems(plan):
            _say(f"  problem{f' (sortie {k + 1})' if len(plans) > 1 else ''}: {problem}")
            bad = True
    if bad:
        _say("INVALID: nothing written (the plan would be refused before arming)")
        return 1
    for k, plan in enumerate(plans):
        out = _sortie_path(output, k)
        write_plan(plan, out)
        _say(f"wrote {out}")
        if png:
            title = out.name + (f" (sortie {k + 1} of {len(plans)})" if len(plans) > 1 else "")
            _say(f"wrote {render_plan(plan, _sortie_path(png, k), title)}")
    return 0


def _plan_spray(args: argparse.Namespace) -> int:
    """A spraying plan from the coverage planner (headland laps, best pass heading, no-spray zones, refills)."""
    from sanqin.planning.boundary import read_field
    from sanqin.uav_bridge.spray_plan import SprayPlanOptions, plan_spray

    fld = read_field(args.field, args.feature)
    opts = SprayPlanOptions(
        swath_m=args.spacing, alt_m=args.alt, speed_m_s=args.speed, headland_laps=args.headland_laps,
        heading_deg=args.heading, rate_l_ha=args.rate_l_ha, sections=args.sections, tank_l=args.tank_l,
        endurance_s=args.endurance_s, method=args.spray_method, pump_servo=args.pump_servo,
        fence_margin_m=args.fence_margin)
    sp = plan_spray(fld, opts, tuple(args.home) if args.home else None)
    m = sp.metrics
    _say(f"{fld.name or args.field}: {fld.area_m2 / 1e4:.2f} ha, {len(fld.no_spray)} no-spray zone(s); "
         f"{m['passes']:.0f} passes at {m['heading_deg']:.1f}° in {m['cells']:.0f} cell(s), "
         f"{args.headland_laps} headland lap(s), {m['path_length_m'] / 1000:.2f} km, "
         f"covered {m['covered_share'] * 100:.1f} %, {len(sp.plans)} sortie(s), "
         f"{sum(len(p.mission) for p in sp.plans)} mission items")
    return _write_plans(sp.plans, args.output, args.png)


def _read_line(path: str) -> list[tuple[float, float]]:
    import json

    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise PlanFileError(f"{path}: cannot read a GeoJSON line: {err}") from err
    if not isinstance(doc, dict):
        raise PlanFileError(f"{path}: expected a GeoJSON object, got {type(doc).__name__}")
    geom: Any = doc
    if doc.get("type") == "FeatureCollection":
        feats = doc.get("features")
        first = feats[0] if isinstance(feats, list) and feats else None
        geom = first.get("geometry", {}) if isinstance(first, dict) else {}
    elif doc.get("type") == "Feature":
        geom = doc.get("geometry", {})
    if not isinstance(geom, dict) or geom.get("type") != "LineString" or len(geom.get("coordinates") or []) < 2:
        raise PlanFileError(f"{path}: expected a GeoJSON LineString with at least two positions")
    try:
        pts = [(float(c[1]), float(c[0])) for c in geom["coordinates"]]
    except (TypeError, ValueError, IndexError, KeyError) as err:
        raise PlanFileError(f"{path}: coordinates are not [lon, lat] number pairs") from err
    if not all(math.isfinite(a) and math.isfinite(b) for a, b in pts):
        raise PlanFileError(f"{path}: non-finite coordinates")
    return pts


def plan_problems(plan: Plan) -> list[str]:
    """What makes a plan unflyable offline: the mission leaving its fence, no fence, and — from the plan's
    planned home — the outbound leg, the RTL return to home or the nearest rally point, and the return points."""
    problems = mission_fence_violations(plan.mission, plan.fence_polygons, plan.fence_circles)
    if not plan.fence_polygons and not plan.fence_circles:
        problems.append("no geofence in the plan")
    elif plan.planned_home is not None:
        problems += return_leg_violations(plan.mission, plan.fence_polygons, plan.fence_circles, plan.planned_home,
                                          plan.rally_points, landing_margin_m=PreflightLimits().landing_margin_m)
    return problems


def cmd_validate(args: argparse.Namespace) -> int:
    """Check a plan: readable, valid items, inside its fence."""
    plan = read_plan(args.plan)
    problems = plan_problems(plan)
    _say(f"{args.plan}: {len(plan.mission)} mission items, {len(plan.fence_polygons)} fence polygons, "
         f"{len(plan.fence_circles)} fence circles, {len(plan.rally_points)} rally points")
    if plan.planned_home is None and (plan.fence_polygons or plan.fence_circles):
        _say("  note: no planned home — the legs from home and the RTL return are checked against the vehicle's "
             "home at fly time")
    for p in problems:
        _say(f"  problem: {p}")
    if args.png:
        _say(f"wrote {render_plan(plan, args.png, Path(args.plan).name)}")
    _say("valid" if not problems else f"INVALID: {len(problems)} problem(s)")
    return 0 if not problems else 1


def cmd_upload(args: argparse.Namespace) -> int:
    """Upload a plan's fence, rally points and mission."""
    plan = read_plan(args.plan)
    bridge = _open(args)
    try:
        bridge.wait_connected(args.sysid, args.timeout)
        _upload(bridge, plan)
        return 0
    finally:
        bridge.close()


def cmd_download(args: argparse.Namespace) -> int:
    """Download the vehicle's mission, fence and rally points into a .plan file."""
    bridge = _open(args)
    try:
        v = bridge.wait_connected(args.sysid, args.timeout)
        mission = _run(bridge, v.download(mavlink.MAV_MISSION_TYPE_MISSION))
        fence = _run(bridge, v.download(mavlink.MAV_MISSION_TYPE_FENCE))
        rally: list[MissionItem] = _run(bridge, v.download(mavlink.MAV_MISSION_TYPE_RALLY))
        polys, circles = fence_shapes(fence)
        plan = Plan(mission, polys, circles, [(r.latitude_deg, r.longitude_deg, r.altitude_m) for r in rally],
                    v.telemetry.home)
        write_plan(plan, args.output)
        _say(f"wrote {args.output}: {len(mission)} mission, {len(fence)} fence, {len(rally)} rally items")
        return 0
    finally:
        bridge.close()


def _status_line(bridge: Bridge, sysid: int) -> str:
    v = bridge.vehicle(sysid)
    s = v.state(time.monotonic())
    bat = f"{s.battery_percentage:.0%}" if math.isfinite(s.battery_percentage) else "?"
    return (f"{'ARMED' if s.armed else 'disarmed':8s} {s.mode:10s} alt {s.relative_alt_m:6.1f} m  "
            f"item {max(s.mission_seq, 0)}/{s.mission_total}  battery {bat}  gps fix {s.gps_fix_type} "
            f"({s.satellites} sats){'' if s.connected else '  LINK LOST'}")


def cmd_fly(args: argparse.Namespace) -> int:
    """Upload, check, arm, start, then follow the flight to landing."""
    plan = read_plan(args.plan)
    bridge = _open(args)
    try:
        v = bridge.wait_connected(args.sysid, args.timeout)
        limits = PreflightLimits(min_battery=args.min_battery, require_fence=not args.no_fence)
        ex = MissionExecutive(v, plan, ExecutiveOptions(limits=limits, role="gcs"), log=lambda t: _say(f"  {t}"))
        ex.start(time.monotonic())
        next_status = 0.0
        deadline = time.monotonic() + args.max_flight_s
        while not ex.finished and time.monotonic() < deadline:
            now = time.monotonic()
            bridge.step(now)
            ex.step(now)
            if ex.state == "flying" and now >= next_status:
                _say(_status_line(bridge, args.sysid))
                next_status = now + 1.0
            bridge.conn.wait(0.02)
        if ex.state == "failed":
            return 1
        if not ex.finished:
            _say(f"still {ex.state} after {args.max_flight_s:.0f} s; leaving the vehicle to its autopilot")
            return 1
        return 0
    finally:
        bridge.close()


def cmd_monitor(args: argparse.Namespace) -> int:
    """Print the vehicle's state once a second."""
    bridge = _open(args)
    try:
        bridge.wait_connected(args.sysid, args.timeout)
        end = time.monotonic() + args.duration if args.duration > 0 else math.inf
        next_line = 0.0
        while time.monotonic() < end:
            now = time.monotonic()
            bridge.step(now)
            if now >= next_line:
                _say(_status_line(bridge, args.sysid))
                next_line = now + 1.0
            bridge.conn.wait(0.05)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        bridge.close()


def _latlon(text: str) -> list[float]:
    try:
        vals = [float(v) for v in text.split(",")]
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err
    if len(vals) != 2 or not all(math.isfinite(v) for v in vals):
        raise argparse.ArgumentTypeError("expected LAT,LON")
    return vals


def build_parser() -> argparse.ArgumentParser:
    """The ``sanqin uav`` argument parser."""
    p = argparse.ArgumentParser(prog="sanqin uav", description="Field tools for MAVLink drones.")
    sub = p.add_subparsers(dest="command", required=True)

    def link_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--connect", required=True, help="connection URL, e.g. udpin:127.0.0.1:14550")
        sp.add_argument("--sysid", type=int, default=1, help="vehicle system id")
        sp.add_argument("--gcs-sysid", type=int, default=255,
                        help="our system id (fly sets the vehicle's SYSID_MYGCS to it for the GCS failsafe)")
        sp.add_argument("--signing-key", help="MAVLink 2 signing key file")
        sp.add_argument("--tlog", help="append the session to this .tlog")
        sp.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for the vehicle")

    pl = sub.add_parser("plan", help="build a plan and its PNG")
    pl.add_argument("kind", choices=("spray", "corridor"))
    pl.add_argument("--field", help="spray: field boundary (GeoJSON, KML, GML or .plan; holes and no-spray "
                                    "features — property no_spray or role no_spray — are kept out)")
    pl.add_argument("--feature", type=int, default=0, help="spray: which field of the file")
    pl.add_argument("--line", help="corridor: GeoJSON LineString to follow")
    pl.add_argument("--spacing", type=float, default=6.0, help="spray: swath width (m)")
    pl.add_argument("--headland-laps", type=int, default=1, help="spray: sprayed laps round the boundary and holes")
    pl.add_argument("--heading", type=float, default=-1.0, help="spray: pass heading (deg CCW from east); -1: best")
    pl.add_argument("--rate-l-ha", type=float, default=20.0, help="spray: application rate (L/ha)")
    pl.add_argument("--sections", type=int, default=1, help="spray: boom sections (servo outputs 9, 10, …)")
    pl.add_argument("--tank-l", type=float, default=0.0, help="spray: tank (L); returns to refill at --home")
    pl.add_argument("--endurance-s", type=float, default=0.0, help="spray: flight time per battery (s)")
    pl.add_argument("--pump-servo", type=int, default=0, help="spray: pump output whose PWM follows the flow")
    pl.add_argument("--spray-method", default="servo", choices=("servo", "relay", "sprayer"))
    pl.add_argument("--photo-every", type=float, default=20.0, help="corridor: photo spacing (m)")
    pl.add_argument("--gimbal-pitch", type=float, default=-45.0, help="corridor: gimbal pitch (deg)")
    pl.add_argument("--alt", type=float, default=5.0, help="flight altitude above home (m)")
    pl.add_argument("--speed", type=float, default=5.0, help="ground speed (m/s)")
    pl.add_argument("--home", type=_latlon, help="take-off (and refill) point LAT,LON (kept inside the fence)")
    pl.add_argument("--fence-margin", type=float, default=15.0, help="fence distance around the work (m)")
    pl.add_argument("-o", "--output", required=True, help=".plan file to write")
    pl.add_argument("--png", help="also draw the plan to this PNG")
    pl.set_defaults(fn=cmd_plan)

    va = sub.add_parser("validate", help="check a .plan (exit 1 if unusable)")
    va.add_argument("plan")
    va.add_argument("--png", help="also draw the plan to this PNG")
    va.set_defaults(fn=cmd_validate)

    up = sub.add_parser("upload", help="upload fence, rally points and mission")
    up.add_argument("plan")
    link_args(up)
    up.set_defaults(fn=cmd_upload)

    dl = sub.add_parser("download", help="download mission, fence and rally points")
    dl.add_argument("-o", "--output", required=True)
    link_args(dl)
    dl.set_defaults(fn=cmd_download)

    fl = sub.add_parser("fly", help="upload, check, arm, start and follow")
    fl.add_argument("plan")
    fl.add_argument("--min-battery", type=float, default=0.5, help="minimum battery to start (fraction)")
    fl.add_argument("--no-fence", action="store_true", help="allow a plan without a geofence")
    fl.add_argument("--max-flight-s", type=float, default=3600.0, help="stop following after this long (s)")
    link_args(fl)
    fl.set_defaults(fn=cmd_fly)

    mo = sub.add_parser("monitor", help="print the vehicle state every second")
    mo.add_argument("--duration", type=float, default=0.0, help="seconds (0: until Ctrl-C)")
    link_args(mo)
    mo.set_defaults(fn=cmd_monitor)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``sanqin uav``; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.command == "plan":
        need = "field" if args.kind == "spray" else "line"
        if not getattr(args, need):
            _say(f"error: plan {args.kind} needs --{need}")
            return 2
    try:
        return int(args.fn(args))
    except PlanFileError as err:
        _say(f"error: {err}")
        return 2
    except UavBridgeError as err:
        _say(f"FAILED: {err}")
        return 1
    except SanqinError as err:
        _say(f"error: {err}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
