"""Errors raised by simulated sensors, worlds and simulator plugins."""

from __future__ import annotations

from sanqin.common.errors import SanqinError


class SimulationError(SanqinError):
    """Base class for errors raised by :mod:`sanqin.simulation`."""


class WorldError(SimulationError, ValueError):
    """A world cannot be built from its config (inconsistent geometry, objects outside the world)."""


class SensorError(SimulationError, ValueError):
    """A simulated sensor is given an invalid pose, scene or request."""
