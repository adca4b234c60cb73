"""The simulated multicopter: dynamics, battery, arming checks, modes, failsafes, payload records."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from sanqin.common.mission import MissionItem
from sanqin.runtime.errors import ConfigError
from sanqin.simulation.multicopter import MulticopterConfig
from sanqin.simulation.multicopter.dynamics import AirframeParams, Battery, BatteryParams, Multicopter, cell_ocv_v
from sanqin.simulation.multicopter.harness import SimulatedLink
from sanqin.uav_bridge.bridge import BridgeOptions
from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.mission_items import FencePolygon, fence_items

C = mavlink


def test_hover_and_tilt_response() -> None:
    body = Multicopter(AirframeParams())
    for _ in range(200):  # climb
        body.step(np.array([0.0, 0.0, 2.0]), 0.0, True, np.zeros(3), 0.01)
    assert body.pos[2] > 3.0 and not body.on_ground
    for _ in range(300):  # accelerate east: the body tilts (negative roll about x? no: pitch about y at yaw 0)
        body.step(np.array([2.0, 0.0, 0.0]), 0.0, True, np.zeros(3), 0.01)
    assert body.rpy[1] > 0.1 and body.vel[0] > 3.0
    assert abs(body.rpy[1] - math.atan2(2.0, 9.80665)) < 0.05  # tilt tracks the commanded acceleration


def test_wind_pushes_an_uncontrolled_hover() -> None:
    body = Multicopter(AirframeParams())
    body.pos[2] = 10.0
    body.on_ground = False
    for _ in range(500):
        body.step(np.zeros(3), 0.0, True, np.array([5.0, 0.0, 0.0]), 0.01)
    assert body.vel[0] > 0.5


def test_battery_drains_faster_under_load() -> None:
    a, b = Battery(BatteryParams()), Battery(BatteryParams())
    for _ in range(600):
        a.step(1.0, True, 1.0)
        b.step(1.6, True, 1.0)
    assert 0 < b.soc < a.soc < 1
    assert cell_ocv_v(1.0) == pytest.approx(4.2, abs=0.05) and cell_ocv_v(0.0) < 3.3


def test_config_rejects_inconsistent_values() -> None:
    with pytest.raises(ConfigError):
        MulticopterConfig(param_names=("RTL_ALT",), param_values=())
    with pytest.raises(ConfigError):
        MulticopterConfig(link_down_start_s=10.0, link_down_end_s=5.0)


def _square(link: SimulatedLink, side_m: float = 40.0, alt_m: float = 15.0) -> list[MissionItem]:
    o = link.sim.origin
    pts = [(side_m, 0.0), (side_m, side_m), (0.0, side_m), (0.0, 0.0)]
    items = [MissionItem(C.MAV_CMD_NAV_TAKEOFF, 0, 0, alt_m)]
    items += [MissionItem(16, *o.to_geodetic(e, n)[:2], alt_m) for e, n in pts]
    return items + [MissionItem(C.MAV_CMD_NAV_RETURN_TO_LAUNCH)]


def _fly(link: SimulatedLink, items: list[MissionItem]) -> None:
    v = link.connect()
    link.run(v.upload(items))
    link.run(v.arm())
    link.run(v.set_mode("AUTO"))


def test_auto_mission_flies_and_lands_home() -> None:
    with SimulatedLink() as link:
        _fly(link, _square(link))
        assert link.wait_until(lambda: not link.sim.autopilot.armed, 200)
        m = link.sim.metrics()
        assert m["mission_complete"] == 1 and m["items_reached"] == 6
        assert m["distance_from_home_m"] < 1.5 and m["flown_m"] > 150
        assert link.vehicle.missions.progress.reached[-1] == 5


def _gcs_link_loss(options: BridgeOptions, params: dict[str, float]) -> SimulatedLink:
    cfg = MulticopterConfig(link_down_start_s=15.0, link_down_end_s=200.0, param_names=tuple(params),
                            param_values=tuple(params.values()))
    link = SimulatedLink(cfg, replace(options, vehicles=(cfg.system_id,)))
    _fly(link, _square(link, 200.0))
    return link


def test_gcs_heartbeat_loss_triggers_rtl() -> None:
    """A ground station on system id 255 (ArduPilot's SYSID_MYGCS default) goes silent: RTL."""
    with _gcs_link_loss(BridgeOptions(role="gcs"), {"FS_GCS_ENABLE": 1.0}) as link:
        assert link.bridge.options.system_id == 255
        assert link.wait_until(lambda: link.sim.autopilot.failsafe == "gcs", 30)
        assert link.sim.autopilot.mode == 6  # RTL
        assert link.wait_until(lambda: not link.sim.autopilot.armed, 200)
        assert link.sim.metrics()["distance_from_home_m"] < 1.5


@pytest.mark.parametrize("options", [BridgeOptions(role="onboard"), BridgeOptions(role="gcs", system_id=200)],
                         ids=["companion-on-the-vehicle-id", "gcs-not-SYSID_MYGCS"])
def test_only_heartbeats_from_sysid_mygcs_feed_the_gcs_failsafe(options: BridgeOptions) -> None:
    """As in ArduPilot: a companion's heartbeats (the vehicle's own system id) or a ground station other than
    SYSID_MYGCS keep nothing alive, so losing them never fires the GCS failsafe — the mission goes on."""
    with _gcs_link_loss(options, {"FS_GCS_ENABLE": 1.0}) as link:
        link.advance(40.0)  # 25 s into the outage, five times FS_GCS_TIMEOUT
        ap = link.sim.autopilot
        assert ap.failsafe == "" and ap.mode == 3 and ap.armed  # still AUTO
        assert link.sim.server.counters["gcs_heartbeats"] == 0 and link.sim.server.counters["other_heartbeats"] > 0


def test_gcs_failsafe_watches_the_ground_station_sysid_mygcs_names() -> None:
    with _gcs_link_loss(BridgeOptions(role="gcs", system_id=200), {"FS_GCS_ENABLE": 5.0, "SYSID_MYGCS": 200.0}) as link:
        assert link.wait_until(lambda: link.sim.autopilot.failsafe == "gcs", 30)
        assert link.sim.autopilot.mode == 9  # FS_GCS_ENABLE 5: LAND


def test_gcs_failsafe_is_off_by_default_as_in_arducopter() -> None:
    with _gcs_link_loss(BridgeOptions(role="gcs"), {}) as link:
        link.advance(30.0)
        assert link.sim.autopilot.failsafe == "" and link.sim.autopilot.mode == 3
        assert link.sim.server.counters["gcs_heartbeats"] > 0


def test_low_battery_triggers_rtl_then_critical_lands() -> None:
    cfg = MulticopterConfig(battery_capacity_ah=2.0, battery_soc_start=0.6)
    with SimulatedLink(cfg) as link:
        _fly(link, _square(link, 300.0))
        assert link.wait_until(lambda: link.sim.autopilot.failsafe.startswith("battery"), 200)
        assert link.sim.autopilot.failsafe_events[0][1] == "Battery 1 is low"
        assert link.sim.autopilot.mode in (6, 9)
        assert link.wait_until(lambda: not link.sim.autopilot.armed, 300)


def test_fence_breach_returns_and_arming_outside_fence_is_refused() -> None:
    with SimulatedLink() as link:
        o = link.sim.origin
        poly = FencePolygon(tuple(o.to_geodetic(e, n)[:2] for e, n in ((-20, -20), (60, -20), (60, 60), (-20, 60))))
        v = link.connect()
        link.run(v.upload(fence_items([poly]), 1))
        link.run(v.params.set("FENCE_ENABLE", 1.0, v.now_s))  # off by default, as in ArduCopter
        _fly(link, _square(link, 100.0))  # leaves the 60 m fence
        assert link.wait_until(lambda: link.sim.autopilot.fence_breaches > 0, 60)
        assert link.sim.autopilot.mode == 6
        assert link.sim.autopilot.max_fence_violation_m < 10.0
    with SimulatedLink() as link:
        o = link.sim.origin
        far = FencePolygon(tuple(o.to_geodetic(e, n)[:2] for e, n in ((100, 100), (200, 100), (200, 200))))
        v = link.connect()
        link.run(v.upload(fence_items([far]), 1))
        link.run(v.params.set("FENCE_ENABLE", 1.0, v.now_s))
        from sanqin.uav_bridge.errors import CommandDenied

        with pytest.raises(CommandDenied, match="outside fence"):
            link.run(v.arm())


def test_an_uploaded_fence_is_not_enforced_until_enabled() -> None:
    with SimulatedLink() as link:
        o = link.sim.origin
        poly = FencePolygon(tuple(o.to_geodetic(e, n)[:2] for e, n in ((-20, -20), (60, -20), (60, 60), (-20, 60))))
        v = link.connect()
        link.run(v.upload(fence_items([poly]), 1))
        _fly(link, _square(link, 100.0))
        assert link.wait_until(lambda: link.sim.autopilot.max_fence_violation_m > 20.0, 60)
        m = link.sim.metrics()
        assert m["fence_enabled"] == 0 and m["fence_breaches"] == 0 and link.sim.autopilot.mode == 3


def test_malformed_fence_items_from_another_client_are_refused(monkeypatch) -> None:
    """Our bridge validates fences before sending; another client may not. A NaN vertex count or radius
    must be refused with INVALID_PARAM1, never stored (the breach check would crash on int(NaN))."""
    from dataclasses import replace

    import sanqin.uav_bridge.mission as mission_mod
    from sanqin.uav_bridge.errors import MissionRejected
    from sanqin.uav_bridge.mission_items import FenceCircle

    monkeypatch.setattr(mission_mod, "validate_items", lambda *a, **k: None)
    with SimulatedLink() as link:
        o = link.sim.origin
        poly = FencePolygon(tuple(o.to_geodetic(e, n)[:2] for e, n in ((-20, -20), (60, -20), (60, 60))))
        v = link.connect()
        good = fence_items([poly])
        for bad in ([replace(it, params=(math.nan, 0.0, 0.0, 0.0)) for it in good],
                    [replace(fence_items([], [FenceCircle(*poly.vertices[0], 50.0)])[0],
                             params=(math.nan, 0.0, 0.0, 0.0))]):
            with pytest.raises(MissionRejected, match="INVALID_PARAM1"):
                link.run(v.upload(bad, 1))
            assert link.sim.autopilot.fence == []
        link.run(v.upload(good, 1))
        assert len(link.sim.autopilot.fence) == 3


def test_spray_servo_and_camera_distance_records() -> None:
    with SimulatedLink() as link:
        o = link.sim.origin
        wp = [MissionItem(16, *o.to_geodetic(e, 0.0)[:2], 10.0) for e in (0.0, 100.0, 150.0)]
        items = [
            MissionItem(C.MAV_CMD_NAV_TAKEOFF, 0, 0, 10.0), wp[0],
            MissionItem(C.MAV_CMD_DO_SET_SERVO, params=(9, 1900, 0, 0), frame=2),
            MissionItem(C.MAV_CMD_DO_SET_CAM_TRIGG_DIST, params=(10.0, 0, 1, 0), frame=2),
            wp[1],
            MissionItem(C.MAV_CMD_DO_SET_SERVO, params=(9, 1100, 0, 0), frame=2),
            MissionItem(C.MAV_CMD_DO_SET_CAM_TRIGG_DIST, params=(0.0, 0, 0, 0), frame=2),
            wp[2], MissionItem(C.MAV_CMD_NAV_LAND, 0, 0, 0),
        ]
        _fly(link, items)
        assert link.wait_until(lambda: not link.sim.autopilot.armed, 200)
        m = link.sim.metrics()
        assert 90 < m["sprayed_m"] < 110  # on from 0 m to 100 m only
        assert m["spray_switches"] == 2
        assert 10 <= m["photos"] <= 12 and m["photo_spacing_mean_m"] == pytest.approx(10.0, abs=1.0)
        log = link.sim.autopilot.spray_log
        assert log[0][1] and abs(log[0][2]) < 3 and not log[1][1] and abs(log[1][2] - 100) < 3


def test_simulator_survives_hostile_bytes_and_keeps_serving() -> None:
    import random

    from sanqin.uav_bridge.connection import MemoryTransport, parse_url

    with SimulatedLink() as link:
        v = link.connect()
        noise = MemoryTransport(parse_url(link.sim.config.connection).name, "gcs")
        rng = random.Random(5)
        for _ in range(100):
            noise.write(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))))
            link.pump()
        assert link.run(v.set_mode("GUIDED")) == 0
        assert link.sim.conn.counters["rx_bad_crc_or_data"] > 0


