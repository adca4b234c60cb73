"""Headless scenario runner: simulators + declared nodes in-process on simulated time → a run folder.

The run folder holds ``metrics.json``, ``report.md``, ``plots/*.png``, ``params/<node>.yaml`` (the
configs actually used, as ROS 2 params files), ``scenario.yaml`` and ``bag/`` (rosbag2, MCAP) with
every message published during the run.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sanqin.msgs.factory import default_factory
from sanqin.runtime.config import load_config
from sanqin.runtime.errors import ConfigError, ScenarioError
from sanqin.runtime.headless import Graph
from sanqin.runtime.params import load_node_config, write_params_file
from sanqin.runtime.paths import resolve_data_path
from sanqin.runtime.recorder import BagRecorder
from sanqin.runtime.registry import get_node_spec
from sanqin.runtime.scenario import RUN_DIR, Scenario, import_object, load_scenario, substitute_run_dir


class SimContext:
    """What a simulator plugin sees: the bus (publish/subscribe), the clock, a seeded RNG, its name."""

    def __init__(self, graph: Graph, name: str, rng: np.random.Generator, scenario: Scenario) -> None:
        self.graph = graph
        self.name = name
        self.rng = rng
        self.scenario = scenario

    @property
    def factory(self) -> Any:
        """Message factory of the bus (rosbags Jazzy classes)."""
        return self.graph.bus.factory

    def now(self) -> float:
        """Simulated time in seconds."""
        return self.graph.clock.now()

    def publish(self, topic: str, msg: Any) -> None:
        """Publish a message on an absolute topic."""
        self.graph.bus.publish(topic, msg)

    def subscribe(self, topic: str, msg_type: str, callback: Callable[[Any], None]) -> None:
        """Receive messages of an absolute topic."""
        self.graph.bus.subscribe(topic, msg_type, callback)

    def node(self, name: str) -> Any:
        """A node of the scenario by (namespaced) name, e.g. to call its services."""
        for key, node in self.graph.nodes.items():
            if key.rstrip("/").endswith("/" + name.strip("/")):
                return node
        raise ScenarioError(f"no node {name!r} in scenario {self.scenario.name!r}")


@dataclass
class RunResult:
    """Outcome of a scenario run."""

    scenario: str
    passed: bool
    metrics: dict[str, float]
    checks: list[tuple[bool, str]]
    run_dir: Path | None
    wall_s: float
    sim_s: float
    artifacts: list[Path] = field(default_factory=list)


def _progress(total: float, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    fmt = "{l_bar}{bar}| {n:.1f}/{total:.1f} sim s [{elapsed}<{remaining}]"
    # In a log (not a terminal) redraw rarely, so CI output stays short.
    interval = 0.1 if sys.stderr.isatty() else 5.0
    return tqdm(total=round(total, 3), unit="sim s", bar_format=fmt, mininterval=interval)


def build_graph(scenario: Scenario, *, strict: bool = False,
                run_dir: str | Path | None = None) -> tuple[Graph, list[tuple[str, Any]], dict[str, Any]]:
    """Create the graph, nodes (configs validated) and simulators of a scenario; ``${run_dir}`` in node params
    becomes ``run_dir`` (default: a folder name under the system's temporary folder, for graphs built without a
    run; it is not created)."""
    graph = Graph(default_factory())
    rng = np.random.default_rng(scenario.seed)
    base = scenario.path.parent if scenario.path else None
    configs: dict[str, Any] = {}
    for entry in scenario.nodes:
        spec = get_node_spec(entry.node)
        params_file = resolve_data_path(entry.params_file, base) if entry.params_file else None
        params = entry.params
        if RUN_DIR in repr(params):
            if run_dir is None:  # a graph built without a run (e.g. read by the Gazebo generator); not created
                run_dir = Path(tempfile.gettempdir()) / f"sanqin-{scenario.name}-{os.getpid()}"
            params = substitute_run_dir(params, str(run_dir))
        config = load_node_config(spec.config, params_file, entry.name, entry.namespace, params)
        graph.add_node(
            spec, config, name=entry.name, namespace=entry.namespace, remap=entry.remap, strict=strict
        )
        configs[entry.name] = config
    sims: list[tuple[str, Any]] = []
    for entry in scenario.simulators:
        cls = import_object(entry.plugin)
        cfg_type = getattr(cls, "Config", None)
        if cfg_type is None:
            raise ScenarioError(f"simulator {entry.plugin} has no Config dataclass")
        cfg = load_config(cfg_type, entry.params, where=f"scenario {scenario.name!r}: simulator {entry.name!r}")
        sims.append((entry.name, cls(cfg, SimContext(graph, entry.name, rng, scenario))))
        configs[f"sim_{entry.name}"] = cfg
    return graph, sims, configs


def run_scenario(
    scenario: Scenario | str | Path,
    out_dir: str | Path | None = None,
    *,
    progress: bool = False,
    strict: bool = False,
    record: bool = True,
    plots: bool = True,
) -> RunResult:
    """Run a scenario to its duration (or until a simulator is done) and judge its criteria."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    run_dir = Path(out_dir) if out_dir is not None else None
    if run_dir is not None:
        if run_dir.exists() and any(run_dir.iterdir()):
            raise ScenarioError(f"run folder {run_dir} exists and is not empty")
        run_dir.mkdir(parents=True, exist_ok=True)
    # ${run_dir} in node params: the run folder, or a scratch folder removed when the run ends.
    scratch = tempfile.TemporaryDirectory(prefix=f"sanqin-{sc.name}-") if run_dir is None else None
    node_dir = run_dir.resolve() if run_dir is not None else Path(scratch.name)
    wall0 = time.perf_counter()
    try:
        graph, sims, configs = build_graph(sc, strict=strict, run_dir=node_dir)
    except ConfigError as err:
        raise ScenarioError(f"scenario {sc.name!r}: {err}") from err
    recorder = None
    if run_dir is not None and record:
        recorder = BagRecorder(run_dir / "bag", graph.bus.factory, sc.record_exclude)
        graph.bus.recorders.append(recorder)
    bar = _progress(sc.duration_s, progress)
    steps = int(math.floor(sc.duration_s / sc.step_s + 1e-9))
    t = 0.0
    try:
        for k in range(1, steps + 1):
            t = k * sc.step_s
            # Timers due up to t fire first (the clock reaches t), then the simulators advance to t and
            # publish what they sense at t, which the nodes receive stamped and recorded at t.
            graph.advance_to(t)
            for _, sim in sims:
                sim.step(t, sc.step_s)
            graph.bus.spin_once()
            if bar is not None and (k % max(1, steps // 200) == 0 or k == steps):
                bar.n = min(round(t, 3), bar.total)
                bar.refresh()
            if any(getattr(sim, "done", lambda: False)() for _, sim in sims):
                break
        for node in graph.nodes.values():  # the final figures on /diagnostics, for whoever scores the bag
            node.publish_final_diagnostics(t)
        graph.bus.spin_once()
    finally:
        if bar is not None:
            bar.close()
        if recorder is not None:
            recorder.close()
    metrics: dict[str, float] = {"run.sim_time_s": t}
    for name, sim in sims:
        for k, v in sim.metrics().items():
            metrics[f"{name}.{k}"] = float(v)
    for node in graph.nodes.values():
        for k, v in node.host.metrics().items():
            metrics[f"nodes.{node.name}.{k}"] = v
    for topic, n in graph.bus.counts.items():
        metrics[f"topics.{topic}.count"] = float(n)
    checks = [c.check(metrics) for c in sc.criteria]
    wall = time.perf_counter() - wall0
    metrics["run.wall_time_s"] = wall
    metrics["run.real_time_factor"] = t / wall if wall > 0 else float("inf")
    result = RunResult(sc.name, all(ok for ok, _ in checks), metrics, checks, run_dir, wall, t)
    if run_dir is not None:
        _write_run_folder(result, sc, graph, sims, configs, plots)
    if scratch is not None:
        scratch.cleanup()
    return result


def _write_run_folder(result: RunResult, sc: Scenario, graph: Graph, sims: list[tuple[str, Any]],
                      configs: dict[str, Any], plots: bool) -> None:
    run_dir = result.run_dir
    if run_dir is None:
        return
    (run_dir / "params").mkdir(exist_ok=True)
    for name, cfg in configs.items():
        write_params_file(run_dir / "params" / f"{name}.yaml", {name: cfg})
    if sc.path is not None:
        shutil.copyfile(sc.path, run_dir / "scenario.yaml")
    if plots:
        plot_dir = run_dir / "plots"
        plot_dir.mkdir(exist_ok=True)
        for _, sim in sims:
            fn = getattr(sim, "plots", None)
            if callable(fn):
                result.artifacts.extend(fn(plot_dir))
    doc = {
        "scenario": sc.name,
        "passed": result.passed,
        "criteria": [{"passed": ok, "check": text} for ok, text in result.checks],
        "metrics": {k: (v if math.isfinite(v) else None) for k, v in sorted(result.metrics.items())},
        "topics": graph.bus.topic_types(),
    }
    (run_dir / "metrics.json").write_text(json.dumps(doc, indent=2), encoding="utf-8")
    (run_dir / "report.md").write_text(render_report(result, sc, graph), encoding="utf-8")


def render_report(result: RunResult, sc: Scenario, graph: Graph) -> str:
    """A Markdown report: verdict, criteria, key metrics, plots and the bag's topics."""
    lines = [
        f"# Scenario `{sc.name}` — {'PASSED' if result.passed else 'FAILED'}",
        "",
        sc.description.strip(),
        "",
        f"Simulated {result.sim_s:.2f} s in {result.wall_s:.2f} s wall time "
        f"({result.metrics.get('run.real_time_factor', 0):.1f}× real time).",
        "",
        "## Pass criteria",
        "",
    ]
    lines += [f"- {'✅' if ok else '❌'} {text}" for ok, text in result.checks] or ["- (none)"]
    lines += ["", "## Metrics", "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v:.6g} |" for k, v in sorted(result.metrics.items()) if not k.startswith("topics.")]
    if result.artifacts:
        lines += ["", "## Plots", ""]
        lines += [f"![{p.stem}](plots/{p.name})" for p in result.artifacts]
    lines += ["", "## Recorded topics (bag/, rosbag2 MCAP)", "", "| topic | type | messages |", "|---|---|---|"]
    for topic, typ in sorted(graph.bus.topic_types().items()):
        lines.append(f"| {topic} | {typ} | {graph.bus.counts.get(topic, 0)} |")
    return "\n".join(lines) + "\n"
