"""Image converters honour step padding and byte order, round-trip every encoding, and reject bad layouts."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from sanqin.common.types import ImageFrame
from sanqin.msgs.errors import MessageError
from sanqin.msgs.image import array_to_image, encoding_layout, frame_to_image, image_to_array, image_to_frame
from sanqin.msgs.time import make_header

CASES = {
    "mono8": (np.uint8, None),
    "mono16": (np.uint16, None),
    "rgb8": (np.uint8, 3),
    "bgr8": (np.uint8, 3),
    "rgba8": (np.uint8, 4),
    "bgra8": (np.uint8, 4),
    "8UC1": (np.uint8, None),
    "8UC3": (np.uint8, 3),
    "16UC1": (np.uint16, None),
    "16SC1": (np.int16, None),
    "32SC1": (np.int32, None),
    "32FC1": (np.float32, None),
    "64FC1": (np.float64, None),
    "rgb16": (np.uint16, 3),
    "bayer_rggb8": (np.uint8, None),
    "yuv422": (np.uint8, 2),
}


def _random(rng, dtype, shape):
    if np.dtype(dtype).kind == "f":
        return rng.normal(0, 100, shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)


@pytest.mark.parametrize("encoding", sorted(CASES))
def test_roundtrip_every_encoding(factory, cdr, encoding):
    dtype, channels = CASES[encoding]
    shape = (5, 7) if channels is None else (5, 7, channels)
    arr = _random(np.random.default_rng(0), dtype, shape)
    frame = ImageFrame(stamp_s=3.25, frame_id="camera_optical", data=arr, encoding=encoding)
    msg = cdr(frame_to_image(frame, factory))
    assert (msg.height, msg.width, msg.encoding, msg.is_bigendian) == (5, 7, encoding, 0)
    assert msg.step == 7 * arr.itemsize * (channels or 1)
    back = image_to_frame(msg)
    assert back.stamp_s == pytest.approx(3.25) and back.frame_id == "camera_optical" and back.encoding == encoding
    assert back.data.dtype == np.dtype(dtype) and back.data.shape == shape
    np.testing.assert_array_equal(back.data, arr)
    back.data[0, 0] = 0  # a writable copy, not a view of the message


def _hand_built(factory, encoding, rows, fmt, step, big):
    """An Image whose rows are packed with struct (``rows`` of flat per-row values), padded to ``step``."""
    order = ">" if big else "<"
    data = bytearray()
    for row in rows:
        packed = struct.pack(order + fmt * len(row), *row)
        data += packed + b"\xab" * (step - len(packed))
    width = len(rows[0]) // encoding_layout(encoding)[1]
    return factory.new(
        "sensor_msgs/msg/Image",
        header=make_header(factory, 1.0, "cam"),
        height=len(rows),
        width=width,
        encoding=encoding,
        is_bigendian=int(big),
        step=step,
        data=bytes(data),
    )


@pytest.mark.parametrize("big", [False, True])
def test_mono16_padded_rows_and_byte_order(factory, cdr, big):
    rows = [[1, 2, 65535, 256], [4096, 0, 7, 513], [9, 8, 7, 6]]
    msg = cdr(_hand_built(factory, "mono16", rows, "H", step=11, big=big))
    got = image_to_array(msg)
    assert got.dtype == np.uint16 and got.dtype.isnative
    np.testing.assert_array_equal(got, rows)


@pytest.mark.parametrize("big", [False, True])
def test_32fc1_padded_rows_and_byte_order(factory, cdr, big):
    rows = [[0.5, -1.25, float("nan")], [1e6, 3.0, -0.0]]
    msg = cdr(_hand_built(factory, "32FC1", rows, "f", step=16, big=big))
    np.testing.assert_array_equal(image_to_array(msg), np.asarray(rows, np.float32))


def test_rgb8_padded_rows(factory):
    rows = [[10, 20, 30, 40, 50, 60], [1, 2, 3, 4, 5, 6]]
    msg = _hand_built(factory, "rgb8", rows, "B", step=8, big=False)
    got = image_to_array(msg)
    assert got.shape == (2, 2, 3)
    np.testing.assert_array_equal(got.reshape(2, 6), rows)


def test_empty_image(factory, cdr):
    msg = cdr(array_to_image(np.zeros((0, 0), np.uint8), "mono8", 0.0, "cam", factory))
    assert image_to_array(msg).shape == (0, 0)


# --- bad input ---------------------------------------------------------------------------------


def _mono8(factory):
    return array_to_image(np.zeros((4, 6), np.uint8), "mono8", 0.0, "cam", factory)


def test_step_too_small(factory):
    msg = array_to_image(np.zeros((4, 6, 3), np.uint8), "rgb8", 0.0, "cam", factory)
    msg.step = 17
    msg.data = np.zeros(17 * 4, np.uint8)
    with pytest.raises(MessageError, match=r"step 17 is smaller than width\*bytes_per_pixel = 6\*3"):
        image_to_array(msg)


def test_data_too_short(factory):
    msg = _mono8(factory)
    msg.data = np.zeros(23, np.uint8)
    with pytest.raises(MessageError, match=r"data has 23 bytes, needs step\*height = 6\*4 = 24"):
        image_to_array(msg)


def test_data_too_long(factory):
    msg = _mono8(factory)
    msg.data = np.zeros(30, np.uint8)
    with pytest.raises(MessageError, match="more than step"):
        image_to_array(msg)


@pytest.mark.parametrize("encoding", ["jpeg", "", "32UC1", "8FC1", "16UC5"])
def test_unknown_encoding(factory, encoding):
    msg = _mono8(factory)
    msg.encoding = encoding
    with pytest.raises(MessageError, match="encoding"):
        image_to_array(msg)


def test_writing_rejects_mismatched_arrays(factory):
    with pytest.raises(MessageError, match=r"needs dtype uint8, got float64"):
        array_to_image(np.zeros((2, 2)), "mono8", 0, "cam", factory)
    with pytest.raises(MessageError, match=r"shape \(H, W, 3\)"):
        array_to_image(np.zeros((2, 2), np.uint8), "rgb8", 0, "cam", factory)
    with pytest.raises(MessageError, match="unknown image encoding"):
        array_to_image(np.zeros((2, 2), np.uint8), "mono7", 0, "cam", factory)


def test_duck_typed_rclpy_like_message():
    """rclpy stores uint8[] as array.array('B') and is_bigendian as an int: read without rosbags classes."""
    import array
    from types import SimpleNamespace

    pixels = np.arange(12, dtype=np.uint16).reshape(3, 4)
    msg = SimpleNamespace(
        header=SimpleNamespace(stamp=SimpleNamespace(sec=2, nanosec=500_000_000), frame_id="cam"),
        height=3,
        width=4,
        encoding="mono16",
        is_bigendian=1,
        step=8,
        data=array.array("B", pixels.astype(">u2").tobytes()),
    )
    frame = image_to_frame(msg)
    assert frame.stamp_s == 2.5 and frame.frame_id == "cam"
    np.testing.assert_array_equal(frame.data, pixels)
