"""The UR5e push twin: the headless MuJoCo arm, the push schedule as world triggers, the operator_push node."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml

from sanqin.common.types import JointStates
from sanqin.msgs.factory import default_factory
from sanqin.msgs.sensors import joint_state_to_msg
from sanqin.runtime.config import load_config
from sanqin.runtime.errors import ConfigError
from sanqin.runtime.headless import Graph
from sanqin.runtime.params import load_node_config
from sanqin.runtime.paths import share_dir
from sanqin.runtime.runner import run_scenario
from sanqin.runtime.scenario import load_scenario
from sanqin.simulation.gazebo.nodes import OPERATOR_PUSH
from sanqin.simulation.gazebo.operator_push import OperatorPush, OperatorPushConfig, push_events
from sanqin.simulation.gazebo.score import score_bag
from sanqin.simulation.gazebo.twin import headless_simulator
from sanqin.simulation.mujoco_arm import UR5E_JOINT_NAMES, ArmPushSim

SHARE = share_dir()
GZ = SHARE / "sim" / "gazebo"
SCENARIO = SHARE / "sim" / "scenarios" / "ur5e_admittance.yaml"
HOME = (-1.5708, -1.5708, 1.5708, -1.5708, -1.5708, 0.0)


def _parse(path: Path) -> ET.Element:
    return ET.parse(path).getroot()  # noqa: S314 - repository-owned, generated file


def _config():
    sc = load_scenario(SCENARIO)
    return sc, load_config(ArmPushSim.Config, sc.simulators[0].params)


def _js(q, t: float = 0.0) -> JointStates:
    return JointStates(stamp_s=t, names=UR5E_JOINT_NAMES, position=np.asarray(q, float), velocity=np.zeros(6),
                       effort=np.zeros(0))


def test_push_events_add_and_remove_each_row_in_time_order() -> None:
    ev = push_events([0.5, 3.5, 0.0, 15.0, 0.0, 2.0, 2.5, 1.0, 0.0, -4.0])
    assert [t for t, _ in ev] == [0.5, 2.0, 2.5, 3.5]
    assert np.sum([f for _, f in ev], axis=0) == pytest.approx([0.0, 0.0, 0.0])  # every push is taken away
    net = np.cumsum([f for _, f in ev], axis=0)
    assert net[1] == pytest.approx([1.0, 15.0, -4.0])  # overlapping rows add up as headless


def test_world_triggers_replay_the_scenario_profile_on_the_tool() -> None:
    sc, cfg = _config()
    world = _parse(GZ / "worlds" / "ur5e_admittance.sdf").find("world")
    plugins = world.findall("plugin")
    assert any(p.get("name") == "gz::sim::systems::ApplyLinkWrench" for p in plugins)
    triggers = [p for p in plugins if p.get("name") == "gz::sim::systems::TriggeredPublisher"]
    events = push_events(cfg.push_profile)
    assert len(triggers) == len(events) == 4
    for k, (trig, (_, force)) in enumerate(zip(triggers, events)):
        assert trig.find("input").get("type") == "gz.msgs.Int32"
        assert trig.find("input").get("topic") == "/world/ur5e_admittance/operator_push"
        assert trig.findtext("input/match") == str(k) and trig.find("input/match").get("field") == "data"
        out = trig.find("output")
        assert out.get("topic") == "/world/ur5e_admittance/wrench/persistent"
        assert out.get("type") == "gz.msgs.EntityWrench"
        assert 'entity: {name: "arm::tool", type: LINK}' in out.text
        got = [float(v) for v in re.search(r"force: \{x: ([^,]+), y: ([^,]+), z: ([^}]+)\}", out.text).groups()]
        assert got == pytest.approx(force)
    bridge = yaml.safe_load((GZ / "bridge" / "ur5e_admittance.yaml").read_text())
    push = [b for b in bridge if b["ros_topic_name"] == "/operator_push"]
    assert push == [{"ros_topic_name": "/operator_push", "gz_topic_name": "/world/ur5e_admittance/operator_push",
                     "ros_type_name": "std_msgs/msg/Int32", "gz_type_name": "gz.msgs.Int32",
                     "direction": "ROS_TO_GZ", "lazy": False}]
    launch = _parse(SHARE / "launch" / "gz_ur5e_admittance.launch.xml")
    (node,) = [n for n in launch.findall("node") if n.get("exec") == "operator_push"]
    params = {p.get("name"): p.get("value") for p in node.findall("param") if p.get("name")}
    assert yaml.safe_load(params["event_times_s"]) == [t for t, _ in events]
    assert yaml.safe_load(params["home_q_rad"]) == pytest.approx(list(headless_simulator(sc, "arm").m.key_qpos[0]))


def test_arm_is_the_headless_model_with_the_tool_on_the_ft_sensor() -> None:
    sc, cfg = _config()
    m = headless_simulator(sc, "arm").m
    model = _parse(GZ / "models" / "ur5e_admittance_arm" / "model.sdf").find("model")
    tool = model.find("link[@name='tool']")
    assert float(tool.findtext("inertial/mass")) == pytest.approx(cfg.tool_mass_kg)
    assert tool.findtext("gravity") is None  # the tool's weight is on the sensor, as headless
    ft = model.find("joint[@name='tool_fixed']/sensor[@type='force_torque']")
    assert ft.findtext("topic") == "/model/ur5e_admittance_arm/wrench"
    assert float(ft.find("force_torque/force/x/noise/stddev").text) == pytest.approx(cfg.force_noise_n)
    (jtc,) = [p for p in model.findall("plugin") if p.get("name") == "gz::sim::systems::JointTrajectoryController"]
    assert [e.text for e in jtc.findall("joint_name")] == list(UR5E_JOINT_NAMES)
    assert [float(e.text) for e in jtc.findall("initial_position")] == pytest.approx(m.key_qpos[0][:6])


def test_hand_over_waits_for_the_arm_at_home_then_relays_and_runs_the_schedule() -> None:
    cfg = load_config(OperatorPushConfig, {"event_times_s": [0.5, 0.5, 1.0], "home_q_rad": list(HOME),
                                           "joint_names": list(UR5E_JOINT_NAMES), "settle_s": 0.1})
    op = OperatorPush(cfg)
    assert op.on_joint_states(_js(np.zeros(6)), 0.0) is None  # on the way home: not handed over
    assert op.tick(0.6) is None
    assert op.on_joint_states(_js([math.nan, *HOME[1:]]), 0.7) is None
    assert op.counters["rejected_joint_states"] == 1
    assert op.on_joint_states(_js(HOME), 1.0) is None  # home, settling
    assert op.on_joint_states(_js(np.asarray(HOME) + 0.05), 1.05) is None  # moved: settle again
    assert op.on_joint_states(_js(HOME), 1.06) is None
    out = op.on_joint_states(_js(HOME, 1.2), 1.2)  # 0.14 s at home: handed over
    assert out is not None and out["joint_states"].stamp_s == 1.2 and op.start_s == 1.2
    assert op.tick(1.6) is None
    assert op.tick(1.7) == {"event": [0, 1]}  # both events due at 0.5 s of the schedule
    assert op.tick(2.1) is None
    assert op.tick(2.3) == {"event": [2]}
    assert op.tick(9.0) is None and op.metrics()["events"] == 3
    assert op.on_joint_states(_js(np.zeros(6), 9.0), 9.0) is not None  # relayed whatever the pose from now on


@pytest.mark.parametrize(("values", "match"), [
    ({"event_times_s": [1.0, 0.5]}, "ascending"),
    ({"event_times_s": [-1.0]}, ">= 0"),
    ({"event_times_s": []}, "at least one"),
    ({"home_q_rad": [0.0, 1.0], "joint_names": ["a"]}, "one home position per joint"),
])
def test_bad_configs_are_rejected_at_load(values: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_config(OperatorPushConfig, values)


def test_node_runs_headless_from_the_shipped_params() -> None:
    cfg = load_node_config(OPERATOR_PUSH.config, SHARE / "config" / "operator_push.yaml", "operator_push",
                           overrides={"event_times_s": [0.1, 0.2]})
    graph = Graph(default_factory())
    graph.add_node(OPERATOR_PUSH, cfg, name="operator_push",
                   remap={"joint_states_in": "/arm/joint_states_gz", "joint_states": "/joint_states",
                          "event": "/operator_push"})
    events, relayed = [], []
    graph.bus.subscribe("/operator_push", "std_msgs/msg/Int32", events.append)
    graph.bus.subscribe("/joint_states", "sensor_msgs/msg/JointState", relayed.append)
    graph.bus.publish("/arm/joint_states_gz", joint_state_to_msg(_js(HOME), graph.bus.factory))
    graph.advance_to(0.3)
    assert [int(e.data) for e in events] == [0, 1]
    assert len(relayed) == 1 and list(relayed[0].name) == list(UR5E_JOINT_NAMES)


def test_score_from_the_headless_bag_matches_the_headless_metrics(tmp_path: Path) -> None:
    sc, _ = _config()
    sc = replace(sc, duration_s=5.5)
    result = run_scenario(sc, tmp_path / "run", plots=False)
    score = score_bag(sc, tmp_path / "run" / "bag")
    got, ref = score.metrics, result.metrics
    for key in ("arm.push_disp_x_m", "arm.push_disp_y_m", "arm.push_disp_z_m", "arm.offset_1s_after_first_push_m",
                "arm.drift_after_last_push_m"):
        assert got[key] == pytest.approx(ref[key], abs=2e-5), key
    assert got["arm.max_speed_first_push_m_s"] == pytest.approx(ref["arm.max_speed_first_push_m_s"], rel=1e-3)
    assert got["arm.commands_received"] == ref["arm.commands_received"]
