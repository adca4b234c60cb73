"""Session and progress reports render from session files, including damaged ones."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import yaml

from sanqin.rehab_robot.errors import SessionLogError
from sanqin.rehab_robot.plan import parse_plan
from sanqin.rehab_robot.report import write_progress_report, write_session_report
from sanqin.rehab_robot.robots import make_robot
from sanqin.rehab_robot.session_log import SessionRecorder, SessionWriter
from sanqin.rehab_robot.therapy import RobotSample, TherapyConfig, TherapySession

from .rehab_helpers import REHAB_DATA, SimplePlant


def _session(path, profile, trials=2, gain=None):
    doc = yaml.safe_load((REHAB_DATA / "plan_center_out.yaml").read_text())
    doc["blocks"][0]["trials"] = trials
    robot = make_robot("planar")
    rec = SessionRecorder(SessionWriter(path, {"patient_id": profile.patient_id, "plan_id": "p", "robot": "planar"}))
    s = TherapySession(TherapyConfig(), robot, profile, parse_plan(doc), gain, rec)
    plant = SimplePlant(robot)
    s.start(0.0)
    while s.phase != "done":
        tau = s.step(plant.t, RobotSample(plant.t, plant.q.copy(), plant.qd.copy(), np.zeros(2)))
        plant.step(tau, np.zeros(2))
    rec.close()
    return path


def test_session_and_progress_reports(tmp_path, planar_profile) -> None:
    a = _session(tmp_path / "s000.jsonl", planar_profile)
    b = _session(tmp_path / "s001.jsonl", planar_profile, gain=0.5)
    # damage the second file's tail: the report still renders and says what was skipped
    b.write_bytes(b.read_bytes()[:-5])
    md = write_session_report(b, tmp_path / "rep_b")
    text = md.read_text()
    assert "truncated final record" in text and "| 0 | active_assist |" in text
    assert "no session_end record" in text
    assert (tmp_path / "rep_b" / "trials.png").stat().st_size > 1000
    assert (tmp_path / "rep_b" / "paths_and_speed.png").is_file()
    assert "<table>" in (tmp_path / "rep_b" / "report.html").read_text()
    text_a = write_session_report(a, tmp_path / "rep_a").read_text()
    assert "plan complete" in text_a and "success_rate" in text_a
    prog = write_progress_report([a, b], tmp_path / "progress").read_text()
    assert prog.count("| s00") == 2 and (tmp_path / "progress" / "progress.png").is_file()
    with pytest.raises(SessionLogError):
        write_progress_report([], tmp_path / "none")


def test_report_command_line(tmp_path, planar_profile, capsys) -> None:
    from sanqin.rehab_robot.report import main
    from sanqin.rehab_robot.session_log import session_path

    first = _session(session_path(tmp_path / "sessions", planar_profile.patient_id, "s000"), planar_profile, trials=1)
    for later in ("s999", "s1000"):  # the progress report lists sessions in order: s1000 after s999
        shutil.copy(first, first.with_name(f"{later}.jsonl"))
    assert main([str(tmp_path / "sessions"), planar_profile.patient_id, str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "s000" / "report.html").is_file()
    assert (tmp_path / "out" / "progress" / "progress.md").is_file()
    progress = (tmp_path / "out" / "progress" / "progress.md").read_text()
    assert progress.index("| s000 |") < progress.index("| s999 |") < progress.index("| s1000 |")
    assert main([str(tmp_path / "sessions"), "nobody", str(tmp_path / "out2")]) == 1
