"""Only ``src/ros/`` may import rclpy or ROS message packages: converters and cores stay ROS-free."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
#: Top-level modules that exist only in a ROS 2 installation.
ROS_ONLY = {
    "rclpy", "rosidl_runtime_py", "rosidl_parser", "launch_ros", "tf2_ros", "builtin_interfaces", "std_msgs",
    "std_srvs", "sensor_msgs", "geometry_msgs", "nav_msgs", "visualization_msgs", "trajectory_msgs",
    "diagnostic_msgs", "tf2_msgs", "sensor_msgs_py", "cv_bridge",
}  # fmt: skip


def ros_imports(source: str, filename: str) -> list[tuple[int, str]]:
    """(line, module) of every ROS-only import in ``source``, static or via importlib/__import__ literals."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                names = [node.args[0].value]
        found += [(node.lineno, n) for n in names if n.split(".")[0] in ROS_ONLY]
    return found


def _sources():
    return sorted(p for p in SRC.rglob("*.py") if "ros" not in p.relative_to(SRC).parts[:1])


def test_scanner_catches_every_form():
    code = "import rclpy\nfrom rclpy.node import Node\nimport sensor_msgs.msg as m\nimportlib.import_module('rclpy')\n"
    assert [n for _, n in ros_imports(code, "x.py")] == ["rclpy", "rclpy.node", "sensor_msgs.msg", "rclpy"]
    assert ros_imports("import numpy\nfrom sanqin.ros import adapter\n", "x.py") == []


def test_msgs_package_is_scanned():
    names = {p.relative_to(SRC).as_posix() for p in _sources()}
    assert "msgs/pointcloud.py" in names and "common/types.py" in names
    assert not any(n.startswith("ros/") for n in names)


@pytest.mark.parametrize("path", _sources(), ids=lambda p: p.relative_to(SRC).as_posix())
def test_no_ros_imports_outside_src_ros(path):
    try:
        offenders = ros_imports(path.read_text(encoding="utf-8"), str(path))
    except SyntaxError as err:
        pytest.fail(f"{path.relative_to(SRC)} does not parse, so its imports cannot be checked: {err}")
    assert not offenders, f"{path.relative_to(SRC)} imports ROS-only modules {offenders}; only src/ros/ may"
