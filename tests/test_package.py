"""The ROS 2 package is whole: manifest, entry points, params files and launch files agree with the code."""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sanqin.registry import NODES
from sanqin.runtime.params import load_node_config, read_params_file
from sanqin.runtime.registry import get_node_spec

ROOT = Path(__file__).resolve().parents[1]


def _manifest() -> ET.Element:
    return ET.parse(ROOT / "package.xml").getroot()  # noqa: S314 - our own manifest


def test_package_xml_is_format_3_ament_python_apache() -> None:
    root = _manifest()
    assert root.get("format") == "3"
    assert root.findtext("name") == "sanqin"
    assert root.findtext("license") == "Apache-2.0"
    assert root.find("export/build_type").text == "ament_python"
    assert (ROOT / "resource" / "sanqin").is_file()


def _used_packages() -> set[str]:
    pkgs = {"rclpy", "diagnostic_msgs", "std_srvs"}
    for name in NODES:
        spec = get_node_spec(name)
        for t in [i.msg_type for i in spec.inputs] + [o.msg_type for o in spec.outputs]:
            pkgs.add(t.split("/")[0])
        pkgs.update(s.srv_type.split("/")[0] for s in spec.services)
    return pkgs


def test_every_message_package_used_is_a_dependency() -> None:
    root = _manifest()
    deps = {e.text for tag in ("depend", "exec_depend") for e in root.findall(tag)}
    missing = _used_packages() - deps
    assert not missing, f"package.xml lacks <depend> on {sorted(missing)}"


def test_setup_declares_one_entry_point_per_node_plus_cli() -> None:
    tree = ast.parse((ROOT / "setup.py").read_text())
    text = ast.unparse(tree)
    assert "package_dir={PACKAGE: 'src'}" in text
    assert ".ros.entrypoints:{name}" in text and ".cli:main" in text


@pytest.fixture(autouse=True)
def _setup_reader(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # setup.py reads the registry without importing the package; expose its helper to the tests.
    src = (ROOT / "setup.py").read_text().split("setup(\n")[0]
    src = src.replace("HERE = Path(__file__).resolve().parent", f"HERE = Path({str(ROOT)!r})")
    (tmp_path / "setup_reader.py").write_text(src)
    monkeypatch.syspath_prepend(str(tmp_path))


def test_setup_node_names_match_registry() -> None:
    from setup_reader import node_names, packages

    assert node_names() == sorted(NODES)
    pkgs = packages()
    for area in ("runtime", "ros", "msgs", "common"):
        assert f"sanqin.{area}" in pkgs


def test_entry_points_resolve_without_rclpy() -> None:
    from sanqin.ros import entrypoints

    for name in NODES:
        assert callable(getattr(entrypoints, name))
    with pytest.raises(AttributeError):
        entrypoints.no_such_node  # noqa: B018


@pytest.mark.parametrize("name", sorted(NODES))
def test_node_has_a_params_file_that_builds_its_config(name: str) -> None:
    path = ROOT / "config" / f"{name}.yaml"
    assert path.is_file(), f"config/{name}.yaml missing"
    assert name in read_params_file(path) or "/**" in read_params_file(path)
    load_node_config(get_node_spec(name).config, path, name)


@pytest.mark.parametrize("name", sorted(NODES))
def test_node_is_launched_by_some_system(name: str) -> None:
    """Every node is in a launch file — or is a Gazebo twin's helper that an exporter adds to a generated launch
    file when its scenario needs it (e.g. a fault the shipped scenarios do not inject)."""
    launch_text = "".join(p.read_text() for p in (ROOT / "launch").glob("*.launch.xml"))
    exporters = "".join(p.read_text() for p in (ROOT / "src" / "simulation" / "gazebo").glob("*.py"))
    assert (f'exec="{name}"' in launch_text or f"exec='{name}'" in launch_text
            or f'node="{name}"' in exporters), f"{name} is in no launch file and no twin exporter adds it"


def test_every_test_folder_is_a_package() -> None:
    # Without __init__.py, two test files with the same name in different folders collide in pytest.
    missing = [
        str(d.relative_to(ROOT))
        for d in [ROOT / "tests", *(ROOT / "tests").rglob("*")]
        if d.is_dir() and d.name != "__pycache__" and any(d.glob("*.py")) and not (d / "__init__.py").is_file()
    ]
    assert not missing, f"add __init__.py to {missing}"
