"""``sanqin gazebo``: generate the Gazebo twins, check them with SDFormat, list them, score a recorded run.

    sanqin gazebo generate [--check] [--share DIR]   write (or with --check: verify) every twin's files
    sanqin gazebo list                               scenarios with twins: name, simulated seconds the world
                                                     runs, iterations, ardupilot or -, real-time factor
    sanqin gazebo check [--share DIR]                parse every generated SDF with libsdformat
    sanqin gazebo plugins [--share DIR]              check every system plugin's parameters (gz-sim 8)
    sanqin gazebo score <scenario> <bag> [--out DIR] metrics + criteria of a run recorded in Gazebo

Exit status: 0 ok; 1 failed (files out of date, SDF or plugin errors, criteria failed); 2 usage or input error;
77 the SDFormat checker cannot be built here (``check``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_ERROR, EXIT_UNAVAILABLE = 0, 1, 2, 77


def _share(arg: str | None) -> Path:
    from sanqin.runtime.paths import share_dir

    return Path(arg) if arg else share_dir()


def _cmd_generate(args: argparse.Namespace) -> int:
    from sanqin.simulation.gazebo.generate import compare, generate, write_files

    share = _share(args.share)
    gen = generate(share)
    for name, why in sorted(gen.skipped.items()):
        print(f"no twin: {name} ({why})")
    if args.check:
        missing, different, stale = compare(gen, share)
        for kind, paths in (("missing", missing), ("out of date", different), ("stale", stale)):
            for p in paths:
                print(f"{kind}: {p}")
        if missing or different or stale:
            print("the Gazebo twins are out of date: run `sanqin gazebo generate`")
            return EXIT_FAILED
        print(f"{len(gen.files)} generated files are up to date ({', '.join(sorted(gen.twins))})")
        return EXIT_OK
    written = write_files(gen, share)
    print(f"twins: {', '.join(sorted(gen.twins)) or '(none)'}; {len(written)} of {len(gen.files)} files written")
    return EXIT_OK


def _cmd_list(args: argparse.Namespace) -> int:
    import yaml

    index = _share(args.share) / "sim" / "gazebo" / "twins.yaml"
    if not index.is_file():
        print(f"{index} does not exist: run `sanqin gazebo generate`", file=sys.stderr)
        return EXIT_ERROR
    doc = yaml.safe_load(index.read_text(encoding="utf-8")) or {}
    for name, info in (doc.get("twins") or {}).items():
        world_s = info["iterations"] * info["physics_step_s"]  # the scenario's duration + the twin's start-up slack
        print(f"{name}\t{world_s:g}\t{info['iterations']}\t{'ardupilot' if info['ardupilot_sitl'] else '-'}"
              f"\t{info.get('real_time_factor', 1.0):g}")
    for name, reason in (doc.get("headless_only") or {}).items():
        print(f"{name}\tno twin: {reason}")
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    from sanqin.simulation.gazebo.sdfcheck import check_files, unavailable_reason

    why = unavailable_reason()
    if why:
        print(f"sanqin gazebo check: cannot check SDF here: {why}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    import tempfile

    import yaml

    from sanqin.simulation.gazebo.sdfcheck import stub_models

    root = _share(args.share) / "sim" / "gazebo"
    files = sorted(root.rglob("*.sdf")) + sorted(root.rglob("*.urdf"))
    index = yaml.safe_load((root / "twins.yaml").read_text(encoding="utf-8")) if (root / "twins.yaml").is_file() else {}
    external = sorted({m for t in (index.get("twins") or {}).values() for m in t.get("external_models", [])})
    with tempfile.TemporaryDirectory() as tmp:
        reports = check_files(files, [root / "models", stub_models(external, tmp)])
    if external:
        print(f"models of other packages stood in for by stubs: {', '.join(external)}")
    bad = 0
    for rep in reports:
        if rep.ok:
            print(f"ok   {rep.path}  " + " ".join(f"{k}={v}" for k, v in rep.counts.items()))
        else:
            bad += 1
            for err in rep.errors:
                print(f"FAIL {rep.path}: {err}")
    print(f"{len(reports) - bad} of {len(reports)} files parse without errors")
    return EXIT_FAILED if bad else EXIT_OK


def _cmd_plugins(args: argparse.Namespace) -> int:
    from sanqin.simulation.gazebo.system_params import check_sdf_file

    files = sorted((_share(args.share) / "sim" / "gazebo").rglob("*.sdf"))
    problems = [p for f in files for p in check_sdf_file(f)]
    for p in problems:
        print(f"FAIL {p}")
    print(f"{len(files)} files, {len(problems)} plugin parameter problems (gz-sim 8)")
    return EXIT_FAILED if problems else EXIT_OK


def _cmd_score(args: argparse.Namespace) -> int:
    from sanqin.runtime.scenario import load_scenario
    from sanqin.simulation.gazebo.score import score_bag, write_score

    path = Path(args.scenario)
    if path.suffix not in (".yaml", ".yml"):
        path = _share(args.share) / "sim" / "scenarios" / f"{args.scenario}.yaml"
    result = score_bag(load_scenario(path), args.bag)
    for ok, text in result.checks:
        print(f"  [{'ok' if ok else 'FAIL'}] {text}")
    for text in result.not_measured:
        print(f"  [n/a] {text} (not measurable from a Gazebo run)")
    if args.out:
        print(f"metrics: {write_score(result, args.out)}")
    print(f"scenario {result.scenario} (Gazebo): {'PASSED' if result.passed else 'FAILED'}")
    return EXIT_OK if result.passed else EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    """The ``sanqin gazebo`` argument parser."""
    parser = argparse.ArgumentParser(prog="sanqin gazebo", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("generate", help="write every scenario's Gazebo twin (worlds, models, bridges, launch)")
    p.add_argument("--check", action="store_true", help="only verify the committed files are up to date")
    p.add_argument("--share", help="share folder (default: this installation's)")
    p.set_defaults(fn=_cmd_generate)
    p = sub.add_parser("list", help="scenarios with a Gazebo twin (name, duration s, iterations, autopilot)")
    p.add_argument("--share")
    p.set_defaults(fn=_cmd_list)
    p = sub.add_parser("check", help="parse every generated SDF with libsdformat")
    p.add_argument("--share")
    p.set_defaults(fn=_cmd_check)
    p = sub.add_parser("plugins", help="check every system plugin's parameters against gz-sim 8")
    p.add_argument("--share")
    p.set_defaults(fn=_cmd_plugins)
    p = sub.add_parser("score", help="score a bag recorded with record:=true")
    p.add_argument("scenario", help="scenario name or scenario YAML")
    p.add_argument("bag", help="rosbag2 folder")
    p.add_argument("--out", help="write metrics.json and report.md here")
    p.add_argument("--share")
    p.set_defaults(fn=_cmd_score)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``sanqin gazebo``; returns the exit status."""
    from sanqin.common.errors import SanqinError

    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        return int(args.fn(args))
    except SanqinError as err:
        print(f"sanqin gazebo: error: {err}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
