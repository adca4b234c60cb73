"""The ``sanqin`` command: run headless scenarios, inspect nodes and params, and the area tools.

    sanqin run <scenario|path> [--out DIR]     run a scenario headless, write a run folder, exit 1 on FAIL
    sanqin scenarios                           list the shipped scenarios
    sanqin nodes                               list node executables with their topics
    sanqin params <node>                       print a node's default params file (ROS 2 format)
    sanqin check-params <file> <node>          validate a params file for a node
    sanqin check-launch                        check every launch file against nodes and configs
    sanqin plan ...                            coverage / inspection planning (sanqin.planning.cli)
    sanqin uav ...                             MAVLink field tools (sanqin.uav_bridge.cli)
    sanqin rehab ...                           rehabilitation profiles and session reports (sanqin.rehab_robot.cli)
    sanqin gazebo ...                          Gazebo twins: generate, check, list, score (sanqin.simulation.gazebo.cli)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

#: Subcommands provided by an area: name → module with ``main(argv) -> int``.
AREA_COMMANDS = {
    "plan": ("sanqin.planning.cli", "coverage and inspection planning"),
    "uav": ("sanqin.uav_bridge.cli", "MAVLink field tools: plan, validate, upload, download, fly, monitor"),
    "rehab": ("sanqin.rehab_robot.cli", "rehabilitation sessions: validate profiles, report on sessions"),
    "gazebo": ("sanqin.simulation.gazebo.cli", "Gazebo twins of the scenarios: generate, check, list, score"),
}

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


def _scenario_path(name: str) -> Path:
    from sanqin.runtime.paths import share_dir

    p = Path(name)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return p
    return share_dir() / "sim" / "scenarios" / f"{name}.yaml"


def _cmd_run(args: argparse.Namespace) -> int:
    from sanqin.runtime.runner import run_scenario

    path = _scenario_path(args.scenario)
    out = Path(args.out) if args.out else Path("runs") / f"{path.stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    result = run_scenario(path, out, progress=not args.no_progress, strict=args.strict)
    print()
    print(f"scenario {result.scenario}: {'PASSED' if result.passed else 'FAILED'}")
    for ok, text in result.checks:
        print(f"  [{'ok' if ok else 'FAIL'}] {text}")
    print(f"simulated {result.sim_s:.1f} s in {result.wall_s:.1f} s ({result.sim_s / max(result.wall_s, 1e-9):.1f}x)")
    print(f"run folder: {out}  (report.md, metrics.json, plots/, params/, bag/)")
    return EXIT_OK if result.passed else EXIT_FAILED


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from sanqin.runtime.paths import share_dir
    from sanqin.runtime.scenario import load_scenario

    for path in sorted((share_dir() / "sim" / "scenarios").glob("*.yaml")):
        sc = load_scenario(path)
        first = sc.description.strip().splitlines()[0] if sc.description.strip() else ""
        print(f"{path.stem:32s} {sc.duration_s:7.1f} s  {first}")
    return EXIT_OK


def _cmd_nodes(args: argparse.Namespace) -> int:
    from sanqin.runtime.registry import get_node_spec, node_names

    for name in node_names():
        spec = get_node_spec(name)
        print(f"{name}: {spec.description.strip().splitlines()[0] if spec.description else ''}")
        for i in spec.inputs:
            print(f"    sub  {i.topic:28s} {i.msg_type} [{i.qos.value}]")
        for o in spec.outputs:
            print(f"    pub  {o.topic:28s} {o.msg_type} [{o.qos.value}]")
        for s in spec.services:
            print(f"    srv  {s.name:28s} {s.srv_type}")
    return EXIT_OK


def _cmd_params(args: argparse.Namespace) -> int:
    import yaml

    from sanqin.runtime.config import param_specs
    from sanqin.runtime.registry import get_node_spec

    spec = get_node_spec(args.node)
    print(f"# {args.node}: default parameters (ROS 2 params file)")
    for p in param_specs(spec.config):
        bounds = "".join(
            [f" min={p.min}" if p.min is not None else "", f" max={p.max}" if p.max is not None else ""]
        )
        choices = f" choices={list(p.choices)}" if p.choices else ""
        print(f"#   {p.name}: {p.description}{bounds}{choices}")
    from sanqin.runtime.config import load_config, to_nested, to_params

    doc = {args.node: {"ros__parameters": to_nested(to_params(load_config(spec.config, {})))}}
    print(yaml.safe_dump(doc, sort_keys=False), end="")
    return EXIT_OK


def _cmd_check_params(args: argparse.Namespace) -> int:
    from sanqin.runtime.params import load_node_config
    from sanqin.runtime.registry import get_node_spec

    spec = get_node_spec(args.node)
    load_node_config(spec.config, args.file, args.name or args.node, args.namespace)
    print(f"{args.file}: parameters for {args.node} are valid")
    return EXIT_OK


def _cmd_check_launch(args: argparse.Namespace) -> int:
    from sanqin.runtime.launch_check import check_all
    from sanqin.runtime.paths import share_dir

    problems = check_all(share_dir())
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s) in {share_dir() / 'launch'}")
    return EXIT_FAILED if problems else EXIT_OK


def _area(module: str, argv: Sequence[str]) -> int:
    import importlib

    try:
        mod = importlib.import_module(module)
    except ImportError as err:
        print(f"sanqin: {module} is not available: {err}", file=sys.stderr)
        return EXIT_ERROR
    return int(mod.main(list(argv)) or 0)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sanqin`` command."""
    parser = argparse.ArgumentParser(prog="sanqin", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run a headless scenario and write a run folder")
    p.add_argument("scenario", help="scenario name (see 'sanqin scenarios') or path to a scenario YAML")
    p.add_argument("--out", help="run folder (default runs/<scenario>-<time>)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--strict", action="store_true", help="let unexpected exceptions in nodes propagate")
    p.set_defaults(fn=_cmd_run)
    sub.add_parser("scenarios", help="list shipped scenarios").set_defaults(fn=_cmd_scenarios)
    sub.add_parser("nodes", help="list node executables and their topics").set_defaults(fn=_cmd_nodes)
    p = sub.add_parser("params", help="print a node's default params file")
    p.add_argument("node")
    p.set_defaults(fn=_cmd_params)
    p = sub.add_parser("check-params", help="validate a params file for a node")
    p.add_argument("file")
    p.add_argument("node")
    p.add_argument("--name", help="node instance name in the file (default: the node executable name)")
    p.add_argument("--namespace", default="")
    p.set_defaults(fn=_cmd_check_params)
    sub.add_parser("check-launch", help="check launch files against nodes and configs").set_defaults(
        fn=_cmd_check_launch
    )
    for name, (_module, text) in AREA_COMMANDS.items():
        sub.add_parser(name, help=text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sanqin`` command; returns the exit status."""
    from sanqin.common.errors import SanqinError

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in AREA_COMMANDS:
        return _area(AREA_COMMANDS[argv[0]][0], argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return int(args.fn(args))
    except SanqinError as err:
        print(f"sanqin: error: {err}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
