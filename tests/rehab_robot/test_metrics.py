"""Movement metrics rank smooth, straight reaches above jerky, curved ones."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.rehab_robot.metrics import (
    normalized_jerk,
    path_deviation,
    range_of_motion,
    sparc,
    summarize,
    trial_metrics,
)
from sanqin.rehab_robot.trajectory import MinimumJerk

DT = 0.002


def _reach(segments=1, curve=0.0):
    t = np.arange(0, 1.5 + DT / 2, DT)
    mj = MinimumJerk(np.array([0.0, 0.0]), np.array([0.2, 0.0]), 0.0, 1.5)
    x = np.array([mj.sample(ti)[0] for ti in t])
    if segments > 1:  # a segmented, stop-and-go reach
        x[:, 0] += 0.01 * np.sin(2 * np.pi * segments * t / 1.5)
    x[:, 1] = curve * np.sin(np.pi * t / 1.5)
    v = np.gradient(x, DT, axis=0)
    return t, x, v


def test_sparc_and_jerk_rank_smoothness() -> None:
    t, x, v = _reach()
    _, xj, vj = _reach(segments=6)
    s_smooth, s_jerky = sparc(np.linalg.norm(v, axis=1), 1 / DT), sparc(np.linalg.norm(vj, axis=1), 1 / DT)
    assert -1.7 < s_smooth < -1.4 and s_jerky < s_smooth - 0.3
    assert normalized_jerk(xj, DT) > 2 * normalized_jerk(x, DT)
    # dimensionless: a minimum-jerk reach scores √360 whatever its amplitude and duration (∫ jerk² = 720 L²/T⁵)
    assert normalized_jerk(x, DT) == pytest.approx(np.sqrt(360), rel=0.01)
    assert normalized_jerk(5 * x[::2], 2 * DT) == pytest.approx(np.sqrt(360), rel=0.01)
    assert np.isnan(sparc(np.zeros(50), 100.0)) and np.isnan(normalized_jerk(np.zeros((20, 2)), DT))


def test_path_deviation_rom_and_1d_overshoot() -> None:
    _, x, _ = _reach(curve=0.03)
    assert path_deviation(x, np.zeros(2), np.array([0.2, 0.0])) == pytest.approx(0.03, abs=1e-4)
    assert range_of_motion(x) == pytest.approx([0.2, 0.03], abs=1e-4)
    assert path_deviation(np.array([[0.0], [1.2], [1.0]]), np.array([0.0]), np.array([1.0])) == pytest.approx(0.2)


def test_trial_metrics_and_session_summary() -> None:
    t, x, v = _reach()
    ok = trial_metrics(0, "passive", t, x, v, x, np.ones((t.size, 2)), x[0], np.array([0.2, 0.0]), 0.01, 0.8)
    assert ok.success and ok.rms_tracking_error == 0.0 and ok.peak_speed == pytest.approx(0.25, rel=0.01)
    assert ok.mean_assist_force == pytest.approx(np.sqrt(2))
    bad = trial_metrics(1, "passive", t, x, v, x, np.zeros((t.size, 2)), x[0], np.array([0.3, 0.0]), 0.01, 0.6)
    aborted = trial_metrics(2, "passive", t[:1], x[:1], v[:1], x[:1], x[:1], x[0], x[0], 0.01, 0.6, "safety HOLD")
    s = summarize([ok, bad, aborted])
    assert s.trials == 3 and s.aborted == 1 and s.success_rate == pytest.approx(1 / 3)
    assert s.final_assist_gain == 0.6 and s.to_dict()["rom"] == pytest.approx([0.2, 0.0])
    assert aborted.to_dict()["final_error"] is None
