"""The exoskeleton twins: the MyoElbow forearm on its hinge, the muscles evaluated by rehab_exo_patient (equal to
MuJoCo's own muscle forces), the generated node graph on a rigid-body stand-in, the scorer on a headless bag."""

from __future__ import annotations

import json
import math
from pathlib import Path

import mujoco
import numpy as np
import pytest
import yaml

from sanqin.common.types import JointStates
from sanqin.runtime.config import load_config
from sanqin.runtime.errors import ConfigError
from sanqin.runtime.headless import Graph
from sanqin.runtime.node import resolve_name
from sanqin.runtime.params import load_node_config
from sanqin.runtime.paths import share_dir
from sanqin.runtime.registry import get_node_spec
from sanqin.runtime.runner import run_scenario
from sanqin.runtime.scenario import load_scenario
from sanqin.simulation.gazebo.bridge import ROS_TO_GZ, read_bridge_yaml
from sanqin.simulation.gazebo.rehab import GZ_JOINT_STATES, SPAWN
from sanqin.simulation.gazebo.rehab_exo_patient_node import ExoPatientConfig, ExoPatientTwin
from sanqin.simulation.gazebo.score import score_bag
from sanqin.simulation.gazebo.twin import headless_simulator
from sanqin.simulation.rehab_exo import RehabExoSim

from .gazebo_rehab_helpers import StandIn, bag_strings, launch_nodes, parse, run_twin_graph

SHARE = share_dir()
GZ = SHARE / "sim" / "gazebo"


def _scenario(name: str):
    sc = load_scenario(SHARE / "sim" / "scenarios" / f"{name}.yaml")
    return sc, load_config(RehabExoSim.Config, sc.simulators[0].params)


def _js(q: float, qd: float = 0.0, t: float = 0.0, name: str = "r_elbow_flex") -> JointStates:
    return JointStates(stamp_s=t, names=(name,), position=np.array([q]), velocity=np.array([qd]), effort=np.zeros(0))


def test_shipped_params_file_builds_the_config() -> None:
    cfg = load_node_config(ExoPatientConfig, SHARE / "config" / "rehab_exo_patient.yaml", "rehab_exo_patient")
    assert cfg.joint == "r_elbow_flex" and cfg.spasm_at_s == ()
    with pytest.raises(ConfigError):
        load_config(ExoPatientConfig, {"offset_rad": math.nan})


@pytest.mark.parametrize("name", ["rehab_exo_safety", "rehab_exo_recovery"])
def test_forearm_is_the_headless_body_on_its_hinge_with_force_and_state_systems(name: str) -> None:
    sc, cfg = _scenario(name)
    sim = headless_simulator(sc, "exo")
    model = parse(GZ / "models" / f"{name}_forearm" / "model.sdf").find("model")
    (hinge,) = [j for j in model.findall("joint") if j.get("type") == "revolute"]
    assert hinge.get("name") == "r_elbow_flex" and hinge.findtext("parent") == "world"
    body = mujoco.mj_name2id(sim.m, mujoco.mjtObj.mjOBJ_BODY, "r_ulna_radius_hand")
    link = model.find("link[@name='r_ulna_radius_hand']")
    assert float(link.findtext("inertial/mass")) == pytest.approx(sim.m.body_mass[body])
    assert [float(v) for v in link.findtext("pose").split()[:3]] == pytest.approx(sim.d.xpos[body], abs=1e-9)
    limit = hinge.find("axis/limit")
    assert float(limit.findtext("lower")) == pytest.approx(0.0 - cfg.start_angle_rad)  # counted from the start
    assert [p.findtext("joint_name") for p in model.findall("plugin")
            if p.get("name") == "gz::sim::systems::ApplyJointForce"] == ["r_elbow_flex"]
    bridges = read_bridge_yaml((GZ / "bridge" / f"{name}.yaml").read_text())
    nodes = {n: (get_node_spec(e), remap) for e, n, _, remap in launch_nodes(name)}
    published = {resolve_name(remap.get(o.topic, o.topic), "", n): o.msg_type
                 for n, (spec, remap) in nodes.items() for o in spec.outputs}
    subscribed = {resolve_name(remap.get(i.topic, i.topic), "", n): i.msg_type
                  for n, (spec, remap) in nodes.items() for i in spec.inputs}
    (to_gz,) = [b for b in bridges if b.direction == ROS_TO_GZ]
    assert to_gz.gz_topic == f"/model/{SPAWN}/joint/r_elbow_flex/cmd_force"
    assert published[to_gz.ros_topic] == "std_msgs/msg/Float64"
    assert subscribed[GZ_JOINT_STATES] == "sensor_msgs/msg/JointState"
    for topic in (cfg.joint_states_topic, cfg.wrench_topic, cfg.effort_topic, cfg.target_topic, cfg.phase_topic):
        assert published[topic] == subscribed[topic], topic
    launch = parse(SHARE / "launch" / f"gz_{name}.launch.xml")
    (ex,) = [e for e in launch.findall("executable") if e.get("name") == "rehab_sessions"]
    assert "/rehab_exo/start" in ex.get("cmd") and "/rehab_exo/phase" in ex.get("cmd") or cfg.sessions == 1


