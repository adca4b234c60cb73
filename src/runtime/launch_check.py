"""Static check of launch_xml files against the node registry and the typed configs (no ROS needed).

For every ``<node pkg="sanqin" exec="...">``: the executable is a declared node; every
``<param from="$(find-pkg-share sanqin)/..."/>`` file exists and each of its keys for that node
exists in the node's config with a valid value; every inline ``<param name= value=>`` names a config
key; ``<include file="$(find-pkg-share sanqin)/...">`` targets exist. ``$(var x)`` resolves to the
``<arg name="x" default="...">`` of the same file.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import yaml

from sanqin.registry import NODES
from sanqin.runtime.config import load_config
from sanqin.runtime.errors import ConfigError, NodeSpecError, ScenarioError
from sanqin.runtime.params import params_for_node

_SUBST = re.compile(r"\$\((\S+)\s*([^)]*)\)")


@dataclass(frozen=True)
class LaunchNode:
    """A Sanqin node found in a launch file."""

    executable: str
    name: str
    namespace: str
    params_files: tuple[Path, ...]
    inline_params: dict[str, str]


def _resolve(text: str, args: dict[str, str], share: Path, problems: list[str], where: str) -> str:
    def sub(m: re.Match[str]) -> str:
        kind, rest = m.group(1), m.group(2).strip()
        if kind == "find-pkg-share":
            if rest != "sanqin":
                return f"<{rest}>"
            return str(share)
        if kind == "var":
            if rest not in args:
                problems.append(f"{where}: $(var {rest}) has no <arg name='{rest}' default=...>")
                return ""
            return args[rest]
        return m.group(0)

    previous = None
    while previous != text:
        previous, text = text, _SUBST.sub(sub, text)
    return text


def parse_launch(path: Path, share: Path) -> tuple[list[LaunchNode], list[Path], list[str]]:
    """Sanqin nodes, included files and parse problems of one launch_xml file."""
    problems: list[str] = []
    try:
        root = ET.parse(path).getroot()  # noqa: S314 - trusted, repository-owned file
    except ET.ParseError as err:
        return [], [], [f"{path}: not well-formed XML: {err}"]
    if root.tag != "launch":
        problems.append(f"{path}: root element must be <launch>, got <{root.tag}>")
    args = {a.get("name", ""): a.get("default", "") for a in root.iter("arg") if a.get("default") is not None}
    nodes: list[LaunchNode] = []
    includes: list[Path] = []
    for el in root.iter("include"):
        target = _resolve(el.get("file", ""), args, share, problems, str(path))
        if target and not target.startswith("<"):
            includes.append(Path(target))
    for el in root.iter("node"):
        if el.get("pkg") != "sanqin":
            continue
        where = f"{path}: node exec={el.get('exec')!r}"
        exe = _resolve(el.get("exec", ""), args, share, problems, where)
        files: list[Path] = []
        inline: dict[str, str] = {}
        for p in el.findall("param"):
            if p.get("from") is not None:
                files.append(Path(_resolve(p.get("from", ""), args, share, problems, where)))
            elif p.get("name") is not None:
                inline[p.get("name", "")] = _resolve(p.get("value", ""), args, share, problems, where)
        nodes.append(
            LaunchNode(
                executable=exe,
                name=_resolve(el.get("name", exe), args, share, problems, where),
                namespace=_resolve(el.get("namespace", ""), args, share, problems, where),
                params_files=tuple(files),
                inline_params=inline,
            )
        )
    return nodes, includes, problems


def check_launch_file(path: str | Path, share: Path) -> list[str]:
    """Every problem found in one launch file (empty when it is consistent)."""
    from sanqin.runtime.registry import get_node_spec

    path = Path(path)
    nodes, includes, problems = parse_launch(path, share)
    for inc in includes:
        if not inc.is_file():
            problems.append(f"{path}: included file {inc} does not exist")
    for node in nodes:
        where = f"{path}: node {node.name!r} (exec {node.executable!r})"
        if node.executable not in NODES:
            problems.append(f"{where}: executable is not a declared node; known: {sorted(NODES)}")
            continue
        try:
            spec = get_node_spec(node.executable)
        except (NodeSpecError, ScenarioError) as err:
            problems.append(f"{where}: {err}")
            continue
        values: dict[str, object] = {}
        for f in node.params_files:
            if not f.is_file():
                problems.append(f"{where}: params file {f} does not exist")
                continue
            try:  # reads and checks the whole file, then merges this node's keys
                values.update(params_for_node(f, node.name, node.namespace))
            except ConfigError as err:
                problems.append(f"{where}: {err}")
        for key, raw in node.inline_params.items():
            values[key] = yaml.safe_load(raw) if raw else raw
        try:
            load_config(spec.config, values, where=where)
        except ConfigError as err:
            problems.append(str(err))
    return problems


def check_all(share: Path) -> list[str]:
    """Problems in every ``launch/*.launch.xml`` under the share folder."""
    problems: list[str] = []
    for path in sorted((share / "launch").glob("*.launch.xml")):
        problems.extend(check_launch_file(path, share))
    return problems
