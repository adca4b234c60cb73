"""Robot kinematics and dynamics from a MuJoCo model: site pose, Jacobian, mass matrix, bias forces.

Nothing here is hand-derived: poses come from ``mj_kinematics``, the 6×n site Jacobian from
``mj_jacSite`` (rows: linear then angular, world frame), the joint-space mass matrix from ``mj_crb`` +
``mj_fullM`` and Coriolis + gravity forces from ``mj_rne`` (the same quantity as ``qfrc_bias``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np

from sanqin.control.errors import RobotModelError
from sanqin.runtime.config import param, require

#: The UR5e MJCF shipped beside the repository (read-only shared data), relative to the share folder.
DEFAULT_UR5E_PATH = "../shared/data/models/ur5e/ur5e.xml"


@dataclass(frozen=True)
class RobotModelConfig:
    """Where the robot model lives and which site/joints are controlled."""

    model_path: str = param(DEFAULT_UR5E_PATH, "MJCF file; a relative path resolves against the package share folder")
    site: str = param("attachment_site", "end-effector (tool flange) site name")
    joints: tuple[str, ...] = param((), "controlled joints in command order; empty = every hinge/slide joint")
    tool_offset_m: tuple[float, ...] = param((0.0, 0.0, 0.0), "tool centre point in the site frame (m)")
    armature: tuple[float, ...] = param(
        (), "reflected rotor inertia per joint (kg·m²) set on the model's joints; empty = keep the model's", min=0.0
    )

    def __post_init__(self) -> None:
        require(len(self.tool_offset_m) == 3, f"tool_offset_m needs 3 values, got {len(self.tool_offset_m)}")


def resolve_model_path(path: str | Path) -> Path:
    """The absolute path of an MJCF file; raise :class:`RobotModelError` (naming the path) if absent."""
    p = Path(path).expanduser()
    if not p.is_absolute():
        from sanqin.runtime.paths import share_dir

        p = (share_dir() / p).resolve()
    if not p.is_file():
        raise RobotModelError(f"robot model {str(path)!r} not found (looked at {p})")
    return p


def load_mjcf(path: str | Path) -> mujoco.MjModel:
    """Compile an MJCF file into an MjModel; errors name the file."""
    p = resolve_model_path(path)
    try:
        return mujoco.MjModel.from_xml_path(str(p))
    except ValueError as err:
        raise RobotModelError(f"cannot load robot model {p}: {err}") from err


class RobotModel:
    """Kinematics/dynamics queries for a set of joints and an end-effector site of a MuJoCo model.

    Call :meth:`update` with joint positions (and velocities) first; the queries then refer to that
    state. The wrapper owns its own ``MjData`` so it never disturbs a simulation's state.
    """

    def __init__(
        self, model: mujoco.MjModel, site: str, joints: tuple[str, ...] = (), tool_offset_m: tuple[float, ...] = ()
    ) -> None:
        self.model = model
        self.data = mujoco.MjData(model)
        self.site_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, site)
        if self.site_id < 0:
            raise RobotModelError(f"model has no site {site!r}")
        movable = (int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE))
        if not joints:
            joints = tuple(
                mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, j)
                for j in range(model.njnt)
                if int(model.jnt_type[j]) in movable
            )
        ids = []
        for name in joints:
            j = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, name)
            if j < 0:
                raise RobotModelError(f"model has no joint {name!r}")
            if int(model.jnt_type[j]) not in movable:
                raise RobotModelError(f"joint {name!r} is not a hinge or slide joint")
            ids.append(j)
        self.joint_names = tuple(joints)
        self.n = len(ids)
        self.qadr = np.array([model.jnt_qposadr[j] for j in ids], dtype=int)
        self.vadr = np.array([model.jnt_dofadr[j] for j in ids], dtype=int)
        limited = np.array([bool(model.jnt_limited[j]) for j in ids])
        rng = np.array([model.jnt_range[j] for j in ids], float).reshape(-1, 2)
        self.lower = np.where(limited, rng[:, 0], -np.inf)
        self.upper = np.where(limited, rng[:, 1], np.inf)
        self._jacp = np.zeros((3, model.nv))
        self._jacr = np.zeros((3, model.nv))
        self._M = np.zeros((model.nv, model.nv))
        self._bias = np.zeros(model.nv)
        self._dyn_valid = False
        self.tool = np.asarray(tool_offset_m, float) if len(tool_offset_m) else np.zeros(3)
        self._has_tool = bool(np.any(self.tool))
        self.site_body = int(model.site_bodyid[self.site_id])

    @classmethod
    def from_config(cls, config: RobotModelConfig) -> RobotModel:
        """Load the model file named by the config."""
        model = load_mjcf(config.model_path)
        robot = cls(model, config.site, config.joints, config.tool_offset_m)
        if config.armature:
            arm = np.asarray(config.armature, float)
            if arm.size not in (1, robot.n):
                raise RobotModelError(f"armature needs 1 or {robot.n} values, got {arm.size}")
            model.dof_armature[robot.vadr] = arm  # the drives' reflected inertia, absent from kinematic models
        return robot

    def update(self, q: np.ndarray, qd: np.ndarray | None = None) -> None:
        """Set the joint state and recompute kinematics (dynamics are computed lazily)."""
        d = self.data
        d.qpos[self.qadr] = q
        d.qvel[self.vadr] = 0.0 if qd is None else qd
        mujoco.mj_kinematics(self.model, d)
        mujoco.mj_comPos(self.model, d)
        self._dyn_valid = False

    def site_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """Tool centre point (site + tool offset) position (m) and site rotation matrix in the world frame."""
        R = self.data.site_xmat[self.site_id].reshape(3, 3).copy()
        p = self.data.site_xpos[self.site_id].copy()
        if self._has_tool:
            p += R @ self.tool
        return p, R

    def jacobian(self) -> np.ndarray:
        """6×n Jacobian of the tool centre point in the world frame: rows 0–2 linear, 3–5 angular."""
        if self._has_tool:
            point = self.site_pose()[0]
            mujoco.mj_jac(self.model, self.data, self._jacp, self._jacr, point, self.site_body)
        else:
            mujoco.mj_jacSite(self.model, self.data, self._jacp, self._jacr, self.site_id)
        return np.vstack((self._jacp[:, self.vadr], self._jacr[:, self.vadr]))

    def _dynamics(self) -> None:
        if not self._dyn_valid:
            mujoco.mj_crb(self.model, self.data)
            mujoco.mj_fullM(self.model, self.data, self._M)
            mujoco.mj_comVel(self.model, self.data)
            mujoco.mj_rne(self.model, self.data, 0, self._bias)
            self._dyn_valid = True

    def mass_matrix(self) -> np.ndarray:
        """n×n joint-space inertia matrix (kg·m² / kg)."""
        self._dynamics()
        return self._M[np.ix_(self.vadr, self.vadr)]

    def bias_forces(self) -> np.ndarray:
        """Coriolis, centrifugal and gravity generalized forces at the current state (N·m / N)."""
        self._dynamics()
        return self._bias[self.vadr].copy()

    def task_inertia(self) -> np.ndarray:
        """6×6 operational-space inertia ``Λ = (J M⁻¹ Jᵀ)⁻¹`` of the tool point (regularised near singularities)."""
        J = self.jacobian()
        A = J @ np.linalg.solve(self.mass_matrix(), J.T)
        return np.linalg.inv(A + 1e-9 * np.eye(6))

    def reference_configuration(self) -> np.ndarray:
        """The model's first keyframe (e.g. the UR5e's ``home``) or its ``qpos0``, for the controlled joints."""
        if self.model.nkey > 0:
            return self.model.key_qpos[0][self.qadr].copy()
        return self.model.qpos0[self.qadr].copy()

    def gravity(self, q: np.ndarray) -> np.ndarray:
        """Gravity generalized forces at ``q`` with zero velocity (updates the state)."""
        self.update(q, None)
        return self.bias_forces()


def orientation_error(R: np.ndarray, R_des: np.ndarray) -> np.ndarray:
    """Rotation vector (rad, world frame) taking ``R`` to ``R_des``; exact for any angle below π."""
    q = np.zeros(4)
    mujoco.mju_mat2Quat(q, (R_des @ R.T).reshape(-1))
    v = np.zeros(3)
    mujoco.mju_quat2Vel(v, q, 1.0)
    return v


def rotvec_to_matrix(rotvec: np.ndarray) -> np.ndarray:
    """Rotation matrix of a rotation vector (axis × angle, rad)."""
    angle = float(np.linalg.norm(rotvec))
    if angle < 1e-12:
        return np.eye(3)
    quat = np.zeros(4)
    mujoco.mju_axisAngle2Quat(quat, rotvec / angle, angle)
    R = np.zeros(9)
    mujoco.mju_quat2Mat(R, quat)
    return R.reshape(3, 3)
