"""Welding cell in MuJoCo: the UR5e with a torch on a 6-axis F/T sensor above a plate with a seam.

The MJCF is composed at run time (MjSpec): the shared UR5e (referenced by path, never copied) gets a
torch body on its flange with ``force``/``torque`` sensors at the mounting site, and the world gets a
steel plate whose real top surface sits ``surface_offset_m`` away from the nominal surface model the
controller is given (a ±5 mm surface-model error). The plugin publishes ``/joint_states`` and
``/wrench`` (wrench on the tool, sensor frame) and applies position commands; it reports the
contact-force RMS error and the seam-path (lateral) error while welding.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

from sanqin.control.robot_model import DEFAULT_UR5E_PATH
from sanqin.runtime.config import param, require
from sanqin.simulation.mujoco_arm import UR5E_JOINT_NAMES, ArmIO, add_ft_tool, ur5e_spec

TORCH_LENGTH_M = 0.15
TORCH_MASS_KG = 0.8


#: The arm's joints in command order (kept under this name for :mod:`sanqin.simulation.gazebo.welding`).
UR5E_JOINTS = UR5E_JOINT_NAMES


def build_welding_cell(model_path: str, surface_z_m: float, seam: np.ndarray, friction: float = 0.3) -> mujoco.MjModel:
    """The cell with a horizontal plate whose top is at ``surface_z_m`` (see :func:`build_welding_cell_along`)."""
    seam = np.asarray(seam, float)
    return build_welding_cell_along(model_path, seam, np.array([0.0, 0.0, 1.0]), surface_z_m - float(seam[0, 2]),
                                    friction)


def build_welding_cell_along(
    model_path: str, seam: np.ndarray, normal: np.ndarray, offset_m: float = 0.0, friction: float = 0.3
) -> mujoco.MjModel:
    """Compile the cell: UR5e + torch (F/T sensor site ``ft_sensor``, tip site ``torch_tip``) + plate.

    ``seam`` lies on the nominal surface with unit ``normal``; the real plate surface is ``offset_m`` along it.
    """
    spec = ur5e_spec(model_path)
    torch = add_ft_tool(spec, "torch")
    torch.add_geom(type=mujoco.mjtGeom.mjGEOM_CAPSULE, fromto=[0, 0, 0.02, 0, 0, TORCH_LENGTH_M - 0.02],
                   size=[0.015, 0, 0], mass=TORCH_MASS_KG, contype=0, conaffinity=0)
    torch.add_geom(name="torch_tip_geom", type=mujoco.mjtGeom.mjGEOM_SPHERE, pos=[0, 0, TORCH_LENGTH_M - 0.005],
                   size=[0.005, 0, 0], mass=0.0, friction=[friction, 0.005, 0.0001])
    torch.add_site(name="torch_tip", pos=[0, 0, TORCH_LENGTH_M])
    quat = np.zeros(4)
    mujoco.mju_quatZ2Vec(quat, normal)
    plate_pos = seam.mean(axis=0) + (offset_m - 0.01) * normal
    spec.worldbody.add_geom(name="plate", type=mujoco.mjtGeom.mjGEOM_BOX, pos=plate_pos, quat=quat,
                            size=[0.2, 0.2, 0.01], friction=[friction, 0.005, 0.0001], solref=[0.02, 1.0],
                            rgba=[0.5, 0.5, 0.55, 1])
    for i in range(len(seam) - 1):  # the seam, drawn (no collision)
        a, b = (seam[i : i + 2] + (offset_m + 0.0005) * normal)
        spec.worldbody.add_geom(type=mujoco.mjtGeom.mjGEOM_CAPSULE, fromto=[*a, *b], size=[0.001, 0, 0],
                                contype=0, conaffinity=0, rgba=[1, 0.3, 0, 1])
    spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC  # closer to Coulomb friction than the pyramid
    return spec.compile()


@dataclass(frozen=True)
class WeldingCellConfig:
    """Welding cell world and the metrics' reference values."""

    model_path: str = param(DEFAULT_UR5E_PATH, "UR5e MJCF (relative to the share folder)")
    waypoints_m: tuple[float, ...] = param((0.45, 0.05, 0.30, 0.52, 0.15, 0.30), "nominal seam, x y z per point (m)")
    normal: tuple[float, ...] = param((0.0, 0.0, 1.0), "nominal surface normal (world); the seam lies in that plane")
    surface_offset_m: float = param(0.0, "real surface minus nominal surface along the normal (m)",
                                    min=-0.05, max=0.05)
    target_force_n: float = param(15.0, "force the controller should hold (for the error metric)", min=0.0)
    contact_threshold_n: float = param(3.0, "force counted as contact (N)", min=0.0)
    settle_s: float = param(0.8, "time after first contact excluded from the force metric (s)", min=0.0)
    force_noise_n: float = param(0.3, "F/T sensor noise std (N)", min=0.0)
    friction: float = param(0.3, "tip–plate friction coefficient", min=0.0)
    physics_dt_s: float = param(0.002, "MuJoCo step (s)", min=1e-4)
    joint_states_topic: str = param("/joint_states", "published sensor_msgs/JointState")
    wrench_topic: str = param("/wrench", "published geometry_msgs/WrenchStamped (wrench on the tool)")
    forward_topic: str = param("/forward_position_controller/commands", "position commands in")
    trajectory_topic: str = param("/joint_trajectory_controller/joint_trajectory", "trajectory commands in")

    def __post_init__(self) -> None:
        require(len(self.waypoints_m) >= 6 and len(self.waypoints_m) % 3 == 0, "waypoints_m: x y z per point")
        require(len(self.normal) == 3 and float(np.linalg.norm(self.normal)) > 0, "normal: a non-zero 3-vector")
        pts = np.asarray(self.waypoints_m, float).reshape(-1, 3)
        n = np.asarray(self.normal, float) / np.linalg.norm(self.normal)
        require(float(np.abs((pts - pts[0]) @ n).max()) < 1e-6, "waypoints_m must lie in the plane of the normal")


