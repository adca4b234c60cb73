"""CameraInfo ↔ CameraModel round trip and structural checks."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.common.types import CameraModel
from sanqin.msgs.camera import camera_info_to_model, model_to_camera_info
from sanqin.msgs.errors import MessageError


def _model():
    k = np.array([[615.0, 0.0, 320.5], [0.0, 616.0, 240.25], [0.0, 0.0, 1.0]])
    p = np.hstack([k, np.array([[-45.0], [0.0], [0.0]])])
    return CameraModel(
        stamp_s=5.5,
        frame_id="camera_optical",
        width=640,
        height=480,
        distortion_model="plumb_bob",
        k=k,
        d=[0.1, -0.25, 0.001, 0.002, 0.05],
        r=np.eye(3),
        p=p,
        binning_x=2,
        binning_y=2,
        roi=(10, 20, 100, 200, True),
    )


def test_roundtrip_through_cdr(factory, cdr):
    src = _model()
    msg = cdr(model_to_camera_info(src, factory))
    assert msg.k[2] == 320.5 and msg.p[3] == -45.0  # row-major on the wire
    back = camera_info_to_model(msg)
    assert (back.width, back.height, back.distortion_model) == (640, 480, "plumb_bob")
    assert back.stamp_s == pytest.approx(5.5) and back.frame_id == "camera_optical"
    for name in ("k", "d", "r", "p"):
        np.testing.assert_array_equal(getattr(back, name), getattr(src, name))
    assert (back.binning_x, back.binning_y, back.roi) == (2, 2, (10, 20, 100, 200, True))


def test_rational_polynomial_eight_coefficients(factory, cdr):
    src = CameraModel(distortion_model="rational_polynomial", d=np.arange(8) * 0.01, k=np.eye(3))
    back = camera_info_to_model(cdr(model_to_camera_info(src, factory)))
    assert back.distortion_model == "rational_polynomial"
    np.testing.assert_array_equal(back.d, src.d)


def test_wrong_matrix_sizes(factory):
    msg = model_to_camera_info(_model(), factory)
    msg.k = np.zeros(8)
    with pytest.raises(MessageError, match="k must have 9 values, got 8"):
        camera_info_to_model(msg)
    msg = model_to_camera_info(_model(), factory)
    msg.p = [0.0] * 9
    with pytest.raises(MessageError, match="p must have 12 values"):
        camera_info_to_model(msg)


def test_negative_roi_rejected(factory):
    with pytest.raises(MessageError, match="roi"):
        model_to_camera_info(CameraModel(roi=(-1, 0, 0, 0, False)), factory)
