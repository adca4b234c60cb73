"""Errors raised by perception cores; nodes map them to diagnostics (the node keeps running)."""

from __future__ import annotations

from sanqin.common.errors import SanqinError


class PerceptionError(SanqinError):
    """Base class for errors raised by :mod:`sanqin.perception`."""


class InvalidCloudError(PerceptionError, ValueError):
    """A point cloud has the wrong shape or dtype, or arrays that disagree in length."""


class EmptyCloudError(PerceptionError):
    """A step needs points and the cloud has none (after filtering)."""
