"""Welding seam scenario: hybrid force/position control on the MuJoCo UR5e, ±5 mm surface-model error."""

from __future__ import annotations

import dataclasses

import pytest

from sanqin.control.errors import ForceLimitError
from sanqin.control.seam import SeamConfig, SeamFollower
from sanqin.runtime.config import load_config
from sanqin.runtime.errors import ConfigError
from sanqin.runtime.paths import share_dir
from sanqin.runtime.runner import run_scenario
from sanqin.runtime.scenario import load_scenario

SCENARIO = share_dir() / "sim" / "scenarios" / "welding_seam.yaml"


@pytest.mark.parametrize(
    "offset_m, friction, speed_m_s",
    [(-0.005, None, None), (0.005, None, None), (0.005, 0.3, 0.01)],
    ids=["surface-5mm", "surface+5mm", "surface+5mm-friction0.3-10mm/s"],
)
def test_seam_followed_with_force_regulated_despite_surface_error(ur5e_path, tmp_path, offset_m, friction,
                                                                   speed_m_s) -> None:
    sc = load_scenario(SCENARIO)
    sim, node = sc.simulators[0], sc.nodes[0]
    sim_params = {**sim.params, "surface_offset_m": offset_m}
    node_params = dict(node.params)
    if friction is not None:
        sim_params["friction"] = friction
        node_params["weld_speed_m_s"] = speed_m_s
    sc = dataclasses.replace(
        sc,
        simulators=(dataclasses.replace(sim, params=sim_params),),
        nodes=(dataclasses.replace(node, params=node_params),),
        duration_s=20.0 if speed_m_s else sc.duration_s,
    )
    result = run_scenario(sc, tmp_path / "run", record=offset_m < 0, plots=False)
    m = result.metrics
    assert result.passed, result.checks
    assert m["cell.force_rms_error_n"] < 2.0 and abs(m["cell.force_mean_n"] - 15.0) < 1.0
    assert m["cell.seam_rms_error_m"] < 0.001 and m["cell.seam_coverage"] > 0.97
    assert m["nodes.seam_follower.safety.estops"] == 0
    if offset_m < 0:
        assert (tmp_path / "run" / "metrics.json").is_file() and (tmp_path / "run" / "bag").exists()


def test_target_force_above_limit_is_refused(ur5e_path) -> None:
    with pytest.raises(ConfigError, match="below the safety limit"):
        load_config(SeamConfig, {"target_force_n": 80.0, "safety": {"max_force_n": 60.0}})
    cfg = load_config(SeamConfig, {"robot": {"model_path": str(ur5e_path), "tool_offset_m": [0, 0, 0.15]}})
    follower = SeamFollower(cfg)
    with pytest.raises(ForceLimitError, match="refused"):
        follower.set_target_force(cfg.safety.max_force_n + 1.0)
    with pytest.raises(ForceLimitError, match="refused"):
        follower.set_target_force(cfg.contact_threshold_n)  # the torch would lift off and weld in the air
    assert follower.target_force_n == cfg.target_force_n  # unchanged; no motion was commanded for it


def test_torch_turns_against_a_tilted_surface_normal(ur5e_path) -> None:
    import numpy as np

    from .control_fixtures import HOME

    normal = np.array([0.0, -np.sin(0.3), np.cos(0.3)])  # plate tilted 0.3 rad about x
    cfg = load_config(SeamConfig, {"robot": {"model_path": str(ur5e_path), "tool_offset_m": [0, 0, 0.15]},
                                   "normal": list(normal), "safety": {"watchdog_timeout_s": 0.01}})
    follower = SeamFollower(cfg)
    q, t = HOME.copy(), 0.0
    for _ in range(1500):  # ideal position tracking during the free move
        t += 0.004
        follower.on_joint_states(t, t, q, np.zeros(6))
        follower.on_wrench(t, t, np.array([0.0, 0.0, 7.85]), np.zeros(3))
        q = follower.step(t, q, np.zeros(6)).position.copy()
        if follower.phase.value != "move":
            break
    follower.model.update(q)
    _, R = follower.model.site_pose()
    assert follower.phase.value == "approach"
    assert np.degrees(np.arccos(np.clip(R[:, 2] @ -normal, -1, 1))) < 0.5


def test_tool_axis_alignment_helper() -> None:
    import numpy as np

    from sanqin.control.seam import align_tool_axis

    R = np.eye(3)
    for axis in ([0.0, 0.0, 1.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.3, -0.4, 0.866]):
        a = np.asarray(axis) / np.linalg.norm(axis)
        out = align_tool_axis(R, a)
        assert np.allclose(out[:, 2], a) and np.allclose(out.T @ out, np.eye(3))


def test_seam_on_a_tilted_plate(ur5e_path) -> None:
    import numpy as np

    tilt = 0.25  # rad about x
    n = np.array([0.0, -np.sin(tilt), np.cos(tilt)])
    e1, p0 = np.array([1.0, 0.0, 0.0]), np.array([0.45, 0.05, 0.30])
    e2 = np.cross(n, e1)
    wp = np.concatenate([p0, p0 + 0.05 * e1 + 0.05 * e2, p0 + 0.02 * e1 + 0.12 * e2]).tolist()
    sc = load_scenario(SCENARIO)
    sim, node = sc.simulators[0], sc.nodes[0]
    sc = dataclasses.replace(
        sc,
        simulators=(dataclasses.replace(sim, params={**sim.params, "waypoints_m": wp, "normal": n.tolist(),
                                                      "surface_offset_m": 0.005}),),
        nodes=(dataclasses.replace(node, params={"waypoints_m": wp, "normal": n.tolist()}),),
    )
    result = run_scenario(sc, record=False, plots=False)
    assert result.passed, result.checks
    assert result.metrics["cell.force_rms_error_n"] < 1.5 and result.metrics["cell.seam_rms_error_m"] < 0.001
