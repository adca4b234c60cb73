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


class SimplePlant:
    """Planar robot dynamics (semi-implicit Euler) with a scripted patient force at the handle."""

    def __init__(self, robot, x0=(0.0, 0.38), dt=0.001):
        self.robot, self.dt = robot, dt
        self.q = robot.inverse(np.array(x0, float))
        self.qd = np.zeros(robot.n_joints)
        self.t = 0.0

    def step(self, tau, f_patient):
        tau_total = np.asarray(tau) + self.robot.joint_torque(self.q, f_patient)
        qdd = self.robot.chain.forward_dynamics(self.q, self.qd, tau_total)
        self.qd = self.qd + qdd * self.dt
        self.q = self.q + self.qd * self.dt
        self.t += self.dt
