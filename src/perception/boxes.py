"""Oriented 3-D bounding boxes of point clusters: minimum-area rectangle of the footprint, z extent.

The footprint (points projected on the ground plane, x-y of a z-up frame) is reduced to its convex hull;
the minimum-area enclosing rectangle has a side collinear with a hull edge (Freeman & Shapira, 1975), so
every hull edge direction is tried at once with numpy. Yaw is normalised to [-π/2, π/2) with length ≥
width, which makes the box unique and the yaw stable across frames for the tracker.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import ConvexHull, QhullError

from sanqin.common.obstacles import Obstacle


def min_area_rect(xy: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    """(centre (2,), length m, width m, yaw rad) of the smallest rectangle around (N, 2) points."""
    pts = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    if pts.shape[0] == 0:
        raise ValueError("min_area_rect needs at least one point")
    hull_pts = pts
    if pts.shape[0] >= 3:
        try:
            hull_pts = pts[ConvexHull(pts).vertices]
        except QhullError:  # collinear or coincident points: the extreme points are enough
            hull_pts = pts
    if hull_pts.shape[0] >= 2:
        edges = np.diff(np.vstack([hull_pts, hull_pts[:1]]), axis=0)
        edges = edges[np.hypot(edges[:, 0], edges[:, 1]) > 1e-9]
    else:
        edges = np.zeros((0, 2))
    if edges.shape[0] == 0:
        angles = np.array([0.0])
    else:
        angles = np.unique(np.mod(np.arctan2(edges[:, 1], edges[:, 0]), np.pi / 2))
    c, s = np.cos(angles), np.sin(angles)
    # Project the hull on each candidate axis pair: u along the edge, v across it.
    u = hull_pts[:, 0][None, :] * c[:, None] + hull_pts[:, 1][None, :] * s[:, None]
    v = -hull_pts[:, 0][None, :] * s[:, None] + hull_pts[:, 1][None, :] * c[:, None]
    du = u.max(1) - u.min(1)
    dv = v.max(1) - v.min(1)
    k = int(np.argmin(du * dv))
    a = float(angles[k])
    uc = 0.5 * (u[k].max() + u[k].min())
    vc = 0.5 * (v[k].max() + v[k].min())
    center = np.array([uc * np.cos(a) - vc * np.sin(a), uc * np.sin(a) + vc * np.cos(a)])
    length, width = float(du[k]), float(dv[k])
    if width > length:
        length, width = width, length
        a += np.pi / 2
    yaw = float(np.mod(a + np.pi / 2, np.pi) - np.pi / 2)
    return center, length, width, yaw


def box_from_points(points: np.ndarray, min_size_m: float = 0.05, confidence: float = 1.0) -> Obstacle:
    """An oriented box around (N, 3) points (z up); sizes are at least ``min_size_m``."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    center_xy, length, width, yaw = min_area_rect(pts[:, :2])
    zmin, zmax = float(pts[:, 2].min()), float(pts[:, 2].max())
    size = np.maximum([length, width, zmax - zmin], min_size_m)
    center = np.array([center_xy[0], center_xy[1], 0.5 * (zmin + zmax)])
    return Obstacle(center_m=center, size_m=size, yaw_rad=yaw, confidence=confidence)


def box_corners_xy(obstacle: Obstacle) -> np.ndarray:
    """(4, 2) footprint corners of a box, counter-clockwise."""
    c, s = np.cos(obstacle.yaw_rad), np.sin(obstacle.yaw_rad)
    hl, hw = 0.5 * obstacle.size_m[0], 0.5 * obstacle.size_m[1]
    local = np.array([[hl, hw], [-hl, hw], [-hl, -hw], [hl, -hw]])
    rot = np.array([[c, -s], [s, c]])
    return local @ rot.T + obstacle.center_m[:2]
