"""Perception node declarations: thin wiring of the cores to ROS 2 topics through the msgs converters.

Each :class:`~sanqin.runtime.node.NodeSpec` here names its component (a ROS-free core), its typed config
(``config/<node>.yaml`` holds the shipped parameters) and its topics with standard message types. The
executable names are listed in :mod:`sanqin.registry`.
"""

from __future__ import annotations

from typing import Any

from sanqin.msgs.camera import camera_info_to_model
from sanqin.msgs.detections import located_to_markers, located_to_pointcloud2, pointcloud2_to_detections
from sanqin.msgs.diagnostics import diagnostics_to_msg
from sanqin.msgs.geometry import odometry_from_msg, odometry_to_msg, odometry_to_tf
from sanqin.msgs.grid import grid_to_occupancy
from sanqin.msgs.image import image_to_frame
from sanqin.msgs.obstacles import obstacles_to_markers, obstacles_to_pointcloud2
from sanqin.msgs.pointcloud import cloud_to_pointcloud2, pointcloud2_to_cloud, structured_to_pointcloud2
from sanqin.msgs.sensors import imu_from_msg, imu_to_msg
from sanqin.perception.components import (
    CameraLidarFusion,
    CameraLidarFusionConfig,
    CanopyMapper,
    CanopyMapperConfig,
    ImuAttitude,
    ImuAttitudeConfig,
    LidarOdometryNode,
    LidarOdometryNodeConfig,
    ObstacleDetector,
    ObstacleDetectorConfig,
    ThermalInspector,
    ThermalInspectorConfig,
)
from sanqin.perception.preprocess import LidarPreprocessor, LidarPreprocessorConfig
from sanqin.runtime.node import Input, NodeSpec, Output, Qos, Timer

#: ``lidar_preprocessor``: raw LiDAR cloud → non-finite, range, crop-box and voxel filtered cloud.
#:
#: Input ``points`` (sensor_msgs/PointCloud2, sensor QoS): any field layout with x, y, z and optional
#: intensity; NaN points allowed (``is_dense`` false). Output ``points_filtered`` (sensor_msgs/PointCloud2,
#: sensor QoS): packed float32 x, y, z, intensity (when the input had it), same header stamp and frame,
#: one point per occupied voxel. A malformed cloud (data length not ``row_step * height``, no x/y/z) is
#: rejected and reported on /diagnostics; the node keeps running. Component metrics: frames, points
#: in/out/dropped and why (non-finite, subsampled, out of range, cropped, merged into voxels).
LIDAR_PREPROCESSOR = NodeSpec(
    name="lidar_preprocessor",
    config=LidarPreprocessorConfig,
    component=LidarPreprocessor,
    inputs=(
        Input("points", "sensor_msgs/msg/PointCloud2", "on_points", pointcloud2_to_cloud, Qos.SENSOR,
              "raw LiDAR cloud in its sensor frame"),
    ),
    outputs=(
        Output("points_filtered", "sensor_msgs/msg/PointCloud2", cloud_to_pointcloud2, Qos.SENSOR,
               description="filtered, voxel-downsampled cloud in the input's frame"),
    ),
    description="LiDAR preprocessing: drop non-finite points, range filter, crop box, voxel downsampling",
)


def _alarms_to_msg(batch: Any, factory: Any) -> Any:
    return diagnostics_to_msg(list(batch.statuses), batch.stamp_s, factory)


def _markers(obstacles: Any, factory: Any) -> Any:
    return obstacles_to_markers(obstacles, factory, lifetime_s=0.5)


