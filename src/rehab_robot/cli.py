"""``sanqin rehab``: validate patient profiles and therapy plans, and write session/progress reports.

    sanqin rehab check PROFILE [PLAN]           validate a profile (against its robot's hardware limits)
                                                and optionally a plan against that profile
    sanqin rehab report SESSION_DIR PATIENT OUT every session report plus the patient's progress report
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from sanqin.rehab_robot.errors import RehabError


def _check(args: argparse.Namespace) -> int:
    from sanqin.rehab_robot.plan import check_plan_against_profile, load_plan
    from sanqin.rehab_robot.profile import load_profile

    profile = load_profile(args.profile)  # limits checked against the hardware of the robot it names
    print(f"{args.profile}: profile of patient {profile.patient_id!r} for the {profile.robot} robot is valid")
    if args.plan is not None:
        plan = load_plan(args.plan)
        check_plan_against_profile(plan, profile)
        print(f"{args.plan}: plan {plan.plan_id!r} ({plan.n_trials} trials) fits the profile")
    return 0


def _report(args: argparse.Namespace) -> int:
    from sanqin.rehab_robot.report import main as report_main

    return report_main([str(args.session_dir), args.patient_id, str(args.out_dir)])


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``sanqin rehab``; returns the exit status (2 on an invalid file)."""
    parser = argparse.ArgumentParser(prog="sanqin rehab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="validate a patient profile (and a therapy plan against it)")
    p.add_argument("profile", type=Path)
    p.add_argument("plan", type=Path, nargs="?")
    p.set_defaults(fn=_check)
    p = sub.add_parser("report", help="write session and progress reports for one patient")
    p.add_argument("session_dir", type=Path)
    p.add_argument("patient_id")
    p.add_argument("out_dir", type=Path)
    p.set_defaults(fn=_report)
    args = parser.parse_args(argv)
    try:
        return int(args.fn(args))
    except RehabError as err:
        print(f"sanqin rehab: {err}", file=sys.stderr)
        return 2
