"""Run a declared node (:class:`~sanqin.runtime.node.NodeSpec`) as a real rclpy node.

This module and :mod:`sanqin.ros.factory` are the only rclpy code in Sanqin. Written against rclpy's
documented API as shipped in Humble and Jazzy: ``Node.declare_parameter`` with
``ParameterDescriptor`` (ranges, read-only), ``add_on_set_parameters_callback``, QoS profiles,
``create_subscription`` / ``create_publisher`` / ``create_timer`` / ``create_service``, and
``rclpy.spin`` with ``ExternalShutdownException`` handling.
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Sequence
from typing import Any

import rclpy
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.exceptions import ParameterUninitializedException
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)

from sanqin.common.errors import SanqinError
from sanqin.msgs.diagnostics import diagnostics_to_msg
from sanqin.ros.factory import RclpyFactory, message_class
from sanqin.runtime.config import ParamSpec, load_config, param_specs, replace_params
from sanqin.runtime.errors import ConfigError
from sanqin.runtime.host import NodeHost
from sanqin.runtime.node import NodeSpec, Qos, Service

_INT64_MAX = 2**63 - 1

_ARRAY_TYPES = {
    bool: Parameter.Type.BOOL_ARRAY,
    int: Parameter.Type.INTEGER_ARRAY,
    float: Parameter.Type.DOUBLE_ARRAY,
    str: Parameter.Type.STRING_ARRAY,
}


def qos_profile(qos: Qos) -> QoSProfile:
    """The rclpy QoS profile of a Sanqin QoS class."""
    if qos is Qos.SENSOR:
        return qos_profile_sensor_data
    if qos is Qos.LATCHED:
        return QoSProfile(
            history=HistoryPolicy.KEEP_LAST,
            depth=1,
            reliability=ReliabilityPolicy.RELIABLE,
            durability=DurabilityPolicy.TRANSIENT_LOCAL,
        )
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=10,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.VOLATILE,
    )


def descriptor_for(spec: ParamSpec, read_only: bool) -> ParameterDescriptor:
    """A ParameterDescriptor with description, bounds and choices of one config parameter.

    Float parameters use dynamic typing so that ``1`` in a params file is accepted for ``1.0``
    (Sanqin validates types itself, with errors naming the parameter).
    """
    text = spec.description
    if spec.choices is not None:
        text += f" (one of {list(spec.choices)})"
    d = ParameterDescriptor(description=text, read_only=read_only)
    if spec.choices is not None:
        d.additional_constraints = f"one of {list(spec.choices)}"
    if spec.kind is float:
        d.dynamic_typing = True
        if not spec.is_array and (spec.min is not None or spec.max is not None):
            lo = -math.inf if spec.min is None else float(spec.min)
            hi = math.inf if spec.max is None else float(spec.max)
            d.floating_point_range = [FloatingPointRange(from_value=lo, to_value=hi, step=0.0)]
    elif spec.kind is int and not spec.is_array and (spec.min is not None or spec.max is not None):
        lo = -_INT64_MAX if spec.min is None else int(math.ceil(spec.min))
        hi = _INT64_MAX if spec.max is None else int(math.floor(spec.max))
        d.integer_range = [IntegerRange(from_value=lo, to_value=hi, step=0)]
    return d


class SanqinRosNode(Node):
    """An rclpy node running one Sanqin component through :class:`NodeHost`.

    Attributes of our own carry a ``_sanqin``/``host``/``spec`` name: ``rclpy.node.Node`` keeps private
    state in attributes such as ``_publishers`` and ``_timers`` that a subclass must not shadow.
    """

    def __init__(self, spec: NodeSpec, *, node_name: str | None = None, **node_kwargs: Any) -> None:
        super().__init__(node_name or spec.name, **node_kwargs)
        self.spec = spec
        self._factory = RclpyFactory()
        self._pending_config: Any = None
        config = self._declare_and_load()
        self.host = NodeHost(spec, config, self._factory, self._publish, name=self.get_name(), log=self._log)
        self._sanqin_publishers = {
            o.topic: self.create_publisher(message_class(o.msg_type), o.topic, qos_profile(o.qos))
            for o in spec.outputs
        }
        for inp in spec.inputs:
            self.create_subscription(
                message_class(inp.msg_type),
                inp.topic,
                lambda msg, inp=inp: self._deliver(self.host.on_message, inp, msg),
                qos_profile(inp.qos),
            )
        for timer in spec.timers:
            self.create_timer(
                spec.timer_period_s(timer, config),
                lambda timer=timer: self._deliver(self.host.on_timer, timer),
            )
        for svc in spec.services:
            self.create_service(
                message_class(svc.srv_type),
                svc.name,
                lambda req, resp, svc=svc: self._serve(svc, req, resp),
            )
        if spec.diagnostics_period_s > 0:
            self._diag_pub = self.create_publisher(
                message_class("diagnostic_msgs/msg/DiagnosticArray"), "/diagnostics", qos_profile(Qos.RELIABLE)
            )
            self.create_timer(spec.diagnostics_period_s, self._publish_diagnostics)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.get_logger().info(f"{spec.name} ready ({len(spec.inputs)} inputs, {len(spec.outputs)} outputs)")

    # --- parameters -----------------------------------------------------------------------------
    def _declare_and_load(self) -> Any:
        reconfigurable = callable(getattr(self.spec.component, "reconfigure", None))
        values: dict[str, Any] = {}
        for p in param_specs(self.spec.config):
            desc = descriptor_for(p, read_only=p.read_only or not reconfigurable)
            default = list(p.default) if p.is_array else p.default
            if p.is_array and not default and p.kind is not float:
                declared = self.declare_parameter(p.name, _ARRAY_TYPES[p.kind], desc)
            else:
                declared = self.declare_parameter(p.name, default, desc)
            try:
                value = declared.value if declared.type_ != Parameter.Type.NOT_SET else None
            except ParameterUninitializedException:
                value = None
            if value is not None:
                values[p.name] = list(value) if p.is_array else value
        where = f"node {self.get_fully_qualified_name()!r}"
        return load_config(self.spec.config, values, where=where)

    def _on_set_parameters(self, params: Sequence[Parameter]) -> SetParametersResult:
        changes = {p.name: (list(p.value) if isinstance(p.value, (list, tuple)) else p.value) for p in params}
        changes = {k: v for k, v in changes.items() if k != "use_sim_time"}
        if not changes or not hasattr(self, "host"):
            return SetParametersResult(successful=True)
        try:
            new = replace_params(self._pending_config or self.host.config, changes, where=self.get_name())
        except ConfigError as err:
            return SetParametersResult(successful=False, reason=str(err))
        self._pending_config = new
        return SetParametersResult(successful=True)

    # --- delivery -------------------------------------------------------------------------------
    def _now_s(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _apply_pending(self) -> None:
        if self._pending_config is not None:
            config, self._pending_config = self._pending_config, None
            if not self.host.reconfigure(config):
                self.get_logger().warning("parameter change accepted but component cannot reconfigure")

    def _deliver(self, fn: Any, item: Any, *msg: Any) -> None:
        self._apply_pending()
        fn(item, *msg, self._now_s())

    def _serve(self, svc: Service, request: Any, response: Any) -> Any:
        self._apply_pending()
        req = bool(request.data) if hasattr(request, "data") else None
        result = self.host.on_service(svc, req, self._now_s())
        response.success = bool(result.success)
        response.message = result.message
        return response

    def _publish(self, topic: str, msg: Any) -> None:
        self._sanqin_publishers[topic].publish(msg)

    def _publish_diagnostics(self) -> None:
        self._diag_pub.publish(diagnostics_to_msg(self.host.diagnostics(), self._now_s(), self._factory))

    def _log(self, level: int, text: str) -> None:
        logger = self.get_logger()
        if level >= logging.ERROR:
            logger.error(text)
        elif level >= logging.WARNING:
            logger.warning(text)
        else:
            logger.info(text)


def run(spec: NodeSpec, args: Sequence[str] | None = None) -> int:
    """Initialise rclpy, spin the node until shutdown, return an exit status (2 on a bad config)."""
    rclpy.init(args=list(args) if args is not None else None)
    node = None
    try:
        node = SanqinRosNode(spec)
        rclpy.spin(node)
    except ConfigError as err:
        print(f"[{spec.name}] invalid configuration: {err}", file=sys.stderr)
        return 2
    except SanqinError as err:  # e.g. a robot model file that cannot be loaded: refuse to start, clearly
        print(f"[{spec.name}] cannot start: {err}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0
