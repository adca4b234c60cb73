"""The crop-field twin's texture is the headless leaf pattern and its camera the headless camera."""

from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from sanqin.runtime.paths import share_dir
from sanqin.runtime.scenario import load_scenario
from sanqin.simulation.gazebo.errors import TwinError
from sanqin.simulation.gazebo.mesh import read_obj
from sanqin.simulation.gazebo.texture import indexed_png
from sanqin.simulation.gazebo.twin import headless_simulator

SHARE = share_dir()
GZ = SHARE / "sim" / "gazebo" / "models"


def _sim():
    sc = load_scenario(SHARE / "sim" / "scenarios" / "crop_canopy.yaml")
    return headless_simulator(sc, sc.simulators[0].name)


def _parse(path: Path) -> ET.Element:
    return ET.parse(path).getroot()  # noqa: S314 - repository-owned, generated file


def test_texture_is_the_headless_leaf_pattern_north_up() -> None:
    sim = _sim()
    img = mpimg.imread(GZ / "crop_canopy_field" / "materials" / "canopy.png")
    green = np.round(img[..., 1] * 255).astype(int) == 140
    np.testing.assert_array_equal(np.flipud(green), sim.leaf)  # PNG row 0 is the north (max y) edge
    verts, tris = read_obj(GZ / "crop_canopy_field" / "meshes" / "field.obj")
    assert verts[:, 0].max() == pytest.approx(sim.leaf.shape[1] * sim.config.texel_m)
    assert verts[:, 1].max() == pytest.approx(sim.leaf.shape[0] * sim.config.texel_m)


def test_camera_has_the_headless_intrinsics_and_looks_down() -> None:
    cfg = _sim().config
    (sensor,) = _parse(GZ / "crop_canopy_drone" / "model.sdf").iter("sensor")
    hfov = float(sensor.findtext("camera/horizontal_fov"))
    assert (cfg.width_px / 2) / math.tan(hfov / 2) == pytest.approx(cfg.f_px)
    assert int(sensor.findtext("camera/image/width")) == cfg.width_px
    assert int(sensor.findtext("camera/image/height")) == cfg.height_px
    assert [float(v) for v in sensor.findtext("pose").split()] == pytest.approx([0, 0, 0, 0, math.pi / 2, 0])
    assert float(sensor.findtext("update_rate")) == cfg.rate_hz


def test_png_writer_rejects_bad_input_and_packs_bits() -> None:
    with pytest.raises(TwinError, match="palette"):
        indexed_png(np.array([[0, 2]]), [(0, 0, 0), (1, 1, 1)])
    with pytest.raises(TwinError, match="non-empty"):
        indexed_png(np.zeros((0, 3), int), [(0, 0, 0)])
    data = indexed_png(np.array([[0, 1, 1], [1, 0, 0]]), [(0, 0, 0), (255, 255, 255)])
    img = mpimg.imread(io.BytesIO(data), format="png")
    np.testing.assert_array_equal(img[..., 0] > 0.5, [[False, True, True], [True, False, False]])