def _node(**kw) -> ExoPatientTwin:
    return ExoPatientTwin(load_config(ExoPatientConfig, {"torque_noise_nm": 0.0, "offset_rad": 0.5, **kw}))


def test_muscle_torque_equals_mujocos_muscle_forces_over_a_trajectory() -> None:
    """Rigid forearm stepped without actuators + the node's muscle torque one step late ≈ the headless MuJoCo
    muscles stepping with the forearm (same patient, same excitations): the twin's split of the work."""
    sc, cfg = _scenario("rehab_exo_safety")
    sim = headless_simulator(sc, "exo")
    node = _node(patient={**sc.simulators[0].params["patient"], "tremor_nm": 0.0}, sessions=0)
    ref = ExoPatientTwin(node.config)  # the same patient model, driving MuJoCo's own muscles
    m_ref, d_ref = sim.m, mujoco.MjData(sim.m)
    d_ref.qpos[sim.qadr] = 0.5
    stand = StandIn(mujoco.MjModel.from_xml_path(str(_model_path())), d_ref.qpos.copy(), ("r_elbow_flex",),
                    np.array([0.5]), (), Graph())
    stand.m.opt.timestep = m_ref.opt.timestep
    for obj in (node, ref):
        obj.on_joint_states(_js(0.0, t=0.0), 0.0)
        obj.on_target(np.array([1.4, 0.0, 0.0]), 0.0)
        obj.on_phase("move", 0.0)
    tau = 0.0
    for k in range(1, 1001):
        t = k * 0.001
        # reference: MuJoCo's muscles, excitations from the same patient
        q, qd = float(d_ref.qpos[sim.qadr]), float(d_ref.qvel[sim.vadr])
        fl, ex = ref.patient.excitations(t, q, qd, 0.001, ref.flex_max, ref.ext_max)
        d_ref.ctrl[:] = 0.0
        d_ref.ctrl[sim.flex], d_ref.ctrl[sim.ext] = max(fl, 0.001), max(ex, 0.001)
        mujoco.mj_step(m_ref, d_ref)
        # twin: rigid body + the node's torque from the previous state
        stand.tau[:] = tau
        stand.step(t)
        out = node.on_joint_states(_js(float(stand.d.qpos[0]) - 0.5, float(stand.d.qvel[0]), t=t), t)
        tau = out["robot_effort_0"]
    assert float(d_ref.qpos[sim.qadr]) - 0.5 > 0.3  # the patient reached toward the target
    assert float(stand.d.qpos[0]) == pytest.approx(float(d_ref.qpos[sim.qadr]), abs=0.01)


def _model_path() -> Path:
    from sanqin.simulation.rehab_exo import myo_model_path

    return myo_model_path(ExoPatientConfig().myo_model)


def test_bad_input_is_rejected_and_the_motor_alone_is_applied() -> None:
    node = _node(drive_limit_nm=20.0)
    node.on_drive_0(50.0, 0.0)
    assert node.on_joint_states(_js(math.nan), 0.001) == {"robot_effort_0": 20.0}  # clipped motor, no muscles
    assert node.on_joint_states(_js(0.1, name="other"), 0.002) == {"robot_effort_0": 20.0}
    node.on_drive_0(math.inf, 0.0)
    node.on_drive_1(1.0, 0.0)  # one motor: a second drive is refused
    node.on_target(np.array([math.nan, 0.0, 0.0]), 0.0)
    out = node.on_joint_states(_js(0.1, t=0.003), 0.003)
    assert out["joint_states"].position == pytest.approx([0.6]) and out["joint_states"].effort == pytest.approx([0.0])
    assert out["wrench"].wrench.torque_nm[2] == pytest.approx(out["robot_effort_0"])  # the muscles, no motor
    c = node.counters
    assert c["rejected_joint_states"] == 2 and c["rejected_drive"] == 2 and c["rejected_target"] == 1


