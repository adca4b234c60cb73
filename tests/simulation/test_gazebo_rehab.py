"""The planar rehabilitation twins: the headless MJCF in its start configuration, joint systems and bridges that
match the nodes, the generated node graph closing the loop on a physics stand-in, and the scorer."""

from __future__ import annotations

import json
import math
import shlex
from dataclasses import replace
from pathlib import Path

import mujoco
import numpy as np
import pytest
import yaml

from sanqin.msgs.factory import default_factory
from sanqin.runtime.config import load_config
from sanqin.runtime.node import resolve_name
from sanqin.runtime.paths import share_dir
from sanqin.runtime.registry import get_node_spec
from sanqin.runtime.runner import run_scenario
from sanqin.runtime.scenario import load_scenario
from sanqin.simulation.gazebo.bridge import ROS_TO_GZ, read_bridge_yaml
from sanqin.simulation.gazebo.rehab import GZ_JOINT_STATES, SPAWN, session_command
from sanqin.simulation.gazebo.score import score_bag
from sanqin.simulation.gazebo.twin import EXPORTERS, headless_simulator
from sanqin.simulation.rehab import RehabPlanarSim

from .gazebo_rehab_helpers import StandIn, bag_strings, launch_nodes, parse, run_twin_graph

SHARE = share_dir()
GZ = SHARE / "sim" / "gazebo"
JOINTS = ("r_shoulder", "r_elbow", "h_shoulder", "h_elbow")


_parse = parse


def _scenario(name: str):
    sc = load_scenario(SHARE / "sim" / "scenarios" / f"{name}.yaml")
    return sc, load_config(RehabPlanarSim.Config, sc.simulators[0].params)


_launch_nodes = launch_nodes


@pytest.mark.parametrize("name", ["rehab_safety", "rehab_recovery"])
def test_station_is_the_headless_mjcf_in_its_start_configuration(name: str) -> None:
    sc, cfg = _scenario(name)
    sim = headless_simulator(sc, "rehab")
    model = _parse(GZ / "models" / f"{name}_station" / "model.sdf").find("model")
    assert [j.get("name") for j in model.findall("joint")] == list(JOINTS)
    for j in model.findall("joint"):
        assert j.findtext("parent") in ("world", "robot_link1", "upper_arm") and j.findtext("axis/xyz") == "0 0 1"
    for body in ("robot_link1", "robot_link2", "upper_arm", "forearm"):  # links where MuJoCo starts them
        b = mujoco.mj_name2id(sim.m, mujoco.mjtObj.mjOBJ_BODY, body)
        xyz = [float(v) for v in model.find(f"link[@name='{body}']/pose").text.split()[:3]]
        assert xyz == pytest.approx(sim.d.xpos[b], abs=1e-9), body
    q0 = sim.d.qpos[sim.h_q[1]]
    limit = model.find("joint[@name='h_elbow']/axis/limit")
    assert float(limit.findtext("lower")) == pytest.approx(-2.7 - q0) and float(limit.findtext("upper")) == \
        pytest.approx(-0.05 - q0)  # Gazebo counts from the start configuration
    forces = [p.findtext("joint_name") for p in model.findall("plugin")
              if p.get("name") == "gz::sim::systems::ApplyJointForce"]
    assert forces == list(JOINTS)
    (jsp,) = [p for p in model.findall("plugin") if p.get("name") == "gz::sim::systems::JointStatePublisher"]
    assert [e.text for e in jsp.findall("joint_name")] == list(JOINTS)
    assert all(c.get("name") is None for c in model.iter("collision"))  # nothing collides, as in the MJCF
    physics = _parse(GZ / "worlds" / f"{name}.sdf").find("world/physics")
    assert float(physics.findtext("max_step_size")) == cfg.physics_dt_s
    assert float(physics.findtext("real_time_factor")) == 0.25  # the nodes close the cuff loop: a slower pace
    assert float(physics.findtext("real_time_update_rate")) == pytest.approx(0.25 / cfg.physics_dt_s)


