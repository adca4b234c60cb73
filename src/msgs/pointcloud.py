"""sensor_msgs/PointCloud2 ↔ float32 arrays, :class:`~sanqin.common.types.PointCloud` and named tables.

Reading is vectorised: the message's bytes are viewed as a numpy structured array whose item size is
``point_step`` and whose rows are ``row_step`` apart, so any field order, offsets, padding inside a
point, padding at the end of each row (``height > 1``), either byte order and every ``PointField``
datatype are handled without a per-point Python loop. Every field read is cast to float32 (integer
values above 2**24 lose precision; float64 is rounded).

Writing produces packed, little-endian float32 clouds with ``height == 1`` and ``is_dense`` computed
from the x/y/z columns (or from every column when the table has no x/y/z).

``PointField.count`` of 0 is read as 1 (some drivers leave it unset); a requested field with
``count > 1`` is rejected, since it has no single value per point.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sanqin.common.types import PointCloud
from sanqin.msgs.buffers import as_byte_array
from sanqin.msgs.errors import MessageError
from sanqin.msgs.time import header_stamp_frame, make_header

#: PointField datatype constant → numpy type code (byte order added per message).
POINTFIELD_DTYPES: dict[int, str] = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 8: "f8"}
#: numpy type code → PointField datatype constant.
DTYPE_POINTFIELD: dict[str, int] = {code: dt for dt, code in POINTFIELD_DTYPES.items()}
FLOAT32 = 7
XYZ = ("x", "y", "z")


def _layout(msg: Any) -> tuple[int, int, int, int, dict[str, tuple[int, int, int]]]:
    """Checked (height, width, point_step, row_step, {name: (offset, datatype, count)}) of a cloud."""
    try:
        height, width = int(msg.height), int(msg.width)
        point_step, row_step = int(msg.point_step), int(msg.row_step)
    except (AttributeError, TypeError, ValueError) as err:
        raise MessageError(f"PointCloud2 layout fields are missing or not integers: {err}") from err
    if min(height, width, point_step, row_step) < 0:
        raise MessageError("PointCloud2 height/width/point_step/row_step must not be negative")
    fields: dict[str, tuple[int, int, int]] = {}
    try:
        declared = [(str(f.name), int(f.offset), int(f.datatype), int(f.count)) for f in msg.fields]
    except (AttributeError, TypeError, ValueError) as err:
        raise MessageError(f"PointCloud2 fields are malformed: {err}") from err
    for name, offset, datatype, count in declared:
        if name in fields:
            raise MessageError(f"PointCloud2 field {name!r} is declared twice")
        if datatype not in POINTFIELD_DTYPES:
            raise MessageError(
                f"PointCloud2 field {name!r} has unknown datatype {datatype} (known: 1..8, INT8..FLOAT64)"
            )
        count = max(count, 1)
        size = int(np.dtype(POINTFIELD_DTYPES[datatype]).itemsize) * count
        if offset < 0 or offset + size > point_step:
            raise MessageError(
                f"PointCloud2 field {name!r} (offset {offset}, {size} bytes) extends past point_step {point_step}"
            )
        fields[name] = (offset, datatype, count)
    if row_step < width * point_step:
        raise MessageError(f"PointCloud2 row_step {row_step} is smaller than width*point_step = {width}*{point_step}")
    return height, width, point_step, row_step, fields


def _field_views(msg: Any, names: Sequence[str]) -> tuple[tuple[int, int], Any]:
    """((height, width), structured (height, width) view of ``names``) over the message's bytes."""
    height, width, point_step, row_step, fields = _layout(msg)
    missing = [n for n in names if n not in fields]
    if missing:
        raise MessageError(f"PointCloud2 lacks field(s) {missing} (has {sorted(fields)})")
    for n in names:
        if fields[n][2] != 1:
            raise MessageError(f"PointCloud2 field {n!r} has count {fields[n][2]}; only count 1 can be read")
    data = as_byte_array(msg.data, "PointCloud2.data")
    if data.size != row_step * height:
        raise MessageError(
            f"PointCloud2 data has {data.size} bytes but row_step*height = {row_step}*{height} = {row_step * height}"
        )
    if height == 0 or width == 0:
        return (height, width), None
    order = ">" if bool(msg.is_bigendian) else "<"
    unique = list(dict.fromkeys(names))
    dtype = np.dtype(
        {
            "names": unique,
            "formats": [order + POINTFIELD_DTYPES[fields[n][1]] for n in unique],
            "offsets": [fields[n][0] for n in unique],
            "itemsize": point_step,
        }
    )
    view = np.ndarray(shape=(height, width), dtype=dtype, buffer=data, offset=0, strides=(row_step, point_step))
    return (height, width), view


