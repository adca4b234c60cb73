"""rehab_patient: the cuff as joint torques equals MuJoCo's applied cuff force, faults on the session clock, gating,
bad input."""

from __future__ import annotations

import json
import math

import mujoco
import numpy as np
import pytest

from sanqin.common.types import JointStates
from sanqin.runtime.config import load_config
from sanqin.runtime.errors import ConfigError
from sanqin.runtime.params import load_node_config
from sanqin.runtime.paths import resolve_data_path, share_dir
from sanqin.simulation.gazebo.rehab_nodes import REHAB_PATIENT
from sanqin.simulation.gazebo.rehab_patient_node import RehabPatientConfig, RehabPatientTwin, planar_chain
from sanqin.simulation.rehab_patient import ImpairedPatient, PatientConfig

SHARE = share_dir()
JOINTS = ("r_shoulder", "r_elbow", "h_shoulder", "h_elbow")


def _config(**kw) -> RehabPatientConfig:
    return load_config(RehabPatientConfig, {"force_noise_n": 0.0, **kw})


def _js(q, qd=(0.0, 0.0, 0.0, 0.0), t: float = 0.0, names=JOINTS) -> JointStates:
    return JointStates(stamp_s=t, names=tuple(names), position=np.asarray(q, float), velocity=np.asarray(qd, float),
                       effort=np.zeros(0))


def test_shipped_params_file_builds_the_config() -> None:
    cfg = load_node_config(RehabPatientConfig, SHARE / "config" / "rehab_patient.yaml", "rehab_patient")
    assert cfg.robot_joints == ("r_shoulder", "r_elbow") and cfg.spasm_at_s == ()


@pytest.mark.parametrize("bad", [{"robot_joints": ["a"]}, {"drive_limits_nm": [30.0]}, {"arm_links_m": [0.3]},
                                 {"spasm_at_s": [-1.0]}, {"robot_offsets_rad": [float("nan"), 0.0]}])
def test_bad_configs_are_rejected_at_load(bad) -> None:
    with pytest.raises(ConfigError):
        _config(**bad)


def test_cuff_torques_equal_mujocos_applied_cuff_force() -> None:
    """The node's cuff (J^T f on each chain) is what the headless plugin applies with mj_applyFT."""
    m = mujoco.MjModel.from_xml_path(str(resolve_data_path("sim/mujoco/rehab_planar.xml")))
    d = mujoco.MjData(m)
    cfg = _config(patient={"tremor_nm": 0.0, "passive_damping_nms_rad": 0.0, "strength": 0.0})
    node = RehabPatientTwin(cfg)
    rng = np.random.default_rng(3)
    hand = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SITE, "hand")
    handle = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SITE, "handle")
    link2 = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, "robot_link2")
    forearm = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, "forearm")
    for k in range(5):
        d.qpos[:] = [2.5, -2.0, 2.6, -1.9] + rng.normal(0, 0.05, 4)
        d.qvel[:] = rng.normal(0, 0.5, 4)
        mujoco.mj_forward(m, d)
        jp = np.zeros((3, m.nv)), np.zeros((3, m.nv))
        mujoco.mj_jacSite(m, d, jp[0], jp[1], hand)
        v_hand = (jp[0] @ d.qvel)[:2]
        mujoco.mj_jacSite(m, d, jp[0], jp[1], handle)
        v_handle = (jp[0] @ d.qvel)[:2]
        f = 2500.0 * (d.site_xpos[hand][:2] - d.site_xpos[handle][:2]) + 25.0 * (v_hand - v_handle)
        qfrc = np.zeros(m.nv)
        f3 = np.array([f[0], f[1], 0.0])
        mujoco.mj_applyFT(m, d, f3, np.zeros(3), d.site_xpos[handle].copy(), link2, qfrc)
        mujoco.mj_applyFT(m, d, -f3, np.zeros(3), d.site_xpos[hand].copy(), forearm, qfrc)
        out = node.on_joint_states(_js(d.qpos, d.qvel, t=0.001 * (k + 1)), 0.001 * (k + 1))
        assert [out["robot_effort_0"], out["robot_effort_1"]] == pytest.approx(qfrc[:2], abs=1e-9)
        assert [out["patient_effort_0"], out["patient_effort_1"]] == pytest.approx(qfrc[2:], abs=1e-9)
        assert out["~/cuff_wrench"].wrench.force_n[:2] == pytest.approx(f)


