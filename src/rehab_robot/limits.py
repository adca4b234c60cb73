"""Motion and force limits in a robot's task coordinates, shared by hardware specs and patient profiles.

Task coordinates are the robot's natural therapy coordinates: the handle position in metres (planar
end-effector robot, base frame, x right / y forward) or the joint angles in radians (exoskeleton). The
unit is stated once in :attr:`Limits.task_unit`; speeds are in that unit per second. Interaction limits
are a handle force in N (end-effector robot) or a cuff torque per joint in N·m (exoskeleton).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Limits:
    """Range of motion, speed, interaction and actuator limits (arrays are per task axis / per joint)."""

    task_min: np.ndarray
    task_max: np.ndarray
    max_speed: float
    max_interaction: float
    max_joint_torque_nm: np.ndarray
    task_unit: str  # "m" (handle position) or "rad" (joint angles)

    @property
    def interaction_unit(self) -> str:
        """Unit of :attr:`max_interaction`: N for a handle force, N·m for a cuff torque."""
        return "N" if self.task_unit == "m" else "N·m"

    @property
    def speed_unit(self) -> str:
        """Unit of :attr:`max_speed`."""
        return f"{self.task_unit}/s"

    def contains(self, x: np.ndarray, margin: float = 0.0) -> bool:
        """True when ``x`` is inside the range of motion shrunk by ``margin`` on every side."""
        x = np.asarray(x, float)
        return bool(np.all(x >= self.task_min + margin) and np.all(x <= self.task_max - margin))

    def exceedances(self, other: Limits) -> list[str]:
        """Readable reasons why ``self`` is not within ``other`` (empty when it is)."""
        out: list[str] = []
        u = self.task_unit
        for i, (lo, hi, hlo, hhi) in enumerate(zip(self.task_min, self.task_max, other.task_min, other.task_max)):
            if lo < hlo - 1e-12:
                out.append(f"range of motion axis {i} minimum {lo:g} {u} is below the hardware limit {hlo:g} {u}")
            if hi > hhi + 1e-12:
                out.append(f"range of motion axis {i} maximum {hi:g} {u} is above the hardware limit {hhi:g} {u}")
        if self.max_speed > other.max_speed + 1e-12:
            out.append(f"max speed {self.max_speed:g} {self.speed_unit} exceeds the hardware limit "
                       f"{other.max_speed:g} {self.speed_unit}")
        if self.max_interaction > other.max_interaction + 1e-12:
            out.append(f"max interaction {self.max_interaction:g} {self.interaction_unit} exceeds the hardware "
                       f"limit {other.max_interaction:g} {self.interaction_unit}")
        for i, (t, ht) in enumerate(zip(self.max_joint_torque_nm, other.max_joint_torque_nm)):
            if t > ht + 1e-12:
                out.append(f"max joint torque {i} {t:g} N·m exceeds the hardware limit {ht:g} N·m")
        return out
