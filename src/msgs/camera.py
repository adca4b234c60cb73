"""sensor_msgs/CameraInfo ↔ :class:`~sanqin.common.types.CameraModel`."""

from __future__ import annotations

from typing import Any

import numpy as np

from sanqin.common.types import CameraModel
from sanqin.msgs.buffers import as_float_array
from sanqin.msgs.errors import MessageError
from sanqin.msgs.time import header_stamp_frame, make_header


def camera_info_to_model(msg: Any) -> CameraModel:
    """sensor_msgs/CameraInfo → :class:`CameraModel` (k 3×3, r 3×3, p 3×4, d as given)."""
    stamp_s, frame_id = header_stamp_frame(msg.header)
    roi = msg.roi
    return CameraModel(
        stamp_s=stamp_s,
        frame_id=frame_id,
        width=int(msg.width),
        height=int(msg.height),
        distortion_model=str(msg.distortion_model),
        k=as_float_array(msg.k, "CameraInfo.k", 9).reshape(3, 3),
        d=as_float_array(msg.d, "CameraInfo.d"),
        r=as_float_array(msg.r, "CameraInfo.r", 9).reshape(3, 3),
        p=as_float_array(msg.p, "CameraInfo.p", 12).reshape(3, 4),
        binning_x=int(msg.binning_x),
        binning_y=int(msg.binning_y),
        roi=(int(roi.x_offset), int(roi.y_offset), int(roi.height), int(roi.width), bool(roi.do_rectify)),
    )


def model_to_camera_info(model: CameraModel, factory: Any) -> Any:
    """:class:`CameraModel` → sensor_msgs/CameraInfo."""
    if model.width < 0 or model.height < 0 or model.binning_x < 0 or model.binning_y < 0:
        raise MessageError("CameraModel width/height/binning must not be negative")
    x_off, y_off, roi_h, roi_w, rectify = model.roi
    if min(x_off, y_off, roi_h, roi_w) < 0:
        raise MessageError(f"CameraModel roi must not be negative, got {model.roi}")
    return factory.new(
        "sensor_msgs/msg/CameraInfo",
        header=make_header(factory, model.stamp_s, model.frame_id),
        height=int(model.height),
        width=int(model.width),
        distortion_model=model.distortion_model,
        d=np.asarray(model.d, dtype=np.float64).reshape(-1),
        k=np.asarray(model.k, dtype=np.float64).reshape(9),
        r=np.asarray(model.r, dtype=np.float64).reshape(9),
        p=np.asarray(model.p, dtype=np.float64).reshape(12),
        binning_x=int(model.binning_x),
        binning_y=int(model.binning_y),
        roi=factory.new(
            "sensor_msgs/msg/RegionOfInterest",
            x_offset=int(x_off),
            y_offset=int(y_off),
            height=int(roi_h),
            width=int(roi_w),
            do_rectify=bool(rectify),
        ),
    )
