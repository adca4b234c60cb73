"""The real-time NMPC controller: reference → warm-started solve → validated command, never an exception.

``Mpc(model, config)`` transcribes the problem and builds the solver once. ``step(x, obstacles)``:

1. validates the state (NaN/inf or wrong size → brake from the last valid state);
2. builds the reference from the path (projection, speed profile, stop points; planar references are
   deflected sideways out of keep-out zones), the obstacle table and the corridor half-planes;
3. warm-starts from the previous solution shifted by one stage (primal and dual variables), cold
   starts (a few extra iterations) only on the first step or after a reset;
4. solves within the time budget; a failed, non-finite or late solution falls back to the shifted
   previous plan and after ``max_shifts`` cycles to the model's brake law (:mod:`fallback`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np

from sanqin.common.obstacles import ObstacleList
from sanqin.planning import obstacles as obst
from sanqin.planning.errors import MpcSetupError
from sanqin.planning.fallback import PlanBuffer, fallback_command
from sanqin.planning.models import Model
from sanqin.planning.nmpc import Weights, build_problem
from sanqin.planning.reference import ReferencePath
from sanqin.planning.solvers import BACKENDS, GaussNewtonSqp, SolverOptions, make_backend
from sanqin.runtime.config import param


@dataclass(frozen=True)
class MpcConfig:
    """NMPC settings (horizon, solver, budget, weights, constraints). Weights must match the model's sizes."""

    horizon: int = param(20, "prediction horizon (stages)", min=2, max=400)
    dt_s: float = param(0.1, "stage length and control period (s)", min=0.005, max=2.0)
    rk4_steps: int = param(1, "RK4 sub-steps per stage", min=1, max=20)
    solver: str = param("rti", "solver backend", choices=tuple(BACKENDS))
    max_iter: int = param(20, "iteration cap per solve (rti: always 1)", min=1, max=3000)
    cold_start_iter: int = param(10, "SQP iterations on a cold start (rti/sqp backends)", min=1, max=3000)
    tol: float = param(1e-6, "convergence tolerance", min=1e-12, max=1.0)
    time_budget_s: float = param(0.02, "wall-time budget per step; a later solution is not used (s)", min=1e-4)
    max_shifts: int = param(5, "cycles the shifted previous plan may stand in before braking", min=0)
    codegen: bool = param(False, "generate C for the solver's functions, compile with gcc, cache on disk")
    cache_dir: str = param("", "code-generation cache folder ('' = ~/.cache/sanqin/mpc)")
    max_obstacles: int = param(4, "obstacle slots in the problem (nearest obstacles fill them)", min=0, max=64)
    obstacle_range_m: float = param(15.0, "ignore obstacles farther than this (m)", min=0.0)
    robot_radius_m: float = param(0.4, "robot radius added to every keep-out ellipse (m)", min=0.0)
    obstacle_margin_m: float = param(0.1, "extra clearance added to every keep-out ellipse (m)", min=0.0)
    deflect_reference: bool = param(True, "push reference points sideways out of keep-out zones")
    corridor: bool = param(False, "enforce corridor walls around the reference path")
    corridor_left_m: float = param(1.0, "corridor wall distance left of the path, minus robot radius (m)", min=0.0)
    corridor_right_m: float = param(1.0, "corridor wall distance right of the path, minus robot radius (m)", min=0.0)
    q: tuple[float, ...] = param((), "state tracking weights, one per state ([] = the model's defaults)", min=0.0)
    r: tuple[float, ...] = param((), "input weights, one per input ([] = the model's defaults)", min=0.0)
    r_rate: tuple[float, ...] = param((), "input-rate weights, one per input ([] = the model's defaults)", min=0.0)
    terminal_factor: float = param(10.0, "terminal state weight = factor · q", min=0.0)
    slack_l1: float = param(1e4, "linear price of constraint slack", min=0.0)
    slack_l2: float = param(1e3, "quadratic price of constraint slack", min=0.0)
    stop_tolerance_m: float = param(0.05, "distance within which a stop point counts as reached (m)", min=1e-4)


@dataclass(frozen=True)
class MpcPlan:
    """Result of one step: the command input, predicted states/inputs, where it came from, timing."""

    u: np.ndarray
    states: np.ndarray | None
    inputs: np.ndarray | None
    source: str  # "solver", "shifted", "brake"
    status: str
    solve_time_s: float
    iterations: int
    max_slack: float = 0.0
    progress_m: float = 0.0
    path_error_m: float = float("nan")
    goal_reached: bool = False


