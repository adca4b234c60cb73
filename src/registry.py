"""Every node Sanqin ships: executable name → ``module:attribute`` of its :class:`NodeSpec`.

This one table drives the console-script entry points (``ros2 run sanqin <name>``), the headless
runner, and the launch-file check. It imports nothing so that ``setup.py`` can read it.
"""

NODES: dict[str, str] = {
    "lidar_preprocessor": "sanqin.perception.nodes:LIDAR_PREPROCESSOR",
    "seam_follower": "sanqin.control.nodes:SEAM_FOLLOWER",
}
