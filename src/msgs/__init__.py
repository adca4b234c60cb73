"""Converters between ROS 2 message fields and Sanqin's core types (duck-typed; no rclpy import)."""
