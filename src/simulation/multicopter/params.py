"""The simulated vehicle's parameters: ArduCopter names, units and meanings where ArduCopter has them."""

from __future__ import annotations

from sanqin.uav_bridge.enums import mavlink

REAL = mavlink.MAV_PARAM_TYPE_REAL32
INT = mavlink.MAV_PARAM_TYPE_INT32

#: name → (default, type, min, max, description)
DEFAULTS: dict[str, tuple[float, int, float, float, str]] = {
    "WPNAV_SPEED": (800.0, REAL, 20, 2000, "horizontal waypoint speed (cm/s)"),
    "WPNAV_SPEED_UP": (250.0, REAL, 10, 1000, "climb speed (cm/s)"),
    "WPNAV_SPEED_DN": (150.0, REAL, 10, 500, "descent speed (cm/s)"),
    "WPNAV_RADIUS": (200.0, REAL, 5, 1000, "waypoint acceptance radius (cm)"),
    "RTL_ALT": (1500.0, REAL, 200, 8000, "RTL return altitude (cm)"),
    "LAND_SPEED": (50.0, REAL, 30, 200, "final landing speed (cm/s)"),
    "ARMING_CHECK": (1.0, INT, 0, 1, "1: run pre-arm checks, 0: skip"),
    "BATT_ARM_VOLT": (22.2, REAL, 0, 60, "minimum voltage to arm (V)"),
    "BATT_LOW_VOLT": (21.9, REAL, 0, 60, "low-battery failsafe voltage (V), 0 disables"),
    "BATT_CRT_VOLT": (21.0, REAL, 0, 60, "critical-battery failsafe voltage (V), 0 disables"),
    "BATT_LOW_TIMER": (10.0, REAL, 0, 120, "voltage must stay below a threshold this long to trigger (s)"),
    "BATT_FS_LOW_ACT": (2.0, INT, 0, 2, "low-battery action: 0 none, 1 land, 2 RTL"),
    "BATT_FS_CRT_ACT": (1.0, INT, 0, 2, "critical-battery action: 0 none, 1 land, 2 RTL"),
    "FS_GCS_ENABLE": (0.0, INT, 0, 7, "GCS failsafe when the heartbeats of SYSID_MYGCS stop for FS_GCS_TIMEOUT: "
                                       "0 off (ArduCopter's default), 1 RTL, 2 RTL (legacy), 3 SmartRTL or RTL, "
                                       "4 SmartRTL or land, 5 land, 6 DO_LAND_START or RTL, 7 brake or land (no "
                                       "SmartRTL path or landing sequence here: 3 and 6 are RTL, 4 lands)"),
    "FS_GCS_TIMEOUT": (5.0, REAL, 2, 120, "GCS heartbeat-loss timeout (s)"),
    "SYSID_MYGCS": (255.0, INT, 1, 255, "system id of our ground station: as in ArduPilot, only its heartbeats feed "
                                        "the GCS failsafe (a companion's or another GCS's do not)"),
    "FENCE_ENABLE": (0.0, INT, 0, 1, "geofence enforced (off by default, as in ArduCopter: an uploaded fence "
                                      "does nothing until this is set)"),
    "FENCE_ACTION": (1.0, INT, 0, 2, "fence breach action: 0 report, 1 RTL, 2 land"),
    "FENCE_ALT_MAX": (120.0, REAL, 0, 1000, "maximum altitude (m), 0 disables"),
    "MIS_TOTAL_MAX": (700.0, INT, 1, 10000, "mission storage (items)"),
    "SPRAY_SERVO": (9.0, INT, 1, 16, "servo channel of the spray pump"),
    "SPRAY_RELAY": (0.0, INT, 0, 5, "relay of the spray pump"),
    "SPRAY_PUMP_RATE": (10.0, REAL, 0, 100, "pump rate at full PWM (%/ms⁻¹)"),
    "SPRAY_SPEED_MIN": (100.0, REAL, 0, 1000, "ground speed the sprayer (DO_SPRAYER) pumps at or above (cm/s)"),
    "CAM_TRIGG_DIST": (0.0, REAL, 0, 1000, "camera trigger distance (m), 0 off"),
    "SYSID_THISMAV": (1.0, INT, 1, 255, "system id"),
}


class ParamTable:
    """Parameter values with bounds; ordered as declared (indices are stable)."""

    def __init__(self, overrides: dict[str, float] | None = None) -> None:
        self.values: dict[str, float] = {k: v[0] for k, v in DEFAULTS.items()}
        for k, v in (overrides or {}).items():
            if k not in self.values:
                raise KeyError(f"unknown simulator parameter {k!r}")
            self.values[k] = float(v)
        self.names = list(self.values)

    def __getitem__(self, name: str) -> float:
        return self.values[name]

    def set(self, name: str, value: float) -> bool:
        """Set within bounds; False (value kept) for unknown names or out-of-range values."""
        spec = DEFAULTS.get(name)
        if spec is None or not (spec[2] <= value <= spec[3]):
            return False
        self.values[name] = float(value) if spec[1] == REAL else float(int(value))
        return True

    def type_of(self, name: str) -> int:
        """MAV_PARAM_TYPE of a parameter."""
        return DEFAULTS[name][1]