#: ``obstacle_detector``: LiDAR cloud → tracked obstacles (oriented 3-D boxes with velocities).
#:
#: Inputs: ``points`` (sensor_msgs/PointCloud2, sensor QoS; raw or preprocessed, sensor frame, z up) and
#: ``odom`` (nav_msgs/Odometry, odom → base_link) — with odometry, boxes are tracked and published in the
#: odometry frame (velocities over ground), else in the sensor frame. Outputs: ``obstacles`` — the obstacle
#: list the MPC planner consumes, as a sensor_msgs/PointCloud2 *table* (one point per obstacle, float32
#: fields x y z length width height yaw vx vy vz id confidence; :mod:`sanqin.msgs.obstacles`): a standard,
#: typed, stamped message (an ament_python package cannot define a custom message, and vision_msgs is not
#: part of the base install); ``obstacle_markers`` — visualization_msgs/MarkerArray boxes with ids for RViz.
#: Empty, all-NaN or tiny clouds give an empty list; huge clouds are thinned to ``max_input_points`` first.
OBSTACLE_DETECTOR = NodeSpec(
    name="obstacle_detector",
    config=ObstacleDetectorConfig,
    component=ObstacleDetector,
    inputs=(
        Input("points", "sensor_msgs/msg/PointCloud2", "on_points", pointcloud2_to_cloud, Qos.SENSOR,
              "LiDAR cloud in its sensor frame"),
        Input("odom", "nav_msgs/msg/Odometry", "on_odom", odometry_from_msg, Qos.RELIABLE,
              "odom → base_link pose for tracking over ground"),
    ),
    outputs=(
        Output("obstacles", "sensor_msgs/msg/PointCloud2", obstacles_to_pointcloud2, Qos.RELIABLE,
               description="confirmed obstacle tracks as a PointCloud2 table (planner input)"),
        Output("obstacle_markers", "visualization_msgs/msg/MarkerArray", _markers, Qos.RELIABLE,
               description="obstacle boxes and track ids for display"),
    ),
    description="LiDAR obstacles: zone-model ground removal, voxel clustering, oriented boxes, Kalman tracking",
)

#: ``lidar_odometry``: LiDAR + wheel odometry + IMU → nav_msgs/Odometry and odom → base_link on /tf.
#:
#: Inputs: ``points`` (sensor_msgs/PointCloud2, sensor frame, stamped at the end of the sweep),
#: ``wheel_odom`` (nav_msgs/Odometry; twist.linear.x and twist.angular.z used), ``imu`` (sensor_msgs/Imu,
#: raw rates and specific force). Outputs: ``odometry`` (nav_msgs/Odometry, pose in odom with the filter's
#: covariance) and ``/tf`` (tf2_msgs/TFMessage) unless ``publish_tf`` is false. With ``odometry.mode: icp``
#: the wheel and IMU inputs are ignored (LiDAR-only, the KISS-ICP-like baseline). NaN IMU samples and wheel
#: values are rejected with a diagnostic; an IMU time jump restarts its integration.
LIDAR_ODOMETRY = NodeSpec(
    name="lidar_odometry",
    config=LidarOdometryNodeConfig,
    component=LidarOdometryNode,
    inputs=(
        Input("points", "sensor_msgs/msg/PointCloud2", "on_points", pointcloud2_to_cloud, Qos.SENSOR,
              "LiDAR sweep in its sensor frame"),
        Input("wheel_odom", "nav_msgs/msg/Odometry", "on_wheel", odometry_from_msg, Qos.RELIABLE,
              "wheel odometry (forward speed, yaw rate)"),
        Input("imu", "sensor_msgs/msg/Imu", "on_imu", imu_from_msg, Qos.SENSOR, "raw IMU"),
    ),
    outputs=(
        Output("odometry", "nav_msgs/msg/Odometry", odometry_to_msg, Qos.RELIABLE,
               description="fused pose of base_link in odom"),
        Output("/tf", "tf2_msgs/msg/TFMessage", odometry_to_tf, Qos.RELIABLE,
               description="odom → base_link"),
    ),
    description="Tunnel-proof odometry: point-to-plane ICP on a voxel map with degeneracy-aware wheel/IMU fusion",
)

#: ``imu_attitude``: raw IMU → IMU with orientation (Mahony complementary filter, gyro-bias estimation).
#:
#: Input ``imu_raw`` (sensor_msgs/Imu), output ``imu_out`` (sensor_msgs/Imu with orientation, bias-corrected
#: angular velocity). Non-finite samples are skipped with a diagnostic; time jumps restart integration.
IMU_ATTITUDE = NodeSpec(
    name="imu_attitude",
    config=ImuAttitudeConfig,
    component=ImuAttitude,
    inputs=(Input("imu_raw", "sensor_msgs/msg/Imu", "on_imu", imu_from_msg, Qos.SENSOR, "raw IMU"),),
    outputs=(Output("imu_out", "sensor_msgs/msg/Imu", imu_to_msg, Qos.SENSOR,
                    description="IMU with orientation (world ENU ← body FLU)"),),
    description="IMU attitude: complementary filter with gyro-bias estimation",
)

