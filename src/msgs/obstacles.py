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
from sanqin.msgs.time import header_stamp_frame, make_header, s_to_sec_nanosec

#: Largest track id that float32 carries exactly.
MAX_TRACK_ID = 2**24
#: visualization_msgs/Marker constants used here.
CUBE, TEXT_VIEW_FACING, DELETEALL = 1, 9, 3


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


def obstacles_to_markers(obstacles: ObstacleList, factory: Any, lifetime_s: float = 0.5) -> Any:
    """ObstacleList → visualization_msgs/MarkerArray for display: a DELETEALL, then per obstacle a box and its id.

    Boxes are translucent, more opaque with higher confidence; markers expire after ``lifetime_s`` so a
    stopped publisher leaves no stale boxes (0 = never).
    """
    if not lifetime_s >= 0.0:
        raise MessageError(f"marker lifetime must be >= 0 s, got {lifetime_s}")
    sec, nsec = s_to_sec_nanosec(lifetime_s)
    header = make_header(factory, obstacles.stamp_s, obstacles.frame_id)
    markers = [factory.new("visualization_msgs/msg/Marker", header=header, ns="obstacles", action=DELETEALL)]
    for i, o in enumerate(obstacles.obstacles):
        yaw = float(o.yaw_rad)
        pose = factory.new(
            "geometry_msgs/msg/Pose",
            position=factory.new("geometry_msgs/msg/Point", **dict(zip("xyz", map(float, o.center_m)))),
            orientation=factory.new("geometry_msgs/msg/Quaternion", z=np.sin(yaw / 2), w=np.cos(yaw / 2)),
        )
        common = {
            "header": header,
            "id": i,
            "pose": pose,
            "lifetime": factory.new("builtin_interfaces/msg/Duration", sec=sec, nanosec=nsec),
        }
        alpha = float(np.clip(0.2 + 0.6 * float(o.confidence), 0.2, 0.8)) if np.isfinite(o.confidence) else 0.5
        markers.append(
            factory.new(
                "visualization_msgs/msg/Marker",
                ns="obstacles",
                type=CUBE,
                scale=factory.new("geometry_msgs/msg/Vector3", **dict(zip("xyz", map(float, o.size_m)))),
                color=factory.new("std_msgs/msg/ColorRGBA", r=1.0, g=0.45, b=0.1, a=alpha),
                **common,
            )
        )
        markers.append(
            factory.new(
                "visualization_msgs/msg/Marker",
                ns="obstacle_ids",
                type=TEXT_VIEW_FACING,
                scale=factory.new("geometry_msgs/msg/Vector3", z=0.5),
                color=factory.new("std_msgs/msg/ColorRGBA", r=1.0, g=1.0, b=1.0, a=1.0),
                text=f"#{int(o.track_id)} {float(o.confidence):.2f}",
                **common,
            )
        )
    return factory.new("visualization_msgs/msg/MarkerArray", markers=markers)
