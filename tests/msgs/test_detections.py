"""The 2-D detection table and the located-detection table survive PointCloud2 + CDR and reject bad input."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.common.detections import DETECTION_FIELDS, LOCATED_FIELDS, Detections2D, LocatedDetections
from sanqin.msgs.detections import (
    detections_to_pointcloud2,
    located_to_markers,
    located_to_pointcloud2,
    pointcloud2_to_detections,
    pointcloud2_to_located,
)
from sanqin.msgs.errors import MessageError
from sanqin.msgs.pointcloud import table_to_pointcloud2


def _dets() -> Detections2D:
    return Detections2D(
        boxes_px=np.array([[10.0, 20.0, 110.5, 220.25], [300.0, 100.0, 340.0, 180.0]]),
        class_ids=[3, 123456],
        scores=[0.9, 0.25],
        stamp_s=17.125,
        frame_id="camera_optical_frame",
    )


def test_detections_roundtrip_through_cdr(factory, cdr) -> None:
    msg = cdr(detections_to_pointcloud2(_dets(), factory))
    assert msg.__msgtype__ == "sensor_msgs/msg/PointCloud2"
    assert [f.name for f in msg.fields] == list(DETECTION_FIELDS) and msg.width == 2
    back = pointcloud2_to_detections(msg)
    assert back.stamp_s == pytest.approx(17.125) and back.frame_id == "camera_optical_frame"
    np.testing.assert_allclose(back.boxes_px, _dets().boxes_px)
    assert back.class_ids.tolist() == [3, 123456] and back.class_ids.dtype == np.int64
    np.testing.assert_allclose(back.scores, [0.9, 0.25], rtol=1e-6)


def test_empty_detection_list_roundtrips(factory, cdr) -> None:
    back = pointcloud2_to_detections(cdr(detections_to_pointcloud2(Detections2D(stamp_s=1.0), factory)))
    assert len(back) == 0 and back.boxes_px.shape == (0, 4)


def test_fields_are_read_by_name_in_any_order_and_extras_ignored(factory) -> None:
    d = _dets()
    names = ("score", "class_id", "extra", "y_max", "x_max", "y_min", "x_min")
    table = np.column_stack([d.scores, d.class_ids, np.zeros(2), d.boxes_px[:, ::-1]])
    back = pointcloud2_to_detections(table_to_pointcloud2(table, names, 1.0, "cam", factory))
    np.testing.assert_allclose(back.boxes_px, d.boxes_px)
    assert back.class_ids.tolist() == [3, 123456]


def test_wrong_fields_and_bad_class_ids_are_message_errors(factory) -> None:
    # An obstacle-like table (x y z ...) is not a detection table.
    with pytest.raises(MessageError, match="lacks field"):
        pointcloud2_to_detections(table_to_pointcloud2(np.zeros((1, 3)), ("x", "y", "z"), 0.0, "cam", factory))
    table = _dets().as_array()
    table[1, 4] = 2.5
    with pytest.raises(MessageError, match="class_id"):
        pointcloud2_to_detections(table_to_pointcloud2(table, DETECTION_FIELDS, 0.0, "cam", factory))
    table[1, 4] = np.nan
    with pytest.raises(MessageError, match="class_id"):
        pointcloud2_to_detections(table_to_pointcloud2(table, DETECTION_FIELDS, 0.0, "cam", factory))
    with pytest.raises(MessageError, match="class_id"):
        detections_to_pointcloud2(Detections2D(np.zeros((1, 4)), [2**25], [1.0]), factory)


def test_core_list_rejects_inconsistent_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        Detections2D(np.zeros((2, 3)), [1, 2], [1.0, 1.0])
    with pytest.raises(ValueError, match="class_ids"):
        Detections2D(np.zeros((2, 4)), [1], [1.0, 1.0])


def test_nan_boxes_pass_the_wire_and_are_flagged_unusable_with_off_image_ones(factory, cdr) -> None:
    boxes = np.array([
        [np.nan, 10.0, 50.0, 60.0],   # NaN coordinate
        [50.0, 10.0, 40.0, 60.0],     # inverted
        [700.0, 10.0, 800.0, 60.0],   # wholly right of a 640-px image
        [-80.0, -30.0, -10.0, -5.0],  # wholly above-left
        [600.0, 400.0, 900.0, 700.0],  # reaches past the corner: clipped
        [10.0, 10.0, 50.0, 60.0],     # fine
    ])
    d = Detections2D(boxes, np.arange(6), np.ones(6), 2.0, "cam")
    back = pointcloud2_to_detections(cdr(detections_to_pointcloud2(d, factory)))
    assert np.isnan(back.boxes_px[0, 0])  # data travels as sent; usability depends on the image
    clipped, usable = back.usable_boxes(640, 480)
    assert usable.tolist() == [False, False, False, False, True, True]
    np.testing.assert_allclose(clipped[4], [600.0, 400.0, 639.5, 479.5])
    np.testing.assert_allclose(clipped[5], [10.0, 10.0, 50.0, 60.0])


def test_located_table_roundtrips_and_markers_skip_unplaced(factory, cdr) -> None:
    loc = LocatedDetections(_dets(), np.array([[5.0, 1.0, 0.5], [np.nan] * 3]), [42, 0], 17.125, "lidar")
    msg = cdr(located_to_pointcloud2(loc, factory))
    assert [f.name for f in msg.fields] == list(LOCATED_FIELDS) and msg.header.frame_id == "lidar"
    back = pointcloud2_to_located(msg)
    np.testing.assert_allclose(back.positions_m[0], [5.0, 1.0, 0.5])
    assert np.isnan(back.positions_m[1]).all() and back.n_points.tolist() == [42, 0]
    assert back.located.tolist() == [True, False] and back.detections.class_ids.tolist() == [3, 123456]
    markers = cdr(located_to_markers(loc, factory, size_m=0.8, lifetime_s=1.0))
    assert len(markers.markers) == 3  # DELETEALL + cube + label of the placed detection only
    cube = markers.markers[1]
    assert cube.pose.position.x == pytest.approx(5.0) and cube.scale.x == pytest.approx(0.8)
    assert markers.markers[2].text.startswith("#3 ")
    with pytest.raises(MessageError):
        located_to_markers(loc, factory, size_m=float("nan"))
