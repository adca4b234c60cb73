"""The MAVLink parameter protocol, client side: get, set and list with retries.

Values are floats as PARAM_VALUE carries them (ArduPilot's C-cast encoding: integer parameters arrive
as their float value). A set succeeds when the vehicle echoes the parameter with the new value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.errors import Busy, ParamError, Timeout
from sanqin.uav_bridge.operation import Operation

PARAM_ID_LEN = 16


def _name(raw: Any) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, (bytes, bytearray)) else str(raw)
    return text.split("\x00", 1)[0]


@dataclass
class _ParamOp:
    kind: str  # get | set | list
    op: Operation[Any]
    name: str
    deadline_s: float
    value: float = math.nan
    ptype: int = mavlink.MAV_PARAM_TYPE_REAL32
    attempts: int = 1
    total: int = -1
    got: dict[int, tuple[str, float]] = field(default_factory=dict)


class ParamClient:
    """Reads and writes one vehicle's parameters; keeps a cache of every PARAM_VALUE seen."""

    def __init__(self, mav: Any, send: Callable[[Any], None], target_system: int, target_component: int = 1,
                 timeout_s: float = 1.0, retries: int = 3) -> None:
        self.mav = mav
        self._send = send
        self.ts = target_system
        self.tc = target_component
        self.timeout_s = timeout_s
        self.retries = retries
        self.cache: dict[str, float] = {}
        self._ops: list[_ParamOp] = []

    def get(self, name: str, now_s: float = 0.0) -> Operation[float]:
        """Read one parameter."""
        self._check_name(name)
        op: Operation[float] = Operation(f"get parameter {name}")
        self._ops.append(_ParamOp("get", op, name, now_s + self.timeout_s))
        self._send_read(name)
        return op

    def set(self, name: str, value: float, now_s: float = 0.0,
            ptype: int = mavlink.MAV_PARAM_TYPE_REAL32) -> Operation[float]:
        """Write one parameter; done when the vehicle echoes it with the new value."""
        self._check_name(name)
        if not math.isfinite(value):
            raise ParamError(f"parameter {name}: refusing to set a non-finite value {value!r}")
        if any(o.kind == "set" and o.name == name for o in self._ops):
            raise Busy(f"parameter {name} is already being set")
        op: Operation[float] = Operation(f"set parameter {name}")
        self._ops.append(_ParamOp("set", op, name, now_s + self.timeout_s, float(value), ptype))
        self._send(self.mav.param_set_encode(self.ts, self.tc, name.encode(), float(value), ptype))
        return op

    def list(self, now_s: float = 0.0) -> Operation[dict[str, float]]:
        """Read every parameter (missing ones are re-requested by index)."""
        if any(o.kind == "list" for o in self._ops):
            raise Busy("a parameter list is already running")
        op: Operation[dict[str, float]] = Operation("list parameters")
        self._ops.append(_ParamOp("list", op, "", now_s + self.timeout_s))
        self._send(self.mav.param_request_list_encode(self.ts, self.tc))
        return op

    @staticmethod
    def _check_name(name: str) -> None:
        if not name or len(name.encode()) > PARAM_ID_LEN:
            raise ParamError(f"parameter names have 1..16 bytes, got {name!r}")

    def _send_read(self, name: str, index: int = -1) -> None:
        self._send(self.mav.param_request_read_encode(self.ts, self.tc, name.encode(), index))

    def handle(self, msg: Any, now_s: float) -> None:
        """Feed a received message (PARAM_VALUE is used)."""
        if msg.get_type() != "PARAM_VALUE":
            return
        name = _name(msg.param_id)
        value = float(msg.param_value)
        self.cache[name] = value
        for o in list(self._ops):
            if o.kind == "get" and o.name == name:
                self._ops.remove(o)
                o.op.finish(value)
            elif o.kind == "set" and o.name == name:
                self._ops.remove(o)
                if abs(value - o.value) <= 1e-6 * max(1.0, abs(o.value)):
                    o.op.finish(value)
                else:
                    o.op.fail(ParamError(f"parameter {name}: vehicle kept {value!r} instead of {o.value!r}"))
            elif o.kind == "list":
                o.total = int(msg.param_count)
                if 0 <= int(msg.param_index) < o.total:
                    o.got[int(msg.param_index)] = (name, value)
                o.op.progress = len(o.got) / max(1, o.total)
                o.deadline_s = now_s + self.timeout_s
                if len(o.got) >= o.total:
                    self._ops.remove(o)
                    o.op.finish({n: v for n, v in (o.got[i] for i in sorted(o.got))})

    def step(self, now_s: float) -> None:
        """Resend overdue requests; fail after the retries."""
        for o in list(self._ops):
            if now_s < o.deadline_s:
                continue
            if o.attempts > self.retries:
                self._ops.remove(o)
                o.op.fail(Timeout(o.op.name, o.attempts))
                continue
            o.attempts += 1
            o.deadline_s = now_s + self.timeout_s
            if o.kind == "get":
                self._send_read(o.name)
            elif o.kind == "set":
                self._send(self.mav.param_set_encode(self.ts, self.tc, o.name.encode(), o.value, o.ptype))
            elif o.total < 0:
                self._send(self.mav.param_request_list_encode(self.ts, self.tc))
            else:
                for i in [i for i in range(o.total) if i not in o.got][:20]:
                    self._send_read("", i)

    def cancel_all(self, error: Exception) -> None:
        """Fail every pending request."""
        for o in self._ops:
            o.op.fail(error)  # type: ignore[arg-type]
        self._ops.clear()
