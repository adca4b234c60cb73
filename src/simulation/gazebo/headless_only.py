"""Simulators whose scenarios have no Gazebo twin yet, and why (``sanqin gazebo generate`` reports it).

Each entry names what the headless simulator does that the twin framework cannot yet express in Gazebo
Harmonic with standard messages; :func:`export` raises :class:`~sanqin.simulation.gazebo.errors.NoTwin`
with that reason. Replacing an entry of :data:`~sanqin.simulation.gazebo.twin.EXPORTERS` with a real
exporter module gives the scenario its twin.
"""

from __future__ import annotations

from typing import Any

from sanqin.runtime.scenario import SimulatorEntry
from sanqin.simulation.gazebo.errors import NoTwin
from sanqin.simulation.gazebo.twin import Twin

#: Simulator plugin → why its scenarios have no twin yet.
REASONS: dict[str, str] = {}


def export(config: Any, entry: SimulatorEntry, twin: Twin) -> None:
    """Refuse with the reason recorded for this simulator."""
    raise NoTwin(REASONS.get(entry.plugin, "no Gazebo counterpart for this simulator yet"))
