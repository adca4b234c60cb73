"""Gazebo sensors built from the same configs the headless simulators use.

:func:`gpu_lidar` turns a :class:`~sanqin.simulation.lidar.LidarConfig` into a ``gpu_lidar`` sensor with
the same azimuths (column centres ``-π + (k + ½)·Δ``), beam elevations, rate, range limits and Gaussian
range noise; what Gazebo's ray renderer cannot reproduce (non-uniform beam elevations, per-beam random
dropouts, intensity thresholds, motion distortion of a spinning sensor) is returned as a list of
fidelity notes that the generator writes next to the sensor and into the twin's README table.

The other builders (camera, thermal camera, IMU, force/torque, NavSat) take plain keyword parameters in
SI units, so a twin exporter passes the values of its own headless config.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sanqin.simulation.gazebo.bridge import GZ_TO_ROS, BridgeEntry
from sanqin.simulation.gazebo.errors import TwinError
from sanqin.simulation.gazebo.sdf import comment, el, fields, plugin, pose
from sanqin.simulation.lidar import LidarConfig


@dataclass
class SensorResult:
    """What adding a sensor produced: its element, the bridges its data needs, world systems, notes."""

    element: ET.Element
    bridges: list[BridgeEntry] = field(default_factory=list)
    systems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _noise(parent: ET.Element, stddev: float, mean: float = 0.0) -> None:
    """Ray/camera noise: ``<noise><type>gaussian</type>...`` (lidar.sdf, camera.sdf)."""
    n = el(parent, "noise")
    fields(n, {"type": "gaussian", "mean": mean, "stddev": stddev})


def _noise_attr(parent: ET.Element, stddev: float, mean: float = 0.0, bias: float = 0.0) -> None:
    """IMU/force-torque/NavSat noise: ``<noise type="gaussian">...`` (noise.sdf), optionally a constant bias."""
    n = el(parent, "noise", type="gaussian")
    fields(n, {"mean": mean, "stddev": stddev})
    if bias:
        fields(n, {"bias_mean": abs(bias), "bias_stddev": 0.0})


def _sensor(link: ET.Element, name: str, kind: str, gz_topic: str, rate_hz: float, frame_id: str,
            xyz: Sequence[float], rpy: Sequence[float]) -> ET.Element:
    s = el(link, "sensor", name=name, type=kind)
    el(s, "pose", pose(xyz, rpy))
    fields(s, {"always_on": True, "update_rate": rate_hz, "visualize": False, "topic": gz_topic,
               "gz_frame_id": frame_id})
    return s


def lidar_vertical(config: LidarConfig) -> tuple[int, float, float, bool]:
    """(channels, lowest, highest elevation in rad, uniform?) of a LiDAR config's beam pattern."""
    elev = np.sort(config.elevations_rad())
    n = int(elev.size)
    if n == 1:
        return 1, float(elev[0]), float(elev[0]), True
    uniform = bool(np.allclose(np.diff(elev), (elev[-1] - elev[0]) / (n - 1), atol=1e-6))
    return n, float(elev[0]), float(elev[-1]), uniform


def lidar_azimuths(config: LidarConfig) -> tuple[int, float, float]:
    """(columns, first, last azimuth in rad) exactly as the headless sensor fires them."""
    cols = config.columns
    step = 2 * math.pi / cols
    return cols, -math.pi + step / 2, math.pi - step / 2


