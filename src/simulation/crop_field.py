"""Simulator plugin: a spraying drone flies a lawnmower over a crop field with a nadir RGB camera; scores cover.

Field (frame ``field``, ENU, origin at the south-west corner, ground at z = 0): a canopy whose density
varies smoothly over the field (a sum of sinusoids plus a bare headland strip along x = 0), drawn as a
texture of ``texel_m`` squares, each leaf (green) or soil (brown) by a fixed pseudo-random draw against
the local density. The true canopy cover of a grid cell is the leaf fraction of its texels.

The drone flies parallel passes along x at ``altitude_m`` and ``speed_m_s``, ``pass_spacing_m`` apart, and
takes nadir images (pinhole, image top toward the nose) at ``rate_hz``. Publishes ``/camera/image``
(sensor_msgs/Image rgb8) and ``/field/odom`` (nav_msgs/Odometry, the drone in the field frame, 20 Hz).

Scores the last ``/canopy_cover`` (nav_msgs/OccupancyGrid from the canopy mapper, ``cell_m`` cells from the
field origin) against the truth: mean absolute cover error and bias over observed cells, and the observed
fraction of the field; ``/spray_prescription`` messages are counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from sanqin.common.types import ImageFrame, Odometry, Pose, Twist
from sanqin.msgs.geometry import odometry_to_msg
from sanqin.msgs.grid import occupancy_to_grid
from sanqin.msgs.image import frame_to_image
from sanqin.runtime.config import param, require


@dataclass(frozen=True)
class CropFieldConfig:
    """Field, canopy, flight, camera and scoring."""

    length_m: float = param(60.0, "field extent along x (m)", min=1.0)
    width_m: float = param(40.0, "field extent along y (m)", min=1.0)
    cell_m: float = param(2.0, "cell of the scored cover grid (m)", min=0.1)
    texel_m: float = param(0.1, "size of a leaf/soil texture square (m)", min=0.005)
    headland_m: float = param(6.0, "bare strip along x = 0 (m)", min=0.0)
    altitude_m: float = param(12.0, "flight height above the field (m)", min=1.0)
    speed_m_s: float = param(5.0, "flight speed (m/s)", min=0.1)
    pass_spacing_m: float = param(8.0, "distance between passes (m)", min=0.5)
    rate_hz: float = param(2.0, "image rate (Hz)", min=0.1, max=60.0)
    width_px: int = param(160, "image width (px)", min=8)
    height_px: int = param(120, "image height (px)", min=8)
    f_px: float = param(100.0, "focal length (px)", min=1.0)
    color_noise: float = param(6.0, "per-pixel colour noise std (8-bit levels)", min=0.0)
    cover_topic: str = param("/canopy_cover", "cover grid under test")
    prescription_topic: str = param("/spray_prescription", "prescription grid topic")

    def __post_init__(self) -> None:
        require(self.pass_spacing_m < self.width_m, "pass_spacing_m must be smaller than the field width")
        per = self.cell_m / self.texel_m
        require(per >= 1.0 and abs(per - round(per)) < 1e-6,
                "cell_m must be a whole number of texels (texel_m): the true cover is averaged over whole texels")


class CropFieldSim:
    """Fly, render nadir images of the canopy, score the cover grid."""

    Config = CropFieldConfig

    def __init__(self, config: CropFieldConfig, ctx: Any) -> None:
        self.config = config
        self.ctx = ctx
        self.rng = ctx.rng
        c = config
        self.nx_tex = int(np.ceil(c.length_m / c.texel_m))
        self.ny_tex = int(np.ceil(c.width_m / c.texel_m))
        tx = (np.arange(self.nx_tex) + 0.5) * c.texel_m
        ty = (np.arange(self.ny_tex) + 0.5) * c.texel_m
        xx, yy = np.meshgrid(tx, ty, indexing="xy")  # (ny, nx)
        density = self.density(xx, yy)
        self.leaf = np.random.default_rng(int(ctx.rng.integers(1 << 31))).random(density.shape) < density
        self.waypoints = self._route()
        self.t_end = self._cumulative[-1] / c.speed_m_s
        self._next_img = 0.5
        self._next_odom = 0.0
        self.last_cover: Any = None
        self.prescriptions = 0
        self.images = 0
        ctx.graph.bus.advertise("/camera/image", "sensor_msgs/msg/Image")
        ctx.graph.bus.advertise("/field/odom", "nav_msgs/msg/Odometry")
        ctx.subscribe(c.cover_topic, "nav_msgs/msg/OccupancyGrid", self._on_cover)
        ctx.subscribe(c.prescription_topic, "nav_msgs/msg/OccupancyGrid", self._on_prescription)

    # --- field ----------------------------------------------------------------------------------
    def density(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Leaf probability at field points: smooth variation, a bare headland."""
        c = self.config
        d = (
            0.5
            + 0.3 * np.sin(2 * np.pi * x / 35.0) * np.cos(2 * np.pi * y / 27.0)
            + 0.15 * np.sin(2 * np.pi * y / 11.0)
        )
        d = np.where(x < c.headland_m, 0.0, d)
        return np.clip(d, 0.0, 0.95)

    def true_cover(self) -> np.ndarray:
        """(cells_y, cells_x) leaf fraction per grid cell (row 0 = lowest y)."""
        c = self.config
        per = int(round(c.cell_m / c.texel_m))
        ny, nx = self.ny_tex // per, self.nx_tex // per
        return self.leaf[: ny * per, : nx * per].reshape(ny, per, nx, per).mean(axis=(1, 3))

    # --- flight ----------------------------------------------------------------------------------
    def _route(self) -> np.ndarray:
        c = self.config
        ys = np.arange(c.pass_spacing_m / 2, c.width_m, c.pass_spacing_m)
        pts = []
        for i, y in enumerate(ys):
            xs = (0.0, c.length_m) if i % 2 == 0 else (c.length_m, 0.0)
            pts += [(xs[0], y), (xs[1], y)]
        wp = np.array(pts)
        self._cumulative = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(wp, axis=0), axis=1))])
        return wp

    def pose_at(self, t_s: float) -> tuple[np.ndarray, float]:
        """(x, y, z) and yaw of the drone at ``t_s``."""
        d = min(max(t_s, 0.0) * self.config.speed_m_s, self._cumulative[-1])
        k = int(np.clip(np.searchsorted(self._cumulative, d, side="right") - 1, 0, len(self.waypoints) - 2))
        a, b = self.waypoints[k], self.waypoints[k + 1]
        seg = self._cumulative[k + 1] - self._cumulative[k]
        f = (d - self._cumulative[k]) / seg if seg > 0 else 0.0
        xy = a + f * (b - a)
        yaw = float(np.arctan2(b[1] - a[1], b[0] - a[0]))
        return np.array([xy[0], xy[1], self.config.altitude_m]), yaw

    def render(self, xyz: np.ndarray, yaw: float) -> np.ndarray:
        """Nadir rgb8 image of the field from a pose."""
        c = self.config
        v, u = np.mgrid[0 : c.height_px, 0 : c.width_px]
        fwd = -(v + 0.5 - c.height_px / 2) * xyz[2] / c.f_px
        left = -(u + 0.5 - c.width_px / 2) * xyz[2] / c.f_px
        gx = xyz[0] + np.cos(yaw) * fwd - np.sin(yaw) * left
        gy = xyz[1] + np.sin(yaw) * fwd + np.cos(yaw) * left
        ix = np.floor(gx / c.texel_m).astype(int)
        iy = np.floor(gy / c.texel_m).astype(int)
        inside = (ix >= 0) & (ix < self.nx_tex) & (iy >= 0) & (iy < self.ny_tex)
        leaf = np.zeros(ix.shape, bool)
        leaf[inside] = self.leaf[iy[inside], ix[inside]]
        soil = np.array([120.0, 90.0, 60.0])
        green = np.array([60.0, 140.0, 50.0])
        img = np.where(leaf[:, :, None], green, soil) + self.rng.normal(0, c.color_noise, (*leaf.shape, 3))
        img[~inside] = (90.0, 90.0, 90.0)  # gravel road around the field
        return np.clip(img, 0, 255).astype(np.uint8)

    # --- stepping ---------------------------------------------------------------------------------
    def step(self, t_s: float, dt_s: float) -> None:
        """Publish odometry and images due at ``t_s``."""
        eps = 1e-9
        while self._next_odom <= t_s + eps:
            xyz, yaw = self.pose_at(self._next_odom)
            q = Rotation.from_euler("z", yaw).as_quat()
            odom = Odometry(
                stamp_s=self._next_odom,
                frame_id="field",
                child_frame_id="base_link",
                pose=Pose(xyz, q),
                twist=Twist([self.config.speed_m_s, 0.0, 0.0]),
            )
            self.ctx.publish("/field/odom", odometry_to_msg(odom, self.ctx.factory))
            self._next_odom += 0.05
        while self._next_img <= t_s + eps and self._next_img <= self.t_end:
            xyz, yaw = self.pose_at(self._next_img)
            frame = ImageFrame(stamp_s=self._next_img, frame_id="camera", data=self.render(xyz, yaw), encoding="rgb8")
            self.ctx.publish("/camera/image", frame_to_image(frame, self.ctx.factory))
            self.images += 1
            self._next_img += 1.0 / self.config.rate_hz

    def done(self) -> bool:
        """Stop once the flight is over and a grid was published after it."""
        return self.last_cover is not None and self.last_cover.stamp_s > self.t_end + 0.5

    def _on_cover(self, msg: Any) -> None:
        self.last_cover = occupancy_to_grid(msg, value_max=1.0)

    def _on_prescription(self, msg: Any) -> None:
        self.prescriptions += 1

    def metrics(self) -> dict[str, float]:
        """Cover error against the truth over observed cells."""
        nan = float("nan")
        out = {"images": float(self.images), "prescriptions": float(self.prescriptions)}
        g = self.last_cover
        if g is None:
            return {**out, "cover_mae": nan, "cover_bias": nan, "observed_fraction": 0.0}
        truth = self.true_cover()
        rows, cols = min(truth.shape[0], g.values.shape[0]), min(truth.shape[1], g.values.shape[1])
        est = g.values[:rows, :cols]
        tru = truth[:rows, :cols]
        seen = np.isfinite(est)
        err = est[seen] - tru[seen]
        return {
            **out,
            "cover_mae": float(np.mean(np.abs(err))) if err.size else nan,
            "cover_bias": float(np.mean(err)) if err.size else nan,
            "observed_fraction": float(seen.mean()),
            "true_mean_cover": float(tru.mean()),
        }
