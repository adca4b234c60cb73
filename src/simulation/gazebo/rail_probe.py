"""Gazebo twin of :class:`sanqin.simulation.cable_tunnel_rail.CableTunnelRailSim`: rail robot, probe, cable, sleeve.

Headless, a carriage on a ceiling rail carries a probe whose pad (on a force sensor) is pressed onto a cable;
the scored contact forces come from the drives' compliance and MuJoCo's soft contact, so the twin reproduces
both as closely as Gazebo Harmonic allows:

* **robot** — the headless MuJoCo model converted body by body (:mod:`.mujoco_sdf`): carriage, probe arm,
  pad, a ``force_torque`` sensor in the pad's fixed joint (the force the pad passes on to the arm, pad frame:
  the headless ``-sensordata``, its noise). MuJoCo's ``gravcomp`` is a joint force, so the headless sensor
  reads the contact force less the pad's weight: the pad keeps its gravity and the probe servo's
  ``cmd_offset`` carries the weight; the arm above the sensor is weightless;
  ``JointStatePublisher`` at the scenario's step;
* **carriage drive** — MuJoCo ``velocity`` actuator (force ``kv·(v_cmd − v)`` within ``±forcerange``):
  ``JointController`` with force commands, PID ``p = kv``, no I/D, ``cmd_max`` = the force limit — the same
  law. The rail patrol's ``Float64MultiArray`` goes through ``joint_command_split``;
* **probe drive** — MuJoCo ``intvelocity`` (set-point ``a`` = ∫ speed command, clamped to ``actrange``;
  force ``kp·(a − q) − kv·q̇`` within ``±forcerange``): the set-point is integrated by the
  ``velocity_integrator`` node (after ``joint_command_split``), ``JointPositionController`` with PID
  ``p = kp``, no I/D, ``cmd_max`` = the force limit tracks it, and the velocity damping ``kv`` is joint damping
  (added to the joint's own), so pressing on a rigid sleeve the pad force rises by ``kp`` times how far
  the set-point runs ahead — the headless servo stiffness, not the force limit;
* **soft contact** — neither gz-physics' DART plugin (Gazebo's default) nor bullet-featherstone reads
  ``<surface><contact><ode><kp>/<kd>/<soft_cfm>`` (gz-physics 7 ``SDFFeatures.cc`` reads friction,
  restitution and collide bitmasks only; bullet-featherstone hard-codes ``1e15`` for meshes with a
  ``TODO load <kp> and <kd> values from SDF``), while both honour joint ``<spring_stiffness>`` and
  ``<damping>``. So the cable and each sleeve are rigid contact plates on a prismatic **spring joint** whose
  stiffness is MuJoCo's static contact stiffness ``K/R``, measured on the headless model at the probe's
  target force, and whose damping ``B/(A+R)`` gives MuJoCo's contact force when the pad meets the surface
  (:func:`contact_compliance`, :class:`Compliance`);
* **the sleeve kick** — each sleeve plate rides on a lift joint (``JointPositionController`` with velocity
  commands, ``cmd_max`` = kick / kick duration: the headless linear ramp); the ``TouchPlugin`` on the robot
  publishes once when the pad has touched a sleeve for ``kick_after_s`` of sim time, and a
  ``TriggeredPublisher`` sends every sleeve's lift target — on sim time, gated on the measured contact.

:func:`score` recomputes the plugin's metrics from a bag (headless or Gazebo): motion from
``/joint_states``, contact force from the probe wrench.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sanqin.runtime.scenario import NodeEntry, SimulatorEntry
from sanqin.simulation.gazebo import systems
from sanqin.simulation.gazebo.bridge import GZ_TO_ROS, ROS_TO_GZ, BridgeEntry
from sanqin.simulation.gazebo.errors import NoTwin, TwinError
from sanqin.simulation.gazebo.mujoco_sdf import _rpy, robot_model
from sanqin.simulation.gazebo.sdf import el, fields, num, plugin
from sanqin.simulation.gazebo.sensors import force_torque
from sanqin.simulation.gazebo.twin import (
    Model,
    Placement,
    Spawn,
    Twin,
    box_inertia,
    inertial,
    new_model,
    visual_and_collision,
)

JOINTS = ("carriage", "probe")
FT_JOINT = "probe_tip_fixed"
PAD = "probe_pad"
PLATE_MASS_KG = 0.02  # contact plate on its spring joint: small next to the 1.2 kg probe it meets
SLEEVE_BASE_MASS_KG = 1.0
SLEEVE_TARGET = "rigid_sleeve"  # substring of every sleeve collision's scoped name (TouchPlugin target)
KICK_TOPIC = "/tunnel/sleeve_kick"  # the TouchPlugin's trigger, bridged for the record (std_msgs/Bool)
GZ_JOINT_STATES = "/tunnel/joint_states_gz"  # Gazebo's joint states before the dropout relay (when there is one)
PROBE_NODES = ("contact_probe",)
#: collide_bitmask: the pad meets the cable and the sleeves; they never meet each other (MuJoCo does not collide
#: world geoms with mocap geoms, and a sleeve overlaps the cable it is clamped on)
PAD_MASK, CABLE_MASK, SLEEVE_MASK = 0x03, 0x01, 0x02
DEFAULT_OPERATING_FORCE_N = 8.0
GZ_GRAVITY_M_S2 = 9.80665  # the generated worlds' gravity (generate.world_sdf)


@dataclass(frozen=True)
class Compliance:
    """MuJoCo's soft contact between the pad and a geom, as the spring-damper a spring joint can carry.

    MuJoCo solves each contact row as ``f = (a_ref − a0) / (A + R)`` with ``a_ref = −B·ṙ − K·r`` (``K``, ``B``
    from solref/solimp, ``R`` the regulariser — small next to ``A``, the row's inverse inertia — and ``a0`` the
    pad's acceleration without the contact). So the contact

    * takes up a force pushing the pad into it (the probe servo's) almost at once and yields to it only with
      the static stiffness ``K/R`` (at rest ``f = K·r/R``);
    * answers relative motion — the surface moving into the pad, the pad arriving — with the spring-damper
      ``K/(A+R)``, ``B/(A+R)``: about 25 times softer than ``K/R`` here.

    A spring joint has one stiffness: ``K/R`` where the contact is only pressed (the cable), ``K/(A+R)`` where
    the surface moves into the pad (the kicking sleeve); the damping is ``B/(A+R)`` in both (MuJoCo's force
    per speed when the pad touches; ``B/R`` would be the damping at rest).
    """

    static_stiffness_n_m: float  # K / R, measured as contact force / penetration at rest
    motion_stiffness_n_m: float  # K / (A + R)
    damping_n_s_m: float  # B / (A + R)
    force_n: float
    penetration_m: float
    rest_damping_n_s_m: float  # B / R, for the record


@dataclass(frozen=True)
class Drives:
    """The headless actuators' laws: carriage velocity servo, probe integrating velocity servo."""

    carriage_kv: float
    carriage_force_max_n: float
    probe_kp: float
    probe_kv: float
    probe_force_max_n: float
    probe_set_point_range_m: tuple[float, float]
    carriage_damping: float  # joint damping (N·s/m) of the MuJoCo joints
    probe_damping: float


def _id(m: Any, kind: Any, name: str) -> int:
    import mujoco

    i = mujoco.mj_name2id(m, kind, name)
    if i < 0:
        raise TwinError(f"the headless rail robot model has no {kind.name[5:].lower()} {name!r}")
    return int(i)


def drives(m: Any) -> Drives:
    """The carriage and probe actuators of the headless model (checked to be the laws the twin reproduces)."""
    import mujoco

    def actuator(joint: str) -> int:
        j = _id(m, mujoco.mjtObj.mjOBJ_JOINT, joint)
        found = [a for a in range(m.nu) if int(m.actuator_trnid[a][0]) == j]
        if len(found) != 1:
            raise TwinError(f"joint {joint!r} needs exactly one actuator, has {len(found)}")
        return found[0]

    c, p = actuator("carriage"), actuator("probe")
    gc, bc = m.actuator_gainprm[c], m.actuator_biasprm[c]
    if int(m.actuator_dyntype[c]) != int(mujoco.mjtDyn.mjDYN_NONE) or bc[1] != 0 or not np.isclose(gc[0], -bc[2]):
        raise TwinError("the carriage actuator is not a velocity servo (force kv·(ctrl − qvel))")
    gp, bp = m.actuator_gainprm[p], m.actuator_biasprm[p]
    if int(m.actuator_dyntype[p]) != int(mujoco.mjtDyn.mjDYN_INTEGRATOR) or not np.isclose(gp[0], -bp[1]):
        raise TwinError("the probe actuator is not an integrating velocity servo (intvelocity)")
    for a in (c, p):
        if not m.actuator_forcelimited[a]:
            raise TwinError("the twin's servos need the headless force limits (forcerange)")
    lo, hi = (float(v) for v in m.actuator_actrange[p]) if m.actuator_actlimited[p] else (-1e9, 1e9)
    dof = {j: int(m.jnt_dofadr[_id(m, mujoco.mjtObj.mjOBJ_JOINT, j)]) for j in JOINTS}
    return Drives(carriage_kv=float(gc[0]), carriage_force_max_n=float(m.actuator_forcerange[c][1]),
                  probe_kp=float(gp[0]), probe_kv=float(-bp[2]), probe_force_max_n=float(m.actuator_forcerange[p][1]),
                  probe_set_point_range_m=(lo, hi), carriage_damping=float(m.dof_damping[dof["carriage"]]),
                  probe_damping=float(m.dof_damping[dof["probe"]]))


def contact_compliance(m: Any, geom: str, carriage_x_m: float, force_n: float, steps: int = 1000) -> Compliance:
    """MuJoCo's pad–``geom`` contact as springs and a damper, measured with the probe pressing ``force_n``.

    On a copy of the headless state: the carriage at ``carriage_x_m``, the probe at first touch, its
    servo set-point moved down until the static contact force is ``force_n`` (``steps`` physics steps per
    correction); MuJoCo's own contact force over its own penetration is then the static stiffness (it depends on
    the depth through ``solimp``, hence the operating force); ``K``, ``B``, ``R`` of the contact's normal row and
    its inverse inertia ``A`` give the rest (see :class:`Compliance`).
    """
    import mujoco

    pad = _id(m, mujoco.mjtObj.mjOBJ_GEOM, PAD)
    other = _id(m, mujoco.mjtObj.mjOBJ_GEOM, geom)
    carriage, probe = (int(m.jnt_qposadr[_id(m, mujoco.mjtObj.mjOBJ_JOINT, j)]) for j in JOINTS)
    act = int(m.actuator_actadr[[a for a in range(m.nu) if int(m.actuator_dyntype[a]) != 0][0]])
    kp = drives(m).probe_kp
    d = mujoco.MjData(m)
    d.qpos[carriage] = carriage_x_m
    mujoco.mj_forward(m, d)
    touch = float(mujoco.mj_geomDistance(m, d, pad, other, 1.0, None))
    if not 0.0 < touch < 1.0:
        raise TwinError(f"the pad does not reach {geom!r} from above at x = {carriage_x_m} m")
    d.qpos[probe] = touch
    d.act[act] = touch + force_n / kp
    d.ctrl[:] = 0.0
    f6 = np.zeros(6)
    for _ in range(4):  # settle, then move the set-point by the force still missing (the contact yields too)
        for _ in range(steps):
            mujoco.mj_step(m, d)
        force, row = 0.0, -1
        for i in range(d.ncon):
            c = d.contact[i]
            if {int(c.geom1), int(c.geom2)} == {pad, other}:
                mujoco.mj_contactForce(m, d, i, f6)
                force += float(f6[0])
                row = int(c.efc_address)  # the normal row of the (single) contact
        d.act[act] += (force_n - force) / kp
    depth = -float(mujoco.mj_geomDistance(m, d, pad, other, 1.0, None))
    if depth <= 0 or force <= 0 or row < 0:
        raise TwinError(f"no static contact of the pad on {geom!r} at {force_n} N")
    k_row, b_row = (float(v) for v in d.efc_KBIP[row][:2])
    r_row = float(d.efc_R[row])
    jac = np.zeros(m.nv)
    jac[:] = d.efc_J.reshape(d.nefc, m.nv)[row] if d.efc_J.size == d.nefc * m.nv else _dense_row(m, d, row)
    minv_j = np.zeros(m.nv)
    mujoco.mj_solveM(m, d, minv_j.reshape(1, -1), jac.reshape(1, -1))
    a_row = float(jac @ minv_j)
    return Compliance(force / depth, k_row / (a_row + r_row), b_row / (a_row + r_row), force, depth,
                      b_row / r_row)


def _dense_row(m: Any, d: Any, row: int) -> np.ndarray:
    """Row ``row`` of a sparse constraint Jacobian as a dense vector."""
    out = np.zeros(m.nv)
    start, n = int(d.efc_J_rowadr[row]), int(d.efc_J_rownnz[row])
    out[d.efc_J_colind[start:start + n]] = d.efc_J[start:start + n]
    return out


def pad_weight_n(m: Any, gravity_m_s2: float | None = None) -> float:
    """Weight (N) of the pad body under the force sensor (MuJoCo's gravity unless given)."""
    import mujoco

    g = float(np.linalg.norm(m.opt.gravity)) if gravity_m_s2 is None else gravity_m_s2
    return float(m.body_mass[_id(m, mujoco.mjtObj.mjOBJ_BODY, "probe_tip")]) * g


def _probe_axis_down(m: Any) -> float:
    """The probe joint axis' component along world down (+1: extending lowers the pad)."""
    import mujoco

    j = _id(m, mujoco.mjtObj.mjOBJ_JOINT, "probe")
    d = mujoco.MjData(m)
    mujoco.mj_kinematics(m, d)
    return float(-d.xaxis[j][2])


def operating_force_n(twin: Twin) -> float:
    """The contact probe's target force in this scenario (where the contact stiffness is measured)."""
    from sanqin.runtime.params import load_node_config
    from sanqin.runtime.paths import resolve_data_path
    from sanqin.runtime.registry import get_node_spec

    sc = twin.scenario
    for entry in sc.nodes:
        if entry.node in PROBE_NODES:
            base = sc.path.parent if sc.path else None
            path = resolve_data_path(entry.params_file, base) if entry.params_file else None
            cfg = load_node_config(get_node_spec(entry.node).config, path, entry.name, entry.namespace, entry.params)
            return float(cfg.target_force_n)
    return DEFAULT_OPERATING_FORCE_N


def _unique_frame_names(model: Any) -> None:
    """Rename links that share a joint's name (MuJoCo body ``carriage`` with joint ``carriage``): SDF links and
    joints share one frame namespace. The joints keep their names (the nodes read them in joint states)."""
    joints = {j.get("name") for j in model.findall("joint")}
    renamed = {lk.get("name"): f"{lk.get('name')}_link" for lk in model.findall("link") if lk.get("name") in joints}
    for lk in model.findall("link"):
        lk.set("name", renamed.get(lk.get("name"), lk.get("name")))
    for j in model.findall("joint"):
        for tag in ("parent", "child"):
            node = j.find(tag)
            if node is not None and node.text in renamed:
                node.text = renamed[node.text]


def _collide_bitmask(link: Any, collision: str, mask: int) -> None:
    c = link.find(f"collision[@name='{collision}']")
    if c is None:
        raise TwinError(f"link {link.get('name')} has no collision {collision!r}")
    surface = c.find("surface")
    el(el(surface if surface is not None else el(c, "surface"), "contact"), "collide_bitmask", mask)


def _spring_joint(model: Any, name: str, parent: str, child: str, stiffness_n_m: float, damping_n_s_m: float) -> None:
    joint = el(model, "joint", name=name, type="prismatic")
    fields(joint, {"parent": parent, "child": child})
    axis = el(joint, "axis")
    el(axis, "xyz", [0, 0, 1])
    fields(el(axis, "dynamics"), {"damping": damping_n_s_m, "friction": 0.0, "spring_reference": 0.0,
                                  "spring_stiffness": stiffness_n_m})


def export(config: Any, entry: SimulatorEntry, twin: Twin) -> None:
    """Robot with its drives and F/T sensor, the spring-mounted cable and sleeves, the kick, the adapters."""
    sim = twin.headless_simulator(entry.name)
    m = sim.m
    twin.physics_step_s = float(m.opt.timestep)
    drv = drives(m)
    force_n = operating_force_n(twin)
    name = twin.model_name("robot")
    conv = robot_model(m, name, "carriage")
    if tuple(conv.joints) != JOINTS:
        raise TwinError(f"rail robot joints {conv.joints} are not {JOINTS}")
    robot = conv.model
    _unique_frame_names(robot)
    ft_joint = robot.find(f"joint[@name='{FT_JOINT}']")
    probe_damping = robot.find("joint[@name='probe']/axis/dynamics/damping")
    if ft_joint is None or probe_damping is None:
        raise TwinError(f"the rail robot has no fixed pad joint {FT_JOINT!r} or no probe joint damping")
    probe_damping.text = num(drv.probe_damping + drv.probe_kv)  # the servo's velocity damping (see module doc)
    tip = robot.find("link[@name='probe_tip']")
    _collide_bitmask(tip, f"{PAD}_collision", PAD_MASK)
    # MuJoCo's gravcomp is a joint force: the pad's weight still loads the force sensor (headless it reads the
    # contact force less the weight; contact_probe tares it). So the pad keeps its gravity here and the probe
    # servo's feed-forward (cmd_offset) carries it, as gravcomp does; the arm above the sensor stays weightless.
    tip.remove(tip.find("gravity"))
    tip_weight_n = pad_weight_n(m, GZ_GRAVITY_M_S2)
    rate_hz = 1.0 / twin.scenario.step_s
    twin.add_sensor(force_torque(ft_joint, name="probe_ft", gz_topic=f"/model/{name}/probe/wrench",
                                 ros_topic=config.wrench_topic, frame_id=PAD, rate_hz=rate_hz,
                                 force_stddev_n=config.force_noise_n))
    carriage_cmd = f"/model/{name}/joint/carriage/cmd_vel"
    probe_cmd = f"/model/{name}/joint/probe/cmd_pos"
    plugin(robot, "gz-sim-joint-controller-system", "gz::sim::systems::JointController", {
        "joint_name": "carriage", "topic": carriage_cmd, "use_force_commands": True, "p_gain": drv.carriage_kv,
        "i_gain": 0.0, "d_gain": 0.0, "i_max": 0.0, "i_min": 0.0, "cmd_max": drv.carriage_force_max_n,
        "cmd_min": -drv.carriage_force_max_n})
    plugin(robot, "gz-sim-joint-position-controller-system", "gz::sim::systems::JointPositionController", {
        "joint_name": "probe", "topic": probe_cmd, "p_gain": drv.probe_kp, "i_gain": 0.0, "d_gain": 0.0,
        "i_max": 0.0, "i_min": 0.0, "cmd_max": drv.probe_force_max_n, "cmd_min": -drv.probe_force_max_n,
        "cmd_offset": -tip_weight_n * _probe_axis_down(m), "initial_position": 0.0})
    systems.joint_state_publisher(robot, f"/model/{name}/joint_states", JOINTS)  # every step: 1 / physics step
    dropout = config.dropout_start_s >= 0 and config.dropout_s > 0
    twin.add_bridge(BridgeEntry(GZ_JOINT_STATES if dropout else config.joint_states_topic,
                                f"/model/{name}/joint_states", "sensor_msgs/msg/JointState", "gz.msgs.Model",
                                GZ_TO_ROS))
    if dropout:
        _dropout(twin, config)
    sleeves = [float(x) for x in config.rigid_sleeves_m]
    kick = config.kick_m > 0 and bool(sleeves)
    if kick:
        # TouchPlugin reads the model's contact sensors (its <collision> and create_contact_sensor_for_collision
        # parameters only exist from gz-sim 8.11 / 8.12): a contact sensor on the pad, and the Contact system.
        sensor = el(tip, "sensor", name="pad_contact", type="contact")
        el(el(sensor, "contact"), "collision", f"{PAD}_collision")
        el(sensor, "update_rate", rate_hz)
        twin.systems.add("contact")
        plugin(robot, "gz-sim-touchplugin-system", "gz::sim::systems::TouchPlugin", {
            "target": SLEEVE_TARGET, "namespace": f"{twin.scenario.name}_sleeve_touch", "time": config.kick_after_s,
            "enabled": True})
    twin.add_model(Model(name, conv.root, "Rail-hanging cable-tunnel robot with a contact probe (from the headless "
                         "MuJoCo model)", {},
                         f"Carriage + probe of scenario {twin.scenario.name}, converted from the headless MuJoCo "
                         "model; JointController (carriage velocity servo), JointPositionController (probe "
                         "integrating velocity servo, set-point from velocity_integrator), force_torque in the pad "
                         "joint, JointStatePublisher."))
    twin.spawns.append(Spawn(name, "robot", (0.0, 0.0, 0.0)))
    cable = contact_compliance(m, "cable", _clear_of(sleeves), force_n)
    _tunnel(twin, m, cable)
    sleeve_compliance = [contact_compliance(m, f"sleeve_{i}", x, force_n) for i, x in enumerate(sleeves)]
    lift_topics = [_sleeve(twin, config, m, i, c, kick) for i, c in enumerate(sleeve_compliance)]
    if kick:
        _kick_trigger(twin, config, lift_topics)
    _adapters(twin, config, drv, name, carriage_cmd, probe_cmd)
    twin.record_topics.update({config.joint_states_topic, config.wrench_topic, config.carriage_topic,
                               config.probe_topic})
    _notes(twin, config, drv, force_n, cable, sleeve_compliance, kick)


def _clear_of(sleeves: list[float]) -> float:
    """A carriage position on the cable at least 1 m from every sleeve (where the cable contact is measured)."""
    for x in np.arange(2.0, 59.0, 0.5):
        if all(abs(x - s) >= 1.0 for s in sleeves):
            return float(x)
    raise TwinError("no stretch of bare cable to measure its contact stiffness on")


def _tunnel(twin: Twin, m: Any, c: Compliance) -> None:
    """The rail (visual) and the cable: a contact plate on a vertical spring joint (MuJoCo's soft contact)."""
    import mujoco

    name = twin.model_name("tunnel")
    root, model = new_model(name)
    rail_g, cable_g = (_id(m, mujoco.mjtObj.mjOBJ_GEOM, g) for g in ("rail", "cable"))
    rail = el(model, "link", name="rail")
    el(rail, "gravity", False)
    inertial(rail, 1.0, box_inertia(1.0, 2 * m.geom_size[rail_g]))
    visual_and_collision(rail, "rail", "box", {"size": list(2 * m.geom_size[rail_g])}, xyz=m.geom_pos[rail_g],
                         rgba=m.geom_rgba[rail_g], collision=False)
    fields(el(model, "joint", name="rail_fixed", type="fixed"), {"parent": "world", "child": "rail"})
    cable = el(model, "link", name="cable")
    el(cable, "gravity", False)  # the spring holds it at its rest position, as MuJoCo's world-fixed cable
    radius, half = float(m.geom_size[cable_g][0]), float(m.geom_size[cable_g][1])
    rpy = _rpy(m.geom_quat[cable_g])
    inertial(cable, PLATE_MASS_KG, box_inertia(PLATE_MASS_KG, (2 * radius, 2 * radius, 2 * half)),
             xyz=m.geom_pos[cable_g], rpy=rpy)
    visual_and_collision(cable, "cable", "capsule", {"radius": radius, "length": 2 * half}, xyz=m.geom_pos[cable_g],
                         rpy=rpy, rgba=m.geom_rgba[cable_g], mu=float(m.geom_friction[cable_g][0]))
    _collide_bitmask(cable, "cable_collision", CABLE_MASK)
    _spring_joint(model, "cable_compliance", "world", "cable", c.static_stiffness_n_m, c.damping_n_s_m)
    twin.add_model(Model(name, root, "Ceiling rail and the cable on its contact spring (from the headless model)", {},
                         f"Rail and cable of scenario {twin.scenario.name}; the cable surface's MuJoCo soft contact "
                         f"is a spring joint: {c.static_stiffness_n_m:.0f} N/m (static, K/R), {c.damping_n_s_m:.0f} "
                         "N·s/m."))
    twin.placements.append(Placement(name, "tunnel"))


def _sleeve(twin: Twin, config: Any, m: Any, i: int, c: Compliance, kick: bool) -> str:
    """Sleeve ``i``: a lift joint (the kick) carrying a contact plate on its spring joint; returns the lift topic."""
    import mujoco

    name = twin.model_name(f"sleeve_{i}")
    g = _id(m, mujoco.mjtObj.mjOBJ_GEOM, f"sleeve_{i}")  # the headless sleeve (a mocap body)
    if int(m.geom_type[g]) != int(mujoco.mjtGeom.mjGEOM_BOX) or np.any(m.geom_pos[g] != 0):
        raise TwinError(f"headless sleeve {i} is not a box at its body's origin")
    half = [float(h) for h in m.geom_size[g]]
    xyz = [float(v) for v in m.body_pos[int(m.geom_bodyid[g])]]
    root, model = new_model(name)
    base = el(model, "link", name="base")
    el(base, "gravity", False)
    inertial(base, SLEEVE_BASE_MASS_KG, box_inertia(SLEEVE_BASE_MASS_KG, [2 * h for h in half]))
    plate = el(model, "link", name="plate")
    el(plate, "gravity", False)
    inertial(plate, PLATE_MASS_KG, box_inertia(PLATE_MASS_KG, [2 * h for h in half]))
    visual_and_collision(plate, f"{SLEEVE_TARGET}_{i}", "box", {"size": [2 * h for h in half]},
                         rgba=m.geom_rgba[g], mu=float(m.geom_friction[g][0]))
    _collide_bitmask(plate, f"{SLEEVE_TARGET}_{i}_collision", SLEEVE_MASK)
    topic = f"/model/{name}/joint/lift/cmd_pos"
    if kick:
        lift = el(model, "joint", name="lift", type="prismatic")
        fields(lift, {"parent": "world", "child": "base"})
        axis = el(lift, "axis")
        el(axis, "xyz", [0, 0, 1])
        fields(el(axis, "limit"), {"lower": 0.0, "upper": config.kick_m})
        plugin(model, "gz-sim-joint-position-controller-system", "gz::sim::systems::JointPositionController", {
            "joint_name": "lift", "topic": topic, "use_velocity_commands": True,
            "cmd_max": config.kick_m / config.kick_duration_s,  # the speed limit (cmd_min is not read then)
            "initial_position": 0.0})
    else:
        fields(el(model, "joint", name="base_fixed", type="fixed"), {"parent": "world", "child": "base"})
    stiffness = c.motion_stiffness_n_m if kick else c.static_stiffness_n_m  # see Compliance
    _spring_joint(model, "compliance", "base", "plate", stiffness, c.damping_n_s_m)
    twin.add_model(Model(name, root, f"Rigid cable-joint sleeve {i} (kick on a lift joint, contact spring)", {},
                         f"Sleeve {i} of scenario {twin.scenario.name} at x = {xyz[0]:g} m, top "
                         f"{xyz[2] + half[2]:g} m; MuJoCo soft contact as a spring joint: {stiffness:.0f} N/m, "
                         f"{c.damping_n_s_m:.0f} N·s/m."))
    twin.placements.append(Placement(name, f"sleeve_{i}", tuple(xyz)))
    return topic


def _kick_trigger(twin: Twin, config: Any, lift_topics: list[str]) -> None:
    """The TouchPlugin's ``touched`` message lifts every sleeve by ``kick_m`` (one ``TriggeredPublisher``)."""
    touched = f"/{twin.scenario.name}_sleeve_touch/touched"
    holder = el(None, "holder")
    trig = plugin(holder, "gz-sim-triggered-publisher-system", "gz::sim::systems::TriggeredPublisher")
    inp = el(trig, "input", type="gz.msgs.Boolean", topic=touched)
    el(inp, "match", "true", field="data")
    for topic in lift_topics:
        el(trig, "output", f"data: {num(config.kick_m)}", type="gz.msgs.Double", topic=topic)
    twin.world_elements.extend(list(holder))
    twin.add_bridge(BridgeEntry(KICK_TOPIC, touched, "std_msgs/msg/Bool", "gz.msgs.Boolean", GZ_TO_ROS))


def _adapters(twin: Twin, config: Any, drv: Drives, name: str, carriage_cmd: str, probe_cmd: str) -> None:
    """Forward-controller arrays → per-joint commands; probe speed → integrated set-point; their bridges."""
    step = float(twin.scenario.step_s)
    carriage_speed = config.carriage_topic.rsplit("/", 1)[0] + "/carriage"
    probe_speed = config.probe_topic.rsplit("/", 1)[0] + "/probe"
    probe_target = "/probe_position_controller/probe"
    for node_name, commands, out in (("carriage_command_split", config.carriage_topic, carriage_speed),
                                     ("probe_command_split", config.probe_topic, probe_speed)):
        twin.add_command_split(node_name, commands, [out], period_s=step)
    lo, hi = drv.probe_set_point_range_m
    twin.nodes.append(NodeEntry(node="velocity_integrator", name="probe_velocity_integrator",
                                params_file="config/velocity_integrator.yaml",
                                params={"initial_position": 0.0, "min_position": lo, "max_position": hi,
                                        "period_s": step},
                                remap={"velocity": probe_speed, "position": probe_target}))
    twin.add_bridge(BridgeEntry(carriage_speed, carriage_cmd, "std_msgs/msg/Float64", "gz.msgs.Double", ROS_TO_GZ))
    twin.add_bridge(BridgeEntry(probe_target, probe_cmd, "std_msgs/msg/Float64", "gz.msgs.Double", ROS_TO_GZ))


def _dropout(twin: Twin, config: Any) -> None:
    """``joint_state_dropout`` between Gazebo's joint states and the controllers, its window counted from the
    patrol's first carriage command (whose headless time is the patrol's first tick: one control period)."""
    from sanqin.runtime.params import load_node_config
    from sanqin.runtime.paths import resolve_data_path
    from sanqin.runtime.registry import get_node_spec

    sc = twin.scenario
    first_command_s = 0.0
    for entry in sc.nodes:
        if entry.remap.get("commands") == config.carriage_topic:
            base = sc.path.parent if sc.path else None
            path = resolve_data_path(entry.params_file, base) if entry.params_file else None
            cfg = load_node_config(get_node_spec(entry.node).config, path, entry.name, entry.namespace, entry.params)
            first_command_s = float(getattr(cfg, "control_period_s", 0.0))
    if config.dropout_start_s < first_command_s:
        raise NoTwin(f"the joint states drop out at {config.dropout_start_s:g} s, before the patrol's first command "
                     f"({first_command_s:g} s), which is when the twin's schedule can start")
    twin.nodes.append(NodeEntry(
        node="joint_state_dropout", name="joint_state_dropout", params_file="config/joint_state_dropout.yaml",
        params={"start_s": config.dropout_start_s - first_command_s, "duration_s": float(config.dropout_s),
                "start_on_command": True},
        remap={"joint_states_in": GZ_JOINT_STATES, "joint_states": config.joint_states_topic,
               "command": config.carriage_topic}))
    twin.notes.append(f"encoder dropout: joint_state_dropout withholds the joint states for {config.dropout_s:g} s "
                      f"from {config.dropout_start_s - first_command_s:g} s after the patrol's first carriage command "
                      f"(headless: from {config.dropout_start_s:g} s, the first command at {first_command_s:g} s); "
                      "Gazebo's nodes start after the simulation, so the window follows the robot, not the clock")


def _notes(twin: Twin, config: Any, drv: Drives, force_n: float, cable: Compliance, sleeves: list[Compliance],
           kick: bool) -> None:
    n = twin.notes
    n.append(f"carriage: JointController force mode, p = kv = {drv.carriage_kv:g} N·s/m, ±{drv.carriage_force_max_n:g} "
             "N — the headless velocity actuator's law; the command passes joint_command_split (zero speed after "
             "0.1 s without commands; headless holds the last one)")
    n.append(f"probe: set-point integrated by velocity_integrator every {twin.scenario.step_s:g} s (headless: every "
             f"{twin.physics_step_s:g} s physics step) within the actrange {list(drv.probe_set_point_range_m)} m, "
             f"JointPositionController p = kp = {drv.probe_kp:g} N/m, ±{drv.probe_force_max_n:g} N; the servo's "
             f"velocity damping kv = {drv.probe_kv:g} N·s/m is joint damping (total "
             f"{drv.probe_damping + drv.probe_kv:g}), outside the force limit (headless: inside; the limit is never "
             "reached below 150 N)")
    sleeve_k = [c.motion_stiffness_n_m if kick else c.static_stiffness_n_m for c in sleeves]
    n.append("contact: DART (and bullet-featherstone) honour no SDF soft-contact parameters, so MuJoCo's soft contact "
             "is a spring joint behind a rigid plate, measured on the headless model at the probe's target force "
             f"({force_n:g} N). MuJoCo's contact row f = (a_ref - a0)/(A+R), a_ref = -B v - K r, takes up the probe's "
             "push at once and yields to it with K/R, but answers relative motion with K/(A+R), B/(A+R); one spring "
             f"has one stiffness: the cable (only pressed) K/R = {cable.static_stiffness_n_m:.0f} N/m "
             f"({cable.penetration_m * 1e3:.3f} mm at {force_n:g} N)"
             + "".join(f", sleeve {i} ({'kicks into the pad: K/(A+R)' if kick else 'only pressed: K/R'}) {k:.0f} N/m "
                       f"(its K/R is {c.static_stiffness_n_m:.0f})" for i, (c, k) in enumerate(zip(sleeves, sleeve_k)))
             + f"; damping B/(A+R), MuJoCo's force per speed at touch (cable {cable.damping_n_s_m:.0f}"
             + "".join(f", sleeve {i} {c.damping_n_s_m:.0f}" for i, c in enumerate(sleeves))
             + " N·s/m). Run in MuJoCo with the drives and adapters above (tests/simulation/test_gazebo_rail_probe.py),"
             " this model gives the headless placements and abort at their times and the peak kick force within 5 "
             "%; K/R on the kicking sleeve would drive the kick force to the probe's 40 N safety limit, K/(A+R) on the "
             "cable would slow every placement (a 3x softer force loop). MuJoCo's stiffness also grows with depth "
             f"(solimp): linear here; the {PLATE_MASS_KG:g} kg plate moves with the pad")
    if kick:
        n.append(f"sleeve kick: TouchPlugin fires after {config.kick_after_s:g} s of pad-sleeve contact (sim time), "
                 f"the lift ramps {config.kick_m * 1e3:g} mm at {config.kick_m / config.kick_duration_s:g} m/s "
                 "(headless: after that long above 2 N of contact force; Gazebo counts from the first touch — the same "
                 "instant here, where the force passes 2 N within a step of touching — and its ramp is continuous, the "
                 "headless one 1.2 mm jumps every 0.01 s step)")
    n.append("the pad force is a force_torque sensor in the pad's joint (what the pad passes on to the arm: the "
             "contact force less the pad's weight and inertia, as the headless sensor site); the pad keeps its gravity "
             "and the probe servo's cmd_offset carries it (MuJoCo gravcomp is a joint force: the sensor sees the "
             "weight, the joint does not)")


# --- scoring a recorded run ---------------------------------------------------------------------------


def score(config: Any, entry: SimulatorEntry, scenario: Any, bag: Any) -> dict[str, float]:
    """The plugin's metrics from a recorded run (headless or Gazebo), by a fresh plugin instance's ``metrics``.

    Motion from the joint states, one sample per scenario step (Gazebo may publish faster): carriage and
    probe position, carriage speed, speed while the probe is extended, acceleration between samples. With an
    encoder dropout a Gazebo bag holds Gazebo's states before the relay (``/tunnel/joint_states_gz``), which are
    used; a headless bag has none in the window, so the acceleration across it is an average over the gap. The
    contact force is the probe wrench along the pad axis plus the pad's weight (the sensor reads the contact
    force less the weight: ``weight - force.z`` in the pad frame, never negative), including the sensor noise
    (headless scores MuJoCo's noiseless contact force). Commands: the recorded
    single-element finite speed commands. A bag without joint states or without the wrench gives NaN for what
    they measure (a NaN metric fails its criterion), never the fresh plugin's zero speeds and forces.
    """
    from sanqin.simulation.gazebo.twin import headless_simulator

    sim = headless_simulator(scenario, entry.name)  # fresh: nothing measured yet
    weight = pad_weight_n(sim.m)
    step = float(scenario.step_s)
    last_t, prev_v = None, None
    last_pos = None
    states = GZ_JOINT_STATES if GZ_JOINT_STATES in bag.counts else config.joint_states_topic  # before any dropout
    for _, msg in bag.messages(states):
        pos, vel = dict(zip(msg.name, msg.position)), dict(zip(msg.name, msg.velocity))
        if not all(j in pos and j in vel for j in JOINTS):
            continue
        t = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        if last_t is not None and t < last_t + step - 1e-6:
            continue
        v = float(vel["carriage"])
        sim.max_speed = max(sim.max_speed, abs(v))
        if pos["probe"] > config.extended_m:
            sim.max_speed_extended = max(sim.max_speed_extended, abs(v))
        if prev_v is not None:
            sim.max_accel = max(sim.max_accel, abs(v - prev_v) / (t - last_t))
        last_t, prev_v, last_pos = t, v, (float(pos["carriage"]), float(pos["probe"]))
    if last_pos is not None:
        sim.d.qpos[0], sim.d.qpos[1] = last_pos
    wrenches = 0
    for _, msg in bag.messages(config.wrench_topic):
        wrenches += 1
        f = max(0.0, weight - float(msg.wrench.force.z))
        sim.max_force = max(sim.max_force, f)
        sim.last_force = f
        if f > 1.0:
            sim.contact_samples.append(f)
    for topic in (config.carriage_topic, config.probe_topic):
        for _, msg in bag.messages(topic):
            data = np.asarray(msg.data, dtype=np.float64)
            if data.size == 1 and np.isfinite(data[0]):
                sim.commands += 1
    out = sim.metrics()
    if last_pos is None:  # no joint states recorded: no motion measured (never the fresh plugin's zeros)
        out.update(dict.fromkeys(("carriage_x_m", "probe_x_m", "max_speed_m_s", "max_speed_probe_extended_m_s",
                                  "max_accel_m_s2"), math.nan))
    if not wrenches:  # no probe wrench recorded: no contact force measured (0 N would pass the force limit)
        out.update(dict.fromkeys(("max_contact_force_n", "final_contact_force_n", "median_contact_force_n"),
                                 math.nan))
    return out
