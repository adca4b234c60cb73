"""Perception: ROS-free cores that turn sensor data into what planning and inspection need.

One small module per concept (numpy / scipy / Open3D in, numpy / dataclasses out), never rclpy:

* LiDAR: :mod:`~sanqin.perception.preprocess` (non-finite removal, range filter, crop box, bounded work
  on huge clouds, voxel downsampling — the ``lidar_preprocessor`` component), :mod:`~sanqin.perception.voxel`
  (frame-fixed voxel grid), :mod:`~sanqin.perception.ground` (ground segmentation),
  :mod:`~sanqin.perception.clustering`, :mod:`~sanqin.perception.boxes`, :mod:`~sanqin.perception.tracking`
  and :mod:`~sanqin.perception.obstacles` (the obstacle pipeline);
* odometry for GPS-denied tunnels and plants: :mod:`~sanqin.perception.registration` (scan-to-map ICP),
  :mod:`~sanqin.perception.attitude` (IMU attitude), :mod:`~sanqin.perception.fusion` (wheel / IMU / LiDAR
  EKF), :mod:`~sanqin.perception.odometry`;
* cameras and inspection: :mod:`~sanqin.perception.camera` (camera–LiDAR projection),
  :mod:`~sanqin.perception.thermal` (cable-joint hotspots), :mod:`~sanqin.perception.inspection_log`,
  :mod:`~sanqin.perception.canopy` (crop canopy for spraying drones);
* :mod:`~sanqin.perception.errors` — the :class:`~sanqin.perception.errors.PerceptionError` hierarchy;
* :mod:`~sanqin.perception.components` — the stateful node components around those cores (handlers,
  diagnostics, metrics);
* :mod:`~sanqin.perception.nodes` — node declarations (:class:`~sanqin.runtime.node.NodeSpec`) that connect
  the cores to ROS 2 topics through the converters in :mod:`sanqin.msgs`.
"""