def gpu_lidar(link: ET.Element, config: LidarConfig, *, name: str, gz_topic: str, ros_topic: str,
              range_resolution_m: float = 0.001) -> SensorResult:
    """A ``gpu_lidar`` matching ``config``; its point cloud goes to ``ros_topic`` (sensor_msgs/PointCloud2)."""
    cols, az_min, az_max = lidar_azimuths(config)
    channels, el_min, el_max, uniform = lidar_vertical(config)
    s = _sensor(link, name, "gpu_lidar", gz_topic, config.rate_hz, config.frame_id,
                config.mount_xyz_m, config.mount_rpy_rad)
    lidar = el(s, "lidar")
    scan = el(lidar, "scan")
    fields(el(scan, "horizontal"), {"samples": cols, "resolution": 1, "min_angle": az_min, "max_angle": az_max})
    fields(el(scan, "vertical"), {"samples": channels, "resolution": 1, "min_angle": el_min, "max_angle": el_max})
    fields(el(lidar, "range"), {"min": config.min_range_m, "max": config.max_range_m,
                                "resolution": range_resolution_m})
    if config.range_noise_sigma_m > 0:
        _noise(lidar, config.range_noise_sigma_m)
    notes = []
    if not uniform:
        notes.append(
            f"{name}: the headless '{config.pattern}' beam pattern has non-uniform elevations; gpu_lidar spaces "
            f"its {channels} beams uniformly over the same span "
            f"({math.degrees(el_min):.3f}° to {math.degrees(el_max):.3f}°)"
        )
    if config.dropout_probability > 0:
        notes.append(f"{name}: random dropouts (p = {config.dropout_probability:g}) are headless-only")
    if config.min_intensity > 0:
        notes.append(f"{name}: returns weaker than min_intensity {config.min_intensity:g} are dropped headless only; "
                     "Gazebo reports the visual's laser_retro as intensity, without the cos(incidence) falloff")
    if config.motion_distortion:
        notes.append(f"{name}: gpu_lidar renders a sweep at one instant (no motion distortion)")
    if config.self_box_min_m:
        notes.append(f"{name}: the headless self box is the robot's body here, hit by real rays")
    for n in notes:
        comment(s, n)
    bridge = BridgeEntry(ros_topic, gz_topic + "/points", "sensor_msgs/msg/PointCloud2", "gz.msgs.PointCloudPacked",
                         GZ_TO_ROS)
    return SensorResult(s, [bridge], [], notes)


def camera(link: ET.Element, *, name: str, gz_topic: str, ros_image_topic: str, ros_info_topic: str | None,
           frame_id: str, width: int, height: int, horizontal_fov_rad: float, rate_hz: float,
           near_m: float = 0.05, far_m: float = 100.0, noise_stddev: float = 0.0,
           xyz: Sequence[float] = (0, 0, 0), rpy: Sequence[float] = (0, 0, 0), image_format: str = "R8G8B8",
           kind: str = "camera") -> SensorResult:
    """An RGB (or ``kind``) camera; image → ``ros_image_topic``, calibration → ``ros_info_topic``."""
    if not (width > 0 and height > 0 and 0 < horizontal_fov_rad < 2 * math.pi and 0 < near_m < far_m):
        raise TwinError(f"camera {name}: invalid image size, field of view or clip range")
    s = _sensor(link, name, kind, gz_topic, rate_hz, frame_id, xyz, rpy)
    cam = el(s, "camera")
    info_topic = gz_topic.rsplit("/", 1)[0] + "/camera_info"
    fields(cam, {"camera_info_topic": info_topic, "horizontal_fov": horizontal_fov_rad})
    fields(el(cam, "image"), {"width": width, "height": height, "format": image_format})
    fields(el(cam, "clip"), {"near": near_m, "far": far_m})
    if noise_stddev > 0:
        _noise(cam, noise_stddev)
    bridges = [BridgeEntry(ros_image_topic, gz_topic, "sensor_msgs/msg/Image", "gz.msgs.Image", GZ_TO_ROS)]
    if ros_info_topic:
        bridges.append(BridgeEntry(ros_info_topic, info_topic, "sensor_msgs/msg/CameraInfo", "gz.msgs.CameraInfo",
                                   GZ_TO_ROS))
    return SensorResult(s, bridges)


def thermal_camera(link: ET.Element, *, name: str, gz_topic: str, ros_image_topic: str, frame_id: str,
                   width: int, height: int, horizontal_fov_rad: float, rate_hz: float,
                   min_temp_k: float, max_temp_k: float, resolution_k: float,
                   xyz: Sequence[float] = (0, 0, 0), rpy: Sequence[float] = (0, 0, 0)) -> SensorResult:
    """A ``thermal_camera`` (16-bit, ``resolution_k`` kelvin per count) and its temperature range."""
    if not (0 < min_temp_k < max_temp_k and resolution_k > 0):
        raise TwinError(f"thermal camera {name}: need 0 < min_temp_k < max_temp_k and resolution_k > 0")
    res = camera(link, name=name, gz_topic=gz_topic, ros_image_topic=ros_image_topic, ros_info_topic=None,
                 frame_id=frame_id, width=width, height=height, horizontal_fov_rad=horizontal_fov_rad,
                 rate_hz=rate_hz, xyz=xyz, rpy=rpy, image_format="L16", kind="thermal_camera")
    plugin(res.element, "gz-sim-thermal-sensor-system", "gz::sim::systems::ThermalSensor",
           {"min_temp": min_temp_k, "max_temp": max_temp_k, "resolution": resolution_k})
    return res


