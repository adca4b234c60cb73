"""Multirotor twin of mpc_drone_offboard: the quadcopter, its controller limits, the relay and the score."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from sanqin.runtime.paths import share_dir
from sanqin.runtime.runner import run_scenario
from sanqin.runtime.scenario import load_scenario
from sanqin.simulation.gazebo.generate import build_twin
from sanqin.simulation.gazebo.score import score_bag

SHARE = share_dir()
SCENARIO = SHARE / "sim" / "scenarios" / "mpc_drone_offboard.yaml"


def test_quadcopter_controller_takes_the_relayed_body_command() -> None:
    sc = load_scenario(SCENARIO)
    params = sc.simulators[0].params
    twin = build_twin(sc)
    model = twin.models["mpc_drone_offboard_drone"].model
    (control,) = [p for p in model.iter("plugin") if p.get("name") == "gz::sim::systems::MulticopterVelocityControl"]
    assert control.get("filename") == "gz-sim-multicopter-control-system"
    assert [float(v) for v in control.findtext("maximumLinearVelocity").split()] == [params["v_max_m_s"]] * 3
    rotors = control.findall("rotorConfiguration/rotor")
    motors = [p for p in model.iter("plugin") if p.get("name") == "gz::sim::systems::MulticopterMotorModel"]
    assert len(rotors) == len(motors) == 4
    joints = {j.get("name") for j in model.iter("joint")}
    assert {r.findtext("jointName") for r in rotors} == {m.findtext("jointName") for m in motors} <= joints
    assert sorted(int(m.findtext("actuator_number")) for m in motors) == [0, 1, 2, 3]
    assert sum(int(r.findtext("direction")) for r in rotors) == 0  # two rotors each way: no net yaw torque
    (relay,) = [n for n in twin.nodes if n.node == "world_twist_relay"]
    assert relay.remap["command"] == params["cmd_topic"]
    body = {b.ros_topic: b for b in twin.bridges}[relay.remap["cmd_vel"]]
    ns = control.findtext("robotNamespace")
    assert body.gz_topic == f"/{ns}/{control.findtext('commandSubTopic')}"
    assert params["odom_topic"] in {b.ros_topic for b in twin.bridges}
    (spawn,) = twin.spawns
    assert spawn.xyz == tuple(params["start"][:3])


def test_poles_stand_above_the_flight_path() -> None:
    sc = load_scenario(SCENARIO)
    params = sc.simulators[0].params
    world = ET.parse(SHARE / "sim" / "gazebo" / "models" / "mpc_drone_offboard_ground" / "model.sdf").getroot()  # noqa: S314
    (pole,) = [c for c in world.iter("collision") if c.get("name").startswith("pole_")]
    assert float(pole.findtext("geometry/cylinder/radius")) == params["obstacles"][2]
    assert float(pole.findtext("geometry/cylinder/length")) > max(params["path"][2::3])


def test_drone_score_from_the_bag_matches_the_headless_run(tmp_path) -> None:
    sc = replace(load_scenario(SCENARIO), duration_s=3.0)
    result = run_scenario(sc, tmp_path / "run", plots=False)
    got = score_bag(sc, tmp_path / "run" / "bag").metrics
    for key, tol in (("drone.collisions", 0.0), ("drone.goal_reached", 0.0), ("drone.distance_m", 0.05),
                     ("drone.min_clearance_m", 0.05), ("drone.max_path_deviation_m", 0.02)):
        assert got[key] == pytest.approx(result.metrics[key], abs=tol), key
