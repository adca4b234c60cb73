"""A simulator and a bridge on one simulated clock: the closed loop tests, benchmarks and tools step.

``SimulatedLink`` owns a :class:`MulticopterSimulator` and a :class:`~sanqin.uav_bridge.bridge.Bridge`
joined by an in-process channel (or real UDP on loopback); ``run(op)`` steps both until the operation
finishes, on simulated time, so protocol timeouts behave exactly as on a wall clock but run fast.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

from sanqin.uav_bridge.bridge import Bridge, BridgeOptions
from sanqin.uav_bridge.errors import Timeout
from sanqin.uav_bridge.operation import Operation
from sanqin.uav_bridge.vehicle import Vehicle

from .sim import MulticopterConfig, MulticopterSimulator

_names = itertools.count()


class SimulatedLink:
    """Simulator + bridge stepped together every ``dt_s`` of simulated time."""

    def __init__(self, sim_config: MulticopterConfig | None = None, options: BridgeOptions | None = None,
                 *, dt_s: float = 0.02, bridge_url: str | None = None) -> None:
        cfg = sim_config or MulticopterConfig()
        if bridge_url is None and cfg.connection.startswith("mem:"):
            name = f"{cfg.connection}-{next(_names)}"
            cfg = replace(cfg, connection=name)
            bridge_url = name
        self.sim = MulticopterSimulator(cfg)
        self.bridge = Bridge.open(bridge_url or cfg.connection, options or BridgeOptions(vehicles=(cfg.system_id,)))
        self.dt_s = dt_s
        self.t_s = 0.0

    @property
    def vehicle(self) -> Vehicle:
        """The bridge's view of the simulated vehicle."""
        return self.bridge.vehicle(self.sim.config.system_id)

    def pump(self, n: int = 1) -> None:
        """Advance both sides by ``n`` steps."""
        for _ in range(n):
            self.t_s += self.dt_s
            self.sim.step(self.t_s)
            self.bridge.step(self.t_s)

    def advance(self, seconds: float) -> None:
        """Advance both sides by ``seconds`` of simulated time."""
        self.pump(max(1, int(round(seconds / self.dt_s))))

    def run(self, op: Operation[Any], limit_s: float = 60.0) -> Any:
        """Step until ``op`` finishes (at most ``limit_s`` simulated seconds); its result or its error."""
        end = self.t_s + limit_s
        while not op.done and self.t_s < end:
            self.pump()
        if not op.done:
            op.fail(Timeout(op.name, 1))
        return op.result()

    def wait_until(self, predicate: Any, limit_s: float = 60.0) -> bool:
        """Step until ``predicate()`` holds; False if it did not within ``limit_s``."""
        end = self.t_s + limit_s
        while self.t_s < end:
            if predicate():
                return True
            self.pump()
        return bool(predicate())

    def connect(self, limit_s: float = 5.0) -> Vehicle:
        """Step until the bridge hears the vehicle."""
        if not self.wait_until(lambda: self.vehicle.connected, limit_s):
            raise Timeout("vehicle heartbeat", 1)
        return self.vehicle

    def close(self) -> None:
        """Close both ends."""
        self.bridge.close()
        self.sim.close()

    def __enter__(self) -> SimulatedLink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