def imu(link: ET.Element, *, name: str, gz_topic: str, ros_topic: str, frame_id: str, rate_hz: float,
        gyro_stddev_rad_s: float = 0.0, accel_stddev_m_s2: float = 0.0,
        gyro_bias_rad_s: Sequence[float] = (0.0, 0.0, 0.0),
        xyz: Sequence[float] = (0, 0, 0), rpy: Sequence[float] = (0, 0, 0)) -> SensorResult:
    """An IMU (ENU orientation reference) with white noise on each axis and a constant gyro bias.

    Gazebo draws each bias's sign at random at start-up (gz-sensors' Gaussian noise model), so only the
    magnitudes of ``gyro_bias_rad_s`` carry over; a note says so.
    """
    s = _sensor(link, name, "imu", gz_topic, rate_hz, frame_id, xyz, rpy)
    node = el(s, "imu")
    ref = el(node, "orientation_reference_frame")
    el(ref, "localization", "ENU")
    for group, sd, biases in (("angular_velocity", gyro_stddev_rad_s, gyro_bias_rad_s),
                              ("linear_acceleration", accel_stddev_m_s2, (0.0, 0.0, 0.0))):
        g = el(node, group)
        for axis, bias in zip("xyz", biases, strict=True):
            _noise_attr(el(g, axis), sd, bias=bias)
    notes = []
    if any(gyro_bias_rad_s):
        notes.append(f"{name}: gyro bias magnitudes {list(gyro_bias_rad_s)} rad/s as headless; Gazebo picks each "
                     "sign at random")
    for n in notes:
        comment(s, n)
    return SensorResult(s, [BridgeEntry(ros_topic, gz_topic, "sensor_msgs/msg/Imu", "gz.msgs.IMU", GZ_TO_ROS)],
                        ["imu"], notes)


def force_torque(joint: ET.Element, *, name: str, gz_topic: str, ros_topic: str, frame_id: str, rate_hz: float,
                 force_stddev_n: float = 0.0, torque_stddev_nm: float = 0.0) -> SensorResult:
    """A force/torque sensor in a joint: wrench the child exerts on the parent, in the child frame."""
    s = _sensor(joint, name, "force_torque", gz_topic, rate_hz, frame_id, (0, 0, 0), (0, 0, 0))
    ft = el(s, "force_torque")
    fields(ft, {"frame": "child", "measure_direction": "child_to_parent"})
    for group, sd in (("force", force_stddev_n), ("torque", torque_stddev_nm)):
        g = el(ft, group)
        for axis in "xyz":
            _noise_attr(el(g, axis), sd)
    bridge = BridgeEntry(ros_topic, gz_topic, "geometry_msgs/msg/WrenchStamped", "gz.msgs.Wrench", GZ_TO_ROS)
    return SensorResult(s, [bridge], ["forcetorque"])


def navsat(link: ET.Element, *, name: str, gz_topic: str, ros_topic: str, frame_id: str, rate_hz: float,
           horizontal_stddev_m: float = 0.0, vertical_stddev_m: float = 0.0) -> SensorResult:
    """A NavSat (GNSS) receiver: fix in the world's spherical coordinates → sensor_msgs/NavSatFix."""
    s = _sensor(link, name, "navsat", gz_topic, rate_hz, frame_id, (0, 0, 0), (0, 0, 0))
    ns = el(s, "navsat")
    pos = el(ns, "position_sensing")
    _noise_attr(el(pos, "horizontal"), horizontal_stddev_m)
    _noise_attr(el(pos, "vertical"), vertical_stddev_m)
    bridge = BridgeEntry(ros_topic, gz_topic, "sensor_msgs/msg/NavSatFix", "gz.msgs.NavSat", GZ_TO_ROS)
    return SensorResult(s, [bridge], ["navsat"])
