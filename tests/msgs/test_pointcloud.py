"""PointCloud2 converters read any layout exactly like a per-point struct.unpack reference and write valid clouds."""

from __future__ import annotations

import array
import math
import struct

import numpy as np
import pytest

from sanqin.common.types import PointCloud
from sanqin.msgs.errors import MessageError
from sanqin.msgs.pointcloud import (
    array_to_pointcloud2,
    cloud_to_pointcloud2,
    pointcloud2_to_array,
    pointcloud2_to_cloud,
    pointcloud2_to_table,
    structured_to_pointcloud2,
    table_to_pointcloud2,
)
from sanqin.msgs.time import make_header

STRUCT = {1: "b", 2: "B", 3: "h", 4: "H", 5: "i", 6: "I", 7: "f", 8: "d"}
PC2 = "sensor_msgs/msg/PointCloud2"


def build(factory, fields, point_step, rows, *, big=False, row_pad=0, dense=True, count=1):
    """A PointCloud2 packed point by point with struct: ``rows`` is a list of rows of {name: value}."""
    order = ">" if big else "<"
    width = len(rows[0]) if rows else 0
    row_step = width * point_step + row_pad
    data = bytearray()
    for row in rows:
        line = bytearray(row_step)
        for j, point in enumerate(row):
            for name, offset, datatype in fields:
                struct.pack_into(order + STRUCT[datatype], line, j * point_step + offset, point[name])
        data += line
    pfs = [factory.new("sensor_msgs/msg/PointField", name=n, offset=o, datatype=d, count=count) for n, o, d in fields]
    return factory.new(
        PC2,
        header=make_header(factory, 12.25, "velodyne"),
        height=len(rows),
        width=width,
        fields=pfs,
        is_bigendian=big,
        point_step=point_step,
        row_step=row_step,
        data=bytes(data),
        is_dense=dense,
    )


def reference(msg, names):
    """Per-point struct.unpack reading of ``names`` (the obviously-correct slow way)."""
    order = ">" if msg.is_bigendian else "<"
    raw = bytes(np.asarray(msg.data, dtype=np.uint8))
    by_name = {f.name: f for f in msg.fields}
    out = []
    for r in range(msg.height):
        for c in range(msg.width):
            base = r * msg.row_step + c * msg.point_step
            out.append(
                [
                    struct.unpack_from(order + STRUCT[by_name[n].datatype], raw, base + by_name[n].offset)[0]
                    for n in names
                ]
            )
    return np.asarray(out, dtype=np.float64).reshape(-1, len(names)).astype(np.float32)


def xyzi_rows(rng, height, width):
    return [
        [
            {k: float(v) for k, v in zip("xyz", rng.normal(0, 20, 3))} | {"intensity": float(rng.uniform(0, 255))}
            for _ in range(width)
        ]
        for _ in range(height)
    ]


def test_shuffled_fields_with_padding(factory, cdr):
    rng = np.random.default_rng(0)
    fields = [("z", 0, 7), ("intensity", 4, 7), ("x", 12, 7), ("y", 16, 7)]  # bytes 8..11, 20..27 padding
    msg = cdr(build(factory, fields, 28, xyzi_rows(rng, 1, 50)))
    got = pointcloud2_to_array(msg, ("x", "y", "z", "intensity"))
    assert got.dtype == np.float32 and got.shape == (50, 4)
    np.testing.assert_array_equal(got, reference(msg, ("x", "y", "z", "intensity")))
    np.testing.assert_array_equal(pointcloud2_to_array(msg, ("intensity", "x")), got[:, [3, 0]])


def test_big_endian(factory, cdr):
    rng = np.random.default_rng(1)
    fields = [("x", 0, 7), ("y", 4, 7), ("z", 8, 7), ("intensity", 16, 7)]
    msg = cdr(build(factory, fields, 20, xyzi_rows(rng, 1, 40), big=True))
    got = pointcloud2_to_array(msg, ("x", "y", "z", "intensity"))
    np.testing.assert_array_equal(got, reference(msg, ("x", "y", "z", "intensity")))
    # reading the same bytes as little-endian would give different numbers: the flag is honoured
    assert not np.array_equal(got[:, :3], np.frombuffer(bytes(msg.data), "<f4").reshape(40, 5)[:, :3])


