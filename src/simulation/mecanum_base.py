"""Hand-guided mecanum base in MuJoCo (``sim/mujoco/mecanum_base.xml``) with a scripted operator.

The operator pushes the handle with a force/torque profile (base frame); the plugin publishes it on
the handle F/T topic (with noise) and applies it to the base, publishes the payload mass, and turns
the wheel-speed commands into the base twist through the mecanum rolling constraint
(:class:`~sanqin.control.mecanum.MecanumKinematics`), realised by velocity servos with drive force limits.
Metrics: peak speed and acceleration, distance covered while pushed, direction error once a push has
settled (the admittance lags a change of push on purpose), wheel speeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

from sanqin.common.types import Wrench, WrenchStamped
from sanqin.control.mecanum import MecanumConfig, MecanumKinematics
from sanqin.msgs.control import float64_array_from_msg
from sanqin.msgs.geometry import wrench_stamped_to_msg
from sanqin.runtime.config import nested, param, require
from sanqin.runtime.paths import resolve_data_path


@dataclass(frozen=True)
class MecanumBaseConfig:
    """World, operator script and topics."""

    model_path: str = param("sim/mujoco/mecanum_base.xml", "MJCF of the base (share-relative)")
    mecanum: MecanumConfig = nested(MecanumConfig)
    payload_kg: float = param(0.0, "payload on the base (kg)", min=0.0)
    push_profile: tuple[float, ...] = param(
        (0.5, 4.0, 60.0, 0.0, 0.0), "operator pushes: t_start t_end fx fy tz (s, N, N·m, base frame) per row"
    )
    force_noise_n: float = param(0.5, "handle sensor noise std (N)", min=0.0)
    dropout_start_s: float = param(-1.0, "handle sensor stops publishing from this time (s; < 0 = never)")
    dropout_s: float = param(0.0, "length of the dropout (s)", min=0.0)
    settle_s: float = param(2.0, "time after a push starts before its direction is judged (s)", min=0.0)
    handle_topic: str = param("/handle/wrench", "published handle WrenchStamped")
    payload_topic: str = param("/payload_kg", "published payload mass (std_msgs/Float64)")
    wheel_topic: str = param("/wheel_velocity_controller/commands", "wheel speed commands in")

    def __post_init__(self) -> None:
        require(len(self.push_profile) % 5 == 0, "push_profile needs rows of 5 values: t_start t_end fx fy tz")


class MecanumBaseSim:
    """Simulator plugin (see :mod:`sanqin.runtime.scenario`)."""

    Config = MecanumBaseConfig

    def __init__(self, config: MecanumBaseConfig, ctx: Any) -> None:
        self.config, self.ctx = config, ctx
        self.m = mujoco.MjModel.from_xml_path(str(resolve_data_path(config.model_path)))
        payload = mujoco.mj_name2id(self.m, mujoco.mjtObj.mjOBJ_BODY, "payload")
        self.m.body_mass[payload] = max(config.payload_kg, 1e-3)
        self.d = mujoco.MjData(self.m)
        self.kin = MecanumKinematics(config.mecanum)
        self.base = mujoco.mj_name2id(self.m, mujoco.mjtObj.mjOBJ_BODY, "base")
        self.pushes = np.asarray(config.push_profile, float).reshape(-1, 5)
        self.wheels_cmd = np.zeros(4)
        ctx.subscribe(config.wheel_topic, "std_msgs/msg/Float64MultiArray", self._on_wheels)
        self.prev_v = np.zeros(2)
        self.samples: list[tuple[float, ...]] = []  # t x y vx vy |a| |push| yaw
        self.max_wheel = 0.0
        self.commands = 0
        self._last_payload_pub = -math.inf

    def _on_wheels(self, msg: Any) -> None:
        w = float64_array_from_msg(msg)
        if w.size == 4 and np.all(np.isfinite(w)):
            self.wheels_cmd = w
            self.commands += 1

    def push(self, t_s: float) -> np.ndarray:
        """Operator force/torque (fx, fy, tz) at time ``t_s`` (base frame)."""
        for t0, t1, fx, fy, tz in self.pushes:
            if t0 <= t_s < t1:
                return np.array([fx, fy, tz])
        return np.zeros(3)

    def step(self, t_s: float, dt_s: float) -> None:
        """Drive the base from the wheel commands, apply the push, publish the sensors."""
        yaw = float(self.d.qpos[2])
        c, s = math.cos(yaw), math.sin(yaw)
        vx, vy, wz = self.kin.body_twist(self.wheels_cmd)
        self.d.ctrl[:3] = (c * vx - s * vy, s * vx + c * vy, wz)
        self.d.ctrl[3:7] = self.wheels_cmd
        f = self.push(t_s)
        self.d.xfrc_applied[self.base, :2] = (c * f[0] - s * f[1], s * f[0] + c * f[1])
        self.d.xfrc_applied[self.base, 5] = f[2]
        n = max(1, round(dt_s / self.m.opt.timestep))
        for _ in range(n):
            mujoco.mj_step(self.m, self.d)
        cfg = self.config
        dropped = cfg.dropout_start_s >= 0 and cfg.dropout_start_s <= t_s < cfg.dropout_start_s + cfg.dropout_s
        if not dropped:
            noise = self.ctx.rng.normal(0.0, cfg.force_noise_n, 2)
            w = WrenchStamped(stamp_s=t_s, frame_id="base_link",
                              wrench=Wrench(force_n=[f[0] + noise[0], f[1] + noise[1], 0.0], torque_nm=[0, 0, f[2]]))
            self.ctx.publish(cfg.handle_topic, wrench_stamped_to_msg(w, self.ctx.factory))
        if t_s - self._last_payload_pub >= 1.0:
            self._last_payload_pub = t_s
            self.ctx.publish(cfg.payload_topic, self.ctx.factory.new("std_msgs/msg/Float64", data=cfg.payload_kg))
        v = self.d.qvel[:2].copy()
        acc = float(np.linalg.norm(v - self.prev_v) / dt_s)
        self.prev_v = v
        self.max_wheel = max(self.max_wheel, float(np.max(np.abs(self.wheels_cmd))))
        self.samples.append((t_s, float(self.d.qpos[0]), float(self.d.qpos[1]), float(v[0]), float(v[1]), acc,
                             float(np.linalg.norm(f[:2])), float(self.d.qpos[2])))

    def metrics(self) -> dict[str, float]:
        """Peak speed/acceleration, distance while pushed, direction error, wheel speeds."""
        s = np.asarray(self.samples)
        if s.size == 0:
            return {}
        speed = np.hypot(s[:, 3], s[:, 4])
        pushed = s[:, 6] > 0
        settled = np.array([any(t0 + self.config.settle_s <= t < t1 for t0, t1, *_ in self.pushes) for t in s[:, 0]])
        moving = pushed & settled & (speed > 0.02)
        dir_err = 0.0
        if moving.any():
            ang_v = np.arctan2(s[moving, 4], s[moving, 3])
            forces = np.array([self.push(t)[:2] for t in s[moving, 0]])
            # compare in the world frame: rotate the base-frame push by the base yaw at each sample
            ang_f = np.arctan2(forces[:, 1], forces[:, 0]) + s[moving, 7]
            dir_err = float(np.degrees(np.max(np.abs(np.angle(np.exp(1j * (ang_v - ang_f)))))))
        first = self.pushes[0] if len(self.pushes) else np.zeros(5)
        in_first = (s[:, 0] >= first[0]) & (s[:, 0] < first[1])
        dist = float(np.hypot(*(s[in_first][-1, 1:3] - s[in_first][0, 1:3]))) if in_first.sum() > 1 else 0.0
        return {
            "max_speed_m_s": float(speed.max()),
            "max_accel_m_s2": float(s[2:, 5].max()) if len(s) > 2 else 0.0,
            "first_push_distance_m": dist,
            "direction_error_deg": dir_err,
            "final_speed_m_s": float(speed[-1]),
            "max_wheel_speed_rad_s": self.max_wheel,
            "commands": float(self.commands),
        }

    def plots(self, out_dir: Path) -> list[Path]:
        """Speed and push force over time, and the path of the base."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        s = np.asarray(self.samples)
        if s.size == 0:
            return []
        fig, ax = plt.subplots(1, 2, figsize=(10, 4))
        ax[0].plot(s[:, 0], np.hypot(s[:, 3], s[:, 4]), label="speed (m/s)")
        ax[0].plot(s[:, 0], s[:, 6] / 100.0, label="push (N/100)")
        ax[0].set_xlabel("t (s)")
        ax[0].legend()
        ax[1].plot(s[:, 1], s[:, 2])
        ax[1].set_aspect("equal")
        ax[1].set_xlabel("x (m)")
        ax[1].set_ylabel("y (m)")
        path = Path(out_dir) / "mecanum_base.png"
        fig.savefig(path, dpi=80)
        plt.close(fig)
        return [path]
