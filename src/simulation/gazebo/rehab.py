"""Gazebo twin of :class:`sanqin.simulation.rehab.RehabPlanarSim`: planar rehabilitation robot + impaired patient.

**Bodies** — the headless simulator's own compiled MJCF (``sim/mujoco/rehab_planar.xml``) converted body by body
(:mod:`.mujoco_sdf`) into one model ``<scenario>_station``: the robot's two links (joints ``r_shoulder``,
``r_elbow``) and the patient's upper arm and forearm (``h_shoulder``, ``h_elbow``), each chain hinged to the
world; the table and the workspace as a static model. Gazebo ignores initial joint positions, so the links are
written in the headless start configuration (handle and hand at ``start_xy_m``): Gazebo's angles count from it,
and ``rehab_patient`` adds it back (``robot_offsets_rad``/``patient_offsets_rad``).

**Actuation and sensing** — every joint is torque-driven by ``ApplyJointForce`` (one ``std_msgs/Float64`` ↔
``gz.msgs.Double`` bridge per joint) and ``JointStatePublisher`` reports all four. The therapy node's effort
command (``std_msgs/Float64MultiArray``, which ros_gz_bridge cannot carry) is split per joint by
``joint_command_split`` (expected size 2, the headless drive's command timeout), and ``rehab_patient``
(:mod:`.rehab_patient_node`) runs the patient (the same :class:`~sanqin.simulation.rehab_patient.ImpairedPatient`),
the cuff spring–damper (as headless, a force applied to both chains — a joint between hand and handle would
close a kinematic loop, which Gazebo Harmonic's DART integration does not support), the sum drive + cuff on
each robot joint, the F/T reading and the scenario's spasms and sensor dropout. Sessions are started by a
``ros2 service call`` loop on the therapy node's ``~/start`` (our runtime has no service clients): the first
as soon as the node accepts it, each next one after the previous session's ``done``.

:func:`score` recomputes the simulator's ``rehab.*`` metrics from a bag with the headless definitions.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sanqin.runtime.node import resolve_name
from sanqin.runtime.scenario import NodeEntry, SimulatorEntry
from sanqin.simulation.gazebo import systems
from sanqin.simulation.gazebo.bridge import GZ_TO_ROS, ROS_TO_GZ, BridgeEntry
from sanqin.simulation.gazebo.errors import TwinError
from sanqin.simulation.gazebo.mujoco_sdf import robot_model, static_model
from sanqin.simulation.gazebo.rehab_patient_node import planar_chain
from sanqin.simulation.gazebo.sdf import plugin
from sanqin.simulation.gazebo.twin import Model, Placement, Spawn, Twin

SPAWN = "rehab"
GZ_JOINT_STATES = "/rehab/gz/joint_states"  # both chains, Gazebo angles → rehab_patient
DRIVE = "/rehab/drive_{i}"  # joint_command_split → rehab_patient
ROBOT_EFFORT = "/rehab/robot_effort_{i}"  # rehab_patient → ApplyJointForce (robot)
PATIENT_EFFORT = "/rehab/patient_effort_{i}"  # rehab_patient → ApplyJointForce (arm)
PATIENT_NODE = "rehab_patient"
SPLIT_NODE = "rehab_drive_split"
PATIENT_JOINTS = ("h_shoulder", "h_elbow")
THERAPY_NODES = ("rehab_robot",)
#: Gazebo paces these worlds at a quarter of real time: the patient node closes the cuff (a stiff spring, computed
#: from the last state) over ROS, and on a MuJoCo stand-in of the twin the loop stays stable with up to ~5 ms
#: between a state and its torque but diverges at 10 ms; four wall-clock milliseconds per 1 ms step leave the
#: Python nodes (therapy at 1 kHz, patient) the time to answer within a step or two.
REAL_TIME_FACTOR = 0.25
#: Sim time the world runs beyond the scenario's duration: Gazebo steps from launch (``-r``, the robot spawned a
#: moment later), the faults count from the first session, which starts only once the nodes are up and the
#: ``ros2 service call`` loop gets through — seconds of wall clock, a quarter of that in sim time; without it the
#: safety scenarios' late dropout (4.3 s into a 6 s run) missed the end when the session started 1.7 s late.
STARTUP_SLACK_S = 5.0


def _geometry(sim: Any) -> dict[str, Any]:
    """Start configuration, chain geometry and actuator ranges of the headless simulator's MJCF."""
    import mujoco

    from sanqin.simulation.rehab import ROBOT_JOINTS

    m = sim.m

    def body(name: str) -> int:
        return mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, name)

    def site(name: str) -> int:
        return mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SITE, name)

    def ctrl(joint: str) -> float:
        j = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, joint)
        for a in range(m.nu):
            if int(m.actuator_trnid[a][0]) == j:
                return float(m.actuator_ctrlrange[a][1]) if m.actuator_ctrllimited[a] else math.inf
        raise TwinError(f"no motor drives joint {joint!r}")

    return {
        "qpos": sim.d.qpos.copy(),  # the start configuration the headless run begins in
        "robot_q0": [float(sim.d.qpos[i]) for i in sim.r_q],
        "patient_q0": [float(sim.d.qpos[i]) for i in sim.h_q],
        "robot_base_xy_m": [float(v) for v in m.body_pos[body("robot_link1")][:2]],
        "robot_links_m": [float(m.body_pos[body("robot_link2")][0]), float(m.site_pos[site("handle")][0])],
        "shoulder_xy_m": [float(v) for v in m.body_pos[body("upper_arm")][:2]],
        "arm_links_m": [float(m.body_pos[body("forearm")][0]), float(m.site_pos[site("hand")][0])],
        "drive_limits_nm": [ctrl(j) for j in ROBOT_JOINTS],
        "patient_limit_nm": max(ctrl(j) for j in PATIENT_JOINTS),
    }


