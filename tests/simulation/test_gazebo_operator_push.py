"""operator_push: push events from a profile, the hand-over at home, the schedule on the node clock."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sanqin.common.types import JointStates, Twist
from sanqin.msgs.factory import default_factory
from sanqin.msgs.geometry import twist_to_msg
from sanqin.msgs.sensors import joint_state_to_msg
from sanqin.runtime.config import load_config
from sanqin.runtime.errors import ConfigError
from sanqin.runtime.headless import Graph
from sanqin.runtime.params import load_node_config
from sanqin.runtime.paths import share_dir
from sanqin.simulation.gazebo.nodes import OPERATOR_PUSH
from sanqin.simulation.gazebo.operator_push import OperatorPush, OperatorPushConfig, push_events
from sanqin.simulation.mujoco_arm import UR5E_JOINT_NAMES

SHARE = share_dir()
HOME = (-1.5708, -1.5708, 1.5708, -1.5708, -1.5708, 0.0)


def _js(q, t: float = 0.0) -> JointStates:
    return JointStates(stamp_s=t, names=UR5E_JOINT_NAMES, position=np.asarray(q, float), velocity=np.zeros(6),
                       effort=np.zeros(0))


def test_push_events_add_and_remove_each_row_in_time_order() -> None:
    ev = push_events([0.5, 3.5, 0.0, 15.0, 0.0, 2.0, 2.5, 1.0, 0.0, -4.0])
    assert [t for t, _ in ev] == [0.5, 2.0, 2.5, 3.5]
    assert np.sum([f for _, f in ev], axis=0) == pytest.approx([0.0, 0.0, 0.0])  # every push is taken away
    net = np.cumsum([f for _, f in ev], axis=0)
    assert net[1] == pytest.approx([1.0, 15.0, -4.0])  # overlapping rows add up as headless


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


def test_start_on_command_waits_for_the_controllers_first_command() -> None:
    cfg = load_config(OperatorPushConfig, {"event_times_s": [0.5, 4.0], "start_on_command": True})
    op = OperatorPush(cfg)
    assert op.tick(1.0) is None and op.start_s is None  # no controller yet: no push
    op.on_command(object(), 2.0)
    op.on_command(object(), 2.5)  # later commands do not move the start
    assert op.start_s == 2.0
    assert op.tick(2.4) is None and op.tick(2.5) == {"event": [0]} and op.tick(6.0) == {"event": [1]}
    graph = Graph(default_factory())
    node_cfg = load_node_config(OPERATOR_PUSH.config, SHARE / "config" / "operator_push.yaml", "operator_push",
                                overrides={"event_times_s": [0.1], "start_on_command": True})
    graph.add_node(OPERATOR_PUSH, node_cfg, name="operator_push", remap={"command": "/cmd_vel",
                                                                        "event": "/operator_push"})
    events = []
    graph.bus.subscribe("/operator_push", "std_msgs/msg/Int32", events.append)
    graph.advance_to(0.5)
    assert events == []
    graph.bus.publish("/cmd_vel", twist_to_msg(Twist(), graph.bus.factory))
    graph.advance_to(0.7)
    assert [int(e.data) for e in events] == [0]


def test_two_starts_are_refused_at_load() -> None:
    with pytest.raises(ConfigError, match="pick one"):
        load_config(OperatorPushConfig, {"start_on_command": True, "home_q_rad": [0.0], "joint_names": ["a"]})
