""":class:`~sanqin.common.obstacles.ObstacleList` ↔ a sensor_msgs/PointCloud2 obstacle table.

One point per obstacle with the float32 fields of :data:`~sanqin.common.obstacles.OBSTACLE_FIELDS`
(``x y z length width height yaw vx vy vz id confidence``), stamped and framed by the header. Field
order on the wire is free (a reader looks fields up by name). Track ids travel as float32, exact up
to 2**24; non-integral or non-finite ids are rejected on reading.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sanqin.common.obstacles import OBSTACLE_FIELDS, Obstacle, ObstacleList
from sanqin.msgs.errors import MessageError
from sanqin.msgs.pointcloud import pointcloud2_to_table, table_to_pointcloud2
from sanqin.msgs.time import header_stamp_frame

#: Largest track id that float32 carries exactly.
MAX_TRACK_ID = 2**24


def obstacles_to_pointcloud2(obstacles: ObstacleList, factory: Any) -> Any:
    """ObstacleList → PointCloud2 table (one float32 point per obstacle)."""
    for o in obstacles.obstacles:
        if not -MAX_TRACK_ID <= int(o.track_id) <= MAX_TRACK_ID:
            raise MessageError(f"track id {o.track_id} does not fit a float32 exactly (|id| <= 2**24)")
    return table_to_pointcloud2(obstacles.as_array(), OBSTACLE_FIELDS, obstacles.stamp_s, obstacles.frame_id, factory)


def pointcloud2_to_obstacles(msg: Any) -> ObstacleList:
    """PointCloud2 obstacle table → ObstacleList; a missing field or a non-integral id is a MessageError."""
    stamp_s, frame_id = header_stamp_frame(msg.header)
    table, _names = pointcloud2_to_table(msg, OBSTACLE_FIELDS)
    table = table.astype(np.float64)
    ids = table[:, 10]
    bad = ~np.isfinite(ids) | (ids != np.round(ids))
    if bad.any():
        raise MessageError(f"obstacle table has non-integral track id(s) {ids[bad][:5].tolist()}")
    obstacles = tuple(
        Obstacle(
            center_m=row[0:3].copy(),
            size_m=row[3:6].copy(),
            yaw_rad=float(row[6]),
            velocity_m_s=row[7:10].copy(),
            track_id=int(row[10]),
            confidence=float(row[11]),
        )
        for row in table
    )
    return ObstacleList(obstacles=obstacles, stamp_s=stamp_s, frame_id=frame_id)