def export(config: Any, entry: SimulatorEntry, twin: Twin) -> None:
    """Add the station (robot + patient arm), its joint systems, the drive split, the patient node and sessions."""
    from sanqin.simulation.rehab import ROBOT_JOINTS

    sim = twin.headless_simulator(entry.name)
    geo = _geometry(sim)
    twin.physics_step_s = config.physics_dt_s
    twin.real_time_factor = REAL_TIME_FACTOR
    twin.startup_slack_s = STARTUP_SLACK_S
    name = twin.model_name("station")
    station = robot_model(sim.m, name, "robot_link1", qpos=geo["qpos"])
    arm = robot_model(sim.m, name, "upper_arm", qpos=geo["qpos"])
    station.model.extend(child for child in list(arm.model) if child.tag in ("link", "joint"))
    if tuple(station.joints) != ROBOT_JOINTS or tuple(arm.joints) != PATIENT_JOINTS:
        raise TwinError(f"rehab MJCF joints {station.joints + arm.joints} are not {ROBOT_JOINTS + PATIENT_JOINTS}")
    joints = (*ROBOT_JOINTS, *PATIENT_JOINTS)
    for j in joints:
        plugin(station.model, "gz-sim-apply-joint-force-system", "gz::sim::systems::ApplyJointForce",
               {"joint_name": j})
    systems.joint_state_publisher(station.model, f"/model/{name}/joint_states", joints)
    twin.add_bridge(BridgeEntry(GZ_JOINT_STATES, f"/model/{name}/joint_states", "sensor_msgs/msg/JointState",
                                "gz.msgs.Model", GZ_TO_ROS))
    for topic, chain in ((ROBOT_EFFORT, ROBOT_JOINTS), (PATIENT_EFFORT, PATIENT_JOINTS)):
        for i, j in enumerate(chain):
            twin.add_bridge(BridgeEntry(topic.format(i=i), f"/model/{SPAWN}/joint/{j}/cmd_force",
                                        "std_msgs/msg/Float64", "gz.msgs.Double", ROS_TO_GZ))
    header = (f"Planar rehabilitation robot and the patient's arm of scenario {twin.scenario.name}, converted from "
              "the headless MJCF (links, inertias, joints) in its start configuration (joint angles count from "
              "it); ApplyJointForce on every joint; JointStatePublisher.")
    twin.add_model(Model(name, station.root, "Planar rehabilitation robot + patient arm (from the headless MJCF)",
                         {}, header))
    twin.spawns.append(Spawn(name, SPAWN, (0.0, 0.0, 0.0)))
    table = twin.model_name("table")
    root, n_geoms = static_model(sim.m, table)
    twin.add_model(Model(table, root, "Table and workspace (from the headless MJCF)", {},
                         f"Table and workspace of scenario {twin.scenario.name}: {n_geoms} MuJoCo world geoms."))
    twin.placements.append(Placement(table, "table"))
    therapy = [n for n in twin.scenario.nodes if n.node in THERAPY_NODES]
    if len(therapy) != 1:
        raise TwinError(f"scenario {twin.scenario.name} must run exactly one {THERAPY_NODES[0]} node")
    _nodes(config, twin, geo, ROBOT_JOINTS)
    if config.sessions > 0:
        _sessions(config, twin, therapy[0])
    twin.notes.extend(dict.fromkeys(station.notes + arm.notes))
    twin.notes.extend(NOTES)
    twin.record_topics.update({config.joint_states_topic, config.wrench_topic, config.effort_topic,
                               config.phase_topic, config.events_topic, config.target_topic, config.safety_topic})


