"""Sanqin: ROS 2 autonomy stack for industrial, cable-tunnel, rehabilitation robots and drones.

Subpackages hold ROS-free cores (``perception``, ``planning``, ``control``, ``uav_bridge``,
``rehab_robot``), the node runtime (``runtime``), message converters (``msgs``), the simulator
(``simulation``) and the only rclpy code (``ros``).
"""

__version__ = "0.1.0"
