"""Gazebo twin of :class:`sanqin.simulation.mujoco_arm.ArmPushSim`: a UR5e pushed at its tool by an operator.

The arm is the headless simulator's own compiled MuJoCo model (the UR5e with the tool on its F/T site)
converted body by body (:mod:`.mujoco_sdf`), gravity-compensated as headless; control and sensing as in
the welding twin (:mod:`.welding`): its forward position commands through :mod:`.arm_drive`
(``joint_command_split`` and one ``JointPositionController`` per joint with the MuJoCo servo gains and
force limits, homing to the keyframe), ``JointStatePublisher``, and a ``force_torque`` sensor in the tool's
fixed joint (the force the tool exerts on the flange, in the tool frame: the headless ``-sensordata``) with
the headless noise. The admittance node runs with its shipped ``command_interface: forward_position``.

The operator's push profile becomes timed ``ApplyLinkWrench`` wrenches on the tool link at its centre of
mass (MuJoCo's ``xfrc_applied`` point), through :mod:`.operator_push`: one ``TriggeredPublisher`` per
event in the world file and the ``operator_push`` node publishing the event indices on sim time once the
arm stands at home.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sanqin.runtime.scenario import NodeEntry, SimulatorEntry
from sanqin.simulation.gazebo import systems
from sanqin.simulation.gazebo.arm_drive import forward_position_drive
from sanqin.simulation.gazebo.bridge import GZ_TO_ROS, ROS_TO_GZ, BridgeEntry
from sanqin.simulation.gazebo.errors import TwinError
from sanqin.simulation.gazebo.mujoco_sdf import robot_model
from sanqin.simulation.gazebo.operator_push import push_events
from sanqin.simulation.gazebo.sdf import el, num, plugin
from sanqin.simulation.gazebo.twin import Model, Placement, Spawn, Twin, new_model, visual_and_collision

TOOL = "tool"
FT_JOINT = "tool_fixed"
PUSH_TOPIC = "/operator_push"
GZ_JOINT_STATES = "/arm/joint_states_gz"  # from Gazebo to operator_push, which relays them after the hand-over
ADMITTANCE_NODES = ("cartesian_admittance",)


def export(config: Any, entry: SimulatorEntry, twin: Twin) -> None:
    """Add the arm (controllers, F/T sensor), the push events and the ``operator_push`` node."""
    from sanqin.simulation.mujoco_arm import UR5E_JOINT_NAMES

    m = twin.headless_simulator(entry.name).m  # the compiled arm the headless run steps
    twin.physics_step_s = config.physics_dt_s
    name = twin.model_name("arm")
    conv = robot_model(m, name, "base")
    if tuple(conv.joints) != UR5E_JOINT_NAMES:
        raise TwinError(f"arm joints {conv.joints} are not the UR5e joints {UR5E_JOINT_NAMES}")
    joint = conv.model.find(f"joint[@name='{FT_JOINT}']")
    if joint is None:
        raise TwinError(f"the arm has no fixed tool joint {FT_JOINT!r}")
    twin.add_sensor(_force_torque(joint, name, config))
    home = forward_position_drive(twin, m, conv.model, name, UR5E_JOINT_NAMES, config.forward_topic)
    systems.joint_state_publisher(conv.model, f"/model/{name}/joint_states", UR5E_JOINT_NAMES)
    twin.add_bridge(BridgeEntry(GZ_JOINT_STATES, f"/model/{name}/joint_states", "sensor_msgs/msg/JointState",
                                "gz.msgs.Model", GZ_TO_ROS))
    if not any(n.node in ADMITTANCE_NODES for n in twin.scenario.nodes):
        raise TwinError(f"scenario {twin.scenario.name} runs no {' / '.join(ADMITTANCE_NODES)} to push against")
    header = (f"UR5e + tool on a 6-axis F/T sensor of scenario {twin.scenario.name}, converted from the headless "
              "MuJoCo model (links, inertias, joints, primitives); one JointPositionController per joint with the "
              "MuJoCo servo gains; JointStatePublisher; force_torque in the tool joint.")
    twin.add_model(Model(name, conv.root, "UR5e with a tool on an F/T sensor (from the headless MuJoCo arm)", {},
                         header))
    twin.spawns.append(Spawn(name, "arm", (0.0, 0.0, 0.0)))
    _floor(twin)
    events = push_events(config.push_profile)
    add_push(twin, f"arm::{TOOL}", events)
    twin.nodes.append(NodeEntry(
        node="operator_push", name="operator_push", params_file="config/operator_push.yaml",
        params={"event_times_s": [t for t, _ in events], "home_q_rad": home, "joint_names": list(UR5E_JOINT_NAMES),
                "period_s": float(config.physics_dt_s)},
        remap={"joint_states_in": GZ_JOINT_STATES, "joint_states": config.joint_states_topic, "event": PUSH_TOPIC}))
    twin.notes.extend(dict.fromkeys(conv.notes))
    twin.notes.append("the arm starts at the zero configuration and the position controllers drive it to the "
                      "MuJoCo keyframe (their initial target); headless it starts there. operator_push relays the "
                      "joint states to the "
                      "admittance node only once the arm stands at the keyframe (so the node's first state is the "
                      "headless one) and starts the push schedule then: its times are shifted by that hand-over "
                      "(the scorer undoes it)")
    twin.notes.append("cartesian_admittance's forward position commands reach the joints through "
                      "joint_command_split (ros_gz_bridge cannot carry std_msgs/Float64MultiArray): one DDS hop more "
                      "than headless")
    twin.record_topics.update({config.wrench_topic, config.joint_states_topic, PUSH_TOPIC})


def _floor(twin: Twin) -> None:
    """A visual-only floor under the arm base (headless has no floor; nothing here touches it)."""
    name = twin.model_name("floor")
    root, model = new_model(name, static=True)
    link = el(model, "link", name="floor")
    visual_and_collision(link, "floor", "plane", {"normal": [0, 0, 1], "size": [4.0, 4.0]}, rgba=(0.5, 0.5, 0.5, 1),
                         collision=False)
    twin.add_model(Model(name, root, "Floor under the arm (visual only)", {},
                         f"Visual-only floor of scenario {twin.scenario.name}: the headless arm has none."))
    twin.placements.append(Placement(name, "floor"))


def _force_torque(joint: Any, model_name: str, config: Any) -> Any:
    from sanqin.simulation.gazebo.sensors import force_torque

    return force_torque(joint, name="ft_sensor", gz_topic=f"/model/{model_name}/wrench", ros_topic=config.wrench_topic,
                        frame_id="ft_sensor", rate_hz=1.0 / config.physics_dt_s, force_stddev_n=config.force_noise_n)


def add_push(twin: Twin, link: str, events: list[tuple[float, tuple[float, float, float]]]) -> None:
    """``ApplyLinkWrench`` and one ``TriggeredPublisher`` per event: index k on :data:`PUSH_TOPIC` adds
    event k's force change (world frame, at the link's centre of mass) to the link's persistent wrench."""
    world = twin.world_name
    holder = el(None, "holder")
    plugin(holder, "gz-sim-apply-link-wrench-system", "gz::sim::systems::ApplyLinkWrench", {"verbose": False})
    for k, (t_s, (fx, fy, fz)) in enumerate(events):
        trig = plugin(holder, "gz-sim-triggered-publisher-system", "gz::sim::systems::TriggeredPublisher")
        inp = el(trig, "input", type="gz.msgs.Int32", topic=f"/world/{world}{PUSH_TOPIC}")
        el(inp, "match", str(k), field="data")
        el(trig, "output", f'entity: {{name: "{link}", type: LINK}} '
                           f"wrench: {{force: {{x: {num(fx)}, y: {num(fy)}, z: {num(fz)}}}}}",
           type="gz.msgs.EntityWrench", topic=f"/world/{world}/wrench/persistent")
        trig.append(_comment(f"push event {k} at {num(t_s)} s of the schedule: "
                             f"force change {num(fx)} {num(fy)} {num(fz)} N"))
    twin.world_elements.extend(list(holder))
    twin.add_bridge(BridgeEntry(PUSH_TOPIC, f"/world/{world}{PUSH_TOPIC}", "std_msgs/msg/Int32", "gz.msgs.Int32",
                                ROS_TO_GZ))


