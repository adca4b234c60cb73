"""The UAV scenarios end to end: the uav_bridge node against the MAVLink multicopter in the headless runner."""

from __future__ import annotations

import pytest

from sanqin.runtime.paths import share_dir
from sanqin.runtime.runner import run_scenario

SCENARIOS = share_dir() / "sim" / "scenarios"


def _run(name: str, tmp_path):
    result = run_scenario(SCENARIOS / f"{name}.yaml", out_dir=tmp_path / name)
    assert result.passed, "\n".join(text for ok, text in result.checks if not ok)
    return result.metrics


def test_crop_spraying_field(tmp_path) -> None:
    m = _run("uav_spraying", tmp_path)
    assert m["vehicle.spray_switches"] == 20 and m["vehicle.spray_outside_field_m"] <= 1.0  # a lap and 9 passes
    assert m["vehicle.spray_inside_field_m"] * 6.0 >= 0.95 * m["vehicle.field_area_m2"]  # 6 m swaths cover it
    assert m["vehicle.sprayed_m"] == pytest.approx(m["vehicle.spray_inside_field_m"], rel=0.05)
    assert (tmp_path / "uav_spraying" / "plots" / "flight_top_view.png").stat().st_size > 10_000
    assert m["topics./spraying_drone/odom.count"] > 1000 and m["topics./spraying_drone/fix.count"] > 500


def test_powerline_corridor_photos(tmp_path) -> None:
    m = _run("uav_corridor_inspection", tmp_path)
    assert m["vehicle.photo_spacing_mean_m"] == pytest.approx(20.0, abs=1.0)


def test_companion_link_loss_is_not_the_autopilots_gcs_failsafe(tmp_path) -> None:
    """Onboard (the vehicle's system id): ArduPilot's GCS failsafe ignores our heartbeats, so the vehicle flies
    on through the outage and the companion commands RTL when the link returns."""
    m = _run("uav_link_loss", tmp_path)
    assert m["vehicle.failsafe_gcs"] == 0 and m["vehicle.gcs_heartbeats"] == 0
    assert m["vehicle.items_reached_link_down"] >= 1 and m["nodes.uav_bridge.failsafe_actions"] == 1
    assert m["vehicle.final_mode"] == 6 and m["nodes.uav_bridge.link_losses"] == 1


def test_ground_station_link_loss_fires_the_autopilots_gcs_failsafe(tmp_path) -> None:
    """Role gcs (system id 255): the bridge set SYSID_MYGCS/FS_GCS_ENABLE, the autopilot returns by itself."""
    m = _run("uav_gcs_link_loss", tmp_path)
    assert m["vehicle.failsafe_gcs"] == 1 and m["vehicle.gcs_heartbeats"] > 0
    assert m["nodes.uav_bridge.failsafe_actions"] == 0 and m["nodes.uav_bridge.link_losses"] == 1


def test_ground_station_without_failsafe_setup_is_not_protected(tmp_path) -> None:
    """Fault injection: a ground station on a system id other than SYSID_MYGCS, with the bridge told not to
    configure failsafes. FS_GCS_ENABLE is on but watches system 255, so the outage passes unnoticed by the
    autopilot; the bridge's own policy still commands RTL when the link returns."""
    import yaml

    from sanqin.runtime.scenario import parse_scenario

    doc = yaml.safe_load((SCENARIOS / "uav_gcs_link_loss.yaml").read_text())
    doc["simulators"][0]["params"].update({"param_names": ["FS_GCS_ENABLE"], "param_values": [1.0],
                                           "link_down_start_s": 30.0, "link_down_end_s": 90.0})
    doc["nodes"][0]["params"]["link"]["system_id"] = 200
    doc["nodes"][0]["params"]["mission"]["configure_failsafes"] = False
    doc["criteria"] = [
        {"metric": "vehicle.failsafe_gcs", "op": "==", "value": 0},
        {"metric": "vehicle.gcs_heartbeats", "op": "==", "value": 0},
        {"metric": "vehicle.items_reached_link_down", "op": ">=", "value": 1},
        {"metric": "nodes.uav_bridge.failsafe_actions", "op": "==", "value": 1},
        {"metric": "vehicle.mission_complete", "op": "==", "value": 0},
        {"metric": "vehicle.distance_from_return_point_m", "op": "<=", "value": 2.0},
        {"metric": "vehicle.landed", "op": "==", "value": 1},
    ]
    sc = parse_scenario(doc, "ground station not SYSID_MYGCS")
    sc = type(sc)(**{**sc.__dict__, "path": SCENARIOS / "uav_gcs_link_loss.yaml"})
    result = run_scenario(sc, out_dir=tmp_path / "unprotected")
    assert result.passed, "\n".join(text for ok, text in result.checks if not ok)


def test_low_battery_returns(tmp_path) -> None:
    m = _run("uav_low_battery", tmp_path)
    assert m["nodes.uav_bridge.failsafe_actions"] >= 1 and m["vehicle.final_mode"] == 6
    assert m["nodes.uav_bridge.pumps_off"] >= 1 and m["vehicle.spray_switches"] == 2  # on mid-pass, off by the bridge


def test_low_battery_without_the_pump_guard_sprays_outside_the_field(tmp_path) -> None:
    """The simulated autopilot keeps its pump output through the return, as ArduPilot does: without the bridge's
    pump guard the same flight sprays all the way to the rally point and fails — the scenario passes because of
    the bridge."""
    import yaml

    from sanqin.runtime.scenario import parse_scenario

    doc = yaml.safe_load((SCENARIOS / "uav_low_battery.yaml").read_text())
    doc["nodes"][0]["params"]["payload"] = {"pump_off_on_failsafe": False}
    sc = parse_scenario(doc, "low battery, no pump guard")
    sc = type(sc)(**{**sc.__dict__, "path": SCENARIOS / "uav_low_battery.yaml"})
    result = run_scenario(sc, out_dir=tmp_path / "unguarded")
    m = result.metrics
    assert not result.passed and m["vehicle.spray_outside_field_m"] > 1.0
    assert {text.split()[0] for ok, text in result.checks if not ok} == {"vehicle.spray_outside_field_m"}
    assert m["nodes.uav_bridge.pump_off_commands"] == 0


def test_rejected_mission_flies_nothing(tmp_path) -> None:
    m = _run("uav_mission_rejected", tmp_path)
    assert m["vehicle.armed_s"] == 0 and m["vehicle.mission_items"] == 0
