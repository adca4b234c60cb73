"""Typed errors of the compliant-control area (:mod:`sanqin.control`)."""

from __future__ import annotations

from sanqin.common.errors import SanqinError


class ControlError(SanqinError):
    """Base class of every error raised on purpose by :mod:`sanqin.control`."""


class RobotModelError(ControlError):
    """The robot model cannot be loaded or does not have the named joints/site."""


class InvalidInputError(ControlError, ValueError):
    """An input (state, wrench, setpoint) has the wrong shape or non-finite values."""


class ForceLimitError(ControlError, ValueError):
    """A requested force exceeds the configured limit; no motion is commanded."""