def pointcloud2_to_table(msg: Any, field_names: Sequence[str] | None = None) -> tuple[np.ndarray, tuple[str, ...]]:
    """PointCloud2 → ((N, k) float32 table, field names); all count-1 fields in offset order if not named.

    Points are in row-major order (row 0 first); N = height * width.
    """
    if field_names is None:
        _h, _w, _ps, _rs, fields = _layout(msg)
        field_names = [n for n, (_o, _d, c) in sorted(fields.items(), key=lambda kv: kv[1][0]) if c == 1]
    names = tuple(str(n) for n in field_names)
    (height, width), view = _field_views(msg, names)
    out = np.empty((height * width, len(names)), dtype=np.float32)
    if view is not None:
        grid = out.reshape(height, width, len(names))
        for i, name in enumerate(names):
            grid[:, :, i] = view[name]  # cast to float32 while copying, one pass per field
    return out, names


def _finite_rows(table: np.ndarray, names: Sequence[str]) -> np.ndarray:
    cols = [i for i, n in enumerate(names) if n in XYZ] or list(range(len(names)))
    return np.isfinite(table[:, cols]).all(axis=1)


def pointcloud2_to_array(msg: Any, fields: Sequence[str] = XYZ, drop_nan: bool = False) -> np.ndarray:
    """PointCloud2 → (N, len(fields)) float32 array of the named fields, in the order asked.

    With ``drop_nan`` rows whose x/y/z (those among ``fields``; every column if none is) are not finite
    are removed — the usual treatment of ``is_dense == False`` clouds.
    """
    table, names = pointcloud2_to_table(msg, fields)
    if drop_nan and table.shape[0]:
        table = table[_finite_rows(table, names)]
    return table


def pointcloud2_to_cloud(msg: Any, drop_nan: bool = False) -> PointCloud:
    """PointCloud2 → :class:`PointCloud` (xyz, plus intensity when the message has that field)."""
    stamp_s, frame_id = header_stamp_frame(msg.header)
    has_intensity = any(str(f.name) == "intensity" for f in msg.fields)
    names = (*XYZ, "intensity") if has_intensity else XYZ
    table = pointcloud2_to_array(msg, names, drop_nan=drop_nan)
    return PointCloud(
        stamp_s=stamp_s,
        frame_id=frame_id,
        points=np.ascontiguousarray(table[:, :3]),
        intensity=np.ascontiguousarray(table[:, 3]) if has_intensity else None,
    )


def structured_to_pointcloud2(points: np.ndarray, stamp_s: float, frame_id: str, factory: Any) -> Any:
    """A numpy structured array (any PointField datatypes, offsets and padding) → PointCloud2, bytes as given.

    1-D gives an unorganised cloud (height 1); 2-D (H, W) an organised one. Multi-byte fields must share
    one byte order, which sets ``is_bigendian``; the item size is ``point_step``.
    """
    arr = np.asarray(points)
    if arr.dtype.names is None or arr.ndim not in (1, 2):
        raise MessageError("structured_to_pointcloud2 needs a 1-D or 2-D numpy structured array")
    height, width = (1, int(arr.shape[0])) if arr.ndim == 1 else (int(arr.shape[0]), int(arr.shape[1]))
    fields = []
    orders = set()
    for name in arr.dtype.names:
        ftype, offset = arr.dtype.fields[name][:2]
        if ftype.subdtype is not None or ftype.kind not in "iuf":
            raise MessageError(f"field {name!r} has dtype {ftype}; only scalar int/uint/float fields map to PointField")
        code = f"{ftype.kind}{ftype.itemsize}"
        if code not in DTYPE_POINTFIELD:
            raise MessageError(f"field {name!r} has dtype {ftype}, which PointField cannot express")
        if ftype.itemsize > 1:
            orders.add(ftype.byteorder if ftype.byteorder in "<>" else ("<" if np.little_endian else ">"))
        fields.append(
            factory.new(
                "sensor_msgs/msg/PointField", name=name, offset=int(offset), datatype=DTYPE_POINTFIELD[code], count=1
            )
        )
    if len(orders) > 1:
        raise MessageError("all multi-byte fields must share one byte order")
    big = orders == {">"}
    data = np.ascontiguousarray(arr).tobytes()
    xyz = [n for n in XYZ if n in arr.dtype.names]
    check = xyz or [n for n in arr.dtype.names if arr.dtype.fields[n][0].kind == "f"]
    dense = all(bool(np.isfinite(arr[n]).all()) for n in check)
    return factory.new(
        "sensor_msgs/msg/PointCloud2",
        header=make_header(factory, stamp_s, frame_id),
        height=height,
        width=width,
        fields=fields,
        is_bigendian=big,
        point_step=int(arr.dtype.itemsize),
        row_step=int(arr.dtype.itemsize) * width,
        data=data,
        is_dense=dense,
    )


