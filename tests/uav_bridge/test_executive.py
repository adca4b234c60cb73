"""The plan executive's link-loss setup follows ArduPilot: as a ground station it makes the autopilot's GCS
failsafe watch its own system id; onboard it leaves that failsafe (which never watches a companion) alone."""

from __future__ import annotations

import pytest

from sanqin.runtime.params import load_node_config
from sanqin.runtime.paths import share_dir
from sanqin.simulation.multicopter.harness import SimulatedLink
from sanqin.uav_bridge.bridge import BridgeOptions
from sanqin.uav_bridge.errors import UavBridgeError
from sanqin.uav_bridge.executive import ExecutiveOptions, MissionExecutive
from sanqin.uav_bridge.nodes import UavBridgeConfig, bridge_options
from sanqin.uav_bridge.plan_file import read_plan

PLAN = share_dir() / "sim" / "missions" / "powerline_corridor.plan"


def _fly_until_started(link: SimulatedLink, role: str) -> MissionExecutive:
    v = link.connect()
    ex = MissionExecutive(v, read_plan(PLAN), ExecutiveOptions(role=role))
    ex.start(link.t_s)
    assert link.wait_until(lambda: (ex.step(link.t_s), ex.state)[1] in ("flying", "failed"), 30)
    assert ex.state == "flying", ex.log_lines
    return ex


@pytest.mark.parametrize("own_id", [0, 200], ids=["default-255", "own-id-200"])
def test_ground_station_sets_sysid_mygcs_to_itself_before_arming(own_id: int) -> None:
    with SimulatedLink(options=BridgeOptions(role="gcs", system_id=own_id, vehicles=(1,))) as link:
        ex = _fly_until_started(link, "gcs")
        params = link.sim.params
        assert params["SYSID_MYGCS"] == (own_id or 255) and params["FS_GCS_ENABLE"] == 1.0  # RTL
        lines = ex.log_lines
        assert lines.index("set SYSID_MYGCS: ok") < lines.index("set FS_GCS_ENABLE: ok") < lines.index("arm: ok")
        link.advance(2.0)
        assert link.sim.server.counters["gcs_heartbeats"] > 0  # our heartbeats now keep the failsafe quiet


def test_onboard_companion_leaves_the_gcs_failsafe_to_the_ground_station() -> None:
    with SimulatedLink() as link:  # onboard, on the vehicle's own system id
        assert link.bridge.options.system_id == 1
        ex = _fly_until_started(link, "onboard")
        params = link.sim.params
        assert params["SYSID_MYGCS"] == 255 and params["FS_GCS_ENABLE"] == 0.0  # untouched (ArduCopter defaults)
        assert not any("FS_GCS_ENABLE" in line or "SYSID_MYGCS:" in line for line in ex.log_lines)
        assert any("companion commands RTL when the autopilot link returns" in line for line in ex.log_lines)
        assert "set BATT_FS_LOW_ACT: ok" in ex.log_lines  # the battery failsafe is the vehicle's, whoever we are
        assert link.sim.server.counters["gcs_heartbeats"] == 0


def test_system_id_by_role_and_bad_values() -> None:
    def cfg(link: dict) -> UavBridgeConfig:
        return load_node_config(UavBridgeConfig, share_dir() / "config" / "uav_bridge.yaml", "uav_bridge", "uav",
                                {"link": link})

    assert bridge_options(cfg({"role": "gcs"})).system_id == 255
    assert bridge_options(cfg({"role": "onboard", "vehicle_system_id": 7})).system_id == 7
    assert bridge_options(cfg({"role": "gcs", "system_id": 42})).system_id == 42
    with pytest.raises(UavBridgeError):
        BridgeOptions(system_id=300)
    with pytest.raises(UavBridgeError):
        ExecutiveOptions(role="pilot")


def test_a_plan_whose_return_leaves_the_fence_is_refused_before_arming() -> None:
    """The corridor without its far-end rally point: RTL after the last waypoint flies straight home and cuts
    19 m outside the corridor fence. Refused with the typed error at once (no wait for telemetry), not armed."""
    from dataclasses import replace

    from sanqin.uav_bridge.errors import ReturnOutsideFence

    with SimulatedLink() as link:
        v = link.connect()
        link.advance(6.0)  # position and HOME_POSITION known
        ex = MissionExecutive(v, replace(read_plan(PLAN), rally_points=[]), ExecutiveOptions())
        ex.start(link.t_s)
        t0 = link.t_s
        assert link.wait_until(lambda: (ex.step(link.t_s), ex.state)[1] in ("failed", "arming", "flying"), 30)
        assert ex.state == "failed" and isinstance(ex.error, ReturnOutsideFence)
        assert link.t_s - t0 < 5.0  # the uploads, then the refusal: no telemetry_wait_s
        (why,) = ex.error.return_failures
        assert why.startswith("return leg item 6→home leaves the inclusion fence (up to 19.") and why in str(ex.error)
        assert not link.sim.autopilot.armed and link.sim.armed_s == 0
        assert not any(line.startswith("arm") for line in ex.log_lines)


def test_a_rally_point_outside_the_fence_is_refused() -> None:
    from dataclasses import replace

    from sanqin.uav_bridge.errors import ReturnOutsideFence
    from sanqin.uav_bridge.geo import GeoOrigin

    plan = read_plan(share_dir() / "sim" / "missions" / "spray_field.plan")
    o = GeoOrigin(52.0870, 5.1630)
    bad = replace(plan, rally_points=[(*o.to_geodetic(-40.0, 40.0)[:2], 15.0)])  # west of the fence
    with SimulatedLink() as link:
        v = link.connect()
        link.advance(6.0)
        ex = MissionExecutive(v, bad, ExecutiveOptions())
        ex.start(link.t_s)
        assert link.wait_until(lambda: (ex.step(link.t_s), ex.state)[1] in ("failed", "arming", "flying"), 30)
        assert isinstance(ex.error, ReturnOutsideFence), ex.log_lines
        why = ex.error.return_failures[0]
        assert why.startswith("rally point 0 is ") and why.endswith(" m outside the inclusion fence"), why
        assert not link.sim.autopilot.armed
