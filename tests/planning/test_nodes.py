"""Planner nodes: build from the shipped params, run on the headless bus, survive bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sanqin.common.types import Odometry, Pose, PoseStamped, Twist
from sanqin.common.types import Path as CorePath
from sanqin.msgs.geometry import odometry_to_msg, path_to_msg
from sanqin.planning.components import CoveragePlanner, MpcPlanner, MpcPlannerConfig, state_from_odometry
from sanqin.planning.errors import PlanningError
from sanqin.planning.nodes import COVERAGE_PLANNER, MPC_PLANNER
from sanqin.runtime.errors import ConfigError
from sanqin.runtime.headless import Graph
from sanqin.runtime.params import load_node_config
from sanqin.runtime.runner import run_scenario

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["mpc_planner", "tunnel_mpc", "bay_mpc", "drone_mpc"])
def test_shipped_mpc_configs_build_their_planner(name) -> None:
    cfg = load_node_config(MpcPlannerConfig, ROOT / "config" / f"{name}.yaml", name)
    planner = MpcPlanner(cfg)
    out = planner.tick(0.0)  # no odometry yet: brakes, never raises
    assert planner.last.source == "brake" and np.all(np.isfinite(out["cmd_vel"].linear_m_s))


def _odom(x, y, yaw=0.0, t=0.0):
    q = np.array([0, 0, np.sin(yaw / 2), np.cos(yaw / 2)])
    return Odometry(t, "odom", "base_link", Pose(np.array([x, y, 0.0]), q), Twist())


def test_mpc_node_on_the_bus_publishes_commands_and_prediction() -> None:
    g = Graph()
    node = g.add_node(MPC_PLANNER, load_node_config(MpcPlannerConfig, ROOT / "config/mpc_planner.yaml", "mpc_planner"))
    cmds, preds = [], []
    g.bus.subscribe("/cmd_vel", "geometry_msgs/msg/Twist", cmds.append)
    g.bus.subscribe("/predicted_path", "nav_msgs/msg/Path", preds.append)
    f = g.bus.factory
    poses = tuple(PoseStamped(0.0, "odom", Pose(np.array([x, 0.0, 0.0]))) for x in (0.0, 5.0))
    g.bus.publish("/path", path_to_msg(CorePath(0.0, "odom", poses), f))
    for k in range(10):
        g.bus.publish("/odom", odometry_to_msg(_odom(0.02 * k, 0.0, t=0.1 * k), f))
        g.advance_to(0.1 * (k + 1))
    assert len(cmds) >= 9 and cmds[-1].linear.x > 0.1
    assert len(preds[-1].poses) == 21
    assert node.host.counters["handler_errors"] == 0


def test_bad_inputs_are_contained() -> None:
    cfg = load_node_config(MpcPlannerConfig, ROOT / "config/mpc_planner.yaml", "mpc_planner")
    planner = MpcPlanner(cfg)
    nan_odom = _odom(float("nan"), 0.0)
    planner.on_odometry(nan_odom, 0.0)
    planner.tick(0.05)
    assert planner.last.source == "brake" and planner.mpc.counters["invalid_state"] == 1
    planner.on_odometry(_odom(0.0, 0.0), 1.0)
    planner.tick(5.0)  # stale odometry (older than odom_timeout_s)
    assert planner.last.source == "brake"
    bad = CorePath(0.0, "odom", (PoseStamped(0.0, "odom", Pose(np.array([np.inf, 0.0, 0.0]))),))
    with pytest.raises(PlanningError):
        planner.on_path(bad, 0.0)
    assert planner.rejected_paths == 1
    from sanqin.common.obstacles import Obstacle, ObstacleList

    box = (Obstacle(np.array([2.0, 0.0, 0.0]), np.ones(3)),)
    planner.on_obstacles(ObstacleList(box, 1.0, "odom"), 1.0)
    with pytest.raises(PlanningError, match="frame"):  # e.g. base_link boxes read as odom positions
        planner.on_obstacles(ObstacleList((), 1.1, "base_link"), 1.1)
    assert planner.rejected_obstacles == 1 and len(planner.obstacles.obstacles) == 1
    bay = MpcPlanner(load_node_config(MpcPlannerConfig, ROOT / "config/bay_mpc.yaml", "bay_mpc"))
    before = bay.mpc.model.u_ub[0]
    bay.on_payload(400.0, 0.0)
    assert bay.mpc.model.u_ub[0] == pytest.approx(before / 2)
    with pytest.raises(PlanningError):
        bay.on_payload(-5.0, 0.0)
    for kg in (float("nan"), float("inf")):  # the Float64 converter passes them on: the handler refuses them
        with pytest.raises(PlanningError):
            bay.on_payload(kg, 0.0)
        with pytest.raises(PlanningError):  # whatever the model (a differential drive ignores a good payload)
            planner.on_payload(kg, 0.0)
    assert bay.mpc.model.u_ub[0] == pytest.approx(before / 2)


@pytest.mark.parametrize("name", ["bay_mpc", "tunnel_mpc", "drone_mpc"])
def test_lost_odometry_brakes_velocity_commands_to_zero(name) -> None:
    """Velocity-commanding planners brake from a dead-reckoned state: the command decays to zero and stays
    finite (a NaN odometry must not leak into the twist; a stale state once repeated one braking step forever)."""
    cfg = load_node_config(MpcPlannerConfig, ROOT / "config" / f"{name}.yaml", name)
    planner = MpcPlanner(cfg)
    moving = Odometry(0.0, "odom", "base_link", Pose(np.zeros(3)), Twist(np.array([0.6, 0.0, 0.0])))
    planner.on_odometry(moving, 0.0)
    planner.tick(0.0)
    nan_odom = Odometry(0.1, "odom", "base_link", Pose(np.zeros(3)), Twist(np.array([np.nan, 0.0, 0.0])))
    planner.on_odometry(nan_odom, 0.1)
    out = planner.tick(0.1)
    assert np.all(np.isfinite(out["cmd_vel"].linear_m_s))
    speeds = []
    for k in range(2, 80):  # the NaN odometry goes stale too: no measurement for ~8 s
        out = planner.tick(0.1 * k)
        assert np.all(np.isfinite(out["cmd_vel"].linear_m_s))
        speeds.append(float(np.linalg.norm(out["cmd_vel"].linear_m_s)))
    assert planner.last.source == "brake"
    assert speeds[-1] == pytest.approx(0.0, abs=1e-9)
    assert max(speeds[-20:]) <= max(speeds[:5]) + 1e-9


def test_multirotor_state_from_body_twist() -> None:
    odom = Odometry(0.0, "odom", "base_link", Pose(np.array([1, 2, 3.0]), np.array([0, 0, np.sin(np.pi / 4),
                                                                                     np.cos(np.pi / 4)])),
                    Twist(np.array([1.0, 0.0, 0.5])))
    assert state_from_odometry("multirotor", odom) == pytest.approx([1, 2, 3, 0, 1, 0.5])


def test_coverage_planner_plans_from_a_file_and_reports_errors(tmp_path) -> None:
    ring = [[5.0, 52.0], [5.002, 52.0], [5.002, 52.001], [5.0, 52.001], [5.0, 52.0]]
    f = tmp_path / "field.geojson"
    f.write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}))
    g = Graph()
    cfg = load_node_config(COVERAGE_PLANNER.config, ROOT / "config/coverage_planner.yaml", "coverage_planner")
    from dataclasses import replace

    node = g.add_node(COVERAGE_PLANNER, replace(cfg, boundary_file=str(f), plan_on_start=True))
    plans = []
    g.bus.subscribe("/mission_plan", "std_msgs/msg/String", plans.append)
    g.advance_to(1.5)
    doc = json.loads(plans[-1].data)
    assert doc["fileType"] == "Plan" and len(doc["mission"]["items"]) > 10
    from sanqin.uav_bridge.plan_file import loads_plan

    staged = loads_plan(plans[-1].data)  # what the UAV bridge does with it: strict parse and validation
    staged.validate()
    assert len(staged.mission) == len(doc["mission"]["items"])
    assert node.component.metrics()["coverage.covered_share"] >= 0.99
    # the fence holds the take-off point (the route's start, the field's bounding-box corner here) and the field
    from shapely.geometry import Point, Polygon

    fence = staged.fence_polygons[0]
    fence_poly = Polygon([(lon, lat) for lat, lon in fence.vertices])
    assert fence_poly.contains(Point(5.001, 52.0005)) and fence_poly.buffer(1e-9).covers(Point(5.0, 52.0))
    with pytest.raises(ConfigError, match="set together"):
        replace(cfg, home_lat_deg=52.0)
    with pytest.raises(ConfigError, match="latitude"):
        replace(cfg, home_lat_deg=95.0, home_lon_deg=5.0)
    refills = CoveragePlanner(replace(cfg, boundary_file=str(f), coverage=replace(cfg.coverage, tank_l=3.0)))
    result = refills.srv_plan(None, 0.0)
    assert result.success and "sortie 1 of" in result.message and refills.diagnostics()[0].level.value == 1
    broken = CoveragePlanner(replace(cfg, boundary_file=str(tmp_path / "missing.geojson")))
    result = broken.srv_plan(None, 0.0)
    assert not result.success and "cannot read" in result.message
    assert broken.diagnostics()[0].level.value == 2


@pytest.mark.parametrize("scenario, sim", [("mpc_tunnel_patrol", "robot"), ("mpc_bay_transport", "base"),
                                           ("mpc_drone_offboard", "drone")])
def test_closed_loop_scenarios_pass(tmp_path, scenario, sim) -> None:
    result = run_scenario(ROOT / "sim" / "scenarios" / f"{scenario}.yaml", tmp_path / "run", progress=False)
    assert result.passed, result.checks
    m = result.metrics
    assert m[f"{sim}.goal_reached"] == 1.0 and m[f"{sim}.collisions"] == 0.0
    assert m[f"{sim}.min_clearance_m"] > 0.05
