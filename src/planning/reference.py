"""Reference paths for path following: a polyline with arc length, speed profile and stop points.

The MPC follows a time-parametrized reference: at each step the robot's position is projected onto the
path (searching forward from the last projection, so a path that crosses itself is followed in order),
then the reference advances along the path by the profile speed · dt per stage. Stop points bring the
reference speed to zero (with the deceleration limit) and hold it there for a dwell time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sanqin.planning.errors import PathReferenceError


@dataclass(frozen=True)
class StopPoint:
    """A stop along the path at arc length ``s_m`` for ``dwell_s`` seconds (inspection stop, station)."""

    s_m: float
    dwell_s: float = 0.0


class ReferencePath:
    """A 2-D or 3-D polyline (m) with cruise speed (m/s), deceleration limit (m/s²) and stop points."""

    def __init__(self, points_m: np.ndarray, speed_m_s: float, decel_m_s2: float = 0.5,
                 stops: tuple[StopPoint, ...] = ()) -> None:
        pts = np.asarray(points_m, dtype=float)
        if pts.ndim != 2 or pts.shape[1] not in (1, 2, 3) or len(pts) < 1:
            raise PathReferenceError(f"reference points must be an (n, 1|2|3) array, got shape {pts.shape}")
        if not np.all(np.isfinite(pts)):
            raise PathReferenceError("reference points contain NaN or inf")
        if not (math.isfinite(speed_m_s) and speed_m_s >= 0 and math.isfinite(decel_m_s2) and decel_m_s2 > 0):
            raise PathReferenceError(f"need speed >= 0 and decel > 0, got {speed_m_s}, {decel_m_s2}")
        keep = np.concatenate([[True], np.linalg.norm(np.diff(pts, axis=0), axis=1) > 1e-9])
        pts = pts[keep]
        if len(pts) == 1:  # a single point: a goal; duplicate it so segments exist
            pts = np.vstack([pts, pts])
        self.points_m = pts
        seg = np.diff(pts, axis=0)
        self._seg_len = np.linalg.norm(seg, axis=1)
        self.s_m = np.concatenate([[0.0], np.cumsum(self._seg_len)])
        self.length_m = float(self.s_m[-1])
        self.speed_m_s = float(speed_m_s)
        self.decel_m_s2 = float(decel_m_s2)
        for st in stops:
            if not (math.isfinite(st.s_m) and 0 <= st.s_m <= self.length_m + 1e-9 and st.dwell_s >= 0):
                raise PathReferenceError(f"stop point {st} lies outside the path (0..{self.length_m:.3f} m)")
        self.stops = tuple(sorted(stops, key=lambda s: s.s_m))
        self._progress_s = 0.0

    @property
    def dim(self) -> int:
        """Spatial dimension of the path (1, 2 or 3)."""
        return int(self.points_m.shape[1])

    def point(self, s_m: np.ndarray | float) -> np.ndarray:
        """Position(s) at arc length(s), clamped to the path."""
        s = np.clip(np.asarray(s_m, float), 0.0, self.length_m)
        return np.stack([np.interp(s, self.s_m, self.points_m[:, i]) for i in range(self.dim)], axis=-1)

    def tangent_yaw(self, s_m: np.ndarray | float) -> np.ndarray:
        """Heading (rad, ENU) of the path at arc length(s); needs a 2-D or 3-D path."""
        s = np.clip(np.asarray(s_m, float), 0.0, self.length_m)
        i = np.clip(np.searchsorted(self.s_m, s, side="right") - 1, 0, len(self._seg_len) - 1)
        d = self.points_m[i + 1] - self.points_m[i]
        return np.arctan2(d[..., 1], d[..., 0])

    def project(self, position_m: np.ndarray, window_m: float | None = None) -> float:
        """Arc length of the closest path point, searched within ``window_m`` ahead of the last projection."""
        p = np.asarray(position_m, float).reshape(-1)[: self.dim]
        a, b = self.points_m[:-1], self.points_m[1:]
        d = b - a
        den = np.maximum(np.einsum("ij,ij->i", d, d), 1e-18)
        t = np.clip(np.einsum("ij,ij->i", p - a, d) / den, 0.0, 1.0)
        s = self.s_m[:-1] + t * self._seg_len
        dist = np.linalg.norm(a + t[:, None] * d - p, axis=1)
        if window_m is not None:
            ok = (s >= self._progress_s - 1e-6) & (s <= self._progress_s + window_m)
            if np.any(ok):
                dist = np.where(ok, dist, np.inf)
        self._progress_s = float(s[int(np.argmin(dist))])
        return self._progress_s

    def reset(self, s_m: float = 0.0) -> None:
        """Restart the forward projection search at ``s_m``."""
        self._progress_s = float(s_m)

    def sample(self, s0_m: float, dt_s: float, n: int, dwell_left_s: float = 0.0,
               passed_m: float = -np.inf) -> tuple[np.ndarray, np.ndarray]:
        """Arc lengths and speeds of ``n + 1`` reference stages starting at ``s0_m`` (time-parametrized).

        The reference waits ``dwell_left_s`` at its start (a stop in progress) and never passes the next
        stop point beyond ``s0_m``; stops at or before ``passed_m`` are already served.
        """
        s = np.empty(n + 1)
        v = np.empty(n + 1)
        wait = dwell_left_s
        targets = [st.s_m for st in self.stops if st.s_m > passed_m] + [self.length_m]
        nxt = [t for t in targets if t > max(s0_m + 1e-3, passed_m)]
        cap = nxt[0] if nxt else self.length_m
        crawl = 0.05 * self.speed_m_s
        two_a, cruise = 2 * self.decel_m_s2, self.speed_m_s
        sk = float(s0_m)
        for k in range(n + 1):  # scalar loop: this runs every control cycle, numpy per element is slower
            s[k] = sk
            if wait > 0:
                vk = 0.0
            else:
                vk = cruise
                for t in targets:
                    ahead = t - sk
                    if ahead >= -1e-9:
                        vk = min(vk, math.sqrt(two_a * max(ahead, 0.0)))
                # never stall on the braking profile short of the next stop: crawl until it is reached
                if vk < crawl and sk < cap - 1e-3:
                    vk = crawl
            v[k] = vk
            wait -= dt_s
            sk = min(sk + vk * dt_s, cap)
        return s, v

    def stop_at(self, s_m: float, tol_m: float = 0.05) -> StopPoint | None:
        """The stop point within ``tol_m`` of ``s_m``, if any."""
        for st in self.stops:
            if abs(st.s_m - s_m) <= tol_m:
                return st
        return None
