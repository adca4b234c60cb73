"""UAV twins: ArduPilot SITL at the scenario's home and system id, the bridge on UDP, the corridor's line."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import yaml

from sanqin.runtime.config import load_config
from sanqin.runtime.paths import share_dir
from sanqin.runtime.scenario import load_scenario
from sanqin.simulation.gazebo.errors import NoTwin
from sanqin.simulation.gazebo.generate import build_twin
from sanqin.simulation.multicopter.plugin import MulticopterSim
from sanqin.uav_bridge.geo import GeoOrigin
from sanqin.uav_bridge.plan_file import read_plan

SHARE = share_dir()


def _parse(path: Path) -> ET.Element:
    return ET.parse(path).getroot()  # noqa: S314 - repository-owned, generated file


@pytest.mark.parametrize("name", ["uav_spraying", "uav_corridor_inspection"])
def test_sitl_flies_from_the_scenario_home_and_the_bridge_listens_on_udp(name: str) -> None:
    sc = load_scenario(SHARE / "sim" / "scenarios" / f"{name}.yaml")
    cfg = load_config(MulticopterSim.Config, sc.simulators[0].params)
    launch = _parse(SHARE / "launch" / f"gz_{name}.launch.xml")
    (sitl,) = [e for e in launch.findall("executable") if e.get("name") == "ardupilot_sitl"]
    argv = sitl.get("cmd").split()
    assert argv[argv.index("--sysid") + 1] == str(cfg.system_id)
    lat, lon, alt, _ = (float(v) for v in argv[argv.index("-l") + 1].split(","))
    assert (lat, lon, alt) == pytest.approx((cfg.home_latitude_deg, cfg.home_longitude_deg, cfg.home_altitude_m))
    assert "--serial0=udpclient:127.0.0.1:14560" in argv  # through the relay, which runs the headless pack
    (bridge,) = [n for n in launch.findall("node") if n.get("exec") == "uav_bridge"]
    assert bridge.find("param[@name='link.url']").get("value") == "udpin:127.0.0.1:14550"
    assert bridge.find("param[@name='link.home_at_seq0']").get("value") == "true"  # ArduPilot: item 0 is home
    world = _parse(SHARE / "sim" / "gazebo" / "worlds" / f"{name}.sdf")
    sc_el = world.find("world/spherical_coordinates")
    assert float(sc_el.findtext("latitude_deg")) == pytest.approx(cfg.home_latitude_deg)
    assert [i.findtext("uri") for i in world.findall("world/include")][-1] == "model://iris_with_ardupilot"


def test_power_line_follows_the_plan_track() -> None:
    sc = load_scenario(SHARE / "sim" / "scenarios" / "uav_corridor_inspection.yaml")
    cfg = load_config(MulticopterSim.Config, sc.simulators[0].params)
    plan = read_plan(SHARE / "sim" / "missions" / "powerline_corridor.plan")
    origin = GeoOrigin(cfg.home_latitude_deg, cfg.home_longitude_deg, cfg.home_altitude_m)
    track = np.array([origin.to_enu(i.latitude_deg, i.longitude_deg)[:2] for i in plan.mission
                      if i.command == 16 and i.latitude_deg])
    model = _parse(SHARE / "sim" / "gazebo" / "models" / "uav_corridor_inspection_power_line" / "model.sdf")
    towers = [np.array([float(v) for v in e.findtext("pose").split()[:2]])
              for e in model.iter("visual") if e.get("name").startswith("tower_")]
    assert len(towers) >= len(track)
    def to_segment(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
        t = float(np.clip((p - a) @ (b - a) / ((b - a) @ (b - a)), 0.0, 1.0))
        return float(np.linalg.norm(a + t * (b - a) - p))

    for p in towers:  # every tower stands on the track polyline
        assert min(to_segment(p, a, b) for a, b in zip(track, track[1:])) < 1e-6
    for a in track:
        assert min(np.linalg.norm(a - p) for p in towers) < 1e-6  # a tower at every corner


@pytest.mark.parametrize("name", ["uav_link_loss", "uav_gcs_link_loss"])
def test_link_loss_twins_route_sitl_through_the_fault_relay(name: str) -> None:
    sc = load_scenario(SHARE / "sim" / "scenarios" / f"{name}.yaml")
    cfg = load_config(MulticopterSim.Config, sc.simulators[0].params)
    launch = _parse(SHARE / "launch" / f"gz_{name}.launch.xml")
    (sitl,) = [e for e in launch.findall("executable") if e.get("name") == "ardupilot_sitl"]
    argv = sitl.get("cmd").split()
    assert "--serial0=udpclient:127.0.0.1:14560" in argv and argv[argv.index("--sysid") + 1] == str(cfg.system_id)
    (bridge,) = [n for n in launch.findall("node") if n.get("exec") == "uav_bridge"]
    assert bridge.find("param[@name='link.url']").get("value") == "udpin:127.0.0.1:14550"
    assert bridge.find("param[@name='link.home_at_seq0']").get("value") == "true"  # ArduPilot: item 0 is home
    (relay,) = [n for n in launch.findall("node") if n.get("exec") == "mavlink_fault_relay"]
    params = {p.get("name"): p.get("value") for p in relay.findall("param") if p.get("name")}
    assert relay.find("param[@from]").get("from").endswith("/config/mavlink_fault_relay.yaml")
    assert (params["vehicle_port"], params["bridge_host"], params["bridge_port"]) == ("14560", "127.0.0.1", "14550")
    assert yaml.safe_load(params["drop_windows_s"]) == [cfg.link_down_start_s, cfg.link_down_end_s]
    assert params["time_origin"] == "armed" and params["vehicle_system_id"] == str(cfg.system_id)
    names = yaml.safe_load(params.get("param_names", "[]"))
    sets = dict(zip(names, yaml.safe_load(params["param_values"])))
    # the headless overrides (FS_GCS_ENABLE for the companion case), then the pack's battery parameters
    assert names[:len(cfg.param_names)] == list(cfg.param_names)
    assert [sets[n] for n in cfg.param_names] == list(cfg.param_values)
    assert sets["BATT_CAPACITY"] == pytest.approx(cfg.battery_capacity_ah * 1000.0)
    # the launch parameters build the relay's config as ROS would hand them over
    from sanqin.simulation.gazebo.mavlink_relay import MavlinkFaultRelayConfig

    relay_cfg = load_config(MavlinkFaultRelayConfig, {k: yaml.safe_load(v) for k, v in params.items()})
    assert relay_cfg.windows == [(cfg.link_down_start_s, cfg.link_down_end_s)]
    notes = yaml.safe_load((SHARE / "sim" / "gazebo" / "twins.yaml").read_text())["twins"][name]["fidelity_notes"]
    assert any("mavlink_fault_relay" in n and "armed heartbeat" in n for n in notes)


def test_low_battery_twin_runs_the_headless_pack_through_the_relay() -> None:
    name = "uav_low_battery"
    sc = load_scenario(SHARE / "sim" / "scenarios" / f"{name}.yaml")
    cfg = load_config(MulticopterSim.Config, sc.simulators[0].params)
    launch = _parse(SHARE / "launch" / f"gz_{name}.launch.xml")
    (sitl,) = [e for e in launch.findall("executable") if e.get("name") == "ardupilot_sitl"]
    assert "--serial0=udpclient:127.0.0.1:14560" in sitl.get("cmd").split()
    (relay,) = [n for n in launch.findall("node") if n.get("exec") == "mavlink_fault_relay"]
    params = {p.get("name"): yaml.safe_load(p.get("value")) for p in relay.findall("param") if p.get("name")}
    from sanqin.simulation.gazebo.mavlink_relay import MavlinkFaultRelayConfig
    from sanqin.simulation.multicopter.params import DEFAULTS

    relay_cfg = load_config(MavlinkFaultRelayConfig, params)
    assert relay_cfg.windows == []  # no outage in this scenario
    assert (relay_cfg.battery_capacity_ah, relay_cfg.battery_soc_start, relay_cfg.battery_hover_current_a) == (
        cfg.battery_capacity_ah, cfg.battery_soc_start, cfg.hover_current_a)
    assert relay_cfg.battery_cells == cfg.battery_cells
    sets = dict(zip(relay_cfg.param_names, relay_cfg.param_values))
    assert sets["BATT_CAPACITY"] == cfg.battery_capacity_ah * 1000  # resets map onto the headless capacity
    for n in ("BATT_ARM_VOLT", "BATT_LOW_VOLT", "BATT_CRT_VOLT", "BATT_LOW_TIMER", "BATT_FS_CRT_ACT"):
        assert sets[n] == DEFAULTS[n][0]  # the headless autopilot's thresholds and actions
    notes = yaml.safe_load((SHARE / "sim" / "gazebo" / "twins.yaml").read_text())["twins"][name]["fidelity_notes"]
    assert any("MAV_CMD_BATTERY_RESET" in n and "SIM_BATT_VOLTAGE" in n for n in notes)


@pytest.mark.parametrize("name", ["uav_spraying", "uav_corridor_inspection", "uav_mission_rejected"])
def test_uav_twins_without_a_fault_still_fly_the_headless_pack(name: str) -> None:
    """SITL's own pack (--model JSON) is a fixed full one: every UAV twin runs the scenario's pack in the relay."""
    sc = load_scenario(SHARE / "sim" / "scenarios" / f"{name}.yaml")
    cfg = load_config(MulticopterSim.Config, sc.simulators[0].params)
    launch = _parse(SHARE / "launch" / f"gz_{name}.launch.xml")
    (relay,) = [n for n in launch.findall("node") if n.get("exec") == "mavlink_fault_relay"]
    params = {p.get("name"): p.get("value") for p in relay.findall("param") if p.get("name")}
    assert float(params["battery_capacity_ah"]) == pytest.approx(cfg.battery_capacity_ah)
    assert float(params["battery_soc_start"]) == pytest.approx(cfg.battery_soc_start)
    assert "drop_windows_s" not in params  # no outage


@pytest.mark.parametrize("fault", [{"no_ack_commands": [400]}, {"deny_commands": [176]},
                                   {"mission_reject_result": 1}, {"gps_ok": False}, {"require_signing": True}])
def test_faults_sitl_cannot_reproduce_get_no_twin(fault: dict) -> None:
    import dataclasses

    sc = load_scenario(SHARE / "sim" / "scenarios" / "uav_spraying.yaml")
    sim = sc.simulators[0]
    faulty = dataclasses.replace(sc, simulators=(dataclasses.replace(sim, params={**sim.params, **fault}),))
    with pytest.raises(NoTwin, match="does not offer"):
        build_twin(faulty)
    index = yaml.safe_load((SHARE / "sim" / "gazebo" / "twins.yaml").read_text())["twins"]
    assert index["uav_spraying"]["ardupilot_sitl"] and index["uav_spraying"]["external_models"] == [
        "iris_with_ardupilot"]


def test_parameter_overrides_alone_still_reach_sitl_through_the_relay() -> None:
    """A scenario that only overrides autopilot parameters (no outage, full pack): SITL starts from ArduPilot's
    defaults, so the relay must run to set them — before the fix the twin flew SITL straight to the bridge and the
    overrides silently never applied."""
    import dataclasses

    sc = load_scenario(SHARE / "sim" / "scenarios" / "uav_spraying.yaml")
    sim = sc.simulators[0]
    params = {**sim.params, "param_names": ["WPNAV_RADIUS", "FENCE_ALT_MAX"], "param_values": [300.0, 60.0]}
    twin = build_twin(dataclasses.replace(sc, simulators=(dataclasses.replace(sim, params=params),)))
    (sitl,) = [p for p in twin.processes if p.name == "ardupilot_sitl"]
    assert "--serial0=udpclient:127.0.0.1:14560" in sitl.cmd.split()
    (relay,) = [n for n in twin.nodes if n.node == "mavlink_fault_relay"]
    from sanqin.simulation.gazebo.mavlink_relay import MavlinkFaultRelayConfig

    relay_cfg = load_config(MavlinkFaultRelayConfig, relay.params)
    sets = dict(zip(relay_cfg.param_names, relay_cfg.param_values))
    assert (sets["WPNAV_RADIUS"], sets["FENCE_ALT_MAX"]) == (300.0, 60.0)
    assert relay_cfg.windows == [] and relay_cfg.battery_capacity_ah == pytest.approx(
        load_config(MulticopterSim.Config, sim.params).battery_capacity_ah)  # no outage; the headless pack
