"""Headless simulation: sensors (LiDAR raycasting, ...), worlds (meshes with ground truth) and simulator plugins.

Simulator plugins follow the contract in :mod:`sanqin.runtime.scenario` and are named in scenario files
(``sim/scenarios/*.yaml``) as ``module:Class``. Sensors and worlds are plain, ROS-free building blocks
that plugins (and tests, benchmarks) compose.
"""
