"""Obstacle and corridor constraints for the NMPC, from the perception obstacle list (ROS-free).

Each obstacle box (length × width along its yaw) becomes the smallest ellipse enclosing it (semi-axes
``√2 · half-size``) inflated by the robot radius and a margin; the MPC keeps the robot centre outside
(softened with slack). Reference points that fall inside a keep-out ellipse are pushed sideways out of
it before the MPC sees them, so the tracking cost itself leads around the obstacle and a one-iteration
RTI step never faces a reference straight through an obstacle.
"""

from __future__ import annotations

import numpy as np

from sanqin.common.obstacles import ObstacleList
from sanqin.planning.nmpc import CORRIDOR_PLANES


def keep_out_table(obstacles: ObstacleList | None, position_m: np.ndarray, robot_radius_m: float,
                   margin_m: float = 0.0, max_count: int = 8, range_m: float = np.inf) -> np.ndarray:
    """(M, 6) rows ``cx cy ra rb yaw active`` of the nearest valid obstacles (NaN/inf rows are skipped)."""
    if obstacles is None or not obstacles.obstacles or max_count <= 0:
        return np.zeros((0, 6))
    arr = obstacles.as_array()
    ok = np.all(np.isfinite(arr[:, :7]), axis=1) & (arr[:, 3] >= 0) & (arr[:, 4] >= 0)
    arr = arr[ok]
    if not len(arr):
        return np.zeros((0, 6))
    infl = robot_radius_m + margin_m
    ra = np.sqrt(2.0) * arr[:, 3] / 2 + infl
    rb = np.sqrt(2.0) * arr[:, 4] / 2 + infl
    ra, rb = np.maximum(ra, 1e-3), np.maximum(rb, 1e-3)
    dist = np.linalg.norm(arr[:, :2] - np.asarray(position_m, float)[:2], axis=1) - np.maximum(ra, rb)
    order = np.argsort(dist)
    order = order[dist[order] <= range_m][:max_count]
    return np.column_stack([arr[order, 0], arr[order, 1], ra[order], rb[order], arr[order, 6], np.ones(len(order))])


def ellipse_distance(points_m: np.ndarray, table: np.ndarray) -> np.ndarray:
    """(n, M) normalized ellipse radius of each point w.r.t. each keep-out (< 1 means inside)."""
    pts = np.atleast_2d(np.asarray(points_m, float))[:, :2]
    if not len(table):
        return np.full((len(pts), 0), np.inf)
    d = pts[:, None, :] - table[None, :, :2]
    c, s = np.cos(table[:, 4]), np.sin(table[:, 4])
    ex = (c * d[..., 0] + s * d[..., 1]) / table[:, 2]
    ey = (-s * d[..., 0] + c * d[..., 1]) / table[:, 3]
    return np.sqrt(ex * ex + ey * ey)


def deflect_reference(points_m: np.ndarray, yaw_rad: np.ndarray, table: np.ndarray,
                      scale: float = 1.15, robot_side_m: np.ndarray | None = None) -> np.ndarray:
    """Reference points pushed along the path normal out of every keep-out ellipse scaled by ``scale``.

    The side is chosen once per obstacle: the side of the path the obstacle centre is *not* on, or, if the
    path runs through the centre, the side the robot is on (left when exactly on the line).
    """
    pts = np.array(points_m, dtype=float)
    if not len(table) or not len(pts):
        return pts
    normal = np.column_stack([-np.sin(yaw_rad), np.cos(yaw_rad)])
    for row in table:
        cx, cy, ra, rb, yaw = row[:5]
        c, s = np.cos(yaw), np.sin(yaw)
        d = pts[:, :2] - (cx, cy)
        dx, dy = (c * d[:, 0] + s * d[:, 1]) / ra, (-s * d[:, 0] + c * d[:, 1]) / rb
        inside = dx * dx + dy * dy < scale * scale
        if not inside.any():
            continue
        i0 = int(np.argmax(inside))
        side_val = -float(normal[i0] @ d[i0])
        if abs(side_val) < 1e-3 and robot_side_m is not None:
            side_val = -float(normal[i0] @ (np.asarray(robot_side_m, float)[:2] - (cx, cy)))
        side = -1.0 if side_val > 0 else 1.0
        # solve |E(p + t n - c)| = scale for t >= 0 (a quadratic in t in the ellipse frame), all points at once
        n = side * normal[inside]
        ex, ey = dx[inside], dy[inside]
        nx, ny = (c * n[:, 0] + s * n[:, 1]) / ra, (-s * n[:, 0] + c * n[:, 1]) / rb
        a2, b2, c2 = nx * nx + ny * ny, 2 * (ex * nx + ey * ny), ex * ex + ey * ey - scale * scale
        t = (-b2 + np.sqrt(np.maximum(b2 * b2 - 4 * a2 * c2, 0.0))) / (2 * a2)
        pts[inside, :2] += t[:, None] * n
    return pts


def corridor_planes(points_m: np.ndarray, yaw_rad: np.ndarray, left_m: float, right_m: float) -> np.ndarray:
    """(n, 2, 3) half-planes ``ax·x + ay·y ≤ b``: walls ``left_m`` left and ``right_m`` right of each point."""
    pts = np.asarray(points_m, float)[:, :2]
    nrm = np.column_stack([-np.sin(yaw_rad), np.cos(yaw_rad)])  # left normal
    out = np.zeros((len(pts), CORRIDOR_PLANES, 3))
    out[:, 0, :2] = nrm
    out[:, 0, 2] = np.einsum("ij,ij->i", nrm, pts) + left_m
    out[:, 1, :2] = -nrm
    out[:, 1, 2] = -np.einsum("ij,ij->i", nrm, pts) + right_m
    return out
