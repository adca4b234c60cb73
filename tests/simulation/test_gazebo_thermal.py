"""The thermal twin's wall projects to the headless thermal image; Gazebo's counts become °C images."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from sanqin.common.types import ImageFrame
from sanqin.msgs.factory import default_factory
from sanqin.msgs.image import frame_to_image, image_to_frame
from sanqin.runtime.config import load_config
from sanqin.runtime.headless import Graph
from sanqin.runtime.params import load_node_config
from sanqin.runtime.paths import share_dir
from sanqin.runtime.scenario import load_scenario
from sanqin.simulation.gazebo.nodes import THERMAL_COUNTS
from sanqin.simulation.gazebo.thermal_counts import ThermalCounts, ThermalCountsConfig
from sanqin.simulation.gazebo.thermal_tunnel import CAMERA_HEIGHT_M
from sanqin.simulation.thermal_tunnel import ThermalTunnelSim

SHARE = share_dir()
WALL = SHARE / "sim" / "gazebo" / "models" / "tunnel_thermal_wall"


def _parse(path: Path) -> ET.Element:
    return ET.parse(path).getroot()  # noqa: S314 - repository-owned, generated file


def _config():
    sc = load_scenario(SHARE / "sim" / "scenarios" / "tunnel_thermal.yaml")
    return load_config(ThermalTunnelSim.Config, sc.simulators[0].params)


def _floats(text: str) -> np.ndarray:
    return np.array([float(v) for v in text.split()])


def test_bands_and_joints_project_to_the_headless_rows_and_stations() -> None:
    cfg = _config()
    link = _parse(WALL / "model.sdf").find("model/link")
    cy = cfg.height_px / 2
    for tier, row in enumerate(cfg.tier_rows_px):
        band = link.find(f"visual[@name='cable_band_{tier}_visual']")
        x, y, z = _floats(band.findtext("pose"))[:3]
        depth = y  # camera at y = 0 looking along +y
        assert depth == pytest.approx(cfg.range_m, abs=0.02)
        v = cy + (CAMERA_HEIGHT_M - z) * cfg.fx_px / depth - 0.5  # pinhole projection back to a row
        assert v == pytest.approx(row, abs=0.5)
        temp = float(band.findtext("plugin/temperature")) - 273.15
        assert temp == pytest.approx(cfg.cable_c)
    for k, (s_j, peak) in enumerate(zip(cfg.joint_stations_m, cfg.joint_peak_c)):
        strip = link.find(f"visual[@name='joint_{k + 1}_visual']")
        assert _floats(strip.findtext("pose"))[0] == pytest.approx(s_j)
        assert float(strip.findtext("plugin/max_temp")) - 273.15 == pytest.approx(peak)
        assert float(strip.findtext("plugin/min_temp")) - 273.15 == pytest.approx(cfg.cable_c)


def test_hot_spot_texture_is_the_headless_gaussian() -> None:
    cfg = _config()
    sig = mpimg.imread(WALL / "materials" / "hot_spot.png")[0, :, 0]
    xs = np.linspace(-4 * cfg.joint_sigma_m, 4 * cfg.joint_sigma_m, sig.size)
    np.testing.assert_allclose(sig, np.exp(-(xs**2) / (2 * cfg.joint_sigma_m**2)), atol=1 / 255)


def test_counts_become_celsius_and_bad_frames_are_rejected() -> None:
    conv = ThermalCounts(load_config(ThermalCountsConfig, {"kelvin_per_count": 0.01}))
    counts = np.full((2, 3), 29315, np.uint16)
    counts[0, 0] = 35815  # 85 °C
    out = conv.on_image(ImageFrame(stamp_s=1.0, frame_id="cam", data=counts, encoding="mono16"), 1.0)["image_out"]
    assert out.encoding == "32FC1" and out.frame_id == "cam" and out.stamp_s == 1.0
    np.testing.assert_allclose(out.data, [[85.0, 20.0, 20.0], [20.0, 20.0, 20.0]], atol=1e-4)
    assert conv.on_image(ImageFrame(stamp_s=1.0, data=np.zeros((2, 2), np.uint8), encoding="mono8"), 1.0) is None
    assert conv.on_image(ImageFrame(stamp_s=1.0, data=np.zeros((2, 2), np.uint16), encoding="mono16"), 1.0) is None
    assert conv.metrics() == {"converted": 1.0, "rejected_encoding": 1.0, "rejected_empty": 1.0}


def test_node_runs_headless_from_the_shipped_params() -> None:
    cfg = load_node_config(THERMAL_COUNTS.config, SHARE / "config" / "thermal_counts.yaml", "thermal_counts")
    graph = Graph(default_factory())
    graph.add_node(THERMAL_COUNTS, cfg, name="thermal_counts",
                   remap={"image_in": "/thermal/image_raw", "image_out": "/thermal/image"})
    got = []
    graph.bus.subscribe("/thermal/image", "sensor_msgs/msg/Image", got.append)
    frame = ImageFrame(stamp_s=0.5, frame_id="thermal_camera", data=np.full((4, 4), 30315, np.uint16),
                       encoding="mono16")
    graph.bus.publish("/thermal/image_raw", frame_to_image(frame, graph.bus.factory))
    graph.advance_to(0.1)
    (msg,) = got
    out = image_to_frame(msg)
    assert msg.encoding == "32FC1" and np.allclose(out.data, 30.0, atol=1e-4)
