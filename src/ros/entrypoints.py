"""Console-script entry points: ``<node name> = sanqin.ros.entrypoints:<node name>`` for every node.

Each attribute is created on first access (PEP 562) from :data:`sanqin.registry.NODES`, so adding a
node to the registry is all it takes to get ``ros2 run sanqin <node>``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from sanqin.registry import NODES


def make_main(name: str) -> Callable[[], int]:
    """The ``main()`` of node executable ``name``: rclpy init, spin, shutdown."""

    def main() -> int:
        from sanqin.ros.adapter import run  # rclpy is imported only when a node actually runs
        from sanqin.runtime.registry import get_node_spec

        return run(get_node_spec(name), sys.argv)

    main.__name__ = name
    main.__doc__ = f"Run the {name} node under ROS 2."
    return main


def __getattr__(attr: str) -> Callable[[], int]:
    if attr in NODES:
        return make_main(attr)
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


def __dir__() -> list[str]:
    return sorted(NODES)
