"""Scenario files: one YAML source per scenario — simulators, nodes with params, duration, pass criteria.

```yaml
name: tunnel_lidar
description: ...
duration_s: 20.0
step_s: 0.01                 # simulator step
seed: 7
simulators:
  - plugin: sanqin.simulation.tunnel_lidar:TunnelLidarSim   # module:Class
    name: tunnel
    params: {...}            # validated by the plugin's Config
nodes:
  - node: lidar_preprocessor # name in sanqin.registry.NODES
    name: lidar_preprocessor # optional instance name
    namespace: ""
    params_file: config/lidar_preprocessor.yaml   # relative to the share folder
    params: {...}            # overrides
    remap: {points: /lidar/points}
criteria:
  - {metric: tunnel.frames, op: ">=", value: 190}
record: {exclude: []}
```

In a node's ``params``, ``${run_dir}`` stands for the run's own folder (the headless runner's run folder, a
temporary folder when it writes none; the Gazebo launch file's ``run_dir`` argument): files a node keeps
between runs (e.g. rehabilitation session logs, which a node resumes from) then start empty in every run, so a
scenario gives the same result however often it is run in one working directory.

A simulator plugin is a class with a ``Config`` dataclass (see :mod:`sanqin.runtime.config`) and
``__init__(config, ctx: SimContext)``, ``step(t_s, dt_s)``, ``metrics() -> dict``; optionally
``plots(out_dir) -> list[Path]`` and ``done() -> bool`` (ends the run early).
"""

from __future__ import annotations

import importlib
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sanqin.runtime.errors import ScenarioError
from sanqin.runtime.yamlfile import read_yaml

OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class SimulatorEntry:
    """A simulator plugin instance in a scenario."""

    plugin: str
    name: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NodeEntry:
    """A node instance in a scenario."""

    node: str
    name: str
    namespace: str = ""
    params_file: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    remap: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Criterion:
    """A pass criterion: ``metric op value``."""

    metric: str
    op: str
    value: float

    def check(self, metrics: Mapping[str, float]) -> tuple[bool, str]:
        """(passed, readable line) for these metrics; a missing or NaN metric fails."""
        if self.metric not in metrics:
            return False, f"{self.metric} {self.op} {self.value}: metric missing"
        got = metrics[self.metric]
        ok = got == got and OPS[self.op](got, self.value)  # NaN never passes
        return ok, f"{self.metric} = {got:.6g} {self.op} {self.value:g}"


@dataclass(frozen=True)
class Scenario:
    """A validated scenario file."""

    name: str
    description: str
    duration_s: float
    step_s: float
    seed: int
    simulators: tuple[SimulatorEntry, ...]
    nodes: tuple[NodeEntry, ...]
    criteria: tuple[Criterion, ...]
    record_exclude: tuple[str, ...]
    path: Path | None = None


def _req(doc: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in doc:
        raise ScenarioError(f"{where}: missing key {key!r}")
    value = doc[key]
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        raise ScenarioError(f"{where}: {key!r} must be {kind}, got {value!r}")
    return value


def _check_keys(doc: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(doc) - allowed
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")


def parse_scenario(doc: Any, where: str = "scenario") -> Scenario:
    """Validate a scenario document (already parsed YAML)."""
    if not isinstance(doc, Mapping):
        raise ScenarioError(f"{where}: top level must be a mapping")
    _check_keys(
        doc,
        {"name", "description", "duration_s", "step_s", "seed", "simulators", "nodes", "criteria", "record"},
        where,
    )
    name = _req(doc, "name", str, where)
    duration = float(_req(doc, "duration_s", (int, float), where))
    step = float(doc.get("step_s", 0.01))
    if not (duration > 0 and step > 0 and step <= duration):
        raise ScenarioError(f"{where}: need 0 < step_s <= duration_s (got {step}, {duration})")
    sims = []
    for i, s in enumerate(doc.get("simulators") or []):
        w = f"{where}: simulators[{i}]"
        if not isinstance(s, Mapping):
            raise ScenarioError(f"{w}: must be a mapping")
        _check_keys(s, {"plugin", "name", "params"}, w)
        plugin = _req(s, "plugin", str, w)
        if ":" not in plugin:
            raise ScenarioError(f"{w}: plugin must be 'module:Class', got {plugin!r}")
        sims.append(SimulatorEntry(plugin, s.get("name") or plugin.split(":")[1], dict(s.get("params") or {})))
    nodes = []
    for i, n in enumerate(doc.get("nodes") or []):
        w = f"{where}: nodes[{i}]"
        if not isinstance(n, Mapping):
            raise ScenarioError(f"{w}: must be a mapping")
        _check_keys(n, {"node", "name", "namespace", "params_file", "params", "remap"}, w)
        node = _req(n, "node", str, w)
        nodes.append(
            NodeEntry(
                node=node,
                name=n.get("name") or node,
                namespace=n.get("namespace") or "",
                params_file=n.get("params_file"),
                params=dict(n.get("params") or {}),
                remap={str(k): str(v) for k, v in (n.get("remap") or {}).items()},
            )
        )
    crits = []
    for i, c in enumerate(doc.get("criteria") or []):
        w = f"{where}: criteria[{i}]"
        if not isinstance(c, Mapping):
            raise ScenarioError(f"{w}: must be a mapping")
        _check_keys(c, {"metric", "op", "value"}, w)
        op = _req(c, "op", str, w)
        if op not in OPS:
            raise ScenarioError(f"{w}: op must be one of {list(OPS)}, got {op!r}")
        crits.append(Criterion(_req(c, "metric", str, w), op, float(_req(c, "value", (int, float), w))))
    record = doc.get("record") or {}
    if not isinstance(record, Mapping):
        raise ScenarioError(f"{where}: 'record' must be a mapping")
    return Scenario(
        name=name,
        description=str(doc.get("description", "")),
        duration_s=duration,
        step_s=step,
        seed=int(doc.get("seed", 0)),
        simulators=tuple(sims),
        nodes=tuple(nodes),
        criteria=tuple(crits),
        record_exclude=tuple(record.get("exclude") or ()),
    )


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file."""
    path = Path(path)
    sc = parse_scenario(read_yaml(path, ScenarioError), str(path))
    return Scenario(**{**sc.__dict__, "path": path})


def import_object(ref: str) -> Any:
    """Import ``module:attribute`` (raises :class:`ScenarioError` with the reference on failure)."""
    module, _, attr = ref.partition(":")
    try:
        obj: Any = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as err:
        raise ScenarioError(f"cannot import {ref!r}: {err}") from err
    return obj


#: Placeholder for the run's own folder in node params (see the module docstring).
RUN_DIR = "${run_dir}"


def substitute_run_dir(params: Any, run_dir: str) -> Any:
    """``params`` with every ``${run_dir}`` in its strings (nested maps and lists too) replaced by ``run_dir``."""
    if isinstance(params, str):
        return params.replace(RUN_DIR, run_dir)
    if isinstance(params, Mapping):
        return {k: substitute_run_dir(v, run_dir) for k, v in params.items()}
    if isinstance(params, (list, tuple)):
        return type(params)(substitute_run_dir(v, run_dir) for v in params)
    return params
