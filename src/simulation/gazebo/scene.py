"""Scene publisher: the known path and obstacles a headless simulator hands its planner, for a Gazebo twin.

Headless, the kinematic robot simulator publishes the patrol path (``nav_msgs/Path``, once, latched) and
the obstacle table (circular obstacles as ``r·√2`` squares 2 m high centred 1 m up, the square whose
circumscribed circle is the obstacle; the obstacle table of :mod:`sanqin.msgs.obstacles`) at a fixed rate.
In Gazebo the robot and the obstacles are physical, and this component publishes the same path and
table from the same scenario numbers, so the planner under test sees what it sees headless.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sanqin.common.obstacles import Obstacle, ObstacleList
from sanqin.common.types import Path, Pose, PoseStamped
from sanqin.runtime.config import param, require

OBSTACLE_HEIGHT_M = 2.0


@dataclass(frozen=True)
class ScenePublisherConfig:
    """The path, the obstacles, the frame and the rate."""

    path: tuple[float, ...] = param((0.0, 0.0, 1.0, 0.0), "path waypoints, flat x y (or x y z with dims 3) (m)")
    dims: int = param(2, "coordinates per path waypoint", choices=(2, 3))
    obstacles: tuple[float, ...] = param((), "circular obstacles, flat x y radius (m)")
    frame_id: str = param("odom", "frame of the path and the obstacles")
    period_s: float = param(0.1, "obstacle table period (s)", min=0.01, max=10.0)

    def __post_init__(self) -> None:
        require(len(self.path) >= 2 * self.dims and len(self.path) % self.dims == 0,
                "path needs at least two waypoints of dims coordinates")
        require(len(self.obstacles) % 3 == 0, "obstacles needs x y radius triples")
        require(all(math.isfinite(v) for v in (*self.path, *self.obstacles)), "path and obstacles must be finite")
        require(all(r > 0 for r in self.obstacles[2::3]), "obstacle radii must be positive")


class ScenePublisher:
    """``tick`` publishes the obstacle table; the path goes out once, with the first tick."""

    def __init__(self, config: ScenePublisherConfig) -> None:
        self.config = config
        self.path_sent = False
        pts = np.asarray(config.path, dtype=np.float64).reshape(-1, config.dims)
        self.waypoints = np.column_stack([pts[:, :2], pts[:, 2] if config.dims == 3 else np.zeros(len(pts))])
        self.obstacles = np.asarray(config.obstacles, dtype=np.float64).reshape(-1, 3)
        self.tables = 0

    def path(self, t_s: float) -> Path:
        """The path as stamped poses in ``frame_id``."""
        c = self.config
        return Path(t_s, c.frame_id, tuple(PoseStamped(t_s, c.frame_id, Pose(p.copy())) for p in self.waypoints))

    def table(self, t_s: float) -> ObstacleList:
        """The obstacle table at ``t_s``."""
        side = math.sqrt(2)
        obs = tuple(Obstacle(np.array([x, y, OBSTACLE_HEIGHT_M / 2]), np.array([r * side, r * side, OBSTACLE_HEIGHT_M]),
                             track_id=i) for i, (x, y, r) in enumerate(self.obstacles))
        return ObstacleList(obs, t_s, self.config.frame_id)

    def tick(self, t_s: float) -> dict[str, object]:
        """Outputs due now: the obstacle table (if any obstacle) and, the first time, the path."""
        out: dict[str, object] = {}
        if not self.path_sent:
            out["path"] = self.path(t_s)
            self.path_sent = True
        if len(self.obstacles):
            out["obstacles"] = self.table(t_s)
            self.tables += 1
        return out

    def metrics(self) -> dict[str, float]:
        """Tables published."""
        return {"obstacle_tables": float(self.tables)}
