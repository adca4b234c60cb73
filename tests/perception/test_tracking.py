"""Multi-object tracking: velocity estimation, confirmation, death, crossing objects."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.common.obstacles import Obstacle
from sanqin.perception.tracking import MultiObjectTracker, TrackerConfig


def _det(x, y):
    return Obstacle(center_m=np.array([x, y, 0.9]), size_m=np.array([0.5, 0.5, 1.8]))


def test_constant_velocity_object_gets_its_velocity_and_a_stable_id() -> None:
    tr = MultiObjectTracker(TrackerConfig(min_hits=3))
    rng = np.random.default_rng(0)
    out = []
    for k in range(30):
        t = 0.1 * k
        out = tr.update([_det(1.0 + 1.2 * t + rng.normal(0, 0.03), -0.5 * t + rng.normal(0, 0.03))], t)
        if k < 2:
            assert out == []  # tentative until confirmed
    assert len(out) == 1
    assert out[0].velocity_m_s[:2] == pytest.approx([1.2, -0.5], abs=0.15)
    assert out[0].track_id == 0


def test_track_dies_after_max_misses_and_single_false_detection_never_confirms() -> None:
    tr = MultiObjectTracker(TrackerConfig(min_hits=2, max_misses=3))
    for k in range(5):
        tr.update([_det(0, 0)], 0.1 * k)
    tr.update([_det(0, 0), _det(10, 10)], 0.5)  # a one-frame ghost
    for k in range(6, 10):
        out = tr.update([], 0.1 * k)
    assert out == []
    assert tr.tracks == [] and tr.deaths == 2


def test_two_crossing_objects_keep_their_ids() -> None:
    tr = MultiObjectTracker(TrackerConfig(min_hits=2, gate_m=1.0))
    ids_a = set()
    for k in range(40):
        t = 0.1 * k
        a = _det(-2 + 1.0 * t, 0.5)
        b = _det(2 - 1.0 * t, -0.5)
        out = tr.update([a, b], t)
        for o in out:
            if o.velocity_m_s[0] > 0.5:
                ids_a.add(o.track_id)
    assert len(ids_a) == 1


def test_time_going_backwards_resets_tracks() -> None:
    tr = MultiObjectTracker(TrackerConfig(min_hits=1))
    tr.update([_det(0, 0)], 5.0)
    tr.update([_det(3, 3)], 1.0)
    assert len(tr.tracks) == 1 and tr.tracks[0].x[0] == 3


def test_non_finite_detections_are_dropped_and_counted() -> None:
    tr = MultiObjectTracker(TrackerConfig(min_hits=1))
    tr.update([_det(0, 0)], 0.0)
    bad = [_det(np.nan, 0), Obstacle(center_m=np.array([0.1, 0, 0.9]), size_m=np.array([np.inf, 0.5, 1.8]))]
    out = tr.update([*bad, _det(0.1, 0)], 0.1)  # NaN costs made linear_sum_assignment raise
    assert len(out) == 1 and np.all(np.isfinite(out[0].center_m)) and tr.rejected == 2
