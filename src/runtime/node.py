"""Node declarations: one generic description of a node over a ROS-free component.

A :class:`NodeSpec` names the component's config type and factory, its inputs (topic, message type,
QoS, converter, handler method), outputs, timers and services. The ROS adapter
(:mod:`sanqin.ros.adapter`), the headless runtime (:mod:`sanqin.runtime.headless`) and the
launch-file check all read this one declaration.

Handler contract (component methods):

* input handler ``on_x(self, data, t_s) -> dict[str, Any] | None`` — ``data`` is the converted core
  object, ``t_s`` the node clock in seconds; the returned mapping is ``{output topic: core object}``
  (a list of core objects for an output declared with ``many=True``);
* timer handler ``tick(self, t_s) -> dict | None`` (same return);
* service handler ``srv(self, request, t_s) -> ServiceResult`` — ``request`` is ``None`` for
  ``std_srvs/srv/Trigger`` and a ``bool`` for ``std_srvs/srv/SetBool``.

Optional component methods: ``diagnostics() -> list[DiagnosticStatus]``, ``metrics() -> dict``,
``reconfigure(config) -> None`` (then runtime parameter changes are accepted).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sanqin.runtime.errors import NodeSpecError


class Qos(enum.Enum):
    """QoS classes: SENSOR = best effort, keep last 5; RELIABLE = reliable, keep last 10;
    LATCHED = reliable, transient local, depth 1 (maps, plans, static data)."""

    SENSOR = "sensor"
    RELIABLE = "reliable"
    LATCHED = "latched"


#: Service types the runtime knows how to serve: name → request kind.
SERVICE_TYPES = {"std_srvs/srv/Trigger": "trigger", "std_srvs/srv/SetBool": "set_bool"}


@dataclass(frozen=True)
class Input:
    """A subscription: ``convert(msg)`` → core object, then ``component.<handler>(data, t_s)``."""

    topic: str
    msg_type: str
    handler: str
    convert: Callable[[Any], Any]
    qos: Qos = Qos.RELIABLE
    description: str = ""


@dataclass(frozen=True)
class Output:
    """A publisher: ``convert(core, factory)`` → message; keyed by ``topic`` in handler results."""

    topic: str
    msg_type: str
    convert: Callable[[Any, Any], Any]
    qos: Qos = Qos.RELIABLE
    many: bool = False
    description: str = ""


@dataclass(frozen=True)
class Timer:
    """A periodic call of ``component.<handler>(t_s)``; period in seconds or a dotted config name."""

    period: float | str
    handler: str


@dataclass(frozen=True)
class ServiceResult:
    """Outcome of a service call (maps onto Trigger/SetBool responses)."""

    success: bool
    message: str = ""


@dataclass(frozen=True)
class Service:
    """A service served by ``component.<handler>(request, t_s)``."""

    name: str
    srv_type: str
    handler: str
    description: str = ""


@dataclass(frozen=True)
class NodeSpec:
    """Everything the runtimes need to run a component as a node."""

    name: str
    config: type
    component: Callable[[Any], Any]
    inputs: tuple[Input, ...] = ()
    outputs: tuple[Output, ...] = ()
    timers: tuple[Timer, ...] = ()
    services: tuple[Service, ...] = ()
    description: str = ""
    diagnostics_period_s: float = 1.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        topics = [i.topic for i in self.inputs]
        outs = [o.topic for o in self.outputs]
        for kind, names in (("input", topics), ("output", outs)):
            dup = {n for n in names if names.count(n) > 1}
            if dup:
                raise NodeSpecError(f"node {self.name!r}: duplicate {kind} topic(s) {sorted(dup)}")
        for s in self.services:
            if s.srv_type not in SERVICE_TYPES:
                raise NodeSpecError(
                    f"node {self.name!r}: service {s.name!r} has unsupported type {s.srv_type!r}; "
                    f"known: {sorted(SERVICE_TYPES)}"
                )

    def output(self, topic: str) -> Output:
        """The output declared for ``topic``."""
        for o in self.outputs:
            if o.topic == topic:
                return o
        raise NodeSpecError(f"node {self.name!r} declares no output {topic!r}")

    def timer_period_s(self, timer: Timer, config: Any) -> float:
        """A timer's period in seconds, resolving a dotted config name."""
        if isinstance(timer.period, str):
            value: Any = config
            for part in timer.period.split("."):
                value = getattr(value, part)
            return float(value)
        return float(timer.period)

    def check_component(self, component: Any) -> None:
        """Raise if the component lacks a declared handler method."""
        names = [i.handler for i in self.inputs] + [t.handler for t in self.timers]
        names += [s.handler for s in self.services]
        missing = [n for n in names if not callable(getattr(component, n, None))]
        if missing:
            raise NodeSpecError(
                f"node {self.name!r}: component {type(component).__name__} lacks handler(s) {missing}"
            )


def resolve_name(name: str, namespace: str = "", node_name: str = "") -> str:
    """Fully qualified topic/service name per ROS 2 rules (relative, absolute, ``~`` private)."""
    ns = "/" + namespace.strip("/") if namespace.strip("/") else ""
    if name.startswith("/"):
        return name
    if name.startswith("~"):
        rest = name[1:].lstrip("/")
        return f"{ns}/{node_name}" + (f"/{rest}" if rest else "")
    return f"{ns}/{name}"