def test_offsets_are_added_and_the_drive_is_clipped_and_summed() -> None:
    cfg = _config(robot_offsets_rad=[0.5, -1.0], patient_offsets_rad=[0.4, -0.9], drive_limits_nm=[30.0, 20.0])
    node = RehabPatientTwin(cfg)
    node.on_drive_0(50.0, 0.0)  # beyond the motor range
    node.on_drive_1(-5.0, 0.0)
    out = node.on_joint_states(_js([0.0, 0.0, 0.0, 0.0], t=0.001), 0.001)
    js = out["joint_states"]
    assert js.position == pytest.approx([0.5, -1.0]) and js.names == ("r_shoulder", "r_elbow")
    assert js.effort == pytest.approx([30.0, -5.0])  # the applied drive torque, as headless
    x_r, j_r = planar_chain(np.zeros(2), np.array([0.35, 0.35]), np.array([0.5, -1.0]))
    x_h, _ = planar_chain(np.array([0.0, 0.02]), np.array([0.30, 0.33]), np.array([0.4, -0.9]))
    tau = np.array([30.0, -5.0]) + j_r.T @ (2500.0 * (x_h - x_r))
    assert [out["robot_effort_0"], out["robot_effort_1"]] == pytest.approx(tau)


def test_patient_follows_target_and_phase_and_recovers_between_sessions() -> None:
    cfg = _config(sessions=3, first_session=0, patient={"strength": 0.2, "strength_recovered": 0.8})
    node = RehabPatientTwin(cfg)
    q0 = [2.5678, -1.9939, 2.6035, -1.9284]
    node.on_target(np.array([0.1, 0.45, 0.0]), 0.0)  # before any state: kept
    node.on_joint_states(_js(q0, t=0.001), 0.001)
    assert node.patient._target == pytest.approx([0.1, 0.45])
    node.on_phase("wait", 0.3)
    node.on_joint_states(_js(q0, t=0.5), 0.7)  # the node clock lags or leads: the patient's time is the stamp
    node.on_phase("move", 0.52)
    assert node.patient._plan is not None and node.patient._plan[2] == pytest.approx(0.5 + cfg.patient.reaction_time_s)
    ref = ImpairedPatient(load_config(PatientConfig, {"strength": 0.2, "strength_recovered": 0.8}), np.zeros(2), 0)
    out = node.on_phase("done", 5.0)
    ref.set_session(1)
    assert node.patient.strength == pytest.approx(ref.strength) and node.sessions_done == 1
    assert json.loads(out["~/events"][0])["kind"] == "recovery"
    node.on_phase("wait", 6.0)
    node.on_phase("done", 9.0)
    node.on_phase("wait", 10.0)
    node.on_phase("done", 14.0)  # the last session: no recovery after it (as the harness)
    ref.set_session(2)
    assert node.session_k == 3 and node.patient.strength == pytest.approx(ref.strength)


def test_faults_count_from_the_first_session_start() -> None:
    """A session started 1.3 s late (service call latency) moves the spasm and the dropout with it."""
    cfg = _config(spasm_at_s=[0.9], dropout_at_s=2.0, dropout_s=0.3, start_at_s=0.2, relay_period_s=0.001)
    node = RehabPatientTwin(cfg)
    q0 = [2.5678, -1.9939, 2.6035, -1.9284]
    t, spasms, gaps, kinds = 0.0, [], [], []
    for k in range(1, 3700):
        t = k * 0.001
        if k == 1500:
            out = node.on_phase("wait", t + 0.05)  # node clock: ignored once Gazebo's stamps flow (t - 0.001)
            assert json.loads(out["~/events"][0])["fault_clock_offset_s"] == pytest.approx(1.299)
        out = node.on_joint_states(_js(q0, t=t), t) or {}
        kinds += [json.loads(e)["kind"] for e in out.get("~/events", [])]
        if any(json.loads(e)["kind"] == "spasm" for e in out.get("~/events", [])):
            spasms.append(t)
        if "joint_states" not in out:
            gaps.append(t)
    assert spasms == pytest.approx([2.199])  # 0.9 - 0.2 s after the session start seen at 1.499 s
    assert node.patient.spasm_until == pytest.approx(2.199 + cfg.patient.spasm_duration_s)
    assert gaps[0] == pytest.approx(3.299) and gaps[-1] == pytest.approx(3.598) and len(gaps) == 300  # 2.0-0.2 s on
    assert kinds == ["spasm", "dropout_start", "dropout_end"]


