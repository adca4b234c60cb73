"""Solver backends agree, code generation compiles once and is reused from the disk cache."""

from __future__ import annotations

import shutil

import casadi as ca
import numpy as np
import pytest

from sanqin.planning import models
from sanqin.planning.errors import MpcSetupError
from sanqin.planning.mpc import Mpc, config_for
from sanqin.planning.nmpc import Weights, build_problem
from sanqin.planning.reference import ReferencePath
from sanqin.planning.solvers import BACKENDS, SolverOptions, cached_library_path, compile_cached, make_backend


def _first_move(solver: str, **extra) -> np.ndarray:
    m = models.differential_drive()
    # a budget no solve reaches: with the default 20 ms, a loaded machine cut the iterations (different numbers)
    ctrl = Mpc(m, config_for(m, horizon=8, solver=solver, max_obstacles=0, max_iter=100, tol=1e-8,
                             time_budget_s=10.0, **extra))
    ctrl.set_path(ReferencePath(np.array([[0, 0], [3, 1.0]]), 0.5))
    plan = ctrl.step(np.zeros(3))
    assert plan.source == "solver", plan.status
    return plan.states


@pytest.mark.parametrize("solver", sorted(set(BACKENDS) - {"rti", "rti_osqp"}))
def test_converged_backends_agree(solver) -> None:
    ref = _first_move("sqp")
    assert _first_move(solver) == pytest.approx(ref, abs=2e-3)


def test_unknown_solver_is_rejected() -> None:
    m = models.differential_drive()
    prob = build_problem(m, 5, 0.1, Weights(np.ones(3), np.ones(2), np.ones(2)))
    with pytest.raises(MpcSetupError, match="unknown solver"):
        make_backend("simplex", prob, SolverOptions())


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_codegen_compiles_once_and_reuses_the_cached_library(tmp_path) -> None:
    opts = {"codegen": True, "cache_dir": str(tmp_path)}
    generated = _first_move("rti", **opts)
    libs = sorted(tmp_path.glob("*.so"))
    assert len(libs) == 1
    stamp = libs[0].stat().st_mtime_ns
    assert _first_move("rti", **opts) == pytest.approx(generated)
    assert sorted(tmp_path.glob("*.so")) == libs and libs[0].stat().st_mtime_ns == stamp
    assert _first_move("rti") == pytest.approx(generated, abs=1e-9)  # same numbers as the interpreted run
    m = models.differential_drive()
    Mpc(m, config_for(m, horizon=9, max_obstacles=0, **opts))  # another problem → another library
    assert len(list(tmp_path.glob("*.so"))) == 2


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_codegen_cache_is_keyed_by_the_generated_function_and_survives_a_corrupt_library(tmp_path) -> None:
    x = ca.SX.sym("x", 2)
    f1 = ca.Function("cached_fn", [x], [ca.sumsqr(x)])
    f2 = ca.Function("cached_fn", [x], [ca.sumsqr(x) + 1e-4 * x[0]])  # same name and key, other code
    g1 = compile_cached(f1, "same-key", tmp_path, ("-O0",))
    g2 = compile_cached(f2, "same-key", tmp_path, ("-O0",))
    assert float(g1([1.0, 2.0])) == pytest.approx(5.0)
    assert float(g2([1.0, 2.0])) == pytest.approx(5.0001)  # not the stale library of f1
    assert len(list(tmp_path.glob("*.so"))) == 2
    f3 = ca.Function("cached_fn", [x], [ca.sumsqr(x) + 2.0])
    lib = cached_library_path(f3, "same-key", tmp_path, ("-O0",), shutil.which("gcc") or shutil.which("cc"))
    lib.write_bytes(b"not a shared object")  # e.g. left by a crashed or foreign build
    assert float(compile_cached(f3, "same-key", tmp_path, ("-O0",))([1.0, 2.0])) == pytest.approx(7.0)
