"""Typed configs: declared once, validated at load with errors that name the key."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sanqin.runtime.config import (
    load_config,
    nested,
    param,
    param_specs,
    replace_params,
    require,
    to_nested,
    to_params,
)
from sanqin.runtime.errors import ConfigError


@dataclass(frozen=True)
class Voxel:
    size_m: float = param(0.1, "voxel edge (m)", min=0.01, max=5.0)
    enabled: bool = param(True, "downsample at all")


@dataclass(frozen=True)
class Cfg:
    rate_hz: float = param(10.0, "rate (Hz)", min=0.1)
    max_points: int = param(100_000, "cap", min=1)
    mode: str = param("keep", "crop mode", choices=("keep", "remove"))
    box_min_m: tuple[float, ...] = param((-1.0, -1.0, -1.0), "crop box min corner (m)")
    box_max_m: tuple[float, ...] = param((1.0, 1.0, 1.0), "crop box max corner (m)")
    voxel: Voxel = nested(Voxel)

    def __post_init__(self) -> None:
        require(len(self.box_min_m) == 3 and len(self.box_max_m) == 3, "crop box corners need 3 values")
        require(all(a < b for a, b in zip(self.box_min_m, self.box_max_m)), "box_min_m must be < box_max_m")


def test_specs_flatten_nested_sections_with_metadata() -> None:
    specs = {s.name: s for s in param_specs(Cfg)}
    assert set(specs) == {"rate_hz", "max_points", "mode", "box_min_m", "box_max_m", "voxel.size_m", "voxel.enabled"}
    assert specs["voxel.size_m"].min == 0.01 and specs["voxel.size_m"].kind is float
    assert specs["box_min_m"].is_array and specs["mode"].choices == ("keep", "remove")


def test_load_accepts_nested_and_dotted_and_int_for_float() -> None:
    cfg = load_config(Cfg, {"rate_hz": 5, "voxel": {"size_m": 0.2}, "box_max_m": [2, 2, 2]})
    assert cfg.rate_hz == 5.0 and isinstance(cfg.rate_hz, float)
    assert cfg.voxel.size_m == 0.2 and cfg.box_max_m == (2.0, 2.0, 2.0)
    assert load_config(Cfg, {"voxel.size_m": 0.3}).voxel.size_m == 0.3


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ({"rate": 1.0}, r"unknown parameter 'rate'"),
        ({"voxel": {"size": 1.0}}, r"unknown parameter 'voxel.size'"),
        ({"rate_hz": "fast"}, r"'rate_hz': expected float"),
        ({"max_points": 1.5}, r"'max_points': expected int"),
        ({"max_points": True}, r"'max_points': expected int"),
        ({"voxel": {"enabled": 1}}, r"'voxel.enabled': expected bool"),
        ({"rate_hz": 0.0}, r"'rate_hz': 0.0 is below the minimum 0.1"),
        ({"voxel": {"size_m": 9.0}}, r"'voxel.size_m': 9.0 is above the maximum 5.0"),
        ({"mode": "invert"}, r"'mode': 'invert' is not one of"),
        ({"rate_hz": float("nan")}, r"'rate_hz': must be finite"),
        ({"box_min_m": 1.0}, r"'box_min_m': expected a list"),
        ({"box_min_m": [5.0, 0.0, 0.0]}, r"box_min_m must be < box_max_m"),
    ],
)
def test_bad_values_fail_naming_the_key(values: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_config(Cfg, values, where="cfg.yaml: node 'x'")


def test_error_names_the_source() -> None:
    with pytest.raises(ConfigError, match=r"^cfg.yaml: node 'x': unknown parameter"):
        load_config(Cfg, {"nope": 1}, where="cfg.yaml: node 'x'")


def test_ros_reserved_parameters_are_ignored() -> None:
    assert load_config(Cfg, {"use_sim_time": True, "qos_overrides": {"/x": {"depth": 1}}}) == Cfg()


def test_params_round_trip_and_replace() -> None:
    cfg = Cfg(rate_hz=3.0)
    flat = to_params(cfg)
    assert flat["voxel.size_m"] == 0.1 and flat["box_min_m"] == [-1.0, -1.0, -1.0]
    assert load_config(Cfg, to_nested(flat)) == cfg
    assert replace_params(cfg, {"voxel.size_m": 0.5}).voxel.size_m == 0.5
    with pytest.raises(ConfigError, match="maximum"):
        replace_params(cfg, {"voxel.size_m": 50.0})