@pytest.mark.parametrize("name", ["rehab_safety", "rehab_recovery"])
def test_bridges_and_remaps_connect_gazebo_and_the_nodes(name: str) -> None:
    sc, cfg = _scenario(name)
    bridges = read_bridge_yaml((GZ / "bridge" / f"{name}.yaml").read_text())
    nodes = {n: (get_node_spec(e), remap) for e, n, _, remap in _launch_nodes(name)}
    published = {resolve_name(remap.get(o.topic, o.topic), "", n): o.msg_type
                 for n, (spec, remap) in nodes.items() for o in spec.outputs}
    subscribed = {resolve_name(remap.get(i.topic, i.topic), "", n): i.msg_type
                  for n, (spec, remap) in nodes.items() for i in spec.inputs}
    to_gz = [b for b in bridges if b.direction == ROS_TO_GZ]
    assert sorted(b.gz_topic for b in to_gz) == sorted(f"/model/{SPAWN}/joint/{j}/cmd_force" for j in JOINTS)
    for b in to_gz:  # each joint's torque comes from rehab_patient, as Float64
        assert published[b.ros_topic] == b.ros_type == "std_msgs/msg/Float64"
    (js,) = [b for b in bridges if b.ros_topic == GZ_JOINT_STATES]
    assert subscribed[GZ_JOINT_STATES] == js.ros_type and js.gz_topic == f"/model/{name}_station/joint_states"
    # the therapy node's sensors and command close the loop through the split and the patient
    assert published[cfg.joint_states_topic] == subscribed[cfg.joint_states_topic] == "sensor_msgs/msg/JointState"
    assert published[cfg.wrench_topic] == subscribed[cfg.wrench_topic] == "geometry_msgs/msg/WrenchStamped"
    assert published[cfg.effort_topic] == subscribed[cfg.effort_topic] == "std_msgs/msg/Float64MultiArray"
    for topic in (cfg.target_topic, cfg.phase_topic, "/rehab/drive_0", "/rehab/drive_1"):
        assert published[topic] == subscribed[topic]
    launch = _parse(SHARE / "launch" / f"gz_{name}.launch.xml")
    (spawn,) = [n for n in launch.findall("node") if n.get("exec") == "create"]
    assert f"-name {SPAWN} " in spawn.get("args")


def test_session_loop_is_one_bash_script_without_launch_substitutions() -> None:
    cmd = session_command("/rehab_robot/start", "/rehab_robot/phase", 4)
    argv = shlex.split(cmd)  # how launch splits an <executable cmd>
    assert argv[:2] == ["bash", "-c"] and len(argv) == 3 and "$(" not in cmd
    assert "ros2 service call /rehab_robot/start std_srvs/srv/Trigger" in argv[2] and "n=4;" in argv[2]
    launch = _parse(SHARE / "launch" / "gz_rehab_recovery.launch.xml")
    (ex,) = [e for e in launch.findall("executable") if e.get("name") == "rehab_sessions"]
    assert ex.get("cmd") == session_command("/rehab_robot/start", "/rehab_robot/phase", 4)


def test_every_rehab_scenario_has_a_twin() -> None:
    twins = yaml.safe_load((GZ / "twins.yaml").read_text())
    assert {"rehab_safety", "rehab_recovery", "rehab_exo_safety", "rehab_exo_recovery"} <= set(twins["twins"])
    assert EXPORTERS["sanqin.simulation.rehab:RehabPlanarSim"] == "sanqin.simulation.gazebo.rehab"
    assert EXPORTERS["sanqin.simulation.rehab_exo:RehabExoSim"] == "sanqin.simulation.gazebo.rehab_exo"


# --- the generated node graph on a physics stand-in ------------------------------------------------


