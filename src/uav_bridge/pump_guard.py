"""The companion's pump guard: the spray pump goes off when the vehicle leaves its mission or a failsafe acts.

ArduPilot holds a DO_SET_SERVO output (SRV_Channels keeps the PWM) and a DO_SET_RELAY state until something sets
them again; no mode change touches them. Its sprayer library (DO_SPRAYER, AC_Sprayer) also stays enabled across
mode changes and pumps whenever the vehicle moves faster than SPRAY_SPEED_MIN, stopping only a second after it
slows down. So a return that starts mid-pass, whoever starts it (our failsafe policy, the autopilot's battery, GCS
or fence failsafe, a pilot's mode switch), sprays all the way home and outside the field.

The companion owns the payload, so it switches the pump off. **The pump may be on** once the ``spray`` service was
sent an "on", or while the vehicle flies AUTO with a mission we uploaded that switches the pump on (a spray plan;
we do not follow the mission item by item, since the vehicle reports its progress late, so the whole flight
counts). While it may be on, the guard commands the pump off when

* the vehicle leaves AUTO, for any reason (its heartbeat says so, also on the first heartbeat after a link outage),
* the vehicle switches to a returning or landing mode (RTL, LAND, SMART_RTL, AUTO_RTL, BRAKE) from any other mode,
* the companion commands a failsafe action itself (before the vehicle has even changed mode), or
* the vehicle disarms (an ArduPilot servo output outlasts disarming too).

Off means every pump switch that may be on: the configured method (``payload`` section of the node's config) and
each switch the spray plan's items use (DO_SET_SERVO on the pump channel, DO_SET_RELAY on the pump relay,
DO_SPRAYER), one command after the other. Each command goes through the command protocol (its own ACK timeout and
resends); one that is refused or never acknowledged is sent again after ``retry_s`` (doubling per failure, at most
:data:`MAX_BACKOFF` times; failure events thinned to the first three and every tenth), until acknowledged, and
meanwhile goes behind the others, so that a switch the autopilot refuses for good never holds back the rest. While the
link is down nothing is sent; the commands go out when it returns. Once every switch acknowledged "off", the pump
is known off: nothing more is sent until it may be on again, and an event says so. (After a pump-off for our own
failsafe the vehicle is still seen in AUTO until its next heartbeat, where a pump item of the plan may still run:
the pump may be on again, and leaving AUTO sends one more pump-off.) An explicit ``spray`` "on" from
an operator, once acknowledged, drops a pending pump-off (the operator's command is the newer one; one lost with
the link does not).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sanqin.common.mission import MissionItem
from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.errors import Busy, LinkLost, UavBridgeError
from sanqin.uav_bridge.modes import canonical
from sanqin.uav_bridge.operation import Operation
from sanqin.uav_bridge.payload import SprayConfig, spray_off

C = mavlink
#: Resends of a refused pump-off wait retry_s, doubling per failure, up to this many times retry_s.
MAX_BACKOFF = 8.0
#: The event saying every pump switch acknowledged "off" (group 1: why); recordings are scored from it.
PUMP_OFF_EVENT = re.compile(r"^payload: pump off \((.*)\)$")
#: Modes a failsafe or a pilot's "come home" puts the vehicle in: entering one while the pump may be on stops it.
STOP_MODES = frozenset({"RTL", "LAND", "SMART_RTL", "AUTO_RTL", "BRAKE"})


@dataclass(frozen=True)
class PumpGuardOptions:
    """Whether the guard acts, and how long it waits before resending a refused or unanswered pump-off (s)."""

    enabled: bool = True
    retry_s: float = 1.0

    def __post_init__(self) -> None:
        if not self.retry_s > 0:
            raise UavBridgeError(f"retry_s must be positive, got {self.retry_s!r}")


def pump_switches(items: Sequence[MissionItem], cfg: SprayConfig) -> tuple[str, ...]:
    """The pump switches (``servo``, ``relay``, ``sprayer``) that mission ``items`` turn on, in first-use order:
    DO_SET_SERVO on the pump channel above the off PWM, DO_SET_RELAY on the pump relay set, DO_SPRAYER enabled."""
    out: list[str] = []
    for it in items:
        p = it.params
        kind = ""
        if it.command == C.MAV_CMD_DO_SET_SERVO and int(p[0]) == cfg.servo_channel and p[1] > cfg.pwm_off:
            kind = "servo"
        elif it.command == C.MAV_CMD_DO_SET_RELAY and int(p[0]) == cfg.relay and p[1] >= 1:
            kind = "relay"
        elif it.command == C.MAV_CMD_DO_SPRAYER and p[0] >= 1:
            kind = "sprayer"
        if kind and kind not in out:
            out.append(kind)
    return tuple(out)


class PumpGuard:
    """Decides when the pump must go off and drives the pump-off commands to an acknowledgement.

    ``send(item)`` runs a DO command now (:meth:`~sanqin.uav_bridge.vehicle.Vehicle.do`) and returns its
    :class:`Operation`. Call :meth:`step` every tick with the vehicle's link state, arming and mode; read the
    lines it has to say from ``events`` (the caller publishes and clears them).
    """

    def __init__(self, send: Callable[[MissionItem], Operation[Any]], spray: SprayConfig,
                 options: PumpGuardOptions | None = None) -> None:
        self.send = send
        self.spray = spray
        self.options = options or PumpGuardOptions()
        self.may_be_on = False
        self.plan_switches: tuple[str, ...] = ()  # what the mission we uploaded switches on; () : no spray plan
        self.pending = ""  # why the pump must go off ('' : nothing to do)
        self.events: list[str] = []
        self.counters = {"pump_off_requests": 0, "pump_off_commands": 0, "pump_off_retries": 0, "pumps_off": 0}
        self._queue: list[MissionItem] = []
        self._refused: set[int] = set()  # commands of this pump-off that failed once: they wait retry_s
        self._op: Operation[Any] | None = None
        self._next_try_s = 0.0
        self._failures = 0  # failed sends/acks of the current pump-off (backoff, event thinning)
        self._mode = ""
        self._armed = False

    # --- what the node tells us -------------------------------------------------------------------
    def set_plan(self, mission: Sequence[MissionItem]) -> None:
        """The mission we upload to the vehicle (a spray plan when it switches the pump on). While the pump may be
        on, the previous plan's switches are kept too: the vehicle may still fly that plan (the upload can be
        refused) and its outputs stay on whatever it flies next, so a pump-off must still cover them."""
        switches = pump_switches(mission, self.spray)
        if self.may_be_on:
            switches = tuple(dict.fromkeys((*self.plan_switches, *switches)))
        self.plan_switches = switches

    def on_spray_command(self, on: bool, op: Operation[Any]) -> None:
        """The ``spray`` service sent "on" or "off" (``op``: its command). An operator's "on" overrides a pending
        pump-off once the vehicle has acknowledged it: one sent into a dead link leaves the pump-off standing."""
        if on:
            self.may_be_on = True
            op.on_done(self._service_on_done)
            return
        op.on_done(self._service_off_done)

    def _service_on_done(self, op: Operation[Any]) -> None:
        if op.error is None and self.pending:  # the operator's acknowledged "on" is newer than our pump-off
            self.events.append(f"payload: pending pump off ({self.pending}) dropped: the spray service "
                               "switched the pump on")
            self._drop()

    def failsafe(self, why: str) -> None:
        """The companion commands a failsafe action (``why``: its reason)."""
        self._request(f"failsafe: {why}")

    # --- the tick ---------------------------------------------------------------------------------
    def step(self, now_s: float, *, connected: bool, armed: bool, mode: str, autopilot: str = "ardupilot") -> None:
        """Watch the vehicle's mode and arming; send, resend or finish the pump-off."""
        if connected:
            mode = canonical(autopilot, mode)
            if armed and mode == "AUTO" and self.plan_switches:
                self.may_be_on = True  # the spray plan switches the pump as the vehicle flies it
            prev, was_armed = self._mode, self._armed
            self._mode, self._armed = mode, armed
            if prev and mode != prev:
                if prev == "AUTO":
                    self._request(f"left AUTO: {mode}")
                elif mode in STOP_MODES:
                    self._request(f"mode {mode}")
            if was_armed and not armed:
                self._request("disarmed")
        self._drive(now_s, connected)

    def _request(self, why: str) -> None:
        if not self.options.enabled or not self.may_be_on or self.pending:
            return
        self.pending = why
        self.counters["pump_off_requests"] += 1
        kinds = list(dict.fromkeys((self.spray.method, *self.plan_switches)))
        self._queue = [spray_off(replace(self.spray, method=k))[0] for k in kinds]
        self._refused = set()
        self._next_try_s = 0.0
        self._failures = 0

    def _drive(self, now_s: float, connected: bool) -> None:
        if not self.pending:
            return
        op = self._op
        if op is not None:
            if not op.done:
                return
            self._op = None
            if op.error is None:
                self._queue.pop(0)
                if not self._queue:
                    self.events.append(f"payload: pump off ({self.pending})")
                    self.counters["pumps_off"] += 1
                    self._drop()
                    self.may_be_on = self._armed and self._mode == "AUTO" and bool(self.plan_switches)
                    return
            else:
                self.counters["pump_off_retries"] += 1
                delay = self._backoff()
                wait = "resending when the link returns" if isinstance(op.error, LinkLost) else \
                    f"resending in {delay:g} s"
                self._say(f"payload: pump off not acknowledged ({self.pending}): {op.error}; {wait}")
                self._next_try_s = now_s + delay
                # a switch the autopilot refuses for good (DO_SET_RELAY on a relay without a pin, DO_SET_SERVO on a
                # channel with an output function) must not hold back the others: it goes to the back of the queue,
                # and the next untried one goes out now
                self._refused.add(self._queue[0].command)
                self._queue.append(self._queue.pop(0))
        if not connected or not self._queue or (now_s < self._next_try_s and self._queue[0].command in self._refused):
            return
        try:
            self._op = self.send(self._queue[0])
        except Busy:  # the same command (e.g. the spray service's DO_SET_SERVO) awaits its ACK: next tick, and the
            self._queue.append(self._queue.pop(0))  # other switches go first meanwhile
            return
        except UavBridgeError as err:
            delay = self._backoff()
            self._next_try_s = now_s + delay
            self._refused.add(self._queue[0].command)
            self._say(f"payload: pump off not sent ({self.pending}): {err}; resending in {delay:g} s")
            return
        self.counters["pump_off_commands"] += 1

    def _backoff(self) -> float:
        """The wait before the next resend: ``retry_s``, doubled per failure of this pump-off, at most
        :data:`MAX_BACKOFF` times ``retry_s`` (a switch the autopilot refuses for good is resent for ever)."""
        self._failures += 1
        return self.options.retry_s * min(2.0 ** (self._failures - 1), MAX_BACKOFF)

    def _say(self, text: str) -> None:
        """A failure event: the first ones, then every 10th (a refusal for good must not flood the events)."""
        if self._failures <= 3 or self._failures % 10 == 0:
            self.events.append(text + (f" (failure {self._failures})" if self._failures > 3 else ""))

    def _drop(self) -> None:
        self.pending = ""
        self._queue = []
        self._op = None
        self._failures = 0

    def _service_off_done(self, op: Operation[Any]) -> None:
        if op.error is not None or (self._armed and self._mode == "AUTO" and self.plan_switches):
            return  # not off, or the spray plan switches it on again
        if set(self.plan_switches) - {self.spray.method}:
            return  # the plan also used a switch the service does not
        self.may_be_on = False
