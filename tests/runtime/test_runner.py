"""The scenario runner: parses scenarios, steps simulators and nodes on sim time, judges, records."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from sanqin.registry import NODES
from sanqin.runtime.config import param
from sanqin.runtime.errors import ScenarioError
from sanqin.runtime.node import Input, NodeSpec, Output
from sanqin.runtime.runner import run_scenario
from sanqin.runtime.scenario import load_scenario, parse_scenario


@dataclass(frozen=True)
class DoublerConfig:
    gain: float = param(2.0, "gain")


class Doubler:
    def __init__(self, config: DoublerConfig) -> None:
        self.gain = config.gain

    def on_value(self, value: float, t_s: float) -> dict:
        return {"out": value * self.gain}


DOUBLER = NodeSpec(
    name="doubler",
    config=DoublerConfig,
    component=Doubler,
    inputs=(Input("in", "std_msgs/msg/Float64", "on_value", lambda m: float(m.data)),),
    outputs=(Output("out", "std_msgs/msg/Float64", lambda v, f: f.new("std_msgs/msg/Float64", data=v)),),
)


@dataclass(frozen=True)
class RampConfig:
    rate_hz: float = param(10.0, "publish rate", min=0.1)


class RampSim:
    """Publishes t on /in at rate_hz and checks /out == 2 t."""

    Config = RampConfig

    def __init__(self, config: RampConfig, ctx) -> None:
        self.ctx, self.period = ctx, 1.0 / config.rate_hz
        self.next_t, self.sent, self.errors, self.received = 0.0, [], [], 0
        ctx.subscribe("/out", "std_msgs/msg/Float64", self._on_out)

    def _on_out(self, msg) -> None:
        self.received += 1
        self.errors.append(abs(msg.data - 2.0 * self.sent[self.received - 1]))

    def step(self, t_s: float, dt_s: float) -> None:
        if t_s + 1e-9 >= self.next_t:
            self.sent.append(t_s)
            self.ctx.publish("/in", self.ctx.factory.new("std_msgs/msg/Float64", data=t_s))
            self.next_t += self.period

    def metrics(self) -> dict:
        return {"sent": len(self.sent), "received": self.received, "max_error": max(self.errors, default=0.0)}


def _scenario(tmp_path: Path, criteria: str) -> Path:
    p = tmp_path / "ramp.yaml"
    p.write_text(
        f"""
name: ramp
description: doubler under a ramp
duration_s: 2.0
step_s: 0.05
simulators:
  - plugin: {__name__}:RampSim
    name: ramp
    params: {{rate_hz: 10.0}}
nodes:
  - node: doubler
    params: {{gain: 2.0}}
