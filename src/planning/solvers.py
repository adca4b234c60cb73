"""Solver backends for the NMPC, chosen by name from :data:`BACKENDS`.

* ``rti`` — real-time iteration: one Gauss-Newton SQP step per control cycle, the QP solved by qrqp
  (``rti_osqp``: by OSQP). The QP data (Hessian, gradient, constraint Jacobian and residuals) come from one
  CasADi function that can be generated as C, compiled with gcc and cached on disk, keyed by a hash of
  the problem, the CasADi version and the flags — the next start loads the shared object in milliseconds.
* ``sqp`` — the same Gauss-Newton SQP iterated to convergence (full steps, ``max_iter`` cap).
* ``sqp_qrqp`` / ``sqp_osqp`` — CasADi's ``sqpmethod`` (line search) with the Gauss-Newton Hessian.
* ``ipopt`` — interior point, warm-started with primal and dual variables, wall-time capped.
* ``fatrop`` — structure-exploiting interior point (stage-ordered variables/constraints detected).

Every backend returns a :class:`SolveResult`; none raises for a failed solve (``success`` is False).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import casadi as ca
import numpy as np

from sanqin.planning.errors import MpcSetupError, SolverUnavailableError
from sanqin.planning.nmpc import NmpcProblem


@dataclass(frozen=True)
class SolveResult:
    """Primal/dual solution of one solve with its status."""

    w: np.ndarray
    lam_g: np.ndarray
    lam_x: np.ndarray
    success: bool
    iterations: int
    status: str


@dataclass(frozen=True)
class SolverOptions:
    """Backend options: iteration cap, wall-time cap (s), tolerance, and code generation."""

    max_iter: int = 1
    max_time_s: float = 0.05
    tol: float = 1e-6
    codegen: bool = False
    cache_dir: str = ""
    compile_flags: tuple[str, ...] = ("-O2",)


class Backend(Protocol):
    """A solver: built once for a problem, called every cycle with warm-start values."""

    name: str

    def solve(self, w0: np.ndarray, lam_g0: np.ndarray, lam_x0: np.ndarray, p: np.ndarray,
              lbx: np.ndarray, ubx: np.ndarray, ubg: np.ndarray) -> SolveResult:
        """Solve from the warm start ``w0`` (duals ``lam_g0``, ``lam_x0``) for parameters ``p``.

        ``lbx``/``ubx`` pin the initial state (:meth:`NmpcProblem.bounds`); ``ubg`` relaxes unused obstacle
        rows to +inf (so they do not duplicate the slack bound and make the QP's active set degenerate).
        """
        ...


def default_cache_dir() -> Path:
    """``$SANQIN_CACHE_DIR/mpc`` or ``~/.cache/sanqin/mpc``."""
    root = os.environ.get("SANQIN_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "sanqin")
    return Path(root) / "mpc"


def cached_library_path(fn: ca.Function, key: str, cache_dir: str | Path, flags: tuple[str, ...], cc: str) -> Path:
    """Where :func:`compile_cached` keeps the library of ``fn`` built by compiler ``cc`` with ``flags``."""
    h = hashlib.sha256("|".join([key, ca.__version__, cc, *flags]).encode())
    h.update(fn.serialize().encode())
    folder = Path(cache_dir) if cache_dir else default_cache_dir()
    return folder / f"{fn.name()}_{h.hexdigest()[:20]}.so"


def compile_cached(fn: ca.Function, key: str, cache_dir: str | Path, flags: tuple[str, ...], *,
                   rebuilt: bool = False) -> ca.Function:
    """``fn`` as C compiled with gcc into ``<cache_dir>/<name>_<hash>.so`` (reused when present), loaded.

    The hash covers ``key`` (the problem digest), the serialized function itself (so anything that changes
    the generated code — e.g. the Hessian's regularisation, which the problem digest does not see — gets a
    new library), the CasADi version, the compiler and the flags. A cached library that does not load
    (truncated, foreign) is rebuilt once. Raises :class:`SolverUnavailableError` when gcc is missing or
    compilation fails.
    """
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise SolverUnavailableError("code generation needs gcc (or cc) on PATH")
    lib = cached_library_path(fn, key, cache_dir, flags, cc)
    folder = lib.parent
    folder.mkdir(parents=True, exist_ok=True)
    if not lib.exists():
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            src = Path(tmp) / f"{fn.name()}.c"
            cg = ca.CodeGenerator(src.name, {"with_header": False})
            cg.add(fn)
            cg.generate(tmp + os.sep)
            out = Path(tmp) / lib.name
            proc = subprocess.run([cc, "-fPIC", "-shared", *flags, str(src), "-o", str(out), "-lm"],
                                  capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise SolverUnavailableError(f"gcc failed for {fn.name()}: {proc.stderr.strip()[:500]}")
            os.replace(out, lib)  # atomic: a concurrent builder never sees a half-written file
    try:
        return ca.external(fn.name(), str(lib))
    except RuntimeError:
        if rebuilt:
            raise SolverUnavailableError(f"compiled library {lib} does not load") from None
        lib.unlink(missing_ok=True)  # corrupt cache entry: build it again
        return compile_cached(fn, key, cache_dir, flags, rebuilt=True)


def _qp_options(qpsol: str) -> dict:
    opts: dict = {"error_on_fail": False}
    if qpsol == "qrqp":
        opts.update(print_iter=False, print_header=False, print_info=False, max_iter=300)
    elif qpsol == "osqp":
        opts.update(osqp={"verbose": False, "eps_abs": 1e-6, "eps_rel": 1e-6, "polish": True, "max_iter": 4000},
                    warm_start_primal=True, warm_start_dual=True)
    return opts


class GaussNewtonSqp:
    """Full-step Gauss-Newton SQP (``max_iter = 1`` is the real-time iteration) with a sparse QP solver."""

    def __init__(self, problem: NmpcProblem, options: SolverOptions, qpsol: str = "qrqp") -> None:
        self.name = "rti" if options.max_iter == 1 else "sqp"
        self.problem = problem
        self.options = options
        nlp = problem.nlp
        w, p = nlp["x"], nlp["p"]
        lam_g = ca.SX.sym("lam_g", problem.n_g)
        hess = problem.hess_gn(w, p, 1.0, lam_g)
        grad = ca.gradient(nlp["f"], w)
        jac = ca.jacobian(nlp["g"], w)
        # everything the QP needs in one call, bounds shifted to the step variable (no numpy in between)
        lbx, ubx = ca.SX.sym("lbx", problem.n_w), ca.SX.sym("ubx", problem.n_w)
        ubg = ca.SX.sym("ubg", problem.n_g)
        g = nlp["g"]
        qp_data = ca.Function(f"qp_data_{problem.model.name}", [w, p, lbx, ubx, ubg],
                              [hess, grad, jac, ca.DM(problem.lbg) - g, ubg - g, lbx - w, ubx - w],
                              ["w", "p", "lbx", "ubx", "ubg"], ["H", "g", "A", "lba", "uba", "dlbx", "dubx"])
        if options.codegen:
            qp_data = compile_cached(qp_data, problem.digest(), options.cache_dir, options.compile_flags)
        self._qp_data = qp_data
        if not ca.has_conic(qpsol):
            raise SolverUnavailableError(f"QP solver {qpsol!r} is not available in this CasADi build")
        self._qp = ca.conic("qp", qpsol, {"h": hess.sparsity(), "a": jac.sparsity()}, _qp_options(qpsol))
        # an active-set QP can cycle on a degenerate active set: the same QP then goes to OSQP (ADMM)
        self._qp_backup = (ca.conic("qp_backup", "osqp", {"h": hess.sparsity(), "a": jac.sparsity()},
                                    _qp_options("osqp")) if qpsol != "osqp" and ca.has_conic("osqp") else None)
        self.backup_solves = 0

    def solve(self, w0: np.ndarray, lam_g0: np.ndarray, lam_x0: np.ndarray, p: np.ndarray,
              lbx: np.ndarray, ubx: np.ndarray, ubg: np.ndarray) -> SolveResult:
        """Iterate full SQP steps from the warm start; stop at the cap or when the step is tiny."""
        w = np.asarray(w0, float).copy()
        lam_g, lam_x = np.asarray(lam_g0, float), np.asarray(lam_x0, float)
        ok, status, iters = True, "ok", 0
        t_end = time.perf_counter() + self.options.max_time_s
        for it in range(1, self.options.max_iter + 1):
            iters = it
            H, g, A, lba, uba, dlbx, dubx = self._qp_data.call([w, p, lbx, ubx, ubg])
            # conic inputs: h g a lba uba lbx ubx x0 lam_x0 lam_a0 q p
            args = [H, g, A, lba, uba, dlbx, dubx, 0, lam_x, lam_g, 0, 0]
            dw, _cost, lam_a, lam_xo = self._qp.call(args)[:4]
            stats = self._qp.stats()
            if not stats.get("success", False) and self._qp_backup is not None:
                dw, _cost, lam_a, lam_xo = self._qp_backup.call(args)[:4]
                stats = self._qp_backup.stats()
                self.backup_solves += 1
            dw = dw.full().ravel()
            if not stats.get("success", False) or not np.all(np.isfinite(dw)):
                ok, status = False, f"qp failed: {stats.get('return_status', 'unknown')}"
                break
            w = w + dw
            lam_g = lam_a.full().ravel()
            lam_x = lam_xo.full().ravel()
            if np.max(np.abs(dw)) < self.options.tol:
                status = "converged"
                break
            if time.perf_counter() > t_end:
                status = "time budget reached"
                break
        return SolveResult(w, lam_g, lam_x, ok, iters, status)


#: Solver statuses whose iterate is still usable as a command (the fallback checks plausibility anyway).
USABLE_STATUS = ("Maximum_Iterations_Exceeded", "Maximum_WallTime_Exceeded", "Search_Direction_Becomes_Too_Small",
                 "Solved_To_Acceptable_Level")


class CasadiNlpsol:
    """A CasADi ``nlpsol`` plugin (ipopt, fatrop, sqpmethod) behind the :class:`Backend` interface."""

    def __init__(self, problem: NmpcProblem, options: SolverOptions, plugin: str, qpsol: str = "qrqp") -> None:
        self.name = plugin if plugin != "sqpmethod" else f"sqp_{qpsol}"
        if not ca.has_nlpsol(plugin):
            raise SolverUnavailableError(f"NLP solver {plugin!r} is not available in this CasADi build")
        opts: dict = {"print_time": False, "error_on_fail": False}
        if options.codegen:
            opts.update(jit=True, compiler="shell",
                        jit_options={"compiler": "gcc", "flags": list(options.compile_flags), "verbose": False})
        if plugin == "ipopt":
            opts["ipopt"] = {"print_level": 0, "sb": "yes", "max_iter": max(options.max_iter, 1),
                             "max_wall_time": options.max_time_s, "tol": options.tol,
                             "warm_start_init_point": "yes", "warm_start_bound_push": 1e-6,
                             "warm_start_mult_bound_push": 1e-6, "mu_init": 1e-3, "linear_solver": "mumps"}
        elif plugin == "fatrop":
            opts.update(structure_detection="auto", equality=list(problem.equality), debug=False)
            opts["fatrop"] = {"print_level": 0, "max_iter": max(options.max_iter, 1), "tol": options.tol,
                              "mu_init": 1e-3}
        elif plugin == "sqpmethod":
            qp_opts: dict = {"error_on_fail": False}
            if qpsol == "qrqp":
                qp_opts.update(print_iter=False, print_header=False, print_info=False)
            elif qpsol == "osqp":
                qp_opts["osqp"] = {"verbose": False, "eps_abs": 1e-6, "eps_rel": 1e-6, "polish": True}
            opts.update(qpsol=qpsol, qpsol_options=qp_opts, hess_lag=problem.hess_gn, print_header=False,
                        print_iteration=False, print_status=False, max_iter=max(options.max_iter, 1),
                        tol_pr=options.tol, tol_du=options.tol)
        try:
            self._solver = ca.nlpsol(f"mpc_{plugin}", plugin, problem.nlp, opts)
        except RuntimeError as err:
            raise MpcSetupError(f"cannot build {plugin} for {problem.model.name}: {err}") from err
        self._lbg = problem.lbg

    def solve(self, w0: np.ndarray, lam_g0: np.ndarray, lam_x0: np.ndarray, p: np.ndarray,
              lbx: np.ndarray, ubx: np.ndarray, ubg: np.ndarray) -> SolveResult:
        """One call of the NLP solver from the warm start."""
        try:
            r = self._solver(x0=w0, p=p, lam_g0=lam_g0, lam_x0=lam_x0, lbx=lbx, ubx=ubx, lbg=self._lbg, ubg=ubg)
        except RuntimeError as err:  # CasADi raises on evaluation errors (NaN in a function)
            return SolveResult(np.asarray(w0), np.asarray(lam_g0), np.asarray(lam_x0), False, 0, f"error: {err}")
        stats = self._solver.stats()
        w = np.asarray(r["x"]).reshape(-1)
        ok = bool(stats.get("success", False)) and np.all(np.isfinite(w))
        status = str(stats.get("return_status", "unknown"))
        # an iteration/time cap or a vanishing step still returns a usable finite iterate (RTI-like)
        if not ok and status in USABLE_STATUS and np.all(np.isfinite(w)):
            ok = True
        return SolveResult(w, np.asarray(r["lam_g"]).reshape(-1), np.asarray(r["lam_x"]).reshape(-1), ok,
                           int(stats.get("iter_count", 0) or 0), status)


#: Backend name → constructor ``(problem, options) -> Backend``.
BACKENDS = {
    "rti": lambda prob, o: GaussNewtonSqp(prob, SolverOptions(**{**o.__dict__, "max_iter": 1}), "qrqp"),
    "rti_osqp": lambda prob, o: GaussNewtonSqp(prob, SolverOptions(**{**o.__dict__, "max_iter": 1}), "osqp"),
    "sqp": lambda prob, o: GaussNewtonSqp(prob, o, "qrqp"),
    "sqp_qrqp": lambda prob, o: CasadiNlpsol(prob, o, "sqpmethod", "qrqp"),
    "sqp_osqp": lambda prob, o: CasadiNlpsol(prob, o, "sqpmethod", "osqp"),
    "ipopt": lambda prob, o: CasadiNlpsol(prob, o, "ipopt"),
    "fatrop": lambda prob, o: CasadiNlpsol(prob, o, "fatrop"),
}


def make_backend(name: str, problem: NmpcProblem, options: SolverOptions) -> Backend:
    """Build the named backend for ``problem``; raises :class:`MpcSetupError` for an unknown name."""
    if name not in BACKENDS:
        raise MpcSetupError(f"unknown solver {name!r}; known: {sorted(BACKENDS)}")
    return BACKENDS[name](problem, options)
