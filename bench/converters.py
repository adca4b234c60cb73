"""PointCloud2 → ndarray: Sanqin's vectorised converter vs a per-point ``struct.unpack`` reader, same run.

The cloud is laid out like a Velodyne driver's (velodyne_pointcloud PointXYZIR): float32 x, y, z at
0/4/8, 4 padding bytes, float32 intensity at 16, uint16 ring at 20, padding up to a 32-byte point —
120,000 points, serialized to CDR and read back as a subscriber would receive it. Both readers return
the same (N, 4) float32 x, y, z, intensity array (checked). The baseline is the classic per-point
reader (one precompiled ``struct.Struct`` for the whole point, ``unpack_from`` per point), i.e. the
fastest pure-Python loop, not a strawman.

Run: ``.venv/bin/python bench/converters.py [--points 120000] [--repeats 7]``. The last line is the
headline ``speedup: <ratio>x`` (median baseline time / median vectorised time).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import struct
import sys
import time

import numpy as np
from _common import cpu_model

from sanqin.msgs.factory import default_factory
from sanqin.msgs.pointcloud import pointcloud2_to_array, structured_to_pointcloud2

FIELDS = ("x", "y", "z", "intensity")
STRUCT_CODES = {1: "b", 2: "B", 3: "h", 4: "H", 5: "i", 6: "I", 7: "f", 8: "d"}


def velodyne_cloud(n: int, factory):
    """A CDR-round-tripped PointCloud2 of ``n`` Velodyne-style points (16 rings, ranges 1..80 m)."""
    rng = np.random.default_rng(0)
    dtype = np.dtype(
        {
            "names": ["x", "y", "z", "intensity", "ring"],
            "formats": ["<f4", "<f4", "<f4", "<f4", "<u2"],
            "offsets": [0, 4, 8, 16, 20],
            "itemsize": 32,
        }
    )
    pts = np.zeros(n, dtype)
    rng_m = rng.uniform(1.0, 80.0, n)
    azimuth = rng.uniform(-np.pi, np.pi, n)
    ring = np.arange(n) % 16
    elevation = np.deg2rad(-15.0 + 2.0 * ring)
    pts["x"] = rng_m * np.cos(elevation) * np.cos(azimuth)
    pts["y"] = rng_m * np.cos(elevation) * np.sin(azimuth)
    pts["z"] = rng_m * np.sin(elevation)
    pts["intensity"] = rng.uniform(0, 255, n)
    pts["ring"] = ring
    msg = structured_to_pointcloud2(pts, 1700000000.1, "velodyne", factory)
    return factory.deserialize(factory.serialize(msg), "sensor_msgs/msg/PointCloud2")


def per_point_baseline(msg, names=FIELDS) -> np.ndarray:
    """Per-point reading with one compiled struct per point (like ROS 1's ``read_points``)."""
    by_name = {f.name: f for f in msg.fields}
    chosen = sorted((by_name[n].offset, n, by_name[n].datatype) for n in names)
    fmt, cursor = ">" if msg.is_bigendian else "<", 0
    for offset, _name, datatype in chosen:
        if offset > cursor:
            fmt += f"{offset - cursor}x"
        fmt += STRUCT_CODES[datatype]
        cursor = offset + struct.calcsize(STRUCT_CODES[datatype])
    unpack_from = struct.Struct(fmt).unpack_from
    data = bytes(msg.data)
    rows = []
    for r in range(msg.height):
        base = r * msg.row_step
        for c in range(msg.width):
            rows.append(unpack_from(data, base + c * msg.point_step))
    out = np.asarray(rows, dtype=np.float32).reshape(-1, len(names))
    order = [n for _o, n, _d in chosen]
    return out[:, [order.index(n) for n in names]]


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=120_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical cores, load avg {load[0]:.2f}")
    print(f"python {platform.python_version()} ({sys.implementation.name}), numpy {np.__version__}")

    factory = default_factory()
    msg = velodyne_cloud(args.points, factory)
    print(
        f"cloud: {msg.width * msg.height} points, point_step {msg.point_step} B, "
        f"fields {[(f.name, f.offset, f.datatype) for f in msg.fields]}, {len(msg.data) / 1e6:.2f} MB"
    )

    fast = pointcloud2_to_array(msg, FIELDS)
    slow = per_point_baseline(msg)
    if not np.array_equal(fast, slow):
        raise SystemExit("vectorised and per-point readers disagree")

    t_fast = median_time(lambda: pointcloud2_to_array(msg, FIELDS), max(args.repeats * 3, 5))
    t_slow = median_time(lambda: per_point_baseline(msg), args.repeats)
    t_xyz = median_time(lambda: pointcloud2_to_array(msg), max(args.repeats * 3, 5))
    print(f"per-point struct.unpack (x,y,z,intensity): median {t_slow * 1e3:9.2f} ms over {args.repeats} runs")
    print(f"pointcloud2_to_array   (x,y,z,intensity): median {t_fast * 1e3:9.2f} ms")
    print(f"pointcloud2_to_array   (x,y,z)          : median {t_xyz * 1e3:9.2f} ms")
    print(f"speedup: {t_slow / t_fast:.1f}x")


if __name__ == "__main__":
    main()
