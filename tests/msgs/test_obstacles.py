"""The obstacle table survives PointCloud2 + CDR, in any field order, and rejects malformed tables."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.common.obstacles import OBSTACLE_FIELDS, Obstacle, ObstacleList
from sanqin.msgs.errors import MessageError
from sanqin.msgs.obstacles import obstacles_to_pointcloud2, pointcloud2_to_obstacles
from sanqin.msgs.pointcloud import table_to_pointcloud2


def _list():
    return ObstacleList(
        obstacles=(
            Obstacle(np.array([1.5, -2.0, 0.5]), np.array([4.0, 2.0, 1.5]), 0.25, np.array([1.0, 0.0, 0.0]), 7, 0.9),
            Obstacle(np.array([10.0, 3.0, 0.0]), np.array([0.5, 0.5, 1.8]), -1.0, np.zeros(3), 123456, 0.5),
        ),
        stamp_s=42.5,
        frame_id="odom",
    )


def test_roundtrip_through_cdr(factory, cdr):
    src = _list()
    msg = cdr(obstacles_to_pointcloud2(src, factory))
    assert [f.name for f in msg.fields] == list(OBSTACLE_FIELDS)
    back = pointcloud2_to_obstacles(msg)
    assert back.stamp_s == pytest.approx(42.5) and back.frame_id == "odom"
    assert [o.track_id for o in back.obstacles] == [7, 123456]
    np.testing.assert_allclose(back.as_array(), src.as_array(), rtol=1e-6)


def test_empty_list(factory, cdr):
    back = pointcloud2_to_obstacles(cdr(obstacles_to_pointcloud2(ObstacleList(stamp_s=1.0), factory)))
    assert back.obstacles == () and back.frame_id == "odom"


def test_any_field_order(factory):
    table = _list().as_array()
    order = list(reversed(range(len(OBSTACLE_FIELDS))))
    msg = table_to_pointcloud2(table[:, order], [OBSTACLE_FIELDS[i] for i in order], 1.0, "map", factory)
    np.testing.assert_allclose(pointcloud2_to_obstacles(msg).as_array(), table, rtol=1e-6)


def test_missing_field(factory):
    table = _list().as_array()[:, :11]
    msg = table_to_pointcloud2(table, OBSTACLE_FIELDS[:11], 1.0, "map", factory)
    with pytest.raises(MessageError, match="confidence"):
        pointcloud2_to_obstacles(msg)


def test_non_integral_id(factory):
    table = _list().as_array()
    table[0, 10] = 2.5
    msg = table_to_pointcloud2(table, OBSTACLE_FIELDS, 1.0, "map", factory)
    with pytest.raises(MessageError, match="non-integral track id"):
        pointcloud2_to_obstacles(msg)


def test_id_too_large_for_float32(factory):
    big = ObstacleList(obstacles=(Obstacle(np.zeros(3), np.ones(3), track_id=2**24 + 1),))
    with pytest.raises(MessageError, match="does not fit a float32"):
        obstacles_to_pointcloud2(big, factory)


def test_markers_for_display(factory, cdr):
    from sanqin.msgs.obstacles import obstacles_to_markers

    msg = cdr(obstacles_to_markers(_list(), factory, lifetime_s=0.25))
    assert msg.markers[0].action == 3  # DELETEALL first: boxes of vanished obstacles disappear
    boxes = [m for m in msg.markers if m.ns == "obstacles" and m.type == 1]
    labels = [m for m in msg.markers if m.type == 9]
    assert len(boxes) == 2 and len(labels) == 2
    assert boxes[0].header.frame_id == "odom" and boxes[0].lifetime.nanosec == 250_000_000
    assert (boxes[0].pose.position.x, boxes[0].scale.x, boxes[0].scale.y) == (1.5, 4.0, 2.0)
    assert 2 * np.arctan2(boxes[0].pose.orientation.z, boxes[0].pose.orientation.w) == pytest.approx(0.25)
    assert labels[1].text.startswith("#123456")
    with pytest.raises(MessageError, match="lifetime"):
        obstacles_to_markers(_list(), factory, lifetime_s=-1.0)