def test_dropout_withholds_both_sensors_but_not_the_torques_or_the_ground_truth() -> None:
    cfg = _config(dropout_at_s=0.5, dropout_s=0.1, start_at_s=0.0, sessions=0)
    node = RehabPatientTwin(cfg)
    q0 = [2.5678, -1.9939, 2.6035, -1.9284]
    relayed, torques, truth = [], 0, 0
    for k in range(1, 1000):
        t = k * 0.001
        out = node.on_joint_states(_js(q0, t=t), t)
        torques += "robot_effort_0" in out and "patient_effort_1" in out
        truth += "~/cuff_wrench" in out
        if "joint_states" in out:
            assert "wrench" in out
            relayed.append(t)
    assert torques == truth == 999
    missing = sorted(set(np.round(np.arange(1, 1000) * 0.001, 6)) - set(np.round(relayed, 6)))
    assert missing[0] == pytest.approx(0.5) and missing[-1] == pytest.approx(0.599) and len(missing) == 100
    assert node.metrics()["withheld"] == 100


def test_relay_period_decimates_the_sensors() -> None:
    node = RehabPatientTwin(_config(relay_period_s=0.002))
    q0 = [2.5678, -1.9939, 2.6035, -1.9284]
    n = sum("joint_states" in node.on_joint_states(_js(q0, t=k * 0.001), k * 0.001) for k in range(1, 101))
    assert n == 50


@pytest.mark.parametrize("bad", [
    _js([math.nan, 0.0, 0.0, 0.0]),
    _js([0.0, 0.0, 0.0, 0.0], [0.0, math.inf, 0.0, 0.0]),
    _js([0.0, 0.0, 0.0], names=JOINTS[:3]),
    JointStates(stamp_s=0.0, names=JOINTS, position=np.zeros(4), velocity=np.zeros(0), effort=np.zeros(0)),
])
def test_bad_joint_states_give_the_drive_only_and_no_patient_torque(bad) -> None:
    node = RehabPatientTwin(_config())
    node.on_drive_0(3.0, 0.0)
    node.on_drive_1(math.nan, 0.0)  # a non-finite drive value is no torque
    out = node.on_joint_states(bad, 0.001)
    assert out == {"robot_effort_0": 3.0, "robot_effort_1": 0.0, "patient_effort_0": 0.0, "patient_effort_1": 0.0}
    assert node.counters["rejected_joint_states"] == 1 and node.counters["rejected_drive"] == 1
    assert node.diagnostics()[0].level.name == "WARN"


def test_bad_targets_are_refused() -> None:
    node = RehabPatientTwin(_config())
    node.on_target(np.array([math.nan, 0.4, 0.0]), 0.0)
    node.on_target(np.array([0.1]), 0.0)
    assert node.counters["rejected_target"] == 2 and node.pending_target is None


