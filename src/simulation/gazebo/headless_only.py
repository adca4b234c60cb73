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
REASONS: dict[str, str] = {
    "sanqin.simulation.cable_tunnel_rail:CableTunnelRailSim": (
        "the scored contact forces come from the headless drives' compliance and MuJoCo's soft contact: the probe "
        "is an integrating velocity servo (a force-limited position servo on the integrated speed command) "
        "pressing on a cable and a sleeve with soft contact (solref), so a sleeve kick raises the pad force by the "
        "servo stiffness times the kick; with "
        "gz_ros2_control's velocity interface (what the forward velocity controllers on its "
        "std_msgs/Float64MultiArray topics would command) DART drives the joint at the commanded speed up to its "
        "effort limit, on rigid contact, and the kick would push the force to that limit instead; the "
        "contact-timed kick itself (0.5 s of pad contact) and the encoder dropout are headless events"),
}


def export(config: Any, entry: SimulatorEntry, twin: Twin) -> None:
    """Refuse with the reason recorded for this simulator."""
    raise NoTwin(REASONS.get(entry.plugin, "no Gazebo counterpart for this simulator yet"))
