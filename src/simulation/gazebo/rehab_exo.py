"""Gazebo twin of :class:`sanqin.simulation.rehab_exo.RehabExoSim`: elbow exoskeleton on MyoSuite's MyoElbow.

**Bodies** — the forearm subtree of the headless simulator's own compiled MyoElbow model (``myo_sim``), converted
body by body (:mod:`.mujoco_sdf`): the forearm-and-hand link with its mass and inertia (and the carried weight
welded to it) on the ``r_elbow_flex`` hinge to the world, in the headless start angle (Gazebo counts joint angles
from it; ``rehab_exo_patient`` adds it back). The skeleton's mesh geoms are not converted (no SDF primitive, and
the meshes stay in ``myo_sim``): the link shows as a capsule along the forearm.

**Actuation and sensing** — ``ApplyJointForce`` on the elbow and ``JointStatePublisher``; the therapy node's
effort array is split by ``joint_command_split``, and ``rehab_exo_patient`` (:mod:`.rehab_exo_patient_node`)
runs the patient (the same :class:`~sanqin.simulation.rehab_patient.ElbowPatient`), evaluates the six muscles
with MuJoCo's muscle model at Gazebo's elbow state (Gazebo has no muscles or tendons), sums the exoskeleton
motor and the muscles on the joint, reads the cuff torque and injects the spasms and the sensor dropout.
Sessions as in :mod:`.rehab`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sanqin.runtime.scenario import NodeEntry, SimulatorEntry
from sanqin.simulation.gazebo import systems
from sanqin.simulation.gazebo.bridge import GZ_TO_ROS, ROS_TO_GZ, BridgeEntry
from sanqin.simulation.gazebo.errors import TwinError
from sanqin.simulation.gazebo.mujoco_sdf import robot_model
from sanqin.simulation.gazebo.rehab import (
    DRIVE,
    GZ_JOINT_STATES,
    REAL_TIME_FACTOR,
    ROBOT_EFFORT,
    SPAWN,
    SPLIT_NODE,
    STARTUP_SLACK_S,
    THERAPY_NODES,
    Task,
    _sessions,
    score_task,
)
from sanqin.simulation.gazebo.sdf import el, plugin, pose
from sanqin.simulation.gazebo.twin import Model, Placement, Spawn, Twin, geometry, material, new_model

PATIENT_NODE = "rehab_exo_patient"
FOREARM = "r_ulna_radius_hand"

NOTES = (
    f"the world runs at real-time factor {REAL_TIME_FACTOR:g}, as the planar rehab twins: the muscle torque closes "
    "its loop through rehab_exo_patient over ROS, and a quarter of real time gives the node 4 ms of wall time "
    "per 1 ms step",
    "the six MyoElbow muscles are evaluated by rehab_exo_patient with MuJoCo's muscle model (tendon paths, "
    "force-length-velocity, passive force, activation dynamics integrated per joint-state sample) at Gazebo's "
    "elbow state, because SDFormat and Gazebo have no muscle or tendon model; their torque reaches the joint "
    "through ApplyJointForce one or more physics steps after the state it was computed from (headless: the same "
    "step), and Gazebo does not wait for the node",
    "only the forearm (with the hand and the carried weight) is simulated in Gazebo, on the elbow hinge fixed to "
    "the world (the humerus does not move in the headless 1-DoF model either); the skeleton meshes are not "
    "converted (they stay in the installed myo_sim package): a capsule stands for the forearm",
    "ApplyJointForce keeps one torque per joint, so the exoskeleton motor (clipped to its limit as headless) and "
    "the muscles are summed by rehab_exo_patient; the motor's command timeout is joint_command_split's",
    "the model is written at the headless start angle because Gazebo ignores initial joint positions: Gazebo's "
    "elbow angle counts from it and rehab_exo_patient adds it back before the therapy node sees it",
    "sessions are started by a 'ros2 service call' loop on the therapy node's ~/start (our runtime has no service "
    "clients): the first as soon as the node accepts it (headless: at start_at_s), each next about 0.5-1.5 s "
    "(wall clock) after the previous 'done'; spasms and the sensor dropout keep their time from the session start",
    f"the world runs {STARTUP_SLACK_S:g} s of sim time beyond the scenario's duration: the session (and the fault "
    "clock) starts only once the nodes are up, while Gazebo steps from launch",
    "the cuff-torque noise samples come from rehab_exo_patient's own random generator (seeded by the scenario seed)",
    "DART enforces the elbow's range as a hard limit, MuJoCo as a soft constraint",
)


def _exo(sim: Any) -> dict[str, Any]:
    import mujoco

    from sanqin.simulation.rehab_exo import JOINT

    m = sim.m
    cap = float(sim.robot.hardware.max_joint_torque_nm[0])
    forearm = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, FOREARM)
    if forearm <= 0:
        raise TwinError(f"the exoskeleton model has no body {FOREARM!r}")
    return {"joint": JOINT, "q0": float(sim.d.qpos[sim.qadr]), "drive_limit_nm": cap, "forearm": forearm}


def export(config: Any, entry: SimulatorEntry, twin: Twin) -> None:
    """Add the forearm on the elbow hinge, its joint systems, the drive split, the patient node and sessions."""
    sim = twin.headless_simulator(entry.name)
    exo = _exo(sim)
    twin.physics_step_s = config.physics_dt_s
    twin.real_time_factor = REAL_TIME_FACTOR
    twin.startup_slack_s = STARTUP_SLACK_S
    name = twin.model_name("forearm")
    conv = robot_model(sim.m, name, FOREARM, qpos=sim.d.qpos)
    if conv.joints != [exo["joint"]]:
        raise TwinError(f"the forearm's joints are {conv.joints}, expected [{exo['joint']!r}]")
    _stand_in_visual(sim, conv.model.find(f"link[@name='{FOREARM}']"), exo["forearm"])
    plugin(conv.model, "gz-sim-apply-joint-force-system", "gz::sim::systems::ApplyJointForce",
           {"joint_name": exo["joint"]})
    systems.joint_state_publisher(conv.model, f"/model/{name}/joint_states", [exo["joint"]])
    twin.add_bridge(BridgeEntry(GZ_JOINT_STATES, f"/model/{name}/joint_states", "sensor_msgs/msg/JointState",
                                "gz.msgs.Model", GZ_TO_ROS))
    twin.add_bridge(BridgeEntry(ROBOT_EFFORT.format(i=0), f"/model/{SPAWN}/joint/{exo['joint']}/cmd_force",
                                "std_msgs/msg/Float64", "gz.msgs.Double", ROS_TO_GZ))
    header = (f"Forearm of MyoSuite's MyoElbow on the exoskeleton's elbow hinge, scenario {twin.scenario.name}: "
              "mass and inertia of the headless model at its start angle (joint angle counts from it); "
              "ApplyJointForce (exoskeleton motor + muscles); JointStatePublisher.")
    twin.add_model(Model(name, conv.root, "Forearm on the elbow exoskeleton hinge (from the headless MyoElbow)", {},
                         header))
    twin.spawns.append(Spawn(name, SPAWN, (0.0, 0.0, 0.0)))
    _upper_arm(sim, twin)
    therapy = [n for n in twin.scenario.nodes if n.node in THERAPY_NODES]
    if len(therapy) != 1:
        raise TwinError(f"scenario {twin.scenario.name} must run exactly one {THERAPY_NODES[0]} node")
    twin.add_command_split(SPLIT_NODE, config.effort_topic, [DRIVE.format(i=0)],
                           timeout_s=float(config.command_timeout_s), on_timeout="hold_value", hold_value=0.0,
                           period_s=float(config.physics_dt_s))
    p = config.patient
    params: dict[str, Any] = {
        **{f"patient.{k}": getattr(p, k) for k in p.__dataclass_fields__},
        "first_session": config.first_session, "sessions": config.sessions, "seed": int(twin.scenario.seed),
        "myo_model": config.myo_model, "joint": exo["joint"], "offset_rad": exo["q0"],
        "drive_limit_nm": exo["drive_limit_nm"], "torque_noise_nm": float(config.torque_noise_nm),
        "start_at_s": float(config.start_at_s), "dropout_at_s": float(config.dropout_at_s),
        "dropout_s": float(config.dropout_s), "relay_period_s": float(twin.scenario.step_s),
        "muscle_dt_s": float(config.physics_dt_s), "frame_id": "cuff",
    }
    if config.spasm_at_s:
        params["spasm_at_s"] = [float(t) for t in config.spasm_at_s]
    twin.nodes.append(NodeEntry(node=PATIENT_NODE, name=PATIENT_NODE, params_file=f"config/{PATIENT_NODE}.yaml",
                                params=params, remap={
                                    "joint_states_in": GZ_JOINT_STATES, "drive_0": DRIVE.format(i=0),
                                    "robot_effort_0": ROBOT_EFFORT.format(i=0), "target": config.target_topic,
                                    "phase": config.phase_topic, "joint_states": config.joint_states_topic,
                                    "wrench": config.wrench_topic}))
    if config.sessions > 0:
        _sessions(config, twin, therapy[0])
    twin.notes.extend(n for n in dict.fromkeys(conv.notes) if "no SDF primitive" not in n)
    twin.notes.extend(NOTES)
    twin.record_topics.update({config.joint_states_topic, config.wrench_topic, config.effort_topic,
                               config.phase_topic, config.events_topic, config.target_topic, config.safety_topic})


def _upper_arm(sim: Any, twin: Twin) -> None:
    """The humerus (fixed in the headless 1-DoF model) as a static capsule from the shoulder to the elbow axis."""
    import mujoco

    m, d = sim.m, sim.d
    humerus = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, "r_humerus")
    if humerus <= 0:
        raise TwinError("the exoskeleton model has no body 'r_humerus'")
    name = twin.model_name("upper_arm")
    root, model = new_model(name, static=True)
    _capsule(el(model, "link", name="humerus"), "humerus_stand_in_visual", d.xpos[humerus], d.xanchor[0], 0.035)
    twin.add_model(Model(name, root, "Upper arm (fixed) of the elbow exoskeleton scenario (visual only)", {},
                         f"Humerus of scenario {twin.scenario.name}, fixed as in the headless 1-DoF MyoElbow: a "
                         "capsule from the shoulder to the elbow axis (the meshes stay in myo_sim)."))
    twin.placements.append(Placement(name, "upper_arm"))


def _stand_in_visual(sim: Any, link: Any, body: int) -> None:
    """A capsule from the elbow to the forearm's centre of mass and on (the meshes stay in myo_sim)."""
    if link is None:
        raise TwinError(f"no link {FOREARM!r} in the converted model")
    com = np.asarray(sim.m.body_ipos[body], dtype=np.float64)
    _capsule(link, "forearm_stand_in_visual", np.zeros(3), 2.0 * com, 0.03)


