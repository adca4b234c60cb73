"""Converters between ROS 2 message fields and Sanqin's core types (duck-typed; no rclpy import).

One module per message family: :mod:`~sanqin.msgs.time` (Time, Header), :mod:`~sanqin.msgs.pointcloud`
(PointCloud2 ↔ arrays, clouds, named tables), :mod:`~sanqin.msgs.obstacles` (obstacle table, markers),
:mod:`~sanqin.msgs.image` (Image), :mod:`~sanqin.msgs.camera` (CameraInfo), :mod:`~sanqin.msgs.geometry`
(geometry_msgs, nav_msgs Odometry/Path, tf2_msgs), :mod:`~sanqin.msgs.sensors` (Imu, NavSatFix,
JointState, BatteryState), :mod:`~sanqin.msgs.diagnostics` (DiagnosticArray). Readers take any object
with the message's fields (rclpy or rosbags classes); writers build through a
:class:`~sanqin.msgs.factory.MessageFactory`. Malformed messages raise :class:`~sanqin.msgs.errors.MessageError`.
"""