def _airborne_guided(link: SimulatedLink, alt_m: float = 10.0):
    v = link.connect()
    link.run(v.set_mode("GUIDED"))
    link.run(v.arm())
    link.run(v.takeoff(alt_m))
    assert link.wait_until(lambda: link.sim.body.pos[2] > alt_m - 0.5, 30)
    return v


def test_servo_and_relay_pump_outputs_outlast_mode_changes_as_on_ardupilot() -> None:
    """ArduPilot keeps a DO_SET_SERVO PWM and a DO_SET_RELAY state through a mode change (RTL, LAND): the
    simulated autopilot does too — only a command switches them off again."""
    with SimulatedLink() as link:
        v = _airborne_guided(link)
        ap = link.sim.autopilot
        link.run(v.command(C.MAV_CMD_DO_SET_SERVO, (9, 1900)))
        link.run(v.command(C.MAV_CMD_DO_SET_RELAY, (0, 1)))
        assert ap.spraying
        for mode in ("RTL", "LOITER", "LAND"):
            link.run(v.set_mode(mode))
            link.advance(0.5)
            assert ap.payload.servos[9] == 1900 and ap.payload.relays[0] and ap.spraying, mode
        link.run(v.command(C.MAV_CMD_DO_SET_SERVO, (9, 1100)))
        assert ap.spraying  # the relay still runs the pump
        link.run(v.command(C.MAV_CMD_DO_SET_RELAY, (0, 0)))
        assert not ap.spraying


