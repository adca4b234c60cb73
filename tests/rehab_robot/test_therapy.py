"""The therapy controller runs a plan's trials, adapts assistance, reacts to intent and safety, never jumps."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from sanqin.rehab_robot.errors import ControlError, SessionStateError
from sanqin.rehab_robot.modes import ModeConfig
from sanqin.rehab_robot.plan import parse_plan
from sanqin.rehab_robot.robots import make_robot
from sanqin.rehab_robot.supervisor import SafetyInput, SafetyState, SafetySupervisor, SupervisorConfig
from sanqin.rehab_robot.therapy import RobotSample, TherapyConfig, TherapySession

from .rehab_helpers import REHAB_DATA, SimplePlant


def _plan(**block):
    doc = yaml.safe_load((REHAB_DATA / "plan_center_out.yaml").read_text())
    doc["blocks"][0].update(block)
    return parse_plan(doc)


def _loop(session, plant, seconds, patient=lambda t, x, v: np.zeros(2), sup=None):
    taus = []
    for _ in range(int(round(seconds / plant.dt))):
        t = plant.t
        x = plant.robot.forward(plant.q)
        v = plant.robot.task_velocity(plant.q, plant.qd)
        fp = patient(t, x, v)
        sample = RobotSample(t, plant.q.copy(), plant.qd.copy(), fp)
        state, epoch = (sup.state, sup.epoch) if sup else (SafetyState.RUN, 0)
        tau = session.step(t, sample, state, epoch)
        if sup is not None:
            tau = sup.step(SafetyInput(t, t, plant.q, plant.qd, fp, tau)).tau_nm
        taus.append(tau)
        plant.step(tau, fp)
    return np.array(taus)


def test_passive_trials_reach_every_target(planar_profile) -> None:
    robot = make_robot("planar")
    records = []
    s = TherapySession(TherapyConfig(), robot, planar_profile, _plan(mode="passive", trials=4), sink=records.append)
    plant = SimplePlant(robot)
    s.start(0.0)
    _loop(s, plant, 4 * (1.2 + 0.4 + 0.3) + 0.5)
    assert s.phase == "done" and len(s.trials) == 4
    assert all(t.success for t in s.trials), [t.final_error for t in s.trials]
    assert all(t.sparc > -2.0 for t in s.trials)  # minimum-jerk tracking is smooth
    kinds = {r["type"] for r in records}
    assert {"session_start", "phase", "sample", "trial", "session_end"} <= kinds


def test_assistance_fades_for_a_capable_patient_and_stays_for_an_impaired_one(planar_profile) -> None:
    robot = make_robot("planar")
    plan = _plan(trials=8)

    def patient(t, x, v, s, impaired):
        if s.phase != "move" or s._traj is None:
            return np.zeros(2)
        if impaired:  # velocity-dependent resistance (spasticity) and a pull back to the start (tone)
            return -30.0 * v - 200.0 * (x - s._traj.start)
        xr, vr, _ = s._traj.sample(t)  # a capable patient tracks the reference with their own force
        return 900.0 * (xr - x) + 40.0 * (vr - v)

    gains = {}
    for impaired in (False, True):
        s = TherapySession(TherapyConfig(), robot, planar_profile, plan)
        plant = SimplePlant(robot)
        s.start(0.0)
        _loop(s, plant, 8 * 1.9 + 0.5, lambda t, x, v, s=s, i=impaired: patient(t, x, v, s, i))
        assert len(s.trials) == 8
        gains[impaired] = [g for _, g in s.aan.history]
    capable, impaired = gains[False], gains[True]
    assert all(b < a for a, b in zip(capable, capable[1:]))  # the forgetting factor fades unneeded help
    assert capable[-1] < 0.35 and min(impaired) > 0.9


def test_mode_switch_mid_trial_has_no_torque_jump(planar_profile) -> None:
    robot = make_robot("planar")
    s = TherapySession(TherapyConfig(), robot, planar_profile, _plan(mode="passive", trials=2))
    plant = SimplePlant(robot)
    s.start(0.0)
    taus = _loop(s, plant, 0.6)
    s.set_mode("resistive", plant.t)
    taus = np.vstack([taus, _loop(s, plant, 0.5)])
    jumps = np.max(np.abs(np.diff(taus, axis=0)), axis=1)
    assert jumps[595:610].max() < 0.05  # N·m per cycle around the switch
    assert s.mode == "resistive"
    with pytest.raises(ControlError):
        s.set_mode("dance", plant.t)


def test_switching_to_admittance_transparent_mode_holds_the_limb_where_it_is(planar_profile) -> None:
    robot = make_robot("planar")
    config = TherapyConfig(modes=ModeConfig(transparent_law="admittance"))
    s = TherapySession(config, robot, planar_profile, _plan(mode="passive", trigger="force", trigger_timeout_s=10.0))
    plant = SimplePlant(robot, x0=(0.1, 0.45))
    s.start(0.0)
    _loop(s, plant, 0.2)  # waiting for intent, limb at rest off the ROM centre
    s.set_mode("transparent", plant.t)
    taus = _loop(s, plant, 1.0)  # no interaction: nothing should move the limb
    assert s.phase == "wait" and s.mode == "transparent"
    assert np.linalg.norm(robot.forward(plant.q) - [0.1, 0.45]) < 1e-3
    assert np.abs(taus).max() < 0.05


def test_spasm_hold_aborts_the_trial_and_the_session_resumes(planar_profile) -> None:
    robot = make_robot("planar")
    sup = SafetySupervisor(SupervisorConfig(hold_release_s=0.5), robot, planar_profile)
    s = TherapySession(TherapyConfig(), robot, planar_profile, _plan(mode="passive", trials=3))
    plant = SimplePlant(robot)
    s.start(0.0)

    def spasm(t, x, v):
        return np.array([0.0, -18.0]) if 0.5 <= t < 0.8 else np.zeros(2)

    _loop(s, plant, 0.6, spasm, sup)
    assert sup.state == SafetyState.HOLD and s.phase == "paused"
    assert s.trials[0].aborted == "safety HOLD" and not s.trials[0].success
    _loop(s, plant, 6.0, spasm, sup)
    assert sup.state == SafetyState.RUN and s.phase == "done" and len(s.trials) == 3
    assert s.trials[1].success and s.trials[2].success


def test_force_intent_starts_the_trial_and_timeout_starts_it_anyway(planar_profile) -> None:
    robot = make_robot("planar")
    s = TherapySession(TherapyConfig(), robot, planar_profile, _plan(trigger="force", trigger_timeout_s=3.0))
    plant = SimplePlant(robot)
    s.start(0.0)
    _loop(s, plant, 0.5)
    assert s.phase == "wait"  # no intent yet
    _loop(s, plant, 0.2, lambda t, x, v: 6.0 * (s.target - x) / np.linalg.norm(s.target - x))
    assert s.phase == "move"
    s2 = TherapySession(TherapyConfig(), robot, planar_profile, _plan(trigger="force", trigger_timeout_s=0.3))
    p2 = SimplePlant(robot)
    s2.start(0.0)
    _loop(s2, p2, 0.35)
    assert s2.phase == "move" and s2._trigger_cause == "timeout"


def test_commands_in_the_wrong_state_and_nan_samples(planar_profile) -> None:
    robot = make_robot("planar")
    s = TherapySession(TherapyConfig(), robot, planar_profile, _plan())
    with pytest.raises(SessionStateError):
        s.set_paused(0.0, True)
    s.start(0.0)
    with pytest.raises(SessionStateError):
        s.start(0.1)
    q = robot.inverse(np.array([0.0, 0.38]))
    tau = s.step(0.1, RobotSample(0.1, q, np.zeros(2), np.array([np.nan, 0.0])))
    assert np.all(tau == 0.0)
    s.stop(0.2, "patient tired")
    assert s.phase == "stopped"
    with pytest.raises(SessionStateError):
        s.stop(0.3)


def test_two_dof_exoskeleton_passive_reaches_with_gravity_compensation() -> None:
    from sanqin.rehab_robot.profile import parse_profile

    profile = parse_profile({"patient_id": "EXO2", "robot": "exo_elbow_wrist", "rom_min": [0.1, -0.8],
                             "rom_max": [2.0, 0.8], "max_speed": 2.0, "max_interaction": 8.0,
                             "max_joint_torque_nm": [15.0, 4.0], "spasm_opposing": 3.0, "spasm_rate": 60.0})
    plan = parse_plan({"plan_id": "elbow-wrist", "robot": "exo_elbow_wrist", "success_tolerance": 0.05,
                       "blocks": [{"mode": "passive", "trials": 2, "targets": [[1.2, 0.4], [0.6, -0.3]],
                                   "movement_time_s": 1.0, "rest_s": 0.2}]})
    robot = make_robot("exo_elbow_wrist")
    sup = SafetySupervisor(SupervisorConfig(), robot, profile)
    s = TherapySession(TherapyConfig(), robot, profile, plan)
    plant = SimplePlant(robot, x0=(0.5, 0.0))
    s.start(0.0)
    _loop(s, plant, 2 * (1.0 + 0.4 + 0.2) + 0.3, lambda t, x, v: np.zeros(2), sup)
    assert s.phase == "done" and all(t.success for t in s.trials), [t.final_error for t in s.trials]
    assert sup.state == SafetyState.RUN and sup.max_rom_excursion < 0
