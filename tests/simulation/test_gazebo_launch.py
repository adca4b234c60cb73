"""Twin launch files: consistent with the registry and configs, parsed by the real launch_xml frontend."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from sanqin.runtime.launch_check import check_launch_file
from sanqin.runtime.paths import share_dir
from sanqin.runtime.scenario import load_scenario

SHARE = share_dir()
TWINS = yaml.safe_load((SHARE / "sim" / "gazebo" / "twins.yaml").read_text())["twins"]
LAUNCHES = sorted(SHARE / info["launch"] for info in TWINS.values())


def _root(path: Path) -> ET.Element:
    return ET.parse(path).getroot()  # noqa: S314 - repository-owned, generated file


def _share_path(text: str) -> Path:
    return SHARE / text.replace("$(find-pkg-share sanqin)/", "")


@pytest.mark.parametrize("path", LAUNCHES, ids=lambda p: p.name)
def test_launch_passes_the_foundation_check(path: Path) -> None:
    assert check_launch_file(path, SHARE) == []


@pytest.mark.parametrize("name", sorted(TWINS))
def test_launch_starts_headless_gazebo_spawns_bridges_and_the_scenario_nodes(name: str) -> None:
    root = _root(SHARE / TWINS[name]["launch"])
    (gz,) = root.findall("include")
    assert gz.get("file") == "$(find-pkg-share ros_gz_sim)/launch/gz_sim.launch.py"
    gz_args = {a.get("name"): a.get("value") for a in gz.findall("arg")}
    assert gz_args["gz_args"].startswith("-s -r --headless-rendering ")
    assert gz_args["on_exit_shutdown"] == "true"
    assert root.find("set_parameter[@name='use_sim_time']").get("value") == "true"
    args = {a.get("name"): a.get("default") for a in root.findall("arg")}
    assert _share_path(args["world"]).is_file()
    assert int(args["iterations"]) == TWINS[name]["iterations"]
    nodes = root.findall("node")
    spawns = [n for n in nodes if n.get("pkg") == "ros_gz_sim" and n.get("exec") == "create"]
    assert spawns or TWINS[name]["ardupilot_sitl"]  # ArduPilot vehicles are part of the world file
    for s in spawns:
        argv = s.get("args").replace("$(find-pkg-share sanqin)", str(SHARE)).split()
        assert argv[argv.index("-world") + 1] == name
        assert Path(argv[argv.index("-file") + 1]).is_file()
    (bridge,) = [n for n in nodes if n.get("pkg") == "ros_gz_bridge"]
    assert bridge.get("exec") == "parameter_bridge"
    assert _share_path(bridge.find("param[@name='config_file']").get("value")) == SHARE / TWINS[name]["bridge"]
    scenario = load_scenario(SHARE / "sim" / "scenarios" / f"{name}.yaml")
    ours = [n for n in nodes if n.get("pkg") == "sanqin"]
    for entry in scenario.nodes:
        (node,) = [n for n in ours if n.get("name") == entry.name]
        assert node.get("exec") == entry.node
        assert {r.get("from"): r.get("to") for r in node.findall("remap")} == entry.remap
        if entry.params_file:
            assert _share_path(node.find("param[@from]").get("from")) == SHARE / entry.params_file
    record = root.find("group/executable[@name='record']").get("cmd")
    assert "--use-sim-time" in record and " /clock" in record


def _ros_launch_available() -> bool:
    try:
        import launch.frontend  # noqa: F401
        import launch_ros  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _ros_launch_available(), reason="ROS 2 launch/launch_xml not importable (source ROS 2)")
@pytest.mark.parametrize("path", LAUNCHES, ids=lambda p: p.name)
def test_real_launch_xml_frontend_parses_the_file(path: Path) -> None:
    from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
    from launch.frontend import Parser
    from launch_ros.actions import Node, SetParameter

    root, parser = Parser.load(str(path))
    description = parser.parse_description(root)
    kinds = [type(e) for e in description.entities]
    assert DeclareLaunchArgument in kinds and IncludeLaunchDescription in kinds and SetParameter in kinds
    assert sum(k is Node for k in kinds) == len(_root(path).findall("node"))  # spawns, bridge, our nodes
    assert os.path.basename(str(path)).startswith("gz_")
