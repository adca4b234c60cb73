"""Robot models for the NMPC as CasADi SX expressions (continuous-time dynamics, bounds, brake law).

Every model is ``xdot = f(x, u)`` in SI units. Planar models carry their position at state indices
``pos_idx`` (ENU x, y in the MPC frame, usually ``odom``) so obstacle and corridor constraints apply to them.

* :func:`differential_drive` — x, y (m), θ (rad); inputs v (m/s), ω (rad/s). Tunnel patrol robot, AGV.
* :func:`mecanum` — x, y, θ plus body velocities vx, vy (m/s), ω (rad/s); inputs body accelerations.
  Acceleration limits follow from motor force/torque and the total mass including the payload.
* :func:`rail` — arc length s (m) and speed v (m/s) along a rail; input acceleration (m/s²).
* :func:`multirotor` — position (m) and velocity (m/s) in ENU; input acceleration setpoint (m/s²)
  with linear drag; the flight controller tracks it (offboard setpoints).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import casadi as ca
import numpy as np

from sanqin.planning.errors import ModelError

GRAVITY_M_S2 = 9.80665


@dataclass(frozen=True)
class Model:
    """A control model: names, dynamics ``f(x, u) -> xdot``, box bounds, input rate limits and a brake law.

    ``du_max`` bounds |u_k - u_{k-1}| / dt per input (inf = unlimited). ``brake(x, u_prev, dt)`` gives
    a safe command that slows the robot within the limits (used when no plan is available).
    ``heading_idx`` names an angle state whose tracking error is wrapped.
    """

    name: str
    state_names: tuple[str, ...]
    input_names: tuple[str, ...]
    f: ca.Function
    x_lb: np.ndarray
    x_ub: np.ndarray
    u_lb: np.ndarray
    u_ub: np.ndarray
    du_max: np.ndarray
    pos_idx: tuple[int, ...]
    heading_idx: int | None
    brake: Callable[[np.ndarray, np.ndarray, float], np.ndarray]
    _rk4_cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def nx(self) -> int:
        """Number of states."""
        return len(self.state_names)

    @property
    def nu(self) -> int:
        """Number of inputs."""
        return len(self.input_names)

    def rk4(self, dt_s: float, steps: int = 1) -> ca.Function:
        """Discrete dynamics ``x+ = F(x, u)`` by ``steps`` RK4 sub-steps over ``dt_s`` (SX function, cached)."""
        key = (float(dt_s), int(steps))
        if key in self._rk4_cache:
            return self._rk4_cache[key]
        x = ca.SX.sym("x", self.nx)
        u = ca.SX.sym("u", self.nu)
        h = dt_s / steps
        xk = x
        for _ in range(steps):
            k1 = self.f(xk, u)
            k2 = self.f(xk + h / 2 * k1, u)
            k3 = self.f(xk + h / 2 * k2, u)
            k4 = self.f(xk + h * k3, u)
            xk = xk + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        fn = ca.Function(f"{self.name}_rk4", [x, u], [xk], ["x", "u"], ["x_next"])
        self._rk4_cache[key] = fn
        return fn

    def simulate(self, x: np.ndarray, u: np.ndarray, dt_s: float, steps: int = 4) -> np.ndarray:
        """Integrate the model over ``dt_s`` (RK4) from ``x`` with constant ``u``; plant stand-in for tests."""
        return np.asarray(self.rk4(dt_s, steps)(x, u)).reshape(-1)


def _positive(**values: float) -> None:
    for name, v in values.items():
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ModelError(f"{name} must be a positive finite number, got {v!r}")


def _toward_zero(value: np.ndarray, step: np.ndarray) -> np.ndarray:
    return np.sign(value) * np.maximum(np.abs(value) - step, 0.0)


def differential_drive(
    v_max_m_s: float = 1.0,
    w_max_rad_s: float = 1.5,
    a_max_m_s2: float = 1.0,
    alpha_max_rad_s2: float = 3.0,
    v_min_m_s: float | None = None,
) -> Model:
    """Unicycle model: state (x, y, θ), input (v, ω); rate limits are the acceleration limits."""
    _positive(v_max_m_s=v_max_m_s, w_max_rad_s=w_max_rad_s, a_max_m_s2=a_max_m_s2, alpha_max_rad_s2=alpha_max_rad_s2)
    v_min = -v_max_m_s if v_min_m_s is None else v_min_m_s
    if v_min > v_max_m_s:
        raise ModelError(f"v_min_m_s {v_min} exceeds v_max_m_s {v_max_m_s}")
    x = ca.SX.sym("x", 3)
    u = ca.SX.sym("u", 2)
    xdot = ca.vertcat(u[0] * ca.cos(x[2]), u[0] * ca.sin(x[2]), u[1])
    f = ca.Function("diff_drive", [x, u], [xdot], ["x", "u"], ["xdot"])
    du = np.array([a_max_m_s2, alpha_max_rad_s2])

    def brake(x0: np.ndarray, u_prev: np.ndarray, dt_s: float) -> np.ndarray:
        return _toward_zero(np.asarray(u_prev, float), du * dt_s)

    inf = np.inf
    return Model(
        "differential_drive", ("x_m", "y_m", "yaw_rad"), ("v_m_s", "w_rad_s"), f,
        np.array([-inf, -inf, -inf]), np.array([inf, inf, inf]),
        np.array([v_min, -w_max_rad_s]), np.array([v_max_m_s, w_max_rad_s]), du, (0, 1), 2, brake,
    )


def mecanum(
    base_mass_kg: float = 400.0,
    payload_mass_kg: float = 0.0,
    max_force_n: float = 400.0,
    max_torque_nm: float = 300.0,
    yaw_inertia_kg_m2: float = 120.0,
    v_max_m_s: float = 0.8,
    w_max_rad_s: float = 0.8,
    jerk_max_m_s3: float = 4.0,
) -> Model:
    """Omnidirectional base: state (x, y, θ, vx, vy, ω) with body-frame velocities; input body accelerations.

    Acceleration limits are ``max_force_n / (base + payload)`` and ``max_torque_nm / inertia`` where the
    payload adds its mass and (as a point mass at the centre) no inertia; the rate limit is the jerk.
    """
    _positive(base_mass_kg=base_mass_kg, max_force_n=max_force_n, max_torque_nm=max_torque_nm,
              yaw_inertia_kg_m2=yaw_inertia_kg_m2, v_max_m_s=v_max_m_s, w_max_rad_s=w_max_rad_s,
              jerk_max_m_s3=jerk_max_m_s3)
    if not (math.isfinite(payload_mass_kg) and payload_mass_kg >= 0):
        raise ModelError(f"payload_mass_kg must be finite and >= 0, got {payload_mass_kg!r}")
    a_max = max_force_n / (base_mass_kg + payload_mass_kg)
    alpha_max = max_torque_nm / yaw_inertia_kg_m2
    x = ca.SX.sym("x", 6)
    u = ca.SX.sym("u", 3)
    c, s = ca.cos(x[2]), ca.sin(x[2])
    xdot = ca.vertcat(c * x[3] - s * x[4], s * x[3] + c * x[4], x[5], u[0], u[1], u[2])
    f = ca.Function("mecanum", [x, u], [xdot], ["x", "u"], ["xdot"])
    acc = np.array([a_max, a_max, alpha_max])

    def brake(x0: np.ndarray, u_prev: np.ndarray, dt_s: float) -> np.ndarray:
        # decelerate the body velocities to zero as hard as allowed
        return np.clip(-np.asarray(x0, float)[3:6] / dt_s, -acc, acc)

    inf = np.inf
    vmax = np.array([v_max_m_s, v_max_m_s, w_max_rad_s])
    return Model(
        "mecanum", ("x_m", "y_m", "yaw_rad", "vx_m_s", "vy_m_s", "w_rad_s"), ("ax_m_s2", "ay_m_s2", "alpha_rad_s2"),
        f, np.concatenate([[-inf] * 3, -vmax]), np.concatenate([[inf] * 3, vmax]), -acc, acc,
        np.array([jerk_max_m_s3, jerk_max_m_s3, jerk_max_m_s3 * alpha_max / a_max]), (0, 1), 2, brake,
    )


def rail(v_max_m_s: float = 1.5, a_max_m_s2: float = 0.5, jerk_max_m_s3: float = 1.0,
         s_min_m: float = -math.inf, s_max_m: float = math.inf) -> Model:
    """Rail-guided robot: state (s along the rail, v), input acceleration; travel limits on s."""
    _positive(v_max_m_s=v_max_m_s, a_max_m_s2=a_max_m_s2, jerk_max_m_s3=jerk_max_m_s3)
    if not s_min_m < s_max_m:
        raise ModelError(f"rail travel limits must satisfy s_min < s_max, got {s_min_m}, {s_max_m}")
    x = ca.SX.sym("x", 2)
    u = ca.SX.sym("u", 1)
    f = ca.Function("rail", [x, u], [ca.vertcat(x[1], u[0])], ["x", "u"], ["xdot"])

    def brake(x0: np.ndarray, u_prev: np.ndarray, dt_s: float) -> np.ndarray:
        return np.clip(np.array([-float(np.asarray(x0)[1]) / dt_s]), -a_max_m_s2, a_max_m_s2)

    return Model(
        "rail", ("s_m", "v_m_s"), ("a_m_s2",), f, np.array([s_min_m, -v_max_m_s]), np.array([s_max_m, v_max_m_s]),
        np.array([-a_max_m_s2]), np.array([a_max_m_s2]), np.array([jerk_max_m_s3]), (), None, brake,
    )


def multirotor(v_max_xy_m_s: float = 8.0, v_max_up_m_s: float = 3.0, v_max_down_m_s: float = 2.0,
               tilt_max_rad: float = 0.5, a_up_max_m_s2: float = 4.0, a_down_max_m_s2: float = 3.0,
               drag_1_s: float = 0.3, jerk_max_m_s3: float = 20.0) -> Model:
    """Translational multirotor: state (x, y, z, vx, vy, vz) ENU, input acceleration setpoint (m/s²).

    Horizontal acceleration is bounded by the tilt limit, ``g · tan(tilt_max)``, per axis; linear drag.
    """
    _positive(v_max_xy_m_s=v_max_xy_m_s, v_max_up_m_s=v_max_up_m_s, v_max_down_m_s=v_max_down_m_s,
              tilt_max_rad=tilt_max_rad, a_up_max_m_s2=a_up_max_m_s2, a_down_max_m_s2=a_down_max_m_s2,
              jerk_max_m_s3=jerk_max_m_s3)
    if tilt_max_rad >= math.pi / 2 or not (math.isfinite(drag_1_s) and drag_1_s >= 0):
        raise ModelError("tilt_max_rad must be < pi/2 and drag_1_s finite and >= 0")
    a_xy = GRAVITY_M_S2 * math.tan(tilt_max_rad)
    x = ca.SX.sym("x", 6)
    u = ca.SX.sym("u", 3)
    f = ca.Function("multirotor", [x, u], [ca.vertcat(x[3:6], u - drag_1_s * x[3:6])], ["x", "u"], ["xdot"])
    u_lb = np.array([-a_xy, -a_xy, -a_down_max_m_s2])
    u_ub = np.array([a_xy, a_xy, a_up_max_m_s2])

    def brake(x0: np.ndarray, u_prev: np.ndarray, dt_s: float) -> np.ndarray:
        return np.clip(-np.asarray(x0, float)[3:6] / dt_s, u_lb, u_ub)

    inf = np.inf
    return Model(
        "multirotor", ("x_m", "y_m", "z_m", "vx_m_s", "vy_m_s", "vz_m_s"), ("ax_m_s2", "ay_m_s2", "az_m_s2"), f,
        np.array([-inf, -inf, -inf, -v_max_xy_m_s, -v_max_xy_m_s, -v_max_down_m_s]),
        np.array([inf, inf, inf, v_max_xy_m_s, v_max_xy_m_s, v_max_up_m_s]), u_lb, u_ub,
        np.full(3, jerk_max_m_s3), (0, 1), None, brake,
    )