def test_organised_cloud_with_row_padding(factory, cdr):
    rng = np.random.default_rng(2)
    fields = [("x", 0, 7), ("y", 4, 7), ("z", 8, 7), ("intensity", 12, 7)]
    msg = cdr(build(factory, fields, 16, xyzi_rows(rng, 4, 9), row_pad=13))
    assert msg.row_step == 9 * 16 + 13
    got = pointcloud2_to_array(msg, ("x", "y", "z", "intensity"))
    assert got.shape == (36, 4)
    np.testing.assert_array_equal(got, reference(msg, ("x", "y", "z", "intensity")))


def test_not_dense_nan_rows_kept_or_dropped(factory, cdr):
    rng = np.random.default_rng(3)
    rows = xyzi_rows(rng, 2, 10)
    rows[0][3]["x"] = math.nan
    rows[1][5]["z"] = math.inf
    rows[1][7]["intensity"] = math.nan  # not part of xyz: the point stays
    fields = [("x", 0, 7), ("y", 4, 7), ("z", 8, 7), ("intensity", 12, 7)]
    msg = cdr(build(factory, fields, 16, rows, dense=False))
    full = pointcloud2_to_array(msg, ("x", "y", "z", "intensity"))
    np.testing.assert_array_equal(full, reference(msg, ("x", "y", "z", "intensity")))
    assert full.shape == (20, 4)
    dropped = pointcloud2_to_array(msg, ("x", "y", "z", "intensity"), drop_nan=True)
    assert dropped.shape == (18, 4)
    assert np.isfinite(dropped[:, :3]).all()
    assert np.isnan(dropped[:, 3]).sum() == 1
    cloud = pointcloud2_to_cloud(msg, drop_nan=True)
    assert len(cloud) == 18 and cloud.intensity.shape == (18,)


@pytest.mark.parametrize("big", [False, True])
def test_every_datatype_cast_to_float32(factory, cdr, big):
    rng = np.random.default_rng(4)
    ranges = {
        1: (-128, 127),
        2: (0, 255),
        3: (-32768, 32767),
        4: (0, 65535),
        5: (-(2**31), 2**31 - 1),
        6: (0, 2**32 - 1),
    }
    fields, offset = [], 1  # start unaligned on purpose
    names = ["x", "y", "z", "a", "b", "c", "d", "e"]
    for dt, name in zip(range(1, 9), names):
        fields.append((name, offset, dt))
        offset += struct.calcsize(STRUCT[dt]) + 1
    rows = []
    for _ in range(30):
        point = {}
        for name, _o, dt in fields:
            if dt in ranges:
                lo, hi = ranges[dt]
                point[name] = int(rng.integers(lo, hi, endpoint=True))
            else:
                point[name] = float(rng.normal(0, 1e3))
        rows.append(point)
    msg = cdr(build(factory, fields, offset + 3, [rows], big=big))
    got, got_names = pointcloud2_to_table(msg)
    assert got_names == tuple(names)
    np.testing.assert_array_equal(got, reference(msg, names))


def test_int16_and_float64_xyz(factory):
    fields = [("x", 0, 8), ("y", 8, 3), ("z", 10, 3)]
    rows = [[{"x": 1.25e5 + 0.1, "y": -300, "z": 32767}, {"x": -2.5, "y": 7, "z": -32768}]]
    msg = build(factory, fields, 12, rows)
    np.testing.assert_array_equal(pointcloud2_to_array(msg), reference(msg, "xyz"))


@pytest.mark.parametrize("kind", ["ndarray", "bytes", "array", "list", "bytes_list"])
def test_data_storage_types(factory, kind):
    """rosbags stores numpy arrays, rclpy array.array; bytes and lists (of ints or 1-byte bytes) also read."""
    pts = np.arange(12, dtype=np.float32).reshape(4, 3)
    msg = array_to_pointcloud2(pts, 0.0, "f", factory)
    raw = pts.astype("<f4").tobytes()
    msg.data = {
        "ndarray": np.frombuffer(raw, np.uint8),
        "bytes": raw,
        "array": array.array("B", raw),
        "list": list(raw),
        "bytes_list": [bytes([b]) for b in raw],
    }[kind]
    np.testing.assert_array_equal(pointcloud2_to_array(msg), pts)


def test_empty_cloud(factory, cdr):
    msg = cdr(array_to_pointcloud2(np.zeros((0, 3), np.float32), 1.0, "f", factory))
    assert msg.width == 0 and msg.is_dense
    assert pointcloud2_to_array(msg).shape == (0, 3)
    assert len(pointcloud2_to_cloud(msg)) == 0


