"""The industrial-bay twin holds the headless scene's boxes and walks its people on the headless schedule."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from sanqin.runtime.config import load_config
from sanqin.runtime.paths import share_dir
from sanqin.runtime.scenario import load_scenario
from sanqin.simulation.gazebo.twin import headless_simulator
from sanqin.simulation.industrial_bay import IndustrialBaySim

SHARE = share_dir()
GZ = SHARE / "sim" / "gazebo"


def _parse(path: Path) -> ET.Element:
    return ET.parse(path).getroot()  # noqa: S314 - repository-owned, generated file


def _config():
    sc = load_scenario(SHARE / "sim" / "scenarios" / "industrial_bay_obstacles.yaml")
    return load_config(IndustrialBaySim.Config, sc.simulators[0].params)


def _objects(config, t: float):
    sc = load_scenario(SHARE / "sim" / "scenarios" / "industrial_bay_obstacles.yaml")
    return headless_simulator(sc, sc.simulators[0].name, _CACHE).objects(t)


_CACHE: dict = {}


def _floats(text: str) -> np.ndarray:
    return np.array([float(v) for v in text.split()])


def test_static_boxes_are_the_headless_objects() -> None:
    cfg = _config()
    model = _parse(GZ / "models" / "industrial_bay_obstacles_bay" / "model.sdf")
    boxes = {v.get("name")[: -len("_visual")]: v for v in model.iter("visual")}
    static = [o for o in _objects(cfg, 0.0) if o.kind in ("pallet", "person")]
    assert len(boxes) == 5 + len(static)
    counts: dict[str, int] = {}
    for o in static:
        k = counts[o.kind] = counts.get(o.kind, 0) + 1
        v = boxes[f"{o.kind}_{k}"]
        p = _floats(v.findtext("pose"))
        np.testing.assert_allclose(p[:3], o.center_m, atol=1e-9)
        assert p[5] == pytest.approx(o.yaw_rad)
        np.testing.assert_allclose(_floats(v.findtext("geometry/box/size")), o.size_m)


def _actor_pose(actor: ET.Element, t: float) -> np.ndarray:
    wps = [(float(w.findtext("time")), _floats(w.findtext("pose"))) for w in actor.iter("waypoint")]
    period = wps[-1][0]
    t = t % period
    for (t0, p0), (t1, p1) in zip(wps, wps[1:]):
        if t0 <= t <= t1:
            return p0[:3] + (p1[:3] - p0[:3]) * (t - t0) / (t1 - t0)
    raise AssertionError("time outside the trajectory")


def test_walkers_follow_the_headless_schedule() -> None:
    cfg = _config()
    world = _parse(GZ / "worlds" / "industrial_bay_obstacles.sdf")
    actors = world.findall("world/actor")
    assert len(actors) == len(cfg.walkers) // 5
    for t in np.linspace(0.0, 30.0, 61):
        walkers = [o for o in _objects(cfg, float(t)) if o.kind == "walker"]
        for actor, o in zip(actors, walkers):
            np.testing.assert_allclose(_actor_pose(actor, float(t)), o.center_m, atol=2e-3)


def test_base_is_a_mecanum_drive_with_roller_friction() -> None:
    text = (GZ / "models" / "industrial_bay_obstacles_base" / "model.sdf").read_text()
    model = _parse(GZ / "models" / "industrial_bay_obstacles_base" / "model.sdf")
    assert [p.get("name") for p in model.iter("plugin")].count("gz::sim::systems::MecanumDrive") == 1
    assert text.count('gz:expressed_in="base_link"') == 4
    mu2 = [float(e.text) for e in model.iter("mu2")]
    assert mu2 == [0.0] * 4
