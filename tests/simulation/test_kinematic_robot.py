"""The kinematic robot plugin integrates commanded twists, publishes odometry/obstacles/path and scores."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sanqin.msgs.factory import default_factory
from sanqin.msgs.geometry import odometry_from_msg
from sanqin.msgs.obstacles import pointcloud2_to_obstacles
from sanqin.runtime.config import load_config
from sanqin.simulation.kinematic_robot import KinematicRobotConfig, KinematicRobotSim


class _Ctx:
    def __init__(self) -> None:
        self.factory = default_factory()
        self.t = 0.0
        self.subs, self.sent = {}, {}

    def now(self) -> float:
        return self.t

    def subscribe(self, topic, msg_type, cb) -> None:
        self.subs[topic] = cb

    def publish(self, topic, msg) -> None:
        self.sent.setdefault(topic, []).append(msg)


def _run(kind, cmd, seconds=2.0, **params):
    ctx = _Ctx()
    sim = KinematicRobotSim(load_config(KinematicRobotConfig, {"kind": kind, **params}), ctx)
    tw = ctx.factory.new("geometry_msgs/msg/Twist", linear=ctx.factory.new("geometry_msgs/msg/Vector3", x=cmd[0],
                                                                            y=cmd[1], z=0.0),
                         angular=ctx.factory.new("geometry_msgs/msg/Vector3", x=0.0, y=0.0, z=cmd[2]))
    dt = 0.01
    for k in range(int(seconds / dt)):
        ctx.t = k * dt
        if k % 10 == 0:
            ctx.subs["/cmd_vel"](tw)
        sim.step(ctx.t, dt)
    return sim, ctx


def test_differential_drive_turns_on_an_arc_and_reports_clearance() -> None:
    sim, ctx = _run("differential_drive", (0.5, 0.0, 0.5), seconds=2.0, obstacles=[5.0, 5.0, 1.0], lag_s=0.0)
    odom = odometry_from_msg(ctx.sent["/odom"][-1])
    assert math.hypot(*odom.pose.position_m[:2]) == pytest.approx(2 * math.sin(0.5), abs=0.02)  # chord of r = 1
    obs = pointcloud2_to_obstacles(ctx.sent["/obstacles"][-1])
    assert obs.obstacles[0].center_m[:2] == pytest.approx([5.0, 5.0])
    assert len(ctx.sent["/path"]) == 1
    assert sim.metrics()["min_clearance_m"] > 4.0


def test_stale_command_stops_the_robot_and_multirotor_flies_enu() -> None:
    ctx = _Ctx()
    sim = KinematicRobotSim(load_config(KinematicRobotConfig, {"kind": "mecanum", "cmd_timeout_s": 0.2}), ctx)
    tw = ctx.factory.new("geometry_msgs/msg/Twist", linear=ctx.factory.new("geometry_msgs/msg/Vector3", x=0.0,
                                                                            y=1.0, z=0.0),
                         angular=ctx.factory.new("geometry_msgs/msg/Vector3", x=0.0, y=0.0, z=0.0))
    ctx.subs["/cmd_vel"](tw)
    for k in range(200):
        ctx.t = k * 0.01
        sim.step(ctx.t, 0.01)
    assert np.linalg.norm(sim.vel) < 0.01 and 0.05 < sim.pos[1] < 0.4
    quad, _ = _run("multirotor", (1.0, 0.0, 0.0), seconds=1.0, start=[0.0, 0.0, 5.0, 1.0],
                   path=[0, 0, 5.0, 10, 0, 5.0], lag_s=0.0)
    assert quad.pos == pytest.approx([1.0, 0.0, 5.0], abs=0.02)
