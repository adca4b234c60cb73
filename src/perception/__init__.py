"""Perception: ROS-free cores that turn sensor data into what planning and inspection need.

One small module per concept (numpy / Open3D in, numpy / dataclasses out), never rclpy:

* :mod:`~sanqin.perception.preprocess` — LiDAR preprocessing: non-finite removal, range filter, crop
  box, bounded work on huge clouds, voxel downsampling (the ``lidar_preprocessor`` node's component);
* :mod:`~sanqin.perception.voxel` — voxel-grid downsampling on a fixed, frame-aligned grid;
* :mod:`~sanqin.perception.errors` — the :class:`~sanqin.perception.errors.PerceptionError` hierarchy;
* :mod:`~sanqin.perception.nodes` — node declarations (:class:`~sanqin.runtime.node.NodeSpec`) that
  connect the cores to ROS 2 topics through the converters in :mod:`sanqin.msgs`.
"""
