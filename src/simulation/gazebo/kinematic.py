"""Gazebo twin of :class:`sanqin.simulation.kinematic_robot.KinematicRobotSim`: a planner drives a real base.

Headless the robot is a kinematic model (speed and yaw-rate limits, first-order velocity lag) that the
planner under test commands on ``cmd_topic``; here it is a wheeled base (:mod:`.robots`: ``DiffDrive``
for ``differential_drive``, ``MecanumDrive`` for ``mecanum``) of the scenario's ``robot_radius_m`` with
the speed limits and an acceleration limit ``v_max / lag``, on a ground plane with the scenario's
circular obstacles as cylinders (a ``multirotor`` is a quadcopter: :mod:`.multirotor`). Ground-truth
odometry goes out on ``odom_topic`` (frame ``frame_id``),
and ``scene_publisher`` publishes the path (latched) and the obstacle table the plugin publishes.
Scored by the plugin's own ``_score`` replayed on the recorded odometry.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sanqin.runtime.scenario import NodeEntry, SimulatorEntry
from sanqin.simulation.gazebo import multirotor
from sanqin.simulation.gazebo.robots import WheeledRobot, wheeled_robot
from sanqin.simulation.gazebo.sdf import el, fields
from sanqin.simulation.gazebo.twin import Model, Placement, Spawn, Twin, new_model, visual_and_collision

OBSTACLE_HEIGHT_M = 2.0
BODY_HEIGHT_M = 0.5


def export(config: Any, entry: SimulatorEntry, twin: Twin) -> None:
    """Add the ground with obstacles, the base, its drive limits and the scene publisher."""
    if config.kind == "multirotor":
        multirotor.export(config, entry, twin)
        return
    _ground(twin, config)
    half = config.robot_radius_m / math.sqrt(2)  # the body square inscribed in the robot's clearance circle
    spec = WheeledRobot(part="base", body_min_m=(-half, -half, 0.0), body_max_m=(half, half, BODY_HEIGHT_M),
                        wheelbase_m=1.2 * half, drive="diff" if config.kind == "differential_drive" else "mecanum",
                        odom_topic=config.odom_topic, odom_frame=config.frame_id, odom_rate_hz=config.odom_rate_hz,
                        cmd_topic=config.cmd_topic, tf_topic="/tf_gt")
    robot = wheeled_robot(twin, spec, description=f"{config.kind} base of scenario {twin.scenario.name}")
    drive = next(p for p in robot.model.findall("plugin") if p.get("name", "").endswith(("DiffDrive", "MecanumDrive")))
    lag = config.lag_s
    if config.kind == "differential_drive":
        limits = {"max_linear_velocity": config.v_max_m_s, "min_linear_velocity": -config.v_max_m_s,
                  "max_angular_velocity": config.w_max_rad_s, "min_angular_velocity": -config.w_max_rad_s}
        if lag > 0:
            limits.update({"max_linear_acceleration": config.v_max_m_s / lag,
                           "min_linear_acceleration": -config.v_max_m_s / lag,
                           "max_angular_acceleration": config.w_max_rad_s / lag,
                           "min_angular_acceleration": -config.w_max_rad_s / lag})
    else:  # MecanumDrive (Harmonic) has one limit for its linear and angular speed limiters
        limits = {"max_velocity": config.v_max_m_s, "min_velocity": -config.v_max_m_s}
        if lag > 0:
            limits.update({"max_acceleration": config.v_max_m_s / lag, "min_acceleration": -config.v_max_m_s / lag})
        twin.notes.append(f"MecanumDrive limits yaw rate with the linear speed limit ({config.v_max_m_s:g}); headless "
                          f"the yaw-rate limit is {config.w_max_rad_s:g} rad/s")
    fields(drive, limits)
    x, y, yaw = config.start[0], config.start[1], config.start[-1]
    twin.spawns.append(Spawn(robot.name, "base", (float(x), float(y), 0.0), (0.0, 0.0, float(yaw))))
    twin.nodes.append(NodeEntry(
        node="scene_publisher", name="scene_publisher", params_file="config/scene_publisher.yaml",
        params={"path": [float(v) for v in config.path], "dims": 2,
                **({"obstacles": [float(v) for v in config.obstacles]} if config.obstacles else {}),
                "frame_id": config.frame_id, "period_s": float(round(1.0 / config.obstacles_rate_hz, 9))},
        remap={"path": config.path_topic, "obstacles": config.obstacles_topic}))
    twin.notes.append("the base is a wheeled robot with drive limits instead of the headless kinematic model with a "
                      f"{config.lag_s:g} s velocity lag; the command timeout ({config.cmd_timeout_s:g} s) is the "
                      "drive system's own")


def ground_with_cylinders(
    twin: Twin, config: Any, *, height_m: float, part: str, title: str, header: str | None = None
) -> Model:
    """A static ground plane with one cylinder (``part``_i) per (x, y, r) row of ``config.obstacles``."""
    name = twin.model_name("ground")
    root, model = new_model(name, static=True)
    link = el(model, "link", name="ground")
    visual_and_collision(link, "ground", "plane", {"normal": [0, 0, 1], "size": [200.0, 200.0]},
                         rgba=(0.5, 0.5, 0.5, 1.0))
    obst = np.asarray(config.obstacles, dtype=np.float64).reshape(-1, 3)
    for i, (x, y, r) in enumerate(obst):
        visual_and_collision(link, f"{part}_{i + 1}", "cylinder", {"radius": r, "length": height_m},
                             xyz=(x, y, height_m / 2), rgba=(0.8, 0.3, 0.2, 1.0))
    twin.placements.append(Placement(name, "ground"))
    text = header or f"Ground of scenario {twin.scenario.name} with {len(obst)} circular obstacles."
    return twin.add_model(Model(name, root, title, {}, text))


def _ground(twin: Twin, config: Any) -> Model:
    return ground_with_cylinders(
        twin, config, height_m=OBSTACLE_HEIGHT_M, part="obstacle", title="Ground with the scenario's obstacles"
    )


def score(config: Any, entry: SimulatorEntry, scenario: Any, bag: Any) -> dict[str, float]:
    """The plugin's metrics, its ``_score`` replayed on the recorded odometry (pose, body velocity)."""
    from sanqin.simulation.gazebo.twin import headless_simulator

    sim = headless_simulator(scenario, entry.name)
    last = None
    for _, msg in bag.messages(config.odom_topic):
        p, tw = msg.pose.pose.position, msg.twist.twist
        pos = np.array([p.x, p.y, p.z if sim.dim == 3 else 0.0])
        if last is not None:
            sim.distance += float(np.linalg.norm(pos - last))
        last = pos
        sim.pos = pos
        sim.vel = np.array([tw.linear.x, tw.linear.y, tw.linear.z])
        sim._score(msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9)
    return sim.metrics()
