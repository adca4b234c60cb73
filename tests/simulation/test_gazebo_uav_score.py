"""The UAV twins' scorer: vehicle.* metrics from the bridge's topics agree with the headless simulator's own.

Every UAV scenario runs headless once (a few seconds each); its bag is scored as a Gazebo run's would be, and
the bag is then damaged (NaN positions, malformed states, missing topics, a link that never returns, a
truncated or corrupted file) to check the scorer degrades to "not measured" or a ScoreError, never a crash.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from sanqin.msgs.factory import default_factory
from sanqin.runtime.paths import share_dir
from sanqin.runtime.runner import run_scenario
from sanqin.runtime.scenario import load_scenario
from sanqin.simulation.gazebo import uav_score
from sanqin.simulation.gazebo.errors import ScoreError
from sanqin.simulation.gazebo.score import Bag, score_bag
from sanqin.simulation.gazebo.twin import exporter

SHARE = share_dir()
SCENARIOS = ("uav_spraying", "uav_corridor_inspection", "uav_link_loss", "uav_gcs_link_loss", "uav_low_battery",
             "uav_mission_rejected")
#: Absolute tolerances where the bridge's view is sampled (state 2 Hz, heartbeat 1 Hz, odometry 10 Hz,
#: battery in 1 % and millivolt steps); every other metric must be equal.
ABS = {"armed_s": 1.0, "battery_min_soc": 0.0101, "battery_voltage_v": 0.02, "distance_from_home_m": 0.05,
       "distance_from_return_point_m": 0.05, "max_alt_m": 0.05, "link_down_s": 0.1, "spray_outside_field_m": 1.0}
#: Relative tolerances: path lengths from 10 Hz odometry (headless: every 0.02 s physics step); the headless
#: inside/outside split uses a 0.5 s track and drops the piece around each pump switch (about 1 %).
REL = {"flown_m": 0.01, "sprayed_m": 0.01, "spray_inside_field_m": 0.02}
NOT_MEASURED = {"photos", "photo_spacing_mean_m", "photo_spacing_max_m", "failsafe_events", "failsafe_gcs",
                "failsafe_battery", "gcs_heartbeats", "rx_bad_frames", "field_area_m2"}
#: The bridge never set FENCE_ENABLE (the sequence stopped at the refused upload): the autopilot's value is unknown.
UNSEEN = {"uav_mission_rejected": {"fence_enabled"}}
#: Integrated over the track: unknown across a link outage.
TRACK = {"flown_m", "max_alt_m", "max_fence_violation_m", "fence_breaches", "sprayed_m", "spray_switches",
         "spray_inside_field_m", "spray_outside_field_m"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Any, Path]]:
    out = {}
    for name in SCENARIOS:
        sc = load_scenario(SHARE / "sim" / "scenarios" / f"{name}.yaml")
        run_dir = tmp_path_factory.mktemp(name) / "run"
        out[name] = (sc, run_scenario(sc, run_dir, plots=False), run_dir / "bag")
    return out


def _vehicle(metrics: dict[str, float]) -> dict[str, float]:
    return {k.removeprefix("vehicle."): v for k, v in metrics.items() if k.startswith("vehicle.")}


def test_the_uav_exporter_scores_with_uav_score() -> None:
    assert exporter("sanqin.simulation.multicopter.plugin:MulticopterSim").score is uav_score.score


@pytest.mark.parametrize("name", SCENARIOS)
def test_bag_score_matches_the_headless_metrics(runs, name: str) -> None:
    sc, result, bag = runs[name]
    score = score_bag(sc, bag)
    got, ref = _vehicle(score.metrics), _vehicle(result.metrics)
    outage = ref["link_down_s"] > 0
    unseen = NOT_MEASURED | (TRACK if outage else set()) | UNSEEN.get(name, set())
    assert set(ref) - set(got) == unseen & set(ref)
    assert set(got) <= set(ref)
    for key, value in got.items():
        assert math.isfinite(value), key
        if key in REL:
            assert value == pytest.approx(ref[key], rel=REL[key], abs=1e-6), key
        else:
            assert value == pytest.approx(ref[key], abs=ABS.get(key, 1e-6)), key
    # the verdict on what was measured is the headless one, and only the documented criteria go unmeasured
    assert score.passed == result.passed
    assert {text for ok, text in score.checks if not ok} == set()
    unmeasured = {t.split()[0].removeprefix("vehicle.") for t in score.not_measured if t.startswith("vehicle.")}
    assert unmeasured <= NOT_MEASURED


def test_scenario_facts_are_really_measured(runs) -> None:
    """The numbers that make each scenario's story, not just agreement: a sign that nothing is vacuous."""
    m = _vehicle(score_bag(*runs["uav_spraying"][::2]).metrics)
    assert m["spray_switches"] == 20 and m["spray_inside_field_m"] > 1000 and m["spray_outside_field_m"] == 0
    assert m["mission_complete"] == 1 and m["items_reached"] == m["mission_items"] == 48
    assert m["fence_enabled"] == 1 and m["rally_items"] == 1 and m["fence_items"] == 4
    link = _vehicle(score_bag(*runs["uav_link_loss"][::2]).metrics)
    assert link["link_down_s"] == pytest.approx(60.0, abs=0.1)
    assert link["items_reached_link_down"] >= 1 and link["mission_complete"] == 0
    gcs = _vehicle(score_bag(*runs["uav_gcs_link_loss"][::2]).metrics)
    assert gcs["link_down_s"] == pytest.approx(30.0, abs=0.1) and gcs["items_reached_link_down"] == 0
    rejected = _vehicle(score_bag(*runs["uav_mission_rejected"][::2]).metrics)
    assert rejected["mission_uploads_failed"] == 1 and rejected["mission_items"] == 0
    assert rejected["armed_s"] == 0 and rejected["flown_m"] == 0


