"""NMPC transcription in CasADi SX: multiple shooting with RK4, built once, parametrized per step.

Decision vector, stage-ordered (the layout structure-exploiting solvers such as FATROP detect):
``[x_0, up_0, u_0, s_0, x_1, up_1, u_1, s_1, …, x_N, up_N]`` where ``s_k ≥ 0`` is one slack per stage softening the
obstacle and corridor constraints (so the problem never turns infeasible; slack is priced by an
exact L1 plus a quadratic penalty). ``up_k`` is the previous input lifted into the state so that
the rate limit is stage-local. x_0 and up_0 are pinned by their bounds. Constraints, stage by stage: the
shooting gap ``x_{k+1} - F(x_k, u_k) = 0, up_{k+1} - u_k = 0`` first (in the sign FATROP requires), then the
input rate limits, the ellipsoidal keep-out zones and the corridor half-planes (on x_0 … x_{N-1}).

Parameters (one flat vector, see :class:`ParamLayout`): the measured state, the previous input (for
the rate limit of the first move), the state and input reference per stage, the obstacle table
(``cx cy ra rb yaw active`` per slot, radii already inflated by the robot radius) and two
half-planes ``ax·x + ay·y ≤ b`` per stage for the corridor walls.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import casadi as ca
import numpy as np

from sanqin.planning.errors import MpcSetupError
from sanqin.planning.models import Model

#: Columns of one obstacle slot in the parameter vector.
OBSTACLE_COLUMNS = ("cx_m", "cy_m", "ra_m", "rb_m", "yaw_rad", "active")
#: Half-planes per stage for the corridor (left and right wall).
CORRIDOR_PLANES = 2
#: Levenberg-Marquardt term added to the Gauss-Newton Hessian (keeps every QP strictly convex).
REG = 1e-4


@dataclass(frozen=True)
class Weights:
    """Cost weights: diagonal state (per state), input, input-rate (per input), terminal factor, slack."""

    q: np.ndarray
    r: np.ndarray
    r_rate: np.ndarray
    terminal_factor: float = 10.0
    slack_l1: float = 1000.0
    slack_l2: float = 100.0


@dataclass(frozen=True)
class ParamLayout:
    """Where each part sits in the flat parameter vector."""

    nx: int
    nu: int
    horizon: int
    max_obstacles: int
    corridor: bool

    @property
    def sizes(self) -> dict[str, int]:
        """Name → length of every block, in order."""
        n = self.horizon
        return {
            "x0": self.nx,
            "u_prev": self.nu,
            "x_ref": (n + 1) * self.nx,
            "u_ref": n * self.nu,
            "obstacles": self.max_obstacles * len(OBSTACLE_COLUMNS),
            "corridor": (n + 1) * CORRIDOR_PLANES * 3 if self.corridor else 0,
        }

    @property
    def size(self) -> int:
        """Total parameter length."""
        return sum(self.sizes.values())

    def pack(self, x0: np.ndarray, u_prev: np.ndarray, x_ref: np.ndarray, u_ref: np.ndarray,
             obstacles: np.ndarray | None = None, corridor: np.ndarray | None = None) -> np.ndarray:
        """Flat parameter vector; ``x_ref`` (N+1, nx), ``u_ref`` (N, nu), obstacles (M', 6), corridor (N+1, 2, 3)."""
        n = self.horizon
        obs = np.zeros((self.max_obstacles, len(OBSTACLE_COLUMNS)))
        obs[:, 2:4] = 1.0
        if obstacles is not None and len(obstacles):
            k = min(len(obstacles), self.max_obstacles)
            obs[:k] = np.asarray(obstacles, float)[:k]
        parts = [np.asarray(x0, float).reshape(self.nx), np.asarray(u_prev, float).reshape(self.nu),
                 np.asarray(x_ref, float).reshape((n + 1) * self.nx), np.asarray(u_ref, float).reshape(n * self.nu),
                 obs.reshape(-1)]
        if self.corridor:
            if corridor is None:
                cor = np.zeros((n + 1, CORRIDOR_PLANES, 3))
                cor[:, :, 2] = 1.0  # 0·x + 0·y ≤ 1: inactive
            else:
                cor = np.asarray(corridor, float).reshape(n + 1, CORRIDOR_PLANES, 3)
            parts.append(cor.reshape(-1))
        return np.concatenate(parts)


@dataclass(frozen=True)
class NmpcProblem:
    """A transcribed NMPC problem: the SX NLP, its bounds and index maps. Built once, solved many times."""

    model: Model
    horizon: int
    dt_s: float
    layout: ParamLayout
    nlp: dict
    lbg: np.ndarray
    ubg: np.ndarray
    lbx: np.ndarray
    ubx: np.ndarray
    equality: tuple[bool, ...]
    hess_gn: ca.Function  # Gauss-Newton Hessian of the Lagrangian, signature of nlpsol's ``hess_lag``
    x_idx: np.ndarray  # (N+1, nx) indices of the states in the decision vector
    u_idx: np.ndarray  # (N, nu)
    s_idx: np.ndarray  # (N,) or empty
    up_idx: np.ndarray  # (N+1, nu) the lifted previous inputs
    n_init_rows: int  # rows of the initial-state (and previous-input) constraint, first in g
    stage_rows: int  # rows per stage after those: rate limit, soft constraints, gap
    n_soft: int  # soft constraint rows per stage (obstacles + corridor planes)
    g_obstacle_rows: np.ndarray  # (N+1, M) rows of each obstacle slot per stage (bounds relaxed when unused)

    @property
    def n_w(self) -> int:
        """Number of decision variables."""
        return int(self.nlp["x"].numel())

    @property
    def n_g(self) -> int:
        """Number of constraints."""
        return int(self.nlp["g"].numel())

    def digest(self) -> str:
        """SHA-256 of the problem's expressions (the key of the code-generation cache)."""
        f = ca.Function("nlp", [self.nlp["x"], self.nlp["p"]], [self.nlp["f"], self.nlp["g"]])
        h = hashlib.sha256(f.serialize().encode())
        h.update(self.lbg.tobytes() + self.ubg.tobytes())
        return h.hexdigest()

    def bounds(self, x0: np.ndarray, u_prev: np.ndarray, out: tuple[np.ndarray, np.ndarray] | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Variable bounds for one solve: the problem's bounds with x_0 and up_0 pinned to the measurement."""
        lbx, ubx = out if out is not None else (self.lbx.copy(), self.ubx.copy())
        lbx[self.x_idx[0]] = ubx[self.x_idx[0]] = x0
        lbx[self.up_idx[0]] = ubx[self.up_idx[0]] = u_prev
        return lbx, ubx

    def states(self, w: np.ndarray) -> np.ndarray:
        """(N+1, nx) predicted states from a decision vector."""
        return np.asarray(w).reshape(-1)[self.x_idx]

    def inputs(self, w: np.ndarray) -> np.ndarray:
        """(N, nu) planned inputs from a decision vector."""
        return np.asarray(w).reshape(-1)[self.u_idx]

    def slacks(self, w: np.ndarray) -> np.ndarray:
        """(N,) constraint slacks (empty without obstacles and corridor)."""
        return np.asarray(w).reshape(-1)[self.s_idx]


def _residual(model: Model, x: ca.SX, xr: ca.SX) -> ca.SX:
    """State tracking residual; the heading error is ``2 sin(Δθ/2)`` (smooth, wrap-safe)."""
    e = x - xr
    if model.heading_idx is None:
        return e
    i = model.heading_idx
    return ca.vertcat(e[:i], 2 * ca.sin(e[i] / 2), e[i + 1:])


def build_problem(model: Model, horizon: int, dt_s: float, weights: Weights, *, max_obstacles: int = 0,
                  corridor: bool = False, rk4_steps: int = 1, symbolic: str = "SX") -> NmpcProblem:
    """Transcribe the NMPC for ``model`` (multiple shooting, RK4) into an SX NLP; raise MpcSetupError.

    ``symbolic="MX"`` builds the same NLP as an MX graph (only for baselines: MX evaluates slower).
    """
    if symbolic not in ("SX", "MX"):
        raise MpcSetupError(f"symbolic must be 'SX' or 'MX', got {symbolic!r}")
    sym = ca.SX if symbolic == "SX" else ca.MX
    if horizon < 1 or not (dt_s > 0 and np.isfinite(dt_s)):
        raise MpcSetupError(f"need horizon >= 1 and dt_s > 0, got {horizon}, {dt_s}")
    nx, nu = model.nx, model.nu
    q, r, rd = (np.asarray(a, float).reshape(-1) for a in (weights.q, weights.r, weights.r_rate))
    if q.size != nx or r.size != nu or rd.size != nu:
        raise MpcSetupError(
            f"weights for {model.name} need q[{nx}], r[{nu}], r_rate[{nu}]; got {q.size}, {r.size}, {rd.size}")
    if np.any(~np.isfinite(np.concatenate([q, r, rd]))) or np.any(np.concatenate([q, r, rd]) < 0):
        raise MpcSetupError("weights must be finite and >= 0")
    if np.any(model.x_lb > model.x_ub) or np.any(model.u_lb > model.u_ub):
        raise MpcSetupError(f"infeasible bounds in model {model.name}: lower bound above upper bound")
    planar = len(model.pos_idx) >= 2
    if (max_obstacles > 0 or corridor) and not planar:
        raise MpcSetupError(f"model {model.name} has no planar position: obstacles/corridor unsupported")
    layout = ParamLayout(nx, nu, horizon, max_obstacles, corridor)
    p = sym.sym("p", layout.size)
    blocks = {}
    at = 0
    for name, size in layout.sizes.items():
        blocks[name] = p[at:at + size]
        at += size
    x_ref = ca.reshape(blocks["x_ref"], nx, horizon + 1)
    u_ref = ca.reshape(blocks["u_ref"], nu, horizon)
    obs = ca.reshape(blocks["obstacles"], len(OBSTACLE_COLUMNS), max_obstacles) if max_obstacles else None
    cor = ca.reshape(blocks["corridor"], 3 * CORRIDOR_PLANES, horizon + 1) if corridor else None
    with_slack = max_obstacles > 0 or corridor
    F = model.rk4(dt_s, rk4_steps)
    sq, sr, srd = np.sqrt(q), np.sqrt(r), np.sqrt(rd)
    sqf = np.sqrt(weights.terminal_factor) * sq
    residuals: list[ca.SX] = []  # cost = ||residuals||² + slack_l1 · Σ s  (least squares → Gauss-Newton)
    linear_cost: ca.SX = sym(0)

    w, lbx, ubx = [], [], []
    g, lbg, ubg, eq = [], [], [], []
    x_idx, u_idx, s_idx, up_idx = [], [], [], []
    n_soft = max_obstacles + (CORRIDOR_PLANES if corridor else 0)
    n_w = 0

    def add_var(sym: ca.SX, lo: np.ndarray, hi: np.ndarray) -> list[int]:
        nonlocal n_w
        w.append(sym)
        lbx.extend(lo)
        ubx.extend(hi)
        idx = list(range(n_w, n_w + sym.numel()))
        n_w += sym.numel()
        return idx

    def add_con(expr: ca.SX, lo: float | np.ndarray, hi: float | np.ndarray, is_eq: bool) -> None:
        n = expr.numel()
        g.append(expr)
        lbg.extend(np.broadcast_to(lo, (n,)))
        ubg.extend(np.broadcast_to(hi, (n,)))
        eq.extend([is_eq] * n)

    obstacle_rows: list[list[int]] = []

    def soft_constraints(xk: ca.SX, sk: ca.SX, k: int) -> None:
        px, py = xk[model.pos_idx[0]], xk[model.pos_idx[1]]
        obstacle_rows.append(list(range(len(lbg), len(lbg) + max_obstacles)))
        for j in range(max_obstacles):
            cx, cy, ra, rb, yaw, active = (obs[i, j] for i in range(6))
            c, s = ca.cos(yaw), ca.sin(yaw)
            dx, dy = px - cx, py - cy
            ex, ey = (c * dx + s * dy) / ra, (-s * dx + c * dy) / rb
            add_con(active * (1 - ex * ex - ey * ey) - sk, -ca.inf, 0.0, False)
        if corridor:
            for i in range(CORRIDOR_PLANES):
                ax, ay, b = cor[3 * i, k], cor[3 * i + 1, k], cor[3 * i + 2, k]
                add_con(ax * px + ay * py - b - sk, -ca.inf, 0.0, False)

    # The previous input is lifted into the state (``up_k``, with ``up_{k+1} = u_k``) so that every
    # constraint, the rate limit included, touches one stage only — the structure FATROP/HPIPM detect.
    free_x, free_u = np.full(nx, -np.inf), np.full(nx, np.inf)
    free_pu, free_pl = np.full(nu, np.inf), np.full(nu, -np.inf)
    xk = sym.sym("x_0", nx)
    x_idx.append(add_var(xk, free_x, free_u))  # free here: pinned per call by NmpcProblem.bounds
    upk = sym.sym("up_0", nu)
    up_idx.append(add_var(upk, free_pl, free_pu))
    # x_0 and up_0 are pinned by their bounds at each call (see NmpcProblem.bounds), not by equality
    # rows: that is the form the Riccati-based solvers (HPIPM, FATROP) expect for the initial stage.
    for k in range(horizon):
        uk = sym.sym(f"u_{k}", nu)
        u_idx.append(add_var(uk, model.u_lb, model.u_ub))
        sk = None
        if with_slack:
            sk = sym.sym(f"s_{k}")
            s_idx.extend(add_var(sk, [0.0], [ca.inf]))
            linear_cost += weights.slack_l1 * sk
            residuals.append(np.sqrt(weights.slack_l2) * sk)
        x_next = sym.sym(f"x_{k + 1}", nx)
        up_next = sym.sym(f"up_{k + 1}", nu)
        add_con(ca.vertcat(x_next - F(xk, uk), up_next - uk), 0.0, 0.0, True)
        du = uk - upk
        add_con(du, -model.du_max * dt_s, model.du_max * dt_s, False)
        if sk is not None:
            soft_constraints(xk, sk, k)
        e = _residual(model, xk, x_ref[:, k])
        eu = uk - u_ref[:, k]
        residuals += [sq * e, sr * eu, srd * du]
        x_idx.append(add_var(x_next, model.x_lb, model.x_ub))
        up_idx.append(add_var(up_next, free_pl, free_pu))
        xk, upk = x_next, up_next
    # No soft constraints on x_N: a terminal slack would be a control at the last stage, which the
    # Riccati QP solver (HPIPM) cannot take; x_{N-1} is constrained and x_N only steers the cost.
    residuals.append(sqf * _residual(model, xk, x_ref[:, horizon]))

    # Rate-limit rows with infinite du_max have ±inf bounds: drop nothing (keeps the layout fixed).
    lbg_a, ubg_a = np.asarray(lbg, float), np.asarray(ubg, float)
    if np.any(lbg_a > ubg_a):
        raise MpcSetupError("infeasible constraint bounds (lower above upper)")
    w_all, res = ca.vertcat(*w), ca.vertcat(*residuals)
    nlp = {"x": w_all, "p": p, "f": ca.sumsqr(res) + linear_cost, "g": ca.vertcat(*g)}
    # Gauss-Newton Hessian of the Lagrangian: 2 Jᵀ J of the least-squares residuals. Positive
    # semidefinite by construction, so SQP/RTI need no convexification (which would damp every step).
    jac = ca.jacobian(res, w_all)
    lam_f, lam_g = sym.sym("lam_f"), sym.sym("lam_g", nlp["g"].numel())
    hess = lam_f * (2 * ca.mtimes(jac.T, jac) + REG * sym.eye(w_all.numel()))
    hess_gn = ca.Function("nlp_hess_l", [w_all, p, lam_f, lam_g], [hess], ["x", "p", "lam_f", "lam_g"],
                          ["hess_gamma_x_x"])
    return NmpcProblem(
        model=model, horizon=horizon, dt_s=dt_s, layout=layout, nlp=nlp, lbg=lbg_a, ubg=ubg_a,
        lbx=np.asarray(lbx, float), ubx=np.asarray(ubx, float), equality=tuple(eq), hess_gn=hess_gn,
        x_idx=np.asarray(x_idx, int), u_idx=np.asarray(u_idx, int).reshape(horizon, nu),
        up_idx=np.asarray(up_idx, int), s_idx=np.asarray(s_idx, int), n_init_rows=0,
        stage_rows=nu + n_soft + nx + nu, n_soft=n_soft,
        g_obstacle_rows=np.asarray(obstacle_rows, int).reshape(len(obstacle_rows), max_obstacles),
    )
