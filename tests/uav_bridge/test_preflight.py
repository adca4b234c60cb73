"""Pre-flight checks, mission-inside-fence, and the companion's failsafe decisions."""

from __future__ import annotations

import math

import pytest

from sanqin.common.mission import MissionItem
from sanqin.simulation.multicopter import MulticopterConfig
from sanqin.simulation.multicopter.harness import SimulatedLink
from sanqin.uav_bridge.mission_items import FenceCircle, FencePolygon
from sanqin.uav_bridge.preflight import (
    FailsafeMonitor,
    FailsafePolicy,
    PreflightLimits,
    mission_fence_violations,
    predicted_home,
    preflight_failures,
    return_leg_violations,
)

LAT, LON = 52.0870, 5.1630
SQUARE = FencePolygon(((LAT - 0.001, LON - 0.001), (LAT + 0.001, LON - 0.001), (LAT + 0.001, LON + 0.001),
                       (LAT - 0.001, LON + 0.001)))


def _wps(*pts):
    return [MissionItem(22, 0, 0, 10)] + [MissionItem(16, a, b, 10) for a, b in pts] + [MissionItem(20)]


def test_plan_inside_and_outside_the_fence() -> None:
    inside = _wps((LAT + 5e-4, LON), (LAT, LON + 5e-4))
    assert mission_fence_violations(inside, [SQUARE]) == []
    outside = _wps((LAT + 5e-4, LON), (LAT + 0.003, LON))
    (msg,) = mission_fence_violations(outside, [SQUARE])
    assert "item 2" in msg and "outside" in msg
    hole = FencePolygon(((LAT - 2e-4, LON - 2e-4), (LAT + 2e-4, LON - 2e-4), (LAT + 2e-4, LON + 2e-4)), False)
    crossing = _wps((LAT - 5e-4, LON), (LAT + 5e-4, LON))
    assert any("crosses an exclusion" in m for m in mission_fence_violations(crossing, [SQUARE, hole]))
    assert mission_fence_violations(inside, [], [FenceCircle(LAT, LON, 20.0)]) != []


def test_self_intersecting_fence_is_a_failure_not_a_geos_crash() -> None:
    (a, b, c, d) = SQUARE.vertices
    bow_tie = FencePolygon((a, c, b, d))
    inside = _wps((LAT + 5e-4, LON), (LAT, LON + 5e-4))
    for polys in ([bow_tie], [bow_tie, SQUARE], [SQUARE, bow_tie]):  # GEOS raised on the intersection
        (msg,) = mission_fence_violations(inside, polys)
        assert "not a simple polygon" in msg


def test_preflight_against_the_simulator() -> None:
    with SimulatedLink() as link:
        v = link.connect()
        link.advance(3.0)
        mission = _wps((LAT + 5e-4, LON))
        assert preflight_failures(v.telemetry, mission, [SQUARE], [], PreflightLimits()) == []
        fails = preflight_failures(v.telemetry, [], [], [], PreflightLimits())
        assert "no geofence" in fails and "no mission" in fails
        bad = _wps((math.nan, LON))
        assert any("non-finite" in f for f in preflight_failures(v.telemetry, bad, [SQUARE], [], PreflightLimits()))
    with SimulatedLink(MulticopterConfig(gps_ok=False, ekf_ok=False, battery_soc_start=0.3)) as link:
        v = link.connect()
        link.advance(3.0)
        fails = preflight_failures(v.telemetry, _wps((LAT, LON)), [SQUARE], [], PreflightLimits())
        assert any("GPS" in f for f in fails) and any("EKF" in f for f in fails)
        assert any("battery" in f for f in fails)