NOTES = (
    f"the world runs at real-time factor {REAL_TIME_FACTOR:g} (real_time_update_rate = factor / step): the cuff "
    "loop through rehab_patient stays stable with up to ~5 ms between a joint state and its torque and diverges "
    "at 10 ms (measured on a MuJoCo stand-in of this twin), and a quarter of real time gives the Python nodes "
    "4 ms of wall time per 1 ms step",
    "the compliant cuff is a spring-damper computed by rehab_patient from both arms' joint states and applied as "
    "joint torques (J^T f on the robot, -J^T f on the arm), as headless; it cannot be Gazebo joints with springs: "
    "hand and handle belong to two chains fixed to the world, and a joint between them closes a kinematic loop, "
    "which Gazebo Harmonic's DART integration does not support (neither in SDF nor through DetachableJoint)",
    "the cuff, the patient and the drive close their loop over ROS: each joint-state sample's torques reach "
    "ApplyJointForce one or more physics steps later (headless: the same step), and Gazebo does not wait for the "
    "node; a lag T adds about -K*T of damping to the cuff (2500 N/m x 2 ms = -5 of its 25 N*s/m)",
    "ApplyJointForce keeps applying the last torque; the drive timeout is joint_command_split's (command_timeout_s, "
    "zero torque), checked every physics step like the headless drive",
    "the models are written in the headless start configuration because Gazebo ignores initial joint positions: "
    "Gazebo's joint angles count from it and rehab_patient adds it back before the therapy node sees them",
    "sessions are started by a 'ros2 service call' loop on the therapy node's ~/start (our runtime has no service "
    "clients): the first as soon as the node accepts it (headless: at start_at_s), each next about 0.5-1.5 s "
    "(wall clock) after the previous 'done' (headless: between_sessions_s of sim time); spasms and the sensor "
    "dropout keep their time from the session start (rehab_patient counts them from the first session it sees "
    "start, minus start_at_s; the scorer reads the shift from its events)",
    f"the world runs {STARTUP_SLACK_S:g} s of sim time beyond the scenario's duration: the session (and the fault "
    "clock) starts only once the nodes are up, while Gazebo steps from launch",
    "the tremor phase and the F/T noise samples come from rehab_patient's own random generator (seeded by the "
    "scenario seed), not the headless one's",
    "joint armature (rotor inertia) is MuJoCo-only; DART enforces the elbow's range as a hard limit, MuJoCo as a "
    "soft constraint",
)


