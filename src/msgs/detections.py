""":class:`~sanqin.common.detections.Detections2D` ↔ a sensor_msgs/PointCloud2 detection table.

A 2-D detection list travels as one point per detection with the float32 fields of
:data:`~sanqin.common.detections.DETECTION_FIELDS` (``x_min y_min x_max y_max class_id score``, pixels of
the raw image), its header the stamp and frame of the image it was detected in — the same "table" idea as
the obstacle list (:mod:`sanqin.msgs.obstacles`), so no vision_msgs or custom interface package is needed.
Located detections (:data:`~sanqin.common.detections.LOCATED_FIELDS`) add ``x y z`` (m) and ``n_points``
in the LiDAR frame named by the header, and have a ``visualization_msgs/MarkerArray`` form for display.
Field order on the wire is free (a reader looks fields up by name); extra fields are ignored. Class ids
travel as float32, exact up to 2**24; non-integral or non-finite ids are rejected on reading. Box
coordinates are data, passed through as sent (NaN included): whether a box is usable depends on the image
size, see :meth:`~sanqin.common.detections.Detections2D.usable_boxes`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sanqin.common.detections import DETECTION_FIELDS, LOCATED_FIELDS, Detections2D, LocatedDetections
from sanqin.common.obstacles import Obstacle, ObstacleList
from sanqin.msgs.errors import MessageError
from sanqin.msgs.obstacles import obstacles_to_markers
from sanqin.msgs.pointcloud import pointcloud2_to_table, table_to_pointcloud2
from sanqin.msgs.time import header_stamp_frame

#: Largest class id that float32 carries exactly.
MAX_CLASS_ID = 2**24


def _check_ids(ids: np.ndarray, what: str) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(ids) | (ids != np.round(ids)) | (np.abs(ids) > MAX_CLASS_ID)
    if bad.any():
        raise MessageError(f"{what} has non-integral or out-of-range value(s) {ids[bad][:5].tolist()}")
    return ids.astype(np.int64)


def detections_to_pointcloud2(detections: Detections2D, factory: Any) -> Any:
    """Detections2D → PointCloud2 table (one float32 point per detection)."""
    _check_ids(detections.class_ids.astype(np.float64), "class_id")
    return table_to_pointcloud2(
        detections.as_array(), DETECTION_FIELDS, detections.stamp_s, detections.frame_id, factory
    )


def _detections_from_table(table: np.ndarray, stamp_s: float, frame_id: str) -> Detections2D:
    t = table.astype(np.float64)
    ids = _check_ids(t[:, 4], "detection table class_id")
    return Detections2D(boxes_px=t[:, 0:4], class_ids=ids, scores=t[:, 5], stamp_s=stamp_s, frame_id=frame_id)


def pointcloud2_to_detections(msg: Any) -> Detections2D:
    """PointCloud2 detection table → Detections2D; a missing field or a non-integral class id is a MessageError."""
    stamp_s, frame_id = header_stamp_frame(msg.header)
    table, _names = pointcloud2_to_table(msg, DETECTION_FIELDS)
    return _detections_from_table(table, stamp_s, frame_id)


def located_to_pointcloud2(located: LocatedDetections, factory: Any) -> Any:
    """LocatedDetections → PointCloud2 table (boxes, class, score, x y z in the LiDAR frame, n_points)."""
    _check_ids(located.detections.class_ids.astype(np.float64), "class_id")
    return table_to_pointcloud2(located.as_array(), LOCATED_FIELDS, located.stamp_s, located.frame_id, factory)


def pointcloud2_to_located(msg: Any) -> LocatedDetections:
    """PointCloud2 located-detection table → LocatedDetections (fields by name; bad ids are a MessageError)."""
    stamp_s, frame_id = header_stamp_frame(msg.header)
    table, _names = pointcloud2_to_table(msg, LOCATED_FIELDS)
    t = table.astype(np.float64)
    n_points = _check_ids(t[:, 9], "located table n_points")
    dets = _detections_from_table(t[:, :6], stamp_s, frame_id)
    return LocatedDetections(dets, t[:, 6:9], n_points, stamp_s, frame_id)


def located_to_markers(located: LocatedDetections, factory: Any, size_m: float = 0.5, lifetime_s: float = 0.5) -> Any:
    """LocatedDetections → MarkerArray: a DELETEALL, then a ``size_m`` cube and a "#class score" label per
    located detection (drawn with :func:`~sanqin.msgs.obstacles.obstacles_to_markers`); unlocated ones are left out.
    """
    if not (np.isfinite(size_m) and size_m > 0):
        raise MessageError(f"marker size must be a positive number of metres, got {size_m}")
    d = located.detections
    obstacles = tuple(
        Obstacle(
            center_m=located.positions_m[i].copy(),
            size_m=np.full(3, float(size_m)),
            track_id=int(d.class_ids[i]),
            confidence=float(d.scores[i]),
        )
        for i in np.nonzero(located.located)[0]
    )
    return obstacles_to_markers(ObstacleList(obstacles, located.stamp_s, located.frame_id), factory, lifetime_s)
