"""Errors raised by perception cores; nodes map them to diagnostics (the node keeps running)."""

from __future__ import annotations

from sanqin.common.errors import SanqinError


class PerceptionError(SanqinError):
    """Base class for errors raised by :mod:`sanqin.perception`."""


class InvalidCloudError(PerceptionError, ValueError):
    """A point cloud has the wrong shape or dtype, or arrays that disagree in length."""


class OdometryError(PerceptionError, ValueError):
    """Odometry input is unusable (non-finite wheel odometry, a scan that cannot be registered)."""


class ImuSampleError(PerceptionError, ValueError):
    """An IMU sample has non-finite values; the attitude filter skips it."""


class CameraModelError(PerceptionError, ValueError):
    """Camera calibration is invalid or disagrees with the image (size, distortion model, matrix)."""


class ImageInputError(PerceptionError, ValueError):
    """An image has an unexpected encoding, shape or values for the step that received it."""


class InspectionLogError(PerceptionError, OSError):
    """The inspection log cannot be opened or written (permissions, disk full, bad path)."""