def test_spraying_outside_the_field_is_seen(runs) -> None:
    """The same flight judged against a field 60 m further east: the passes now run partly outside it."""
    sc, _, bag = runs["uav_spraying"]
    sim = sc.simulators[0]
    poly = list(sim.params["field_polygon"])
    shifted = [v + (0.00088 if i % 2 else 0.0) for i, v in enumerate(poly)]  # ~60 m of longitude at 52°N
    moved = replace(sc, simulators=(replace(sim, params={**sim.params, "field_polygon": shifted}),))
    score = score_bag(moved, bag)
    m = _vehicle(score.metrics)
    assert m["spray_outside_field_m"] > 100
    assert m["spray_inside_field_m"] + m["spray_outside_field_m"] == pytest.approx(m["sprayed_m"])
    assert not score.passed
    assert any("spray_outside_field_m" in text for ok, text in score.checks if not ok)


def _copy_bag(src: Path, dst: Path, edit: Callable[[str, float, Any], Any], clock_hz: float = 0.0) -> Path:
    """A copy of an MCAP bag with each message passed through ``edit(topic, t, msg)`` (None drops it), and a
    ``/clock`` at ``clock_hz`` as a Gazebo recording has (0: none, as the headless runner's)."""
    from rosbags.rosbag2 import Reader, StoragePlugin, Writer

    f = default_factory()
    with Reader(src) as reader:
        writer = Writer(dst, version=9, storage_plugin=StoragePlugin.MCAP)
        writer.open()
        conns = {}
        if clock_hz > 0:
            clock = writer.add_connection("/clock", "rosgraph_msgs/msg/Clock", typestore=f.typestore)
            for k in range(1, int(reader.end_time * 1e-9 * clock_hz) + 1):
                t_ns = int(round(k / clock_hz * 1e9))
                stamp = f.new("builtin_interfaces/msg/Time", sec=t_ns // 10**9, nanosec=t_ns % 10**9)
                writer.write(clock, t_ns, f.serialize(f.new("rosgraph_msgs/msg/Clock", clock=stamp)))
        for conn, t_ns, raw in reader.messages():
            msg = edit(conn.topic, t_ns * 1e-9, f.deserialize(raw, conn.msgtype))
            if msg is None:
                continue
            if conn.topic not in conns:
                conns[conn.topic] = writer.add_connection(conn.topic, conn.msgtype, typestore=f.typestore)
            writer.write(conns[conn.topic], t_ns, f.serialize(msg))
        writer.close()
    return dst


def test_in_gazebo_the_pump_outlasts_a_mode_change(runs, tmp_path: Path) -> None:
    """The low-battery return starts mid-pass with the pump on. ArduPilot (and now the headless autopilot) keeps a
    DO_SET_SERVO output through a mode change, so the bridge's pump guard switches the pump off: a Gazebo recording
    (with /clock) of the flight passes, judged as the headless run. Without the guard's pump-off (its events cut
    from the recording) the same flight sprays all the way to the rally point, partly outside the field, and fails."""
    sc, result, bag = runs["uav_low_battery"]
    headless = _vehicle(score_bag(sc, bag).metrics)
    gz_score = score_bag(sc, _copy_bag(bag, tmp_path / "gz", lambda topic, t, msg: msg, clock_hz=10.0))
    gazebo = _vehicle(gz_score.metrics)
    assert result.passed and gz_score.passed and not gz_score.not_measured
    assert headless["spray_outside_field_m"] == 0 and gazebo["spray_outside_field_m"] == 0
    assert gazebo["spray_switches"] == headless["spray_switches"] == 2  # on mid-pass, off by the bridge
    for key in ("sprayed_m", "mission_complete", "items_reached", "distance_from_return_point_m", "landed", "armed"):
        assert gazebo[key] == pytest.approx(headless[key]), key
    assert gz_score.metrics["nodes.uav_bridge.pumps_off"] >= 1

    def no_guard(topic: str, t: float, msg: Any) -> Any:
        return None if topic.endswith("/events") and msg.data.startswith("payload: pump off") else msg

    unguarded = score_bag(sc, _copy_bag(bag, tmp_path / "unguarded", no_guard, clock_hz=10.0))
    sprays_on = _vehicle(unguarded.metrics)
    assert sprays_on["sprayed_m"] > headless["sprayed_m"] + 50
    assert sprays_on["spray_outside_field_m"] > 1.0 and sprays_on["spray_switches"] == 2  # on, off at disarming
    assert not unguarded.passed
    assert {text.split()[0] for ok, text in unguarded.checks if not ok} == {"vehicle.spray_outside_field_m"}


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_bridge_criterion_is_measured_from_the_bag(runs, name: str) -> None:
    """The uav_bridge's diagnostics carry each ``nodes.uav_bridge.*`` figure the UAV scenarios judge (link losses,
    connected, failsafe actions, the plan's outcome) in its flight status, so a recording measures them all."""
    sc, result, bag = runs[name]
    score = score_bag(sc, bag)
    assert not [t for t in score.not_measured if t.startswith("nodes.uav_bridge.")]
    flight: dict[str, str] = {}
    for _, msg in Bag(bag).messages("/diagnostics"):
        for status in msg.status:
            if status.name == "sanqin/uav/uav_bridge":
                flight = {kv.key: kv.value for kv in status.values}
    assert 0 < len(flight) <= 8  # a handful of figures, not everything
    host = {"handler_errors", "messages_rejected", "messages_in", "messages_out", "domain_errors"}
    for crit in sc.criteria:
        key = crit.metric.removeprefix("nodes.uav_bridge.")
        if crit.metric.startswith("nodes.uav_bridge.") and key not in host:
            assert float(flight[key]) == result.metrics[crit.metric], crit.metric
            assert score.metrics[crit.metric] == result.metrics[crit.metric], crit.metric


def test_nan_positions_and_malformed_states_are_skipped(runs, tmp_path: Path) -> None:
    sc, _, bag = runs["uav_spraying"]
    count = {"odom": 0, "state": 0}

    def damage(topic: str, t: float, msg: Any) -> Any:
        if topic.endswith("/odom"):
            count["odom"] += 1
            if count["odom"] % 7 == 0:
                msg.pose.pose.position.x = math.nan
            elif count["odom"] % 11 == 0:
                msg.pose.pose.position.z = math.inf
        elif topic.endswith("/vehicle_state"):
            count["state"] += 1
            if count["state"] % 13 == 0:
                msg.values = [kv for kv in msg.values if kv.key != "armed"]  # vehicle state lacks a key
            elif count["state"] % 17 == 0:
                next(kv for kv in msg.values if kv.key == "mission_seq").value = "many"
        return msg

    ref = _vehicle(score_bag(sc, bag).metrics)
    got = _vehicle(score_bag(sc, _copy_bag(bag, tmp_path / "damaged", damage)).metrics)
    assert set(got) == set(ref)
    assert all(math.isfinite(v) for v in got.values())
    for key in ("mission_complete", "items_reached", "spray_switches", "landed", "fence_breaches"):
        assert got[key] == ref[key], key
    assert got["sprayed_m"] == pytest.approx(ref["sprayed_m"], rel=0.01)
    assert got["distance_from_return_point_m"] == pytest.approx(ref["distance_from_return_point_m"], abs=0.05)


def test_all_positions_nan_leaves_the_track_unmeasured(runs, tmp_path: Path) -> None:
    sc, _, bag = runs["uav_spraying"]

    def nan(topic: str, t: float, msg: Any) -> Any:
        if topic.endswith("/odom"):
            msg.pose.pose.position.y = math.nan
        return msg

    score = score_bag(sc, _copy_bag(bag, tmp_path / "nan", nan))
    got = _vehicle(score.metrics)
    assert not TRACK & set(got) and "distance_from_return_point_m" not in got
    assert got["mission_complete"] == 1 and got["landed"] == 1  # from the vehicle state, still there
    assert "vehicle.spray_outside_field_m <= 1" in score.not_measured


def test_bag_without_the_bridge_topics_measures_nothing_of_the_vehicle(runs, tmp_path: Path) -> None:
    sc, _, bag = runs["uav_spraying"]
    only_diag = _copy_bag(bag, tmp_path / "diag", lambda topic, t, msg: msg if topic == "/diagnostics" else None)
    score = score_bag(sc, only_diag)
    assert not _vehicle(score.metrics)
    # nothing of the vehicle in the recording: its criteria fail (a broken recording never passes)
    failed = {text.split()[0] for ok, text in score.checks if not ok}
    assert {c.metric for c in sc.criteria if c.metric.startswith("vehicle.")} <= failed and not score.passed
    # the bridge in another namespace than the one recorded: same
    node = sc.nodes[0]
    elsewhere = replace(sc, nodes=(replace(node, namespace="other_drone"),))
    assert not _vehicle(score_bag(elsewhere, bag).metrics)
    # a vehicle that no bridge of the scenario talks to (another system id)
    sim = sc.simulators[0]
    alone = replace(sc, simulators=(replace(sim, params={**sim.params, "system_id": 9}),))
    assert not _vehicle(score_bag(alone, bag).metrics)


def test_bag_without_the_bridge_events(runs, tmp_path: Path) -> None:
    """Uploads, FENCE_ENABLE, link losses and rally points are only known from ~/events: without them those
    stay unmeasured, what the vehicle state and odometry tell is still measured."""
    sc, _, bag = runs["uav_spraying"]
    got = _vehicle(score_bag(sc, _copy_bag(bag, tmp_path / "no_events",
                                           lambda topic, t, msg: None if topic.endswith("/events") else msg)).metrics)
    assert not {"mission_uploads_ok", "mission_uploads_failed", "fence_items", "rally_items", "fence_enabled",
                "link_down_s", "items_reached_link_down", "max_fence_violation_m", "fence_breaches",
                "distance_from_return_point_m"} & set(got)
    assert got["mission_complete"] == 1 and got["landed"] == 1 and got["spray_switches"] == 20
    assert got["distance_from_home_m"] < 0.5


def test_a_link_that_never_returns(runs, tmp_path: Path) -> None:
    """The recording ends 20 s into the outage: the outage counts to the end; how the flight went on and ended
    (armed, landed, mission, position, track) is unknown."""
    sc, _, bag = runs["uav_link_loss"]
    cut = _copy_bag(bag, tmp_path / "cut", lambda topic, t, msg: msg if t < 50.0 else None)
    got = _vehicle(score_bag(sc, cut).metrics)
    assert 19.0 < got["link_down_s"] <= 20.0  # from the last telemetry (30 s) to the end of the recording
    assert set(got) == {"link_down_s", "mission_uploads_ok", "mission_uploads_failed", "fence_items", "rally_items",
                        "fence_enabled"}


def test_truncated_or_corrupt_bag(runs, tmp_path: Path) -> None:
    sc, _, bag = runs["uav_spraying"]
    truncated = tmp_path / "truncated"
    shutil.copytree(bag, truncated)
    mcap = next(truncated.glob("*.mcap"))
    os.truncate(mcap, mcap.stat().st_size // 2)
    with pytest.raises(ScoreError, match="cannot open bag"):
        score_bag(sc, truncated)
    corrupt = tmp_path / "corrupt"
    shutil.copytree(bag, corrupt)
    mcap = next(corrupt.glob("*.mcap"))
    size = mcap.stat().st_size
    with mcap.open("r+b") as fh:  # garbage over a chunk in the middle of the flight
        fh.seek(size // 3)
        fh.write(bytes((i * 37 + 11) % 256 for i in range(8000)))
    try:
        score = score_bag(sc, corrupt)
    except ScoreError:
        return
    got = _vehicle(score.metrics)
    assert all(math.isfinite(v) for v in got.values())
    assert not TRACK & set(got)  # a hole in the track while armed: nothing integrated over it


def _edit_state(msg: Any, **values: Callable[[str, dict[str, str]], str]) -> Any:
    kv = {v.key: v.value for v in msg.values}
    for v in msg.values:
        if v.key in values:
            v.value = values[v.key](v.value, kv)
    return msg


@pytest.mark.parametrize("name", ["uav_spraying", "uav_link_loss"])
def test_an_autopilot_that_reports_only_its_current_item(runs, name: str, tmp_path: Path) -> None:
    """ArduPilot sends MISSION_ITEM_REACHED for NAV items only: with no reached count at all, progress comes from
    the current item, and a mission whose final RTL has begun is complete, as the headless autopilot counts it."""
    sc, _, bag = runs[name]

    def no_reached(topic: str, t: float, msg: Any) -> Any:
        return _edit_state(msg, items_reached=lambda v, kv: "0") if topic.endswith("/vehicle_state") else msg

    ref = _vehicle(score_bag(sc, bag).metrics)
    got = _vehicle(score_bag(sc, _copy_bag(bag, tmp_path / "current_only", no_reached)).metrics)
    assert set(got) == set(ref)
    for key in ("mission_complete", "items_reached", "items_reached_link_down", "spray_switches", "sprayed_m"):
        if key in ref:
            assert got[key] == pytest.approx(ref[key]), key


@pytest.mark.parametrize("name", ["uav_spraying", "uav_link_loss"])
def test_ardupilot_mission_numbering(runs, name: str, tmp_path: Path) -> None:
    """With ``link.home_at_seq0`` (ArduPilot keeps home as item 0) the vehicle's current item is one more for the
    same progress: the scorer shifts it back and measures the same flight (no reached count to lean on)."""
    sc, _, bag = runs[name]

    def current_only(topic: str, t: float, msg: Any) -> Any:
        return _edit_state(msg, items_reached=lambda v, kv: "0") if topic.endswith("/vehicle_state") else msg

    def home_first(topic: str, t: float, msg: Any) -> Any:
        if not topic.endswith("/vehicle_state"):
            return msg
        return _edit_state(msg, items_reached=lambda v, kv: "0",
                           mission_seq=lambda v, kv: str(int(v) + 1) if int(kv["mission_total"]) > 0 else v)

    node = sc.nodes[0]
    link = {**node.params["link"], "home_at_seq0": True}
    ardupilot = replace(sc, nodes=(replace(node, params={**node.params, "link": link}),))
    ref = _vehicle(score_bag(sc, _copy_bag(bag, tmp_path / "current_only", current_only)).metrics)
    got = _vehicle(score_bag(ardupilot, _copy_bag(bag, tmp_path / "home_first", home_first)).metrics)
    assert got == pytest.approx(ref)
    headless = _vehicle(runs[name][1].metrics)
    assert got["items_reached"] == headless["items_reached"]
    assert got["mission_complete"] == headless["mission_complete"]


def test_a_gazebo_recording_is_scored_with_the_twins_ardupilot_numbering(runs, tmp_path: Path) -> None:
    """The twin runs the bridge with ``link.home_at_seq0`` (SITL keeps home as item 0); a Gazebo recording (with
    /clock) is scored with that setting although the scenario file does not say it."""
    sc, _, bag = runs["uav_spraying"]

    def current_only(topic: str, t: float, msg: Any) -> Any:
        return _edit_state(msg, items_reached=lambda v, kv: "0") if topic.endswith("/vehicle_state") else msg

    def home_first(topic: str, t: float, msg: Any) -> Any:
        if not topic.endswith("/vehicle_state"):
            return msg
        return _edit_state(msg, items_reached=lambda v, kv: "0",
                           mission_seq=lambda v, kv: str(int(v) + 1) if int(kv["mission_total"]) > 0 else v)

    assert not sc.nodes[0].params["link"].get("home_at_seq0", False)
    ref = _vehicle(score_bag(sc, _copy_bag(bag, tmp_path / "headless", current_only)).metrics)
    got = _vehicle(score_bag(sc, _copy_bag(bag, tmp_path / "gz", home_first, clock_hz=10.0)).metrics)
    for key in ("items_reached", "mission_complete", "mission_items"):
        assert got[key] == ref[key], key


def test_a_plan_received_on_the_topic_is_not_the_plan_file(runs, tmp_path: Path) -> None:
    """When the bridge staged a plan from ~/mission_plan (an input, not recorded), the plan file says nothing
    about what was flown: its pump items, fence and rally points are not used."""
    sc, _, bag = runs["uav_spraying"]

    def staged(topic: str, t: float, msg: Any) -> Any:
        if topic.endswith("/events") and msg.data == "link connected":
            msg.data = "plan staged: 3 mission items"
        return msg

    got = _vehicle(score_bag(sc, _copy_bag(bag, tmp_path / "staged", staged)).metrics)
    assert not {"sprayed_m", "spray_switches", "spray_inside_field_m", "spray_outside_field_m", "fence_items",
                "rally_items", "mission_uploads_ok", "max_fence_violation_m", "distance_from_return_point_m"} & set(got)
    assert got["mission_complete"] == 1 and got["flown_m"] > 1000  # the vehicle's own reports still count


def _sprayer_plan(tmp_path: Path) -> Path:
    """The shipped spray plan with its pump switched by ArduPilot's sprayer (DO_SPRAYER) instead of a servo."""
    import json

    doc = json.loads((SHARE / "sim" / "missions" / "spray_field.plan").read_text())
    for it in doc["mission"]["items"]:
        if it.get("command") == 183:  # DO_SET_SERVO on the pump channel
            it["command"], it["params"] = 216, [1.0 if it["params"][1] > 1500 else 0.0] + [0.0] * 6
    path = tmp_path / "spray_field_sprayer.plan"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("guard", [True, False])
def test_a_sprayer_is_scored_as_the_headless_sprayer(tmp_path: Path, guard: bool) -> None:
    """The low-battery flight with a DO_SPRAYER plan. With the bridge's pump guard, its DO_SPRAYER off ends the
    spraying as the return starts. Without it the sprayer stays enabled (as on ArduPilot): it stops in the climb
    (slower than SPRAY_SPEED_MIN for a second), pumps again on the way home and stops on landing — and the scorer,
    gating the reconstructed sprayer with the odometry's speed, finds the same switches and lengths as headless."""
    sc = load_scenario(SHARE / "sim" / "scenarios" / "uav_low_battery.yaml")
    node = sc.nodes[0]
    params = {**node.params, "mission": {**node.params["mission"], "plan_file": str(_sprayer_plan(tmp_path))},
              "payload": {"pump_off_on_failsafe": guard}}
    sc = replace(sc, nodes=(replace(node, params=params),))
    result = run_scenario(sc, tmp_path / "run", plots=False)
    score = score_bag(sc, tmp_path / "run" / "bag")
    got, ref = _vehicle(score.metrics), _vehicle(result.metrics)
    assert got["spray_switches"] == ref["spray_switches"] == (2 if guard else 4)
    assert got["sprayed_m"] == pytest.approx(ref["sprayed_m"], rel=0.02)
    assert got["spray_outside_field_m"] == pytest.approx(ref["spray_outside_field_m"], abs=1.0)
    assert score.passed == result.passed == guard
    if guard:  # the configured servo and the plan's sprayer, both switched off
        assert result.metrics["nodes.uav_bridge.pump_off_commands"] >= 2
    else:
        assert ref["spray_outside_field_m"] > 1.0
