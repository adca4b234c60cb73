"""Gazebo twin of :class:`sanqin.simulation.welding_cell.WeldingCellSim`: UR5e + torch on an F/T sensor, plate.

The cell is the headless simulator's own compiled MuJoCo model (:func:`build_welding_cell` with the
scenario's params) converted body by body (:mod:`.mujoco_sdf`): the arm links with their masses and
inertias, the six revolute joints with their limits, the torch welded to the flange, the plate and the
drawn seam. The arm links are gravity-compensated as headless (MuJoCo ``gravcomp``: the servos hold
the arm, the torch's weight is what the F/T sensor sees).

Control and sensing, as ros2_control-style topics on the ROS side:

* the seam follower's forward position commands (``std_msgs/Float64MultiArray``, its shipped
  ``command_interface: forward_position``) through :mod:`.arm_drive`: ``joint_command_split`` and one
  ``JointPositionController`` per joint with the MuJoCo position servos' gains and force limits (``kp``,
  ``kv``, ``forcerange``), targeting the model's keyframe until the first command;
* ``JointStatePublisher`` → ``/joint_states``;
* a ``force_torque`` sensor in the torch's fixed joint (frame ``child`` = the torch, measuring the force the
  torch exerts on the flange: the headless ``-sensordata`` convention), Gaussian force noise as headless.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sanqin.runtime.scenario import SimulatorEntry
from sanqin.simulation.gazebo import systems
from sanqin.simulation.gazebo.arm_drive import forward_position_drive
from sanqin.simulation.gazebo.bridge import GZ_TO_ROS, BridgeEntry
from sanqin.simulation.gazebo.errors import TwinError
from sanqin.simulation.gazebo.mujoco_sdf import robot_model, static_model
from sanqin.simulation.gazebo.sensors import force_torque
from sanqin.simulation.gazebo.twin import Model, Placement, Spawn, Twin

FT_JOINT = "torch_fixed"
FT_FRAME = "ft_sensor"


def export(config: Any, entry: SimulatorEntry, twin: Twin) -> None:
    """Add the arm (with controllers and the F/T sensor) and the plate to ``twin``."""
    from sanqin.simulation.welding_cell import UR5E_JOINTS

    m = twin.headless_simulator(entry.name).m  # the compiled cell the headless run steps
    twin.physics_step_s = config.physics_dt_s
    name = twin.model_name("arm")
    conv = robot_model(m, name, "base")
    if tuple(conv.joints) != UR5E_JOINTS:
        raise TwinError(f"welding cell joints {conv.joints} are not the UR5e joints {UR5E_JOINTS}")
    joint = conv.model.find(f"joint[@name='{FT_JOINT}']")
    if joint is None:
        raise TwinError(f"the cell has no fixed torch joint {FT_JOINT!r}")
    twin.add_sensor(force_torque(joint, name="ft_sensor", gz_topic=f"/model/{name}/wrench",
                                 ros_topic=config.wrench_topic, frame_id=FT_FRAME, rate_hz=1.0 / config.physics_dt_s,
                                 force_stddev_n=config.force_noise_n))
    forward_position_drive(twin, m, conv.model, name, UR5E_JOINTS, config.forward_topic)
    systems.joint_state_publisher(conv.model, f"/model/{name}/joint_states", UR5E_JOINTS)
    twin.add_bridge(BridgeEntry(config.joint_states_topic, f"/model/{name}/joint_states", "sensor_msgs/msg/JointState",
                                "gz.msgs.Model", GZ_TO_ROS))
    header = (f"UR5e + welding torch on a 6-axis F/T sensor of scenario {twin.scenario.name}, converted from the "
              "headless MuJoCo model (links, inertias, joints, primitives); one JointPositionController per joint "
              "with the MuJoCo servo gains; JointStatePublisher; force_torque in the torch joint.")
    twin.add_model(Model(name, conv.root, "UR5e welding arm (from the headless MuJoCo cell)", {}, header))
    twin.spawns.append(Spawn(name, "arm", (0.0, 0.0, 0.0)))
    cell_name = twin.model_name("cell")
    cell, n_geoms = static_model(m, cell_name)
    twin.add_model(Model(cell_name, cell, "Welding plate and seam (from the headless MuJoCo cell)", {},
                         f"Plate (real surface {config.surface_offset_m * 1000:+.1f} mm from the controller's model) "
                         f"and the drawn seam: {n_geoms} MuJoCo world geoms."))
    twin.placements.append(Placement(cell_name, "cell"))
    twin.notes.extend(dict.fromkeys(conv.notes))
    twin.notes.append("the arm starts at the zero configuration and the position controllers drive it to the "
                      "MuJoCo keyframe (their initial target); headless it starts there")
    twin.notes.append("contact: DART's rigid contact instead of MuJoCo's soft contact (solref 0.02 s on the plate)")
    twin.notes.append("seam_follower's forward position commands reach the joints through joint_command_split "
                      "(ros_gz_bridge cannot carry std_msgs/Float64MultiArray): one DDS hop more than headless")
    twin.record_topics.update({config.wrench_topic, config.joint_states_topic})


# --- scoring a recorded run ---------------------------------------------------------------------------


def score(config: Any, entry: SimulatorEntry, scenario: Any, bag: Any) -> dict[str, float]:
    """The plugin's metrics from a recorded run, measured by a fresh plugin instance's own ``_measure``.

    Per recorded wrench sample: the arm pose from the nearest ``/joint_states`` (forward kinematics of the
    same MuJoCo model gives the torch tip), and the contact force from the F/T sensor — the force the torch
    exerts on the flange, in the world, plus the torch's weight, along the plate normal (headless measures
    it from MuJoCo's contacts). Commands received: the recorded trajectory/forward commands.
    """
    import mujoco

    from sanqin.simulation.gazebo.twin import headless_simulator
    from sanqin.simulation.welding_cell import TORCH_MASS_KG, UR5E_JOINTS

    sim = headless_simulator(scenario, entry.name)  # fresh: its measuring state is empty
    m, d = sim.m, sim.d
    qadr = [int(m.jnt_qposadr[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, j)]) for j in UR5E_JOINTS]
    torch = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, "torch")
    normal = np.asarray(getattr(sim, "n_hat", (0.0, 0.0, 1.0)), dtype=np.float64)
    states = []
    for _, msg in bag.messages(config.joint_states_topic):
        pos = dict(zip(msg.name, msg.position))
        if all(j in pos for j in UR5E_JOINTS):
            states.append((msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9, [pos[j] for j in UR5E_JOINTS]))
    stamps = np.array([t for t, _ in states])
    weight = np.array([0.0, 0.0, TORCH_MASS_KG * 9.81])
    for _, msg in bag.messages(config.wrench_topic):
        if not len(stamps):
            break
        t = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        d.qpos[qadr] = states[int(np.argmin(np.abs(stamps - t)))][1]
        mujoco.mj_kinematics(m, d)
        f = np.array([msg.wrench.force.x, msg.wrench.force.y, msg.wrench.force.z])
        force_n = float((d.xmat[torch].reshape(3, 3) @ f + weight) @ normal)
        sim._contact_force_n = lambda n=force_n: max(n, 0.0)  # the plate's push on the tip, from the F/T sensor
        sim._measure(t)
    sim.io.commands_received = sum(1 for topic in (config.trajectory_topic, config.forward_topic)
                                   for _ in bag.messages(topic))
    sim.io.commands_rejected = float("nan")  # the controller in Gazebo does not report rejections
    return sim.metrics()