def _capsule(link: Any, name: str, start: Any, end: Any, radius: float) -> None:
    """A skin-coloured capsule visual from ``start`` to ``end`` (link frame; at least 5 cm long)."""
    start, end = np.asarray(start, dtype=np.float64), np.asarray(end, dtype=np.float64)
    span = end - start
    length = float(np.linalg.norm(span))
    axis = span / max(length, 1e-9)
    v = el(link, "visual", name=name)
    el(v, "pose", pose((start + end) / 2.0, (0.0, float(np.arccos(np.clip(axis[2], -1.0, 1.0))),
                                             float(np.arctan2(axis[1], axis[0])))))
    geometry(v, "capsule", radius=radius, length=max(length, 0.05))
    material(v, (0.9, 0.7, 0.6, 1.0))


def score(config: Any, entry: SimulatorEntry, scenario: Any, bag: Any) -> dict[str, float]:
    """The simulator's ``exo.*`` metrics from a bag (:func:`~.rehab.score_task`): task = the elbow angle,
    interaction = the cuff torque (``torque.z``)."""
    from sanqin.simulation.gazebo.twin import headless_simulator
    from sanqin.simulation.rehab_patient import ElbowPatient

    exo = _exo(headless_simulator(scenario, entry.name))
    task = Task((exo["joint"],), (exo["q0"],), (exo["drive_limit_nm"],), lambda q, qd: (q, qd),
                lambda w: np.array([w.torque.z]), ElbowPatient(config.patient, config.first_session), "rad")
    return score_task(config, scenario, bag, task)
