"""The UR5e push twin: the headless MuJoCo arm, the push schedule as world triggers, scored alike."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from sanqin.runtime.config import load_config
from sanqin.runtime.paths import share_dir
from sanqin.runtime.runner import run_scenario
from sanqin.runtime.scenario import load_scenario
from sanqin.simulation.gazebo.operator_push import push_events
from sanqin.simulation.gazebo.score import score_bag
from sanqin.simulation.gazebo.twin import headless_simulator
from sanqin.simulation.mujoco_arm import UR5E_JOINT_NAMES, ArmPushSim

SHARE = share_dir()
GZ = SHARE / "sim" / "gazebo"
SCENARIO = SHARE / "sim" / "scenarios" / "ur5e_admittance.yaml"


def _parse(path: Path) -> ET.Element:
    return ET.parse(path).getroot()  # noqa: S314 - repository-owned, generated file


def _config():
    sc = load_scenario(SCENARIO)
    return sc, load_config(ArmPushSim.Config, sc.simulators[0].params)


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
    jpc = [p for p in model.findall("plugin") if p.get("name") == "gz::sim::systems::JointPositionController"]
    assert [p.findtext("joint_name") for p in jpc] == list(UR5E_JOINT_NAMES)
    assert [float(p.findtext("initial_position")) for p in jpc] == pytest.approx(m.key_qpos[0][:6])


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