class WeldingCellSim:
    """Simulator plugin (see :mod:`sanqin.runtime.scenario`)."""

    Config = WeldingCellConfig
    #: surface normal used by the seam metric (instances set it from the config; the class value serves
    #: measuring-only instances such as the Gazebo twin's scorer)
    n_hat = np.array([0.0, 0.0, 1.0])

    def __init__(self, config: WeldingCellConfig, ctx: Any) -> None:
        self.config = config
        self.ctx = ctx
        self.seam = np.asarray(config.waypoints_m, float).reshape(-1, 3)
        self.n_hat = np.asarray(config.normal, float) / np.linalg.norm(config.normal)
        self.m = build_welding_cell_along(config.model_path, self.seam, self.n_hat, config.surface_offset_m,
                                          config.friction)
        self.m.opt.timestep = config.physics_dt_s
        self.d = mujoco.MjData(self.m)
        mujoco.mj_resetDataKeyframe(self.m, self.d, 0)
        mujoco.mj_forward(self.m, self.d)
        self.io = ArmIO(ctx, self.m, self.d, UR5E_JOINT_NAMES)
        self.io.subscribe_commands(config.forward_topic, config.trajectory_topic)
        self.tip = mujoco.mj_name2id(self.m, mujoco.mjtObj.mjOBJ_SITE, "torch_tip")
        self.tip_geom = mujoco.mj_name2id(self.m, mujoco.mjtObj.mjOBJ_GEOM, "torch_tip_geom")
        self.seg_len = np.linalg.norm(np.diff(self.seam, axis=0), axis=1)
        self.length_m = float(self.seg_len.sum())
        self.first_contact_s: float | None = None
        self.force_err: list[float] = []
        self.lateral_err: list[float] = []
        self.trace: list[tuple[float, float, float, float]] = []
        self.max_force_n = 0.0

    def _contact_force_n(self) -> float:
        """Normal force between the torch tip and the plate (N)."""
        total = 0.0
        f6 = np.zeros(6)
        for i in range(self.d.ncon):
            c = self.d.contact[i]
            if self.tip_geom in (c.geom1, c.geom2):
                mujoco.mj_contactForce(self.m, self.d, i, f6)
                total += f6[0]
        return total

    def _seam_projection(self, p: np.ndarray) -> tuple[float, float]:
        """(arc length along the seam, distance to the seam within the surface plane) of a point."""
        best = (0.0, np.inf)
        s0 = 0.0
        for i, L in enumerate(self.seg_len):
            a, b = self.seam[i], self.seam[i + 1]
            u = (b - a) / L
            d = p - a
            d = d - (d @ self.n_hat) * self.n_hat  # the height above the surface is not a seam error
            s = float(np.clip(d @ u, 0.0, L))
            dist = float(np.linalg.norm(d - u * s))
            if dist < best[1]:
                best = (s0 + s, dist)
            s0 += L
        return best

    def step(self, t_s: float, dt_s: float) -> None:
        """Advance physics to ``t_s`` and publish the sensors."""
        n = max(1, round(dt_s / self.m.opt.timestep))
        for _ in range(n):
            mujoco.mj_step(self.m, self.d)
        self.io.publish_joint_states(self.config.joint_states_topic, t_s)
        self.io.publish_ft(self.config.wrench_topic, t_s, self.config.force_noise_n)
        self._measure(t_s)

    def _measure(self, t_s: float) -> None:
        f = self._contact_force_n()
        self.max_force_n = max(self.max_force_n, f)
        p = self.d.site_xpos[self.tip]
        s, lateral = self._seam_projection(p)
        self.trace.append((t_s, f, s, lateral))
        if f > self.config.contact_threshold_n and self.first_contact_s is None:
            self.first_contact_s = t_s
        if self.first_contact_s is None or t_s - self.first_contact_s < self.config.settle_s:
            return
        if s >= self.length_m - 1e-3:
            return  # past the seam end (retracting)
        self.force_err.append(f - self.config.target_force_n)
        self.lateral_err.append(lateral)

    def metrics(self) -> dict[str, float]:
        """Force RMS error, seam-path error and coverage of the weld."""
        fe = np.asarray(self.force_err)
        le = np.asarray(self.lateral_err)
        s_max = max((s for _, f, s, _ in self.trace if f > self.config.contact_threshold_n), default=0.0)
        in_contact = fe + self.config.target_force_n > self.config.contact_threshold_n  # over the weld samples
        return {
            "force_rms_error_n": float(np.sqrt(np.mean(fe**2))) if fe.size else float("nan"),
            "force_mean_n": float(np.mean(fe) + self.config.target_force_n) if fe.size else float("nan"),
            "force_max_n": self.max_force_n,
            "seam_rms_error_m": float(np.sqrt(np.mean(le**2))) if le.size else float("nan"),
            "seam_max_error_m": float(le.max()) if le.size else float("nan"),
            "seam_coverage": s_max / self.length_m,
            "contact_fraction": float(np.mean(in_contact)) if fe.size else 0.0,
            "weld_samples": float(fe.size),
            "commands_received": float(self.io.commands_received),
            "commands_rejected": float(self.io.commands_rejected),
        }

    def plots(self, out_dir: Path) -> list[Path]:
        """Contact force and lateral seam error over time."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        tr = np.asarray(self.trace)
        if tr.size == 0:
            return []
        fig, ax = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
        ax[0].plot(tr[:, 0], tr[:, 1])
        ax[0].axhline(self.config.target_force_n, ls="--", c="k")
        ax[0].set_ylabel("contact force (N)")
        ax[1].plot(tr[:, 0], tr[:, 3] * 1e3)
        ax[1].set_ylabel("seam lateral error (mm)")
        ax[1].set_xlabel("t (s)")
        path = Path(out_dir) / "welding_cell.png"
        fig.savefig(path, dpi=80)
        plt.close(fig)
        return [path]
