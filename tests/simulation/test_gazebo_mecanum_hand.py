"""The hand-guided mecanum base twin: headless geometry, handle F/T, push events, payload, scorer replay."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from sanqin.runtime.config import load_config
from sanqin.runtime.paths import share_dir
from sanqin.runtime.runner import build_graph
from sanqin.runtime.scenario import load_scenario
from sanqin.simulation.gazebo.errors import NoTwin
from sanqin.simulation.gazebo.generate import build_twin
from sanqin.simulation.gazebo.mecanum_hand import ODOM_TOPIC, score
from sanqin.simulation.gazebo.operator_push import push_events
from sanqin.simulation.gazebo.twin import headless_simulator
from sanqin.simulation.mecanum_base import MecanumBaseSim

SHARE = share_dir()
GZ = SHARE / "sim" / "gazebo"
SCENARIO = SHARE / "sim" / "scenarios" / "mecanum_hand_guiding.yaml"


def _parse(path: Path) -> ET.Element:
    return ET.parse(path).getroot()  # noqa: S314 - repository-owned, generated file


def _config():
    sc = load_scenario(SCENARIO)
    return sc, load_config(MecanumBaseSim.Config, sc.simulators[0].params)


def _floats(text: str | None) -> list[float]:
    return [float(v) for v in (text or "").split()]


def test_base_is_the_headless_model_with_the_handle_on_an_ft_sensor() -> None:
    sc, cfg = _config()
    m = headless_simulator(sc, "base").m
    model = _parse(GZ / "models" / "mecanum_hand_guiding_base" / "model.sdf").find("model")
    handle = model.find("link[@name='handle']")
    assert _floats(handle.findtext("pose"))[:3] == pytest.approx(m.site("handle").pos)
    assert float(model.findtext("link[@name='payload']/inertial/mass")) == pytest.approx(cfg.payload_kg)
    assert float(model.findtext("link[@name='base_link']/inertial/mass")) == pytest.approx(m.body("base").mass[0])
    ft = model.find("joint[@name='handle_fixed']/sensor[@type='force_torque']")
    assert ft.findtext("force_torque/measure_direction") == "child_to_parent"  # the push the handle passes on
    assert float(ft.find("force_torque/force/x/noise/stddev").text) == pytest.approx(cfg.force_noise_n)
    plugins = {p.get("name"): p for p in model.findall("plugin")}
    assert plugins["gz::sim::systems::VelocityControl"].findtext("topic") == "/model/mecanum_hand_guiding_base/cmd_vel"
    bridge = {b["ros_topic_name"]: b for b in yaml.safe_load((GZ / "bridge" / "mecanum_hand_guiding.yaml").read_text())}
    assert bridge["/cmd_vel"]["gz_topic_name"] == "/model/mecanum_hand_guiding_base/cmd_vel"
    assert bridge["/handle/wrench"]["direction"] == "GZ_TO_ROS"
    assert bridge["/payload_kg"]["gz_topic_name"] == "/model/mecanum_hand_guiding_base/payload_kg"


def test_world_pushes_the_handle_by_the_profile_and_publishes_the_payload() -> None:
    _, cfg = _config()
    world = _parse(GZ / "worlds" / "mecanum_hand_guiding.sdf").find("world")
    triggers = [p for p in world.findall("plugin") if p.get("name") == "gz::sim::systems::TriggeredPublisher"]
    payload = [t for t in triggers if t.find("input").get("type") == "gz.msgs.WorldStatistics"]
    assert len(payload) == 1 and payload[0].findtext("output") == f"data: {cfg.payload_kg:g}"
    pushes = [t for t in triggers if t not in payload]
    events = push_events(cfg.push_profile)
    assert len(pushes) == len(events)
    for k, (trig, (_, (fx, fy, _tz))) in enumerate(zip(pushes, events)):
        assert trig.findtext("input/match") == str(k)
        assert 'name: "base::handle"' in trig.findtext("output")
        got = re.search(r"force: \{x: ([^,]+), y: ([^,]+), z: ([^}]+)\}", trig.findtext("output")).groups()
        assert [float(v) for v in got] == pytest.approx([fx, fy, 0.0])
    launch = _parse(SHARE / "launch" / "gz_mecanum_hand_guiding.launch.xml")
    (node,) = [n for n in launch.findall("node") if n.get("exec") == "operator_push"]
    params = {p.get("name"): p.get("value") for p in node.findall("param") if p.get("name")}
    assert params["start_on_command"] == "true"
    assert {r.get("from"): r.get("to") for r in node.findall("remap")}["command"] == "/cmd_vel"


@pytest.mark.parametrize(("params", "match"), [
    ({"push_profile": [0.5, 4.0, 80.0, 0.0, 5.0]}, "twists the handle"),
    ({"dropout_start_s": 2.0, "dropout_s": 0.5}, "drops out"),
])
def test_headless_only_pushes_get_no_twin(params: dict, match: str) -> None:
    sc = load_scenario(SCENARIO)
    sim = replace(sc.simulators[0], params={**sc.simulators[0].params, **params})
    with pytest.raises(NoTwin, match=match):
        build_twin(replace(sc, simulators=[sim]))


class _Bag:
    """Duck-typed bag: topic → [(log time s, message)]."""

    def __init__(self, topics: dict[str, list]) -> None:
        self.topics = topics
        self.counts = {k: len(v) for k, v in topics.items()}

    def messages(self, topic: str):
        yield from self.topics.get(topic, [])


def _odom(t: float, x: float, y: float, yaw: float, vx: float, vy: float) -> SimpleNamespace:
    c, s = math.cos(yaw), math.sin(yaw)
    sec = int(t)
    return SimpleNamespace(
        header=SimpleNamespace(stamp=SimpleNamespace(sec=sec, nanosec=round((t - sec) * 1e9))),
        pose=SimpleNamespace(pose=SimpleNamespace(position=SimpleNamespace(x=x, y=y, z=0.0),
                                                  orientation=SimpleNamespace(x=0.0, y=0.0, z=math.sin(yaw / 2),
                                                                              w=math.cos(yaw / 2)))),
        twist=SimpleNamespace(twist=SimpleNamespace(linear=SimpleNamespace(x=c * vx + s * vy, y=-s * vx + c * vy))))


def test_score_replays_the_headless_metrics_from_odometry(tmp_path: Path) -> None:
    sc, cfg = _config()
    sc = replace(sc, duration_s=10.0)
    graph, sims, _ = build_graph(sc)
    ((_, sim),) = sims
    wheels: list = []
    t, k = 0.0, 0
    graph.bus.subscribe(cfg.wheel_topic, "std_msgs/msg/Float64MultiArray", lambda msg: wheels.append((t, msg)))
    odom = []
    while t < sc.duration_s - 1e-9:
        k += 1
        t = round(k * sc.step_s, 9)  # on the nanosecond grid of bag stamps
        sim.step(t, sc.step_s)
        s = sim.samples[-1]
        odom.append((t, _odom(s[0], s[1], s[2], s[7], s[3], s[4])))
        graph.advance_to(t)
    shift = 3.25  # the twin's schedule started 3.25 s into the run: the scorer shifts it back
    events = [(shift + push_events(cfg.push_profile)[0][0], SimpleNamespace(data=0))]
    moved = {ODOM_TOPIC: [(tt + shift, _shifted(msg, shift)) for tt, msg in odom],
             cfg.wheel_topic: [(tt + shift, msg) for tt, msg in wheels], "/operator_push": events}
    got = score(cfg, sc.simulators[0], sc, _Bag(moved))
    ref = sim.metrics()
    assert set(got) == set(ref)
    for key, value in ref.items():
        assert got[key] == pytest.approx(value, rel=1e-6, abs=1e-6), key


def _shifted(msg: SimpleNamespace, shift: float) -> SimpleNamespace:
    t = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9 + shift
    sec = int(t)
    return SimpleNamespace(header=SimpleNamespace(stamp=SimpleNamespace(sec=sec, nanosec=round((t - sec) * 1e9))),
                           pose=msg.pose, twist=msg.twist)


def test_cmd_vel_is_the_twist_the_wheel_commands_drive() -> None:
    """VelocityControl on cmd_vel moves the base as the headless wheel commands do: same twist, every cycle."""
    sc, cfg = _config()
    sc = replace(sc, duration_s=10.0)
    graph, sims, _ = build_graph(sc)
    ((_, sim),) = sims
    cmds: list = []
    wheels: list = []
    graph.bus.subscribe("/cmd_vel", "geometry_msgs/msg/Twist",
                        lambda m: cmds.append((m.linear.x, m.linear.y, m.angular.z)))
    graph.bus.subscribe(cfg.wheel_topic, "std_msgs/msg/Float64MultiArray", lambda m: wheels.append(list(m.data)))
    for k in range(1, round(sc.duration_s / sc.step_s) + 1):
        sim.step(k * sc.step_s, sc.step_s)
        graph.advance_to(k * sc.step_s)
    assert len(cmds) == len(wheels) > 100
    assert max(abs(v) for c in cmds for v in c) > 0.1  # it moved
    for c, w in zip(cmds, wheels):
        assert sim.kin.body_twist(w) == pytest.approx(c, abs=1e-12)
