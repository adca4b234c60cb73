"""Rail patrol (profile, stops, pause/resume) and the force-limited contact probe on a spring contact."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.control.contact_probe import ContactProbe, ContactProbeConfig, ProbeState
from sanqin.control.errors import ForceLimitError
from sanqin.control.rail_patrol import PatrolState, RailPatrolConfig, RailPatrolController
from sanqin.runtime.config import load_config
from sanqin.runtime.errors import ConfigError

DT = 0.01


def _patrol(**kw) -> RailPatrolController:
    return RailPatrolController(load_config(RailPatrolConfig, {
        "inspection_points_m": [5.0, 12.0], "dwell_s": 1.0, "safety": {"watchdog_timeout_s": 0.05}, **kw}))


def test_patrol_visits_points_respecting_speed_and_accel() -> None:
    ctrl = _patrol(**{"safety": {"watchdog_timeout_s": 0.05, "max_linear_speed_m_s": 0.6}})
    x, t, vs = 0.0, 0.0, []
    while t < 60.0 and ctrl.state is not PatrolState.DONE:
        t += DT
        ctrl.on_position(t, t, x)
        v = ctrl.step(t)
        vs.append(v)
        x += v * DT
    assert ctrl.state is PatrolState.DONE
    assert [p for _, p in ctrl.visited] == [5.0, 12.0]
    assert abs(x - 12.0) < 0.03
    vs = np.array(vs)
    assert vs.max() <= 0.6 + 1e-9 and np.abs(np.diff(vs)).max() <= 0.3 * DT + 1e-9


def test_pause_resume_and_dropout() -> None:
    ctrl = _patrol()
    x, t = 0.0, 0.0
    for _ in range(300):
        t += DT
        ctrl.on_position(t, t, x)
        x += ctrl.step(t) * DT
    ctrl.pause()
    for _ in range(400):
        t += DT
        ctrl.on_position(t, t, x)
        v = ctrl.step(t)
        x += v * DT
    assert v == 0.0
    ctrl.resume()
    t += DT
    ctrl.on_position(t, t, x)
    assert ctrl.step(t) > 0
    for _ in range(6):  # encoder silent → stop within a few cycles
        t += DT
        v = ctrl.step(t)
    assert v == 0.0 and not ctrl.safety.allowed


def _probe_run(probe, cable_at=0.1, k=2000.0, n=2500, spike_at=None):
    x, t = 0.0, 0.0
    states = []
    for i in range(n):
        t += DT
        f = max(0.0, (x - cable_at) * k)
        if spike_at is not None and i == spike_at:
            f += 50.0
        probe.on_probe(t, t, x, f)
        x += probe.step(t) * DT
        states.append(probe.state)
        if probe.state in (ProbeState.DONE,):
            break
    return x, states


def test_probe_places_holds_and_retracts_below_limit() -> None:
    probe = ContactProbe(ContactProbeConfig())
    probe.start(8.0)
    x, states = _probe_run(probe)
    assert probe.state is ProbeState.DONE and ProbeState.HOLD in states
    assert np.mean(probe.held_forces) == pytest.approx(8.0, abs=1.0)
    assert probe.max_force_n < probe.config.abort_force_n and x <= 1e-3


def test_probe_aborts_on_overshoot_and_retracts() -> None:
    probe = ContactProbe(ContactProbeConfig(safety=load_config(ContactProbeConfig, {}).safety))
    probe.start()
    x, states = _probe_run(probe, spike_at=1100, n=1600)
    assert probe.state is ProbeState.ABORTED and "overshoot" in probe.reason
    assert x <= 1e-3


def test_probe_target_above_limit_refused_without_motion() -> None:
    probe = ContactProbe(ContactProbeConfig())
    with pytest.raises(ForceLimitError, match="refused"):
        probe.start(25.0)
    probe.on_probe(0.01, 0.01, 0.0, 0.0)
    assert probe.state is ProbeState.IDLE and probe.step(0.01) == 0.0
    with pytest.raises(ConfigError, match="abort_force_n"):
        load_config(ContactProbeConfig, {"abort_force_n": 200.0})


def test_probe_no_contact_aborts() -> None:
    probe = ContactProbe(ContactProbeConfig(max_extension_m=0.05))
    probe.start()
    _probe_run(probe, cable_at=0.2, n=1500)
    assert probe.state is ProbeState.ABORTED and "no contact" in probe.reason


def test_force_estop_releases_the_contact_then_stops() -> None:
    probe = ContactProbe(load_config(ContactProbeConfig, {"safety": {"max_force_n": 40.0}}))
    probe.start()
    x, t = 0.0, 0.0
    for _ in range(1150):  # approach until pressing
        t += DT
        probe.on_probe(t, t, x, max(0.0, (x - 0.1) * 2000.0))
        x += probe.step(t) * DT
    assert probe.state in (ProbeState.CONTACT, ProbeState.HOLD)
    t += DT
    probe.on_probe(t, t, x, 90.0)  # the cable jerks into the probe: far above the 40 N safety limit
    v = probe.step(t)
    assert v < 0 and probe.safety.latched and probe.state is ProbeState.ABORTED  # release in the same cycle
    t += DT
    probe.on_probe(t, t, x - 0.01, 0.0)  # contact released
    assert probe.step(t) == 0.0  # latched: no further motion until reset


def test_force_estop_release_needs_valid_probe_data() -> None:
    probe = ContactProbe(load_config(ContactProbeConfig, {"safety": {"max_force_n": 40.0}}))
    probe.start()
    x, t = 0.0, 0.0
    for _ in range(1150):
        t += DT
        probe.on_probe(t, t, x, max(0.0, (x - 0.1) * 2000.0))
        x += probe.step(t) * DT
    t += DT
    probe.on_probe(t, t, x, 90.0)
    assert probe.step(t) < 0  # releasing the clamped contact
    t += DT
    assert not probe.on_probe(t, t, x, float("nan"))  # the force sensor fails mid-release
    assert probe.step(t) == 0.0  # the last good force is no reason to keep moving
    assert probe.step(t + 10 * DT) == 0.0  # nor once it has gone stale


def test_contact_lost_while_regulating_stops_at_the_end_of_travel() -> None:
    probe = ContactProbe(ContactProbeConfig(max_extension_m=0.12))
    probe.start()
    x, t = 0.0, 0.0
    cable = True
    xs = []
    for _ in range(3000):
        t += DT
        f = max(0.0, (x - 0.1) * 2000.0) if cable else 0.0
        probe.on_probe(t, t, x, f)
        x += probe.step(t) * DT
        xs.append(x)
        if probe.state is ProbeState.CONTACT:
            cable = False  # the cable slips away before the hold starts
        if probe.state is ProbeState.ABORTED and x <= 1e-3:
            break
    assert probe.state is ProbeState.ABORTED and "travel" in probe.reason
    assert max(xs) <= 0.12 + probe.config.approach_speed_m_s * DT + 1e-9 and x <= 1e-3


def test_probe_home_must_lie_inside_the_travel() -> None:
    with pytest.raises(ConfigError, match="home_m"):
        load_config(ContactProbeConfig, {"home_m": 0.3, "max_extension_m": 0.25})


def test_interlock_holds_the_carriage() -> None:
    ctrl = _patrol()
    ctrl.interlock_ok = False
    x, t = 0.0, 0.0
    for _ in range(200):
        t += DT
        ctrl.on_position(t, t, x)
        x += ctrl.step(t) * DT
    assert x == 0.0
