"""The tunnel-odometry twin's sensors carry the headless errors: encoder scale, gyro bias and noise."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import yaml

from sanqin.runtime.config import load_config
from sanqin.runtime.paths import share_dir
from sanqin.runtime.scenario import load_scenario
from sanqin.simulation.tunnel_odometry import TunnelOdometrySim

SHARE = share_dir()
MODEL = SHARE / "sim" / "gazebo" / "models" / "tunnel_odometry_robot" / "model.sdf"


def _parse(path: Path) -> ET.Element:
    return ET.parse(path).getroot()  # noqa: S314 - repository-owned, generated file


def _config():
    sc = load_scenario(SHARE / "sim" / "scenarios" / "tunnel_odometry.yaml")
    return load_config(TunnelOdometrySim.Config, sc.simulators[0].params)


def test_imu_noise_and_gyro_bias_magnitudes_are_the_headless_ones() -> None:
    cfg = _config()
    (sensor,) = [s for s in _parse(MODEL).iter("sensor") if s.get("type") == "imu"]
    assert float(sensor.findtext("update_rate")) == cfg.imu_rate_hz
    assert sensor.findtext("gz_frame_id") == "imu"
    for axis, bias in zip("xyz", cfg.gyro_bias_rad_s):
        noise = sensor.find(f"imu/angular_velocity/{axis}/noise")
        assert noise.get("type") == "gaussian"
        assert float(noise.findtext("stddev")) == cfg.gyro_noise_rad_s
        assert float(noise.findtext("bias_mean")) == pytest.approx(abs(bias))
        assert float(sensor.findtext(f"imu/linear_acceleration/{axis}/noise/stddev")) == cfg.accel_noise_m_s2


def test_wheel_odometry_reads_long_by_the_encoder_scale() -> None:
    cfg = _config()
    model = _parse(MODEL).find("model")
    (drive,) = [p for p in model.findall("plugin") if p.get("name") == "gz::sim::systems::DiffDrive"]
    radius = float(model.find("link[@name='front_left_wheel']/collision/geometry/cylinder/radius").text)
    assert float(drive.findtext("wheel_radius")) == pytest.approx(radius * cfg.wheel_scale)
    assert float(drive.findtext("odom_publish_frequency")) == cfg.wheel_rate_hz


def test_driver_follows_the_headless_route_and_profile() -> None:
    cfg = _config()
    launch = _parse(SHARE / "launch" / "gz_tunnel_odometry.launch.xml")
    (node,) = [n for n in launch.findall("node") if n.get("exec") == "path_driver"]
    params = {p.get("name"): yaml.safe_load(p.get("value")) for p in node.findall("param[@name]")}
    assert params["speed_m_s"] == cfg.speed_m_s and params["start_delay_s"] == cfg.start_rest_s
    assert params["max_accel_m_s2"] == pytest.approx(cfg.speed_m_s / cfg.accel_time_s)
    path = np.asarray(params["path_xy_m"]).reshape(-1, 2)
    length = float(np.linalg.norm(np.diff(path, axis=0), axis=1).sum())
    assert length == pytest.approx(cfg.end_station_m - cfg.start_station_m, abs=0.05)  # the bend is followed