def _nodes(config: Any, twin: Twin, geo: dict[str, Any], robot_joints: tuple[str, ...]) -> None:
    n = len(robot_joints)
    twin.add_command_split(SPLIT_NODE, config.effort_topic, [DRIVE.format(i=i) for i in range(n)],
                           timeout_s=float(config.command_timeout_s), on_timeout="hold_value", hold_value=0.0,
                           period_s=float(config.physics_dt_s))
    p = config.patient
    patient = {f"patient.{k}": getattr(p, k) for k in p.__dataclass_fields__}
    params: dict[str, Any] = {
        **patient, "first_session": config.first_session, "sessions": config.sessions,
        "seed": int(twin.scenario.seed), "robot_joints": list(robot_joints), "patient_joints": list(PATIENT_JOINTS),
        "robot_offsets_rad": geo["robot_q0"], "patient_offsets_rad": geo["patient_q0"],
        "robot_base_xy_m": geo["robot_base_xy_m"], "robot_links_m": geo["robot_links_m"],
        "shoulder_xy_m": geo["shoulder_xy_m"], "arm_links_m": geo["arm_links_m"],
        "cuff_stiffness_n_m": float(config.cuff_stiffness_n_m), "cuff_damping_ns_m": float(config.cuff_damping_ns_m),
        "force_noise_n": float(config.force_noise_n), "drive_limits_nm": geo["drive_limits_nm"],
        "patient_torque_limit_nm": geo["patient_limit_nm"], "start_at_s": float(config.start_at_s),
        "dropout_at_s": float(config.dropout_at_s), "dropout_s": float(config.dropout_s),
        "relay_period_s": float(twin.scenario.step_s), "frame_id": "rehab_base",
    }
    if config.spasm_at_s:  # an empty list has no ROS parameter type
        params["spasm_at_s"] = [float(t) for t in config.spasm_at_s]
    remap = {"joint_states_in": GZ_JOINT_STATES, "target": config.target_topic, "phase": config.phase_topic,
             "joint_states": config.joint_states_topic, "wrench": config.wrench_topic,
             **{f"drive_{i}": DRIVE.format(i=i) for i in range(n)},
             **{f"robot_effort_{i}": ROBOT_EFFORT.format(i=i) for i in range(n)},
             **{f"patient_effort_{i}": PATIENT_EFFORT.format(i=i) for i in range(len(PATIENT_JOINTS))}}
    twin.nodes.append(NodeEntry(node=PATIENT_NODE, name=PATIENT_NODE, params_file="config/rehab_patient.yaml",
                                params=params, remap=remap))


def session_command(service: str, phase_topic: str, sessions: int) -> str:
    """The shell loop that starts ``sessions`` sessions: retry ``~/start`` until accepted, then wait for the
    latched phase to read ``done`` before the next (no ``$(`` : launch would take it for a substitution)."""
    call = f"ros2 service call {service} std_srvs/srv/Trigger | grep -q success=True"
    done = f"ros2 topic echo --once --field data {phase_topic} std_msgs/msg/String | grep -qx done"
    script = (f"n={sessions}; k=0; while true; do until {call}; do sleep 0.2; done; k=`expr $k + 1`; "
              f"[ $k -lt $n ] || break; sleep 2; until {done}; do sleep 0.2; done; sleep 0.5; done")
    return f"bash -c '{script}'"


def _sessions(config: Any, twin: Twin, therapy: NodeEntry) -> None:
    from sanqin.simulation.gazebo.twin import LaunchProcess

    service = resolve_name("~/start", therapy.namespace, therapy.name)
    phase = resolve_name(therapy.remap.get("~/phase", "~/phase"), therapy.namespace, therapy.name)
    if phase != config.phase_topic:
        raise TwinError(f"the therapy node publishes its phase on {phase}, the simulator reads {config.phase_topic}")
    twin.processes.append(LaunchProcess(
        name="rehab_sessions", cmd=session_command(service, phase, config.sessions),
        description=f"starts the scenario's {config.sessions} therapy session(s) through {service} "
                    "(the headless harness calls the service directly)"))


# --- scoring a recorded run ---------------------------------------------------------------------------


def _stamp(msg: Any) -> float:
    return msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9


@dataclass(frozen=True)
class Task:
    """How a rehabilitation twin's bag maps to the harness's task coordinates (see :func:`score_task`)."""

    joints: tuple[str, ...]  # robot joints, drive order
    raw_offsets: tuple[float, ...]  # added to the raw Gazebo angles (the model's start configuration)
    drive_limits_nm: tuple[float, ...]  # motor range: the split commands are clipped to it
    kinematics: Any  # q (n,), qd (n,) → task position, task velocity
    interaction: Any  # geometry_msgs/Wrench → task interaction (force or torque components)
    patient: Any  # a fresh patient model of the scenario (for its recovery law)
    unit: str  # "m" or "rad": metric suffix


