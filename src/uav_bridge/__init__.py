"""MAVLink bridge for inspection and crop-spraying drones: ROS-free protocol cores, converters and nodes.

Inside, positions are ENU metres and WGS84 degrees; NED and int-scaled MAVLink fields appear only in the
functions that read or build MAVLink messages.
"""
