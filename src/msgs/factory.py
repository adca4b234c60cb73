"""Message factories: build ROS 2 messages by type name, for rclpy or for rosbags' field-identical classes.

Converters never import a message package. Reading is duck-typed over fields; writing goes through a
:class:`MessageFactory`, which knows the concrete classes (rclpy's generated ones under ROS, rosbags'
Jazzy typestore in the headless runtime and in tests) and coerces array fields into what that
implementation stores (numpy arrays for rosbags; ``array.array``/lists for rclpy).
"""

from __future__ import annotations

from functools import cache
from typing import Any, Protocol

import numpy as np

from sanqin.msgs.errors import MessageError

#: ROS primitive type → numpy dtype (rosbags stores primitive arrays as numpy arrays of these).
PRIMITIVE_DTYPES: dict[str, Any] = {
    "bool": np.bool_,
    "byte": np.uint8,
    "char": np.uint8,
    "int8": np.int8,
    "uint8": np.uint8,
    "int16": np.int16,
    "uint16": np.uint16,
    "int32": np.int32,
    "uint32": np.uint32,
    "int64": np.int64,
    "uint64": np.uint64,
    "float32": np.float32,
    "float64": np.float64,
}


class MessageFactory(Protocol):
    """Builds messages of a ROS 2 implementation by type name (``pkg/msg/Name``)."""

    def new(self, msgtype: str, **fields: Any) -> Any:
        """A message of ``msgtype``; fields not given take their ROS defaults."""
        ...


class RosbagsFactory:
    """Factory over rosbags' typestore (Jazzy by default): messages it builds serialize to CDR directly."""

    def __init__(self, store: str = "ROS2_JAZZY") -> None:
        from rosbags.typesys import Stores, get_typestore

        self.typestore = get_typestore(getattr(Stores, store))

    def has(self, msgtype: str) -> bool:
        """Whether the typestore knows ``msgtype``."""
        return msgtype in self.typestore.types

    def new(self, msgtype: str, **fields: Any) -> Any:
        """A message of ``msgtype`` with defaults filled in and array fields coerced to numpy."""
        try:
            cls = self.typestore.types[msgtype]
            _consts, defs = self.typestore.fielddefs[msgtype]
        except KeyError as err:
            raise MessageError(f"unknown message type {msgtype!r}") from err
        names = {name for name, _ in defs}
        unknown = set(fields) - names
        if unknown:
            raise MessageError(f"{msgtype} has no field(s) {sorted(unknown)}")
        kwargs = {}
        for name, desc in defs:
            if name in fields:
                try:
                    kwargs[name] = self._coerce(desc, fields[name], f"{msgtype}.{name}")
                except (OverflowError, TypeError, ValueError) as err:
                    if isinstance(err, MessageError):
                        raise
                    raise MessageError(f"{msgtype}.{name}: cannot store {type(fields[name]).__name__}: {err}") from err
            else:
                kwargs[name] = self._default(desc)
        return cls(**kwargs)

    # --- field descriptions: (Nodetype, payload) with Nodetype BASE=1, NAME=2, ARRAY=3, SEQUENCE=4
    def _default(self, desc: Any) -> Any:
        kind, payload = desc
        kind = int(kind)
        if kind == 1:
            base = payload[0]
            if base == "string":
                return ""
            if base == "bool":
                return False
            if base in ("float32", "float64"):
                return 0.0
            return 0
        if kind == 2:
            return self.new(payload)
        inner, size = payload
        if int(inner[0]) == 1 and inner[1][0] in PRIMITIVE_DTYPES:
            return np.zeros(size if kind == 3 else 0, dtype=PRIMITIVE_DTYPES[inner[1][0]])
        if kind == 3:
            return [self._default(inner) for _ in range(size)]
        return []

    def _coerce(self, desc: Any, value: Any, where: str) -> Any:
        kind, payload = desc
        kind = int(kind)
        if kind in (3, 4):
            inner, size = payload
            if int(inner[0]) == 1 and inner[1][0] in PRIMITIVE_DTYPES:
                dtype = PRIMITIVE_DTYPES[inner[1][0]]
                if isinstance(value, (bytes, bytearray, memoryview)):
                    arr = np.frombuffer(bytes(value), dtype=dtype)
                else:
                    arr = np.asarray(value, dtype=dtype).reshape(-1)
                if kind == 3 and arr.size != size:
                    raise MessageError(f"{where}: expected {size} elements, got {arr.size}")
                return arr
            return list(value)
        if kind == 1:
            base = payload[0]
            if base in ("float32", "float64"):
                return float(value)
            if base == "bool":
                return bool(value)
            if base == "string":
                return str(value)
            return int(value)
        return value

    def serialize(self, msg: Any) -> bytes:
        """CDR bytes of a message (as on the wire and in rosbag2 files)."""
        return bytes(self.typestore.serialize_cdr(msg, msg.__msgtype__))

    def deserialize(self, data: bytes, msgtype: str) -> Any:
        """A message from CDR bytes; raises :class:`MessageError` on malformed data."""
        try:
            return self.typestore.deserialize_cdr(data, msgtype)
        except Exception as err:  # rosbags raises assorted errors on bad bytes
            raise MessageError(f"cannot deserialize {msgtype}: {err}") from err


@cache
def default_factory() -> RosbagsFactory:
    """The shared rosbags (Jazzy) factory used by the headless runtime and tests."""
    return RosbagsFactory()
