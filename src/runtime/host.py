"""The behaviour every node shares, whoever drives it: convert, call the component, publish, report.

:class:`NodeHost` is what both runtimes wrap. The ROS adapter and the headless runtime only deliver
messages, timer ticks and service calls to it and give it a ``publish`` callable; conversion,
error containment (a bad message or a failing handler never takes the node down), counters and
diagnostics live here once.
"""

from __future__ import annotations

import logging
import math
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from sanqin.common.diagnostics import DiagLevel, DiagnosticStatus
from sanqin.common.errors import SanqinError
from sanqin.runtime.node import Input, NodeSpec, Service, ServiceResult, Timer

PublishFn = Callable[[str, Any], None]
LogFn = Callable[[int, str], None]


def _default_log(name: str) -> LogFn:
    logger = logging.getLogger(f"sanqin.{name}")
    return lambda level, text: logger.log(level, text)


class NodeHost:
    """Runs one component under a :class:`NodeSpec`; runtime-independent.

    ``publish(topic, msg)`` sends a built message on a declared output topic (the spec's relative
    name; the runtime resolves and remaps it). With ``strict=True`` unexpected exceptions (not
    :class:`SanqinError`) propagate — used by tests to surface bugs instead of containing them.
    """

    def __init__(
        self,
        spec: NodeSpec,
        config: Any,
        factory: Any,
        publish: PublishFn,
        *,
        name: str | None = None,
        log: LogFn | None = None,
        strict: bool = False,
    ) -> None:
        self.spec = spec
        self.name = name or spec.name
        self.config = config
        self.factory = factory
        self._publish = publish
        self._log = log or _default_log(self.name)
        self.strict = strict
        self.component = spec.component(config)
        spec.check_component(self.component)
        self.counters: dict[str, int] = {
            "messages_in": 0,
            "messages_rejected": 0,
            "messages_out": 0,
            "handler_errors": 0,
            "domain_errors": 0,
        }
        self.last_problem = ""
        self.last_level = DiagLevel.OK

    # --- delivery -------------------------------------------------------------------------------
    def on_message(self, inp: Input, msg: Any, t_s: float) -> None:
        """Deliver one received message on input ``inp`` at node time ``t_s``."""
        self.counters["messages_in"] += 1
        try:
            data = inp.convert(msg)
        except (SanqinError, ValueError, TypeError, AttributeError, KeyError, IndexError) as err:
            self.counters["messages_rejected"] += 1
            self._problem(DiagLevel.WARN, f"rejected message on {inp.topic!r}: {err}")
            return
        self._call(inp.handler, data, t_s)

    def on_timer(self, timer: Timer, t_s: float) -> None:
        """Fire a timer at node time ``t_s``."""
        self._call(timer.handler, t_s)

    def on_service(self, service: Service, request: Any, t_s: float) -> ServiceResult:
        """Serve one call; failures become an unsuccessful result with the reason."""
        try:
            result = getattr(self.component, service.handler)(request, t_s)
        except SanqinError as err:
            self.counters["domain_errors"] += 1
            self._problem(DiagLevel.WARN, f"service {service.name!r} failed: {err}")
            return ServiceResult(False, str(err))
        except Exception as err:  # containment boundary: a service never kills the node
            if self.strict:
                raise
            self.counters["handler_errors"] += 1
            self._problem(DiagLevel.ERROR, f"service {service.name!r} crashed: {err!r}", exc=True)
            return ServiceResult(False, f"internal error: {err!r}")
        if isinstance(result, ServiceResult):
            return result
        return ServiceResult(bool(result), "")

    def _call(self, handler: str, *args: Any) -> None:
        try:
            out = getattr(self.component, handler)(*args)
        except SanqinError as err:
            self.counters["domain_errors"] += 1
            self._problem(DiagLevel.WARN, f"{handler}: {err}")
            return
        except Exception as err:  # containment boundary: a handler never kills the node
            if self.strict:
                raise
            self.counters["handler_errors"] += 1
            self._problem(DiagLevel.ERROR, f"{handler} crashed: {err!r}", exc=True)
            return
        if out:
            self.emit(out)

    def emit(self, outputs: Mapping[str, Any]) -> None:
        """Convert and publish a handler's ``{topic: core object}`` result."""
        for topic, value in outputs.items():
            if value is None:
                continue
            out = self.spec.output(topic)
            values = value if out.many else [value]
            for v in values:
                try:
                    msg = out.convert(v, self.factory)
                except (SanqinError, ValueError, TypeError) as err:
                    if self.strict and not isinstance(err, SanqinError):
                        raise
                    self.counters["handler_errors"] += 1
                    self._problem(DiagLevel.ERROR, f"cannot build {out.msg_type} for {topic!r}: {err}")
                    continue
                self._publish(topic, msg)
                self.counters["messages_out"] += 1

    # --- health ---------------------------------------------------------------------------------
    def _problem(self, level: DiagLevel, text: str, exc: bool = False) -> None:
        self.last_problem = text
        self.last_level = max(self.last_level, level)
        detail = "\n" + traceback.format_exc() if exc else ""
        self._log(logging.ERROR if level >= DiagLevel.ERROR else logging.WARNING, text + detail)

    def diagnostics(self) -> list[DiagnosticStatus]:
        """The node's own status (its counters and the component's ``metrics()``, as the headless runner reports
        them) plus the component's statuses, for /diagnostics; resets the worst level seen."""
        level = self.last_level
        message = self.last_problem if level > DiagLevel.OK else "ok"
        values = {k: str(v) for k, v in self.counters.items()}
        try:  # the component's figures too: a run recorded outside the headless runner is scored from these
            values.update({k: f"{v:.10g}" for k, v in self.metrics().items()})
        except Exception as err:  # a failing metrics() must never break the node's status
            if self.strict:
                raise
            values["metrics_error"] = repr(err)
        statuses = [DiagnosticStatus(level, f"sanqin/{self.name}", message, self.name, values)]
        extra = getattr(self.component, "diagnostics", None)
        if callable(extra):
            try:
                statuses.extend(extra())
            except Exception as err:  # diagnostics must never break the node
                if self.strict:
                    raise
                statuses.append(
                    DiagnosticStatus(DiagLevel.ERROR, f"sanqin/{self.name}/component", repr(err))
                )
        self.last_level = DiagLevel.OK
        return statuses

    def metrics(self) -> dict[str, float]:
        """Counters plus the component's ``metrics()`` (finite numbers only)."""
        out: dict[str, float] = {k: float(v) for k, v in self.counters.items()}
        extra = getattr(self.component, "metrics", None)
        if callable(extra):
            for k, v in extra().items():
                if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                    out[k] = float(v)
                elif isinstance(v, bool):
                    out[k] = float(v)
        return out

    def reconfigure(self, config: Any) -> bool:
        """Swap in a validated config between cycles if the component supports it."""
        fn = getattr(self.component, "reconfigure", None)
        if not callable(fn):
            return False
        fn(config)
        self.config = config
        return True