@pytest.mark.parametrize("lag_steps", [0, 4])
def test_generated_nodes_pass_the_safety_scenario_on_a_physics_stand_in(tmp_path: Path, lag_steps: int) -> None:
    """The launch file's nodes and parameters, with torques one (or five) physics steps late and the session
    started late (as the ros2 service call loop does), hold on the spasm, stop on the dropout and keep every
    limit (the cuff loop diverges near 10 ms of lag: the world runs at a quarter of real time)."""
    sc, cfg = _scenario("rehab_safety")
    sim = headless_simulator(sc, "rehab")
    efforts = tuple(f"/rehab/{w}_effort_{i}" for w in ("robot", "patient") for i in range(2))

    def stand_in(graph, params):
        offsets = np.array(params["robot_offsets_rad"] + params["patient_offsets_rad"])
        return StandIn(sim.m, sim.d.qpos, JOINTS, offsets, efforts, graph, lag_steps)

    bag, started_at, _ = run_twin_graph("rehab_safety", tmp_path, sc.duration_s, cfg.physics_dt_s, stand_in,
                                        "rehab_robot", 0.5)  # the service loop's first call, 0.3 s late
    score = score_bag(sc, bag)
    failed = [text for ok, text in score.checks if not ok]
    assert score.passed, failed
    # the therapy node's own metrics (holds, safety state) never reach /diagnostics: not measured from a bag,
    # so check them from its safety events
    assert all(text.startswith("nodes.rehab_robot.") for text in score.not_measured)
    safety = [json.loads(m)["kind"] for m in bag_strings(bag, "/rehab_robot/safety_events")]
    assert safety.count("spasm") == 1 and safety[-1] == "sensor_timeout"
    assert score.metrics["rehab.spasm_hold_cycles"] <= 1 and score.metrics["rehab.dropout_stop_s"] <= 0.022
    events = [json.loads(m) for m in bag_strings(bag, "/rehab_patient/events")]
    (spasm,) = [e for e in events if e["kind"] == "spasm"]
    assert spasm["t_s"] == pytest.approx(started_at + 0.9 - 0.2, abs=2 * cfg.physics_dt_s)  # same point of the session


# --- scoring ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def safety_run(tmp_path_factory):
    """A headless run in a fresh folder: the therapy node continues from the session files under its
    session_dir (relative to the working directory), so a shared folder would change the run."""
    sc, _ = _scenario("rehab_safety")
    out = tmp_path_factory.mktemp("rehab_safety")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(out)
        result = run_scenario(sc, out / "run", plots=False)
    return sc, result, out / "run" / "bag"


def test_score_of_the_headless_safety_bag_matches_the_headless_metrics(safety_run) -> None:
    sc, result, bag = safety_run
    got, ref = score_bag(sc, bag).metrics, result.metrics
    for key in ("rehab.rom_excursion_m", "rehab.torque_ratio"):  # exact: from the published states and efforts
        assert got[key] == pytest.approx(ref[key], abs=2e-4), key
    # the published wrench carries the F/T noise (0.2 N of 40 N); headless measures the true force
    assert got["rehab.interaction_ratio"] == pytest.approx(ref["rehab.interaction_ratio"], abs=0.02)
    # the headless measure runs through the 0.3 s dropout too, when nothing is published
    assert got["rehab.speed_ratio"] <= ref["rehab.speed_ratio"] + 1e-9
    # reaction times: the bag's event time is one step after the harness's (it receives the event before
    # its next step, at the previous step's time)
    step = sc.step_s
    assert got["rehab.spasm_hold_cycles"] - ref["rehab.spasm_hold_cycles"] in (0.0, 1.0)
    assert got["rehab.dropout_stop_s"] == pytest.approx(ref["rehab.dropout_stop_s"], abs=step + 1e-9)
    for key in ("rehab.sessions_done", "rehab.patient_strength", "rehab.patient_spasticity"):
        assert got[key] == pytest.approx(ref[key]), key


