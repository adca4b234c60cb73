"""Gazebo twin of :class:`sanqin.simulation.mecanum_base.MecanumBaseSim`: a hand-guided mecanum base.

Headless the base is a planar MuJoCo body whose stiff velocity servos realise the twist the four commanded
wheel speeds give through the mecanum rolling constraint; the operator's push acts on it and is published,
with noise, as the handle F/T reading. Here:

* the base is the headless model's geometry (chassis, payload box, wheels, from the compiled MuJoCo model)
  with the base, wheel and payload masses, moved by ``VelocityControl`` from ``cmd_vel`` — the body twist
  the hand-guiding node publishes next to its wheel speeds (the wheel speeds are that twist's inverse
  kinematics, so the base moves as the wheels would drive it); ground-truth odometry from
  ``OdometryPublisher``;
* the handle is a light link on a fixed joint at the headless handle site, with a ``force_torque`` sensor
  (the force the handle passes on to the base, in the base frame, the headless noise) feeding the handle
  topic; the push profile is applied to the handle by ``ApplyLinkWrench`` through :mod:`.operator_push`
  (events from the schedule, started at the node's first ``cmd_vel``);
* the payload mass is published by a ``TriggeredPublisher`` on every world-statistics message.

``ApplyLinkWrench`` pushes in the world frame and the profile is in the base frame: the twin needs a profile
without torque (the base then never turns, both frames stay aligned) and the base spawned facing +x.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sanqin.runtime.scenario import NodeEntry, SimulatorEntry
from sanqin.simulation.gazebo import systems
from sanqin.simulation.gazebo.arm_push import PUSH_TOPIC, add_push
from sanqin.simulation.gazebo.bridge import GZ_TO_ROS, ROS_TO_GZ, BridgeEntry
from sanqin.simulation.gazebo.errors import NoTwin, TwinError
from sanqin.simulation.gazebo.operator_push import push_events
from sanqin.simulation.gazebo.sdf import el, fields, num, plugin, pose
from sanqin.simulation.gazebo.sensors import force_torque
from sanqin.simulation.gazebo.twin import (
    Model,
    Placement,
    Spawn,
    Twin,
    box_inertia,
    cylinder_inertia,
    inertial,
    new_model,
    visual_and_collision,
)

HANDLE_MASS_KG = 0.1  # light: the F/T sensor reads the push less this mass times the base's acceleration
ODOM_TOPIC = "/base/odom_gt"
HAND_GUIDES = ("mecanum_hand_guide",)


def export(config: Any, entry: SimulatorEntry, twin: Twin) -> None:
    """Add the base with its handle sensor, the push events, the payload publisher and ``operator_push``."""
    import mujoco

    rows = np.asarray(config.push_profile, dtype=np.float64).reshape(-1, 5)
    if np.any(rows[:, 4] != 0.0):
        raise NoTwin("the operator twists the handle (a torque push turns the base, and Gazebo's ApplyLinkWrench "
                     "pushes in the world frame, not the base frame of the headless profile)")
    if config.dropout_start_s >= 0:
        raise NoTwin("the handle F/T sensor drops out at a scheduled time: a headless event")
    guides = [n for n in twin.scenario.nodes if n.node in HAND_GUIDES]
    if len(guides) != 1:
        raise TwinError(f"scenario {twin.scenario.name} needs exactly one {HAND_GUIDES[0]} node to push against")
    guide = guides[0]
    cmd_topic = guide.remap.get("cmd_vel", "/cmd_vel")
    m = twin.headless_simulator(entry.name).m
    twin.physics_step_s = float(m.opt.timestep)

    def body(name: str) -> int:
        i = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, name)
        if i < 0:
            raise TwinError(f"the headless base model has no body {name!r}")
        return int(i)

    def geom(name: str) -> int:
        i = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, name)
        if i < 0:
            raise TwinError(f"the headless base model has no geom {name!r}")
        return int(i)

    base, payload = body("base"), body("payload")
    site = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SITE, "handle")
    if site < 0:
        raise TwinError("the headless base model has no handle site")
    name = twin.model_name("base")
    root, model = new_model(name)
    link = el(model, "link", name="base_link")
    el(link, "gravity", False)  # VelocityControl carries the base in the plane, as the headless planar joints
    chassis = geom("chassis")
    chassis_size = [float(v) for v in 2 * m.geom_size[chassis]]
    inertial(link, float(m.body_mass[base]), box_inertia(float(m.body_mass[base]), chassis_size))
    visual_and_collision(link, "chassis", "box", {"size": chassis_size}, xyz=m.geom_pos[chassis],
                         rgba=m.geom_rgba[chassis], collision=False)
    box = geom("payload_box")
    box_size = [float(v) for v in 2 * m.geom_size[box]]
    pl = el(model, "link", name="payload")
    el(pl, "pose", pose(m.body_pos[payload]))
    el(pl, "gravity", False)
    inertial(pl, float(config.payload_kg) if config.payload_kg > 0 else 1e-3,
             box_inertia(max(float(config.payload_kg), 1e-3), box_size))
    visual_and_collision(pl, "payload", "box", {"size": box_size}, rgba=m.geom_rgba[box], collision=False)
    _fixed(model, "payload_fixed", "base_link", "payload")
    for wheel in ("wheel_fl", "wheel_fr", "wheel_rl", "wheel_rr"):
        b = body(wheel)
        g = int(np.flatnonzero(m.geom_bodyid == b)[0])
        radius, half = float(m.geom_size[g][0]), float(m.geom_size[g][1])
        wl = el(model, "link", name=wheel)
        el(wl, "pose", pose(m.body_pos[b]))
        el(wl, "gravity", False)
        inertial(wl, float(m.body_mass[b]), cylinder_inertia(float(m.body_mass[b]), radius, 2 * half),
                 rpy=(math.pi / 2, 0, 0))
        visual_and_collision(wl, wheel, "cylinder", {"radius": radius, "length": 2 * half},
                             rpy=(math.pi / 2, 0, 0), rgba=(0.15, 0.15, 0.15, 1), collision=False)
        _fixed(model, f"{wheel}_fixed", "base_link", wheel)  # the twist moves the base; wheels are shown
    hl = el(model, "link", name="handle")
    el(hl, "pose", pose(m.site_pos[site]))
    el(hl, "gravity", False)
    inertial(hl, HANDLE_MASS_KG, box_inertia(HANDLE_MASS_KG, (0.04, 0.5, 0.04)))
    visual_and_collision(hl, "handle", "box", {"size": [0.04, 0.5, 0.04]}, rgba=(0.2, 0.2, 0.2, 1), collision=False)
    joint = _fixed(model, "handle_fixed", "base_link", "handle")
    twin.add_sensor(force_torque(joint, name="handle_ft", gz_topic=f"/model/{name}/handle/wrench",
                                 ros_topic=config.handle_topic, frame_id="base_link",
                                 rate_hz=1.0 / twin.scenario.step_s, force_stddev_n=config.force_noise_n))
    systems.velocity_control(model, f"/model/{name}/cmd_vel")
    systems.odometry_publisher(model, odom_topic=f"/model/{name}/odom", tf_topic=f"/model/{name}/tf",
                               rate_hz=1.0 / twin.scenario.step_s, frame_id="odom", child_frame_id="base_link",
                               dimensions=2)
    twin.add_bridge(BridgeEntry(cmd_topic, f"/model/{name}/cmd_vel", "geometry_msgs/msg/Twist", "gz.msgs.Twist",
                                ROS_TO_GZ))
    twin.add_bridge(BridgeEntry(ODOM_TOPIC, f"/model/{name}/odom", "nav_msgs/msg/Odometry", "gz.msgs.Odometry",
                                GZ_TO_ROS))
    header = (f"Mecanum heavy-load base of scenario {twin.scenario.name} with {config.payload_kg:g} kg payload: the "
              "headless MuJoCo model's geometry and masses, VelocityControl on cmd_vel, OdometryPublisher, handle "
              "on a force_torque sensor.")
    twin.add_model(Model(name, root, "Hand-guided mecanum base (from the headless MuJoCo model)", {}, header))
    base_z = float(m.body_pos[base][2])
    twin.spawns.append(Spawn(name, "base", (0.0, 0.0, base_z)))
    _floor(twin)
    _payload_publisher(twin, config)
    events = push_events(config.push_profile)
    add_push(twin, "base::handle", [(t, (fx, fy, 0.0)) for t, (fx, fy, _tz) in events])
    twin.nodes.append(NodeEntry(
        node="operator_push", name="operator_push", params_file="config/operator_push.yaml",
        params={"event_times_s": [t for t, _ in events], "start_on_command": True,
                "period_s": float(twin.scenario.step_s)},
        remap={"command": cmd_topic, "event": PUSH_TOPIC}))
    twin.record_topics.update({config.wheel_topic, cmd_topic, PUSH_TOPIC, config.payload_topic})
    twin.notes.append("the base is moved by VelocityControl at the commanded body twist (the twist of the commanded "
                      "wheel speeds); headless, velocity servos (kv 20000 N·s/m, ±6000 N) realise it with a lag of "
                      "a few hundredths of a second and yield to the push by under a centimetre per second")
    twin.notes.append("the handle reading is a force_torque sensor (the push less the handle's 0.1 kg times the "
                      "base's acceleration); headless it is the scripted push itself plus noise")
    twin.notes.append("the push schedule starts at the hand-guiding node's first cmd_vel (operator_push); headless "
                      "at t = 0 with the node's first cycle (the scorer shifts the times back)")
    twin.notes.append(f"the payload mass ({config.payload_kg:g} kg) is published on every world-statistics message "
                      "(5 Hz of wall time); headless once a second")


def _fixed(model: Any, name: str, parent: str, child: str) -> Any:
    joint = el(model, "joint", name=name, type="fixed")
    fields(joint, {"parent": parent, "child": child})
    return joint


def _floor(twin: Twin) -> None:
    """The headless floor: a plane nothing collides with."""
    name = twin.model_name("floor")
    root, model = new_model(name, static=True)
    link = el(model, "link", name="floor")
    visual_and_collision(link, "floor", "plane", {"normal": [0, 0, 1], "size": [40.0, 40.0]},
                         rgba=(0.8, 0.8, 0.8, 1), collision=False)
    twin.add_model(Model(name, root, "Floor (visual only, as headless)", {},
                         f"Floor of scenario {twin.scenario.name}: visual only, as the headless floor."))
    twin.placements.append(Placement(name, "floor"))


def _payload_publisher(twin: Twin, config: Any) -> None:
    """A ``TriggeredPublisher`` sending the payload mass (std_msgs/Float64 on the ROS side) with every
    world-statistics message, and its bridge."""
    gz_topic = f"/model/{twin.model_name('base')}/payload_kg"
    holder = el(None, "holder")
    trig = plugin(holder, "gz-sim-triggered-publisher-system", "gz::sim::systems::TriggeredPublisher")
    el(trig, "input", type="gz.msgs.WorldStatistics", topic=f"/world/{twin.world_name}/stats")
    el(trig, "output", f"data: {num(config.payload_kg)}", type="gz.msgs.Double", topic=gz_topic)
    twin.world_elements.extend(list(holder))
    twin.add_bridge(BridgeEntry(config.payload_topic, gz_topic, "std_msgs/msg/Float64", "gz.msgs.Double", GZ_TO_ROS))


# --- scoring a recorded run ---------------------------------------------------------------------------


def score(config: Any, entry: SimulatorEntry, scenario: Any, bag: Any) -> dict[str, float]:
    """The plugin's metrics from a recorded run, by a fresh plugin instance's own ``metrics``.

    The schedule start is the bag time of the first push event minus its scheduled time (0 without event
    topic); each ground-truth odometry sample, shifted by it, becomes one of the plugin's samples: position,
    world-frame velocity (the odometry twist is in the base frame, nav_msgs' convention), acceleration from
    consecutive velocities, the push of the profile at that time and the yaw. Wheel speeds and commands
    come from the recorded wheel commands.
    """
    from sanqin.simulation.gazebo.twin import headless_simulator

    sim = headless_simulator(scenario, entry.name)  # fresh: no samples yet
    events = push_events(config.push_profile)
    first = next(iter(bag.messages(PUSH_TOPIC)), None) if PUSH_TOPIC in bag.counts else None
    offset = (first[0] - events[0][0]) if first is not None else 0.0
    prev_v, prev_t = np.zeros(2), None
    for _, msg in bag.messages(ODOM_TOPIC):
        t = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9 - offset
        if t < 0:
            continue
        p, q, tw = msg.pose.pose.position, msg.pose.pose.orientation, msg.twist.twist.linear
        yaw = math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))
        c, s = math.cos(yaw), math.sin(yaw)
        v = np.array([c * tw.x - s * tw.y, s * tw.x + c * tw.y])
        dt = (t - prev_t) if prev_t is not None else float(scenario.step_s)
        acc = float(np.linalg.norm(v - prev_v) / dt) if dt > 0 else 0.0
        prev_v, prev_t = v, t
        sim.samples.append((t, float(p.x), float(p.y), float(v[0]), float(v[1]), acc,
                            float(np.linalg.norm(sim.push(t)[:2])), yaw))
    for t_bag, msg in bag.messages(config.wheel_topic):
        w = np.asarray(msg.data, dtype=np.float64)
        if t_bag - offset >= 0 and w.size == 4 and np.all(np.isfinite(w)):
            sim.commands += 1
            sim.max_wheel = max(sim.max_wheel, float(np.max(np.abs(w))))
    return sim.metrics()
