"""Score a scenario run recorded in Gazebo with the headless runner's metric names and pass criteria.

The twin's launch file records (``record:=true``) ``/clock``, ``/diagnostics``, every bridged topic and
every output of our nodes into a rosbag2 MCAP bag, with message times on the simulation clock. From
that bag :func:`score_bag` computes

* ``run.sim_time_s`` (last ``/clock``) and ``topics.<topic>.count`` — as the headless runner counts them;
* ``nodes.<name>.<counter>`` — the node's own counters from its last ``sanqin/<name>`` status on
  ``/diagnostics`` (messages in/out/rejected, handler errors, ...);
* ``<simulator>.<metric>`` — the simulator plugin's metrics, recomputed from the bag by its twin
  exporter's ``score`` function;

and judges the scenario's criteria. A criterion whose metric cannot be measured from a Gazebo run
(a figure the twin does not give) is listed as *not measured*; the run passes when every measured
criterion passes and at least one was measured. But when the recording holds nothing at all of a
simulator (its scorer measured nothing) or of a node (no status of it on /diagnostics), the criteria on
it fail: a broken recording must never pass by having its failures go unmeasured. The same function scores a
headless run's bag, which is how the tests check it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sanqin.msgs.factory import default_factory
from sanqin.runtime.config import load_config
from sanqin.runtime.scenario import Scenario, import_object
from sanqin.simulation.gazebo.errors import ScoreError
from sanqin.simulation.gazebo.twin import exporter


class Bag:
    """Messages of a rosbag2 bag (any storage rosbags reads), deserialised on demand per topic."""

    def __init__(self, path: str | Path) -> None:
        from rosbags.rosbag2 import Reader

        self.path = Path(path)
        self.factory = default_factory()
        try:
            self._reader = Reader(self.path)
            self._reader.open()
        except Exception as err:  # rosbags raises ReaderError / OSError on missing or corrupt bags
            raise ScoreError(f"cannot open bag {self.path}: {err}") from err
        self.types = {c.topic: c.msgtype for c in self._reader.connections}
        self.counts: dict[str, int] = {}
        for c in self._reader.connections:
            self.counts[c.topic] = self.counts.get(c.topic, 0) + int(c.msgcount)

    def messages(self, topic: str) -> Iterator[tuple[float, Any]]:
        """(log time in s, message) of a topic in time order; undecodable messages are skipped."""
        conns = [c for c in self._reader.connections if c.topic == topic]
        if not conns:
            return
        for conn, t_ns, raw in self._reader.messages(connections=conns):
            try:
                msg = self.factory.deserialize(raw, conn.msgtype)
            except Exception:  # noqa: S112 - a corrupt message is skipped (and missing from the counts it feeds)
                continue
            yield t_ns * 1e-9, msg

    def end_time_s(self) -> float:
        """Last ``/clock`` time, or the last message time when no clock was recorded."""
        last = None
        for _, msg in self.messages("/clock"):
            last = msg.clock.sec + msg.clock.nanosec * 1e-9
        if last is not None:
            return float(last)
        return self._reader.end_time * 1e-9 if self._reader.message_count else 0.0

    def close(self) -> None:
        """Close the bag."""
        self._reader.close()


@dataclass
class Score:
    """The verdict on a recorded run."""

    scenario: str
    passed: bool
    metrics: dict[str, float]
    checks: list[tuple[bool, str]]
    not_measured: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN/inf as null), like the headless runner's metrics.json."""
        return {
            "scenario": self.scenario,
            "passed": self.passed,
            "criteria": [{"passed": ok, "check": text} for ok, text in self.checks],
            "not_measured": self.not_measured,
            "metrics": {k: (v if math.isfinite(v) else None) for k, v in sorted(self.metrics.items())},
        }


