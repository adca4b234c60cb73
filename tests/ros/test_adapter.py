"""The rclpy adapter against a real ROS 2 installation (skipped where rclpy is absent, as in CI)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pytest

rclpy = pytest.importorskip(
    "rclpy", reason="ROS 2 (rclpy) is not installed here; source a ROS 2 Jazzy/Humble setup.bash to run these"
)

from rclpy.parameter import Parameter  # noqa: E402

from sanqin.common.diagnostics import DiagLevel, DiagnosticStatus  # noqa: E402
from sanqin.msgs.diagnostics import diagnostics_from_msg, diagnostics_to_msg  # noqa: E402
from sanqin.ros.adapter import SanqinRosNode, descriptor_for  # noqa: E402
from sanqin.ros.factory import RclpyFactory  # noqa: E402
from sanqin.runtime.config import param, param_specs  # noqa: E402
from sanqin.runtime.node import Input, NodeSpec, Output, Qos, Service, ServiceResult  # noqa: E402


@dataclass(frozen=True)
class GainConfig:
    gain: float = param(2.0, "gain", min=0.0, max=10.0)
    count: int = param(3, "count", min=1)
    names: tuple[str, ...] = param((), "names")


class Gain:
    def __init__(self, config: GainConfig) -> None:
        self.config = config
        self.resets = 0

    def on_value(self, value: float, t_s: float) -> dict:
        return {"out": value * self.config.gain}

    def reset(self, request, t_s: float) -> ServiceResult:
        self.resets += 1
        return ServiceResult(True, f"reset {self.resets}")

    def reconfigure(self, config: GainConfig) -> None:
        self.config = config


SPEC = NodeSpec(
    name="gain_test",
    config=GainConfig,
    component=Gain,
    inputs=(Input("in", "std_msgs/msg/Float64", "on_value", lambda m: float(m.data), Qos.SENSOR),),
    outputs=(Output("out", "std_msgs/msg/Float64", lambda v, f: f.new("std_msgs/msg/Float64", data=v)),),
    services=(Service("reset", "std_srvs/srv/Trigger", "reset"),),
)


@pytest.fixture(scope="module")
def ros():
    rclpy.init()
    yield
    rclpy.try_shutdown()


def _spin_until(nodes, predicate, timeout_s=5.0):
    from rclpy.executors import SingleThreadedExecutor

    ex = SingleThreadedExecutor()
    for n in nodes:
        ex.add_node(n)
    deadline = time.monotonic() + timeout_s
    while not predicate() and time.monotonic() < deadline:
        ex.spin_once(timeout_sec=0.05)
    for n in nodes:
        ex.remove_node(n)
    return predicate()


def test_parameters_are_declared_with_descriptors_and_overrides(ros) -> None:
    node = SanqinRosNode(SPEC, parameter_overrides=[Parameter("gain", value=3)])
    try:
        assert isinstance(node._publishers, list)  # rclpy's own bookkeeping is not shadowed
        assert node.host.config.gain == 3.0
        d = node.describe_parameter("gain")
        assert d.floating_point_range[0].from_value == 0.0 and d.floating_point_range[0].to_value == 10.0
        assert node.describe_parameter("count").integer_range[0].from_value == 1
        res = node.set_parameters([Parameter("gain", value=50.0)])[0]
        assert not res.successful
        assert node.set_parameters([Parameter("gain", value=4.0)])[0].successful
    finally:
        node.destroy_node()


def test_messages_flow_and_services_answer(ros) -> None:
    from std_msgs.msg import Float64
    from std_srvs.srv import Trigger

    node = SanqinRosNode(SPEC)
    peer = rclpy.create_node("peer")
    got: list[float] = []
    peer.create_subscription(Float64, "out", lambda m: got.append(m.data), 10)
    pub = peer.create_publisher(Float64, "in", rclpy.qos.qos_profile_sensor_data)
    client = peer.create_client(Trigger, "reset")
    try:
        assert _spin_until([node, peer], lambda: pub.get_subscription_count() > 0)

        def send() -> bool:
            pub.publish(Float64(data=1.5))
            return bool(got)

        assert _spin_until([node, peer], send)
        assert got[0] == 3.0
        assert client.wait_for_service(timeout_sec=5.0)
        future = client.call_async(Trigger.Request())
        assert _spin_until([node, peer], future.done)
        assert future.result().success and future.result().message == "reset 1"
    finally:
        peer.destroy_node()
        node.destroy_node()


def test_rclpy_factory_coerces_numpy_fields() -> None:
    f = RclpyFactory()
    data = np.arange(12, dtype=np.uint8)
    pc = f.new("sensor_msgs/msg/PointCloud2", data=data, width=3, height=1, point_step=4, row_step=12)
    assert bytes(pc.data) == data.tobytes()
    imu = f.new("sensor_msgs/msg/Imu", orientation_covariance=np.eye(3).reshape(-1))
    assert imu.orientation_covariance[4] == 1.0
    js = f.new("sensor_msgs/msg/JointState", position=np.array([0.1, 0.2]), name=["a", "b"])
    assert list(js.position) == [0.1, 0.2]
    msg = diagnostics_to_msg([DiagnosticStatus(DiagLevel.WARN, "x", "m", "h", {"k": "v"})], 1.5, f)
    assert diagnostics_from_msg(msg)[1][0].level is DiagLevel.WARN


def test_descriptors_cover_every_spec() -> None:
    for spec in param_specs(GainConfig):
        d = descriptor_for(spec, read_only=False)
        assert d.description.startswith(spec.description)
