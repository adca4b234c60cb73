"""Gazebo twin of a ``multirotor`` :class:`sanqin.simulation.kinematic_robot.KinematicRobotSim`: a quadcopter.

Headless the multirotor is a kinematic point that follows the planner's world-frame (ENU) velocity command
through a first-order lag, clipped to ``v_max_m_s``. Here it is an X-configuration quadcopter of the
scenario's ``robot_radius_m`` (rotor tips on the clearance circle) flown by Gazebo Harmonic's
``MulticopterVelocityControl`` (Lee velocity controller on ground-truth state) through one
``MulticopterMotorModel`` per rotor; the command limit is ``v_max_m_s`` per axis. That controller takes a
body-frame twist, so the ``world_twist_relay`` node rotates the planner's command by the vehicle's attitude
(and commands hover before the first command and when it goes stale). The airframe is the gz-sim X3
example's (1.5 kg, its motor and moment constants and controller gains): the scenario gives no mass.
The scenario's circular obstacles are poles reaching above the highest waypoint, ground-truth odometry
(``OdometryPublisher``, 3-D) goes out on ``odom_topic`` and ``scene_publisher`` publishes the 3-D path and
the obstacle table. Scored by the plugin's own ``_score`` (:func:`sanqin.simulation.gazebo.kinematic.score`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sanqin.runtime.scenario import NodeEntry, SimulatorEntry
from sanqin.simulation.gazebo import systems
from sanqin.simulation.gazebo.bridge import GZ_TO_ROS, ROS_TO_GZ, BridgeEntry
from sanqin.simulation.gazebo.sdf import el, fields, plugin, pose
from sanqin.simulation.gazebo.twin import (
    Model,
    Spawn,
    Twin,
    box_inertia,
    cylinder_inertia,
    geometry,
    inertial,
    material,
    new_model,
    visual_and_collision,
)

# The gz-sim X3 example airframe (examples/worlds/multicopter_velocity_control.sdf, gz-sim8).
BODY_MASS_KG = 1.5
BODY_SIZE_M = (0.47, 0.47, 0.11)
ROTOR_MASS_KG = 0.005
ROTOR_RADIUS_M = 0.1
MOTOR_CONSTANT = 8.54858e-06  # thrust = k ω² (N·s²)
MOMENT_CONSTANT = 0.016  # drag torque / thrust (m)
MAX_ROT_VELOCITY = 800.0  # rad/s
VELOCITY_GAIN = (2.7, 2.7, 2.7)
ATTITUDE_GAIN = (2.0, 3.0, 0.15)
ANGULAR_RATE_GAIN = (0.4, 0.52, 0.18)
MAX_ACCEL_M_S2 = (2.0, 2.0, 2.0)
POLE_HEADROOM_M = 5.0
BODY_TOPIC = "_body"  # suffix of the relayed body-frame command topic


def export(config: Any, entry: SimulatorEntry, twin: Twin) -> None:
    """Add the ground with the poles, the quadcopter, its bridges, the relay and the scene publisher."""
    path = np.asarray(config.path, dtype=np.float64).reshape(-1, 3)
    _ground(twin, config, pole_height_m=float(path[:, 2].max()) + POLE_HEADROOM_M)
    model = _quadcopter(twin, config)
    x, y, z, yaw = (float(v) for v in config.start)
    twin.spawns.append(Spawn(model.name, "drone", (x, y, z), (0.0, 0.0, yaw)))
    body_topic = config.cmd_topic + BODY_TOPIC
    twin.add_bridge(BridgeEntry(body_topic, f"/{model.name}/cmd_vel", "geometry_msgs/msg/Twist", "gz.msgs.Twist",
                                ROS_TO_GZ))
    twin.add_bridge(BridgeEntry(config.odom_topic, f"/model/{model.name}/odom_gt", "nav_msgs/msg/Odometry",
                                "gz.msgs.Odometry", GZ_TO_ROS))
    twin.add_bridge(BridgeEntry("/tf_gt", f"/model/{model.name}/tf", "tf2_msgs/msg/TFMessage", "gz.msgs.Pose_V",
                                GZ_TO_ROS))
    twin.nodes.append(NodeEntry(
        node="world_twist_relay", name="world_twist_relay", params_file="config/world_twist_relay.yaml",
        params={"cmd_timeout_s": float(config.cmd_timeout_s)},
        remap={"odom": config.odom_topic, "command": config.cmd_topic, "cmd_vel": body_topic}))
    twin.nodes.append(NodeEntry(
        node="scene_publisher", name="scene_publisher", params_file="config/scene_publisher.yaml",
        params={"path": [float(v) for v in config.path], "dims": 3,
                **({"obstacles": [float(v) for v in config.obstacles]} if config.obstacles else {}),
                "frame_id": config.frame_id, "period_s": float(round(1.0 / config.obstacles_rate_hz, 9))},
        remap={"path": config.path_topic, "obstacles": config.obstacles_topic}))
    twin.notes.extend([
        f"the headless multirotor is a kinematic point following the command with a {config.lag_s:g} s lag; here "
        f"a {BODY_MASS_KG + 4 * ROTOR_MASS_KG:g} kg quadcopter (the gz-sim X3 airframe: the scenario gives no "
        f"mass) tilts to accelerate, at most {MAX_ACCEL_M_S2[0]:g} m/s² per axis, with a velocity time constant "
        f"of about {1 / VELOCITY_GAIN[0]:.2f} s",
        f"the speed limit {config.v_max_m_s:g} m/s clips each axis of the command (MulticopterVelocityControl); "
        "headless it clips the speed",
        "world_twist_relay rotates the world-frame command into the body frame with the attitude of the last "
        "odometry (up to one odometry period old) and commands hover before the first command; the vehicle "
        "falls from its spawn pose until the relay's first twist reaches the controller",
        "the poles are solid: touching one is a real collision here; headless contact is only counted",
    ])


def _quadcopter(twin: Twin, config: Any) -> Model:
    name = twin.model_name("drone")
    root, model = new_model(name)
    base = el(model, "link", name="base_link")
    inertial(base, BODY_MASS_KG, box_inertia(BODY_MASS_KG, BODY_SIZE_M))
    visual_and_collision(base, "body", "box", {"size": list(BODY_SIZE_M)}, rgba=(0.2, 0.2, 0.25, 1.0))
    # Rotor hubs on the diagonals, the rotor tips on the robot's clearance circle.
    arm = max(config.robot_radius_m - ROTOR_RADIUS_M, BODY_SIZE_M[0] / 2)
    rotors = []
    for i, (angle, turning) in enumerate(((-math.pi / 4, "ccw"), (3 * math.pi / 4, "ccw"),
                                           (math.pi / 4, "cw"), (-3 * math.pi / 4, "cw"))):
        link_name = f"rotor_{i}"
        rotor = el(model, "link", name=link_name)
        el(rotor, "pose", pose((arm * math.cos(angle), arm * math.sin(angle), BODY_SIZE_M[2] / 2 + 0.02)))
        inertial(rotor, ROTOR_MASS_KG, cylinder_inertia(ROTOR_MASS_KG, ROTOR_RADIUS_M, 0.005))
        v = el(rotor, "visual", name=f"{link_name}_visual")
        geometry(v, "cylinder", radius=ROTOR_RADIUS_M, length=0.005)
        material(v, (0.1, 0.1, 0.1, 1.0) if turning == "ccw" else (0.8, 0.1, 0.1, 1.0))
        joint = el(model, "joint", name=f"{link_name}_joint", type="revolute")
        fields(joint, {"parent": "base_link", "child": link_name})
        axis = el(joint, "axis")
        el(axis, "xyz", [0, 0, 1])
        fields(el(axis, "limit"), {"lower": -1e16, "upper": 1e16})
        rotors.append((f"{link_name}_joint", link_name, turning))
    for i, (joint, link, turning) in enumerate(rotors):
        plugin(model, "gz-sim-multicopter-motor-model-system", "gz::sim::systems::MulticopterMotorModel", {
            "robotNamespace": name, "jointName": joint, "linkName": link, "turningDirection": turning,
            "timeConstantUp": 0.0125, "timeConstantDown": 0.025, "maxRotVelocity": MAX_ROT_VELOCITY,
            "motorConstant": MOTOR_CONSTANT, "momentConstant": MOMENT_CONSTANT,
            "commandSubTopic": "command/motor_speed", "actuator_number": i,
            "rotorDragCoefficient": 8.06428e-05, "rollingMomentCoefficient": 1e-06,
            "rotorVelocitySlowdownSim": 10, "motorType": "velocity"})
    v_max = float(config.v_max_m_s)
    control = plugin(model, "gz-sim-multicopter-control-system", "gz::sim::systems::MulticopterVelocityControl", {
        "robotNamespace": name, "commandSubTopic": "cmd_vel", "enableSubTopic": "enable",
        "comLinkName": "base_link", "velocityGain": list(VELOCITY_GAIN), "attitudeGain": list(ATTITUDE_GAIN),
        "angularRateGain": list(ANGULAR_RATE_GAIN), "maximumLinearAcceleration": list(MAX_ACCEL_M_S2),
        "maximumLinearVelocity": [v_max, v_max, v_max],
        "maximumAngularVelocity": [3.0, 3.0, float(config.w_max_rad_s)]})
    rotor_config = el(control, "rotorConfiguration")
    for joint, _, turning in rotors:
        fields(el(rotor_config, "rotor"), {"jointName": joint, "forceConstant": MOTOR_CONSTANT,
                                           "momentConstant": MOMENT_CONSTANT,
                                           "direction": 1 if turning == "ccw" else -1})
    systems.odometry_publisher(model, odom_topic=f"/model/{name}/odom_gt", tf_topic=f"/model/{name}/tf",
                               rate_hz=config.odom_rate_hz, frame_id=config.frame_id, child_frame_id="base_link",
                               dimensions=3)
    header = (f"Quadcopter of scenario {twin.scenario.name} (gz-sim X3 airframe, {BODY_MASS_KG:g} kg body, arm "
              f"{arm:.3f} m): MulticopterVelocityControl on /{name}/cmd_vel (body-frame twist), ground-truth "
              f"odometry on {config.odom_topic}.")
    return twin.add_model(Model(name, root, "X-configuration quadcopter with a velocity controller", {}, header))


def _ground(twin: Twin, config: Any, pole_height_m: float) -> Model:
    from sanqin.simulation.gazebo.kinematic import ground_with_cylinders  # kinematic imports this module

    n = len(np.asarray(config.obstacles).reshape(-1, 3))
    return ground_with_cylinders(
        twin, config, height_m=pole_height_m, part="pole", title="Ground with the scenario's poles",
        header=f"Ground of scenario {twin.scenario.name} with {n} poles of {pole_height_m:g} m.",
    )
