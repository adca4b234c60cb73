"""A 2-D grid of values in a map frame (ROS-free): cells, resolution and origin, as nav_msgs/OccupancyGrid.

Row 0 is the lowest y, column 0 the lowest x (the OccupancyGrid convention: data in row-major order
starting at the origin cell). Cells without a value are NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ScalarGrid:
    """Values per cell (NaN = unknown) on a regular grid; ``scale`` maps values to 0..100 for display."""

    values: np.ndarray  # (rows = y, cols = x) float64
    resolution_m: float
    origin_xy_m: tuple[float, float] = (0.0, 0.0)
    frame_id: str = "map"
    stamp_s: float = 0.0
    value_max: float = 1.0  # the value shown as 100
    label: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", np.asarray(self.values, dtype=np.float64))
        if self.values.ndim != 2:
            raise ValueError(f"grid values must be 2-D, got shape {self.values.shape}")
        if not (np.isfinite(self.resolution_m) and self.resolution_m > 0):
            raise ValueError(f"grid resolution must be positive, got {self.resolution_m}")
