"""Hand-guided mecanum base in MuJoCo: limits hold, payload makes it heavier, a handle dropout stops it."""

from __future__ import annotations

import dataclasses

import numpy as np

from sanqin.runtime.paths import share_dir
from sanqin.runtime.runner import build_graph, run_scenario
from sanqin.runtime.scenario import load_scenario

SCENARIO = share_dir() / "sim" / "scenarios" / "mecanum_hand_guiding.yaml"


def _with_sim_params(**params):
    sc = load_scenario(SCENARIO)
    sim = sc.simulators[0]
    return dataclasses.replace(sc, simulators=(dataclasses.replace(sim, params={**sim.params, **params}),))


def test_limits_hold_and_a_heavier_payload_moves_less(tmp_path) -> None:
    loaded = run_scenario(_with_sim_params(payload_kg=400.0), tmp_path / "loaded", plots=False)
    empty = run_scenario(_with_sim_params(payload_kg=0.0), record=False, plots=False)
    assert loaded.passed, loaded.checks
    assert empty.passed, empty.checks
    lm, em = loaded.metrics, empty.metrics
    assert lm["base.first_push_distance_m"] < 0.5 * em["base.first_push_distance_m"]
    for m in (lm, em):
        assert m["base.max_accel_m_s2"] <= 0.5 * 1.1  # acceleration limit (plus servo transients)
        assert m["base.max_wheel_speed_rad_s"] <= 2.5 + 1e-9  # saturation kept the wheels in range
    assert lm["nodes.mecanum_hand_guide.payload_kg"] == 400.0  # the payload topic reached the controller


def test_handle_sensor_dropout_stops_the_base_within_a_few_cycles() -> None:
    sc = _with_sim_params(dropout_start_s=2.0, dropout_s=1.0)
    graph, sims, _ = build_graph(sc)
    sim = sims[0][1]
    wheel_log = []
    for k in range(1, 400):
        t = k * sc.step_s
        sim.step(t, sc.step_s)
        graph.advance_to(t)
        wheel_log.append((t, np.abs(sim.wheels_cmd).max()))
    before = [w for t, w in wheel_log if 1.9 < t < 2.0]
    after = [(t, w) for t, w in wheel_log if 2.0 <= t < 3.0]
    assert min(before) > 0.1
    first_zero = next(t for t, w in after if w == 0.0)
    assert first_zero - 2.0 <= 0.07  # watchdog 50 ms + one cycle
    assert all(w == 0.0 for t, w in after if t > first_zero)
    assert max(w for t, w in wheel_log if t > 3.2) > 0.1  # resumes once the handle is back
