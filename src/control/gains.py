"""Per-axis Cartesian gains declared once and validated at load (no unstable gains reach a controller)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sanqin.runtime.config import param, require

AXES = ("x", "y", "z", "rx", "ry", "rz")


def _check6(name: str, values: tuple, positive: bool) -> None:
    require(len(values) == 6, f"{name} needs 6 values (x y z rx ry rz), got {len(values)}")
    if positive:
        bad = [AXES[i] for i, v in enumerate(values) if not v > 0.0]
        require(not bad, f"{name} must be > 0 on every axis (unstable otherwise); bad axes {bad}")
    else:
        bad = [AXES[i] for i, v in enumerate(values) if v < 0.0]
        require(not bad, f"{name} must be >= 0 on every axis; bad axes {bad}")


@dataclass(frozen=True)
class CartesianGains:
    """Virtual mass, stiffness and damping ratio per axis (x y z in N, kg, m; rx ry rz in N·m, kg·m², rad)."""

    mass: tuple[float, ...] = param((5.0, 5.0, 5.0, 0.5, 0.5, 0.5), "virtual mass / inertia per axis (kg, kg·m²)")
    stiffness: tuple[float, ...] = param(
        (800.0, 800.0, 800.0, 60.0, 60.0, 60.0), "stiffness per axis (N/m, N·m/rad); 0 = no spring"
    )
    damping_ratio: tuple[float, ...] = param((1.0, 1.0, 1.0, 1.0, 1.0, 1.0), "damping ratio per axis (> 0)")
    selected_axes: tuple[bool, ...] = param(
        (True, True, True, True, True, True), "axes on which the law acts (x y z rx ry rz)"
    )

    def __post_init__(self) -> None:
        _check6("mass", self.mass, positive=True)
        _check6("stiffness", self.stiffness, positive=False)
        _check6("damping_ratio", self.damping_ratio, positive=True)
        require(len(self.selected_axes) == 6, f"selected_axes needs 6 values, got {len(self.selected_axes)}")

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(mass, stiffness, damping, selection mask) as arrays; damping = 2ζ√(k m), or 2ζ m (1/s) if k = 0."""
        m = np.asarray(self.mass, float)
        k = np.asarray(self.stiffness, float)
        z = np.asarray(self.damping_ratio, float)
        # with no spring the "damping ratio" scales a 1 s⁻¹ reference bandwidth: d = 2ζ·m·1 s⁻¹
        d = np.where(k > 0, 2.0 * z * np.sqrt(k * m), 2.0 * z * m)
        return m, k, d, np.asarray(self.selected_axes, bool)
