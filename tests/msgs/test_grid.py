"""ScalarGrid ↔ nav_msgs/OccupancyGrid, with CDR round trips through rosbags' Jazzy classes."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.common.grid import ScalarGrid
from sanqin.msgs.errors import MessageError
from sanqin.msgs.factory import default_factory
from sanqin.msgs.grid import grid_to_occupancy, occupancy_to_grid


def _roundtrip(msg):
    f = default_factory()
    return f.deserialize(f.serialize(msg), "nav_msgs/msg/OccupancyGrid")


def test_grid_round_trip_scales_clips_and_marks_unknown() -> None:
    f = default_factory()
    values = np.array([[0.0, 0.25, np.nan], [1.0, 1.7, -0.2]])
    g = ScalarGrid(values, resolution_m=2.0, origin_xy_m=(10.0, -5.0), frame_id="field", stamp_s=12.5)
    msg = _roundtrip(grid_to_occupancy(g, f))
    assert (msg.info.width, msg.info.height) == (3, 2)
    assert msg.data.tolist() == [0, 25, -1, 100, 100, 0]
    back = occupancy_to_grid(msg)
    assert back.frame_id == "field" and back.stamp_s == pytest.approx(12.5)
    assert back.origin_xy_m == (10.0, -5.0) and back.resolution_m == 2.0
    assert np.isnan(back.values[0, 2]) and back.values[0, 1] == pytest.approx(0.25)


def test_rates_scale_with_value_max() -> None:
    f = default_factory()
    g = ScalarGrid(np.array([[100.0, 200.0]]), resolution_m=1.0, value_max=200.0)
    back = occupancy_to_grid(_roundtrip(grid_to_occupancy(g, f)), value_max=200.0)
    assert back.values.tolist() == [[100.0, 200.0]]


def test_bad_grids_are_rejected() -> None:
    f = default_factory()
    with pytest.raises(ValueError, match="2-D"):
        ScalarGrid(np.zeros(3), resolution_m=1.0)
    with pytest.raises(ValueError, match="resolution"):
        ScalarGrid(np.zeros((2, 2)), resolution_m=0.0)
    with pytest.raises(MessageError, match="value_max"):
        grid_to_occupancy(ScalarGrid(np.zeros((2, 2)), resolution_m=1.0, value_max=0.0), f)
    msg = grid_to_occupancy(ScalarGrid(np.zeros((2, 2)), resolution_m=1.0), f)
    msg.info.width = 5
    with pytest.raises(MessageError, match="cells"):
        occupancy_to_grid(msg)
