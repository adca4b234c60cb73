"""Typed errors of the rehabilitation-robot stack."""

from __future__ import annotations

from sanqin.common.errors import SanqinError


class RehabError(SanqinError):
    """Base class of every rehabilitation-robot error."""


class ProfileError(RehabError, ValueError):
    """A patient profile is malformed, unsafe or exceeds the robot's hardware limits."""


class PlanError(RehabError, ValueError):
    """A therapy plan is malformed or incompatible with the robot or the patient profile."""


class KinematicsError(RehabError, ValueError):
    """A pose is unreachable or an input has the wrong shape or a non-finite value."""


class ControlError(RehabError):
    """A controller was used wrongly (unknown mode, bad state, non-finite input)."""


class SafetyError(RehabError):
    """A safety supervisor request was refused (e.g. reset while the fault persists)."""


class SessionLogError(RehabError):
    """A session file cannot be written or read."""


class SessionStateError(RehabError):
    """A session command is not valid in the current state (e.g. start while running)."""
