"""MuJoCo models → SDF: the headless MJCF (compiled ``MjModel``) becomes the Gazebo model, link by link.

:func:`robot_model` converts the body subtree under ``root_body``: every body a link (pose at the
reference configuration ``qpos0``, mass, centre of mass and principal inertia from the compiled model),
every hinge/slide joint a revolute/prismatic joint (axis, anchor, limits, damping, dry friction, spring),
every body welded to its parent (no joint) a fixed joint, and every geom a visual and — when it can
collide (``contype`` or ``conaffinity`` set) — a collision of the same primitive (box, sphere, capsule,
cylinder, ellipsoid, plane) with its friction. Bodies MuJoCo gravity-compensates (``gravcomp`` ≥ 1, e.g.
an arm whose servos hold it against gravity) get ``<gravity>false</gravity>``. :func:`static_model` does the
same for the geoms of the world body (plates, floors, fixtures).

Not representable in SDF 1.9 and reported as notes: joint armature (reflected rotor inertia), MuJoCo's
soft-contact parameters (solref/solimp) and mesh geoms (none of the shipped models use meshes).
"""

from __future__ import annotations

import math
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from sanqin.simulation.gazebo.errors import TwinError
from sanqin.simulation.gazebo.sdf import el, fields, pose
from sanqin.simulation.gazebo.twin import inertial, new_model, visual_and_collision

GEOM_PLANE, GEOM_HFIELD, GEOM_SPHERE, GEOM_CAPSULE, GEOM_ELLIPSOID, GEOM_CYLINDER, GEOM_BOX, GEOM_MESH = range(8)
JNT_FREE, JNT_BALL, JNT_SLIDE, JNT_HINGE = range(4)


@dataclass
class Conversion:
    """A converted model: SDF root and model elements, joint names by kind, and fidelity notes."""

    root: ET.Element
    model: ET.Element
    joints: list[str] = field(default_factory=list)  # actuated-capable joints (hinge/slide), MuJoCo order
    notes: list[str] = field(default_factory=list)


def _rpy(quat_wxyz: Iterable[float]) -> tuple[float, float, float]:
    w, x, y, z = quat_wxyz
    with warnings.catch_warnings():  # at ±90° pitch scipy warns and picks yaw = 0: the rotation is still exact
        warnings.simplefilter("ignore", UserWarning)
        return tuple(Rotation.from_quat([x, y, z, w]).as_euler("xyz"))  # type: ignore[return-value]


def _name(m: Any, kind: Any, i: int, prefix: str) -> str:
    import mujoco

    return mujoco.mj_id2name(m, kind, i) or f"{prefix}_{i}"


def _geoms(m: Any, link: ET.Element, body: int, notes: list[str], retro: float | None) -> None:
    import mujoco

    for g in np.flatnonzero(m.geom_bodyid == body):
        kind = int(m.geom_type[g])
        size = m.geom_size[g]
        name = _name(m, mujoco.mjtObj.mjOBJ_GEOM, int(g), f"geom{g}")
        shapes: dict[int, tuple[str, dict[str, Any]]] = {
            GEOM_BOX: ("box", {"size": list(2 * size)}),
            GEOM_SPHERE: ("sphere", {"radius": size[0]}),
            GEOM_CAPSULE: ("capsule", {"radius": size[0], "length": 2 * size[1]}),
            GEOM_CYLINDER: ("cylinder", {"radius": size[0], "length": 2 * size[1]}),
            GEOM_ELLIPSOID: ("ellipsoid", {"radii": list(size)}),
            GEOM_PLANE: ("plane", {"normal": [0, 0, 1], "size": [2 * size[0] or 100.0, 2 * size[1] or 100.0]}),
        }
        if kind not in shapes:
            notes.append(f"geom {name} (MuJoCo type {kind}) has no SDF primitive and was left out")
            continue
        shape, dims = shapes[kind]
        xyz, rpy = m.geom_pos[g], _rpy(m.geom_quat[g])
        matid = int(m.geom_matid[g])
        rgba = m.mat_rgba[matid] if matid >= 0 else m.geom_rgba[g]
        visual_and_collision(link, name, shape, dims, xyz=xyz, rpy=rpy, rgba=rgba, laser_retro=retro,
                             collision=bool(m.geom_contype[g] or m.geom_conaffinity[g]),
                             mu=float(m.geom_friction[g][0]))


def _subtree(m: Any, root: int) -> list[int]:
    return [b for b in range(1, m.nbody) if b == root or _is_ancestor(m, root, b)]


def _is_ancestor(m: Any, a: int, b: int) -> bool:
    while b != 0:
        b = int(m.body_parentid[b])
        if b == a:
            return True
    return False


