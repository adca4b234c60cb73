"""Reference paths: projection, speed profile with braking, stop points and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.planning.errors import PathReferenceError
from sanqin.planning.reference import ReferencePath, StopPoint


def test_projection_and_sampling_along_an_l_shaped_path() -> None:
    path = ReferencePath(np.array([[0, 0], [4, 0], [4, 4.0]]), speed_m_s=1.0, decel_m_s2=0.5)
    assert path.length_m == pytest.approx(8.0)
    assert path.project(np.array([2.0, 0.3])) == pytest.approx(2.0)
    s, v = path.sample(2.0, 0.1, 10)
    assert s[-1] == pytest.approx(3.0) and np.all(v == pytest.approx(1.0))
    assert path.tangent_yaw(5.0) == pytest.approx(np.pi / 2)
    s, v = path.sample(7.9, 0.1, 20)
    assert s[-1] == pytest.approx(8.0) and v[-1] < 0.1  # brakes to the end, never beyond


def test_stop_point_caps_the_reference_and_dwells() -> None:
    path = ReferencePath(np.array([[0.0], [10.0]]), speed_m_s=1.0, stops=(StopPoint(3.0, 1.0),))
    s, _ = path.sample(2.5, 0.1, 30)
    assert s.max() == pytest.approx(3.0)
    s, v = path.sample(3.0, 0.1, 30, dwell_left_s=1.0, passed_m=3.0)
    assert np.all(v[:10] == 0.0) and s[-1] > 3.0


@pytest.mark.parametrize(
    "points, speed",
    [(np.array([[0, 0], [np.nan, 1]]), 1.0), (np.zeros((2, 5)), 1.0), (np.array([[0, 0], [1, 0]]), -1.0)],
)
def test_bad_reference_raises(points, speed) -> None:
    with pytest.raises(PathReferenceError):
        ReferencePath(points, speed)


def test_stop_outside_the_path_raises() -> None:
    with pytest.raises(PathReferenceError, match="outside"):
        ReferencePath(np.array([[0.0], [1.0]]), 1.0, stops=(StopPoint(5.0),))
