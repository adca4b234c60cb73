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
