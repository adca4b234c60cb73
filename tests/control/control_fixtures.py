"""Helpers shared by the control tests (imported by name: tests have no packages)."""

from __future__ import annotations

import mujoco
import numpy as np

HOME = np.array([-1.5708, -1.5708, 1.5708, -1.5708, -1.5708, 0.0])


class TorqueSim:
    """The UR5e with its position servos removed: torques go straight into qfrc_applied."""

    def __init__(self, path) -> None:
        spec = mujoco.MjSpec.from_file(str(path))
        for a in list(spec.actuators):
            spec.delete(a)
        for k in list(spec.keys):
            spec.delete(k)
        # reflected rotor inertia of the geared drives (absent from the kinematic model; a real UR has it)
        for j, arm in zip(spec.joints, (0.4, 0.4, 0.2, 0.05, 0.05, 0.05)):
            j.armature = arm
        self.m = spec.compile()
        self.d = mujoco.MjData(self.m)
        self.d.qpos[:] = HOME
        mujoco.mj_forward(self.m, self.d)
        self.body = mujoco.mj_name2id(self.m, mujoco.mjtObj.mjOBJ_BODY, "wrist_3_link")

    def step(self, tau: np.ndarray, n: int = 1) -> None:
        self.d.qfrc_applied[:] = tau
        for _ in range(n):
            mujoco.mj_step(self.m, self.d)
