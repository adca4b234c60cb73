"""Errors raised while generating or scoring the Gazebo twins of scenarios."""

from __future__ import annotations

from sanqin.simulation.errors import SimulationError


class GazeboError(SimulationError):
    """Base class for errors raised by :mod:`sanqin.simulation.gazebo`."""


class TwinError(GazeboError, ValueError):
    """A scenario cannot be turned into a Gazebo twin (no exporter, inconsistent model, unbridgeable topic)."""


class BridgeError(GazeboError, ValueError):
    """A ROS ↔ Gazebo bridge entry is invalid (unknown type pair, bad topic name, wrong direction)."""


class ScoreError(GazeboError):
    """A Gazebo run cannot be scored (missing or unreadable bag, unknown scenario)."""


class NoTwin(TwinError):
    """The scenario exercises something only its headless simulator can do (e.g. injected autopilot faults)."""