def test_count_zero_reads_as_one(factory):
    fields = [("x", 0, 7), ("y", 4, 7), ("z", 8, 7)]
    msg = build(factory, fields, 12, [[{"x": 1.0, "y": 2.0, "z": 3.0}]], count=0)
    np.testing.assert_array_equal(pointcloud2_to_array(msg), [[1, 2, 3]])


# --- writing -----------------------------------------------------------------------------------


def test_array_roundtrip_through_cdr(factory, cdr):
    rng = np.random.default_rng(5)
    pts = rng.normal(size=(100, 4)).astype(np.float32)
    msg = cdr(array_to_pointcloud2(pts, 3.5, "lidar", factory, ("x", "y", "z", "intensity")))
    assert (msg.height, msg.width, msg.point_step, msg.row_step) == (1, 100, 16, 1600)
    assert not msg.is_bigendian and msg.is_dense
    assert msg.header.frame_id == "lidar" and msg.header.stamp.sec == 3 and msg.header.stamp.nanosec == 500_000_000
    assert [(f.name, f.offset, f.datatype, f.count) for f in msg.fields] == [
        ("x", 0, 7, 1),
        ("y", 4, 7, 1),
        ("z", 8, 7, 1),
        ("intensity", 12, 7, 1),
    ]
    np.testing.assert_array_equal(pointcloud2_to_array(msg, ("x", "y", "z", "intensity")), pts)
    np.testing.assert_array_equal(reference(msg, ("x", "y", "z", "intensity")), pts)


def test_is_dense_computed_from_xyz(factory):
    pts = np.ones((3, 4), np.float32)
    pts[1, 3] = np.nan
    assert array_to_pointcloud2(pts, 0, "f", factory, ("x", "y", "z", "intensity")).is_dense
    pts[2, 1] = np.inf
    assert not array_to_pointcloud2(pts, 0, "f", factory, ("x", "y", "z", "intensity")).is_dense


def test_cloud_roundtrip(factory, cdr):
    rng = np.random.default_rng(6)
    cloud = PointCloud(
        stamp_s=7.125,
        frame_id="base_link",
        points=rng.normal(size=(64, 3)).astype(np.float32),
        intensity=rng.uniform(0, 100, 64).astype(np.float32),
    )
    back = pointcloud2_to_cloud(cdr(cloud_to_pointcloud2(cloud, factory)))
    assert back.stamp_s == pytest.approx(7.125) and back.frame_id == "base_link"
    np.testing.assert_array_equal(back.points, cloud.points)
    np.testing.assert_array_equal(back.intensity, cloud.intensity)
    plain = pointcloud2_to_cloud(cdr(cloud_to_pointcloud2(PointCloud(points=cloud.points), factory)))
    assert plain.intensity is None
    np.testing.assert_array_equal(plain.points, cloud.points)


def test_table_roundtrip_named_fields(factory, cdr):
    table = np.arange(30, dtype=np.float32).reshape(5, 6)
    names = ("u", "v", "w", "range", "ring", "t")
    msg = cdr(table_to_pointcloud2(table, names, 1.0, "map", factory))
    got, got_names = pointcloud2_to_table(msg)
    assert got_names == names
    np.testing.assert_array_equal(got, table)
    assert msg.is_dense
    sub, sub_names = pointcloud2_to_table(msg, ("ring", "u"))
    np.testing.assert_array_equal(sub, table[:, [4, 0]])


def test_structured_roundtrip_velodyne_layout(factory, cdr):
    dt = np.dtype(
        {
            "names": ["x", "y", "z", "intensity", "ring", "time"],
            "formats": ["<f4", "<f4", "<f4", "<f4", "<u2", "<f4"],
            "offsets": [0, 4, 8, 16, 20, 24],
            "itemsize": 32,
        }
    )
    arr = np.zeros(10, dt)
    arr["x"] = np.arange(10)
    arr["ring"] = np.arange(10) % 16
    arr["time"] = np.linspace(0, 0.1, 10)
    msg = cdr(structured_to_pointcloud2(arr, 2.0, "velodyne", factory))
    assert msg.point_step == 32 and not msg.is_bigendian
    assert {f.name: f.datatype for f in msg.fields}["ring"] == 4
    got = pointcloud2_to_array(msg, ("x", "ring", "time"))
    np.testing.assert_array_equal(got, reference(msg, ("x", "ring", "time")))
    big = structured_to_pointcloud2(arr.astype(arr.dtype.newbyteorder(">")), 2.0, "velodyne", factory)
    assert big.is_bigendian
    np.testing.assert_array_equal(pointcloud2_to_array(big, ("x", "ring", "time")), got)


