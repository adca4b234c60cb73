"""Look up declared nodes by executable name (the table lives in :mod:`sanqin.registry`)."""

from __future__ import annotations

from sanqin.registry import NODES
from sanqin.runtime.errors import NodeSpecError
from sanqin.runtime.node import NodeSpec
from sanqin.runtime.scenario import import_object


def node_names() -> list[str]:
    """Every node executable Sanqin ships."""
    return sorted(NODES)


def get_node_spec(name: str) -> NodeSpec:
    """The :class:`NodeSpec` of node executable ``name``."""
    if name not in NODES:
        raise NodeSpecError(f"unknown node {name!r}; known: {node_names()}")
    spec = import_object(NODES[name])
    if not isinstance(spec, NodeSpec):
        raise NodeSpecError(f"{NODES[name]} is not a NodeSpec")
    return spec
