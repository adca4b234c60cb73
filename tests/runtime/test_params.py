"""ROS 2 params files: node keys, wildcards, namespaces, and errors naming file, node and key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from sanqin.runtime.config import param
from sanqin.runtime.errors import ConfigError, ParamsFileError
from sanqin.runtime.params import load_node_config, params_for_node, read_params_file, write_params_file


@dataclass(frozen=True)
class Cfg:
    gain: float = param(1.0, "gain", min=0.0)
    frame_id: str = param("base_link", "frame")


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "params.yaml"
    p.write_text(text)
    return p


def test_node_key_wildcard_and_namespace_merge(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        """
/**:
  ros__parameters:
    gain: 2.0
    use_sim_time: true
echo:
  ros__parameters:
    frame_id: lidar
/robot1/echo:
  ros__parameters:
    gain: 3.0
""",
    )
    assert params_for_node(p, "echo") == {"gain": 2.0, "use_sim_time": True, "frame_id": "lidar"}
    cfg = load_node_config(Cfg, p, "echo", "robot1")
    assert cfg == Cfg(gain=3.0, frame_id="base_link")
    assert load_node_config(Cfg, p, "echo") == Cfg(gain=2.0, frame_id="lidar")


def test_unknown_key_names_file_node_and_key(tmp_path: Path) -> None:
    p = _write(tmp_path, "echo:\n  ros__parameters:\n    gian: 2.0\n")
    with pytest.raises(ConfigError, match=rf"{p}: node 'echo': unknown parameter 'gian'"):
        load_node_config(Cfg, p, "echo")


def test_wrong_type_names_file_node_and_key(tmp_path: Path) -> None:
    p = _write(tmp_path, "echo:\n  ros__parameters:\n    gain: [1, 2]\n")
    with pytest.raises(ConfigError, match=rf"{p}: node 'echo': parameter 'gain': expected float"):
        load_node_config(Cfg, p, "echo")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("echo: [1, 2", "not valid YAML"),
        ("- a\n- b\n", "top level must be a mapping"),
        ("echo:\n  gain: 1.0\n", "expected a 'ros__parameters' mapping"),
        ("echo:\n  ros__parameters: 3\n", "'ros__parameters' must be a mapping"),
        ("echo:\n  ros__parameters: {}\n  extra: 1\n", "unexpected keys"),
    ],
)
def test_malformed_files_raise_params_file_error(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ParamsFileError, match=match):
        read_params_file(_write(tmp_path, text))


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ParamsFileError, match="cannot read params file"):
        read_params_file(tmp_path / "nope.yaml")


def test_written_params_file_reads_back(tmp_path: Path) -> None:
    out = tmp_path / "used.yaml"
    write_params_file(out, {"echo": Cfg(gain=4.5)})
    assert load_node_config(Cfg, out, "echo") == Cfg(gain=4.5)


@pytest.mark.parametrize(
    ("key", "namespace", "applies"),
    [
        ("/**", "", True),
        ("/**", "a/b", True),
        ("/**/echo", "", True),
        ("/**/echo", "robot1", True),
        ("/robot1/*", "robot1", True),
        ("/robot2/*", "robot1", False),
        ("echo", "", True),
        ("echo", "robot1", False),
        ("/robot1/echo", "robot1", True),
        ("other", "", False),
    ],
)
def test_node_key_matching_follows_rcl(tmp_path: Path, key: str, namespace: str, applies: bool) -> None:
    p = _write(tmp_path, f"{key}:\n  ros__parameters:\n    gain: 7.0\n")
    assert (load_node_config(Cfg, p, "echo", namespace).gain == 7.0) is applies
