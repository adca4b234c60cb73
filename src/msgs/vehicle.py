"""UAV vehicle state and bridge events as standard messages (an ament_python package has no custom .msg):

* :class:`~sanqin.uav_bridge.telemetry.VehicleState` ↔ diagnostic_msgs/DiagnosticStatus — level OK while
  connected, WARN during a failsafe, ERROR without link; the fields as KeyValue pairs;
* event lines ↔ std_msgs/String; a QGroundControl .plan JSON document ↔ std_msgs/String.
"""

from __future__ import annotations

import math
from typing import Any

from sanqin.msgs.errors import MessageError
from sanqin.uav_bridge.telemetry import VehicleState

_FIELDS = {name: kind for name, kind in VehicleState.__annotations__.items() if name != "stamp_s"}


def vehicle_state_to_msg(state: VehicleState, factory: Any) -> Any:
    """VehicleState → diagnostic_msgs/DiagnosticStatus named ``uav/vehicle``."""
    level = 0 if state.connected and not state.failsafe else (1 if state.connected else 2)
    message = (f"{'armed' if state.armed else 'disarmed'} {state.mode}" if state.connected else "no link")
    if state.failsafe:
        message += f", failsafe: {state.failsafe}"
    values = [factory.new("diagnostic_msgs/msg/KeyValue", key=k, value=v) for k, v in state.as_dict().items()]
    values.append(factory.new("diagnostic_msgs/msg/KeyValue", key="stamp_s", value=repr(float(state.stamp_s))))
    return factory.new("diagnostic_msgs/msg/DiagnosticStatus", level=level, name="uav/vehicle", message=message,
                       hardware_id=state.autopilot, values=values)


def vehicle_state_from_msg(msg: Any) -> VehicleState:
    """diagnostic_msgs/DiagnosticStatus written by :func:`vehicle_state_to_msg` → VehicleState."""
    kv = {str(v.key): str(v.value) for v in msg.values}
    out: dict[str, Any] = {}
    try:
        out["stamp_s"] = float(kv.get("stamp_s", "nan"))
        for name, kind in _FIELDS.items():
            raw = kv[name]
            if kind == "bool":
                out[name] = raw == "True"
            elif kind == "int":
                out[name] = int(raw)
            elif kind == "float":
                out[name] = float(raw)
            else:
                out[name] = raw
    except KeyError as err:
        raise MessageError(f"vehicle state lacks key {err}") from err
    except ValueError as err:
        raise MessageError(f"vehicle state has a malformed value: {err}") from err
    if not math.isfinite(out["stamp_s"]):
        out["stamp_s"] = 0.0
    return VehicleState(**out)


def text_to_msg(text: str, factory: Any) -> Any:
    """A line of text → std_msgs/String."""
    return factory.new("std_msgs/msg/String", data=str(text))


def text_from_msg(msg: Any) -> str:
    """std_msgs/String → its text (bounded: a plan larger than 16 MB is refused)."""
    data = msg.data
    if not isinstance(data, str):
        raise MessageError(f"std_msgs/String.data must be text, got {type(data).__name__}")
    if len(data) > 16_000_000:
        raise MessageError("text message larger than 16 MB")
    return data
