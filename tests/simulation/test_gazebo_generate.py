"""The Gazebo twins are generated from the scenario files and cannot drift from them or from the headless sims."""

from __future__ import annotations

import math
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import yaml

from sanqin.runtime.config import load_config
from sanqin.runtime.paths import share_dir
from sanqin.runtime.scenario import load_scenario
from sanqin.simulation.gazebo import cli
from sanqin.simulation.gazebo.errors import TwinError
from sanqin.simulation.gazebo.generate import compare, generate, write_files
from sanqin.simulation.gazebo.mesh import obj_text, read_obj, split_by_material
from sanqin.simulation.gazebo.sdf import num
from sanqin.simulation.gazebo.twin import EXPORTERS, exporter
from sanqin.simulation.lidar import LidarConfig, LidarSimulator
from sanqin.simulation.tunnel_lidar import TunnelLidarSim
from sanqin.simulation.worlds.tunnel import MATERIALS, build_tunnel

SHARE = share_dir()


def _parse(path: Path) -> ET.Element:
    return ET.parse(path).getroot()  # noqa: S314 - repository-owned, generated file


@pytest.fixture(scope="module")
def generation():
    return generate(SHARE)


def test_committed_twins_are_up_to_date(generation) -> None:
    missing, different, stale = compare(generation, SHARE)
    assert (missing, different, stale) == ([], [], []), (
        "the Gazebo twins differ from their scenarios: run `sanqin gazebo generate` and commit the result"
    )


def test_every_scenario_with_an_exporter_has_a_twin(generation) -> None:
    for path in sorted((SHARE / "sim" / "scenarios").glob("*.yaml")):
        sc = load_scenario(path)
        if sc.name in generation.twins:
            assert all(s.plugin in EXPORTERS for s in sc.simulators)
            assert f"launch/gz_{sc.name}.launch.xml" in generation.files
        elif sc.simulators and all(s.plugin in EXPORTERS for s in sc.simulators):  # refused, with a reason
            assert len(generation.skipped[sc.name]) > 20 and "no twin exporter" not in generation.skipped[sc.name]
        if sc.name not in generation.twins:
            assert sc.name in generation.skipped, sc.name  # with its reason (no exporter, or headless-only)
    index = yaml.safe_load(generation.files["sim/gazebo/twins.yaml"])
    assert sorted(index["twins"]) == sorted(generation.twins)


def test_twins_record_no_unused_command_split_outputs(generation) -> None:
    # every joint_command_split a twin adds remaps the outputs it uses; joint_<i> left unremapped is never published
    index = yaml.safe_load(generation.files["sim/gazebo/twins.yaml"])
    splits = [n for t in generation.twins.values() for n in t.nodes if n.node == "joint_command_split"]
    assert {n.name for n in splits} >= {"forward_position_split", "carriage_command_split"}  # arm, rail
    assert any(n.params["on_timeout"] == "hold_value" for n in splits if "on_timeout" in n.params)  # rehab drives
    for name, twin in index["twins"].items():
        unused = [t for t in twin["recorded_topics"] if re.fullmatch(r"/joint_\d+", t)]
        assert unused == [], name


def _tunnel_config():
    sc = load_scenario(SHARE / "sim" / "scenarios" / "tunnel_lidar.yaml")
    entry = sc.simulators[0]
    return load_config(TunnelLidarSim.Config, entry.params)


def test_tunnel_meshes_are_the_headless_mesh() -> None:
    cfg = _tunnel_config()
    world = build_tunnel(cfg.world)
    model = SHARE / "sim" / "gazebo" / "models" / "tunnel_lidar_tunnel"
    parts = split_by_material(world.mesh, world.triangle_material, list(MATERIALS))
    total = 0
    for mat, (verts, tris) in parts.items():
        v, t = read_obj(model / "meshes" / f"{mat}.obj")
        np.testing.assert_array_equal(t, tris)
        np.testing.assert_allclose(v, verts, atol=6e-7)
        total += len(t)
    assert total == world.triangles
    sdf = _parse(model / "model.sdf")
    uris = {u.text for u in sdf.iter("uri")}
    assert uris == {f"model://tunnel_lidar_tunnel/meshes/{m}.obj" for m in parts}
    retro = {v.get("name"): float(v.findtext("laser_retro")) for v in sdf.iter("visual")}
    for mat in parts:
        assert retro[f"{mat}_visual"] == pytest.approx(cfg.lidar.intensity_scale * MATERIALS[mat])


