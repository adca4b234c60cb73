"""The headless battery pack, run beside ArduPilot SITL and imposed on it over MAVLink (a Gazebo twin's pack).

ArduPilot SITL in ``--model JSON`` mode gets no battery from the FDM, so it falls back to a fixed model: the
analog monitor reads ``SIM_BATT_VOLTAGE`` − 0.7 V × throttle and 50 A × throttle (throttle = mean motor PWM
fraction). That pack starts full, its voltage never falls with charge, and its drain depends on the iris'
hover throttle — nothing like the headless scenario's pack (e.g. 12 Ah at 75 %, 70 A in hover, 6S LiPo curve).

So the twin runs the **headless pack itself** (:class:`sanqin.simulation.multicopter.dynamics.Battery`, same
capacity, start charge, cells, internal resistance, hover and idle current) and every ``period_s`` writes its
state into SITL the way a ground-station tool would:

* ``MAV_CMD_BATTERY_RESET`` (param1 = battery mask, bit 0 = the first monitor; param2 = remaining %), which
  ArduPilot's AP_BattMonitor turns into consumed charge = (100 − %) of ``BATT_CAPACITY``: the remaining
  capacity the autopilot reports (and the bridge's battery policy reads) is the headless state of charge;
* ``PARAM_SET SIM_BATT_VOLTAGE`` = the headless open-circuit voltage − I·R (terminal voltage under load) +
  ``sitl_sag_v``, SITL's own throttle sag added back, so the voltage the autopilot's low/critical-voltage
  failsafes see falls with charge as the headless pack's does.

The pack is drained by the headless law, current = idle + hover × (thrust / weight)^1.5 while armed, with the
thrust ratio taken from the vehicle's own accelerometer (specific force / g from RAW_IMU, SCALED_IMU or
SCALED_IMU2, in mG — the headless model uses its commanded specific force), 1.0 while armed when no IMU
message is recent. Between two updates SITL integrates its own 50 A × throttle against ``BATT_CAPACITY``
(set to the headless capacity), a drift each reset removes.
"""

from __future__ import annotations

import math
from typing import Any

from sanqin.simulation.multicopter.dynamics import Battery, BatteryParams

MAV_CMD_BATTERY_RESET = 42651
MAV_MODE_FLAG_SAFETY_ARMED = 128
IMU_MESSAGES = ("RAW_IMU", "SCALED_IMU", "SCALED_IMU2")  # ArduPilot reports their accelerations in mG
IMU_STALE_S = 1.0


class PackEmulator:
    """The headless pack: ``observe`` the vehicle's messages, ``step`` to a time, ``messages`` to send."""

    def __init__(self, params: BatteryParams, soc_start: float, sitl_sag_v: float) -> None:
        self.battery = Battery(params, soc=soc_start)
        self.sitl_sag_v = sitl_sag_v
        self.armed = False
        self.specific_force_g: float | None = None
        self._imu_t = -math.inf
        self._t: float | None = None

    def observe(self, msg: Any, t_s: float) -> None:
        """Take arming from the autopilot's HEARTBEAT and the specific force from its IMU messages."""
        kind = msg.get_type()
        if kind == "HEARTBEAT":
            self.armed = bool(msg.base_mode & MAV_MODE_FLAG_SAFETY_ARMED)
        elif kind in IMU_MESSAGES:
            a = math.sqrt(float(msg.xacc) ** 2 + float(msg.yacc) ** 2 + float(msg.zacc) ** 2) / 1000.0
            if math.isfinite(a):
                self.specific_force_g, self._imu_t = a, t_s

    def thrust_ratio(self, t_s: float) -> float:
        """Thrust / weight now: the measured specific force when recent, else 1 (hover)."""
        if self.specific_force_g is not None and t_s - self._imu_t <= IMU_STALE_S:
            return self.specific_force_g
        return 1.0

    def step(self, t_s: float) -> None:
        """Drain the pack from the last step to ``t_s`` (a clock that goes back restarts the integration)."""
        dt = 0.0 if self._t is None else t_s - self._t
        self._t = t_s
        if dt > 0:
            self.battery.step(self.thrust_ratio(t_s), self.armed, dt)

    @property
    def soc(self) -> float:
        """State of charge, 0..1."""
        return self.battery.soc

    def sitl_voltage_v(self) -> float:
        """SIM_BATT_VOLTAGE that makes SITL's monitor read the headless terminal voltage."""
        return self.battery.voltage_v + self.sitl_sag_v

    def messages(self, encoder: Any, target_system: int, target_component: int = 1) -> list[Any]:
        """BATTERY_RESET to the state of charge and SIM_BATT_VOLTAGE to the terminal voltage (encoded, unpacked)."""
        reset = encoder.command_long_encode(target_system, target_component, MAV_CMD_BATTERY_RESET, 0,
                                            1.0, round(100.0 * self.soc, 3), 0, 0, 0, 0, 0)
        volt = encoder.param_set_encode(target_system, target_component, b"SIM_BATT_VOLTAGE",
                                        round(self.sitl_voltage_v(), 4), 9)  # MAV_PARAM_TYPE_REAL32
        return [reset, volt]

