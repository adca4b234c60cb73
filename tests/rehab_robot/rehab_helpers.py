"""Helpers shared by the rehabilitation-robot tests (imported as a plain module)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sanqin.rehab_robot.supervisor import SafetyInput

SHARE = Path(__file__).resolve().parents[2]
REHAB_DATA = SHARE / "sim" / "rehab"


def planar_input(robot, t, x=(0.0, 0.40), v=(0.0, 0.0), f=(0.0, 0.0), tau=(0.0, 0.0), sensor_t=None):
    """A supervisor input for the planar robot at handle position x (m) and velocity v (m/s)."""
    q = robot.inverse(np.array(x))
    qd = np.linalg.solve(robot.jacobian(q), np.array(v, float))
    return SafetyInput(t, t if sensor_t is None else sensor_t, q, qd, np.array(f, float), np.array(tau, float))
