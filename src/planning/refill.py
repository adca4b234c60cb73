"""Refill and battery-swap returns along a spraying route, from tank capacity, flow and endurance.

Walking the route, the liquid used (flow × time) and the flight time are accumulated. Before a segment
that would empty the tank, or that would leave too little battery to fly back to the refill point
(with a reserve), the route breaks: fly to the refill point, refill/swap, fly back, continue.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sanqin.planning.errors import CoverageError


@dataclass(frozen=True)
class RouteLeg:
    """A straight leg of the route: from/to (m), spraying flow (L/min, 0 = off)."""

    start_m: np.ndarray
    end_m: np.ndarray
    flow_l_min: float = 0.0


@dataclass(frozen=True)
class RefillStop:
    """A return: leave the route at ``leave_m`` (before leg ``leg_index``), why, and the tank/battery state."""

    leg_index: int
    leave_m: np.ndarray
    reason: str  # "tank" or "battery"
    tank_left_l: float
    flight_time_s: float


def plan_refills(legs: list[RouteLeg], home_m: np.ndarray, speed_m_s: float, tank_l: float,
                 endurance_s: float, reserve_fraction: float = 0.2, transit_speed_m_s: float | None = None
                 ) -> list[RefillStop]:
    """Where to break the route for refills/battery swaps: before the leg that would empty the tank or leave
    too little battery to fly home. Legs are not split here (the coverage planner cuts long sprayed
    stretches beforehand); a leg that alone exceeds the tank or the endurance raises :class:`CoverageError`."""
    if not (speed_m_s > 0 and tank_l > 0 and endurance_s > 0 and 0 <= reserve_fraction < 1):
        raise CoverageError("need speed, tank and endurance > 0 and reserve in [0, 1)")
    vt = transit_speed_m_s or speed_m_s
    home = np.asarray(home_m, float)
    usable_s = endurance_s * (1 - reserve_fraction)
    stops: list[RefillStop] = []
    tank = tank_l
    t = float(np.linalg.norm(legs[0].start_m - home)) / vt if legs else 0.0
    for i, leg in enumerate(legs):
        dur = float(np.linalg.norm(leg.end_m - leg.start_m)) / speed_m_s
        need_l = leg.flow_l_min * dur / 60.0
        if need_l > tank_l + 1e-9:
            raise CoverageError(f"leg {i} alone needs {need_l:.1f} L, more than the {tank_l:.1f} L tank: split passes")
        back_s = float(np.linalg.norm(leg.end_m - home)) / vt
        if dur + float(np.linalg.norm(leg.start_m - home)) / vt * 2 > usable_s:
            raise CoverageError(f"leg {i} cannot be flown within the endurance: shorten the passes")
        reason = ""
        if need_l > tank + 1e-9:
            reason = "tank"
        elif t + dur + back_s > usable_s:
            reason = "battery"
        if reason:
            stops.append(RefillStop(i, np.asarray(leg.start_m, float), reason, tank, t))
            tank = tank_l
            t = float(np.linalg.norm(leg.start_m - home)) / vt
        tank -= need_l
        t += dur
    return stops