class Mpc:
    """A built NMPC for one model; ``step`` it every ``config.dt_s``."""

    def __init__(self, model: Model, config: MpcConfig) -> None:
        self.model = model
        dq, dr, drd = DEFAULT_WEIGHTS.get(model.name, ((1.0,) * model.nx, (0.1,) * model.nu, (1.0,) * model.nu))
        config = replace(config, q=config.q or dq, r=config.r or dr, r_rate=config.r_rate or drd)
        self.config = config
        nx, nu = model.nx, model.nu
        if len(config.q) != nx or len(config.r) != nu or len(config.r_rate) != nu:
            raise MpcSetupError(
                f"model {model.name} needs q[{nx}], r[{nu}], r_rate[{nu}]; "
                f"got {len(config.q)}, {len(config.r)}, {len(config.r_rate)}")
        planar = len(model.pos_idx) >= 2
        weights = Weights(np.array(config.q), np.array(config.r), np.array(config.r_rate), config.terminal_factor,
                          config.slack_l1, config.slack_l2)
        self.problem = build_problem(model, config.horizon, config.dt_s, weights,
                                     max_obstacles=config.max_obstacles if planar else 0,
                                     corridor=config.corridor and planar, rk4_steps=config.rk4_steps)
        options = SolverOptions(max_iter=config.max_iter, max_time_s=config.time_budget_s, tol=config.tol,
                                codegen=config.codegen, cache_dir=config.cache_dir)
        self.backend = make_backend(config.solver, self.problem, options)
        # cold starts (first step, after braking) iterate up to cold_start_iter but stop at the time budget like
        # any step: a cold solve follows every brake cycle while the solver keeps failing, and 10× the budget
        # there overran the control period on every cycle
        self._cold = (GaussNewtonSqp(self.problem, SolverOptions(**{**options.__dict__,
                                                                    "max_iter": config.cold_start_iter,
                                                                    "max_time_s": config.time_budget_s}))
                      if config.solver in ("rti", "sqp") else None)
        self.path: ReferencePath | None = None
        self._bounds_buf = (self.problem.lbx.copy(), self.problem.ubx.copy())
        self._bounded_states = bool(np.any(np.isfinite(model.x_lb)) or np.any(np.isfinite(model.x_ub)))
        self.buffer = PlanBuffer()
        self.counters = {"steps": 0, "solver": 0, "shifted": 0, "brake": 0, "failures": 0, "overruns": 0,
                         "invalid_state": 0}
        self.reset()

    # -- lifecycle -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget warm starts, the plan and path progress (a new mission, a teleport)."""
        self._w = None
        self._lam_g = np.zeros(self.problem.n_g)
        self._lam_x = np.zeros(self.problem.n_w)
        self._u_prev = np.zeros(self.model.nu)
        self._x_valid: np.ndarray | None = None
        self._dwell_left_s = 0.0
        self._passed_m = -math.inf
        self.buffer.clear()
        if self.path is not None:
            self.path.reset()

    def set_path(self, path: ReferencePath | None) -> None:
        """Follow ``path`` (its dimension must match the model: 1 for rail, ≥2 for planar models)."""
        if path is not None:
            need = 1 if not self.model.pos_idx else len(self.model.pos_idx)
            if path.dim < need and not (self.model.name == "multirotor" and path.dim >= 2):
                raise MpcSetupError(f"model {self.model.name} needs a {need}-D path, got {path.dim}-D")
        self.path = path
        self._dwell_left_s = 0.0
        self._passed_m = -math.inf
        if path is not None:
            path.reset()

    def set_input_bounds(self, u_lb: np.ndarray, u_ub: np.ndarray) -> None:
        """New input bounds of the same model (e.g. acceleration limits after a payload change); no rebuild."""
        lo, hi = np.asarray(u_lb, float).reshape(-1), np.asarray(u_ub, float).reshape(-1)
        if lo.size != self.model.nu or hi.size != self.model.nu or np.any(lo > hi) or not np.all(np.isfinite(lo + hi)):
            raise MpcSetupError(f"input bounds must be {self.model.nu} finite pairs with lower <= upper")
        self.model = replace(self.model, u_lb=lo, u_ub=hi)
        for buf, v in ((self._bounds_buf[0], lo), (self._bounds_buf[1], hi)):
            buf[self.problem.u_idx] = v
        for arr, v in ((self.problem.lbx, lo), (self.problem.ubx, hi)):
            arr[self.problem.u_idx] = v

    # -- reference -------------------------------------------------------------------------------
    def _position(self, x: np.ndarray) -> np.ndarray:
        m = self.model
        if m.name == "rail":
            return x[:1]
        if m.name == "multirotor":
            return x[:3]
        return x[list(m.pos_idx)]

    def _reference(self, x: np.ndarray, table: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float, bool]:
        """(x_ref (N+1, nx), u_ref (N, nu), progress, path error, goal reached)."""
        m, cfg, n = self.model, self.config, self.config.horizon
        x_ref = np.tile(x, (n + 1, 1))
        u_ref = np.zeros((n, m.nu))
        vel = {"mecanum": slice(3, 6), "multirotor": slice(3, 6), "rail": slice(1, 2)}.get(m.name)
        if self.path is None:  # hold position
            if vel is not None:
                x_ref[:, vel] = 0.0
            return x_ref, u_ref, 0.0, float("nan"), False
        path = self.path
        pos = self._position(x)
        pos_p = pos[: path.dim] if path.dim <= len(pos) else np.concatenate([pos, np.zeros(path.dim - len(pos))])
        s0 = path.project(pos_p, window_m=max(2.0 * path.speed_m_s * cfg.dt_s * n, 1.0))
        err = float(np.linalg.norm(path.point(s0) - pos_p))
        speed = float(np.linalg.norm(x[vel])) if vel is not None else abs(float(self._u_prev[0]))
        stop = path.stop_at(s0, cfg.stop_tolerance_m)
        if stop is not None and stop.s_m > self._passed_m and speed < 0.05 and self._dwell_left_s <= 0:
            self._dwell_left_s = stop.dwell_s
            self._passed_m = stop.s_m
        s_start = self._passed_m if self._dwell_left_s > 0 else s0  # hold the stop point while dwelling
        s, v = path.sample(s_start, cfg.dt_s, n, self._dwell_left_s, self._passed_m)
        self._dwell_left_s = max(self._dwell_left_s - cfg.dt_s, 0.0)
        goal = bool(s0 >= path.length_m - cfg.stop_tolerance_m and speed < 0.05 and err < 0.2)
        pts = path.point(s)
        if m.name == "rail":
            x_ref[:, 0] = pts[:, 0]
            x_ref[:, 1] = v
            return x_ref, u_ref, s0, err, goal
        yaw = path.tangent_yaw(s)
        if cfg.deflect_reference and len(table):
            pts = pts.copy()
            pts[:, :2] = obst.deflect_reference(pts[:, :2], yaw, table, robot_side_m=pos)
            d = np.diff(pts[:, :2], axis=0)
            moving = np.linalg.norm(d, axis=1) > 1e-6
            yaw = yaw.copy()
            yaw[:-1][moving] = np.arctan2(d[moving, 1], d[moving, 0])
            yaw[-1] = yaw[-2]
        if m.name == "multirotor":
            x_ref[:, : path.dim] = pts
            d = np.gradient(pts, axis=0) if n > 1 else np.zeros_like(pts)
            nrm = np.linalg.norm(d, axis=1, keepdims=True)
            tang = np.where(nrm > 1e-9, d / np.maximum(nrm, 1e-9), 0.0)
            x_ref[:, 3:3 + path.dim] = tang * v[:, None]
            return x_ref, u_ref, s0, err, goal
        x_ref[:, 0:2] = pts[:, :2]
        # unwrap the reference heading next to the current heading (the residual is wrap-safe anyway)
        yaw = x[2] + np.angle(np.exp(1j * (yaw - x[2])))
        if path.length_m - s0 < cfg.stop_tolerance_m:
            yaw[:] = x[2]  # at the goal, do not turn toward a degenerate end tangent
        x_ref[:, 2] = yaw
        if m.name == "differential_drive":
            u_ref[:, 0] = v[:-1]
        elif m.name == "mecanum":
            x_ref[:, 3] = v
            x_ref[:, 4:6] = 0.0
        return x_ref, u_ref, s0, err, goal

    # -- warm start ------------------------------------------------------------------------------
    def _shifted_guess(self, x: np.ndarray, x_ref: np.ndarray, u_ref: np.ndarray) -> tuple[np.ndarray, bool]:
        prob = self.problem
        if self._w is None:
            w = np.zeros(prob.n_w)
            w[prob.x_idx.ravel()] = x_ref.ravel()
            w[prob.x_idx[0]] = x
            w[prob.u_idx.ravel()] = np.clip(u_ref, self.model.u_lb, self.model.u_ub).ravel()
            w[prob.up_idx[0]] = self._u_prev
            w[prob.up_idx[1:].ravel()] = w[prob.u_idx.ravel()]
            return w, True
        w_old = self._w
        w = w_old.copy()
        w[prob.x_idx[:-1].ravel()] = w_old[prob.x_idx[1:].ravel()]
        w[prob.u_idx[:-1].ravel()] = w_old[prob.u_idx[1:].ravel()]
        if len(prob.s_idx):
            w[prob.s_idx[:-1]] = w_old[prob.s_idx[1:]]
        w[prob.x_idx[-1]] = self.model.simulate(w_old[prob.x_idx[-1]], w_old[prob.u_idx[-1]], prob.dt_s, 1)
        w[prob.x_idx[0]] = x
        if len(prob.up_idx):
            w[prob.up_idx[:-1].ravel()] = w_old[prob.up_idx[1:].ravel()]
            w[prob.up_idx[0]] = self._u_prev
        # duals: shift the per-stage constraint blocks by one stage
        n0, block, n = prob.n_init_rows, prob.stage_rows, prob.horizon
        lam = self._lam_g.copy()
        lam[n0:n0 + (n - 1) * block] = self._lam_g[n0 + block:n0 + n * block]
        self._lam_g = lam
        lx = self._lam_x.copy()
        lx[prob.x_idx[:-1].ravel()] = self._lam_x[prob.x_idx[1:].ravel()]
        lx[prob.u_idx[:-1].ravel()] = self._lam_x[prob.u_idx[1:].ravel()]
        self._lam_x = lx
        return w, False

    # -- step ------------------------------------------------------------------------------------
    def step(self, x: np.ndarray, obstacles: ObstacleList | None = None) -> MpcPlan:
        """One control cycle from state ``x``; never raises — failures yield the shifted plan or braking."""
        self.counters["steps"] += 1
        t0 = time.perf_counter()
        try:
            x = np.asarray(x, dtype=float).reshape(-1)
            valid = x.size == self.model.nx and bool(np.all(np.isfinite(x)))
        except (TypeError, ValueError):
            valid = False
        if not valid:
            self.counters["invalid_state"] += 1
            return self._fallback(None, "invalid state (NaN/inf or wrong size)", t0, 0)
        self._x_valid = x
        try:
            return self._solve_step(x, obstacles, t0)
        except Exception as err:
            self.counters["failures"] += 1
            self._w = None
            return self._fallback(x, f"error: {type(err).__name__}: {err}", t0, 0)

    def _solve_step(self, x: np.ndarray, obstacles: ObstacleList | None, t0: float) -> MpcPlan:
        cfg, prob = self.config, self.problem
        planar = len(self.model.pos_idx) >= 2
        table = (obst.keep_out_table(obstacles, x[list(self.model.pos_idx)], cfg.robot_radius_m, cfg.obstacle_margin_m,
                                     prob.layout.max_obstacles, cfg.obstacle_range_m) if planar else np.zeros((0, 6)))
        x_ref, u_ref, progress, err, goal = self._reference(x, table)
        corridor = None
        if prob.layout.corridor and self.path is not None:
            s_ref, _ = self.path.sample(progress, cfg.dt_s, prob.horizon, 0.0, self._passed_m)
            corridor = obst.corridor_planes(self.path.point(s_ref)[:, :2], self.path.tangent_yaw(s_ref),
                                            cfg.corridor_left_m, cfg.corridor_right_m)
        p = prob.layout.pack(x, self._u_prev, x_ref, u_ref, table, corridor)
        w0, cold = self._shifted_guess(x, x_ref, u_ref)
        solver = self._cold if (cold and self._cold is not None) else self.backend
        ubg = prob.ubg
        unused = prob.g_obstacle_rows[:, len(table):]
        if unused.size:
            ubg = ubg.copy()
            ubg[unused.ravel()] = np.inf
            self._lam_g[unused.ravel()] = 0.0
        lbx, ubx = prob.bounds(x, self._u_prev, self._bounds_buf)
        # A measured state a little past a hard state bound (speed noise at the limit, plant overshoot) makes
        # the problem infeasible when the rate limit forbids getting back inside within one stage: widen that
        # bound to the measurement for this solve (never beyond it; the next measurement tightens it again).
        if self._bounded_states:
            xi = prob.x_idx[1:]
            ubx[xi] = np.maximum(prob.ubx[xi], x)
            lbx[xi] = np.minimum(prob.lbx[xi], x)
        res = solver.solve(w0, self._lam_g, self._lam_x, p, lbx, ubx, ubg)
        elapsed = time.perf_counter() - t0
        if not res.success:
            self.counters["failures"] += 1
            self._w = None
            self._lam_g = np.zeros(prob.n_g)
            self._lam_x = np.zeros(prob.n_w)
            return self._fallback(x, f"solver failed: {res.status}", t0, res.iterations, progress, err)
        states, inputs = prob.states(res.w), prob.inputs(res.w)
        slack = float(np.max(prob.slacks(res.w))) if len(prob.s_idx) else 0.0
        u = inputs[0]
        tol = 1e-6 + 1e-6 * np.abs(self.model.u_ub - self.model.u_lb)
        plausible = (np.all(np.isfinite(res.w)) and np.all(u >= self.model.u_lb - tol)
                     and np.all(u <= self.model.u_ub + tol))
        if not plausible:
            self.counters["failures"] += 1
            self._w = None
            return self._fallback(x, "solver returned an implausible input", t0, res.iterations, progress, err)
        self._w, self._lam_g, self._lam_x = res.w, res.lam_g, res.lam_x  # warm start even if late
        if elapsed > cfg.time_budget_s and not cold:
            self.counters["overruns"] += 1
            plan = self._fallback(x, f"over budget ({elapsed * 1e3:.2f} ms)", t0, res.iterations, progress, err)
            self.buffer.store(states, inputs)
            return plan
        u = np.clip(u, self.model.u_lb, self.model.u_ub)
        self.buffer.store(states, inputs)
        self._u_prev = u
        self.counters["solver"] += 1
        return MpcPlan(u, states, inputs, "solver", res.status, time.perf_counter() - t0, res.iterations, slack,
                       progress, err, goal)

    def _fallback(self, x: np.ndarray | None, status: str, t0: float, iterations: int, progress: float = 0.0,
                  err: float = float("nan")) -> MpcPlan:
        x_now = x if x is not None else self._x_valid
        if x_now is None:
            x_now = np.zeros(self.model.nx)
        u, states, inputs, source = fallback_command(self.model, self.buffer, x_now, self._u_prev, self.config.dt_s,
                                                     self.config.max_shifts)
        if x is None:
            # no measurement: dead-reckon the last state with the command, so the brake law (which works from
            # the state's velocities for mecanum, rail and multirotor) drives them to zero instead of
            # repeating one braking step from the same stale state forever
            nxt = self.model.simulate(x_now, u, self.config.dt_s, 1)
            self._x_valid = nxt if np.all(np.isfinite(nxt)) else x_now
        if source == "brake":
            self._w = None
        self._u_prev = u
        self.counters[source] += 1
        return MpcPlan(u, states, inputs, source, status, time.perf_counter() - t0, iterations, 0.0, progress, err)


#: Tuned default weights per model: (q, r, r_rate).
DEFAULT_WEIGHTS: dict[str, tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]] = {
    "differential_drive": ((10.0, 10.0, 1.0), (0.1, 0.1), (1.0, 1.0)),
    "mecanum": ((10.0, 10.0, 2.0, 1.0, 1.0, 0.5), (0.1, 0.1, 0.1), (0.5, 0.5, 0.5)),
    "rail": ((5.0, 2.0), (0.1,), (1.0,)),
    "multirotor": ((10.0, 10.0, 20.0, 1.0, 1.0, 1.0), (0.05, 0.05, 0.05), (0.01, 0.01, 0.01)),
}


def config_for(model: Model, **overrides: object) -> MpcConfig:
    """An :class:`MpcConfig` with ``overrides`` (validated); weights left empty take the model's defaults."""
    from sanqin.runtime.config import load_config

    values = {k: list(v) if isinstance(v, tuple) else v for k, v in overrides.items()}
    return load_config(MpcConfig, values, where=f"mpc config for {model.name}")