criteria:
{criteria}
"""
    )
    return p


@pytest.fixture(autouse=True)
def _register_doubler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(NODES, "doubler", f"{__name__}:DOUBLER")


def test_run_passes_and_writes_run_folder(tmp_path: Path) -> None:
    path = _scenario(tmp_path, '  - {metric: ramp.max_error, op: "<", value: 1.0e-9}\n'
                     '  - {metric: ramp.received, op: ">=", value: 20}')
    result = run_scenario(path, tmp_path / "run")
    assert result.passed, result.checks
    assert result.metrics["ramp.sent"] == 21 and result.metrics["nodes.doubler.messages_out"] == 21
    doc = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert doc["passed"] is True and doc["topics"]["/out"] == "std_msgs/msg/Float64"
    assert "PASSED" in (tmp_path / "run" / "report.md").read_text()
    assert "gain: 2.0" in (tmp_path / "run" / "params" / "doubler.yaml").read_text()

    from rosbags.rosbag2 import Reader

    with Reader(tmp_path / "run" / "bag") as reader:
        counts = {c.topic: c.msgcount for c in reader.connections}
    assert counts["/in"] == 21 and counts["/out"] == 21
    assert counts["/diagnostics"] == 3  # at 1 s and 2 s, and the node's final figures at the end of the run
    from sanqin.simulation.gazebo.score import Bag, node_counters

    bag = Bag(tmp_path / "run" / "bag")
    try:
        sc = load_scenario(path)
        assert node_counters(bag, sc)["nodes.doubler.messages_out"] == result.metrics["nodes.doubler.messages_out"]
    finally:
        bag.close()


def test_failed_and_missing_metrics_fail_the_run(tmp_path: Path) -> None:
    path = _scenario(tmp_path, '  - {metric: ramp.received, op: ">", value: 1000}\n'
                     '  - {metric: ramp.nonexistent, op: "<", value: 1}')
    result = run_scenario(path, record=False)
    assert not result.passed
    assert [ok for ok, _ in result.checks] == [False, False]
    assert "metric missing" in result.checks[1][1]


def test_refuses_non_empty_run_folder(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("data")
    with pytest.raises(ScenarioError, match="not empty"):
        run_scenario(_scenario(tmp_path, "  []"), out)
    assert (out / "keep.txt").read_text() == "data"


@pytest.mark.parametrize(
    ("doc", "match"),
    [
        ({"duration_s": 1.0}, "missing key 'name'"),
        ({"name": "x", "duration_s": -1.0}, "0 < step_s <= duration_s"),
        ({"name": "x", "duration_s": 1.0, "simulators": [{"plugin": "nocolon"}]}, "module:Class"),
        ({"name": "x", "duration_s": 1.0, "criteria": [{"metric": "a", "op": "~", "value": 1}]}, "op must be"),
        ({"name": "x", "duration_s": 1.0, "extra": 1}, "unknown key"),
        ({"name": "x", "duration_s": 1.0, "nodes": [{"node": "n", "parms": {}}]}, "unknown key"),
    ],
)
def test_invalid_scenarios_are_rejected(doc: dict, match: str) -> None:
    with pytest.raises(ScenarioError, match=match):
        parse_scenario(doc)


def test_bad_node_params_in_scenario_name_the_key(tmp_path: Path) -> None:
    p = _scenario(tmp_path, "  []").read_text().replace("{gain: 2.0}", "{gian: 2.0}")
    (tmp_path / "bad.yaml").write_text(p)
    with pytest.raises(ScenarioError, match="unknown parameter 'gian'"):
        run_scenario(load_scenario(tmp_path / "bad.yaml"))


def test_unimportable_plugin_is_a_scenario_error(tmp_path: Path) -> None:
    p = _scenario(tmp_path, "  []").read_text().replace(f"{__name__}:RampSim", "no.such.module:Sim")
    (tmp_path / "bad.yaml").write_text(p)
    with pytest.raises(ScenarioError, match="cannot import 'no.such.module:Sim'"):
        run_scenario(tmp_path / "bad.yaml")


def test_run_dir_in_node_params_is_the_runs_own_folder(tmp_path: Path) -> None:
    """Files a node resumes from (rehab session logs) start empty in every run of a scenario."""
    from sanqin.runtime.paths import share_dir
    from sanqin.runtime.runner import build_graph
    from sanqin.runtime.scenario import substitute_run_dir

    sc = load_scenario(share_dir() / "sim" / "scenarios" / "rehab_safety.yaml")
    assert "${run_dir}" in sc.nodes[0].params["session_dir"]
    _, _, configs = build_graph(sc, run_dir=tmp_path / "run1")
    assert configs["rehab_robot"].session_dir == f"{tmp_path / 'run1'}/rehab_sessions"
    _, _, configs = build_graph(sc)  # without a run: a folder under the temporary folder, not the working directory
    session_dir = configs["rehab_robot"].session_dir
    assert "${run_dir}" not in session_dir and Path(session_dir).is_absolute()
    nested = {"a": ["${run_dir}/x", 3], "b": {"c": "${run_dir}"}, "d": "plain"}
    assert substitute_run_dir(nested, "/r") == {"a": ["/r/x", 3], "b": {"c": "/r"}, "d": "plain"}
