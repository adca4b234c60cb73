"""Cable-tunnel rail robot in MuJoCo (``sim/mujoco/cable_tunnel_rail.xml``): carriage + probe over a cable.

Publishes ``/joint_states`` (carriage, probe) and the probe's force sensor on ``/probe/wrench`` (wrench on
the pad in the pad frame, z along the extension); applies the carriage and probe speed commands
(forward velocity controllers). Optional rigid cable-joint sleeves (stiff contact, for the overshoot
abort) and an encoder dropout window (for the watchdog). Metrics: contact forces, carriage motion while
the probe is extended (must be none), peak speed/acceleration.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

from sanqin.common.types import JointStates, Wrench, WrenchStamped
from sanqin.msgs.control import float64_array_from_msg
from sanqin.msgs.geometry import wrench_stamped_to_msg
from sanqin.msgs.sensors import joint_state_to_msg
from sanqin.runtime.config import param
from sanqin.runtime.paths import resolve_data_path


@dataclass(frozen=True)
class CableTunnelRailConfig:
    """World options, faults and topics."""

    model_path: str = param("sim/mujoco/cable_tunnel_rail.xml", "MJCF of the tunnel robot (share-relative)")
    rigid_sleeves_m: tuple[float, ...] = param((), "x positions of rigid cable-joint sleeves (m)")
    sleeve_height_m: float = param(0.03, "how far a sleeve stands above the cable surface (m)", min=0.0)
    kick_m: float = param(0.0, "a sleeve jumps up by this much while the pad presses on it (m; 0 = never)", min=0.0)
    kick_after_s: float = param(0.5, "time in contact with a sleeve before the jump (s)", min=0.0)
    kick_duration_s: float = param(0.05, "duration of the jump (s)", min=1e-3)
    force_noise_n: float = param(0.1, "force sensor noise std (N)", min=0.0)
    dropout_start_s: float = param(-1.0, "joint states stop from this time (s; < 0 = never)")
    dropout_s: float = param(0.0, "length of the joint-state dropout (s)", min=0.0)
    extended_m: float = param(0.02, "probe extension that counts as 'extended' (m)", min=0.0)
    joint_states_topic: str = param("/joint_states", "published sensor_msgs/JointState")
    wrench_topic: str = param("/probe/wrench", "published probe WrenchStamped")
    carriage_topic: str = param("/carriage_velocity_controller/commands", "carriage speed commands in")
    probe_topic: str = param("/probe_velocity_controller/commands", "probe speed commands in")


class CableTunnelRailSim:
    """Simulator plugin (see :mod:`sanqin.runtime.scenario`)."""

    Config = CableTunnelRailConfig

    def __init__(self, config: CableTunnelRailConfig, ctx: Any) -> None:
        self.config, self.ctx = config, ctx
        spec = mujoco.MjSpec.from_file(str(resolve_data_path(config.model_path)))
        for i, x in enumerate(config.rigid_sleeves_m):  # mocap: the cable may jerk (e.g. under a fault current)
            top = 1.96 + config.sleeve_height_m
            body = spec.worldbody.add_body(name=f"sleeve_{i}", pos=[x, 0, top - 0.05], mocap=True)
            body.add_geom(name=f"sleeve_{i}", type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.08, 0.06, 0.05],
                          solref=[0.004, 1.0], rgba=[0.7, 0.2, 0.2, 1])
        self.m = spec.compile()
        self.sleeve_geoms = {mujoco.mj_name2id(self.m, mujoco.mjtObj.mjOBJ_GEOM, f"sleeve_{i}")
                             for i in range(len(config.rigid_sleeves_m))}
        self.sleeve_contact_s = 0.0
        self.kick_t0: float | None = None
        self.d = mujoco.MjData(self.m)
        mujoco.mj_forward(self.m, self.d)
        self.pad = mujoco.mj_name2id(self.m, mujoco.mjtObj.mjOBJ_GEOM, "probe_pad")
        self.cmd = np.zeros(2)
        self.commands = 0
        ctx.subscribe(config.carriage_topic, "std_msgs/msg/Float64MultiArray", lambda m: self._on_cmd(0, m))
        ctx.subscribe(config.probe_topic, "std_msgs/msg/Float64MultiArray", lambda m: self._on_cmd(1, m))
        self.max_force = 0.0
        self.max_speed = 0.0
        self.max_speed_extended = 0.0
        self.max_accel = 0.0
        self._prev_v = 0.0
        self.contact_samples: list[float] = []
        self.last_force = 0.0
        self.trace: list[tuple[float, float, float, float]] = []  # t, carriage x, probe x, contact force

    def _on_cmd(self, i: int, msg: Any) -> None:
        v = float64_array_from_msg(msg)
        if v.size == 1 and np.isfinite(v[0]):
            self.cmd[i] = v[0]
            self.commands += 1

    def _pad_force(self) -> tuple[float, bool]:
        """Normal force on the pad (N) and whether it touches a sleeve."""
        total = 0.0
        on_sleeve = False
        f6 = np.zeros(6)
        for i in range(self.d.ncon):
            c = self.d.contact[i]
            if self.pad in (c.geom1, c.geom2):
                mujoco.mj_contactForce(self.m, self.d, i, f6)
                total += f6[0]
                on_sleeve |= bool({c.geom1, c.geom2} & self.sleeve_geoms)
        return total, on_sleeve

    def _kick(self, t_s: float, dt_s: float, on_sleeve: bool, f: float) -> None:
        cfg = self.config
        if cfg.kick_m <= 0 or not self.sleeve_geoms:
            return
        if self.kick_t0 is None:
            self.sleeve_contact_s = self.sleeve_contact_s + dt_s if on_sleeve and f > 2.0 else 0.0
            if self.sleeve_contact_s >= cfg.kick_after_s:
                self.kick_t0 = t_s
                self._sleeve_z0 = self.d.mocap_pos[:, 2].copy()
            return
        frac = min(1.0, (t_s - self.kick_t0) / cfg.kick_duration_s)
        self.d.mocap_pos[:, 2] = self._sleeve_z0 + frac * cfg.kick_m

    def step(self, t_s: float, dt_s: float) -> None:
        """Apply the commands, advance physics, publish joint states and the probe wrench."""
        self.d.ctrl[:] = self.cmd
        for _ in range(max(1, round(dt_s / self.m.opt.timestep))):
            mujoco.mj_step(self.m, self.d)
        cfg = self.config
        dropped = cfg.dropout_start_s >= 0 and cfg.dropout_start_s <= t_s < cfg.dropout_start_s + cfg.dropout_s
        if not dropped:
            js = JointStates(stamp_s=t_s, names=("carriage", "probe"), position=self.d.qpos[:2].copy(),
                             velocity=self.d.qvel[:2].copy(), effort=np.zeros(0))
            self.ctx.publish(cfg.joint_states_topic, joint_state_to_msg(js, self.ctx.factory))
        force = -self.d.sensordata[0:3] + self.ctx.rng.normal(0.0, cfg.force_noise_n, 3)
        torque = -self.d.sensordata[3:6]
        w = WrenchStamped(stamp_s=t_s, frame_id="probe_pad", wrench=Wrench(force_n=force, torque_nm=torque))
        self.ctx.publish(cfg.wrench_topic, wrench_stamped_to_msg(w, self.ctx.factory))
        f, on_sleeve = self._pad_force()
        self.last_force = f
        self.trace.append((t_s, float(self.d.qpos[0]), float(self.d.qpos[1]), f))
        self._kick(t_s, dt_s, on_sleeve, f)
        self.max_force = max(self.max_force, f)
        if f > 1.0:
            self.contact_samples.append(f)
        v = abs(float(self.d.qvel[0]))
        self.max_speed = max(self.max_speed, v)
        if self.d.qpos[1] > cfg.extended_m:
            self.max_speed_extended = max(self.max_speed_extended, v)
        self.max_accel = max(self.max_accel, abs(float(self.d.qvel[0]) - self._prev_v) / dt_s)
        self._prev_v = float(self.d.qvel[0])

    def metrics(self) -> dict[str, float]:
        """Contact forces and carriage motion."""
        cs = np.asarray(self.contact_samples)
        return {
            "carriage_x_m": float(self.d.qpos[0]),
            "probe_x_m": float(self.d.qpos[1]),
            "max_contact_force_n": self.max_force,
            "final_contact_force_n": self.last_force,
            "median_contact_force_n": float(np.median(cs)) if cs.size else 0.0,
            "max_speed_m_s": self.max_speed,
            "max_speed_probe_extended_m_s": self.max_speed_extended,
            "max_accel_m_s2": self.max_accel,
            "commands": float(self.commands),
        }

    def plots(self, out_dir: Path) -> list[Path]:
        """Carriage position, probe extension and contact force over time."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        tr = np.asarray(self.trace)
        if tr.size == 0:
            return []
        fig, ax = plt.subplots(3, 1, figsize=(9, 6), sharex=True)
        for a, col, label in zip(ax, (1, 2, 3), ("carriage x (m)", "probe extension (m)", "contact force (N)")):
            a.plot(tr[:, 0], tr[:, col])
            a.set_ylabel(label)
        ax[-1].set_xlabel("t (s)")
        path = Path(out_dir) / "cable_tunnel_rail.png"
        fig.savefig(path, dpi=80)
        plt.close(fig)
        return [path]
