"""Kinematic-robot twins: the scene publisher gives the planner the headless path and obstacle table."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import numpy as np
import pytest

from sanqin.msgs.geometry import path_from_msg
from sanqin.msgs.obstacles import pointcloud2_to_obstacles
from sanqin.runtime.config import load_config, to_params
from sanqin.runtime.errors import ConfigError
from sanqin.runtime.paths import share_dir
from sanqin.runtime.runner import run_scenario
from sanqin.runtime.scenario import load_scenario
from sanqin.simulation.gazebo.generate import build_twin
from sanqin.simulation.gazebo.scene import ScenePublisher, ScenePublisherConfig
from sanqin.simulation.gazebo.score import Bag, score_bag

SHARE = share_dir()


@pytest.fixture(scope="module")
def patrol(tmp_path_factory: pytest.TempPathFactory):
    sc = replace(load_scenario(SHARE / "sim" / "scenarios" / "mpc_tunnel_patrol.yaml"), duration_s=6.0)
    out = tmp_path_factory.mktemp("patrol") / "run"
    return sc, run_scenario(sc, out, plots=False), out


def test_scene_publisher_sends_what_the_headless_plugin_sends(patrol) -> None:
    sc, _, out = patrol
    twin = build_twin(sc)
    (entry,) = [n for n in twin.nodes if n.node == "scene_publisher"]
    scene = ScenePublisher(load_config(ScenePublisherConfig, entry.params))
    bag = Bag(out / "bag")
    try:
        (_, path_msg), *_ = list(bag.messages(entry.remap["path"]))
        t, table_msg = next(iter(bag.messages(entry.remap["obstacles"])))
    finally:
        bag.close()
    mine = scene.tick(t)
    headless_path = path_from_msg(path_msg)
    np.testing.assert_allclose([p.pose.position_m for p in mine["path"].poses],
                               [p.pose.position_m for p in headless_path.poses])
    assert mine["path"].frame_id == headless_path.frame_id
    np.testing.assert_allclose(mine["obstacles"].as_array(), pointcloud2_to_obstacles(table_msg).as_array())
    assert "path" not in scene.tick(t + 0.1)  # the path goes out once (latched)


def test_patrol_score_from_the_bag_matches_the_headless_run(patrol) -> None:
    sc, result, out = patrol
    got = score_bag(sc, out / "bag").metrics
    for key, tol in (("robot.collisions", 0.0), ("robot.goal_reached", 0.0), ("robot.distance_m", 0.05),
                     ("robot.min_clearance_m", 0.05), ("robot.max_path_deviation_m", 0.01)):
        assert got[key] == pytest.approx(result.metrics[key], abs=tol), key


def test_drive_limits_come_from_the_kinematic_model() -> None:
    sc = load_scenario(SHARE / "sim" / "scenarios" / "mpc_tunnel_patrol.yaml")
    params = sc.simulators[0].params
    model = ET.parse(SHARE / "sim" / "gazebo" / "models" / "mpc_tunnel_patrol_base" / "model.sdf").getroot()  # noqa: S314
    (drive,) = [p for p in model.iter("plugin") if p.get("name") == "gz::sim::systems::DiffDrive"]
    assert float(drive.findtext("max_linear_velocity")) == params["v_max_m_s"]
    assert drive.findtext("topic") == "/model/mpc_tunnel_patrol_base/cmd_vel"


@pytest.mark.parametrize(("values", "match"), [({"path": [0.0, 0.0, 1.0]}, "two waypoints"),
                                               ({"obstacles": [1.0, 2.0]}, "triples"),
                                               ({"obstacles": [1.0, 2.0, -0.5]}, "positive")])
def test_bad_scene_configs_are_rejected(values: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_config(ScenePublisherConfig, values)
    assert to_params(load_config(ScenePublisherConfig, {}))["dims"] == 2
