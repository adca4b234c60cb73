"""Perception node declarations: thin wiring of the cores to ROS 2 topics through the msgs converters.

Each :class:`~sanqin.runtime.node.NodeSpec` here names its component (a ROS-free core), its typed config
(``config/<node>.yaml`` holds the shipped parameters) and its topics with standard message types. The
executable names are listed in :mod:`sanqin.registry`.
"""

from __future__ import annotations

from sanqin.msgs.pointcloud import cloud_to_pointcloud2, pointcloud2_to_cloud
from sanqin.perception.preprocess import LidarPreprocessor, LidarPreprocessorConfig
from sanqin.runtime.node import Input, NodeSpec, Output, Qos

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
