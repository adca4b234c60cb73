"""Closed-loop rehabilitation scenarios in MuJoCo: recovery over sessions, spasm hold, sensor dropout."""

from __future__ import annotations

import dataclasses

import numpy as np

from sanqin.rehab_robot.session_log import patient_sessions
from sanqin.runtime.paths import share_dir
from sanqin.runtime.runner import run_scenario
from sanqin.runtime.scenario import load_scenario


def _scenario(name, session_dir):
    sc = load_scenario(share_dir() / "sim" / "scenarios" / f"{name}.yaml")
    nodes = tuple(dataclasses.replace(n, params={**n.params, "session_dir": str(session_dir)}) for n in sc.nodes)
    return dataclasses.replace(sc, nodes=nodes)


def test_assistance_decreases_as_the_simulated_patient_recovers(tmp_path) -> None:
    result = run_scenario(_scenario("rehab_recovery", tmp_path / "sessions"), tmp_path / "run", record=False)
    assert result.passed, result.checks
    sessions = patient_sessions(tmp_path / "sessions", "SIM-PLANAR-01")
    assert len(sessions) == 4 and all(not s.problems for s in sessions)
    mean_gain = [np.mean([t["gain_after"] for t in s.of_type("trial")]) for s in sessions]
    assert all(b < a for a, b in zip(mean_gain, mean_gain[1:])), mean_gain
    # each session starts from the gain the previous one ended with (carried over through the files)
    for prev, cur in zip(sessions, sessions[1:]):
        assert cur.header["initial_assist_gain"] == prev.of_type("trial")[-1]["gain_after"]
    assert all(t["success"] for s in sessions for t in s.of_type("trial"))
    assert (tmp_path / "run" / "plots" / "rehab_planar.png").is_file()


def test_spasm_hold_within_a_cycle_and_dropout_safe_stop(tmp_path) -> None:
    result = run_scenario(_scenario("rehab_safety", tmp_path / "sessions"), tmp_path / "run", record=True)
    assert result.passed, result.checks
    m = result.metrics
    assert m["rehab.spasm_hold_cycles"] <= 1 and m["rehab.dropout_stop_s"] <= 0.022
    (session,) = patient_sessions(tmp_path / "sessions", "SIM-PLANAR-01")
    safety = session.of_type("safety")
    kinds = [e["kind"] for e in safety]
    assert kinds[:3] == ["spasm", "release", "sensor_timeout"], kinds
    assert all(e["cause"] for e in safety)
    aborted = [t for t in session.of_type("trial") if t["aborted"]]
    assert [t["aborted"] for t in aborted] == ["safety HOLD", "safety STOP"]
    assert m["topics./rehab_robot/safety_events.count"] >= 3


def test_exoskeleton_on_a_musculoskeletal_elbow_fades_assistance_with_recovery(tmp_path) -> None:
    result = run_scenario(_scenario("rehab_exo_recovery", tmp_path / "sessions"), tmp_path / "run", record=False)
    assert result.passed, result.checks
    sessions = patient_sessions(tmp_path / "sessions", "SIM-EXO-01")
    assert len(sessions) == 3 and all(not s.problems for s in sessions)
    aa = [[t["gain_after"] for t in s.of_type("trial") if t["mode"] == "active_assist"] for s in sessions]
    means = [float(np.mean(g)) for g in aa]
    assert all(b < a for a, b in zip(means, means[1:])), means
    triggers = [[t["trigger"] for t in s.of_type("trial") if t["mode"] == "active_assist"] for s in sessions]
    assert "force onset" not in triggers[0]  # too weak to signal intent at first: the reach starts on timeout
    assert "force onset" in triggers[-1]  # after recovery the patient's own push starts the reach
    assert result.metrics["exo.patient_strength"] > 0.5


def test_exoskeleton_muscle_spasm_hold_and_dropout_stop(tmp_path) -> None:
    result = run_scenario(_scenario("rehab_exo_safety", tmp_path / "sessions"), tmp_path / "run", record=False)
    assert result.passed, result.checks
    (session,) = patient_sessions(tmp_path / "sessions", "SIM-EXO-01")
    kinds = [e["kind"] for e in session.of_type("safety")]
    assert kinds[0] == "spasm" and "sensor_timeout" in kinds
    assert result.metrics["exo.speed_ratio"] < 1.0  # the hold's damping keeps the spasm below max speed