def test_sprayer_pumps_above_its_minimum_speed_and_survives_a_mode_change() -> None:
    """DO_SPRAYER as AC_Sprayer: enabled, the pump runs only while the ground speed is at least SPRAY_SPEED_MIN
    (on after 0.1 s above, off after 1 s below); a mode change leaves it enabled; disabling stops it at once."""
    with SimulatedLink() as link:
        v = _airborne_guided(link)
        ap = link.sim.autopilot
        link.run(v.command(C.MAV_CMD_DO_SPRAYER, (1,)))
        link.advance(2.0)
        assert ap.payload.sprayer_on and not ap.spraying  # hovering: too slow to spray
        lat, lon, _ = link.sim.origin.to_geodetic(80.0, 0.0)
        link.run(v.goto(lat, lon, 10.0))
        assert link.wait_until(lambda: np.linalg.norm(link.sim.body.vel[:2]) > 1.2, 10)
        link.advance(0.3)
        assert ap.spraying
        assert link.wait_until(lambda: link.sim.body.pos[0] > 50.0, 30)
        t_fast = link.t_s
        link.run(v.set_mode("LOITER"))  # brakes to a stop: the pump stops a second after dropping below 1 m/s
        assert ap.payload.sprayer_on
        assert link.wait_until(lambda: not ap.spraying, 10)
        assert link.t_s - t_fast > 1.0
        link.run(v.set_mode("RTL"))  # flies home fast with the sprayer still enabled: it pumps again
        assert link.wait_until(lambda: ap.spraying, 60)
        assert ap.mode == 6 and ap.payload.sprayer_on
        link.run(v.command(C.MAV_CMD_DO_SPRAYER, (0,)))
        assert not ap.spraying and not ap.payload.sprayer_pumping
