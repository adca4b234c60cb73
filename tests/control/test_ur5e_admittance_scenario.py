"""Admittance node on the MuJoCo UR5e: yields F/K to a push, returns, and holds after a collision e-stop."""

from __future__ import annotations

import pytest

from sanqin.runtime.paths import share_dir
from sanqin.runtime.runner import run_scenario

SCENARIO = share_dir() / "sim" / "scenarios" / "ur5e_admittance.yaml"


def test_push_release_and_collision(ur5e_path, tmp_path) -> None:
    result = run_scenario(SCENARIO, tmp_path / "run", plots=False)
    m = result.metrics
    assert result.passed, result.checks
    assert m["arm.push_disp_y_m"] == pytest.approx(15.0 / 300.0, rel=0.12)  # F/K, less the 0.5 N deadband
    assert abs(m["arm.push_disp_x_m"]) < 0.003 and abs(m["arm.push_disp_z_m"]) < 0.003
    assert m["arm.offset_1s_after_first_push_m"] < 0.01  # the spring brings the tool back
    assert m["nodes.cartesian_admittance.safety.estops"] == 1  # the 200 N strike latched the e-stop
    assert m["arm.drift_after_last_push_m"] < 0.002  # and the arm held still afterwards
