"""The MAVLink mission protocol, client side: upload, download, clear, set current — mission, fence, rally.

Upload: MISSION_COUNT → the vehicle requests each item (MISSION_REQUEST_INT, or the legacy
MISSION_REQUEST) in any order, any number of times → we answer with MISSION_ITEM_INT → MISSION_ACK.
Download: MISSION_REQUEST_LIST → MISSION_COUNT → we request each item → MISSION_ACK.
Timeouts and resends follow the protocol's recommendation (1.5 s for the transfer handshake, 250 ms per
item while downloading, 5 retries); a transfer that runs out of retries is cancelled with
MISSION_ACK(OPERATION_CANCELLED) and fails with :class:`Timeout`.

An upload only succeeds when the vehicle acknowledges ACCEPTED **after having requested every item**: an
early ACCEPTED is a broken transfer (:class:`ProtocolError`), never reported as success.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sanqin.common.mission import MissionItem
from sanqin.uav_bridge.enums import mavlink, mission_type_name
from sanqin.uav_bridge.errors import Busy, MissionRejected, ProtocolError, Timeout
from sanqin.uav_bridge.mission_items import WireItem, from_wire, to_wire, validate_items
from sanqin.uav_bridge.operation import Operation

ACCEPTED = mavlink.MAV_MISSION_ACCEPTED
CANCELLED = mavlink.MAV_MISSION_OPERATION_CANCELLED


@dataclass(frozen=True)
class MissionTiming:
    """Mission-protocol timeouts (s) and retries (the MAVLink spec's recommended defaults)."""

    timeout_s: float = 1.5
    item_timeout_s: float = 0.25
    retries: int = 5


@dataclass
class MissionProgress:
    """Mission progress as the vehicle reports it (MISSION_CURRENT, MISSION_ITEM_REACHED)."""

    current_seq: int = -1
    total: int = 0
    reached: list[int] = field(default_factory=list)
    mission_state: int = 0


@dataclass
class _Transfer:
    kind: str  # upload | download | clear | set_current
    op: Operation[Any]
    mission_type: int
    deadline_s: float
    items: list[WireItem] = field(default_factory=list)
    count: int = 0
    requested: set[int] = field(default_factory=set)
    last_sent: int = -1
    phase: str = "start"
    attempts: int = 0
    received: dict[int, WireItem] = field(default_factory=dict)
    target_seq: int = 0


class MissionClient:
    """Runs one mission-protocol transfer at a time with one vehicle and tracks mission progress."""

    def __init__(
        self,
        mav: Any,
        send: Callable[[Any], None],
        target_system: int,
        target_component: int = 1,
        timing: MissionTiming | None = None,
    ) -> None:
        self.mav = mav
        self._send = send
        self.ts = target_system
        self.tc = target_component
        self.timing = timing or MissionTiming()
        self.transfer: _Transfer | None = None
        self.progress = MissionProgress()
        self.counters = {"items_sent": 0, "item_resends": 0, "requests_out_of_range": 0, "duplicate_requests": 0,
                         "handshake_resends": 0, "transfers_ok": 0, "transfers_failed": 0}

    # --- API --------------------------------------------------------------------------------------
    def upload(self, items: Sequence[MissionItem], mission_type: int = 0, now_s: float = 0.0) -> Operation[int]:
        """Upload ``items`` (validated first); the operation's result is the item count."""
        self._check_idle()
        validate_items(items, mission_type)
        wire = [to_wire(it, i, mission_type, current=(i == 0)) for i, it in enumerate(items)]
        op: Operation[int] = Operation(f"upload {mission_type_name(mission_type)} ({len(wire)} items)")
        tr = _Transfer("upload", op, mission_type, now_s + self.timing.timeout_s, items=wire, count=len(wire))
        tr.phase = "count"
        self.transfer = tr
        self._send_count(tr)
        return op

    def download(self, mission_type: int = 0, now_s: float = 0.0) -> Operation[list[MissionItem]]:
        """Download the vehicle's items of ``mission_type``."""
        self._check_idle()
        op: Operation[list[MissionItem]] = Operation(f"download {mission_type_name(mission_type)}")
        tr = _Transfer("download", op, mission_type, now_s + self.timing.timeout_s)
        tr.phase = "count"
        self.transfer = tr
        self._send(self.mav.mission_request_list_encode(self.ts, self.tc, mission_type))
        return op

    def clear(self, mission_type: int = 0, now_s: float = 0.0) -> Operation[None]:
        """Clear the vehicle's items of ``mission_type`` (MISSION_CLEAR_ALL)."""
        self._check_idle()
        op: Operation[None] = Operation(f"clear {mission_type_name(mission_type)}")
        self.transfer = _Transfer("clear", op, mission_type, now_s + self.timing.timeout_s)
        self._send(self.mav.mission_clear_all_encode(self.ts, self.tc, mission_type))
        return op

    def set_current(self, seq: int, now_s: float = 0.0) -> Operation[int]:
        """Make ``seq`` the current mission item; done when MISSION_CURRENT reports it."""
        self._check_idle()
        if seq < 0:
            raise ValueError(f"mission sequence must be >= 0, got {seq}")
        op: Operation[int] = Operation(f"set current mission item {seq}")
        self.transfer = _Transfer("set_current", op, 0, now_s + self.timing.timeout_s, target_seq=seq)
        self._send(self.mav.mission_set_current_encode(self.ts, self.tc, seq))
        return op

    def busy(self) -> bool:
        """Whether a transfer is running."""
        return self.transfer is not None

    def cancel(self, error: Exception) -> None:
        """Abort the running transfer (e.g. on link loss) and tell the vehicle."""
        tr = self.transfer
        if tr is None:
            return
        if tr.kind in ("upload", "download"):
            self._ack(tr, CANCELLED)
        self._fail(tr, error)

    # --- protocol ---------------------------------------------------------------------------------
    def _check_idle(self) -> None:
        if self.transfer is not None:
            raise Busy(f"a mission transfer is running: {self.transfer.op.name}")

    def _send_count(self, tr: _Transfer) -> None:
        self._send(self.mav.mission_count_encode(self.ts, self.tc, tr.count, tr.mission_type))

    def _ack(self, tr: _Transfer, result: int) -> None:
        self._send(self.mav.mission_ack_encode(self.ts, self.tc, result, tr.mission_type))

    def _request(self, tr: _Transfer, seq: int) -> None:
        self._send(self.mav.mission_request_int_encode(self.ts, self.tc, seq, tr.mission_type))

    def _finish(self, tr: _Transfer, result: Any) -> None:
        self.transfer = None
        self.counters["transfers_ok"] += 1
        tr.op.finish(result)

    def _fail(self, tr: _Transfer, error: Exception) -> None:
        self.transfer = None
        self.counters["transfers_failed"] += 1
        tr.op.fail(error)  # type: ignore[arg-type]

    def _for_us(self, msg: Any) -> bool:
        target = getattr(msg, "target_system", 0)
        return target in (0, self.mav.srcSystem)

    def handle(self, msg: Any, now_s: float) -> None:
        """Feed a received message."""
        mtype = msg.get_type()
        if mtype == "MISSION_CURRENT":
            self.progress.current_seq = int(msg.seq)
            self.progress.total = int(getattr(msg, "total", 0) or 0)
            self.progress.mission_state = int(getattr(msg, "mission_state", 0) or 0)
        elif mtype == "MISSION_ITEM_REACHED":
            if not self.progress.reached or self.progress.reached[-1] != int(msg.seq):
                self.progress.reached.append(int(msg.seq))
        tr = self.transfer
        if tr is None or not self._for_us(msg):
            return
        if tr.kind == "set_current":
            if mtype == "MISSION_CURRENT" and int(msg.seq) == tr.target_seq:
                self._finish(tr, tr.target_seq)
            return
        if getattr(msg, "mission_type", tr.mission_type) != tr.mission_type:
            return
        if tr.kind == "upload":
            self._handle_upload(tr, msg, mtype, now_s)
        elif tr.kind == "download":
            self._handle_download(tr, msg, mtype, now_s)
        elif tr.kind == "clear" and mtype == "MISSION_ACK":
            if int(msg.type) == ACCEPTED:
                self._finish(tr, None)
            else:
                self._fail(tr, MissionRejected(int(msg.type), tr.mission_type))

    def _handle_upload(self, tr: _Transfer, msg: Any, mtype: str, now_s: float) -> None:
        if mtype in ("MISSION_REQUEST_INT", "MISSION_REQUEST"):
            seq = int(msg.seq)
            if not 0 <= seq < tr.count:
                self.counters["requests_out_of_range"] += 1
                return
            if seq in tr.requested:
                self.counters["duplicate_requests"] += 1
            tr.requested.add(seq)
            tr.phase = "items"
            tr.last_sent = seq
            tr.attempts = 0
            self._send(tr.items[seq].encode(self.mav, self.ts, self.tc))
            self.counters["items_sent"] += 1
            tr.op.progress = len(tr.requested) / max(1, tr.count)
            tr.deadline_s = now_s + self.timing.timeout_s
        elif mtype == "MISSION_ACK":
            result = int(msg.type)
            if result != ACCEPTED:
                self._fail(tr, MissionRejected(result, tr.mission_type,
                                               f"after {len(tr.requested)} of {tr.count} items"))
            elif len(tr.requested) < tr.count:
                self._fail(tr, ProtocolError(
                    f"vehicle acknowledged the {mission_type_name(tr.mission_type)} after requesting only "
                    f"{len(tr.requested)} of {tr.count} items: upload incomplete"))
            else:
                self._finish(tr, tr.count)

    def _handle_download(self, tr: _Transfer, msg: Any, mtype: str, now_s: float) -> None:
        if mtype == "MISSION_COUNT" and tr.phase == "count":
            tr.count = int(msg.count)
            tr.attempts = 0
            if tr.count == 0:
                self._ack(tr, ACCEPTED)
                self._finish(tr, [])
                return
            tr.phase = "items"
            tr.target_seq = 0
            self._request(tr, 0)
            tr.deadline_s = now_s + self.timing.item_timeout_s
        elif mtype in ("MISSION_ITEM_INT", "MISSION_ITEM") and tr.phase == "items":
            seq = int(msg.seq)
            if seq != tr.target_seq:
                self.counters["duplicate_requests"] += 1
                return
            tr.received[seq] = WireItem.from_msg(msg)
            tr.attempts = 0
            tr.target_seq += 1
            tr.op.progress = tr.target_seq / tr.count
            if tr.target_seq >= tr.count:
                self._ack(tr, ACCEPTED)
                self._finish(tr, [from_wire(tr.received[i]) for i in range(tr.count)])
                return
            self._request(tr, tr.target_seq)
            tr.deadline_s = now_s + self.timing.item_timeout_s
        elif mtype == "MISSION_ACK" and int(msg.type) != ACCEPTED:
            self._fail(tr, MissionRejected(int(msg.type), tr.mission_type, "during download"))

    def step(self, now_s: float) -> None:
        """Resend on timeouts; give up after the retries."""
        tr = self.transfer
        if tr is None or now_s < tr.deadline_s:
            return
        if tr.attempts >= self.timing.retries:
            if tr.kind in ("upload", "download"):
                self._ack(tr, CANCELLED)
            self._fail(tr, Timeout(tr.op.name, tr.attempts + 1))
            return
        tr.attempts += 1
        self.counters["handshake_resends"] += 1
        if tr.kind == "upload":
            if tr.phase == "count":
                self._send_count(tr)
            else:  # the vehicle went quiet after an item: it may have missed it
                self._send(tr.items[tr.last_sent].encode(self.mav, self.ts, self.tc))
                self.counters["item_resends"] += 1
            tr.deadline_s = now_s + self.timing.timeout_s
        elif tr.kind == "download":
            if tr.phase == "count":
                self._send(self.mav.mission_request_list_encode(self.ts, self.tc, tr.mission_type))
                tr.deadline_s = now_s + self.timing.timeout_s
            else:
                self._request(tr, tr.target_seq)
                self.counters["item_resends"] += 1
                tr.deadline_s = now_s + self.timing.item_timeout_s
        elif tr.kind == "clear":
            self._send(self.mav.mission_clear_all_encode(self.ts, self.tc, tr.mission_type))
            tr.deadline_s = now_s + self.timing.timeout_s
        else:
            self._send(self.mav.mission_set_current_encode(self.ts, self.tc, tr.target_seq))
            tr.deadline_s = now_s + self.timing.timeout_s

