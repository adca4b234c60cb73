"""The simulated multicopter as one object: airframe, battery, wind, autopilot and MAVLink server.

:class:`MulticopterSimulator` is stepped on simulated time by its owner: the headless-runner plugin
(:mod:`.plugin`), the stand-alone process (``python -m sanqin.simulation.multicopter``) or a test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sanqin.runtime.config import param, require
from sanqin.uav_bridge.connection import MavConnection, SigningConfig, load_signing_key, open_transport
from sanqin.uav_bridge.geo import GeoOrigin

from .autopilot import Autopilot
from .dynamics import AirframeParams, Battery, BatteryParams, Multicopter, Wind
from .params import ParamTable
from .server import Faults, MavlinkServer


@dataclass(frozen=True)
class MulticopterConfig:
    """Everything that defines a simulated vehicle and its faults (SI units, WGS84 degrees)."""

    connection: str = param("mem:uav1", "vehicle-side URL: mem:NAME, udpout:127.0.0.1:PORT, udpin:127.0.0.1:PORT")
    system_id: int = param(1, "MAVLink system id of the vehicle", min=1, max=255)
    home_latitude_deg: float = param(52.0870, "home latitude (deg)", min=-89.0, max=89.0)
    home_longitude_deg: float = param(5.1630, "home longitude (deg)", min=-180.0, max=180.0)
    home_altitude_m: float = param(10.0, "home altitude above mean sea level (m)", min=-500.0, max=9000.0)
    physics_dt_s: float = param(0.02, "physics step (s)", min=0.001, max=0.1)
    seed: int = param(7, "random seed of the wind gusts")
    mass_kg: float = param(12.0, "take-off mass (kg)", min=0.2, max=150.0)
    wind_east_m_s: float = param(0.0, "mean wind towards east (m/s)", min=-30.0, max=30.0)
    wind_north_m_s: float = param(0.0, "mean wind towards north (m/s)", min=-30.0, max=30.0)
    gust_std_m_s: float = param(0.0, "gust standard deviation (m/s)", min=0.0, max=10.0)
    gust_tau_s: float = param(2.0, "gust correlation time (s)", min=0.05, max=60.0)
    battery_cells: int = param(6, "LiPo cells in series", min=1, max=14)
    battery_capacity_ah: float = param(16.0, "battery capacity (Ah)", min=0.01, max=100.0)
    battery_soc_start: float = param(1.0, "state of charge at start (0..1)", min=0.0, max=1.0)
    hover_current_a: float = param(45.0, "battery current in hover (A)", min=0.1, max=500.0)
    param_names: tuple[str, ...] = param((), "autopilot parameters to override (names)")
    param_values: tuple[float, ...] = param((), "values of param_names, in order")
    link_down_start_s: float = param(-1.0, "simulated time the radio link drops (s); negative: never")
    link_down_end_s: float = param(-1.0, "simulated time the radio link returns (s)")
    mission_reject_result: int = param(0, "answer every mission upload with this MAV_MISSION_RESULT (0: accept)",
                                       min=0, max=255)
    no_ack_commands: tuple[int, ...] = param((), "MAV_CMD numbers never acknowledged (fault injection)")
    deny_commands: tuple[int, ...] = param((), "MAV_CMD numbers always denied (fault injection)")
    gps_ok: bool = param(True, "GPS has a 3D fix")
    ekf_ok: bool = param(True, "EKF healthy")
    signing_key_file: str = param("", "MAVLink 2 signing key file (64 hex characters); empty: no signing")
    require_signing: bool = param(False, "refuse unsigned messages")

    def __post_init__(self) -> None:
        require(len(self.param_names) == len(self.param_values),
                f"param_names ({len(self.param_names)}) and param_values ({len(self.param_values)}) differ in length")
        require(self.link_down_start_s < 0 or self.link_down_end_s > self.link_down_start_s,
                "link_down_end_s must be after link_down_start_s")


class MulticopterSimulator:
    """A MAVLink multicopter on a transport; ``step(t_s)`` advances physics and protocols to ``t_s``."""

    def __init__(self, config: MulticopterConfig) -> None:
        self.config = config
        c = config
        self.origin = GeoOrigin(c.home_latitude_deg, c.home_longitude_deg, c.home_altitude_m)
        overrides = dict(zip(c.param_names, c.param_values))
        overrides.setdefault("SYSID_THISMAV", float(c.system_id))
        self.params = ParamTable(overrides)
        self.body = Multicopter(AirframeParams(mass_kg=c.mass_kg))
        self.battery = Battery(BatteryParams(cells=c.battery_cells, capacity_ah=c.battery_capacity_ah,
                                             hover_current_a=c.hover_current_a), soc=c.battery_soc_start)
        self.wind = Wind((c.wind_east_m_s, c.wind_north_m_s, 0.0), c.gust_std_m_s, c.gust_tau_s,
                         np.random.default_rng(c.seed))
        self.autopilot = Autopilot(self.origin, self.params.values, self.body, self.battery, self.wind)
        signing = None
        if c.signing_key_file:
            signing = SigningConfig(load_signing_key(c.signing_key_file), require=c.require_signing)
        transport = open_transport(c.connection, side="vehicle")
        self.conn = MavConnection(transport, system_id=c.system_id, component_id=1, signing=signing)
        faults = Faults(frozenset(c.no_ack_commands), frozenset(c.deny_commands), c.mission_reject_result,
                        c.gps_ok, c.ekf_ok)
        self.server = MavlinkServer(self.conn, self.autopilot, self.params, faults)
        self.t_s = 0.0
        self.track: list[tuple[float, float, float, float, bool, int]] = []  # t, e, n, u, spraying, mode
        self._next_track_s = 0.0
        self.max_alt_m = 0.0
        self.min_soc = self.battery.soc
        self.armed_s = 0.0
        self.link_down_s = 0.0
        self.items_reached_link_down = 0

    def link_up(self, t_s: float) -> bool:
        """Whether the simulated radio link passes traffic at ``t_s``."""
        c = self.config
        return not (c.link_down_start_s >= 0 and c.link_down_start_s <= t_s < c.link_down_end_s)

    def step(self, t_s: float) -> None:
        """Advance to ``t_s``: protocols once, physics in ``physics_dt_s`` sub-steps."""
        dt = self.config.physics_dt_s
        up = self.link_up(t_s)
        if not up:
            self.link_down_s += max(0.0, t_s - self.t_s)
        self.server.step(t_s, link_up=up)
        reached_before = len(self.autopilot.reached)
        while self.t_s + 1e-9 < t_s:
            h = min(dt, t_s - self.t_s)
            self.t_s += h
            self.autopilot.step(self.t_s, h, self.server.faults.gps_ok, self.server.gcs_link_ok())
            if self.autopilot.armed:
                self.armed_s += h
        if not up:  # the mission goes on (or not) while nobody can talk to the vehicle
            self.items_reached_link_down += max(0, len(self.autopilot.reached) - reached_before)
        pos = self.body.pos
        self.max_alt_m = max(self.max_alt_m, float(pos[2]))
        self.min_soc = min(self.min_soc, self.battery.soc)
        if t_s >= self._next_track_s:
            self.track.append((t_s, float(pos[0]), float(pos[1]), float(pos[2]), self.autopilot.spraying,
                               self.autopilot.mode))
            self._next_track_s = t_s + 0.5

    def close(self) -> None:
        """Close the transport."""
        self.conn.close()

    def metrics(self) -> dict[str, float]:
        """Flight summary: distances, altitude, mission, payload, failsafes, battery."""
        ap = self.autopilot
        photos = ap.payload.photos
        gaps = [math.dist(self.origin.to_enu(a.latitude_deg, a.longitude_deg)[:2],
                          self.origin.to_enu(b.latitude_deg, b.longitude_deg)[:2]) for a, b in zip(photos, photos[1:])]
        home_d = float(np.linalg.norm(self.body.pos[:2] - ap.home[:2]))
        ret_d = float(np.linalg.norm(self.body.pos[:2] - ap.rtl_destination()[:2]))
        return {
            "flown_m": ap.flown_m,
            "max_alt_m": self.max_alt_m,
            "armed_s": self.armed_s,
            "armed": float(ap.armed),
            "landed": float(self.body.on_ground),
            "items_reached": float(len(set(ap.reached))),
            "mission_items": float(len(ap.mission)),
            "mission_complete": float(ap.mission_complete),
            "distance_from_home_m": home_d,
            "distance_from_return_point_m": ret_d,
            "fence_items": float(len(ap.fence)),
            "rally_items": float(len(ap.rally)),
            "fence_enabled": float(ap.params["FENCE_ENABLE"] >= 1),
            "fence_breaches": float(ap.fence_breaches),
            "max_fence_violation_m": ap.max_fence_violation_m,
            "photos": float(len(photos)),
            "photo_spacing_mean_m": float(np.mean(gaps)) if gaps else 0.0,
            "photo_spacing_max_m": float(np.max(gaps)) if gaps else 0.0,
            "sprayed_m": ap.sprayed_m,
            "spray_switches": float(len(ap.spray_log)),
            "failsafe_events": float(len(ap.failsafe_events)),
            "failsafe_gcs": float(any("GCS" in e for _, e in ap.failsafe_events)),
            "gcs_heartbeats": float(self.server.counters["gcs_heartbeats"]),  # from SYSID_MYGCS only
            "failsafe_battery": float(any("Battery" in e for _, e in ap.failsafe_events)),
            "battery_min_soc": self.min_soc,
            "battery_voltage_v": self.battery.voltage_v,
            "link_down_s": self.link_down_s,
            "items_reached_link_down": float(self.items_reached_link_down),
            "final_mode": float(ap.mode),
            "mission_uploads_ok": float(self.server.counters["mission_uploads_ok"]),
            "mission_uploads_failed": float(self.server.counters["mission_uploads_failed"]),
            "rx_bad_frames": float(self.conn.counters["rx_bad_crc_or_data"]),
        }
