"""Multi-object tracking of obstacle boxes: Hungarian association + constant-velocity Kalman filters.

Each track filters its box centre in the ground plane with a constant-velocity model (state x, y, vx, vy;
white-acceleration process noise); height, size and yaw are smoothed exponentially. Detections are
associated to predicted tracks by minimum total centre distance (``scipy.optimize.linear_sum_assignment``)
under a gate. A track is born tentative, confirmed after ``min_hits`` associated frames, and dropped after
``max_misses`` consecutive frames without a detection (tentative tracks at the first miss).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from sanqin.common.obstacles import Obstacle
from sanqin.runtime.config import param


@dataclass(frozen=True)
class TrackerConfig:
    """Association gate, track life cycle and filter noise."""

    gate_m: float = param(1.5, "largest centre distance for an association (m)", min=0.05, max=50.0)
    min_hits: int = param(3, "associated frames before a track is confirmed", min=1, max=100)
    max_misses: int = param(5, "frames without a detection before a confirmed track is dropped", min=0, max=1000)
    accel_noise_m_s2: float = param(2.0, "process noise: white acceleration std (m/s^2)", min=1e-4, max=100.0)
    meas_noise_m: float = param(0.15, "measurement noise: centre position std (m)", min=1e-4, max=10.0)
    init_speed_std_m_s: float = param(3.0, "std of the unknown speed of a new track (m/s)", min=1e-3, max=100.0)
    shape_smoothing: float = param(0.3, "weight of a new detection in the size/height/yaw average", min=0.0, max=1.0)


@dataclass
class Track:
    """One tracked object: CV Kalman state [x, y, vx, vy] with covariance, plus smoothed box."""

    track_id: int
    x: np.ndarray
    p: np.ndarray
    z_m: float
    size_m: np.ndarray
    yaw_rad: float
    hits: int = 1
    misses: int = 0
    age: int = 1
    confirmed: bool = False

    def obstacle(self) -> Obstacle:
        """The track as an obstacle with its filtered velocity."""
        conf = float(min(1.0, self.hits / (self.hits + self.misses + 1e-9)))
        return Obstacle(
            center_m=np.array([self.x[0], self.x[1], self.z_m]),
            size_m=self.size_m.copy(),
            yaw_rad=self.yaw_rad,
            velocity_m_s=np.array([self.x[2], self.x[3], 0.0]),
            track_id=self.track_id,
            confidence=conf,
        )


def _wrap_half_pi(a: float) -> float:
    return float(np.mod(a + np.pi / 2, np.pi) - np.pi / 2)


class MultiObjectTracker:
    """Tracks boxes over frames; ``update(detections, t_s)`` returns the confirmed tracks as obstacles."""

    def __init__(self, config: TrackerConfig) -> None:
        self.config = config
        self.tracks: list[Track] = []
        self._next_id = 0
        self._last_t: float | None = None
        self.births = 0
        self.deaths = 0
        self.rejected = 0

    def reset(self) -> None:
        """Forget every track (e.g. after a time jump)."""
        self.tracks.clear()
        self._last_t = None

    def _predict(self, dt: float) -> None:
        q = self.config.accel_noise_m_s2**2
        f = np.eye(4)
        f[0, 2] = f[1, 3] = dt
        g = np.array([[0.5 * dt * dt, 0], [0, 0.5 * dt * dt], [dt, 0], [0, dt]])
        qm = g @ g.T * q
        for tr in self.tracks:
            tr.x = f @ tr.x
            tr.p = f @ tr.p @ f.T + qm

    def update(self, detections: list[Obstacle] | tuple[Obstacle, ...], t_s: float) -> list[Obstacle]:
        """Advance to ``t_s``, associate ``detections`` and return the confirmed tracks."""
        cfg = self.config
        if self._last_t is not None:
            dt = t_s - self._last_t
            if not np.isfinite(dt) or dt < 0 or dt > 10.0:
                self.reset()
            elif dt > 0:
                self._predict(dt)
        self._last_t = t_s
        # A box with a non-finite centre, size or yaw cannot be associated (NaN costs make the assignment
        # raise) and would poison a track's filter: it is dropped and counted.
        dets = [
            d
            for d in detections
            if np.all(np.isfinite(d.center_m)) and np.all(np.isfinite(d.size_m)) and np.isfinite(d.yaw_rad)
        ]
        self.rejected += len(detections) - len(dets)
        n_t, n_d = len(self.tracks), len(dets)
        assigned_t: set[int] = set()
        assigned_d: set[int] = set()
        if n_t and n_d:
            tp = np.array([tr.x[:2] for tr in self.tracks])
            dp = np.array([d.center_m[:2] for d in dets])
            cost = np.linalg.norm(tp[:, None, :] - dp[None, :, :], axis=2)
            big = 1e6
            ti, di = linear_sum_assignment(np.where(cost <= cfg.gate_m, cost, big))
            for a, b in zip(ti, di):
                if cost[a, b] <= cfg.gate_m:
                    self._correct(self.tracks[a], dets[b])
                    assigned_t.add(int(a))
                    assigned_d.add(int(b))
        for k, tr in enumerate(self.tracks):
            tr.age += 1
            if k not in assigned_t:
                tr.misses += 1
        survivors = []
        for tr in self.tracks:
            limit = cfg.max_misses if tr.confirmed else 0
            if tr.misses > limit:
                self.deaths += 1
            else:
                survivors.append(tr)
        self.tracks = survivors
        for j, d in enumerate(dets):
            if j not in assigned_d:
                self._birth(d)
        return [tr.obstacle() for tr in self.tracks if tr.confirmed]

    def _birth(self, det: Obstacle) -> None:
        cfg = self.config
        p = np.diag([cfg.meas_noise_m**2] * 2 + [cfg.init_speed_std_m_s**2] * 2)
        tr = Track(
            track_id=self._next_id,
            x=np.array([det.center_m[0], det.center_m[1], 0.0, 0.0]),
            p=p,
            z_m=float(det.center_m[2]),
            size_m=np.asarray(det.size_m, float).copy(),
            yaw_rad=float(det.yaw_rad),
        )
        tr.confirmed = cfg.min_hits <= 1
        self._next_id += 1
        self.births += 1
        self.tracks.append(tr)

    def _correct(self, tr: Track, det: Obstacle) -> None:
        cfg = self.config
        h = np.zeros((2, 4))
        h[0, 0] = h[1, 1] = 1.0
        r = np.eye(2) * cfg.meas_noise_m**2
        y = det.center_m[:2] - h @ tr.x
        s = h @ tr.p @ h.T + r
        k = tr.p @ h.T @ np.linalg.inv(s)
        tr.x = tr.x + k @ y
        tr.p = (np.eye(4) - k @ h) @ tr.p
        a = cfg.shape_smoothing
        tr.z_m = (1 - a) * tr.z_m + a * float(det.center_m[2])
        tr.size_m = (1 - a) * tr.size_m + a * np.asarray(det.size_m, float)
        # Average yaw on the π-periodic circle (a box's yaw is defined modulo π).
        dy = _wrap_half_pi(float(det.yaw_rad) - tr.yaw_rad)
        tr.yaw_rad = _wrap_half_pi(tr.yaw_rad + a * dy)
        tr.hits += 1
        tr.misses = 0
        if tr.hits >= cfg.min_hits:
            tr.confirmed = True