def table_to_pointcloud2(
    table: np.ndarray, field_names: Sequence[str], stamp_s: float, frame_id: str, factory: Any
) -> Any:
    """(N, k) table → packed little-endian float32 PointCloud2 with fields named ``field_names``."""
    names = tuple(str(n) for n in field_names)
    if not names or any(not n for n in names) or len(set(names)) != len(names):
        raise MessageError(f"field names must be non-empty and unique, got {names}")
    arr = np.asarray(table)
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, len(names))
    if arr.ndim != 2 or arr.shape[1] != len(names):
        raise MessageError(f"table must have shape (N, {len(names)}) for fields {names}, got {arr.shape}")
    if arr.dtype.kind not in "iufb":
        raise MessageError(f"table must be numeric, got dtype {arr.dtype}")
    packed = np.ascontiguousarray(arr, dtype="<f4")
    fields = [
        factory.new("sensor_msgs/msg/PointField", name=n, offset=4 * i, datatype=FLOAT32, count=1)
        for i, n in enumerate(names)
    ]
    point_step = 4 * len(names)
    return factory.new(
        "sensor_msgs/msg/PointCloud2",
        header=make_header(factory, stamp_s, frame_id),
        height=1,
        width=int(packed.shape[0]),
        fields=fields,
        is_bigendian=False,
        point_step=point_step,
        row_step=point_step * int(packed.shape[0]),
        data=packed.tobytes(),
        is_dense=bool(_finite_rows(packed, names).all()),
    )


def array_to_pointcloud2(
    points: np.ndarray,
    stamp_s: float,
    frame_id: str,
    factory: Any,
    field_names: Sequence[str] = XYZ,
) -> Any:
    """(N, k) points whose columns are ``field_names`` (must include x, y, z) → PointCloud2 (float32, packed)."""
    missing = [n for n in XYZ if n not in field_names]
    if missing:
        raise MessageError(f"a point cloud needs fields x, y, z; {missing} missing from {tuple(field_names)}")
    return table_to_pointcloud2(points, field_names, stamp_s, frame_id, factory)


def cloud_to_pointcloud2(cloud: PointCloud, factory: Any) -> Any:
    """:class:`PointCloud` → PointCloud2 with fields x, y, z (and intensity when the cloud has it)."""
    pts = np.asarray(cloud.points, dtype=np.float32)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise MessageError(f"PointCloud.points must have shape (N, 3), got {pts.shape}")
    if cloud.intensity is None:
        return table_to_pointcloud2(pts, XYZ, cloud.stamp_s, cloud.frame_id, factory)
    inten = np.asarray(cloud.intensity, dtype=np.float32).reshape(-1)
    if inten.shape[0] != pts.shape[0]:
        raise MessageError(f"PointCloud has {pts.shape[0]} points but {inten.shape[0]} intensities")
    table = np.column_stack([pts, inten])
    return table_to_pointcloud2(table, (*XYZ, "intensity"), cloud.stamp_s, cloud.frame_id, factory)
