"""Obstacles as perception publishes them and the planners consume them (ROS-free).

On the wire the obstacle list is a ``sensor_msgs/PointCloud2`` "table" (one point per obstacle, float32
fields ``x y z length width height yaw vx vy vz id confidence``; see :mod:`sanqin.msgs.obstacles`):
a standard, typed, stamped message that ``ros2 bag`` and Foxglove read, without a custom interface
package. ``visualization_msgs/MarkerArray`` carries the same boxes for display.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Field order of the PointCloud2 obstacle table.
OBSTACLE_FIELDS = ("x", "y", "z", "length", "width", "height", "yaw", "vx", "vy", "vz", "id", "confidence")


@dataclass(frozen=True)
class Obstacle:
    """An oriented 3-D box (centre m, size m as length/width/height along its yaw), velocity m/s, track id."""

    center_m: np.ndarray
    size_m: np.ndarray
    yaw_rad: float = 0.0
    velocity_m_s: np.ndarray = field(default_factory=lambda: np.zeros(3))
    track_id: int = -1
    confidence: float = 1.0


@dataclass(frozen=True)
class ObstacleList:
    """Obstacles at a time in a frame (usually ``odom`` or ``map``)."""

    obstacles: tuple[Obstacle, ...] = ()
    stamp_s: float = 0.0
    frame_id: str = "odom"

    def as_array(self) -> np.ndarray:
        """(N, 12) float64 table in :data:`OBSTACLE_FIELDS` order."""
        rows = [
            [*o.center_m, *o.size_m, o.yaw_rad, *o.velocity_m_s, float(o.track_id), o.confidence]
            for o in self.obstacles
        ]
        return np.asarray(rows, dtype=np.float64).reshape(-1, len(OBSTACLE_FIELDS))
