"""Gazebo twin of :class:`sanqin.simulation.tunnel_odometry.TunnelOdometrySim`: LiDAR, wheel and IMU odometry.

The tunnel is the headless simulator's own mesh (:func:`.tunnel.tunnel_model`); the robot is a skid-steer
base whose body stays below every LiDAR beam (headless it has none), with the scenario's LiDAR and an IMU
at ``base_link`` (frame ``imu``, the headless gyro bias magnitudes and noise). Its sensors as headless:

* ``/lidar/points`` — ``gpu_lidar`` from the scenario's LiDAR config;
* ``/wheel/odom`` — ``DiffDrive``'s wheel odometry, configured with a wheel radius ``wheel_scale`` times
  the real one, so it reads long by the headless encoder scale error;
* ``/imu/data_raw`` — the IMU;
* ``/odom_gt`` — ground truth (``OdometryPublisher``, world frame).

``path_driver`` drives the centre line from ``start_station_m`` to ``end_station_m`` after ``start_rest_s``,
ramping speed up and down over ``accel_time_s``, like the headless trapezoidal profile. The odometry is
scored by the plugin's own ``_on_odometry``/``_on_imu`` with the recorded ground truth in place of the
headless trajectory.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sanqin.runtime.scenario import SimulatorEntry
from sanqin.simulation.gazebo.bridge import GZ_TO_ROS, BridgeEntry
from sanqin.simulation.gazebo.robots import WheeledRobot, wheeled_robot
from sanqin.simulation.gazebo.sensors import imu
from sanqin.simulation.gazebo.tunnel import DRIVER_LOOKAHEAD_M, tunnel_model
from sanqin.simulation.gazebo.twin import Spawn, Twin

#: Body below the LiDAR beams (VLP-16 lowest beam −15° from 0.75 m reaches 0.55 m only beyond 0.75 m).
BODY = ((-0.5, -0.35, 0.0), (0.5, 0.35, 0.45))
WHEELBASE_M = 0.8


def export(config: Any, entry: SimulatorEntry, twin: Twin) -> None:
    """Add the tunnel, the robot with LiDAR, IMU and wheel odometry, and its driver to ``twin``."""
    sim = twin.headless_simulator(entry.name)
    world = sim.world
    tunnel_model(twin, world, config.lidar.intensity_scale)
    spec = WheeledRobot(part="robot", body_min_m=BODY[0], body_max_m=BODY[1], wheelbase_m=WHEELBASE_M,
                        odom_topic="/odom_gt", odom_frame="world", odom_rate_hz=20.0, tf_topic="/tf_gt")
    robot = wheeled_robot(twin, spec, config.lidar, "/lidar/points",
                          f"Tunnel odometry robot of scenario {twin.scenario.name}")
    base = robot.model.find(f"link[@name='{spec.base_frame}']")
    twin.add_sensor(imu(base, name="imu", gz_topic=f"/model/{robot.name}/imu", ros_topic="/imu/data_raw",
                        frame_id="imu", rate_hz=config.imu_rate_hz, gyro_stddev_rad_s=config.gyro_noise_rad_s,
                        accel_stddev_m_s2=config.accel_noise_m_s2, gyro_bias_rad_s=config.gyro_bias_rad_s))
    drive = robot.model.find("plugin[@name='gz::sim::systems::DiffDrive']")
    radius = float(drive.findtext("wheel_radius"))
    drive.find("wheel_radius").text = repr(round(radius * config.wheel_scale, 12))  # encoders read long
    drive.find("odom_publish_frequency").text = repr(float(config.wheel_rate_hz))
    twin.add_bridge(BridgeEntry("/wheel/odom", f"/model/{robot.name}/odom", "nav_msgs/msg/Odometry",
                                "gz.msgs.Odometry", GZ_TO_ROS))
    from scipy.spatial.transform import Rotation

    pose = sim.pose_at(0.0)
    rpy = Rotation.from_quat(pose.orientation_xyzw).as_euler("xyz")
    twin.spawns.append(Spawn(robot.name, "robot", tuple(float(v) for v in pose.position_m),
                             tuple(float(v) for v in rpy)))
    accel = config.speed_m_s / config.accel_time_s if config.accel_time_s > 0 else 0.0
    twin.nodes.append(_driver(world, config, accel))
    twin.record_topics.update(config.score_topics)
    if config.imu_topic:
        twin.record_topics.add(config.imu_topic)
    twin.notes.append("wheel odometry: DiffDrive integrates the real wheel speeds with a radius "
                      f"{config.wheel_scale:g} x the true one (the headless encoder scale error); its speed and "
                      "yaw-rate noise are headless-only")
    twin.notes.append("the body (below the LiDAR beams) exists only in Gazebo; headless the robot has none")


def _driver(world: Any, config: Any, accel: float) -> Any:
    from sanqin.simulation.gazebo.tunnel import path_driver

    return path_driver(world, config.start_station_m, config.end_station_m, 0.0, "/odom_gt",
                       {"speed_m_s": config.speed_m_s, "lookahead_m": DRIVER_LOOKAHEAD_M,
                        "start_delay_s": config.start_rest_s, "max_accel_m_s2": float(round(accel, 6)),
                        "goal_tolerance_m": 0.05})


def score(config: Any, entry: SimulatorEntry, scenario: Any, bag: Any) -> dict[str, float]:
    """The plugin's metrics with the recorded ground truth (``/odom_gt``) in place of its trajectory."""
    from scipy.spatial.transform import Rotation, Slerp

    from sanqin.common.types import Pose
    from sanqin.simulation.gazebo.twin import headless_simulator
    from sanqin.simulation.lidar import pose_to_matrix

    sim = headless_simulator(scenario, entry.name)
    rows = []
    for _, msg in bag.messages("/odom_gt"):
        p, q = msg.pose.pose.position, msg.pose.pose.orientation
        rows.append((msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9, p.x, p.y, p.z, q.x, q.y, q.z, q.w))
    gt = np.asarray(rows, dtype=np.float64).reshape(-1, 8)
    _, first = np.unique(gt[:, 0], return_index=True)
    gt = gt[first]
    if len(gt) < 2:
        return {"scans": float(sum(1 for _ in bag.messages("/lidar/points")))}
    slerp = Slerp(gt[:, 0], Rotation.from_quat(gt[:, 4:8]))
    travelled = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(gt[:, 1:4], axis=0), axis=1))])

    def pose_at(t_s: float) -> Pose:
        t = float(np.clip(t_s, gt[0, 0], gt[-1, 0]))
        return Pose(np.array([np.interp(t, gt[:, 0], gt[:, i]) for i in (1, 2, 3)]), slerp([t]).as_quat()[0])

    sim.pose_at = pose_at  # the recorded truth replaces the headless trajectory in the plugin's scoring
    sim.station = lambda t_s: config.start_station_m + float(np.interp(t_s, gt[:, 0], travelled))
    sim.start_inv = np.linalg.inv(pose_to_matrix(pose_at(0.0)))
    for topic in config.score_topics:
        for _, msg in bag.messages(topic):
            sim._on_odometry(topic, msg)
    if config.imu_topic:
        for _, msg in bag.messages(config.imu_topic):
            sim._on_imu(msg)
    sim.scans = sum(1 for _ in bag.messages("/lidar/points"))
    return sim.metrics()
