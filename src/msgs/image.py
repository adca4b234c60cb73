"""sensor_msgs/Image ↔ numpy arrays and :class:`~sanqin.common.types.ImageFrame`.

Reading honours ``step`` (rows may be padded), ``is_bigendian`` for multi-byte encodings, and returns a
writable, native-byte-order array of shape (H, W) for one channel or (H, W, C) otherwise. Writing packs
rows (``step = width * bytes_per_pixel``), little-endian. The array's dtype must match the encoding
exactly (no silent casting: a float image published as mono8 is a bug upstream).

Supported encodings: mono8, mono16, rgb8, bgr8, rgba8, bgra8, rgb16, bgr16, rgba16, bgra16, the Bayer
encodings (one channel), yuv422/uyvy/yuyv (two 8-bit channels per pixel) and the OpenCV-style
``<bits><U|S|F>C<channels>`` encodings (8UC1, 8UC3, 16UC1, 32FC1, 64FC1, …).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from sanqin.common.types import ImageFrame
from sanqin.msgs.buffers import as_byte_array
from sanqin.msgs.errors import MessageError
from sanqin.msgs.time import header_stamp_frame, make_header

#: Named encodings → (numpy type code, channels).
NAMED_ENCODINGS: dict[str, tuple[str, int]] = {
    "mono8": ("u1", 1),
    "mono16": ("u2", 1),
    "rgb8": ("u1", 3),
    "bgr8": ("u1", 3),
    "rgba8": ("u1", 4),
    "bgra8": ("u1", 4),
    "rgb16": ("u2", 3),
    "bgr16": ("u2", 3),
    "rgba16": ("u2", 4),
    "bgra16": ("u2", 4),
    "yuv422": ("u1", 2),
    "uyvy": ("u1", 2),
    "yuyv": ("u1", 2),
    "yuv422_yuy2": ("u1", 2),
    **{f"bayer_{p}{b}": ("u1" if b == 8 else "u2", 1) for p in ("rggb", "bggr", "gbrg", "grbg") for b in (8, 16)},
}
_CV = re.compile(r"^(8|16|32|64)([USF])C([1-4])$")
_CV_KIND = {"U": "u", "S": "i", "F": "f"}
#: Element types sensor_msgs/image_encodings defines: 8U 8S 16U 16S 32S 32F 64F.
_CV_CODES = {"u1", "i1", "u2", "i2", "i4", "f4", "f8"}


def encoding_layout(encoding: str) -> tuple[np.dtype, int]:
    """(element dtype without byte order, channels) of a ROS image encoding; MessageError if unknown."""
    if encoding in NAMED_ENCODINGS:
        code, channels = NAMED_ENCODINGS[encoding]
        return np.dtype(code), channels
    match = _CV.match(encoding)
    if match:
        bits, kind, channels = int(match.group(1)), match.group(2), int(match.group(3))
        code = f"{_CV_KIND[kind]}{bits // 8}"
        if code not in _CV_CODES:
            raise MessageError(f"image encoding {encoding!r} has no ROS/OpenCV element type")
        return np.dtype(code), channels
    raise MessageError(f"unknown image encoding {encoding!r} (known: {sorted(NAMED_ENCODINGS)} and e.g. 32FC1)")


def image_to_array(msg: Any) -> np.ndarray:
    """sensor_msgs/Image → (H, W) or (H, W, C) native-endian array (a copy; the message is untouched)."""
    encoding = str(msg.encoding)
    elem, channels = encoding_layout(encoding)
    try:
        height, width, step = int(msg.height), int(msg.width), int(msg.step)
    except (AttributeError, TypeError, ValueError) as err:
        raise MessageError(f"Image layout fields are missing or not integers: {err}") from err
    if min(height, width, step) < 0:
        raise MessageError("Image height/width/step must not be negative")
    pixel = elem.itemsize * channels
    if step < width * pixel:
        raise MessageError(
            f"Image step {step} is smaller than width*bytes_per_pixel = {width}*{pixel} for {encoding!r}"
        )
    data = as_byte_array(msg.data, "Image.data")
    if data.size < step * height:
        raise MessageError(f"Image data has {data.size} bytes, needs step*height = {step}*{height} = {step * height}")
    if data.size > step * height:
        raise MessageError(
            f"Image data has {data.size} bytes, more than step*height = {step * height}: step or height is wrong"
        )
    order = ">" if int(msg.is_bigendian) else "<"
    wire = elem.newbyteorder(order) if elem.itemsize > 1 else elem
    shape = (height, width, channels)
    strides = (step, pixel, elem.itemsize)
    if height == 0 or width == 0:
        view = np.zeros(shape, dtype=elem)
    else:
        view = np.ndarray(shape=shape, dtype=wire, buffer=data, offset=0, strides=strides)
    out = np.array(view, dtype=elem.newbyteorder("="), order="C")
    return out[:, :, 0] if channels == 1 else out


def array_to_image(array: np.ndarray, encoding: str, stamp_s: float, frame_id: str, factory: Any) -> Any:
    """(H, W) / (H, W, C) array → packed little-endian sensor_msgs/Image; dtype and shape must fit ``encoding``."""
    elem, channels = encoding_layout(encoding)
    arr = np.asarray(array)
    if arr.ndim == 2 and channels == 1:
        arr = arr[:, :, np.newaxis]
    if arr.ndim != 3 or arr.shape[2] != channels:
        want = "(H, W)" if channels == 1 else f"(H, W, {channels})"
        raise MessageError(f"encoding {encoding!r} needs an array of shape {want}, got {np.shape(array)}")
    if arr.dtype.kind != elem.kind or arr.dtype.itemsize != elem.itemsize:
        raise MessageError(f"encoding {encoding!r} needs dtype {elem}, got {arr.dtype}")
    height, width = int(arr.shape[0]), int(arr.shape[1])
    packed = np.ascontiguousarray(arr, dtype=elem.newbyteorder("<"))
    return factory.new(
        "sensor_msgs/msg/Image",
        header=make_header(factory, stamp_s, frame_id),
        height=height,
        width=width,
        encoding=encoding,
        is_bigendian=0,
        step=width * channels * elem.itemsize,
        data=packed.tobytes(),
    )


def image_to_frame(msg: Any) -> ImageFrame:
    """sensor_msgs/Image → :class:`ImageFrame` (stamp, frame id, pixel array, encoding)."""
    stamp_s, frame_id = header_stamp_frame(msg.header)
    return ImageFrame(stamp_s=stamp_s, frame_id=frame_id, data=image_to_array(msg), encoding=str(msg.encoding))


def frame_to_image(frame: ImageFrame, factory: Any) -> Any:
    """:class:`ImageFrame` → sensor_msgs/Image."""
    return array_to_image(frame.data, frame.encoding, frame.stamp_s, frame.frame_id, factory)