def test_generated_nodes_pass_the_exo_safety_scenario_on_a_rigid_body_stand_in(tmp_path: Path) -> None:
    sc, cfg = _scenario("rehab_exo_safety")
    sim = headless_simulator(sc, "exo")

    def stand_in(graph, params):
        m = mujoco.MjModel.from_xml_path(str(_model_path()))
        m.opt.timestep = cfg.physics_dt_s
        return StandIn(m, sim.d.qpos, ("r_elbow_flex",), np.array([params["offset_rad"]]),
                       ("/rehab/robot_effort_0",), graph)

    bag, started_at, _ = run_twin_graph("rehab_exo_safety", tmp_path, sc.duration_s, cfg.physics_dt_s, stand_in,
                                        "rehab_exo", 0.5)
    score = score_bag(sc, bag)
    assert score.passed, [text for ok, text in score.checks if not ok]
    assert all(text.startswith("nodes.rehab_exo.") for text in score.not_measured)
    safety = [json.loads(m)["kind"] for m in bag_strings(bag, "/rehab_exo/safety_events")]
    assert safety.count("spasm") == 1 and safety[-1] == "sensor_timeout"
    events = [json.loads(m) for m in bag_strings(bag, "/rehab_exo_patient/events")]
    (spasm,) = [e for e in events if e["kind"] == "spasm"]
    assert spasm["t_s"] == pytest.approx(started_at + 2.5 - 0.2, abs=2 * cfg.physics_dt_s)


def test_score_of_the_headless_exo_bag_matches_the_headless_metrics(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # fresh session files: the node continues from those under its session_dir
    sc, _ = _scenario("rehab_exo_safety")
    result = run_scenario(sc, tmp_path / "run", plots=False)
    got, ref = score_bag(sc, tmp_path / "run" / "bag").metrics, result.metrics
    for key in ("exo.rom_excursion_rad", "exo.torque_ratio"):
        assert got[key] == pytest.approx(ref[key], abs=2e-4), key
    assert got["exo.interaction_ratio"] == pytest.approx(ref["exo.interaction_ratio"], abs=0.03)  # 0.05 N·m noise
    assert got["exo.speed_ratio"] <= ref["exo.speed_ratio"] + 1e-9  # headless also measures in the dropout
    assert got["exo.spasm_hold_cycles"] - ref["exo.spasm_hold_cycles"] in (0.0, 1.0)
    assert got["exo.dropout_stop_s"] == pytest.approx(ref["exo.dropout_stop_s"], abs=sc.step_s + 1e-9)
    for key in ("exo.sessions_done", "exo.patient_strength", "exo.patient_spasticity"):
        assert got[key] == pytest.approx(ref[key]), key
    twins = yaml.safe_load((GZ / "twins.yaml").read_text())["twins"]
    assert any("muscle" in n for n in twins["rehab_exo_safety"]["fidelity_notes"])


def test_sensors_are_relayed_again_at_once_when_sim_time_goes_back() -> None:
    """Review fix: after a Gazebo reset the relay waited until the old sim time came back (sensors withheld)."""
    node = _node()
    for k in range(1, 1001):
        node.on_joint_states(_js(0.0, t=k * 0.001), k * 0.001)
    assert all("joint_states" in node.on_joint_states(_js(0.0, t=k * 0.001), k * 0.001) for k in range(1, 6))


def test_motor_reaches_gazebo_alone_when_joint_states_stop() -> None:
    """Review fix: without joint states nothing was published, so ApplyJointForce kept motor + muscles for ever."""
    node = _node(drive_limit_nm=20.0, state_timeout_s=0.05)
    node.on_joint_states(_js(0.1, t=1.0), 1.0)
    assert node.on_drive_0(5.0, 1.01) is None
    assert node.on_drive_0(50.0, 1.1) == {"robot_effort_0": 20.0}  # clipped motor alone, no muscle torque
