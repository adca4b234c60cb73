"""Voxel Euclidean clustering and oriented boxes."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.perception.boxes import box_corners_xy, box_from_points, min_area_rect
from sanqin.perception.clustering import ClusterConfig, cluster_points, split_clusters


def _blob(rng, center, n=200, spread=0.2):
    return rng.normal(0, spread, (n, 3)) + center


def test_separated_blobs_are_separate_clusters_sorted_by_size() -> None:
    rng = np.random.default_rng(0)
    pts = np.vstack([_blob(rng, (0, 0, 0), 300), _blob(rng, (5, 0, 0), 100), _blob(rng, (0, 6, 0), 200)])
    labels = cluster_points(pts, ClusterConfig(tolerance_m=0.4, min_points=5))
    assert labels.max() == 2
    assert (labels[:300] == 0).all() and (labels[300:400] == 2).all() and (labels[400:] == 1).all()
    parts = split_clusters(labels)
    assert [len(p) for p in parts] == [300, 200, 100]


def test_points_within_tolerance_join_and_small_clusters_are_dropped() -> None:
    line = np.stack([np.arange(0, 5, 0.3), np.zeros(17), np.zeros(17)], 1)  # 0.3 m apart: one chain
    lone = np.array([[20.0, 0, 0]])
    labels = cluster_points(np.vstack([line, lone]), ClusterConfig(tolerance_m=0.35, min_points=3))
    assert (labels[:17] == 0).all()
    assert labels[17] == -1


def test_cluster_of_empty_cloud() -> None:
    assert cluster_points(np.zeros((0, 3)), ClusterConfig()).shape == (0,)
    assert split_clusters(np.array([-1, -1])) == []


@pytest.mark.parametrize("yaw", [0.0, 0.4, -1.2, 1.5])
def test_min_area_rect_recovers_a_rotated_rectangle(yaw: float) -> None:
    rng = np.random.default_rng(1)
    local = rng.uniform([-1.5, -0.4], [1.5, 0.4], (500, 2))
    local = np.vstack([local, [[1.5, 0.4], [-1.5, -0.4], [1.5, -0.4], [-1.5, 0.4]]])
    c, s = np.cos(yaw), np.sin(yaw)
    xy = local @ np.array([[c, -s], [s, c]]).T + [3.0, -2.0]
    center, length, width, got = min_area_rect(xy)
    assert center == pytest.approx([3.0, -2.0], abs=1e-6)
    assert (length, width) == pytest.approx((3.0, 0.8), abs=1e-6)
    assert np.mod(got - yaw + np.pi / 2, np.pi) - np.pi / 2 == pytest.approx(0.0, abs=1e-6)


def test_boxes_of_degenerate_clusters() -> None:
    one = box_from_points(np.array([[1.0, 2.0, 3.0]]), min_size_m=0.05)
    assert one.center_m == pytest.approx([1, 2, 3]) and one.size_m == pytest.approx([0.05] * 3)
    line = box_from_points(np.array([[0, 0, 0], [1, 1, 0], [2, 2, 1.0]]))
    assert line.size_m[0] == pytest.approx(np.hypot(2, 2)) and line.size_m[2] == pytest.approx(1.0)
    corners = box_corners_xy(line)
    assert corners.shape == (4, 2)