def score(config: Any, entry: SimulatorEntry, scenario: Any, bag: Any) -> dict[str, float]:
    """The simulator's ``rehab.*`` metrics from a bag (see :func:`score_task`): handle position and speed by the
    forward kinematics of the MJCF chain, interaction = the cuff force (x, y) on the handle."""
    from sanqin.simulation.gazebo.twin import headless_simulator
    from sanqin.simulation.rehab import ROBOT_JOINTS
    from sanqin.simulation.rehab_patient import ImpairedPatient

    geo = _geometry(headless_simulator(scenario, entry.name))
    base, links = np.array(geo["robot_base_xy_m"]), np.array(geo["robot_links_m"])

    def kinematics(q: np.ndarray, qd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, jac = planar_chain(base, links, q)
        return x, jac @ qd

    task = Task(ROBOT_JOINTS, tuple(geo["robot_q0"]), tuple(geo["drive_limits_nm"]), kinematics,
                lambda w: np.array([w.force.x, w.force.y]),
                ImpairedPatient(config.patient, np.zeros(2), config.first_session), "m")
    return score_task(config, scenario, bag, task)


def score_task(config: Any, scenario: Any, bag: Any, task: Task) -> dict[str, float]:
    """A rehabilitation simulator's metrics from a bag, with the headless definitions (:class:`TherapyHarness`).

    * limit ratios and ROM excursion: per robot state (Gazebo's raw joint states plus the start configuration
      when recorded — every physics step, never withheld —, else the published joint states) in task
      coordinates; interaction from the patient node's ``~/cuff_wrench`` (without noise) when recorded, else the
      published wrench; torque = the drive's applied torque (the split commands clipped to the motor range, else
      the published effort); a metric with no sample is NaN, which fails its criterion (left out, the scorer
      would count it as not measurable and pass the run on the others) — never a pass on missing data;
    * ``spasm_hold_cycles``: from the first published sample after the spasm onset whose interaction opposes the
      low-passed task velocity by more than the profile's ``spasm_opposing``, to the therapy node's ``spasm``
      event, in scenario steps; ``dropout_stop_s``: from the last published sample before the dropout to the
      ``sensor_timeout`` event; fault times come from the patient node's events (headless: the configured ones);
      the events' bag times are one step after the time the headless harness notes (it receives them before its
      next step); a fault the scenario injects that a recording with published states never shows (no spasm or
      dropout, or no sample showing it) is infinite (without published states: NaN) — a failure, as the headless
      run without the metric;
    * ``sessions_done``: ``done`` phases; ``patient_strength``/``patient_spasticity``: the patient's recovery law
      after the sessions the harness recovered it for.
    """
    from sanqin.rehab_robot.profile import load_profile
    from sanqin.runtime.paths import resolve_data_path

    profile = load_profile(resolve_data_path(config.profile_file))
    lim = profile.limits
    n = len(task.joints)
    raw = GZ_JOINT_STATES in bag.counts
    offsets = np.array(task.raw_offsets) if raw else np.zeros(n)

    def size(v: np.ndarray) -> float:
        return float(np.max(np.abs(v))) if lim.task_unit == "rad" else float(np.linalg.norm(v))

    m = {"rom_excursion": -math.inf, "speed_ratio": 0.0, "interaction_ratio": 0.0, "torque_ratio": 0.0}
    seen: set[str] = set()
    for _, msg in bag.messages(GZ_JOINT_STATES if raw else config.joint_states_topic):
        pos, vel = dict(zip(msg.name, msg.position)), dict(zip(msg.name, msg.velocity))
        if not all(j in pos and j in vel for j in task.joints):
            continue
        x, v = task.kinematics(np.array([pos[j] for j in task.joints]) + offsets,
                               np.array([vel[j] for j in task.joints]))
        m["rom_excursion"] = max(m["rom_excursion"], float(np.max(np.maximum(lim.task_min - x, x - lim.task_max))))
        m["speed_ratio"] = max(m["speed_ratio"], size(v) / lim.max_speed)
        seen.update(("rom_excursion", "speed_ratio"))
        if not raw and len(msg.effort) >= n:
            eff = dict(zip(msg.name, msg.effort))
            tau = np.abs([eff[j] for j in task.joints])
            m["torque_ratio"] = max(m["torque_ratio"], float(np.max(tau / lim.max_joint_torque_nm)))
            seen.add("torque_ratio")
    if raw:
        for i in range(n):
            for _, msg in bag.messages(DRIVE.format(i=i)):
                tau = min(abs(float(msg.data)), task.drive_limits_nm[i])
                m["torque_ratio"] = max(m["torque_ratio"], tau / float(lim.max_joint_torque_nm[i]))
                seen.add("torque_ratio")
    truth = next((t for t in bag.counts if t.endswith("/cuff_wrench")), None)
    for _, msg in bag.messages(truth or config.wrench_topic):
        m["interaction_ratio"] = max(m["interaction_ratio"], size(task.interaction(msg.wrench)) / lim.max_interaction)
        seen.add("interaction_ratio")
    out = {(f"rom_excursion_{task.unit}" if k == "rom_excursion" else k): float(v) if k in seen else math.nan
           for k, v in m.items()}  # no sample: NaN, a failed criterion (left out it would be 'not measured')
    phases = [(t, str(msg.data)) for t, msg in bag.messages(config.phase_topic)]
    out["sessions_done"] = float(sum(1 for _, p in phases if p == "done"))
    out.update(_faults(config, scenario, bag, task, profile.spasm_opposing))
    patient = task.patient
    started = 0
    previous = ""
    for _, p in phases:  # the harness's recovery: after each 'done' but the last session's
        if p not in ("", "done", "stopped") and previous in ("", "done", "stopped"):
            started += 1
        if p == "done" and previous != "done" and started < config.sessions:
            patient.set_session(config.first_session + started)
        previous = p
    out["patient_strength"] = float(patient.strength)
    out["patient_spasticity"] = float(patient.spasticity)
    return out


def _faults(config: Any, scenario: Any, bag: Any, task: Task, spasm_opposing: float) -> dict[str, float]:
    """``spasm_hold_cycles`` and ``dropout_stop_s`` from the published samples and the node's safety events."""
    events = []
    event_topic = next((t for t in bag.counts if t.endswith("_patient/events")), None)
    for _, msg in bag.messages(event_topic) if event_topic else ():
        try:
            ev = json.loads(msg.data)
        except (TypeError, ValueError):
            continue
        if isinstance(ev, dict):
            events.append(ev)
    spasm_onsets = [float(e["t_s"]) for e in events if e.get("kind") == "spasm"]
    dropouts = [float(e["t_s"]) for e in events if e.get("kind") == "dropout_start"]
    if event_topic is None:  # a headless bag: the configured times
        spasm_onsets = sorted(config.spasm_at_s)
        dropouts = [config.dropout_at_s] if config.dropout_at_s >= 0 else []
    safety = []
    for t, msg in bag.messages(config.events_topic):
        try:
            ev = json.loads(msg.data)
        except (TypeError, ValueError):
            continue
        if isinstance(ev, dict):
            safety.append((t, ev.get("kind")))
    out: dict[str, float] = {}
    states = {}
    for _, msg in bag.messages(config.joint_states_topic):
        pos, vel = dict(zip(msg.name, msg.position)), dict(zip(msg.name, msg.velocity))
        if all(j in pos and j in vel for j in task.joints):
            states[round(_stamp(msg), 6)] = (np.array([pos[j] for j in task.joints]),
                                             np.array([vel[j] for j in task.joints]))
    if spasm_onsets:
        dt = float(scenario.step_s)
        v_slow = None
        first = None
        for _, msg in bag.messages(config.wrench_topic):
            t = _stamp(msg)
            state = states.get(round(t, 6))
            if state is None:
                continue
            _, v = task.kinematics(*state)
            v_slow = v.copy() if v_slow is None else v_slow + min(1.0, dt / 0.1) * (v - v_slow)
            if t >= spasm_onsets[0] - 1e-9:
                u = v_slow / max(float(np.linalg.norm(v_slow)), 1e-9)
                if -float(task.interaction(msg.wrench) @ u) > spasm_opposing:
                    first = t
                    break
        if first is not None:
            hold = next((t for t, kind in safety if kind == "spasm" and t >= first - 1e-9), None)
            out["spasm_hold_cycles"] = float(round((hold - first) / dt)) if hold is not None else math.inf
    if config.spasm_at_s and "spasm_hold_cycles" not in out:  # injected, but never fired or never seen
        out["spasm_hold_cycles"] = math.inf if states else math.nan  # (NaN: no published states at all)
    if dropouts:
        start = dropouts[0]
        before = [t for t in states if t < start - 1e-9]
        if before:
            last = max(before)
            stop = next((t for t, kind in safety if kind == "sensor_timeout" and t >= start - 1e-9), None)
            out["dropout_stop_s"] = stop - last if stop is not None else math.inf
    if config.dropout_at_s >= 0 and "dropout_stop_s" not in out:  # never started, or nothing published before
        out["dropout_stop_s"] = math.inf if states else math.nan
    return out
