"""Fault injection on the shared safety layer: every violation stops in the same cycle."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sanqin.control.safety import SafetyConfig, SafetyLayer, SafetyState
from sanqin.runtime.config import load_config
from sanqin.runtime.errors import ConfigError

DT = 0.002


def _layer(**kw) -> SafetyLayer:
    cfg = load_config(SafetyConfig, {"watchdog_timeout_s": 0.007, **kw})
    return SafetyLayer(cfg, ("joint_states", "wrench"), np.full(2, -1.0), np.full(2, 1.0))


def _feed(layer: SafetyLayer, t: float, f=(0.0, 0.0, 5.0)) -> None:
    layer.observe("joint_states", t, t, np.zeros(2))
    layer.observe("wrench", t, t, np.asarray(f))


def _run(layer: SafetyLayer, n: int, t0: float = 0.0, feed: bool = True) -> float:
    t = t0
    for _ in range(n):
        t += DT
        if feed:
            _feed(layer, t)
        v = layer.assess(t, force_n=np.array([0.0, 0.0, 5.0]), q=np.zeros(2))
    assert v.allowed or not feed
    return t


def test_waits_for_data_then_allows_motion() -> None:
    layer = _layer()
    v = layer.assess(0.0)
    assert not v.allowed and any("no data" in r for r in v.reasons)
    _run(layer, 5)
    assert layer.state is SafetyState.OK


def test_sensor_dropout_stops_within_a_few_cycles_and_resumes_when_data_returns() -> None:
    layer = _layer()
    t = _run(layer, 10)
    stopped_after = None
    for k in range(1, 10):
        t += DT
        layer.observe("joint_states", t, t, np.zeros(2))  # the wrench sensor dropped out
        if not layer.assess(t, q=np.zeros(2)).allowed:
            stopped_after = k
            break
    assert stopped_after is not None and stopped_after <= 4
    assert "wrench stale" in layer.reasons
    _run(layer, 2, t)
    assert layer.allowed  # a protective stop clears by itself
    assert layer.counters["stale_trips"] == 1


def test_nan_wrench_is_rejected_and_stops_in_the_same_cycle() -> None:
    layer = _layer()
    t = _run(layer, 5) + DT
    layer.observe("joint_states", t, t, np.zeros(2))
    assert not layer.observe("wrench", t, t, np.array([np.nan, 0, 0]))
    v = layer.assess(t, q=np.zeros(2))
    assert not v.allowed and v.state is SafetyState.STOPPED
    assert layer.counters["rejected_nonfinite"] == 1
    assert layer.observe("wrench", t + DT, t + DT, np.zeros(3))
    assert layer.assess(t + DT, q=np.zeros(2)).allowed


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_nonfinite_state_passed_to_assess_stops(bad: float) -> None:
    layer = _layer()
    t = _run(layer, 3) + DT
    _feed(layer, t)
    assert not layer.assess(t, q=np.array([0.0, bad])).allowed


def test_force_spike_latches_estop_until_explicit_reset() -> None:
    layer = _layer(max_force_n=100.0)
    t = _run(layer, 3) + DT
    _feed(layer, t, (0.0, 0.0, 250.0))
    v = layer.assess(t, force_n=np.array([0.0, 0.0, 250.0]), q=np.zeros(2))
    assert not v.allowed and v.state is SafetyState.ESTOP and "250.0 N" in v.reasons[0]
    for _ in range(5):  # spike gone, still latched
        t += DT
        _feed(layer, t)
        assert not layer.assess(t, force_n=np.zeros(3), q=np.zeros(2)).allowed
    ok, msg = layer.reset(t)
    assert ok, msg
    t += DT
    _feed(layer, t)
    assert layer.assess(t, force_n=np.zeros(3), q=np.zeros(2)).allowed
    assert layer.counters["estops"] == 1 and layer.counters["resets"] == 1


def test_reset_refused_while_inputs_are_stale() -> None:
    layer = _layer()
    t = _run(layer, 3)
    layer.request_estop("operator")
    t += 0.1  # no data for 100 ms
    ok, msg = layer.reset(t)
    assert not ok and "not fresh" in msg
    assert not layer.assess(t).allowed


def test_torque_limit_latches() -> None:
    layer = _layer(max_torque_nm=5.0)
    t = _run(layer, 3) + DT
    _feed(layer, t)
    assert layer.assess(t, torque_nm=np.array([6.0, 0, 0])).state is SafetyState.ESTOP


def test_joint_limit_hit_latches_and_motion_into_band_is_blocked() -> None:
    layer = _layer(joint_limit_margin=0.05)
    t = _run(layer, 3) + DT
    _feed(layer, t)
    qd = layer.limit_joint_velocity(np.array([-0.5, 0.5]), np.array([-0.97, 0.0]))
    assert qd[0] == 0.0 and qd[1] == 0.5 and layer.state is SafetyState.LIMITED
    away = layer.limit_joint_velocity(np.array([0.5, 0.0]), np.array([-0.97, 0.0]))
    assert away[0] == 0.5
    v = layer.assess(t, q=np.array([-1.01, 0.0]))
    assert v.state is SafetyState.ESTOP and "joint 0" in v.reasons[0]


def test_clock_jump_backwards_stops_and_needs_fresh_data() -> None:
    layer = _layer()
    t = _run(layer, 10)
    back = t - 1.0
    v = layer.assess(back, q=np.zeros(2))
    assert not v.allowed and "backwards" in v.reasons[0]
    assert layer.dt_s == 0.0 and layer.counters["clock_jumps"] == 1
    _feed(layer, back + DT)  # old stamps would be out of order; the jump resets ordering
    assert layer.assess(back + DT, q=np.zeros(2)).allowed


def test_large_forward_clock_jump_stops() -> None:
    layer = _layer()
    t = _run(layer, 10) + 5.0
    _feed(layer, t)  # even with data stamped at the new time, the jump itself stops this cycle
    v = layer.assess(t, q=np.zeros(2))
    assert not v.allowed and "forwards" in v.reasons[0]


def test_out_of_order_and_stale_messages_are_rejected() -> None:
    layer = _layer()
    t = _run(layer, 5)
    assert not layer.observe("wrench", t - 0.5, t, np.zeros(3))
    assert layer.counters["rejected_out_of_order"] == 1
    t += DT
    layer.observe("joint_states", t, t, np.zeros(2))
    layer.observe("wrench", t - 0.5, t, np.zeros(3))  # old stamp: dropped, wrench ages
    for _ in range(4):
        t += DT
        layer.observe("joint_states", t, t, np.zeros(2))
        v = layer.assess(t)
    assert not v.allowed and "wrench stale" in v.reasons


def test_speed_and_power_limits_scale_keeping_direction() -> None:
    layer = _layer(max_linear_speed_m_s=0.2, max_power_w=10.0)
    _run(layer, 3)
    v, w = layer.limit_twist(np.array([0.3, 0.4, 0.0]), np.zeros(3))
    assert np.linalg.norm(v) == pytest.approx(0.2) and v[1] / v[0] == pytest.approx(4 / 3)
    v, _ = layer.limit_twist(np.array([0.0, 0.0, -0.1]), np.zeros(3), force_n=np.array([0.0, 0.0, 200.0]))
    assert abs(200.0 * v[2]) == pytest.approx(10.0)
    qd = layer.limit_joint_velocity(np.array([2.0, -1.0]))
    assert qd == pytest.approx([1.0, -0.5])


def test_non_finite_output_becomes_a_stop() -> None:
    layer = _layer()
    _run(layer, 3)
    assert not layer.check_output(np.array([0.0, np.nan]))
    assert not layer.allowed


def test_diagnostic_reports_state() -> None:
    layer = _layer()
    layer.request_estop("test")
    d = layer.diagnostic("sanqin/safety")
    assert int(d.level) == 2 and d.values["state"] == "estop" and "test" in d.message


def test_inconsistent_config_rejected() -> None:
    with pytest.raises(ConfigError, match="max_clock_step_s"):
        load_config(SafetyConfig, {"watchdog_timeout_s": 1.0, "max_clock_step_s": 0.5})
    with pytest.raises(ConfigError, match="below the minimum"):
        load_config(SafetyConfig, {"max_force_n": -1.0})


def test_future_stamped_sample_cannot_poison_the_ordering() -> None:
    layer = _layer()
    t = _run(layer, 5) + DT
    assert not layer.observe("wrench", t + 100.0, t, np.zeros(3))  # a glitched stamp far ahead
    assert layer.counters["rejected_future"] == 1
    _feed(layer, t)  # correctly stamped samples keep flowing
    assert layer.assess(t, q=np.zeros(2)).allowed


def test_a_nan_node_clock_cannot_make_data_fresh_or_clear_a_latch() -> None:
    layer = _layer()
    t = _run(layer, 3)
    layer.request_estop("operator")
    assert not layer.observe("wrench", t, math.nan, np.zeros(3))
    ok, msg = layer.reset(math.nan)
    assert not ok and "not fresh" in msg and layer.latched
    t += DT
    layer.observe("joint_states", t, t, np.zeros(2))
    assert not layer.assess(t, q=np.zeros(2)).allowed  # the wrench channel stays invalid until a good sample
    _feed(layer, t + DT)
    assert layer.reset(t + DT)[0]


def test_a_frozen_driver_repeating_its_last_stamp_trips_the_watchdog() -> None:
    layer = _layer()
    t = _run(layer, 5)
    frozen = t
    allowed = []
    for _ in range(6):
        t += DT
        layer.observe("joint_states", t, t, np.zeros(2))
        allowed.append(layer.observe("wrench", frozen, t, np.zeros(3)))  # same sample again and again
        v = layer.assess(t, q=np.zeros(2))
    assert not any(allowed) and layer.counters["rejected_duplicate"] == 6
    assert not v.allowed and "wrench stale" in v.reasons
