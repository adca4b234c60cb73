""":class:`~sanqin.common.grid.ScalarGrid` ↔ nav_msgs/OccupancyGrid (values scaled to 0..100, -1 unknown).

OccupancyGrid is the standard ROS 2 message for a georeferenced raster that RViz, Foxglove and Nav2
costmap layers read; a canopy-cover or spray-rate map uses it with ``value / value_max`` as percent.
Values above ``value_max`` are clipped to 100, negatives to 0; NaN cells are -1 (unknown).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sanqin.common.grid import ScalarGrid
from sanqin.msgs.errors import MessageError
from sanqin.msgs.time import header_stamp_frame, make_header


def grid_to_occupancy(grid: ScalarGrid, factory: Any) -> Any:
    """ScalarGrid → nav_msgs/OccupancyGrid (percent of ``value_max``, -1 where NaN)."""
    if not (np.isfinite(grid.value_max) and grid.value_max > 0):
        raise MessageError(f"grid value_max must be positive, got {grid.value_max}")
    v = grid.values
    pct = np.clip(np.round(100.0 * np.nan_to_num(v, nan=0.0) / grid.value_max), 0, 100)
    data = np.where(np.isfinite(v), pct, -1).astype(np.int8).reshape(-1)
    rows, cols = v.shape
    info = factory.new(
        "nav_msgs/msg/MapMetaData",
        map_load_time=make_header(factory, grid.stamp_s, "").stamp,
        resolution=float(grid.resolution_m),
        width=int(cols),
        height=int(rows),
        origin=factory.new(
            "geometry_msgs/msg/Pose",
            position=factory.new("geometry_msgs/msg/Point", x=float(grid.origin_xy_m[0]), y=float(grid.origin_xy_m[1])),
            orientation=factory.new("geometry_msgs/msg/Quaternion", w=1.0),
        ),
    )
    return factory.new(
        "nav_msgs/msg/OccupancyGrid", header=make_header(factory, grid.stamp_s, grid.frame_id), info=info, data=data
    )


def occupancy_to_grid(msg: Any, value_max: float = 1.0) -> ScalarGrid:
    """nav_msgs/OccupancyGrid → ScalarGrid (percent × value_max / 100; -1 → NaN); rotated origins are rejected."""
    stamp_s, frame_id = header_stamp_frame(msg.header)
    rows, cols = int(msg.info.height), int(msg.info.width)
    data = np.asarray(msg.data, dtype=np.int16).reshape(-1)
    if data.size != rows * cols:
        raise MessageError(f"OccupancyGrid has {data.size} cells for {cols}×{rows}")
    q = msg.info.origin.orientation
    if abs(float(q.x)) + abs(float(q.y)) + abs(float(q.z)) > 1e-9:
        raise MessageError("OccupancyGrid with a rotated origin is not supported")
    values = np.where(data < 0, np.nan, data.astype(np.float64) * value_max / 100.0).reshape(rows, cols)
    return ScalarGrid(
        values=values,
        resolution_m=float(msg.info.resolution),
        origin_xy_m=(float(msg.info.origin.position.x), float(msg.info.origin.position.y)),
        frame_id=frame_id,
        stamp_s=stamp_s,
        value_max=value_max,
    )