@pytest.mark.parametrize("flags, ok", [
    (831, True),  # ArduPilot healthy with GPS
    (0, False),
    (0x1 | 0x80, False),  # attitude only, constant-position mode: no GPS aiding
    (0x3FF, False),  # every bit up to PRED_POS_HORIZ_ABS, but CONST_POS_MODE among them
    (831 | 0x8000, False),  # GPS glitching
    (831 | 0x400, False),  # uninitialised
    (831 & ~0x10, False),  # no absolute horizontal position
])
def test_ekf_flags_must_show_an_aided_solution(flags: int, ok: bool) -> None:
    from sanqin.common.types import BatteryState
    from sanqin.uav_bridge.telemetry import Telemetry

    t = Telemetry(gps_fix_type=3, satellites=12, ekf_flags=flags, battery=BatteryState(percentage=0.9),
                  latitude_deg=LAT, longitude_deg=LON)
    fails = preflight_failures(t, _wps((LAT, LON)), [SQUARE], [], PreflightLimits())
    assert (fails == []) == ok, fails
    assert ok or any("EKF" in f for f in fails)


def test_failsafe_monitor_decides_once() -> None:
    m = FailsafeMonitor(FailsafePolicy(battery_low=0.3, battery_action="land", link_loss_action="rtl"))
    assert m.step(0, connected=True, armed=True, mode="AUTO", battery=0.8) is None
    assert m.step(1, connected=False, armed=True, mode="AUTO", battery=0.8) is None
    assert m.step(2, connected=True, armed=True, mode="AUTO", battery=0.8) == "rtl"
    assert m.step(3, connected=True, armed=True, mode="AUTO", battery=0.8) is None
    assert m.step(4, connected=True, armed=True, mode="AUTO", battery=0.2) == "land"
    assert m.step(5, connected=True, armed=True, mode="AUTO", battery=0.2) is None
    assert m.step(6, connected=True, armed=True, mode="RTL", battery=0.1) is None
    with pytest.raises(ValueError):
        FailsafePolicy(battery_action="explode")


def test_every_inclusion_zone_must_hold_the_mission() -> None:
    """Two inclusion zones: a point inside one but outside the other is outside (ArduPilot's rule)."""
    mission = _wps((LAT + 5e-4, LON))
    assert mission_fence_violations(mission, [SQUARE], [FenceCircle(LAT, LON, 100.0)]) == []
    assert mission_fence_violations(mission, [SQUARE], [FenceCircle(LAT, LON, 30.0)]) != []


def test_failsafe_monitor_lands_when_its_command_failed() -> None:
    m = FailsafeMonitor(FailsafePolicy(battery_low=0.3, battery_action="rtl"), retry_after_s=2.0)
    assert m.step(0, connected=True, armed=True, mode="AUTO", battery=0.2) == "rtl"
    m.command_failed(0.5)
    assert m.step(1.0, connected=True, armed=True, mode="AUTO", battery=0.2) is None  # not yet
    assert m.step(2.6, connected=True, armed=True, mode="AUTO", battery=0.2) == "land"
    m.command_failed(3.0)
    assert m.step(5.1, connected=True, armed=True, mode="RTL", battery=0.2) is None  # it went home after all
    assert m.step(9.0, connected=True, armed=True, mode="AUTO", battery=0.2) is None  # pilot override stands
    m.command_failed(9.0)
    assert m.step(12.0, connected=True, armed=False, mode="AUTO", battery=0.2) is None  # disarmed: forgotten
    assert m.step(13.0, connected=True, armed=True, mode="AUTO", battery=0.2) == "rtl"


def _enu(e: float, n: float) -> tuple[float, float]:
    from sanqin.uav_bridge.geo import GeoOrigin

    return GeoOrigin(LAT, LON).to_geodetic(e, n)[:2]


# an L-shaped fence: home in the south-west, the mission ends at the top of the L's upright — the straight RTL
# home cuts the corner, outside the fence
L_FENCE = FencePolygon(tuple(_enu(e, n) for e, n in ((-10, -10), (100, -10), (100, 10), (10, 10), (10, 100),
                                                     (-10, 100))))


