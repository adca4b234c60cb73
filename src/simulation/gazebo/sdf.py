"""Deterministic SDFormat XML building: elements, number and pose formatting, pretty printing.

Generated files are committed and compared byte for byte with a fresh generation, so everything here
is deterministic: numbers are printed with :func:`num` (12 significant digits, shortest round-trip text,
``-0`` and |x| < 1e-12 as 0) and attributes keep insertion order.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

from sanqin.simulation.gazebo.errors import TwinError

#: The SDFormat version the generated files declare. Gazebo Harmonic (SDFormat 14) reads it and converts
#: it on load; it is also the newest version Debian 12's SDFormat 12 parser (used by the tests) knows.
SDF_VERSION = "1.9"

#: Elements newer than SDF 1.9 that Gazebo Harmonic's sensors read (SDF 1.10/1.11): the checker is told
#: to accept exactly these and nothing else that its spec does not know.
HARMONIC_ELEMENTS = ("gz_frame_id", "optical_frame_id", "camera_info_topic")


def num(value: float | int | bool | str) -> str:
    """A number as SDF text: integers as such, floats to 12 significant digits, no ``-0``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    x = float(value)
    if not math.isfinite(x):
        raise TwinError(f"non-finite number {x!r} cannot go into an SDF file")
    if abs(x) < 1e-12:  # below any physical resolution; also removes -0 and trigonometric residue (6e-17)
        return "0"
    x = float(f"{x:.12g}")  # 12 significant digits: stable across platforms, exact enough for inertias
    text = repr(x)  # shortest round-trip text: identical on every platform
    return text[:-2] if text.endswith(".0") else text


def vec(values: Iterable[float]) -> str:
    """Space-separated numbers (SDF vector / pose text)."""
    return " ".join(num(v) for v in values)


def pose(xyz: Iterable[float] = (0.0, 0.0, 0.0), rpy: Iterable[float] = (0.0, 0.0, 0.0)) -> str:
    """An SDF ``<pose>`` text: x y z roll pitch yaw (m, rad)."""
    values = [*xyz, *rpy]
    if len(values) != 6:
        raise TwinError(f"a pose needs 3 + 3 values, got {values}")
    return vec(values)


def el(parent: ET.Element | None, tag: str, text: Any = None, **attrs: Any) -> ET.Element:
    """A child element (or a root when ``parent`` is None) with optional text and attributes."""
    attrib = {k.rstrip("_"): num(v) if not isinstance(v, str) else v for k, v in attrs.items()}
    node = ET.Element(tag, attrib) if parent is None else ET.SubElement(parent, tag, attrib)
    if text is not None:
        node.text = vec(text) if isinstance(text, (tuple, list)) else num(text)
    return node


def fields(parent: ET.Element, values: dict[str, Any]) -> ET.Element:
    """Add ``<key>value</key>`` children in the mapping's order; return ``parent``."""
    for key, value in values.items():
        if isinstance(value, (list, tuple)) and value and isinstance(value[0], str):
            for item in value:  # repeated element, e.g. <joint_name> per joint
                el(parent, key, item)
        else:
            el(parent, key, value)
    return parent


def plugin(parent: ET.Element, filename: str, name: str, params: dict[str, Any] | None = None) -> ET.Element:
    """A Gazebo system ``<plugin filename= name=>`` with its parameters as child elements."""
    node = el(parent, "plugin", filename=filename, name=name)
    return fields(node, params or {})


def sdf_root() -> ET.Element:
    """An ``<sdf version=...>`` root element."""
    return el(None, "sdf", version=SDF_VERSION)


def to_xml(root: ET.Element, header: str = "") -> str:
    """Pretty-printed XML text with a declaration and an optional leading comment."""
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    lines = ['<?xml version="1.0"?>']
    if header:
        safe = header.replace("--", "- -").strip()
        lines.append("<!--")
        lines += [f"  {line}".rstrip() for line in safe.splitlines()]
        lines.append("-->")
    lines.append(body)
    return "\n".join(lines) + "\n"


def comment(parent: ET.Element, text: str) -> None:
    """An XML comment child (for fidelity notes next to the element they concern)."""
    parent.append(ET.Comment(" " + text.replace("--", "- -") + " "))
