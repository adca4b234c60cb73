"""In-process runtime: a message bus, a simulated clock and declared nodes, without ROS.

Messages on the bus are real ROS 2 message objects (rosbags' Jazzy classes) so the same
converters run as under ROS and every message can be recorded to a rosbag2 file as it is.
Delivery is FIFO and deterministic: ``publish`` queues, ``spin_once`` delivers until the queue is
empty. Timers fire on simulated time.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sanqin.msgs.diagnostics import diagnostics_to_msg
from sanqin.msgs.factory import RosbagsFactory, default_factory
from sanqin.runtime.errors import NodeSpecError
from sanqin.runtime.host import NodeHost
from sanqin.runtime.node import NodeSpec, Service, ServiceResult, resolve_name

Callback = Callable[[Any], None]
Recorder = Callable[[str, str, Any, float], None]


class SimClock:
    """Simulated time in seconds, advanced only by the owner of the loop."""

    def __init__(self, start_s: float = 0.0) -> None:
        self.now_s = float(start_s)

    def now(self) -> float:
        """Current simulated time in seconds."""
        return self.now_s


class Bus:
    """Topic-based in-process bus with FIFO delivery and an optional recorder of every message."""

    def __init__(self, clock: SimClock, factory: RosbagsFactory | None = None) -> None:
        self.clock = clock
        self.factory = factory or default_factory()
        self._subs: dict[str, list[Callback]] = {}
        self._types: dict[str, str] = {}
        self._queue: deque[tuple[str, Any]] = deque()
        self.recorders: list[Recorder] = []
        self.counts: dict[str, int] = {}

    def subscribe(self, topic: str, msg_type: str, callback: Callback) -> None:
        """Register ``callback(msg)`` for a fully qualified topic."""
        self._check_type(topic, msg_type)
        self._subs.setdefault(topic, []).append(callback)

    def advertise(self, topic: str, msg_type: str) -> None:
        """Declare a publisher's type for a topic (types must agree across publishers/subscribers)."""
        self._check_type(topic, msg_type)

    def _check_type(self, topic: str, msg_type: str) -> None:
        known = self._types.setdefault(topic, msg_type)
        if known != msg_type:
            raise NodeSpecError(f"topic {topic!r} used with types {known!r} and {msg_type!r}")

    def publish(self, topic: str, msg: Any) -> None:
        """Queue a message for delivery and hand it to the recorders (stamped with sim time)."""
        msg_type = getattr(msg, "__msgtype__", None) or self._types.get(topic, "")
        self._check_type(topic, msg_type)
        self.counts[topic] = self.counts.get(topic, 0) + 1
        for rec in self.recorders:
            rec(topic, msg_type, msg, self.clock.now())
        self._queue.append((topic, msg))

    def spin_once(self, max_messages: int = 1_000_000) -> int:
        """Deliver queued messages (and those they cause) in FIFO order; return how many."""
        n = 0
        while self._queue and n < max_messages:
            topic, msg = self._queue.popleft()
            for cb in self._subs.get(topic, ()):
                cb(msg)
            n += 1
        return n

    def topic_types(self) -> dict[str, str]:
        """Every topic seen so far with its message type."""
        return dict(self._types)


@dataclass
class _TimerEntry:
    period_s: float
    fire: Callable[[float], None]


