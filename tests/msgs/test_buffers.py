"""Array fields: float64[] values read as a flat copy with the size checked."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.msgs.buffers import as_float_array
from sanqin.msgs.errors import MessageError


def test_float_array_is_a_flat_float64_copy():
    field = np.arange(9, dtype=np.float32).reshape(3, 3)
    arr = as_float_array(field, "Imu.orientation_covariance", 9)
    assert arr.dtype == np.float64 and arr.shape == (9,)
    arr[0] = 42.0
    assert field[0, 0] == 0.0  # the message is not aliased
    assert as_float_array([], "JointState.effort").shape == (0,)


def test_float_array_rejects_wrong_size_and_non_numeric():
    with pytest.raises(MessageError, match=r"CameraInfo\.k must have 9 values, got 8"):
        as_float_array(range(8), "CameraInfo.k", 9)
    with pytest.raises(MessageError, match=r"Float64MultiArray\.data is not numeric"):
        as_float_array(["a", "b"], "Float64MultiArray.data")