def robot_model(m: Any, name: str, root_body: str, *, fix_to_world: bool = True,
                retro: float | None = None, qpos: Any = None) -> Conversion:
    """The SDF model of the body subtree under ``root_body`` (link poses in the MuJoCo world frame).

    ``qpos`` (default ``qpos0``) is the configuration the links are posed in. Gazebo counts joint angles
    from the pose a model is loaded in (it ignores initial joint positions), so a model written at a start
    configuration ``q0`` starts there with every joint reading 0: its angles are ``q - q0`` and its joint
    limits are shifted by ``-q0`` here (whoever reads its joint states adds ``q0`` back).
    """
    import mujoco

    root_id = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, root_body)
    if root_id <= 0:
        raise TwinError(f"MuJoCo model has no body {root_body!r}")
    d = mujoco.MjData(m)
    d.qpos[:] = m.qpos0 if qpos is None else np.asarray(qpos, dtype=np.float64)
    mujoco.mj_kinematics(m, d)
    sdf, model = new_model(name)
    conv = Conversion(sdf, model)
    names = {b: _name(m, mujoco.mjtObj.mjOBJ_BODY, b, "body") for b in range(m.nbody)}
    for b in _subtree(m, root_id):
        link = el(model, "link", name=names[b])
        el(link, "pose", pose(d.xpos[b], _rpy(d.xquat[b])))
        if m.body_gravcomp[b] >= 1.0:
            el(link, "gravity", False)
        if m.body_mass[b] > 0:
            inertial(link, float(m.body_mass[b]), [float(v) for v in m.body_inertia[b]], xyz=m.body_ipos[b],
                     rpy=_rpy(m.body_iquat[b]))
        _geoms(m, link, b, conv.notes, retro)
        parent = "world" if b == root_id else names[int(m.body_parentid[b])]
        if b == root_id and not fix_to_world:
            continue
        jnts = [j for j in range(m.njnt) if m.jnt_bodyid[j] == b]
        if not jnts:
            joint = el(model, "joint", name=f"{names[b]}_fixed" if b != root_id else "world_fixed", type="fixed")
            fields(joint, {"parent": parent, "child": names[b]})
            continue
        if len(jnts) > 1 or int(m.jnt_type[jnts[0]]) not in (JNT_HINGE, JNT_SLIDE):
            raise TwinError(f"body {names[b]}: only one hinge or slide joint per body can be converted")
        j = jnts[0]
        jname = _name(m, mujoco.mjtObj.mjOBJ_JOINT, j, "joint")
        kind = "revolute" if int(m.jnt_type[j]) == JNT_HINGE else "prismatic"
        joint = el(model, "joint", name=jname, type=kind)
        el(joint, "pose", pose(m.jnt_pos[j]))
        fields(joint, {"parent": parent, "child": names[b]})
        axis = el(joint, "axis")
        el(axis, "xyz", list(m.jnt_axis[j]))
        dof = int(m.jnt_dofadr[j])
        dynamics = el(axis, "dynamics")
        el(dynamics, "damping", float(m.dof_damping[dof]))
        q0 = float(d.qpos[int(m.jnt_qposadr[j])])  # the written configuration (qpos0 = a joint's ref, not 0)
        if m.dof_frictionloss[dof] > 0:
            el(dynamics, "friction", float(m.dof_frictionloss[dof]))
        if m.jnt_stiffness[j] > 0:  # a joint spring toward springref, in Gazebo's joint coordinates
            fields(dynamics, {"spring_reference": float(m.qpos_spring[int(m.jnt_qposadr[j])]) - q0,
                              "spring_stiffness": float(m.jnt_stiffness[j])})
        if m.jnt_limited[j]:
            fields(el(axis, "limit"), {"lower": float(m.jnt_range[j][0]) - q0, "upper": float(m.jnt_range[j][1]) - q0})
        if m.dof_armature[dof] > 0:
            conv.notes.append(f"joint {jname}: armature {m.dof_armature[dof]:g} (rotor inertia) is MuJoCo-only")
        conv.joints.append(jname)
    return conv


def static_model(m: Any, name: str, retro: float | None = None) -> tuple[ET.Element, int]:
    """A static SDF model holding the world body's geoms; returns (sdf root, number of geoms)."""
    sdf, model = new_model(name, static=True)
    link = el(model, "link", name="fixtures")
    notes: list[str] = []
    _geoms(m, link, 0, notes, retro)
    return sdf, int(np.count_nonzero(m.geom_bodyid == 0))


def position_servo_gains(m: Any, joint: str) -> tuple[float, float, float]:
    """(kp, kd, max force) of the MuJoCo position actuator driving ``joint`` (Gazebo PID equivalents)."""
    import mujoco

    j = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, joint)
    for a in range(m.nu):
        if int(m.actuator_trnid[a][0]) == j:
            kp = float(m.actuator_gainprm[a][0])
            kd = float(-m.actuator_biasprm[a][2])
            fmax = float(m.actuator_forcerange[a][1]) if m.actuator_forcelimited[a] else math.inf
            return kp, kd, fmax
    raise TwinError(f"no actuator drives joint {joint!r}")
