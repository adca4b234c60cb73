"""Child process for the kill test: runs a therapy session into a session file and acknowledges records.

Usage: ``python session_kill_child.py <session.jsonl>``. Prints one line ``<seq>`` to stdout after each
append has returned (the record is then in the kernel); runs until killed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import yaml
from rehab_helpers import REHAB_DATA, SimplePlant  # run as a script with this folder on PYTHONPATH

from sanqin.rehab_robot.plan import parse_plan
from sanqin.rehab_robot.profile import load_profile
from sanqin.rehab_robot.robots import make_robot
from sanqin.rehab_robot.session_log import DURABLE_TYPES, SessionWriter
from sanqin.rehab_robot.therapy import RobotSample, TherapyConfig, TherapySession


def main(path: str) -> None:
    profile = load_profile(REHAB_DATA / "profile_planar_example.yaml")
    doc = yaml.safe_load((REHAB_DATA / "plan_center_out.yaml").read_text())
    doc["blocks"][0]["trials"] = 100000
    plan = parse_plan(doc)
    robot = make_robot("planar")
    writer = SessionWriter(Path(path), {"patient_id": profile.patient_id, "plan_id": plan.plan_id})
    out = sys.stdout

    def sink(rec: dict) -> None:
        seq = writer.append(rec, durable=rec.get("type") in DURABLE_TYPES)
        out.write(f"{seq}\n")
        out.flush()

    session = TherapySession(TherapyConfig(record_every=5), robot, profile, plan, sink=sink)
    plant = SimplePlant(robot)
    session.start(0.0)
    while True:
        q, qd = plant.q.copy(), plant.qd.copy()
        tau = session.step(plant.t, RobotSample(plant.t, q, qd, np.zeros(2)))
        plant.step(tau, np.zeros(2))


if __name__ == "__main__":
    main(sys.argv[1])
