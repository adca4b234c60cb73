"""World-frame velocity command → body-frame command, for Gazebo's multicopter velocity controller.

Planners such as ``drone_mpc`` command a multirotor with a world-frame (ENU) velocity on ``cmd_vel``
(``linear`` m/s in the odometry frame, ``angular.z`` yaw rate). Gazebo Harmonic's
``MulticopterVelocityControl`` reads its twist in the vehicle's body frame and rotates it by the full
attitude (roll and pitch included) before comparing it with the world velocity, and it holds no
attitude at all until a first twist arrives (the vehicle drops). So this component publishes every
``period_s``: the latest world command rotated by the inverse of the latest odometry attitude
(``v_body = Rᵀ v_world``, re-rotated each cycle as the vehicle tilts; the yaw rate passes through), or zero
(hover) before the first command, when the command is older than ``cmd_timeout_s`` (as the headless
kinematic multirotor), before the first odometry or when it is older than ``odom_timeout_s``.
Non-finite commands and attitudes are rejected and counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from sanqin.common.types import Odometry, Twist
from sanqin.runtime.config import param


@dataclass(frozen=True)
class WorldTwistRelayConfig:
    """How old the attitude and the command may be, and the output period."""

    odom_timeout_s: float = param(0.5, "command zero when the last odometry is older than this (s)", min=0.01)
    cmd_timeout_s: float = param(0.5, "command zero when the last world command is older than this (s)", min=0.01)
    period_s: float = param(0.01, "output period (s)", min=0.001, max=1.0)


class WorldTwistRelay:
    """``on_odom`` keeps the attitude, ``on_command`` the world command; ``tick`` returns the body command."""

    def __init__(self, config: WorldTwistRelayConfig) -> None:
        self.config = config
        self.rot: Rotation | None = None
        self.odom_t = -math.inf
        self.command: Twist | None = None
        self.cmd_t = -math.inf
        self.counters = {"relayed": 0, "hover_no_command": 0, "hover_stale_command": 0, "hover_no_odometry": 0,
                         "hover_stale_odometry": 0, "rejected_odometry": 0, "rejected_commands": 0}

    def on_odom(self, odom: Odometry, t_s: float) -> None:
        q = odom.pose.orientation_xyzw
        norm = float(np.linalg.norm(q)) if np.all(np.isfinite(q)) else 0.0
        if norm < 1e-6:
            self.counters["rejected_odometry"] += 1
            return
        self.rot = Rotation.from_quat(q / norm)
        self.odom_t = t_s

    def on_command(self, command: Twist, t_s: float) -> None:
        if not (np.all(np.isfinite(command.linear_m_s)) and np.all(np.isfinite(command.angular_rad_s))):
            self.counters["rejected_commands"] += 1
            return
        self.command, self.cmd_t = command, t_s

    def tick(self, t_s: float) -> dict[str, Twist]:
        c = self.config
        if self.command is None:
            reason = "hover_no_command"
        elif t_s - self.cmd_t > c.cmd_timeout_s:
            reason = "hover_stale_command"
        elif self.rot is None:
            reason = "hover_no_odometry"
        elif t_s - self.odom_t > c.odom_timeout_s:
            reason = "hover_stale_odometry"
        else:
            self.counters["relayed"] += 1
            yaw_rate = float(self.command.angular_rad_s[2])
            return {"cmd_vel": Twist(self.rot.inv().apply(self.command.linear_m_s), np.array([0.0, 0.0, yaw_rate]))}
        self.counters[reason] += 1
        return {"cmd_vel": Twist()}

    def metrics(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.counters.items()}
