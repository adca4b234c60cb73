"""Turn-arounds between passes and transits between cells, kept inside the field.

* ``turn_radius_m = 0`` (multirotor): a straight sideways move between pass ends.
* lateral offset ``d ≥ 2 r``: a U-turn — quarter arc, straight, quarter arc.
* ``d < 2 r``: an omega (bulb) turn — arc away, arc around, arc in — which needs headland room.

Transits (spray off) go straight when the segment stays inside the allowed area, else along the
shortest path of a visibility graph over the area's (simplified) vertices.
"""

from __future__ import annotations

import heapq
import math

import numpy as np
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep


def _arc(center: np.ndarray, r: float, a0: float, a1: float, ccw: bool, step_rad: float = 0.15) -> np.ndarray:
    if ccw:
        while a1 < a0:
            a1 += 2 * math.pi
    else:
        while a1 > a0:
            a1 -= 2 * math.pi
    n = max(2, int(abs(a1 - a0) / step_rad) + 1)
    a = np.linspace(a0, a1, n)
    return center + r * np.column_stack([np.cos(a), np.sin(a)])


def turn_path(end_m: np.ndarray, heading_rad: float, next_start_m: np.ndarray, radius_m: float) -> np.ndarray:
    """Poses (n, 2) from a pass end (driving at ``heading_rad``) to the next pass start (driving back)."""
    end_m, nxt = np.asarray(end_m, float), np.asarray(next_start_m, float)
    if radius_m <= 0:
        return np.vstack([end_m, nxt])
    c, s = math.cos(heading_rad), math.sin(heading_rad)
    rot = np.array([[c, -s], [s, c]])
    rel = rot.T @ (nxt - end_m)  # next start in the frame of the pass end (x ahead, y left)
    side = 1.0 if rel[1] >= 0 else -1.0
    d = abs(rel[1])
    ahead = max(rel[0], 0.0)  # the next pass may start further ahead: drive there first
    r = radius_m
    pts: list[np.ndarray] = [np.zeros(2)]
    if ahead > 1e-6:
        pts.append(np.array([ahead, 0.0]))
    x0 = ahead
    if d >= 2 * r:
        c1 = np.array([x0, side * r])
        a = _arc(c1, r, -side * math.pi / 2, 0.0, side > 0)
        pts.extend(a)
        c2 = np.array([x0, side * (d - r)])
        b = _arc(c2, r, 0.0, side * math.pi / 2, side > 0)
        pts.extend(b)
    else:
        c1 = np.array([x0, -side * r])  # turn away first
        c3 = np.array([x0 + (rel[0] - ahead), side * (d + r)])
        mid = (c1 + c3) / 2
        half = np.linalg.norm(c3 - c1) / 2
        off = math.sqrt(max((2 * r) ** 2 - half**2, 0.0))
        u = (c3 - c1) / max(2 * half, 1e-9)
        c2 = mid + off * np.array([u[1], -u[0]]) * side * -1
        if c2[0] < x0:
            c2 = mid - off * np.array([u[1], -u[0]]) * side * -1
        t12 = (c1 + c2) / 2
        t23 = (c2 + c3) / 2
        ang = lambda cc, p: math.atan2(p[1] - cc[1], p[0] - cc[0])  # noqa: E731
        pts.extend(_arc(c1, r, ang(c1, np.array([x0, 0.0])), ang(c1, t12), side < 0))
        pts.extend(_arc(c2, r, ang(c2, t12), ang(c2, t23), side > 0))
        pts.extend(_arc(c3, r, ang(c3, t23), ang(c3, np.array([rel[0], side * d])), side < 0))
    local = np.array(pts)
    out = end_m + local @ rot.T
    out[-1] = nxt
    return out


def inside(path_m: np.ndarray, area: BaseGeometry, tol_m: float = 0.05) -> bool:
    """True when the polyline stays within ``area`` (grown by ``tol_m``)."""
    if len(path_m) < 2:
        return area.buffer(tol_m).contains(Point(path_m[0]))
    return area.buffer(tol_m).covers(LineString(path_m))


class TransitRouter:
    """Shortest spray-off transits inside an area (visibility graph over its simplified vertices)."""

    def __init__(self, area: BaseGeometry, simplify_m: float = 0.5, margin_m: float = 0.1) -> None:
        self.area = area
        grown = area.buffer(margin_m)
        self._ok = prep(grown)
        shrunk = area.buffer(-margin_m).simplify(simplify_m) if area.area > 0 else area
        polys = [shrunk] if isinstance(shrunk, Polygon) else list(getattr(shrunk, "geoms", []))
        verts = []
        for p in polys:
            if isinstance(p, Polygon) and not p.is_empty:
                verts.extend(np.asarray(p.exterior.coords)[:-1])
                for h in p.interiors:
                    verts.extend(np.asarray(h.coords)[:-1])
        self.nodes = np.array(verts) if verts else np.zeros((0, 2))
        n = len(self.nodes)
        self.adj: list[list[tuple[int, float]]] = [[] for _ in range(n)]
        for i in range(n):
            for j in range(i + 1, n):
                if self._visible(self.nodes[i], self.nodes[j]):
                    d = float(np.linalg.norm(self.nodes[i] - self.nodes[j]))
                    self.adj[i].append((j, d))
                    self.adj[j].append((i, d))

    def _visible(self, a: np.ndarray, b: np.ndarray) -> bool:
        if np.allclose(a, b):
            return True
        return self._ok.covers(LineString([a, b]))

    def route(self, a_m: np.ndarray, b_m: np.ndarray) -> np.ndarray:
        """Polyline from a to b inside the area (straight if possible; a straight line if no route exists)."""
        a, b = np.asarray(a_m, float), np.asarray(b_m, float)
        if self._visible(a, b) or not len(self.nodes):
            return np.vstack([a, b])
        n = len(self.nodes)
        src, dst = n, n + 1
        extra: dict[int, list[tuple[int, float]]] = {src: [], dst: []}
        for i, v in enumerate(self.nodes):
            if self._visible(a, v):
                extra[src].append((i, float(np.linalg.norm(v - a))))
            if self._visible(v, b):
                extra[dst].append((i, float(np.linalg.norm(v - b))))
        to_dst = dict(extra[dst])
        dist = {src: 0.0}
        prev: dict[int, int] = {}
        heap = [(0.0, src)]
        while heap:
            d, u = heapq.heappop(heap)
            if u == dst:
                break
            if d > dist.get(u, math.inf):
                continue
            nbrs = list(extra[src]) if u == src else list(self.adj[u])
            if u != src and u in to_dst:
                nbrs.append((dst, to_dst[u]))
            for v, w in nbrs:
                nd = d + w
                if nd < dist.get(v, math.inf):
                    dist[v] = nd
                    prev[v] = u
                    heapq.heappush(heap, (nd, v))
        if dst not in prev:
            return np.vstack([a, b])
        path = [b]
        u = prev[dst]
        while u != src:
            path.append(self.nodes[u])
            u = prev[u]
        path.append(a)
        return np.array(path[::-1])
