"""The rehab_robot node builds from its shipped params, serves a therapist's interface and fails safe."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from sanqin.common.types import JointStates, Wrench, WrenchStamped
from sanqin.msgs.geometry import wrench_stamped_to_msg
from sanqin.msgs.sensors import joint_state_to_msg
from sanqin.rehab_robot.errors import ProfileError, RehabError
from sanqin.rehab_robot.nodes import REHAB_ROBOT, RehabNode, RehabNodeConfig
from sanqin.rehab_robot.robots import make_robot
from sanqin.rehab_robot.session_log import read_session
from sanqin.runtime.errors import ConfigError
from sanqin.runtime.headless import Graph
from sanqin.runtime.params import load_node_config
from sanqin.runtime.paths import share_dir

from .rehab_helpers import REHAB_DATA

ROBOT = make_robot("planar")


def _config(tmp_path, **params):
    return load_node_config(RehabNodeConfig, share_dir() / "config" / "rehab_robot.yaml", "rehab_robot", "",
                            {"session_dir": str(tmp_path / "sessions"), "report_on_end": False, **params})


class Rig:
    """A headless graph with the node and a scripted sensor source (robot held still at x)."""

    def __init__(self, tmp_path, **params):
        self.g = Graph()
        self.node = self.g.add_node(REHAB_ROBOT, _config(tmp_path, **params))
        self.c = self.node.component
        self.f = self.g.bus.factory
        self.got: dict[str, list] = {}
        for topic, typ in (("/effort_commands", "std_msgs/msg/Float64MultiArray"),
                           ("/rehab_robot/safety", "diagnostic_msgs/msg/DiagnosticArray"),
                           ("/rehab_robot/safety_events", "std_msgs/msg/String"),
                           ("/rehab_robot/target", "geometry_msgs/msg/PointStamped"),
                           ("/rehab_robot/phase", "std_msgs/msg/String"),
                           ("/rehab_robot/live_metrics", "diagnostic_msgs/msg/DiagnosticArray")):
            self.g.bus.subscribe(topic, typ, lambda m, t=topic: self.got.setdefault(t, []).append(m))
        self.t = 0.0
        self.x = np.array([0.0, 0.38])

    def send(self, force=(0.0, 0.0), names=("r_shoulder", "r_elbow")):
        q = ROBOT.inverse(self.x)
        js = JointStates(stamp_s=self.t, names=names, position=q, velocity=np.zeros(2))
        self.g.bus.publish("/joint_states", joint_state_to_msg(js, self.f))
        w = WrenchStamped(stamp_s=self.t, frame_id="rehab_base",
                          wrench=Wrench(force_n=np.array([force[0], force[1], 0.0])))
        self.g.bus.publish("/wrench", wrench_stamped_to_msg(w, self.f))

    def run(self, seconds, **kw):
        for _ in range(int(round(seconds / 0.001))):
            self.t += 0.001
            self.send(**kw)
            self.g.advance_to(self.t)

    def state(self):
        msg = self.got["/rehab_robot/safety"][-1]
        return {kv.key: kv.value for kv in msg.status[0].values}["state"]


def test_node_builds_from_the_shipped_params_file(tmp_path) -> None:
    cfg = _config(tmp_path)
    assert cfg.robot == "planar" and cfg.control_period_s == 0.001 and cfg.supervisor.sensor_timeout_s == 0.02
    RehabNode(cfg)


def test_bad_node_configs_are_rejected_at_load(tmp_path) -> None:
    with pytest.raises(ConfigError, match="joint_names"):
        _config(tmp_path, joint_names=["a"])
    with pytest.raises(ConfigError, match="interaction_axes"):
        _config(tmp_path, interaction_axes=["force.x", "force.w"])
    with pytest.raises(ConfigError, match="sensor_timeout_s"):  # every tick would look like a sensor timeout
        _config(tmp_path, control_period_s=0.015)
    with pytest.raises(ConfigError, match="max_clock_jump_s"):
        _config(tmp_path, **{"supervisor.max_clock_jump_s": 0.001})
    exo = yaml.safe_load((REHAB_DATA / "profile_exo_example.yaml").read_text())
    p = tmp_path / "exo_profile.yaml"
    p.write_text(yaml.safe_dump(exo))
    with pytest.raises(ProfileError, match="profile is for robot"):  # an exo profile on the planar robot
        RehabNode(_config(tmp_path, profile_file=str(p)))
    bad = yaml.safe_load((REHAB_DATA / "profile_planar_example.yaml").read_text())
    bad["max_speed"] = 3.0
    p = tmp_path / "bad_profile.yaml"
    p.write_text(yaml.safe_dump(bad))
    with pytest.raises(ProfileError, match="exceeds the hardware limit"):
        RehabNode(_config(tmp_path, profile_file=str(p)))


def test_therapist_services_run_a_recorded_session(tmp_path) -> None:
    rig = Rig(tmp_path)
    assert not rig.node.call_service("~/start").success  # no sensor data yet
    assert "/effort_commands" not in rig.got  # nothing commanded before sensors flow
    rig.run(0.05)
    res = rig.node.call_service("~/start")
    assert res.success and "session started" in res.message
    assert not rig.node.call_service("~/start").success  # already running
    rig.run(0.3)
    assert rig.got["/rehab_robot/phase"][-1].data == "move"
    assert rig.got["/rehab_robot/target"][-1].point.x == pytest.approx(0.10)
    assert rig.node.call_service("~/mode/resistive").success and rig.c.session.mode == "resistive"
    assert rig.node.call_service("~/mode/plan").success and rig.c.session.mode == "active_assist"
    assert rig.node.call_service("~/pause", True).success
    rig.run(0.1)
    assert rig.c.session.phase == "paused"
    assert rig.node.call_service("~/pause", False).success
    rig.run(0.6)
    live = {kv.key: kv.value for kv in rig.got["/rehab_robot/live_metrics"][-1].status[0].values}
    assert live["safety_state"] == "RUN" and "assist_gain" in live and "phase" in live
    assert rig.node.call_service("~/stop").success
    assert rig.c.session.phase == "stopped"
    assert not rig.node.call_service("~/stop").success  # already stopped
    got = read_session(rig.c.session_file)
    assert got.problems == [] and got.header["patient_id"] == "SIM-PLANAR-01"
    types = {r["type"] for r in got.records}
    assert {"session_start", "phase", "mode", "sample", "trial", "session_end"} <= types
    assert got.of_type("trial")[0]["aborted"] == "paused by therapist"


def test_nan_force_message_leads_to_a_safe_stop_with_finite_effort(tmp_path) -> None:
    rig = Rig(tmp_path)
    rig.run(0.05)
    rig.node.call_service("~/start")
    rig.run(0.05)
    rig.run(0.002, force=(np.nan, 0.0))
    assert rig.state() == "STOP"
    events = [json.loads(m.data) for m in rig.got["/rehab_robot/safety_events"]]
    assert events[-1]["kind"] == "non_finite_sensor"
    assert all(np.all(np.isfinite(m.data)) for m in rig.got["/effort_commands"])
    assert rig.c.session.phase == "paused"
    rig.run(0.05)  # good data again: still latched until a reset
    assert rig.state() == "STOP"
    assert rig.node.call_service("~/reset_safety").success
    rig.run(0.01)
    assert rig.state() == "RUN"
    trials = read_session(rig.c.session_file)
    assert any(r["type"] == "safety" and r["kind"] == "non_finite_sensor" for r in trials.records)


def test_clock_jump_and_sensor_timeout_through_the_node(tmp_path) -> None:
    rig = Rig(tmp_path)
    rig.run(0.05)
    rig.c.tick(rig.t + 1.0)  # the node clock leaps a second (e.g. a time source reset)
    assert rig.c.supervisor.state.name == "STOP"
    assert rig.c.supervisor.events[-1].kind in ("clock_jump", "sensor_timeout")
    assert any(e.kind == "clock_jump" for e in rig.c.supervisor.events)
    rig2 = Rig(tmp_path / "b")
    rig2.run(0.05)
    for _ in range(30):  # sensors go silent, the control timer keeps running
        rig2.t += 0.001
        rig2.g.advance_to(rig2.t)
    assert rig2.state() == "STOP" and rig2.c.supervisor.events[-1].kind == "sensor_timeout"


def test_malformed_and_out_of_order_samples_are_rejected_not_fatal(tmp_path) -> None:
    rig = Rig(tmp_path)
    rig.run(0.01)
    rig.run(0.005, names=("r_shoulder", "wrist"))
    assert rig.c.samples_rejected == 5 and rig.node.host.counters["domain_errors"] == 5
    q = ROBOT.inverse(rig.x)
    old = JointStates(stamp_s=0.0, names=("r_shoulder", "r_elbow"), position=q, velocity=np.zeros(2))
    rig.g.bus.publish("/joint_states", joint_state_to_msg(old, rig.f))
    rig.g.advance_to(rig.t + 0.0005)
    assert rig.c.samples_rejected == 6


def test_estop_latches_and_needs_release_then_reset(tmp_path) -> None:
    rig = Rig(tmp_path)
    rig.run(0.02)
    rig.g.bus.publish("/estop", rig.f.new("std_msgs/msg/Bool", data=True))
    rig.run(0.01)
    assert rig.state() == "ESTOP" and np.all(rig.got["/effort_commands"][-1].data == 0.0)
    res = rig.node.call_service("~/reset_safety")
    assert not res.success and "still pressed" in res.message
    assert not rig.node.call_service("~/start").success  # no session while stopped
    rig.g.bus.publish("/estop", rig.f.new("std_msgs/msg/Bool", data=False))
    rig.run(0.01)
    assert rig.state() == "ESTOP"
    assert rig.node.call_service("~/reset_safety").success
    rig.run(0.01)
    assert rig.state() == "RUN"
    assert rig.node.call_service("~/estop", True).success
    rig.run(0.002)
    assert rig.state() == "ESTOP"


def test_bci_confidence_triggers_the_reach(tmp_path) -> None:
    plan = yaml.safe_load((REHAB_DATA / "plan_center_out.yaml").read_text())
    plan["blocks"][0].update(trigger="bci", trigger_timeout_s=10.0)
    p = tmp_path / "plan.yaml"
    p.write_text(yaml.safe_dump(plan))
    rig = Rig(tmp_path, plan_file=str(p))
    rig.run(0.02)
    rig.node.call_service("~/start")
    rig.run(0.3)
    assert rig.c.session.phase == "wait"
    for _ in range(700):
        rig.g.bus.publish("/bci_confidence", rig.f.new("std_msgs/msg/Float64", data=0.9))
        rig.run(0.001)
        if rig.c.session.phase == "move":
            break
    assert rig.c.session.phase == "move" and rig.c.session._trigger_cause == "BCI motor imagery"


def test_session_end_writes_a_report_and_emg_onset_starts_reaches(tmp_path) -> None:
    plan = yaml.safe_load((REHAB_DATA / "plan_center_out.yaml").read_text())
    plan["blocks"][0].update(trials=1, trigger="emg", trigger_timeout_s=10.0, movement_time_s=0.5, rest_s=0.0)
    p = tmp_path / "plan.yaml"
    p.write_text(yaml.safe_dump(plan))
    rig = Rig(tmp_path, plan_file=str(p), report_on_end=True)
    rig.run(0.02)
    rig.node.call_service("~/start")
    rng = np.random.default_rng(1)
    for _ in range(300):  # rest EMG calibrates the onset detector (200 samples)
        rig.g.bus.publish("/emg", rig.f.new("std_msgs/msg/Float64", data=0.05 + 0.005 * rng.standard_normal()))
        rig.run(0.001)
    assert rig.c.session.phase == "wait"
    for _ in range(100):
        rig.g.bus.publish("/emg", rig.f.new("std_msgs/msg/Float64", data=0.4))
        rig.run(0.001)
    assert rig.c.session.phase == "move" and rig.c.session._trigger_cause == "EMG onset"
    rig.run(1.0)
    assert rig.c.session.phase == "done" and rig.c.recorder is None
    report = rig.c.session_file.with_suffix("") / "report.md"
    assert report.is_file() and "EMG onset" in report.read_text()


def test_software_estop_release_does_not_release_the_estop_input(tmp_path) -> None:
    rig = Rig(tmp_path)
    rig.run(0.02)
    rig.g.bus.publish("/estop", rig.f.new("std_msgs/msg/Bool", data=True))  # the button is held
    rig.run(0.002)
    assert rig.node.call_service("~/estop", True).success
    res = rig.node.call_service("~/estop", False)  # a therapist's screen releases its software e-stop
    assert res.success and "still pressed" in res.message
    res = rig.node.call_service("~/reset_safety")
    assert not res.success and "still pressed" in res.message
    rig.run(0.01)
    assert rig.state() == "ESTOP" and np.all(rig.got["/effort_commands"][-1].data == 0.0)
    rig.g.bus.publish("/estop", rig.f.new("std_msgs/msg/Bool", data=False))
    rig.run(0.002)
    assert rig.node.call_service("~/reset_safety").success


def test_repeated_or_non_finite_stamps_are_not_fresh_data(tmp_path) -> None:
    rig = Rig(tmp_path)
    rig.run(0.02)
    frozen = rig.t
    for _ in range(30):  # a driver stuck re-publishing its last sample: the watchdog must still trip
        rig.t += 0.001
        t_now, rig.t = rig.t, frozen
        rig.send()
        rig.t = t_now
        rig.g.advance_to(rig.t)
    assert rig.state() == "STOP" and rig.c.supervisor.events[-1].kind == "sensor_timeout"
    rejected = rig.c.samples_rejected
    q = ROBOT.inverse(rig.x)
    nan_stamp = JointStates(stamp_s=float("nan"), names=("r_shoulder", "r_elbow"), position=q, velocity=np.zeros(2))
    with pytest.raises(RehabError, match="not finite"):  # a NaN stamp must not disable the ordering check
        rig.c.on_joint_states(nan_stamp, rig.t)
    assert rig.c.samples_rejected == rejected + 1


def test_a_failing_controller_cannot_skip_the_supervisor(tmp_path, monkeypatch) -> None:
    rig = Rig(tmp_path)
    rig.run(0.02)
    rig.node.call_service("~/start")
    rig.run(0.02)

    def broken(*args, **kwargs):
        raise ZeroDivisionError("controller bug")

    monkeypatch.setattr(rig.c.session, "step", broken)
    n = len(rig.got["/effort_commands"])
    rig.run(0.002)
    assert len(rig.got["/effort_commands"]) == n + 2  # an effort command every cycle, decided by the supervisor
    assert rig.state() == "STOP" and rig.c.supervisor.events[-1].kind == "non_finite_command"
    assert all(np.all(np.isfinite(m.data)) for m in rig.got["/effort_commands"])
    assert rig.c.metrics()["controller_errors"] == 2


def test_a_missing_older_session_file_does_not_block_new_sessions(tmp_path) -> None:
    rig = Rig(tmp_path)
    rig.run(0.02)
    for _ in range(2):
        assert rig.node.call_service("~/start").success
        rig.run(0.01)
        assert rig.node.call_service("~/stop").success
    first, second = sorted(rig.c.session_file.parent.glob("*.jsonl"))
    first.unlink()  # a therapist archived the first session
    res = rig.node.call_service("~/start")
    assert res.success, res.message
    assert rig.c.session_file.name == "session_002.jsonl" and second.is_file()
