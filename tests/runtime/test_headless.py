"""The headless runtime delivers, converts, contains errors and times like a ROS graph should."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sanqin.common.errors import SanqinError
from sanqin.runtime.config import param
from sanqin.runtime.headless import Graph
from sanqin.runtime.node import Input, NodeSpec, Output, Qos, Service, ServiceResult, Timer


@dataclass(frozen=True)
class EchoConfig:
    gain: float = param(2.0, "multiplier", min=0.0)
    period_s: float = param(0.5, "tick period (s)", min=0.01)


def _float_in(msg):
    if msg.data != msg.data:
        raise SanqinError("NaN")
    return float(msg.data)


def _float_out(value, factory):
    return factory.new("std_msgs/msg/Float64", data=value)


class Echo:
    def __init__(self, config: EchoConfig) -> None:
        self.config = config
        self.ticks: list[float] = []
        self.last = 0.0

    def on_value(self, value: float, t_s: float):
        if value < 0:
            raise RuntimeError("boom")
        self.last = value * self.config.gain
        return {"out": self.last}

    def tick(self, t_s: float):
        self.ticks.append(t_s)
        return None

    def reset(self, request, t_s: float) -> ServiceResult:
        self.last = 0.0
        return ServiceResult(True, "reset")


ECHO = NodeSpec(
    name="echo",
    config=EchoConfig,
    component=Echo,
    inputs=(Input("in", "std_msgs/msg/Float64", "on_value", _float_in, Qos.SENSOR),),
    outputs=(Output("out", "std_msgs/msg/Float64", _float_out),),
    timers=(Timer("period_s", "tick"),),
    services=(Service("reset", "std_srvs/srv/Trigger", "reset"),),
)


def _graph():
    g = Graph()
    node = g.add_node(ECHO, EchoConfig(), namespace="robot1")
    got = []
    g.bus.subscribe("/robot1/out", "std_msgs/msg/Float64", lambda m: got.append(m.data))
    return g, node, got


def test_message_flows_through_converters_and_handler() -> None:
    g, node, got = _graph()
    g.bus.publish("/robot1/in", g.bus.factory.new("std_msgs/msg/Float64", data=1.5))
    g.advance_to(0.1)
    assert got == [3.0]


def test_bad_message_and_crashing_handler_are_contained_and_counted() -> None:
    g, node, got = _graph()
    f = g.bus.factory
    diags = []
    g.bus.subscribe("/diagnostics", "diagnostic_msgs/msg/DiagnosticArray", diags.append)
    g.bus.publish("/robot1/in", f.new("std_msgs/msg/Float64", data=float("nan")))
    g.bus.publish("/robot1/in", f.new("std_msgs/msg/Float64", data=-1.0))
    g.bus.publish("/robot1/in", f.new("std_msgs/msg/Float64", data=2.0))
    g.advance_to(1.0)
    assert got == [4.0]
    c = node.host.counters
    assert (c["messages_rejected"], c["handler_errors"], c["messages_out"]) == (1, 1, 1)
    assert len(diags) == 1 and int(diags[0].status[0].level) == 2  # ERROR after the crash
    g.advance_to(2.0)
    assert int(diags[1].status[0].level) == 0  # the level is per reporting period


def test_strict_mode_surfaces_unexpected_exceptions() -> None:
    g = Graph()
    g.add_node(ECHO, EchoConfig(), strict=True)
    g.bus.publish("/in", g.bus.factory.new("std_msgs/msg/Float64", data=-1.0))
    with pytest.raises(RuntimeError, match="boom"):
        g.advance_to(0.1)


def test_timers_fire_on_simulated_time_from_config_period() -> None:
    g, node, _ = _graph()
    g.advance_to(2.01)
    assert node.component.ticks == pytest.approx([0.5, 1.0, 1.5, 2.0])


def test_remap_and_service_call() -> None:
    g = Graph()
    node = g.add_node(ECHO, EchoConfig(gain=1.0), remap={"in": "/sensors/value"})
    g.bus.publish("/sensors/value", g.bus.factory.new("std_msgs/msg/Float64", data=5.0))
    g.advance_to(0.1)
    assert node.component.last == 5.0
    assert node.call_service("reset") == ServiceResult(True, "reset")
    assert node.component.last == 0.0


def test_topic_type_conflict_is_rejected() -> None:
    g, _, _ = _graph()
    from sanqin.runtime.errors import NodeSpecError

    with pytest.raises(NodeSpecError, match="types"):
        g.bus.subscribe("/robot1/out", "std_msgs/msg/String", lambda m: None)


def test_the_components_metrics_are_in_the_nodes_own_status() -> None:
    """What the headless runner reports as ``nodes.<name>.*`` reaches /diagnostics (a Gazebo run is scored from it)."""

    class Counting(Echo):
        def metrics(self):
            return {"last_out": self.last, "not_finite": float("inf"), "messages_out": 7}

    spec = NodeSpec(name="counting", config=EchoConfig, component=Counting, inputs=ECHO.inputs, outputs=ECHO.outputs)
    g = Graph()
    node = g.add_node(spec, EchoConfig())
    diags = []
    g.bus.subscribe("/diagnostics", "diagnostic_msgs/msg/DiagnosticArray", diags.append)
    g.bus.publish("/in", g.bus.factory.new("std_msgs/msg/Float64", data=1.25))
    g.advance_to(1.0)
    values = {kv.key: kv.value for kv in diags[-1].status[0].values}
    assert diags[-1].status[0].name == "sanqin/counting"
    assert values["last_out"] == "2.5" and values["messages_in"] == "1"
    assert "not_finite" not in values  # as in the runner's metrics: finite numbers only
    assert float(values["messages_out"]) == node.host.metrics()["messages_out"]


def test_a_failing_metrics_call_does_not_break_the_status() -> None:
    class Broken(Echo):
        def metrics(self):
            raise RuntimeError("metrics broke")

    spec = NodeSpec(name="broken", config=EchoConfig, component=Broken, inputs=ECHO.inputs, outputs=ECHO.outputs)
    g = Graph()
    g.add_node(spec, EchoConfig())
    diags = []
    g.bus.subscribe("/diagnostics", "diagnostic_msgs/msg/DiagnosticArray", diags.append)
    g.advance_to(1.0)
    values = {kv.key: kv.value for kv in diags[-1].status[0].values}
    assert "metrics broke" in values["metrics_error"] and values["handler_errors"] == "0"