#: ``thermal_inspector``: radiometric thermal images + odometry → graded, located hotspot alarms.
#:
#: Inputs: ``thermal_image`` (sensor_msgs/Image, 32FC1 in °C; other encodings are rejected with a
#: diagnostic) and ``odom`` (nav_msgs/Odometry; the station is ``station_offset_m`` plus the path length
#: driven). Output
#: ``hotspot_alarms`` (diagnostic_msgs/DiagnosticArray, one status per newly confirmed or worsened hotspot,
#: WARN for a general defect, ERROR for serious/critical, with station, position, T1/T2/T0 and δt as
#: key-values); every confirmed hotspot is also in the node's periodic /diagnostics and appended to the
#: JSON-lines inspection log (``log_path``, flushed and synced per record).
THERMAL_INSPECTOR = NodeSpec(
    name="thermal_inspector",
    config=ThermalInspectorConfig,
    component=ThermalInspector,
    inputs=(
        Input("thermal_image", "sensor_msgs/msg/Image", "on_image", image_to_frame, Qos.SENSOR,
              "radiometric image, 32FC1 °C"),
        Input("odom", "nav_msgs/msg/Odometry", "on_odom", odometry_from_msg, Qos.RELIABLE, "robot pose"),
    ),
    outputs=(
        Output("hotspot_alarms", "diagnostic_msgs/msg/DiagnosticArray", _alarms_to_msg, Qos.RELIABLE,
               description="newly confirmed (or worsened) hotspots"),
    ),
    description="Cable-tunnel thermal inspection: DL/T 664 hotspot grading, debouncing, location, inspection log",
)

#: ``canopy_mapper``: nadir RGB images + drone pose → canopy cover and variable-rate prescription grids.
#:
#: Inputs: ``image`` (sensor_msgs/Image rgb8/bgr8 from a nadir camera) and ``odom`` (nav_msgs/Odometry, the
#: drone in the field frame: x, y, altitude above the field as z). Outputs every ``publish_period_s``:
#: ``canopy_cover`` (nav_msgs/OccupancyGrid, cover 0–100 %, -1 unobserved) and ``spray_prescription``
#: (nav_msgs/OccupancyGrid, rate as % of ``prescription.rate_max_l_ha``) — the standard raster message that
#: the coverage planner, RViz and Foxglove read.
CANOPY_MAPPER = NodeSpec(
    name="canopy_mapper",
    config=CanopyMapperConfig,
    component=CanopyMapper,
    inputs=(
        Input("image", "sensor_msgs/msg/Image", "on_image", image_to_frame, Qos.SENSOR, "nadir RGB image"),
        Input("odom", "nav_msgs/msg/Odometry", "on_odom", odometry_from_msg, Qos.RELIABLE, "drone pose in the field"),
    ),
    outputs=(
        Output("canopy_cover", "nav_msgs/msg/OccupancyGrid", grid_to_occupancy, Qos.LATCHED,
               description="canopy cover per field cell"),
        Output("spray_prescription", "nav_msgs/msg/OccupancyGrid", grid_to_occupancy, Qos.LATCHED,
               description="spray rate per field cell (% of rate_max_l_ha)"),
    ),
    timers=(Timer("publish_period_s", "tick"),),
    description="Crop canopy: ExG/Otsu segmentation, cover grid in field coordinates, variable-rate prescription",
)


def _colored_to_msg(cloud: Any, factory: Any) -> Any:
    import numpy as np

    arr = np.zeros(len(cloud.points), dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("rgb", "<f4")])
    arr["x"], arr["y"], arr["z"] = (cloud.points[:, i] for i in range(3))
    c = cloud.colors.astype(np.uint32)
    arr["rgb"] = ((c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2]).astype("<u4").view("<f4")  # PCL/RViz packing
    return structured_to_pointcloud2(arr, cloud.stamp_s, cloud.frame_id, factory)


