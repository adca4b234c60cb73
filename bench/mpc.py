"""NMPC speed and closed-loop quality per model, against a naive cold-start Opti + IPOPT baseline.

Run: ``.venv/bin/python bench/mpc.py [--quick]`` (pins itself to one core, single-threaded BLAS).

For every model (differential drive, mecanum with payload, rail with stop points, multirotor) at N = 20
and N = 40, a closed loop (dt = 0.1 s, the model itself as plant) is run with our tuned MPC (Gauss-Newton
RTI, code-generated and cached, warm-started primal and dual) and with the baseline: the *same* NLP
handed to ``casadi.Opti`` + IPOPT with default options and a cold (all-zero) initial guess every step.
Reported: median / p99 time of a whole control step (reference, solve, checks), the ratio, and the
closed-loop result (goal reached, minimum obstacle clearance, mean path-tracking error). For the
differential drive at N = 20 every backend is compared, and the RTI closed loop is compared with a
fully converged SQP closed loop (maximum position deviation).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import casadi as ca  # noqa: E402
import numpy as np  # noqa: E402

from sanqin.common.obstacles import Obstacle, ObstacleList  # noqa: E402
from sanqin.planning import models  # noqa: E402
from sanqin.planning.mpc import Mpc, config_for  # noqa: E402
from sanqin.planning.nmpc import Weights, build_problem  # noqa: E402
from sanqin.planning.reference import ReferencePath, StopPoint  # noqa: E402
from sanqin.planning.solvers import SolveResult  # noqa: E402

DT = 0.1


class NaiveOptiBackend:
    """The same NLP built as an MX graph, through ``casadi.Opti`` + IPOPT, default options, all-zero start."""

    name = "naive_opti_ipopt"

    def __init__(self, problem, mx_problem) -> None:
        self.problem = problem
        nlp = mx_problem.nlp
        fg = ca.Function("fg", [nlp["x"], nlp["p"]], [nlp["f"], nlp["g"]])
        opti = ca.Opti()
        w = opti.variable(problem.n_w)
        p = opti.parameter(nlp["p"].numel())
        f, g = fg(w, p)
        opti.minimize(f)
        lbg, ubg = problem.lbg, problem.ubg
        eq = lbg == ubg
        opti.subject_to(g[np.flatnonzero(eq).tolist()] == lbg[eq])
        ineq = np.flatnonzero(~eq)
        lo, hi = lbg[ineq], ubg[ineq]
        has_lo, has_hi = np.isfinite(lo), np.isfinite(hi)
        if has_lo.any():
            opti.subject_to(g[ineq[has_lo].tolist()] >= lo[has_lo])
        if has_hi.any():
            opti.subject_to(g[ineq[has_hi].tolist()] <= hi[has_hi])
        for bound, sign in ((problem.lbx, 1), (problem.ubx, -1)):
            idx = np.flatnonzero(np.isfinite(bound))
            if idx.size:
                opti.subject_to(sign * w[idx.tolist()] >= sign * bound[idx])
        # initial state and previous input: the first entries of the parameter vector
        n0 = problem.model.nx + problem.model.nu
        first = np.concatenate([problem.x_idx[0], problem.up_idx[0]]).tolist()
        opti.subject_to(w[first] == p[:n0])
        opti.solver("ipopt", {"print_time": False}, {"print_level": 0, "sb": "yes"})
        self.opti, self.w, self.p = opti, w, p

    def solve(self, w0, lam_g0, lam_x0, p, lbx, ubx, ubg) -> SolveResult:
        # unused obstacle rows stay in the problem (their 'active' flag is 0, so they are harmless)
        self.opti.set_value(self.p, p)
        self.opti.set_initial(self.w, np.zeros(self.problem.n_w))
        try:
            sol = self.opti.solve()
            w = np.asarray(sol.value(self.w)).reshape(-1)
            return SolveResult(w, np.zeros(self.problem.n_g), np.zeros(self.problem.n_w), True,
                               int(sol.stats()["iter_count"]), "ok")
        except RuntimeError as err:
            w = np.asarray(self.opti.debug.value(self.w)).reshape(-1)
            return SolveResult(w, np.zeros(self.problem.n_g), np.zeros(self.problem.n_w), False, 0, str(err)[:80])


@dataclass
class Case:
    name: str
    model: object
    path: ReferencePath
    x0: np.ndarray
    obstacles: ObstacleList | None
    obstacle_xy_r: tuple[float, float, float] | None  # circular obstacle for the clearance figure
    robot_radius_m: float
    goal: np.ndarray


def _circle(x: float, y: float, r: float) -> ObstacleList:
    # a square of side r·√2 has the circumscribed ellipse (circle) of radius r
    return ObstacleList((Obstacle(np.array([x, y, 0.0]), np.array([r * np.sqrt(2), r * np.sqrt(2), 2.0])),))


def cases() -> list[Case]:
    """The four benchmark problems."""
    line = np.array([[0.0, 0.0], [8.0, 0.0]])
    return [
        Case("differential_drive", models.differential_drive(), ReferencePath(line, 0.8), np.zeros(3),
             _circle(4.0, 0.05, 0.5), (4.0, 0.05, 0.5), 0.3, np.array([8.0, 0.0])),
        Case("mecanum_300kg", models.mecanum(payload_mass_kg=300.0), ReferencePath(line, 0.6), np.zeros(6),
             _circle(4.0, 0.05, 0.5), (4.0, 0.05, 0.5), 0.5, np.array([8.0, 0.0])),
        Case("rail", models.rail(a_max_m_s2=0.5, jerk_max_m_s3=2.0),
             ReferencePath(np.array([[0.0], [12.0]]), 1.2, decel_m_s2=0.3,
                           stops=(StopPoint(4.0, 1.0), StopPoint(8.0, 1.0))),
             np.zeros(2), None, None, 0.0, np.array([12.0])),
        Case("multirotor", models.multirotor(), ReferencePath(np.array([[0, 0, 5.0], [20, 0, 5], [20, 10, 8]]), 3.0),
             np.array([0, 0, 5.0, 0, 0, 0]), _circle(10.0, 0.1, 1.0), (10.0, 0.1, 1.0), 0.6,
             np.array([20.0, 10.0, 8.0])),
    ]


def closed_loop(case: Case, horizon: int, solver: str, steps: int, *, naive: bool = False, **extra) -> dict:
    """Run one closed loop; return timing and quality figures and the trajectory."""
    m = case.model
    planar = len(m.pos_idx) >= 2
    cfg = config_for(m, horizon=horizon, dt_s=DT, solver=solver, max_obstacles=1 if planar else 0,
                     robot_radius_m=case.robot_radius_m, time_budget_s=1.0, **extra)
    ctrl = Mpc(m, cfg)
    if naive:
        lay, rc = ctrl.problem.layout, ctrl.config  # the config with the model's weights filled in
        mx = build_problem(m, horizon, DT, Weights(np.array(rc.q), np.array(rc.r), np.array(rc.r_rate),
                                                   rc.terminal_factor, rc.slack_l1, rc.slack_l2),
                           max_obstacles=lay.max_obstacles, corridor=lay.corridor, symbolic="MX")
        ctrl.backend = NaiveOptiBackend(ctrl.problem, mx)
        ctrl._cold = None
    ctrl.set_path(case.path)
    x = case.x0.copy()
    xs, times, errs, reached = [x], [], [], False
    for _ in range(steps):
        t0 = time.perf_counter()
        plan = ctrl.step(x, case.obstacles)
        times.append(time.perf_counter() - t0)
        errs.append(plan.path_error_m)
        x = m.simulate(x, plan.u, DT)
        xs.append(x)
        reached = reached or plan.goal_reached
    xs = np.array(xs)
    clearance = float("nan")
    if case.obstacle_xy_r is not None:
        cx, cy, r = case.obstacle_xy_r
        clearance = float(np.min(np.hypot(xs[:, 0] - cx, xs[:, 1] - cy)) - r - case.robot_radius_m)
    pos = xs[-1, : len(case.goal)]
    t = np.array(times[1:]) * 1e3  # the first (cold) step is not a steady-state cycle
    return {"median_ms": float(np.median(t)), "p99_ms": float(np.percentile(t, 99)), "max_ms": float(t.max()),
            "reached": bool(reached and np.linalg.norm(pos - case.goal) < 0.2), "clearance_m": clearance,
            "track_m": float(np.nanmean(errs)), "xs": xs, "counters": dict(ctrl.counters)}


def _row(label: str, r: dict, base: dict | None = None) -> str:
    ratio = f"{base['median_ms'] / r['median_ms']:7.1f}x" if base else "        "
    c = r["counters"]
    return (f"  {label:<28} median {r['median_ms']:8.3f} ms  p99 {r['p99_ms']:8.3f} ms  {ratio}  "
            f"goal {'yes' if r['reached'] else 'NO '}  clearance {r['clearance_m']:6.3f} m  "
            f"track {r['track_m']:.3f} m  fallbacks {c['shifted'] + c['brake']}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer steps, N = 20 only (smoke run)")
    ap.add_argument("--core", type=int, default=1, help="CPU core to pin to")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {args.core})
        except OSError:
            pass
    steps = 60 if args.quick else 200
    horizons = (20,) if args.quick else (20, 40)
    cache = tempfile.mkdtemp(prefix="sanqin_mpc_bench_")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, pinned to core "
          f"{args.core}, load average {load:.2f} (shared with other developers: absolute times are noisy, "
          f"ratios within this run are comparable); Python {sys.version.split()[0]}, CasADi {ca.__version__}")
    print(f"closed loop: dt = {DT} s, {steps} steps; time = whole control step (reference + solve + checks)")
    headline = None
    for case in cases():
        for n in horizons:
            print(f"\n{case.name}, N = {n}")
            base = closed_loop(case, n, "ipopt", steps, naive=True)
            ours = closed_loop(case, n, "rti", steps, codegen=True, cache_dir=cache)
            print(_row("naive Opti+IPOPT cold", base))
            print(_row("rti (qrqp, codegen)", ours, base))
            if case.name == "differential_drive" and n == 20:
                conv = closed_loop(case, n, "sqp", steps, max_iter=100, tol=1e-10)
                jit = {"codegen": True, "cache_dir": cache}
                for label, solver, extra in (("rti (qrqp, interpreted)", "rti", {}),
                                             ("sqp_qrqp (casadi sqpmethod)", "sqp_qrqp", {}),
                                             ("sqp_qrqp (jit)", "sqp_qrqp", jit),
                                             ("fatrop", "fatrop", {"max_iter": 100}),
                                             ("fatrop (jit)", "fatrop", {"max_iter": 100, **jit}),
                                             ("ipopt warm (primal+dual)", "ipopt", {"max_iter": 100}),
                                             ("ipopt warm (jit)", "ipopt", {"max_iter": 100, **jit})):
                    print(_row(label, closed_loop(case, n, solver, steps, **extra), base))
                print(_row("sqp converged (reference)", conv, base))
                k = min(len(conv["xs"]), len(ours["xs"]))
                dev = float(np.max(np.linalg.norm(conv["xs"][:k, :2] - ours["xs"][:k, :2], axis=1)))
                print(f"  rti vs converged closed loop: max position deviation {dev * 100:.2f} cm")
                headline = (ours, base, dev)
    ours, base, dev = headline
    print(f"\nHEADLINE differential drive N=20: RTI {ours['median_ms']:.3f} ms median / {ours['p99_ms']:.3f} ms p99, "
          f"{base['median_ms'] / ours['median_ms']:.0f}x faster than naive Opti+IPOPT "
          f"({base['median_ms']:.1f} ms, goal {'reached' if base['reached'] else 'NOT reached'}), "
          f"goal {'reached' if ours['reached'] else 'NOT reached'}, closed loop within {dev * 100:.1f} cm "
          f"of a converged solve")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
