"""Crop-spraying flight plans from the coverage planner (:mod:`sanqin.planning.coverage`).

A field (outer boundary, holes, no-spray zones; from GeoJSON/KML/GML/.plan through
:func:`sanqin.planning.boundary.read_field`) becomes the planner's route — sprayed headland laps round the
boundary and the holes, passes at the heading that minimises length and turns, boustrophedon cells for
concave fields, the pump off over no-spray zones, returns to the refill point when the tank or battery runs
out — and its mission items (:func:`sanqin.planning.missions.coverage_sorties`), one mission per sortie. Each
sortie becomes a QGroundControl plan with the geofence around the field and the take-off/refill point.

The pump is switched as the vehicle is wired: ``servo`` (DO_SET_SERVO per boom section from ``servo_channel``
on, optionally a pump output whose PWM follows the prescribed flow), ``sprayer`` (ArduPilot's DO_SPRAYER) or
``relay`` (DO_SET_RELAY, from the planner's on/off switching).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from shapely.geometry import MultiPoint, Polygon

from sanqin.common.mission import MissionItem
from sanqin.planning import coverage as cv
from sanqin.planning import missions as ms
from sanqin.planning.boundary import Field
from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.errors import InvalidMission
from sanqin.uav_bridge.mission_items import FencePolygon
from sanqin.uav_bridge.plan_file import Plan

METHODS = ("servo", "sprayer", "relay")


@dataclass(frozen=True)
class SprayPlanOptions:
    """How the field is covered and flown (metres, m/s, litres, degrees)."""

    swath_m: float = 6.0
    alt_m: float = 4.0
    speed_m_s: float = 5.0
    headland_laps: int = 1
    heading_deg: float = -1.0  # pass heading (CCW from east); -1: the planner's best
    rate_l_ha: float = 20.0
    sections: int = 1
    tank_l: float = 0.0  # 0: no refill returns
    endurance_s: float = 0.0  # 0: no battery returns
    method: str = "servo"
    servo_channel: int = 9  # section 0's output (section i: channel + i)
    pwm_on: int = 1900
    pwm_off: int = 1100
    pump_servo: int = 0  # 0: no pump output with a flow-following PWM
    relay: int = 0
    fence_margin_m: float = 15.0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InvalidMission(f"spray method must be one of {METHODS}, got {self.method!r}")
        for name in ("swath_m", "alt_m", "speed_m_s", "fence_margin_m"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise InvalidMission(f"{name} must be positive and finite, got {v!r}")
        if not (800 <= self.pwm_off <= 2200 and 800 <= self.pwm_on <= 2200):
            raise InvalidMission("spray PWM values must be within 800..2200 µs")


@dataclass
class SprayPlan:
    """The planner's result and one flight plan per sortie."""

    coverage: cv.CoveragePlan
    plans: list[Plan]

    @property
    def metrics(self) -> dict[str, float]:
        """The planner's coverage metrics (covered share, path length, passes, turns, refills …)."""
        return self.coverage.metrics


def _sprayer_output(o: SprayPlanOptions) -> ms.SprayerOutput:
    if o.method == "servo":
        return ms.SprayerOutput("servo", section_servo_first=o.servo_channel, section_pwm_on=o.pwm_on,
                                section_pwm_off=o.pwm_off, pump_servo=o.pump_servo)
    return ms.SprayerOutput("sprayer")


def _as_relay(items: list[MissionItem], relay: int) -> list[MissionItem]:
    """DO_SPRAYER on/off → DO_SET_RELAY on/off of the pump relay."""
    return [replace(it, command=mavlink.MAV_CMD_DO_SET_RELAY, params=(float(relay), 1.0 if it.params[0] else 0.0,
                                                                      0.0, 0.0))
            if it.command == mavlink.MAV_CMD_DO_SPRAYER else it for it in items]


def fence_for(fld: Field, home_m: np.ndarray | None, margin_m: float) -> list[FencePolygon]:
    """The geofence of a spraying flight: the convex hull of the field and the take-off point, ``margin_m``
    wider, so every straight leg between them — the transit out, an RTL or refill return from anywhere over
    the field — is inside. The field's holes (a yard, a pond: land outside the parcel) are not fenced off:
    the planner's transits go round them, and an exclusion zone there would put every straight refill return
    across it in breach (the pre-flight checks would refuse the plan)."""
    frame = fld.frame
    if frame is None:
        raise InvalidMission("the field has no geographic frame: cannot place a geofence")
    pts = [*fld.boundary.exterior.coords]
    if home_m is not None:
        pts.append(tuple(home_m))
    hull = MultiPoint(pts).convex_hull.buffer(margin_m, join_style="mitre").simplify(0.5)

    def geo(poly: Polygon) -> tuple[tuple[float, float], ...]:
        ring = np.asarray(poly.exterior.coords)[:-1]
        return tuple((float(a), float(b)) for a, b in frame.to_geo(ring))

    return [FencePolygon(geo(hull), True)]


def plan_spray(fld: Field, options: SprayPlanOptions | None = None,
               home: tuple[float, float] | None = None) -> SprayPlan:
    """Cover ``fld`` with the coverage planner and make one flight plan per sortie.

    ``home`` (lat, lon) is the take-off and refill point: the route starts and ends there. Raises
    :class:`~sanqin.planning.errors.PlanningError` (e.g. a field too narrow for the swath) or
    :class:`InvalidMission`.
    """
    o = options or SprayPlanOptions()
    frame = fld.frame
    if frame is None:
        raise InvalidMission("the field has no geographic frame: cannot make a mission in lat/lon")
    home_m = None
    if home is not None:
        if not all(math.isfinite(v) for v in home):
            raise InvalidMission(f"home must be a finite LAT, LON, got {home!r}")
        home_m = frame.to_local(np.array([home[1]]), np.array([home[0]]))[0]
    cfg = cv.CoverageConfig(swath_m=o.swath_m, headland_laps=o.headland_laps, heading_deg=o.heading_deg,
                            boom_sections=o.sections, speed_m_s=o.speed_m_s, rate_l_ha=o.rate_l_ha,
                            tank_l=o.tank_l, endurance_s=o.endurance_s)
    if home_m is None and (o.tank_l > 0 or o.endurance_s > 0):
        raise InvalidMission("refill and battery returns need the take-off/refill point (home)")
    coverage = cv.plan_coverage(fld, cfg, home_m=home_m)
    if home_m is None and coverage.pieces and coverage.pieces[0].kind == "transit":
        # without a take-off point the planner starts from the field's bounding-box corner, which lies outside
        # a non-rectangular field (and its fence): the flight starts at the first sprayed lap or pass instead
        coverage = cv.CoveragePlan(coverage.field, coverage.config, coverage.heading_rad, coverage.pieces[1:],
                                   coverage.cells)
        coverage.metrics = cv.coverage_metrics(coverage)
    sorties = ms.coverage_sorties(coverage, o.alt_m, _sprayer_output(o))
    if o.method == "relay":
        sorties = [_as_relay(s, o.relay) for s in sorties]
    fences = fence_for(fld, home_m, o.fence_margin_m)
    planned_home = (home[0], home[1], 0.0) if home is not None else None
    plans = [Plan(list(items), fences, [], [], planned_home, o.speed_m_s, o.speed_m_s) for items in sorties]
    for p in plans:
        p.validate()
    return SprayPlan(coverage, plans)
