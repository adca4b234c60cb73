"""Radiometric counts → temperature: Gazebo's 16-bit thermal images as 32FC1 °C for our thermal nodes.

Gazebo's ``thermal_camera`` publishes ``L16`` images (``mono16`` in ROS): each pixel is the temperature in
kelvin divided by the sensor's ``resolution`` (kelvin per count). Sanqin's thermal inspection takes
radiometric images as ``32FC1`` in °C (what radiometric camera drivers deliver), so a twin with a thermal
camera runs this conversion: ``°C = counts × kelvin_per_count − 273.15``. Counts of 0 (no data) and
images of another encoding are rejected (counted, nothing published).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sanqin.common.types import ImageFrame
from sanqin.runtime.config import param

ZERO_C_IN_K = 273.15


@dataclass(frozen=True)
class ThermalCountsConfig:
    """How the 16-bit counts encode temperature."""

    kelvin_per_count: float = param(0.01, "temperature step of one count (K); Gazebo's ThermalSensor resolution",
                                    min=1e-6, max=10.0)
    frame_id: str = param("", "frame of the output image; empty: keep the input's")


class ThermalCounts:
    """``on_image`` converts one mono16/16UC1 frame to a 32FC1 °C frame on ``image_out``."""

    def __init__(self, config: ThermalCountsConfig) -> None:
        self.config = config
        self.counters = {"converted": 0, "rejected_encoding": 0, "rejected_empty": 0}

    def on_image(self, frame: ImageFrame, t_s: float) -> dict[str, ImageFrame] | None:
        """The frame in °C, or None (counted) for another encoding or an image without data."""
        if frame.encoding not in ("mono16", "16UC1"):
            self.counters["rejected_encoding"] += 1
            return None
        counts = np.asarray(frame.data)
        if counts.size == 0 or not np.any(counts):
            self.counters["rejected_empty"] += 1
            return None
        celsius = (counts.astype(np.float64) * self.config.kelvin_per_count - ZERO_C_IN_K).astype(np.float32)
        self.counters["converted"] += 1
        return {"image_out": ImageFrame(stamp_s=frame.stamp_s, frame_id=self.config.frame_id or frame.frame_id,
                                        data=celsius, encoding="32FC1")}

    def metrics(self) -> dict[str, float]:
        """Frames converted and rejected."""
        return {k: float(v) for k, v in self.counters.items()}
