"""Run the MAVLink multicopter as its own process, like an autopilot's SITL.

    python -m sanqin.simulation.multicopter --connect udpout:127.0.0.1:14550 [--speedup 1] [--duration 0]

``--connect`` is the vehicle side: ``udpout:HOST:PORT`` sends to a ground station / bridge listening there
(``udpin:`` on its side), ``udpin:HOST:PORT`` listens for one. ``--param NAME=VALUE`` overrides autopilot
parameters; ``--speedup`` runs simulated time faster than the wall clock. Ctrl-C / SIGTERM end it cleanly.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from dataclasses import replace

from sanqin.runtime.errors import ConfigError
from sanqin.uav_bridge.errors import UavBridgeError

from .sim import MulticopterConfig, MulticopterSimulator


def _floats(text: str, n: int, what: str) -> list[float]:
    try:
        vals = [float(v) for v in text.split(",")]
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{what}: {err}") from err
    if len(vals) != n:
        raise argparse.ArgumentTypeError(f"{what}: expected {n} comma-separated numbers")
    return vals


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(prog="python -m sanqin.simulation.multicopter", description=__doc__.split("\n")[0])
    p.add_argument("--connect", default="udpout:127.0.0.1:14550", help="vehicle-side connection URL")
    p.add_argument("--sysid", type=int, default=1, help="MAVLink system id")
    p.add_argument("--home", default="52.0870,5.1630,10.0", help="home latitude,longitude,altitude (deg, deg, m)")
    p.add_argument("--wind", default="0,0", help="mean wind east,north (m/s)")
    p.add_argument("--speedup", type=float, default=1.0, help="simulated seconds per wall-clock second")
    p.add_argument("--duration", type=float, default=0.0, help="stop after this many simulated seconds (0: never)")
    p.add_argument("--step", type=float, default=0.01, help="protocol/physics step in simulated seconds")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="autopilot parameter")
    p.add_argument("--battery-soc", type=float, default=1.0, help="state of charge at start (0..1)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run until the duration, SIGINT or SIGTERM; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        lat, lon, alt = _floats(args.home, 3, "--home")
        we, wn = _floats(args.wind, 2, "--wind")
        names, values = [], []
        for kv in args.param:
            name, _, val = kv.partition("=")
            names.append(name.strip())
            values.append(float(val))
        cfg = MulticopterConfig()
        cfg = replace(cfg, connection=args.connect, system_id=args.sysid, home_latitude_deg=lat,
                      home_longitude_deg=lon, home_altitude_m=alt, wind_east_m_s=we, wind_north_m_s=wn,
                      param_names=tuple(names), param_values=tuple(values), battery_soc_start=args.battery_soc)
        sim = MulticopterSimulator(cfg)
    except (argparse.ArgumentTypeError, ValueError, KeyError, ConfigError, UavBridgeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    stop = {"now": False}

    def _stop(_sig: int, _frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(f"multicopter sim: system {args.sysid} on {args.connect}, speedup {args.speedup:g}", flush=True)
    wall0 = time.monotonic()
    t = 0.0
    try:
        while not stop["now"] and (args.duration <= 0 or t < args.duration):
            # simulated time follows the wall clock (times speedup); traffic wakes the loop early so the
            # protocols answer at once, but never moves simulated time ahead of the clock
            t = (time.monotonic() - wall0) * args.speedup
            if args.duration > 0:
                t = min(t, args.duration)
            sim.step(t)
            sim.conn.wait(args.step / max(args.speedup, 1e-6))
    finally:
        sim.close()
    print(f"multicopter sim: stopped at {t:.1f} s simulated", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
