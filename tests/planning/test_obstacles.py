"""Obstacle tables, reference deflection and corridor half-planes."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.common.obstacles import Obstacle, ObstacleList
from sanqin.planning import obstacles as obst


def _boxes(*centres, size=(1.0, 1.0)):
    return ObstacleList(tuple(Obstacle(np.array([x, y, 0.0]), np.array([*size, 1.0])) for x, y in centres))


def test_keep_out_table_inflates_sorts_and_skips_nan() -> None:
    ol = ObstacleList((*_boxes((10, 0), (3, 0)).obstacles, Obstacle(np.array([np.nan, 0, 0]), np.ones(3))))
    t = obst.keep_out_table(ol, np.zeros(2), robot_radius_m=0.5, margin_m=0.1, max_count=4)
    assert t.shape == (2, 6)
    assert t[0, 0] == 3.0  # nearest first
    assert t[0, 2] == pytest.approx(np.sqrt(2) / 2 + 0.6)
    assert obst.keep_out_table(None, np.zeros(2), 0.5).shape == (0, 6)


def test_deflected_reference_leaves_the_keep_out_zone_on_one_side() -> None:
    table = obst.keep_out_table(_boxes((2.0, 0.05)), np.zeros(2), 0.3)
    pts = np.column_stack([np.linspace(0, 4, 41), np.zeros(41)])
    out = obst.deflect_reference(pts, np.zeros(41), table, scale=1.1)
    assert np.all(obst.ellipse_distance(out, table)[:, 0] >= 1.1 - 1e-9)
    moved = out[:, 1] != 0
    assert moved.any() and np.all(out[moved, 1] < 0)  # obstacle sits left of the line: pass right


def test_corridor_planes_contain_the_path() -> None:
    pts = np.array([[0.0, 0.0], [1.0, 0.0]])
    planes = obst.corridor_planes(pts, np.zeros(2), left_m=0.5, right_m=0.7)
    inside = planes[0, :, :2] @ np.array([0.0, 0.4]) <= planes[0, :, 2]
    outside = planes[0, :, :2] @ np.array([0.0, -0.8]) <= planes[0, :, 2]
    assert inside.all() and not outside.all()
