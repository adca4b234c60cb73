"""Real Velodyne scans (fast_gicp's binary PCDs, read-only shared data) survive PointCloud2 in several layouts."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from sanqin.msgs.pointcloud import pointcloud2_to_array, pointcloud2_to_cloud, structured_to_pointcloud2
from sanqin.msgs.time import make_header

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "lidar" / "velodyne_fast_gicp_pair"
SCANS = sorted(DATA.glob("*.pcd")) if DATA.is_dir() else []
pytestmark = pytest.mark.skipif(not SCANS, reason=f"shared LiDAR data not found in {DATA}")
PCD_TYPES = {("F", 4): 7, ("F", 8): 8, ("U", 1): 2, ("U", 2): 4, ("U", 4): 6, ("I", 1): 1, ("I", 2): 3, ("I", 4): 5}


def read_pcd(path: Path) -> tuple[dict[str, list[str]], bytes]:
    """Header entries and the binary body of a ``DATA binary`` PCD file."""
    raw = path.read_bytes()
    header: dict[str, list[str]] = {}
    pos = 0
    while True:
        end = raw.index(b"\n", pos)
        line = raw[pos:end].decode("ascii").strip()
        pos = end + 1
        if line.startswith("#") or not line:
            continue
        key, *values = line.split()
        header[key] = values
        if key == "DATA":
            break
    assert header["DATA"] == ["binary"]
    return header, raw[pos:]


def pcd_as_pointcloud2(path: Path, factory):
    """The PCD body used verbatim as PointCloud2 data, fields declared from the PCD header."""
    header, body = read_pcd(path)
    offsets, offset = [], 0
    for size in header["SIZE"]:
        offsets.append(offset)
        offset += int(size)
    fields = [
        factory.new("sensor_msgs/msg/PointField", name=n, offset=o, datatype=PCD_TYPES[(t, int(s))], count=1)
        for n, o, t, s in zip(header["FIELDS"], offsets, header["TYPE"], header["SIZE"])
    ]
    width = int(header["WIDTH"][0])
    return factory.new(
        "sensor_msgs/msg/PointCloud2",
        header=make_header(factory, 251.370668, "velodyne"),
        height=1,
        width=width,
        fields=fields,
        is_bigendian=False,
        point_step=offset,
        row_step=offset * width,
        data=body[: offset * width],
        is_dense=False,
    )


@pytest.mark.parametrize("path", SCANS, ids=lambda p: p.name)
def test_real_scan_matches_struct_reference(factory, cdr, path):
    msg = cdr(pcd_as_pointcloud2(path, factory))
    got = pointcloud2_to_array(msg, ("x", "y", "z", "intensity"))
    assert got.shape[0] > 60_000
    ref = np.asarray(list(struct.iter_unpack("<4f", bytes(msg.data))), dtype=np.float32)
    np.testing.assert_array_equal(got, ref)
    cloud = pointcloud2_to_cloud(msg, drop_nan=True)
    assert np.isfinite(cloud.points).all() and len(cloud) == int(np.isfinite(ref[:, :3]).all(axis=1).sum())
    # plausibly a real Velodyne scan: tens of metres across, most points within 100 m
    ranges = np.linalg.norm(cloud.points, axis=1)
    assert 10.0 < np.percentile(ranges, 99) < 150.0


def test_real_scan_relaid_big_endian_padded_float64(factory, cdr):
    """The same real points written in a very different layout read back to the same values."""
    msg = cdr(pcd_as_pointcloud2(SCANS[0], factory))
    xyzi = pointcloud2_to_array(msg, ("x", "y", "z", "intensity"))
    dtype = np.dtype(
        {
            "names": ["intensity", "z", "ring", "x", "y"],
            "formats": [">u2", ">f8", ">u1", ">f4", ">f8"],
            "offsets": [0, 2, 10, 12, 20],
            "itemsize": 40,
        }
    )
    arr = np.zeros(len(xyzi), dtype)
    arr["x"], arr["y"], arr["z"] = xyzi[:, 0], xyzi[:, 1], xyzi[:, 2]
    arr["intensity"] = np.clip(np.nan_to_num(xyzi[:, 3]), 0, 65535).astype(np.uint16)
    arr["ring"] = np.arange(len(arr)) % 32
    relaid = cdr(structured_to_pointcloud2(arr, 1.0, "velodyne", factory))
    assert relaid.is_bigendian and relaid.point_step == 40
    got = pointcloud2_to_array(relaid, ("x", "y", "z", "intensity", "ring"))
    np.testing.assert_array_equal(got[:, :3], xyzi[:, :3])
    np.testing.assert_array_equal(got[:, 3], arr["intensity"].astype(np.float32))
    np.testing.assert_array_equal(got[:, 4], arr["ring"].astype(np.float32))