def node_counters(bag: Bag, scenario: Scenario) -> dict[str, float]:
    """``nodes.<name>.<key>`` from each node's last ``sanqin/<name>`` status and its component's
    ``sanqin/<area>/<name>`` status (their values merged): the scenario's nodes and the nodes a twin adds
    (found by their own ``sanqin/<name>`` status in the bag)."""
    names = [e.name for e in scenario.nodes]
    last: dict[str, dict[str, float]] = {}
    own_status: dict[str, dict[str, float]] = {}  # the node's own status wins over its component's on a shared key
    for _, msg in bag.messages("/diagnostics"):
        for status in msg.status:
            own = status.name.removeprefix("sanqin/")
            if status.name.startswith("sanqin/") and own and "/" not in own and own not in names:
                names.append(own)  # a node of the twin (a Sanqin node's host status)
            name = next((n for n in names if status.name.startswith("sanqin/")
                         and (status.name == f"sanqin/{n}" or status.name.endswith(f"/{n}"))), None)
            if name is None:
                continue
            values = {}
            for kv in status.values:
                try:
                    values[kv.key] = float(kv.value)
                except ValueError:
                    continue
            (own_status if status.name == f"sanqin/{name}" else last).setdefault(name, {}).update(values)
    for n, vals in own_status.items():
        last.setdefault(n, {}).update(vals)
    return {f"nodes.{n}.{k}": v for n, vals in last.items() for k, v in vals.items()}


def score_bag(scenario: Scenario, bag_path: str | Path) -> Score:
    """Metrics and criteria of a scenario from a bag recorded in Gazebo (or headless)."""
    bag = Bag(bag_path)
    try:
        metrics: dict[str, float] = {"run.sim_time_s": bag.end_time_s()}
        metrics.update({f"topics.{t}.count": float(n) for t, n in bag.counts.items()})
        metrics.update(node_counters(bag, scenario))
        silent: list[str] = []  # metric prefixes of which the recording holds nothing at all
        for entry in scenario.simulators:
            module = exporter(entry.plugin)
            fn = getattr(module, "score", None)
            if fn is None:
                continue
            config = load_config(import_object(entry.plugin).Config, entry.params)
            measured = fn(config, entry, scenario, bag)
            for key, value in measured.items():
                metrics[f"{entry.name}.{key}"] = float(value)
            if not measured:
                silent.append(f"{entry.name}.")
    finally:
        bag.close()
    silent += [f"nodes.{e.name}." for e in scenario.nodes
               if not any(k.startswith(f"nodes.{e.name}.") for k in metrics)]  # the node's status never recorded
    checks: list[tuple[bool, str]] = []
    not_measured: list[str] = []
    for crit in scenario.criteria:
        if crit.metric not in metrics:
            text = f"{crit.metric} {crit.op} {crit.value:g}"
            empty = next((p for p in silent if crit.metric.startswith(p)), None)
            if empty is not None:  # a broken recording, not a figure Gazebo cannot give: it fails
                checks.append((False, f"{text}: the recording holds nothing of {empty[:-1]}"))
            else:
                not_measured.append(text)
            continue
        checks.append(crit.check(metrics))
    passed = bool(checks) and all(ok for ok, _ in checks)
    return Score(scenario.name, passed, metrics, checks, not_measured)


def write_score(score: Score, out_dir: str | Path) -> Path:
    """Write ``metrics.json`` (and ``report.md``) into ``out_dir``; returns the JSON path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "metrics.json"
    path.write_text(json.dumps(score.as_dict(), indent=2), encoding="utf-8")
    lines = [f"# Gazebo run of `{score.scenario}` — {'PASSED' if score.passed else 'FAILED'}", "",
             "## Pass criteria", ""]
    lines += [f"- {'✅' if ok else '❌'} {text}" for ok, text in score.checks] or ["- (none measured)"]
    if score.not_measured:
        lines += ["", "## Not measurable from a Gazebo run", ""] + [f"- {t}" for t in score.not_measured]
    lines += ["", "## Metrics", "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v:.6g} |" for k, v in sorted(score.metrics.items())]
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
