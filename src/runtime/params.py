"""ROS 2 params files (``<node>: ros__parameters: {...}``) read into typed configs.

Node keys may be plain names (``lidar_preprocessor``, meaning ``/lidar_preprocessor``), fully qualified
(``/tunnel/lidar_preprocessor``) or wildcards (``/**``, ``/**/lidar_preprocessor``, ``/tunnel/*``), matched
against the node's fully qualified name as rcl does. Parameters for one
node are merged from every matching key, wildcards first, then the more specific ones.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

from sanqin.runtime.config import flatten, load_config, to_nested, to_params
from sanqin.runtime.errors import ConfigError, ParamsFileError
from sanqin.runtime.yamlfile import read_yaml

T = TypeVar("T")


def read_params_file(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read a params file into ``{node_key: {dotted_param: value}}``; raise on a malformed file."""
    path = Path(path)
    doc = read_yaml(path, ParamsFileError, "params file")
    if doc is None:
        return {}
    if not isinstance(doc, Mapping):
        raise ParamsFileError(f"{path}: top level must be a mapping of node names")
    out: dict[str, dict[str, Any]] = {}
    for node_key, body in doc.items():
        where = f"{path}: node {node_key!r}"
        if not isinstance(body, Mapping) or "ros__parameters" not in body:
            raise ParamsFileError(f"{where}: expected a 'ros__parameters' mapping under the node name")
        extra = set(body) - {"ros__parameters"}
        if extra:
            raise ParamsFileError(f"{where}: unexpected keys {sorted(extra)} beside 'ros__parameters'")
        params = body["ros__parameters"] or {}
        if not isinstance(params, Mapping):
            raise ParamsFileError(f"{where}: 'ros__parameters' must be a mapping")
        out[str(node_key)] = flatten(params)
    return out


def _fqn(name: str, namespace: str) -> str:
    ns = "/" + namespace.strip("/") if namespace.strip("/") else ""
    return f"{ns}/{name}"


def _key_matches(key: str, name: str, namespace: str) -> int:
    """Specificity of a params-file node key for this node (0 = no match)."""
    fqn = _fqn(name, namespace)
    if key == "/**":
        return 1
    if "*" in key:
        patterns = (key, key.replace("/**/", "/"), key.replace("/**", "/*"))
        return 2 if any(fnmatch.fnmatchcase(fqn, p) for p in patterns) else 0
    # rcl prefixes a key without a leading slash with "/": "echo" means "/echo", not "/robot1/echo".
    if "/" + key.lstrip("/") == fqn:
        return 3
    return 0


def params_for_node(path: str | Path, name: str, namespace: str = "") -> dict[str, Any]:
    """The dotted parameters a params file gives one node (merged over matching keys)."""
    nodes = read_params_file(path)
    matches = sorted(((_key_matches(k, name, namespace), k) for k in nodes), key=lambda m: m[0])
    merged: dict[str, Any] = {}
    for score, key in matches:
        if score:
            merged.update(nodes[key])
    return merged


def load_node_config(
    cls: type[T],
    path: str | Path | None,
    name: str,
    namespace: str = "",
    overrides: Mapping[str, Any] | None = None,
) -> T:
    """Load the typed config of node ``name`` from a params file plus overrides; errors name file, node, key."""
    values: dict[str, Any] = {}
    where = f"node {name!r}"
    if path is not None:
        values.update(params_for_node(path, name, namespace))
        where = f"{path}: node {name!r}"
    if overrides:
        values.update(flatten(overrides))
    try:
        return load_config(cls, values, where=where)
    except ConfigError:
        raise
    except TypeError as err:  # an unsupported annotation in the config class itself
        raise ConfigError(f"{where}: {err}") from err


def write_params_file(path: str | Path, configs: Mapping[str, Any]) -> None:
    """Write ``{node_name: config}`` as a ROS 2 params file (the configs a run actually used)."""
    doc = {name: {"ros__parameters": to_nested(to_params(cfg))} for name, cfg in configs.items()}
    Path(path).write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