def test_return_leg_leaving_the_fence_is_named() -> None:
    mission = _wps(_enu(0, 50), _enu(0, 95))
    assert mission_fence_violations(mission, [L_FENCE]) == []  # the mission's own legs are inside
    assert return_leg_violations(mission, [L_FENCE], [], (LAT, LON)) == []  # straight back down the upright
    home = _enu(0, 90)  # home at the top of the upright, the mission flies down it and along the foot
    corner = _wps(_enu(0, 0), _enu(90, 0))
    assert mission_fence_violations(corner, [L_FENCE]) == []
    (msg,) = return_leg_violations(corner, [L_FENCE], [], home)
    assert msg.startswith("return leg item 2→home leaves the inclusion fence (up to ") and "m out" in msg
    worst = float(msg.split("up to ")[1].split(" m")[0])
    assert worst == pytest.approx(35.0, abs=0.6)  # at (45, 45), 35 m from both arms of the L


def test_rtl_goes_to_the_nearest_rally_point_which_must_be_inside_with_a_margin() -> None:
    mission = _wps(_enu(0, 50), _enu(90, 0))
    home = _enu(0, 90)
    assert return_leg_violations(mission, [L_FENCE], [], home) != []  # 90,0 → 0,90 cuts the corner
    assert return_leg_violations(mission, [L_FENCE], [], home, [(*_enu(85, 0), 0.0)]) == []  # the nearer rally
    (msg,) = return_leg_violations(mission, [L_FENCE], [], home, [(*_enu(85, 9), 0.0)])
    assert msg == "rally point 0 is closer than the 2 m landing margin to the fence"
    assert return_leg_violations(mission, [L_FENCE], [], home, [(*_enu(85, 9), 0.0)], landing_margin_m=0.5) == []
    (msg, *_rest) = return_leg_violations(mission, [L_FENCE], [], home, [(*_enu(85, 12), 0.0)])
    assert msg == "rally point 0 is 2.0 m outside the inclusion fence"


def test_outbound_leg_home_position_and_landing_missions() -> None:
    mission = _wps(_enu(90, 0), _enu(0, 0))
    home = _enu(0, 90)
    assert any(m.startswith("outbound leg home→item 1 leaves") for m in return_leg_violations(mission, [L_FENCE],
                                                                                              [], home))
    assert return_leg_violations(mission, [L_FENCE], [], _enu(50, 50)) == ["home is 40.0 m outside the inclusion "
                                                                           "fence",
                                                                           "outbound leg home→item 1 leaves the "
                                                                           "inclusion fence (up to 40.0 m out)",
                                                                           "return leg item 2→home leaves the "
                                                                           "inclusion fence (up to 40.0 m out)"]
    lands = [MissionItem(22, 0, 0, 10), MissionItem(16, *_enu(0, 0), 10), MissionItem(16, *_enu(90, 0), 10),
             MissionItem(21, *_enu(90, 0), 0)]
    assert return_leg_violations(lands, [L_FENCE], [], _enu(0, 5)) == []  # ends by landing: no return leg
    assert return_leg_violations(lands, [L_FENCE], [], None) == [
        "home position unknown: the legs to and from the mission cannot be checked against the fence"]
    assert return_leg_violations(lands, [], [], None) == []  # nothing to leave


def test_predicted_home_prefers_where_the_vehicle_will_arm() -> None:
    from sanqin.uav_bridge.telemetry import Telemetry

    assert predicted_home(Telemetry(), (LAT, LON, 0.0)) == (LAT, LON)
    assert predicted_home(Telemetry(), None) is None
    t = Telemetry(home=(1.0, 2.0, 3.0))
    assert predicted_home(t, (LAT, LON, 0.0)) == (1.0, 2.0)
    t = Telemetry(home=(1.0, 2.0, 3.0), latitude_deg=5.0, longitude_deg=6.0, gps_fix_type=3)
    assert predicted_home(t) == (5.0, 6.0)
