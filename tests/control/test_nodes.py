"""Control nodes on the headless bus: converters, fault containment, services, diagnostics, shipped params."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.common.types import JointStates, Wrench, WrenchStamped
from sanqin.msgs.geometry import wrench_stamped_to_msg
from sanqin.msgs.sensors import joint_state_to_msg
from sanqin.runtime.errors import ConfigError
from sanqin.runtime.headless import Graph
from sanqin.runtime.params import load_node_config
from sanqin.runtime.paths import share_dir
from sanqin.runtime.registry import get_node_spec

from .control_fixtures import HOME

JOINTS = ("shoulder_pan", "shoulder_lift", "elbow", "wrist_1", "wrist_2", "wrist_3")


def _node(name: str, **overrides):
    spec = get_node_spec(name)
    cfg = load_node_config(spec.config, share_dir() / "config" / f"{name}.yaml", name, overrides=overrides)
    g = Graph()
    node = g.add_node(spec, cfg, strict=True)
    return g, node


def _js(g, t, q, names=JOINTS):
    js = JointStates(stamp_s=t, names=names, position=np.asarray(q, float), velocity=np.zeros(len(q)))
    g.bus.publish("/joint_states", joint_state_to_msg(js, g.bus.factory))


def _wrench(g, t, f, topic="/wrench"):
    w = WrenchStamped(stamp_s=t, frame_id="tool", wrench=Wrench(force_n=f, torque_nm=[0, 0, 0]))
    g.bus.publish(topic, wrench_stamped_to_msg(w, g.bus.factory))


def test_admittance_node_streams_positions_and_holds_on_a_nan_wrench(ur5e_path) -> None:
    g, node = _node("cartesian_admittance", robot={"model_path": str(ur5e_path)})
    got = []
    g.bus.subscribe("/commands", "std_msgs/msg/Float64MultiArray", lambda m: got.append(np.array(m.data)))
    diags = []
    g.bus.subscribe("/diagnostics", "diagnostic_msgs/msg/DiagnosticArray", diags.append)
    q = HOME.copy()
    t = 0.0
    for _ in range(20):
        t += 0.002
        _js(g, t, q[::-1], JOINTS[::-1])  # any joint order is accepted
        _wrench(g, t, [0.0, 0.0, 0.0])
        g.advance_to(t)
    assert len(got) >= 18 and np.allclose(got[-1], q, atol=1e-3)
    t += 0.002
    _js(g, t, q)
    _wrench(g, t, [np.nan, 0.0, 0.0])
    g.advance_to(t)
    assert np.allclose(got[-1], got[-2])  # held in the same cycle: no motion on bad data
    assert node.component.last.safe_stop
    g.advance_to(1.01)
    levels = [s.level for s in diags[-1].status if s.name == "sanqin/control/safety"]
    assert levels and int(levels[0]) >= 1  # stopped (stale now) → WARN or worse on /diagnostics


def test_admittance_node_rejects_a_joint_state_missing_joints(ur5e_path) -> None:
    g, node = _node("cartesian_admittance", robot={"model_path": str(ur5e_path)})
    _js(g, 0.002, HOME[:5], JOINTS[:5])
    g.advance_to(0.002)
    assert node.host.counters["domain_errors"] == 1 and node.component.q is None


def test_a_joint_state_without_positions_is_a_typed_refusal(ur5e_path) -> None:
    g, node = _node("cartesian_admittance", robot={"model_path": str(ur5e_path)})
    js = JointStates(stamp_s=0.002, names=JOINTS, position=np.zeros(0), velocity=np.zeros(6))  # legal in ROS
    g.bus.publish("/joint_states", joint_state_to_msg(js, g.bus.factory))
    g.advance_to(0.002)  # strict host: an IndexError would propagate here
    assert node.host.counters["domain_errors"] == 1 and node.component.q is None
    assert "no positions" in node.host.last_problem


def test_estop_and_reset_services(ur5e_path) -> None:
    g, node = _node("cartesian_admittance", robot={"model_path": str(ur5e_path)})
    t = 0.0
    for _ in range(5):
        t += 0.002
        _js(g, t, HOME)
        _wrench(g, t, [0.0, 0.0, 0.0])
        g.advance_to(t)
    assert node.call_service("~/estop").success
    t += 0.002
    _js(g, t, HOME)
    _wrench(g, t, [0.0, 0.0, 0.0])
    g.advance_to(t)
    assert node.component.last.safe_stop
    assert node.call_service("~/reset").success
    t += 0.002
    _js(g, t, HOME)
    _wrench(g, t, [0.0, 0.0, 0.0])
    g.advance_to(t)
    assert not node.component.last.safe_stop


def test_hand_guide_node_publishes_twist_and_wheels_and_stops_on_dropout() -> None:
    g, node = _node("mecanum_hand_guide")
    twists, wheels = [], []
    g.bus.subscribe("/cmd_vel", "geometry_msgs/msg/Twist", lambda m: twists.append(m.linear.x))
    g.bus.subscribe("/wheel_commands", "std_msgs/msg/Float64MultiArray", lambda m: wheels.append(np.array(m.data)))
    g.bus.publish("/payload", g.bus.factory.new("std_msgs/msg/Float64", data=200.0))
    t = 0.0
    for _ in range(100):
        t += 0.01
        _wrench(g, t, [60.0, 0.0, 0.0], "/handle_wrench")
        g.advance_to(t)
    assert twists[-1] > 0.02 and len(wheels[-1]) == 4 and node.component.ctrl.payload_kg == 200.0
    for _ in range(10):
        t += 0.01
        g.advance_to(t)
    assert twists[-1] == 0.0 and not wheels[-1].any()


def test_shipped_configs_reject_unsafe_values() -> None:
    spec = get_node_spec("seam_follower")
    with pytest.raises(ConfigError, match="below the safety limit"):
        load_node_config(spec.config, share_dir() / "config" / "seam_follower.yaml", "seam_follower",
                         overrides={"target_force_n": 100.0})
    spec = get_node_spec("cartesian_admittance")
    with pytest.raises(ConfigError, match="mass must be > 0"):
        load_node_config(spec.config, share_dir() / "config" / "cartesian_admittance.yaml", "cartesian_admittance",
                         overrides={"gains": {"mass": [0.0, 5, 5, 1, 1, 1]}})
    spec = get_node_spec("contact_probe")
    with pytest.raises(ConfigError, match="target_force_n"):
        load_node_config(spec.config, share_dir() / "config" / "contact_probe.yaml", "contact_probe",
                         overrides={"target_force_n": 30.0})


def test_out_of_order_joint_states_are_dropped(ur5e_path) -> None:
    g, node = _node("cartesian_admittance", robot={"model_path": str(ur5e_path)})
    _js(g, 0.010, HOME)
    _wrench(g, 0.010, [0.0, 0.0, 0.0])
    g.advance_to(0.010)
    _js(g, 0.004, HOME + 0.3)  # an old sample arriving late must not move the controller's state
    g.advance_to(0.012)
    assert node.component.ctrl.safety.counters["rejected_out_of_order"] == 1
    assert np.allclose(node.component.q, HOME)


def test_seam_follower_streams_joint_trajectories(ur5e_path) -> None:
    g, node = _node("seam_follower", command_interface="joint_trajectory", robot={"model_path": str(ur5e_path)})
    got = []
    g.bus.subscribe("/joint_trajectory", "trajectory_msgs/msg/JointTrajectory", got.append)
    for k in range(1, 6):
        t = 0.004 * k
        _js(g, t, HOME)
        _wrench(g, t, [0.0, 0.0, -7.85])
        g.advance_to(t)
    assert got and list(got[-1].joint_names) == list(JOINTS) and len(got[-1].points[0].positions) == 6
    tfs = got[-1].points[0].time_from_start
    assert tfs.sec == 0 and tfs.nanosec == 4_000_000  # one control period


def test_target_force_above_the_limit_is_refused_by_the_nodes(ur5e_path) -> None:
    g, node = _node("seam_follower", robot={"model_path": str(ur5e_path)})
    f = g.bus.factory
    g.bus.publish("/target_force", f.new("std_msgs/msg/Float64", data=500.0))
    g.bus.publish("/target_force", f.new("std_msgs/msg/Float64", data=float("nan")))
    g.advance_to(0.001)
    assert node.component.ctrl.target_force_n == 15.0 and node.host.counters["domain_errors"] == 2
    assert "refused" in node.host.last_problem
    g.bus.publish("/target_force", f.new("std_msgs/msg/Float64", data=20.0))
    g.advance_to(0.002)
    assert node.component.ctrl.target_force_n == 20.0

    g, probe = _node("contact_probe")
    g.bus.publish("/target_force", f.new("std_msgs/msg/Float64", data=25.0))  # abort limit is 20 N
    g.advance_to(0.001)
    assert probe.component.target_force_n == 8.0 and probe.host.counters["domain_errors"] == 1
    assert probe.component.ctrl.state.value == "idle"  # and nothing moved
