"""Launch files are checked against the node registry, params files and typed configs."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanqin.runtime.launch_check import check_all, check_launch_file
from sanqin.runtime.paths import share_dir


def test_shipped_launch_files_are_consistent() -> None:
    share = share_dir()
    assert sorted((share / "launch").glob("*.launch.xml")), "no launch files shipped"
    assert check_all(share) == []


@pytest.fixture
def fake_share(tmp_path: Path) -> Path:
    (tmp_path / "config").mkdir()
    (tmp_path / "launch").mkdir()
    (tmp_path / "config" / "pre.yaml").write_text(
        "lidar_preprocessor:\n  ros__parameters:\n    {key}: {value}\n".format(key="voxel_size_m", value="0.2")
    )
    return tmp_path


def _launch(share: Path, body: str) -> Path:
    p = share / "launch" / "t.launch.xml"
    p.write_text(f"<launch>\n<arg name='cfg' default='pre.yaml'/>\n{body}\n</launch>\n")
    return p


def test_missing_executable_is_reported(fake_share: Path) -> None:
    p = _launch(fake_share, "<node pkg='sanqin' exec='no_such_node' name='x'/>")
    problems = check_launch_file(p, fake_share)
    assert len(problems) == 1 and "'no_such_node'" in problems[0] and "not a declared node" in problems[0]


def test_missing_params_file_is_reported(fake_share: Path) -> None:
    p = _launch(
        fake_share,
        "<node pkg='sanqin' exec='lidar_preprocessor' name='lidar_preprocessor'>"
        "<param from='$(find-pkg-share sanqin)/config/absent.yaml'/></node>",
    )
    problems = check_launch_file(p, fake_share)
    assert any("absent.yaml does not exist" in s for s in problems)


def test_unknown_parameter_key_is_reported(fake_share: Path) -> None:
    p = _launch(
        fake_share,
        "<node pkg='sanqin' exec='lidar_preprocessor' name='lidar_preprocessor'>"
        "<param name='no_such_key' value='1.0'/></node>",
    )
    problems = check_launch_file(p, fake_share)
    assert any("unknown parameter 'no_such_key'" in s for s in problems)


def test_var_substitution_and_other_packages(fake_share: Path) -> None:
    p = _launch(
        fake_share,
        "<node pkg='ros_gz_bridge' exec='parameter_bridge' name='bridge'/>"
        "<include file='$(find-pkg-share sanqin)/launch/$(var cfg).launch.xml'/>",
    )
    problems = check_launch_file(p, fake_share)
    assert problems == [f"{p}: included file {fake_share}/launch/pre.yaml.launch.xml does not exist"]


def test_malformed_xml_is_reported(fake_share: Path) -> None:
    p = fake_share / "launch" / "bad.launch.xml"
    p.write_text("<launch><node pkg='sanqin'</launch>")
    assert "not well-formed XML" in check_launch_file(p, fake_share)[0]
