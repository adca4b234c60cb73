"""The safety supervisor stops, holds and latches on every fault, within the cycle it sees it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sanqin.rehab_robot.errors import SafetyError
from sanqin.rehab_robot.robots import make_robot
from sanqin.rehab_robot.supervisor import SafetyInput, SafetyState, SafetySupervisor, SupervisorConfig

from .rehab_helpers import planar_input

DT = 0.001


def _run(sup, robot, n, t0=0.0, **kw):
    out = None
    for k in range(n):
        out = sup.step(planar_input(robot, t0 + k * DT, **kw))
    return out


def test_run_passes_the_command_and_clamps_torque_once_logged(planar_supervisor) -> None:
    robot = planar_supervisor.robot
    out = planar_supervisor.step(planar_input(robot, 0.0, tau=(1.0, -0.5)))
    assert out.state == SafetyState.RUN and np.allclose(out.tau_nm, [1.0, -0.5])
    out = _run(planar_supervisor, robot, 5, 0.001, tau=(0.0, 200.0))
    q = robot.inverse(np.array([0.0, 0.40]))
    assert np.linalg.norm(robot.task_force(q, out.tau_nm)) <= 40.0 + 1e-6  # max interaction
    assert np.all(np.abs(out.tau_nm) <= [25.0, 18.0])
    clamps = [e for e in planar_supervisor.events if e.kind.endswith("_clamp")]
    assert len(clamps) == 1 and "scaled" in clamps[0].cause  # once per episode, not per cycle


def test_soft_wall_removes_outward_command_and_pushes_back(planar_supervisor) -> None:
    robot = planar_supervisor.robot
    # near the +x ROM edge (0.16 m), commanding +x force
    x = (0.155, 0.40)
    q = robot.inverse(np.array(x))
    tau_out = robot.joint_torque(q, np.array([20.0, 0.0]))
    out = planar_supervisor.step(planar_input(robot, 0.0, x=x, tau=tuple(tau_out)))
    f = robot.task_force(q, out.tau_nm)
    assert f[0] < 0  # the wall pushes back inward instead of the outward command
    assert out.state == SafetyState.RUN


def test_spasm_enters_compliant_hold_in_the_same_cycle_and_releases_without_jump(planar_supervisor) -> None:
    sup, robot = planar_supervisor, planar_supervisor.robot
    v = (0.0, 0.2)  # moving forward (+y)
    _run(sup, robot, 20, v=v, f=(0.0, 2.0))
    # a flexor spasm: the patient suddenly pulls back (−y) at 15 N
    out = sup.step(planar_input(robot, 0.020, v=v, f=(0.0, -15.0)))
    assert out.state == SafetyState.HOLD
    assert [e.kind for e in out.events] == ["spasm"] and "opposing interaction" in out.events[0].cause
    # while held, the robot does not push against the spasm (it pulls −y); it only damps the ongoing motion
    q = robot.inverse(np.array([0.0, 0.40]))
    f_hold = robot.task_force(q, out.tau_nm)
    assert f_hold[1] <= 1e-6 and abs(f_hold[0]) < 0.05 * sup.limits.max_interaction
    held = sup.step(planar_input(robot, 0.0205, v=(0.0, 0.0), f=(0.0, -15.0)))
    assert np.linalg.norm(robot.task_force(q, held.tau_nm)) < 1e-6  # at rest at the hold point: no force at all
    # calm for hold_release_s → RUN, with a ramp: the torque changes smoothly towards the command
    taus = []
    t = 0.021
    for _ in range(int(1.5 / DT)):
        o = sup.step(planar_input(robot, t, f=(0.0, 0.0), tau=(5.0, 3.0)))
        taus.append(o.tau_nm.copy())
        t += DT
    assert sup.state == SafetyState.RUN and any(e.kind == "release" for e in sup.events)
    jumps = np.max(np.abs(np.diff(np.array(taus), axis=0)))
    assert jumps < 0.1  # N·m per cycle: no torque jump on release
    assert np.allclose(taus[-1], [5.0, 3.0])


def test_sensor_timeout_safe_stop_is_latched_until_explicit_reset(planar_supervisor) -> None:
    sup, robot = planar_supervisor, planar_supervisor.robot
    _run(sup, robot, 10)
    out = sup.step(planar_input(robot, 0.050, sensor_t=0.009, tau=(5.0, 5.0)))
    assert out.state == SafetyState.STOP and out.events[0].kind == "sensor_timeout"
    assert out.events[0].value == pytest.approx(0.041) and out.events[0].limit == 0.02
    assert np.allclose(out.tau_nm, 0.0, atol=1e-6)  # compensation+damping at rest: no active push
    out = _run(sup, robot, 10, 0.051, tau=(5.0, 5.0))  # sensors back: still latched
    assert out.state == SafetyState.STOP and not np.allclose(out.tau_nm, [5.0, 5.0])
    assert sum(e.kind == "sensor_timeout" for e in sup.events) == 1  # logged once, not per cycle
    with pytest.raises(SafetyError, match="reason"):
        sup.reset(0.07, " ")
    sup.reset(0.07, "therapist checked the cable")
    out = _run(sup, robot, 3, 0.071, tau=(5.0, 5.0))
    assert out.state == SafetyState.RUN and np.allclose(out.tau_nm, [5.0, 5.0])


@pytest.mark.parametrize("field", ["q", "qd", "interaction"])
def test_nan_sensor_values_safe_stop_with_finite_torque(planar_supervisor, field) -> None:
    sup, robot = planar_supervisor, planar_supervisor.robot
    _run(sup, robot, 3)
    good = planar_input(robot, 0.003)
    bad = dataclasses.replace(good, **{field: np.full(2, np.nan)})
    out = sup.step(bad)
    assert out.state == SafetyState.STOP and out.events[0].kind == "non_finite_sensor"
    assert np.all(np.isfinite(out.tau_nm))


def test_nan_command_and_malformed_input(planar_supervisor) -> None:
    sup, robot = planar_supervisor, planar_supervisor.robot
    out = sup.step(planar_input(robot, 0.0, tau=(np.nan, 0.0)))
    assert out.state == SafetyState.STOP and out.events[-1].kind == "non_finite_command"
    sup2 = SafetySupervisor(SupervisorConfig(), robot, sup.profile)
    out = sup2.step(dataclasses.replace(planar_input(robot, 0.0), q=np.zeros(3)))
    assert out.state == SafetyState.STOP and out.events[0].kind == "bad_input"


@pytest.mark.parametrize("jump_s", [-0.01, 0.5])
def test_clock_jump_backwards_or_forwards_is_a_safe_stop(planar_supervisor, jump_s) -> None:
    sup, robot = planar_supervisor, planar_supervisor.robot
    _run(sup, robot, 20)
    t = 0.019 + jump_s
    out = sup.step(planar_input(robot, t))
    assert out.state == SafetyState.STOP and out.events[0].kind == "clock_jump"
    assert "clock jumped" in out.events[0].cause


def test_speed_interaction_and_rom_limits_stop(planar_profile) -> None:
    robot = make_robot("planar")
    cases = [(dict(v=(0.0, 0.7)), "max_speed"), (dict(f=(0.0, 45.0)), "max_interaction"),
             (dict(x=(0.17, 0.40)), "range_of_motion")]
    for kw, kind in cases:
        sup = SafetySupervisor(SupervisorConfig(interaction_filter_s=0.0), robot, planar_profile)
        out = sup.step(planar_input(robot, 0.0, **kw))
        assert out.state == SafetyState.STOP, kind
        assert out.events[0].kind == kind and out.events[0].value > out.events[0].limit


def test_estop_latches_zero_torque_and_reset_needs_release(planar_supervisor) -> None:
    sup, robot = planar_supervisor, planar_supervisor.robot
    sup.set_estop(True, 0.0, "patient pressed the button")
    out = sup.step(planar_input(robot, 0.001, tau=(3.0, 3.0)))
    assert out.state == SafetyState.ESTOP and np.all(out.tau_nm == 0.0)
    with pytest.raises(SafetyError, match="still pressed"):
        sup.reset(0.01, "ok")
    sup.set_estop(False, 0.02)
    assert sup.step(planar_input(robot, 0.021)).state == SafetyState.ESTOP  # still latched
    ev = sup.reset(0.03, "patient settled")
    assert ev.kind == "reset" and sup.state == SafetyState.RUN
    assert [e.kind for e in sup.events] == ["estop", "reset"]


def test_exoskeleton_supervisor_compensates_gravity_in_stop(exo_profile) -> None:
    robot = make_robot("exo_elbow")
    sup = SafetySupervisor(SupervisorConfig(), robot, exo_profile)
    q = np.array([1.0])
    out = sup.step(SafetyInput(0.0, 0.0, q, np.zeros(1), np.zeros(1), np.array([np.inf])))
    assert out.state == SafetyState.STOP
    assert out.tau_nm == pytest.approx(robot.chain.gravity(q))


def test_supervisor_refuses_a_profile_beyond_the_hardware(planar_profile) -> None:
    lim = dataclasses.replace(planar_profile.limits, max_speed=9.0)
    bad = dataclasses.replace(planar_profile, limits=lim)
    with pytest.raises(SafetyError, match="does not fit"):
        SafetySupervisor(SupervisorConfig(), make_robot("planar"), bad)


def test_singular_arm_or_malformed_time_is_a_safe_stop_not_an_exception(planar_supervisor) -> None:
    sup, robot = planar_supervisor, planar_supervisor.robot
    _run(sup, robot, 3)
    # an encoder glitch reporting the stretched arm (q = 0): Jᵀ is singular, the command has no task force
    glitch = dataclasses.replace(planar_input(robot, 0.003, tau=(4.0, 2.0)), q=np.zeros(2))
    out = sup.step(glitch)
    assert out.state == SafetyState.STOP and "singular_configuration" in [e.kind for e in out.events]
    assert np.all(np.isfinite(out.tau_nm)) and np.all(np.abs(out.tau_nm) <= sup.limits.max_joint_torque_nm)
    sup2 = SafetySupervisor(SupervisorConfig(), robot, sup.profile)
    out = sup2.step(dataclasses.replace(planar_input(robot, 0.0), t_s=None))
    assert out.state == SafetyState.STOP and out.events[0].kind == "clock" and np.all(out.tau_nm == 0.0)


@pytest.mark.parametrize("x", [(0.30, 0.40), (0.20, 0.60), (0.157, 0.40)])
def test_the_supervisor_never_presses_harder_than_max_interaction_at_the_rom_edge(planar_profile, x) -> None:
    robot = make_robot("planar")
    sup = SafetySupervisor(SupervisorConfig(), robot, planar_profile)
    q = robot.inverse(np.array(x))
    # beyond the ROM (STOP) or inside the wall zone with a large inward command (RUN)
    tau = tuple(robot.joint_torque(q, np.array([-39.0, 0.0])))
    out = sup.step(planar_input(robot, 0.0, x=x, tau=tau))
    f = robot.task_force(q, out.tau_nm)
    assert np.linalg.norm(f) <= planar_profile.limits.max_interaction + 1e-6
    assert f[0] < 0  # still pushing back inward
