"""A MAVLink multicopter simulator (Copter-like autopilot) for CI: a stand-alone process or a runner plugin."""

from .sim import MulticopterConfig, MulticopterSimulator

__all__ = ["MulticopterConfig", "MulticopterSimulator"]