def _comment(text: str) -> Any:
    import xml.etree.ElementTree as ET

    return ET.Comment(" " + text + " ")


# --- scoring a recorded run ---------------------------------------------------------------------------


def score(config: Any, entry: SimulatorEntry, scenario: Any, bag: Any) -> dict[str, float]:
    """The plugin's metrics from a recorded run, by a fresh plugin instance's own ``metrics``.

    The schedule start is the bag time of the first push event minus that event's scheduled time (0 for a
    headless bag, which has no event topic); every recorded ``/joint_states`` sample, shifted by it, is
    replayed into the plugin's trace: the tool's F/T-site position by forward kinematics of the same MuJoCo
    model and its speed from the joint velocities, with the start position taken at the schedule start.
    """
    import mujoco

    from sanqin.simulation.gazebo.twin import headless_simulator
    from sanqin.simulation.mujoco_arm import UR5E_JOINT_NAMES

    sim = headless_simulator(scenario, entry.name)  # fresh: its trace is empty
    m, d = sim.m, mujoco.MjData(sim.m)
    events = push_events(config.push_profile)
    first = next(iter(bag.messages(PUSH_TOPIC)), None) if PUSH_TOPIC in bag.counts else None
    offset = (first[0] - events[0][0]) if first is not None else 0.0
    vel = np.zeros(6)
    for _, msg in bag.messages(config.joint_states_topic):
        pos, rate = dict(zip(msg.name, msg.position)), dict(zip(msg.name, msg.velocity))
        if not all(j in pos for j in UR5E_JOINT_NAMES):
            continue
        t = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9 - offset
        if t < 0:
            continue
        d.qpos[sim.io.qadr] = [pos[j] for j in UR5E_JOINT_NAMES]
        d.qvel[sim.io.vadr] = [rate.get(j, 0.0) for j in UR5E_JOINT_NAMES]
        mujoco.mj_forward(m, d)
        p = d.site_xpos[sim.site].copy()
        if not sim.trace:
            sim.p0 = p.copy()
        sim.trace.append((t, p))
        mujoco.mj_objectVelocity(m, d, mujoco.mjtObj.mjOBJ_SITE, sim.site, vel, 0)
        sim.speeds.append(float(np.linalg.norm(vel[3:])))
    sim.io.commands_received = sum(1 for topic in (config.trajectory_topic, config.forward_topic)
                                   for _ in bag.messages(topic))
    return sim.metrics()
