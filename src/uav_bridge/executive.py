"""The companion's flight sequence for one plan: upload fence, rally and mission, pre-flight checks,
fence enable and failsafe parameters, arm, start — then watch the flight. Any refusal stops the sequence with the
autopilot's reason; nothing is armed before every upload was accepted and every check passed.

Link loss depends on our role, as ArduPilot's GCS failsafe counts only heartbeats from system id SYSID_MYGCS:

* ``gcs`` (a ground station, system id 255 by default): before arming, SYSID_MYGCS is set to our system id and
  FS_GCS_ENABLE to the link-loss action, so the autopilot itself returns or lands when our link goes silent for
  FS_GCS_TIMEOUT — whether or not we can still talk to it.
* ``onboard`` (a companion sharing the vehicle's system id): the autopilot's GCS failsafe belongs to the ground
  station and is left alone; it never watches the companion link. The companion's own policy
  (:class:`~sanqin.uav_bridge.preflight.FailsafeMonitor`) commands the link-loss action when the autopilot link
  returns after a loss in flight; while it is down, the vehicle goes on with its mission under its own failsafes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.errors import PreflightFailed, ReturnOutsideFence, UavBridgeError
from sanqin.uav_bridge.heartbeat import ROLES
from sanqin.uav_bridge.operation import Operation
from sanqin.uav_bridge.plan_file import Plan
from sanqin.uav_bridge.preflight import (
    FailsafePolicy,
    PreflightLimits,
    predicted_home,
    preflight_failures,
    return_leg_violations,
)
from sanqin.uav_bridge.vehicle import Vehicle

STATES = ("idle", "uploading", "preflight", "arming", "starting", "flying", "done", "failed")
PARAM_INT8, PARAM_INT16 = mavlink.MAV_PARAM_TYPE_INT8, mavlink.MAV_PARAM_TYPE_INT16  # ArduPilot's AP_Int8 / AP_Int16


@dataclass(frozen=True)
class ExecutiveOptions:
    """How a plan is flown: checks, the wait for telemetry, failsafe parameters, start mode."""

    limits: PreflightLimits = PreflightLimits()
    telemetry_wait_s: float = 10.0
    configure_failsafes: bool = True
    policy: FailsafePolicy = FailsafePolicy()
    fly: bool = True  # False: upload and check only
    role: str = "onboard"  # ours on the link: gcs (the autopilot's GCS failsafe can watch us) | onboard (it cannot)

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise UavBridgeError(f"role must be one of {ROLES}, got {self.role!r}")


class MissionExecutive:
    """A step-driven sequence; ``step(now_s)`` advances it, ``state`` and ``log`` tell where it is."""

    def __init__(self, vehicle: Vehicle, plan: Plan, options: ExecutiveOptions | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        self.v = vehicle
        self.plan = plan
        self.o = options or ExecutiveOptions()
        self.state = "idle"
        self.error: UavBridgeError | None = None
        self.log_lines: list[str] = []
        self._log = log
        self._queue: list[tuple[str, Callable[[], Operation[Any]]]] = []
        self._op: Operation[Any] | None = None
        self._op_name = ""
        self._since_s = 0.0
        self.was_armed = False

    def say(self, text: str) -> None:
        """Record a progress line."""
        self.log_lines.append(text)
        if self._log is not None:
            self._log(text)

    def start(self, now_s: float) -> None:
        """Begin: queue the uploads (fence and rally first, so the mission is checked against the fence)."""
        self.plan.validate()
        v = self.v
        q: list[tuple[str, Callable[[], Operation[Any]]]] = []
        q.append(("upload fence", lambda: v.upload(self.plan.fence_items(), mavlink.MAV_MISSION_TYPE_FENCE)))
        q.append(("upload rally points", lambda: v.upload(self.plan.rally_items(), mavlink.MAV_MISSION_TYPE_RALLY)))
        q.append(("upload mission", lambda: v.upload(self.plan.mission, mavlink.MAV_MISSION_TYPE_MISSION)))
        self._queue = q
        self.state = "uploading"
        self._since_s = now_s
        self.say(f"plan: {len(self.plan.mission)} mission items, {len(self.plan.fence_items())} fence items, "
                 f"{len(self.plan.rally_points)} rally points")

    def _fail(self, err: UavBridgeError) -> None:
        self.state = "failed"
        self.error = err
        self.say(f"FAILED: {err}")

    def _run_queue(self, now_s: float, next_state: str) -> None:
        if self._op is not None:
            if not self._op.done:
                return
            if self._op.error is not None:
                self._fail(self._op.error)
                return
            self.say(f"{self._op_name}: ok")
            self._op = None
        if self._queue:
            self._op_name, make = self._queue.pop(0)
            try:
                self._op = make()
            except UavBridgeError as err:
                self._fail(err)
            return
        self.state = next_state
        self._since_s = now_s

    def step(self, now_s: float) -> None:
        """Advance the sequence."""
        if self.state in ("idle", "done", "failed"):
            return
        v = self.v
        if self.state == "uploading":
            self._run_queue(now_s, "preflight")
            if self.state == "preflight" and not self.o.fly:
                self.state = "done"
                self.say("uploaded (not flying)")
        elif self.state == "preflight":
            plan = self.plan
            fails = preflight_failures(v.telemetry, plan.mission, plan.fence_polygons, plan.fence_circles,
                                       self.o.limits, connected=v.connected, rally_points=plan.rally_points,
                                       planned_home=plan.planned_home)
            home = predicted_home(v.telemetry, plan.planned_home)
            if fails and home is not None:  # a return outside the fence cannot improve by waiting: refuse at once
                ret = return_leg_violations(plan.mission, plan.fence_polygons, plan.fence_circles, home,
                                            plan.rally_points, landing_margin_m=self.o.limits.landing_margin_m)
                if ret:
                    self._fail(ReturnOutsideFence(fails, ret))
                    return
            if not fails:
                self.say("pre-flight checks passed")
                self._queue = self._arming_queue()
                self.state = "arming"
            elif now_s - self._since_s > self.o.telemetry_wait_s:
                self._fail(PreflightFailed(fails))
        elif self.state == "arming":
            self._run_queue(now_s, "flying")
            if self.state == "flying":
                self.say("mission started")
        elif self.state == "flying":
            armed = v.link.status.armed
            self.was_armed = self.was_armed or armed
            if self.was_armed and not armed and v.connected:
                p = v.missions.progress
                self.state = "done"
                self.say(f"landed and disarmed; mission item {p.current_seq + 1}/{p.total}, "
                         f"{len(p.reached)} items reached")

    def _arming_queue(self) -> list[tuple[str, Callable[[], Operation[Any]]]]:
        v = self.v
        q: list[tuple[str, Callable[[], Operation[Any]]]] = []
        if self.plan.fence_items() and v.link.status.autopilot == "ardupilot":
            # ArduCopter ships with FENCE_ENABLE=0: an uploaded fence is not enforced until it is set
            q.append(("set FENCE_ENABLE", lambda: v.params.set("FENCE_ENABLE", 1.0, v.now_s, PARAM_INT8)))
        pol = self.o.policy
        if self.o.configure_failsafes and v.link.status.autopilot == "ardupilot":
            bat = {"rtl": 2.0, "land": 1.0, "none": 0.0}[pol.battery_action]
            if self.o.role == "gcs":
                # ArduCopter's GCS failsafe counts only heartbeats from SYSID_MYGCS (default 255): make that us,
                # else FS_GCS_ENABLE would watch another ground station (or none) and never notice our link
                me = float(v.mav.srcSystem)
                gcs = {"rtl": 1.0, "land": 5.0, "none": 0.0}[pol.link_loss_action]
                q.append(("set SYSID_MYGCS", lambda: v.params.set("SYSID_MYGCS", me, v.now_s, PARAM_INT16)))
                q.append(("set FS_GCS_ENABLE", lambda: v.params.set("FS_GCS_ENABLE", gcs, v.now_s, PARAM_INT8)))
            q.append(("set BATT_FS_LOW_ACT", lambda: v.params.set("BATT_FS_LOW_ACT", bat, v.now_s, PARAM_INT8)))
        if self.o.role == "onboard":
            self.say(f"link loss: the autopilot's GCS failsafe watches its ground station (SYSID_MYGCS), not this "
                     f"companion; after a loss in flight the companion commands {pol.link_loss_action.upper()} when "
                     "the autopilot link returns")
        q.append(("set mode GUIDED", lambda: v.set_mode("GUIDED")))
        q.append(("arm", lambda: v.arm(True)))
        q.append(("start mission", lambda: v.start_mission()))
        return q

    @property
    def finished(self) -> bool:
        """Done or failed."""
        return self.state in ("done", "failed")

    def summary(self) -> dict[str, float]:
        """Numbers for metrics."""
        return {"executive_state": float(STATES.index(self.state)), "executive_failed": float(self.state == "failed"),
                "executive_done": float(self.state == "done"), "battery": _nan(self.v)}


def _nan(v: Vehicle) -> float:
    b = v.telemetry.battery
    return b.percentage if b is not None else math.nan
