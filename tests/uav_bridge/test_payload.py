"""Payload items: spray on/off at swath ends (servo, relay, sprayer), camera triggers, gimbal, corridors."""

from __future__ import annotations

import pytest

from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.errors import InvalidMission
from sanqin.uav_bridge.payload import (
    SprayConfig,
    camera_trigger_interval,
    corridor_mission,
    gimbal_point,
    spray_mission,
    spray_off,
    spray_on,
    spray_segments,
)

C = mavlink
SWATHS = [((52.0, 5.0), (52.0, 5.001)), ((52.0001, 5.001), (52.0001, 5.0))]


@pytest.mark.parametrize("method", ["servo", "relay", "sprayer"])
def test_spray_mission_switches_at_swath_starts_and_ends(method: str) -> None:
    cfg = SprayConfig(method=method)
    items = spray_mission(SWATHS, alt_m=3.0, speed_m_s=4.0, spray=cfg)
    assert items[0].command == C.MAV_CMD_NAV_TAKEOFF and items[-1].command == C.MAV_CMD_NAV_RETURN_TO_LAUNCH
    segs = spray_segments(items, cfg)
    assert len(segs) == 2
    for a, b in segs:
        assert (items[a].latitude_deg, items[a].longitude_deg) in [s[0] for s in SWATHS]
        assert (items[b].latitude_deg, items[b].longitude_deg) in [s[1] for s in SWATHS]


def test_spray_rate_maps_to_pwm_and_bad_values_raise() -> None:
    cfg = SprayConfig(pwm_min=1500, pwm_max=1900)
    assert spray_on(cfg, 0.5)[0].params[1] == 1700
    assert spray_off(cfg)[0].params[1] == cfg.pwm_off
    with pytest.raises(InvalidMission):
        spray_on(cfg, 1.5)
    with pytest.raises(InvalidMission):
        SprayConfig(method="hose")
    with pytest.raises(InvalidMission):
        spray_mission([], alt_m=3, speed_m_s=3)


def test_corridor_camera_and_gimbal() -> None:
    items = corridor_mission([(52.0, 5.0), (52.001, 5.0), (52.002, 5.001)], alt_m=30, photo_spacing_m=20)
    cmds = [it.command for it in items]
    assert C.MAV_CMD_DO_GIMBAL_MANAGER_PITCHYAW in cmds
    trig = [it for it in items if it.command == C.MAV_CMD_DO_SET_CAM_TRIGG_DIST]
    assert [t.params[0] for t in trig] == [20, 0]
    assert camera_trigger_interval(2.0, 10).params[1:3] == (2.0, 10)
    with pytest.raises(InvalidMission):
        gimbal_point(-120)
    with pytest.raises(InvalidMission):
        corridor_mission([(52.0, 5.0)], alt_m=30, photo_spacing_m=20)
