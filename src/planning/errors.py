"""Typed errors of the planning area (MPC, coverage and inspection planners)."""

from __future__ import annotations

from sanqin.common.errors import SanqinError


class PlanningError(SanqinError):
    """Base class of every error raised on purpose by :mod:`sanqin.planning`."""


class ModelError(PlanningError):
    """A robot model was asked for with invalid parameters (e.g. non-positive mass or limits)."""


class MpcSetupError(PlanningError):
    """The MPC problem cannot be built (bad horizon, infeasible bounds, unknown solver, failed compile)."""


class SolverUnavailableError(MpcSetupError):
    """The selected solver plugin (or the C compiler for code generation) is not available here."""


class PathReferenceError(PlanningError):
    """A reference path is unusable (fewer than two distinct points, NaN, negative speed)."""


class BoundaryError(PlanningError):
    """A field boundary cannot be read or is not a valid polygon (bad coordinates, zero area, broken ring)."""


class CoverageError(PlanningError):
    """A coverage plan cannot be made (swath wider than the field, nothing left to spray)."""


class InspectionError(PlanningError):
    """An inspection pattern cannot be made (bad camera, empty polyline, non-positive overlap)."""