def _located_markers(item: tuple[Any, float, float], factory: Any) -> Any:
    located, size_m, lifetime_s = item  # the component passes its marker_size_m and marker_lifetime_s along
    return located_to_markers(located, factory, size_m=size_m, lifetime_s=lifetime_s)


#: ``camera_lidar_fusion``: LiDAR cloud + camera image + CameraInfo → colorized cloud; 2-D detections → 3-D.
#:
#: Inputs: ``points`` (sensor_msgs/PointCloud2, LiDAR frame), ``image`` (sensor_msgs/Image rgb8/bgr8/mono8,
#: the raw distorted image) and ``camera_info`` (sensor_msgs/CameraInfo, plumb_bob). The camera's optical
#: frame pose in the LiDAR frame is a parameter (``camera_xyz_m``, ``camera_rpy_rad``). Output
#: ``points_colored`` (sensor_msgs/PointCloud2 x y z rgb, rgb packed in a float32 as PCL and RViz expect),
#: only points that project into the image unless ``keep_uncolored``. A CameraInfo whose size disagrees
#: with the image, or an image of another encoding, is rejected with a diagnostic.
#:
#: 2-D detections → 3-D: input ``detections`` (sensor_msgs/PointCloud2 "table", one point per detection,
#: float32 fields ``x_min y_min x_max y_max class_id score`` in pixels of the raw image, header = the stamp
#: and frame of the image the boxes were found in; see :mod:`sanqin.msgs.detections`). vision_msgs is not
#: among the standard packages we depend on, and an ament_python package cannot define messages, so the
#: detection list uses the same table convention as the obstacle list. Each list is matched to the
#: buffered cloud (last ``cloud_history``) nearest its stamp within ``detection_tolerance_s``; lists with
#: no CameraInfo, no cloud, or no cloud near enough are skipped and counted in the diagnostics. A box gets
#: the median of the LiDAR points of the nearest depth mode inside it
#: (:func:`sanqin.perception.camera.locate_detections`). Output ``detections_3d`` (sensor_msgs/PointCloud2
#: table: the input fields plus ``x y z`` in m and ``n_points``, header = the image stamp and the cloud's
#: LiDAR frame), one row per input detection in input order; NaN ``x y z`` with ``n_points`` 0 marks a
#: detection that could not be placed (non-finite, empty or wholly off-image box — counted as
#: ``boxes_invalid`` — or fewer than ``min_points`` points). ``detection_markers``
#: (visualization_msgs/MarkerArray): a cube and a "#class score" label at each placed detection.
CAMERA_LIDAR_FUSION = NodeSpec(
    name="camera_lidar_fusion",
    config=CameraLidarFusionConfig,
    component=CameraLidarFusion,
    inputs=(
        Input("points", "sensor_msgs/msg/PointCloud2", "on_points", pointcloud2_to_cloud, Qos.SENSOR, "LiDAR cloud"),
        Input("image", "sensor_msgs/msg/Image", "on_image", image_to_frame, Qos.SENSOR, "camera image"),
        Input("camera_info", "sensor_msgs/msg/CameraInfo", "on_camera_info", camera_info_to_model, Qos.RELIABLE,
              "camera calibration"),
        Input("detections", "sensor_msgs/msg/PointCloud2", "on_detections", pointcloud2_to_detections,
              Qos.RELIABLE, "2-D detection table (x_min y_min x_max y_max class_id score, px)"),
    ),
    outputs=(
        Output("points_colored", "sensor_msgs/msg/PointCloud2", _colored_to_msg, Qos.SENSOR,
               description="points with camera colours (x y z rgb)"),
        Output("detections_3d", "sensor_msgs/msg/PointCloud2", located_to_pointcloud2, Qos.RELIABLE,
               description="detection table with x y z (m, LiDAR frame) and n_points"),
        Output("detection_markers", "visualization_msgs/msg/MarkerArray", _located_markers, Qos.RELIABLE,
               description="cube and class/score label at each placed detection"),
    ),
    description="Camera–LiDAR fusion: plumb-bob projection of LiDAR points, cloud colorization, 2-D boxes to 3-D",
)
