"""Small std_msgs / geometry_msgs converters used by the rehabilitation node (scalars, flags, text, targets).

Scalars that drive a safety-relevant decision (EMG envelope, BCI confidence) are converted faithfully;
judging NaN is the core's job. The target is a geometry_msgs/PointStamped whose x (and y) carry the task
coordinates: metres for the end-effector robot, radians per joint for the exoskeleton (x = joint 0,
y = joint 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sanqin.msgs.errors import MessageError
from sanqin.msgs.time import make_header


def float64_from_msg(msg: Any) -> float:
    """std_msgs/Float64 → float."""
    try:
        return float(msg.data)
    except (TypeError, ValueError) as err:
        raise MessageError(f"Float64.data is not a number: {msg.data!r}") from err


def float64_to_msg(value: float, factory: Any) -> Any:
    """float → std_msgs/Float64."""
    return factory.new("std_msgs/msg/Float64", data=float(value))


def bool_from_msg(msg: Any) -> bool:
    """std_msgs/Bool → bool."""
    data = msg.data
    if not isinstance(data, (bool, np.bool_, int)):
        raise MessageError(f"Bool.data is not a boolean: {data!r}")
    return bool(data)


def string_from_msg(msg: Any) -> str:
    """std_msgs/String → str."""
    if not isinstance(msg.data, str):
        raise MessageError(f"String.data is not text: {msg.data!r}")
    return msg.data


def string_to_msg(text: str, factory: Any) -> Any:
    """str → std_msgs/String."""
    return factory.new("std_msgs/msg/String", data=str(text))


def target_to_msg(target: tuple[float, str, np.ndarray], factory: Any) -> Any:
    """(stamp s, frame, 1–3 task coordinates) → geometry_msgs/PointStamped (missing axes are 0)."""
    stamp_s, frame, x = target
    v = np.zeros(3)
    x = np.asarray(x, float).reshape(-1)
    if x.size > 3:
        raise MessageError(f"a target has at most 3 coordinates, got {x.size}")
    v[: x.size] = x
    return factory.new("geometry_msgs/msg/PointStamped", header=make_header(factory, stamp_s, frame),
                       point=factory.new("geometry_msgs/msg/Point", x=v[0], y=v[1], z=v[2]))
