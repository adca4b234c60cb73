"""Simulator plugin: a thermal camera looks at the cable trays of a tunnel wall; scores hotspot alarms.

The robot drives a straight tunnel (station = x in ``odom``) at ``speed_m_s``; a radiometric camera on it
looks at the left wall (optical axis +y, image right = +x = along the tunnel) at ``range_m``. Each image
(32FC1, °C) is synthesised from the scene: the wall at ``ambient_c``, one horizontal cable band per tray
tier at ``cable_c`` (a loaded cable), and cable joints on given tiers and stations whose hot spot rises to
``joint_peak_c`` with a Gaussian profile along the cable (``joint_sigma_m``); Gaussian pixel noise. A
reflection (a hot blob in one frame only, e.g. a lamp on a metal bracket) appears at given times. Column
``u`` sees station ``s_robot + (u + 0.5 − cx) · range_m / fx``.

Publishes ``/thermal/image`` (sensor_msgs/Image 32FC1) at ``rate_hz`` and ``/odometry`` (nav_msgs/Odometry,
ground truth with optional along-track noise) at 20 Hz.

Scores ``/hotspot_alarms`` (diagnostic_msgs/DiagnosticArray from the thermal inspector): each joint's
expected grade is given (``joint_grades``, derived by hand from the DL/T 664 criteria on T1 = peak,
T2 = cable, T0 = ambient; with the defaults, 35 °C cables on a 20 °C wall: 37 and 38 °C are normal
(ΔT 2–3 K, δt 12–17 %), 52 °C general (ΔT 17 K ≥ 15 K), 44 °C general (δt 37.5 % ≥ 35 %), 60 °C general
(δt 62.5 %), 85 °C serious (T1 ≥ 80 °C), 95 °C serious (δt 80 %), 120 °C critical (T1 ≥ 110 °C)); a joint
with grade ≥ 1 is a defect. An alarm within ``match_distance_m`` of a defective joint finds it (recall);
other alarms are false alarms; the alarm's grade is compared with the expected one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sanqin.common.types import ImageFrame, Odometry, Pose, Twist
from sanqin.msgs.diagnostics import diagnostics_from_msg
from sanqin.msgs.geometry import odometry_to_msg
from sanqin.msgs.image import frame_to_image
from sanqin.perception.thermal import GRADE_NAMES
from sanqin.runtime.config import param, require


@dataclass(frozen=True)
class ThermalTunnelConfig:
    """Route, camera, scene temperatures, joints, reflections and scoring."""

    start_station_m: float = param(2.0, "start station (m)", min=0.0)
    end_station_m: float = param(200.0, "end station (m)", min=0.0)
    speed_m_s: float = param(1.5, "driving speed (m/s)", min=0.01, max=10.0)
    rate_hz: float = param(8.0, "thermal camera frame rate (Hz)", min=0.1, max=60.0)
    width_px: int = param(160, "image width (px)", min=8)
    height_px: int = param(120, "image height (px)", min=8)
    fx_px: float = param(200.0, "horizontal focal length (px)", min=1.0)
    range_m: float = param(1.3, "distance to the trays (m)", min=0.1)
    ambient_c: float = param(20.0, "wall and air temperature T0 (°C)")
    cable_c: float = param(35.0, "loaded cable temperature (°C)")
    noise_c: float = param(0.3, "pixel noise std (°C)", min=0.0)
    tier_rows_px: tuple[int, ...] = param((30, 60, 90), "image row of each tray tier's cable band (px)", min=0)
    band_half_px: int = param(5, "half height of a cable band (px)", min=1)
    joint_stations_m: tuple[float, ...] = param(
        (20.0, 45.0, 70.0, 95.0, 120.0, 145.0, 170.0, 185.0), "stations of the cable joints (m)", min=0.0
    )
    joint_tiers: tuple[int, ...] = param((0, 1, 2, 1, 0, 2, 1, 0), "tray tier of each joint", min=0)
    joint_peak_c: tuple[float, ...] = param(
        (37.0, 52.0, 85.0, 120.0, 60.0, 38.0, 95.0, 44.0), "hot-spot temperature of each joint (°C)"
    )
    joint_grades: tuple[int, ...] = param(
        (0, 1, 2, 3, 1, 0, 2, 1),
        "expected DL/T 664 grade of each joint (0 normal .. 3 critical): the scoring's ground truth, worked out "
        "by hand from T1 = peak, T2 = cable, T0 = ambient, not by the grading code under test",
        min=0,
        max=3,
    )
    joint_sigma_m: float = param(0.08, "width of a joint's hot spot along the cable (m)", min=0.005)
    reflection_times_s: tuple[float, ...] = param((30.0, 77.0), "times of one-frame reflections (s)", min=0.0)
    reflection_c: float = param(90.0, "temperature of a reflection (°C)")
    odom_noise_m: float = param(0.02, "along-track noise of the published odometry (m)", min=0.0)
    alarms_topic: str = param("/hotspot_alarms", "alarm topic under test")
    match_distance_m: float = param(1.0, "largest station error of a found joint (m)", min=0.01)

    def __post_init__(self) -> None:
        n = len(self.joint_stations_m)
        require(
            len(self.joint_tiers) == n and len(self.joint_peak_c) == n and len(self.joint_grades) == n,
            "joint lists must have equal length",
        )
        require(all(t < len(self.tier_rows_px) for t in self.joint_tiers), "a joint is on a tier that does not exist")
        require(self.end_station_m > self.start_station_m, "end_station_m must exceed start_station_m")


class ThermalTunnelSim:
    """Drive along the trays, render thermal images, score the alarms."""

    Config = ThermalTunnelConfig

    def __init__(self, config: ThermalTunnelConfig, ctx: Any) -> None:
        self.config = config
        self.ctx = ctx
        self.rng = ctx.rng
        self._next_img = 1.0 / config.rate_hz
        self._next_odom = 0.0
        self._frame = 0
        self._reflect_frames = {int(round(t * config.rate_hz)) for t in config.reflection_times_s}
        self.expected = list(config.joint_grades)
        self.alarms: list[tuple[float, int]] = []
        self.images = 0
        ctx.graph.bus.advertise("/thermal/image", "sensor_msgs/msg/Image")
        ctx.graph.bus.advertise("/odometry", "nav_msgs/msg/Odometry")
        ctx.subscribe(config.alarms_topic, "diagnostic_msgs/msg/DiagnosticArray", self._on_alarms)

    def station(self, t_s: float) -> float:
        """Robot station at ``t_s`` (m)."""
        c = self.config
        return min(c.start_station_m + c.speed_m_s * t_s, c.end_station_m)

    def step(self, t_s: float, dt_s: float) -> None:
        """Publish odometry and images due at ``t_s``."""
        eps = 1e-9
        while self._next_odom <= t_s + eps:
            s = self.station(self._next_odom) + self.rng.normal(0.0, self.config.odom_noise_m)
            odom = Odometry(
                stamp_s=self._next_odom,
                frame_id="odom",
                pose=Pose([s, 0.0, 0.0]),
                twist=Twist([self.config.speed_m_s, 0.0, 0.0]),
            )
            self.ctx.publish("/odometry", odometry_to_msg(odom, self.ctx.factory))
            self._next_odom += 0.05
        while self._next_img <= t_s + eps:
            self._image(self._next_img)
            self._next_img += 1.0 / self.config.rate_hz

    def render(self, robot_station_m: float, reflection: bool = False) -> np.ndarray:
        """The thermal image (°C) seen from a robot at a station."""
        c = self.config
        w, h = c.width_px, c.height_px
        cx = w / 2
        st = robot_station_m + (np.arange(w) + 0.5 - cx) * c.range_m / c.fx_px
        img = np.full((h, w), c.ambient_c) + self.rng.normal(0.0, c.noise_c, (h, w))
        for row in c.tier_rows_px:
            r0, r1 = max(row - c.band_half_px, 0), min(row + c.band_half_px + 1, h)
            img[r0:r1, :] += c.cable_c - c.ambient_c
        for s_j, tier, peak in zip(c.joint_stations_m, c.joint_tiers, c.joint_peak_c):
            prof = (peak - c.cable_c) * np.exp(-((st - s_j) ** 2) / (2 * c.joint_sigma_m**2))
            if prof.max() < 1e-3:
                continue
            row = c.tier_rows_px[tier]
            r0, r1 = max(row - c.band_half_px + 1, 0), min(row + c.band_half_px, h)
            img[r0:r1, :] += prof[None, :]
        if reflection:
            u = int(self.rng.integers(10, w - 10))
            v = int(self.rng.integers(10, h - 10))
            img[v - 3 : v + 4, u - 3 : u + 4] = c.reflection_c
        return img.astype(np.float32)

    def _image(self, t_s: float) -> None:
        self._frame += 1
        img = self.render(self.station(t_s), reflection=self._frame in self._reflect_frames)
        frame = ImageFrame(stamp_s=t_s, frame_id="thermal_camera", data=img, encoding="32FC1")
        self.ctx.publish("/thermal/image", frame_to_image(frame, self.ctx.factory))
        self.images += 1

    def _on_alarms(self, msg: Any) -> None:
        _, statuses = diagnostics_from_msg(msg)
        for st in statuses:
            try:
                station = float(st.values["station_m"])
                g = GRADE_NAMES.index(st.values["grade"])
            except (KeyError, ValueError):
                continue
            self.alarms.append((station, g))

    def metrics(self) -> dict[str, float]:
        """Recall of defective joints, false alarms, grade agreement, location error."""
        c = self.config
        defects = [i for i, g in enumerate(self.expected) if g >= 1]
        found: dict[int, tuple[float, int]] = {}
        false_alarms = 0
        for station, g in self.alarms:
            d = [abs(station - s) for s in c.joint_stations_m]
            j = int(np.argmin(d)) if d else -1
            if j >= 0 and d[j] <= c.match_distance_m and j in defects:
                if j not in found or g > found[j][1]:
                    found[j] = (station, g)
            else:
                false_alarms += 1
        nan = float("nan")
        loc = [abs(found[j][0] - c.joint_stations_m[j]) for j in found]
        grades_ok = [found[j][1] == self.expected[j] for j in found]
        return {
            "images": float(self.images),
            "defects": float(len(defects)),
            "alarms": float(len(self.alarms)),
            "found": float(len(found)),
            "recall": len(found) / len(defects) if defects else nan,
            "false_alarms": float(false_alarms),
            "grade_accuracy": float(np.mean(grades_ok)) if grades_ok else nan,
            "location_error_max_m": float(max(loc)) if loc else nan,
        }