def test_node_spec_runs_in_the_headless_graph() -> None:
    """Messages in and out through the declared converters (JointState, Float64, PointStamped, String)."""
    from sanqin.msgs.factory import default_factory
    from sanqin.msgs.sensors import joint_state_to_msg
    from sanqin.runtime.headless import Graph

    g = Graph()
    cfg = _config(force_noise_n=0.1)
    node = g.add_node(REHAB_PATIENT, cfg, remap={"joint_states_in": "/gz/js"})
    got: dict[str, list] = {}
    for topic, typ in (("/robot_effort_0", "std_msgs/msg/Float64"), ("/wrench", "geometry_msgs/msg/WrenchStamped"),
                       ("/joint_states", "sensor_msgs/msg/JointState"), ("/rehab_patient/events",
                                                                             "std_msgs/msg/String")):
        g.bus.subscribe(topic, typ, lambda msg, topic=topic: got.setdefault(topic, []).append(msg))
    f = default_factory()
    g.bus.publish("/phase", f.new("std_msgs/msg/String", data="wait"))
    g.bus.publish("/target", f.new("geometry_msgs/msg/PointStamped", point=f.new("geometry_msgs/msg/Point", x=0.1,
                                                                                   y=0.4, z=0.0)))
    g.bus.publish("/gz/js", joint_state_to_msg(_js([2.5, -2.0, 2.6, -1.9], t=0.001), f))
    g.advance_to(0.001)
    assert len(got["/robot_effort_0"]) == len(got["/wrench"]) == len(got["/joint_states"]) == 1
    assert json.loads(got["/rehab_patient/events"][0].data)["kind"] == "session_start"
    assert got["/wrench"][0].header.frame_id == "rehab_base"
    assert node.component.patient._target == pytest.approx([0.1, 0.4])


def test_sensors_are_relayed_again_at_once_when_sim_time_goes_back() -> None:
    """Review fix: after a Gazebo reset (stamps restart near 0) the relay waited until the old time came back,
    withholding joint states and wrench for as long as the run had lasted (a sensor timeout in the therapy node)."""
    node = RehabPatientTwin(_config(relay_period_s=0.001))
    q0 = [2.5678, -1.9939, 2.6035, -1.9284]
    for k in range(1, 3001):
        node.on_joint_states(_js(q0, t=k * 0.001), k * 0.001)
    relayed = [("joint_states" in node.on_joint_states(_js(q0, t=k * 0.001), k * 0.001)) for k in range(1, 11)]
    assert all(relayed) and node.counters["relayed"] == 3010


def test_absurd_finite_states_never_give_a_non_finite_torque() -> None:
    """Review fix: a finite joint speed that overflows the cuff force (1e308 rad/s) sent inf/NaN torques into
    Gazebo; such a state is rejected like a NaN one (drive only, no patient torque)."""
    node = RehabPatientTwin(_config())
    node.on_drive_0(3.0, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        out = node.on_joint_states(_js([2.5, -2.0, 2.6, -1.9], [0.0, 0.0, 1e308, 0.0], t=0.001), 0.001)
    efforts = {k: v for k, v in out.items() if "effort" in k}
    assert efforts == {"robot_effort_0": 3.0, "robot_effort_1": 0.0, "patient_effort_0": 0.0, "patient_effort_1": 0.0}
    assert node.counters["rejected_joint_states"] == 1


def test_drive_reaches_gazebo_alone_when_joint_states_stop() -> None:
    """Review fix: torques went out only in answer to a joint state, and ApplyJointForce keeps the last one — when
    Gazebo's states stopped (bridge stalled), the drive's stop after the therapy node's sensor timeout never
    reached the robot, which kept the last drive + cuff torque for ever. Now a drive input after state_timeout_s
    without a state is passed on alone (clipped), the arm gets no torque."""
    node = RehabPatientTwin(_config(state_timeout_s=0.05, drive_limits_nm=[30.0, 20.0]))
    q0 = [2.5678, -1.9939, 2.6035, -1.9284]
    node.on_joint_states(_js(q0, t=1.0), 1.0)
    assert node.on_drive_0(5.0, 1.01) is None  # states are fresh: the next state's answer carries it
    assert node.on_drive_1(50.0, 1.06) == {"robot_effort_0": 5.0, "robot_effort_1": 20.0, "patient_effort_0": 0.0,
                                           "patient_effort_1": 0.0}
    assert node.on_drive_0(0.0, 1.2)["robot_effort_0"] == 0.0  # the split's hold value: the robot stops
    assert "robot_effort_0" in node.on_joint_states(_js(q0, t=1.201), 1.201)  # states return: answered again
    assert node.on_drive_0(1.0, 1.21) is None
