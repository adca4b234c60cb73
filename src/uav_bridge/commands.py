"""The MAVLink command protocol, client side: COMMAND_LONG / COMMAND_INT with ACKs, retries and timeouts.

Per the MAVLink command protocol: a command is resent with ``confirmation`` incremented when no
COMMAND_ACK arrives within the timeout; MAV_RESULT_IN_PROGRESS extends the wait (its ``progress`` is
reported) until a final result; anything but ACCEPTED fails with :class:`CommandDenied`, whose reason is
the vehicle's most recent STATUSTEXT warning (e.g. ``PreArm: GPS not healthy``) when there is one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sanqin.uav_bridge.enums import command_name, mavlink
from sanqin.uav_bridge.errors import Busy, CommandDenied, Timeout
from sanqin.uav_bridge.geo import deg_to_e7
from sanqin.uav_bridge.operation import Operation

NAN = float("nan")


@dataclass(frozen=True)
class CommandTiming:
    """Command retry policy: ACK timeout (s), resends, and how long IN_PROGRESS may last (s)."""

    timeout_s: float = 1.0
    retries: int = 3
    in_progress_timeout_s: float = 30.0


@dataclass
class _Pending:
    op: Operation[int]
    command: int
    params: tuple[float, ...]
    use_int: bool
    frame: int
    sent_s: float
    deadline_s: float
    attempts: int = 1
    in_progress: bool = False


class CommandClient:
    """Sends commands to one vehicle component and matches their COMMAND_ACKs."""

    def __init__(
        self,
        mav: Any,
        send: Callable[[Any], None],
        target_system: int,
        target_component: int = 1,
        timing: CommandTiming | None = None,
    ) -> None:
        self.mav = mav
        self._send = send
        self.target_system = target_system
        self.target_component = target_component
        self.timing = timing or CommandTiming()
        self._pending: dict[int, _Pending] = {}
        self._last_warning: tuple[str, float] | None = None
        self.counters = {"commands_sent": 0, "resends": 0, "acks": 0, "denied": 0, "timeouts": 0, "stray_acks": 0}

    # --- API --------------------------------------------------------------------------------------
    def submit(
        self,
        command: int,
        params: Sequence[float] = (),
        now_s: float = 0.0,
        *,
        use_int: bool = False,
        frame: int = mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
    ) -> Operation[int]:
        """Start a command (params 1–7; COMMAND_INT takes params 5/6 in degrees and converts them)."""
        if command in self._pending:
            raise Busy(f"{command_name(command)} is already waiting for its ACK")
        p = [float(v) for v in params] + [0.0] * (7 - len(params))
        if len(p) != 7:
            raise ValueError(f"a command takes at most 7 params, got {len(params)}")
        op: Operation[int] = Operation(command_name(command))
        pend = _Pending(op, command, tuple(p), use_int, frame, now_s, now_s + self.timing.timeout_s)
        self._pending[command] = pend
        self._transmit(pend, confirmation=0)
        return op

    def busy(self, command: int) -> bool:
        """Whether ``command`` is awaiting its ACK."""
        return command in self._pending

    def cancel_all(self, error: Exception) -> None:
        """Fail every pending command (e.g. on link loss)."""
        for pend in list(self._pending.values()):
            pend.op.fail(error)  # type: ignore[arg-type]
        self._pending.clear()

    # --- protocol ---------------------------------------------------------------------------------
    def _transmit(self, pend: _Pending, confirmation: int) -> None:
        p = pend.params
        if pend.use_int:
            x = deg_to_e7(p[4]) if math.isfinite(p[4]) else 0
            y = deg_to_e7(p[5]) if math.isfinite(p[5]) else 0
            msg = self.mav.command_int_encode(
                self.target_system, self.target_component, pend.frame, pend.command, 0, 0,
                p[0], p[1], p[2], p[3], x, y, p[6],
            )
        else:
            msg = self.mav.command_long_encode(
                self.target_system, self.target_component, pend.command, confirmation & 0xFF, *p
            )
        self._send(msg)
        self.counters["commands_sent"] += 1

    def handle(self, msg: Any, now_s: float) -> None:
        """Feed a received message (COMMAND_ACK and STATUSTEXT are used)."""
        mtype = msg.get_type()
        if mtype == "STATUSTEXT":
            if msg.severity <= mavlink.MAV_SEVERITY_WARNING:
                text = msg.text.decode("utf-8", "replace") if isinstance(msg.text, bytes) else str(msg.text)
                self._last_warning = (text.strip("\x00").strip(), now_s)
            return
        if mtype != "COMMAND_ACK":
            return
        if getattr(msg, "target_system", 0) not in (0, self.mav.srcSystem):
            return  # an answer to another ground station or companion on the same link
        pend = self._pending.get(int(msg.command))
        if pend is None:
            self.counters["stray_acks"] += 1
            return
        self.counters["acks"] += 1
        result = int(msg.result)
        if result == mavlink.MAV_RESULT_IN_PROGRESS:
            pend.in_progress = True
            prog = int(getattr(msg, "progress", 255))
            if prog <= 100:
                pend.op.progress = prog / 100.0
            pend.deadline_s = now_s + self.timing.in_progress_timeout_s
            return
        del self._pending[pend.command]
        if result == mavlink.MAV_RESULT_ACCEPTED:
            pend.op.finish(result)
            return
        self.counters["denied"] += 1
        reason = ""
        if self._last_warning is not None and now_s - self._last_warning[1] <= 2.0:
            reason = self._last_warning[0]
        extra = int(getattr(msg, "result_param2", 0) or 0)
        if not reason and extra:
            reason = f"result_param2={extra}"
        pend.op.fail(CommandDenied(pend.command, result, reason))

    def step(self, now_s: float) -> None:
        """Resend commands whose ACK is overdue; fail those out of retries with :class:`Timeout`."""
        for cmd, pend in list(self._pending.items()):
            if now_s < pend.deadline_s:
                continue
            if pend.in_progress or pend.attempts > self.timing.retries:
                del self._pending[cmd]
                self.counters["timeouts"] += 1
                pend.op.fail(Timeout(command_name(cmd), pend.attempts))
                continue
            self._transmit(pend, confirmation=pend.attempts)
            pend.attempts += 1
            pend.sent_s = now_s
            pend.deadline_s = now_s + self.timing.timeout_s
            self.counters["resends"] += 1