class Scheduler:
    """Timers on simulated time: ``run_due(t)`` fires every timer whose deadline is ≤ t, in order."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _TimerEntry]] = []
        self._seq = itertools.count()

    def add(self, period_s: float, fire: Callable[[float], None], start_s: float = 0.0) -> None:
        """Add a periodic timer whose first tick is one period after ``start_s``."""
        if not period_s > 0:
            raise NodeSpecError(f"timer period must be positive, got {period_s!r}")
        entry = _TimerEntry(period_s, fire)
        heapq.heappush(self._heap, (start_s + period_s, next(self._seq), entry))

    def run_due(self, t_s: float, clock: SimClock, bus: Bus) -> None:
        """Fire due timers with the clock set to each deadline, delivering their messages between."""
        eps = 1e-9
        while self._heap and self._heap[0][0] <= t_s + eps:
            due, _, entry = heapq.heappop(self._heap)
            clock.now_s = max(clock.now_s, due)
            entry.fire(due)
            bus.spin_once()
            heapq.heappush(self._heap, (due + entry.period_s, next(self._seq), entry))
        clock.now_s = max(clock.now_s, t_s)


class HeadlessNode:
    """A declared node on the in-process bus: the same :class:`NodeHost` as under ROS."""

    def __init__(
        self,
        spec: NodeSpec,
        config: Any,
        bus: Bus,
        scheduler: Scheduler,
        *,
        name: str | None = None,
        namespace: str = "",
        remap: Mapping[str, str] | None = None,
        strict: bool = False,
    ) -> None:
        self.spec = spec
        self.name = name or spec.name
        self.namespace = namespace
        self.remap = dict(remap or {})
        self.bus = bus
        self.host = NodeHost(
            spec, config, bus.factory, self._publish, name=self.name, strict=strict
        )
        self._topics = {o.topic: self.resolve(o.topic) for o in spec.outputs}
        for out in spec.outputs:
            bus.advertise(self._topics[out.topic], out.msg_type)
        for inp in spec.inputs:
            bus.subscribe(
                self.resolve(inp.topic),
                inp.msg_type,
                lambda msg, inp=inp: self.host.on_message(inp, msg, bus.clock.now()),
            )
        for timer in spec.timers:
            scheduler.add(
                spec.timer_period_s(timer, config),
                lambda t, timer=timer: self.host.on_timer(timer, t),
                bus.clock.now(),
            )
        if spec.diagnostics_period_s > 0:
            bus.advertise("/diagnostics", "diagnostic_msgs/msg/DiagnosticArray")
            scheduler.add(spec.diagnostics_period_s, self._publish_diagnostics, bus.clock.now())

    def resolve(self, name: str) -> str:
        """Apply remaps (by relative or resolved name) and resolve against the namespace."""
        if name in self.remap:
            name = self.remap[name]
        full = resolve_name(name, self.namespace, self.name)
        return resolve_name(self.remap.get(full, full), self.namespace, self.name)

    def _publish(self, topic: str, msg: Any) -> None:
        self.bus.publish(self._topics[topic], msg)

    def _publish_diagnostics(self, t_s: float) -> None:
        msg = diagnostics_to_msg(self.host.diagnostics(), t_s, self.bus.factory)
        self.bus.publish("/diagnostics", msg)

    def publish_final_diagnostics(self, t_s: float) -> None:
        """The node's status at the end of a run (a recording then holds the figures the run reports)."""
        if self.spec.diagnostics_period_s > 0:
            self._publish_diagnostics(t_s)

    def call_service(self, service_name: str, request: Any = None) -> ServiceResult:
        """Call one of the node's services directly (the headless stand-in for a ROS client)."""
        svc: Service | None = next((s for s in self.spec.services if s.name == service_name), None)
        if svc is None:
            raise NodeSpecError(f"node {self.name!r} has no service {service_name!r}")
        result = self.host.on_service(svc, request, self.bus.clock.now())
        self.bus.spin_once()
        return result

    @property
    def component(self) -> Any:
        """The component this node runs."""
        return self.host.component


class Graph:
    """A bus, a clock, a scheduler and the nodes on them: the headless stand-in for a ROS graph."""

    def __init__(self, factory: RosbagsFactory | None = None, start_s: float = 0.0) -> None:
        self.clock = SimClock(start_s)
        self.bus = Bus(self.clock, factory)
        self.scheduler = Scheduler()
        self.nodes: dict[str, HeadlessNode] = {}

    def add_node(self, spec: NodeSpec, config: Any, **kwargs: Any) -> HeadlessNode:
        """Create a node from its spec and validated config; names must be unique per namespace."""
        node = HeadlessNode(spec, config, self.bus, self.scheduler, **kwargs)
        key = resolve_name(node.name, node.namespace)
        if key in self.nodes:
            raise NodeSpecError(f"two nodes named {key!r}")
        self.nodes[key] = node
        return node

    def advance_to(self, t_s: float) -> None:
        """Deliver pending messages, then fire timers up to ``t_s``."""
        self.bus.spin_once()
        self.scheduler.run_due(t_s, self.clock, self.bus)
        self.bus.spin_once()