# --- bad input ---------------------------------------------------------------------------------


def _good(factory):
    fields = [("x", 0, 7), ("y", 4, 7), ("z", 8, 7)]
    return build(factory, fields, 12, [[{"x": 1.0, "y": 2.0, "z": 3.0}] * 4] * 2)


def test_data_length_mismatch(factory):
    msg = _good(factory)
    msg.data = np.asarray(msg.data)[:-1]
    with pytest.raises(MessageError, match=r"data has 95 bytes but row_step\*height"):
        pointcloud2_to_array(msg)


def test_row_step_too_small(factory):
    msg = _good(factory)
    msg.row_step = 40
    msg.data = np.zeros(80, np.uint8)
    with pytest.raises(MessageError, match="row_step 40 is smaller than width"):
        pointcloud2_to_array(msg)


def test_missing_xyz(factory):
    msg = _good(factory)
    msg.fields = msg.fields[:2]
    with pytest.raises(MessageError, match=r"lacks field\(s\) \['z'\]"):
        pointcloud2_to_array(msg)
    with pytest.raises(MessageError, match="lacks field"):
        pointcloud2_to_cloud(msg)


def test_field_past_point_step(factory):
    msg = _good(factory)
    msg.fields[2].offset = 10
    with pytest.raises(MessageError, match="'z'.*extends past point_step 12"):
        pointcloud2_to_array(msg)


def test_unknown_datatype(factory):
    msg = _good(factory)
    msg.fields[1].datatype = 9
    with pytest.raises(MessageError, match="'y' has unknown datatype 9"):
        pointcloud2_to_array(msg)


def test_count_above_one_rejected(factory):
    fields = [("x", 0, 7), ("y", 4, 7), ("z", 8, 7)]
    msg = build(factory, fields, 24, [[{"x": 1.0, "y": 2.0, "z": 3.0}]])
    msg.fields[0].count = 2
    with pytest.raises(MessageError, match="'x' has count 2"):
        pointcloud2_to_array(msg)


def test_duplicate_field_rejected(factory):
    msg = _good(factory)
    msg.fields[1].name = "x"
    with pytest.raises(MessageError, match="declared twice"):
        pointcloud2_to_array(msg)


def test_bad_data_container(factory):
    msg = _good(factory)
    msg.data = np.zeros(24, np.float32)
    with pytest.raises(MessageError, match="expected a byte array"):
        pointcloud2_to_array(msg)
    msg.data = [300] * 96
    with pytest.raises(MessageError, match="0..255"):
        pointcloud2_to_array(msg)


def test_writing_bad_shapes(factory):
    with pytest.raises(MessageError, match=r"shape \(N, 3\)"):
        array_to_pointcloud2(np.zeros((4, 2)), 0, "f", factory)
    with pytest.raises(MessageError, match="needs fields x, y, z"):
        array_to_pointcloud2(np.zeros((4, 2)), 0, "f", factory, ("x", "y"))
    with pytest.raises(MessageError, match="unique"):
        table_to_pointcloud2(np.zeros((4, 2)), ("a", "a"), 0, "f", factory)
    with pytest.raises(MessageError, match="4 points but 3 intensities"):
        cloud_to_pointcloud2(PointCloud(points=np.zeros((4, 3), np.float32), intensity=np.zeros(3)), factory)
    with pytest.raises(MessageError, match="structured"):
        structured_to_pointcloud2(np.zeros((4, 3)), 0, "f", factory)


def test_structured_organised_cloud(factory, cdr):
    dt = np.dtype([("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("rgb", "<u4")])
    grid = np.zeros((3, 5), dt)
    grid["x"] = np.arange(15).reshape(3, 5)
    grid["z"][1, 2] = np.nan
    msg = cdr(structured_to_pointcloud2(grid, 0.5, "depth_optical", factory))
    assert (msg.height, msg.width, msg.row_step) == (3, 5, 80) and not msg.is_dense
    got = pointcloud2_to_array(msg)
    np.testing.assert_array_equal(got[:, 0], np.arange(15))
    assert pointcloud2_to_array(msg, drop_nan=True).shape == (14, 3)


def test_malformed_field_objects(factory):
    msg = _good(factory)
    msg.fields = [object()]
    with pytest.raises(MessageError, match="fields are malformed"):
        pointcloud2_to_array(msg)