def test_gpu_lidar_matches_the_headless_lidar() -> None:
    cfg = _tunnel_config()
    lidar: LidarConfig = cfg.lidar
    sdf = _parse(SHARE / "sim" / "gazebo" / "models" / "tunnel_lidar_robot" / "model.sdf")
    (sensor,) = [s for s in sdf.iter("sensor") if s.get("type") == "gpu_lidar"]
    assert float(sensor.findtext("update_rate")) == lidar.rate_hz
    assert sensor.findtext("gz_frame_id") == lidar.frame_id
    assert [float(x) for x in sensor.findtext("pose").split()] == pytest.approx([*lidar.mount_xyz_m,
                                                                                  *lidar.mount_rpy_rad])
    h, v = sensor.find("lidar/scan/horizontal"), sensor.find("lidar/scan/vertical")
    n, lo, hi = int(h.findtext("samples")), float(h.findtext("min_angle")), float(h.findtext("max_angle"))
    sim = LidarSimulator.__new__(LidarSimulator)
    LidarSimulator.__init__(sim, lidar, scene=None, rng=np.random.default_rng(0))  # scene is not touched
    np.testing.assert_allclose(np.linspace(lo, hi, n), sim.azimuth_rad, atol=1e-9)
    elev = np.sort(lidar.elevations_rad())
    assert int(v.findtext("samples")) == elev.size
    assert float(v.findtext("min_angle")) == pytest.approx(elev[0], abs=1e-9)
    assert float(v.findtext("max_angle")) == pytest.approx(elev[-1], abs=1e-9)
    assert float(sensor.findtext("lidar/range/min")) == lidar.min_range_m
    assert float(sensor.findtext("lidar/range/max")) == lidar.max_range_m
    assert float(sensor.findtext("lidar/noise/stddev")) == lidar.range_noise_sigma_m
    text = (SHARE / "sim" / "gazebo" / "models" / "tunnel_lidar_robot" / "model.sdf").read_text()
    assert "non-uniform elevations" in text  # vlp32c cannot be reproduced exactly and the model says so


def test_robot_body_is_the_lidar_self_box() -> None:
    cfg = _tunnel_config()
    sdf = _parse(SHARE / "sim" / "gazebo" / "models" / "tunnel_lidar_robot" / "model.sdf")
    (body,) = [v for v in sdf.iter("visual") if v.get("name") == "body_visual"]
    size = np.array([float(x) for x in body.findtext("geometry/box/size").split()])
    centre = np.array([float(x) for x in body.findtext("pose").split()[:3]])
    np.testing.assert_allclose(centre - size / 2, cfg.lidar.self_box_min_m)
    np.testing.assert_allclose(centre + size / 2, cfg.lidar.self_box_max_m)
    drive = [p for p in sdf.iter("plugin") if p.get("name") == "gz::sim::systems::DiffDrive"]
    assert len(drive) == 1 and len(drive[0].findall("left_joint")) == 2


def test_generate_check_detects_edits_and_stale_files(tmp_path: Path, generation) -> None:
    share = tmp_path / "share"
    for sub in ("sim/scenarios", "config"):
        shutil.copytree(SHARE / sub, share / sub)
    shutil.copy(SHARE / "package.xml", share / "package.xml")
    (share / "launch").mkdir()
    assert cli.main(["generate", "--share", str(share)]) == 0
    assert cli.main(["generate", "--check", "--share", str(share)]) == 0
    world = share / "sim" / "gazebo" / "worlds" / "tunnel_lidar.sdf"
    world.write_text(world.read_text().replace("0.001", "0.002"))
    (share / "launch" / "gz_gone.launch.xml").write_text("<launch/>")
    assert cli.main(["generate", "--check", "--share", str(share)]) == 1
    write_files(generate(share), share)
    assert not (share / "launch" / "gz_gone.launch.xml").exists()
    assert compare(generate(share), share) == ([], [], [])


def test_unknown_plugin_has_no_exporter() -> None:
    with pytest.raises(TwinError, match="no Gazebo twin exporter"):
        exporter("sanqin.simulation.nothing:Nothing")


@pytest.mark.parametrize(("value", "text"), [(0.1, "0.1"), (-0.0, "0"), (3.0, "3"), (2, "2"), (True, "true"),
                                             (1e-13, "0"), (-math.pi, "-3.14159265359"), (1e-5, "1e-05"),
                                             (1.23456789e-7, "1.23456789e-07")])
def test_numbers_are_formatted_deterministically(value, text) -> None:
    assert num(value) == text


def test_non_finite_numbers_are_rejected() -> None:
    with pytest.raises(TwinError, match="non-finite"):
        num(float("nan"))
    with pytest.raises(TwinError, match="no triangles"):
        obj_text(np.zeros((0, 3)), np.zeros((0, 3), int), "empty")
