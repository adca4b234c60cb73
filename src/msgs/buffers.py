"""Array fields of messages (``uint8[]`` bytes, ``float64[]`` values), whatever the implementation stores them as."""

from __future__ import annotations

from typing import Any

import numpy as np

from sanqin.msgs.errors import MessageError


def as_byte_array(data: Any, where: str = "data") -> np.ndarray:
    """A 1-D uint8 view (no copy when possible) of a ``uint8[]`` field.

    Accepts what the implementations store: numpy arrays (rosbags, rclpy for some fields),
    ``array.array('B')`` (rclpy), ``bytes``/``bytearray``/``memoryview``, and lists of ints or of
    1-byte ``bytes`` (rclpy's ``byte[]``).
    """
    if isinstance(data, np.ndarray):
        arr = np.ascontiguousarray(data)
        if arr.dtype.itemsize != 1 and arr.size:
            raise MessageError(f"{where}: expected a byte array, got dtype {arr.dtype}")
        return arr.reshape(-1).view(np.uint8)
    if isinstance(data, (bytes, bytearray, memoryview)):
        return np.frombuffer(data, dtype=np.uint8)
    if hasattr(data, "typecode") and hasattr(data, "itemsize"):  # array.array
        if data.itemsize != 1:
            raise MessageError(f"{where}: expected a byte array, got array.array of {data.typecode!r}")
        return np.frombuffer(data, dtype=np.uint8)
    if isinstance(data, (list, tuple)):
        if data and isinstance(data[0], (bytes, bytearray)):
            return np.frombuffer(b"".join(data), dtype=np.uint8)
        try:
            arr = np.asarray(data, dtype=np.int64)
        except (TypeError, ValueError) as err:
            raise MessageError(f"{where}: not a sequence of bytes: {err}") from err
        if arr.ndim != 1 or (arr.size and (arr.min() < 0 or arr.max() > 255)):
            raise MessageError(f"{where}: values must be a flat sequence of 0..255")
        return arr.astype(np.uint8)
    raise MessageError(f"{where}: cannot read bytes from {type(data).__name__}")


def as_float_array(values: Any, where: str, n: int | None = None) -> np.ndarray:
    """A flat float64 copy of a numeric array field; with ``n``, it must have exactly ``n`` values."""
    try:
        arr = np.array(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as err:
        raise MessageError(f"{where} is not numeric: {err}") from err
    if n is not None and arr.size != n:
        raise MessageError(f"{where} must have {n} values, got {arr.size}")
    return arr