def test_score_of_a_headless_recovery_bag_matches_the_headless_metrics(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # fresh session files (see safety_run)
    sc, _ = _scenario("rehab_recovery")
    sc = replace(sc, duration_s=20.0, simulators=(replace(sc.simulators[0], params={
        **sc.simulators[0].params, "sessions": 2}),))
    result = run_scenario(sc, tmp_path / "run", plots=False)
    got, ref = score_bag(sc, tmp_path / "run" / "bag").metrics, result.metrics
    assert ref["rehab.sessions_done"] >= 1
    for key in ("rehab.rom_excursion_m", "rehab.torque_ratio", "rehab.speed_ratio"):  # no dropout: every state
        assert got[key] == pytest.approx(ref[key], abs=2e-4), key
    assert got["rehab.interaction_ratio"] == pytest.approx(ref["rehab.interaction_ratio"], abs=0.02)
    for key in ("rehab.sessions_done", "rehab.patient_strength", "rehab.patient_spasticity"):
        assert got[key] == pytest.approx(ref[key]), key
    assert "rehab.spasm_hold_cycles" not in got and "rehab.dropout_stop_s" not in got  # none injected


def test_score_without_states_or_events_measures_nothing_it_cannot(tmp_path: Path, safety_run) -> None:
    """A bag with only the phase: no limit ratio is invented from missing data — each is NaN, so its criterion
    fails (review fix: left out, score_bag counted them 'not measured' and passed a run on its other criteria)."""
    from rosbags.rosbag2 import Writer

    sc, _, _ = safety_run
    f = default_factory()
    path = tmp_path / "bag"
    with Writer(path, version=8) as w:
        conn = w.add_connection("/rehab_robot/phase", "std_msgs/msg/String", typestore=f.typestore)
        w.write(conn, 1_000_000, f.serialize(f.new("std_msgs/msg/String", data="wait")))
    score = score_bag(sc, path)
    got = score.metrics
    assert got["rehab.sessions_done"] == 0
    for key in ("rom_excursion_m", "speed_ratio", "interaction_ratio", "torque_ratio", "spasm_hold_cycles",
                "dropout_stop_s"):
        assert math.isnan(got[f"rehab.{key}"]), key
    failed = {text.split()[0] for ok, text in score.checks if not ok}
    assert {"rehab.rom_excursion_m", "rehab.spasm_hold_cycles", "rehab.torque_ratio"} <= failed
    assert not score.passed


class _Bag:
    """Just enough of :class:`~sanqin.simulation.gazebo.score.Bag` for a scorer: messages per topic."""

    def __init__(self, topics: dict) -> None:
        self.topics = topics
        self.counts = {t: len(v) for t, v in topics.items()}

    def messages(self, topic: str):
        return iter(self.topics.get(topic, ()))


def _recording(until_s: float, events: list[dict]) -> _Bag:
    """A Gazebo-like recording of rehab_safety: robot states and the cuff wrench every step up to ``until_s``
    (the patient node then stops: no later sample), the patient node's events, no safety event."""
    from sanqin.common.types import JointStates, Wrench, WrenchStamped
    from sanqin.msgs.geometry import wrench_stamped_to_msg
    from sanqin.msgs.sensors import joint_state_to_msg

    f = default_factory()
    states, wrenches = [], []
    for k in range(int(round(until_s / 0.001))):
        t = 0.2 + k * 0.001
        js = JointStates(stamp_s=t, names=("r_shoulder", "r_elbow"), position=np.array([2.57, -1.99]),
                         velocity=np.zeros(2), effort=np.zeros(2))
        states.append((t, joint_state_to_msg(js, f)))
        w = WrenchStamped(stamp_s=t, frame_id="rehab_base", wrench=Wrench(force_n=np.zeros(3), torque_nm=np.zeros(3)))
        wrenches.append((t, wrench_stamped_to_msg(w, f)))
    ev = [(e["t_s"], f.new("std_msgs/msg/String", data=json.dumps(e))) for e in events]
    phase = [(0.5, f.new("std_msgs/msg/String", data="move"))]
    return _Bag({"/joint_states": states, "/handle/wrench": wrenches, "/rehab_patient/events": ev,
                 "/rehab_robot/phase": phase})


def test_score_of_a_recording_without_the_injected_faults_fails_them() -> None:
    """Review fix: the patient node stopped before the dropout (and the spasm never showed in the wrench): the
    faults were never exercised, so their reaction metrics must fail — left out they were 'not measured' and
    the run passed on its other criteria."""
    from sanqin.simulation.gazebo.rehab import score

    sc, cfg = _scenario("rehab_safety")
    start = {"kind": "session_start", "t_s": 0.5, "session": 1, "fault_clock_offset_s": 0.3}
    spasm = {"kind": "spasm", "t_s": 1.2, "scheduled_s": 0.9}
    got = score(cfg, sc.simulators[0], sc, _recording(3.0, [start, spasm]))
    assert got["spasm_hold_cycles"] == math.inf  # fired, but no published sample ever showed it
    assert got["dropout_stop_s"] == math.inf  # never started: the node stopped at 3 s
    assert got["rom_excursion_m"] < 0  # the recorded states are still scored
    got = score(cfg, sc.simulators[0], sc, _recording(3.0, [start]))
    assert got["spasm_hold_cycles"] == math.inf  # never fired


def test_score_of_a_recording_without_joint_states_fails_the_motion_limits() -> None:
    """Review fix: a recording that lost the joint states (and Gazebo's raw ones) left the ROM and speed limits
    out, which score_bag counts as 'not measured' — the run passed on the wrench, torque and safety criteria."""
    from sanqin.simulation.gazebo.rehab import score

    sc, cfg = _scenario("rehab_safety")
    bag = _recording(1.0, [])
    del bag.topics["/joint_states"], bag.counts["/joint_states"]
    got = score(cfg, sc.simulators[0], sc, bag)
    assert math.isnan(got["rom_excursion_m"]) and math.isnan(got["speed_ratio"])
    assert got["interaction_ratio"] == 0.0  # the recorded wrench is still scored
    crit = {c.metric: c for c in sc.criteria}
    assert not crit["rehab.rom_excursion_m"].check({"rehab.rom_excursion_m": got["rom_excursion_m"]})[0]


@pytest.mark.parametrize("name", ["rehab_safety", "rehab_exo_safety"])
def test_the_run_outlasts_the_late_faults_of_a_late_session(name: str) -> None:
    """Review fix: Gazebo steps from launch but the fault clock starts at the first session, once the nodes are up
    and the service loop gets through; the run was exactly the scenario's duration, so a session 1.7 s (sim) late
    pushed the dropout's safe stop past the end. The world now runs STARTUP_SLACK_S longer."""
    from sanqin.simulation.gazebo.rehab import STARTUP_SLACK_S

    sc = load_scenario(SHARE / "sim" / "scenarios" / f"{name}.yaml")
    p = sc.simulators[0].params
    twin = yaml.safe_load((GZ / "twins.yaml").read_text())["twins"][name]
    run_s = twin["iterations"] * twin["physics_step_s"]
    late_s = 3.0  # the first session 3 s of sim time late: 12 s of wall clock at a quarter of real time
    safe_stop_s = late_s + p["dropout_at_s"] - 0.2 + 0.05  # the sensor timeout after the dropout (watchdog 20 ms)
    assert safe_stop_s > sc.duration_s and run_s >= safe_stop_s and STARTUP_SLACK_S >= late_s
    args = {a.get("name"): a.get("default") for a in _parse(SHARE / "launch" / f"gz_{name}.launch.xml").iter("arg")}
    assert int(args["iterations"]) == twin["iterations"]
