"""The mission protocol: round trips with the simulated autopilot for mission, fence and rally, and a
scripted vehicle that misbehaves (out-of-order and duplicate requests, early, denied and missing ACKs)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from sanqin.common.mission import MissionItem
from sanqin.simulation.multicopter import MulticopterConfig
from sanqin.simulation.multicopter.harness import SimulatedLink
from sanqin.uav_bridge.connection import MavConnection, MemoryTransport
from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.errors import Busy, InvalidMission, MissionRejected, ProtocolError, Timeout
from sanqin.uav_bridge.mission import MissionClient, MissionTiming
from sanqin.uav_bridge.mission_items import (
    FenceCircle,
    FencePolygon,
    fence_items,
    fence_shapes,
    rally_items,
    same_item,
)

LAT, LON = 52.0870, 5.1630


def _mission(n: int = 6) -> list[MissionItem]:
    items = [MissionItem(mavlink.MAV_CMD_NAV_TAKEOFF, 0, 0, 10.0)]
    for i in range(n):
        items.append(MissionItem(16, LAT + 1e-4 * i, LON + 2e-4 * (i % 2), 12.0 + i, (0.0, 2.0, 0.0, math.nan)))
    items.append(MissionItem(mavlink.MAV_CMD_DO_SET_CAM_TRIGG_DIST, params=(25.0, 0, 1, 0), frame=2))
    items.append(MissionItem(mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH))
    return items


def test_upload_download_round_trip_mission_fence_rally() -> None:
    fence = fence_items(
        [FencePolygon(((LAT - 0.001, LON - 0.001), (LAT + 0.002, LON - 0.001), (LAT + 0.002, LON + 0.002),
                       (LAT - 0.001, LON + 0.002))),
         FencePolygon(((LAT + 0.0005, LON + 0.0005), (LAT + 0.0006, LON + 0.0005), (LAT + 0.0006, LON + 0.0006)),
                      inclusion=False)],
        [FenceCircle(LAT, LON, 400.0)],
    )
    rally = rally_items([(LAT + 0.0003, LON, 15.0)])
    with SimulatedLink() as link:
        v = link.connect()
        for items, mt in ((_mission(), 0), (fence, 1), (rally, 2)):
            assert link.run(v.upload(items, mt)) == len(items)
            back = link.run(v.download(mt))
            assert len(back) == len(items)
            assert all(same_item(a, b) for a, b in zip(items, back))
        polys, circles = fence_shapes(link.run(v.download(1)))
        assert [p.inclusion for p in polys] == [True, False] and circles[0].radius_m == pytest.approx(400.0)
        assert len(link.sim.autopilot.fence) == len(fence) and len(link.sim.autopilot.rally) == 1


def test_clear_and_set_current_and_empty_download() -> None:
    with SimulatedLink() as link:
        v = link.connect()
        link.run(v.upload(_mission()))
        assert link.run(v.set_current(3)) == 3
        assert link.sim.autopilot.current == 3
        link.run(v.missions.clear(0, link.t_s))
        assert link.sim.autopilot.mission == []
        assert link.run(v.download()) == []


def test_large_upload_and_no_space() -> None:
    items = [MissionItem(16, LAT + 1e-5 * i, LON, 20.0) for i in range(500)]
    with SimulatedLink() as link:
        v = link.connect()
        assert link.run(v.upload(items), 120) == 500
        assert len(link.sim.autopilot.mission) == 500
    with SimulatedLink(MulticopterConfig(param_names=("MIS_TOTAL_MAX",), param_values=(100.0,))) as link:
        v = link.connect()
        with pytest.raises(MissionRejected, match="NO_SPACE"):
            link.run(v.upload(items))
        assert link.sim.autopilot.mission == []


def test_rejected_item_keeps_the_old_mission() -> None:
    with SimulatedLink() as link:
        v = link.connect()
        link.run(v.upload(_mission(2)))
        before = list(link.sim.autopilot.mission)
        bad = _mission(2) + [MissionItem(mavlink.MAV_CMD_NAV_VTOL_TAKEOFF, LAT, LON, 10.0)]
        with pytest.raises(MissionRejected, match="UNSUPPORTED") as info:
            link.run(v.upload(bad))
        assert info.value.result == mavlink.MAV_MISSION_UNSUPPORTED
        assert link.sim.autopilot.mission == before


def test_nan_coordinates_are_refused_before_anything_is_sent() -> None:
    with SimulatedLink() as link:
        v = link.connect()
        items = _mission(2) + [MissionItem(16, math.nan, LON, 10.0)]
        with pytest.raises(InvalidMission, match="non-finite"):
            v.upload(items)
        assert not v.missions.busy()
        link.advance(1.0)
        assert link.sim.server.counters["mission_uploads_ok"] == 0


def test_fence_polygon_lists_are_checked() -> None:
    with pytest.raises(InvalidMission, match="polygon"):
        fence_items([FencePolygon(((LAT, LON), (LAT + 1e-3, LON)))])
    broken = fence_items([FencePolygon(((LAT, LON), (LAT + 1e-3, LON), (LAT, LON + 1e-3)))])[:2]
    from sanqin.uav_bridge.mission_items import validate_items

    with pytest.raises(InvalidMission, match="does not fit"):
        validate_items(broken, mavlink.MAV_MISSION_TYPE_FENCE)
    tri = fence_items([FencePolygon(((LAT, LON), (LAT + 1e-3, LON), (LAT, LON + 1e-3)))])
    nan_count = [replace(it, params=(math.nan, *it.params[1:])) for it in tri]
    with pytest.raises(InvalidMission, match="vertex count"):  # not numpy/int()'s ValueError
        validate_items(nan_count, mavlink.MAV_MISSION_TYPE_FENCE)
    with pytest.raises(InvalidMission, match="does not belong"):
        validate_items([tri[0], tri[1], nan_count[2]], mavlink.MAV_MISSION_TYPE_FENCE)
    bow_tie = FencePolygon(((LAT, LON), (LAT + 1e-3, LON + 1e-3), (LAT, LON + 1e-3), (LAT + 1e-3, LON)))
    with pytest.raises(InvalidMission, match="not a simple polygon"):
        fence_items([bow_tie])


def test_lossy_link_still_uploads_everything() -> None:
    """Drop a fraction of the vehicle's requests: the client resends, the vehicle re-requests."""
    with SimulatedLink() as link:
        v = link.connect()
        conn = link.sim.conn
        real_send = conn.send
        count = {"n": 0}

        def lossy(msg):
            if msg.get_type() == "MISSION_REQUEST_INT":
                count["n"] += 1
                if count["n"] % 4 == 0:
                    return
            real_send(msg)

        conn.send = lossy
        link.sim.server.send = lossy
        items = _mission(20)
        assert link.run(v.upload(items), 60) == len(items)
        assert all(same_item(a, b) for a, b in zip(items, link.run(v.download())))


# --- a scripted vehicle -----------------------------------------------------------------------------
class Scripted:
    """The vehicle end of a channel, driven by hand."""

    def __init__(self, name: str, timing: MissionTiming | None = None) -> None:
        self.gcs = MavConnection(MemoryTransport(name, "gcs"), system_id=255, component_id=190)
        self.veh = MavConnection(MemoryTransport(name, "vehicle"), system_id=1, component_id=1)
        self.client = MissionClient(self.gcs.mav, self.gcs.send, 1, 1, timing or MissionTiming())
        self.t = 0.0
        self.sent_to_vehicle: list = []

    def vehicle_rx(self) -> list:
        msgs = self.veh.poll()
        self.sent_to_vehicle += msgs
        return msgs

    def request(self, seq: int, legacy: bool = False) -> None:
        m = self.veh.mav
        msg = m.mission_request_encode(255, 190, seq, 0) if legacy else m.mission_request_int_encode(255, 190, seq, 0)
        self.veh.send(msg)

    def ack(self, result: int) -> None:
        self.veh.send(self.veh.mav.mission_ack_encode(255, 190, result, 0))

    def pump(self, dt: float = 0.05) -> None:
        self.t += dt
        for m in self.gcs.poll():
            self.client.handle(m, self.t)
        self.client.step(self.t)


def test_out_of_order_duplicate_and_legacy_requests_are_answered() -> None:
    s = Scripted("ooo")
    items = [MissionItem(16, LAT + 1e-4 * i, LON, 10.0) for i in range(5)]
    op = s.client.upload(items)
    s.pump()
    assert [m.get_type() for m in s.vehicle_rx()] == ["MISSION_COUNT"]
    for seq, legacy in ((2, False), (0, True), (0, False), (4, False), (1, True), (3, False), (9, False)):
        s.request(seq, legacy)
        s.pump()
    got = [m for m in s.vehicle_rx() if m.get_type() == "MISSION_ITEM_INT"]
    assert [m.seq for m in got] == [2, 0, 0, 4, 1, 3]
    assert s.client.counters["duplicate_requests"] == 1 and s.client.counters["requests_out_of_range"] == 1
    assert not op.done
    s.ack(mavlink.MAV_MISSION_ACCEPTED)
    s.pump()
    assert op.result() == 5


def test_early_accept_is_never_reported_as_success() -> None:
    s = Scripted("early")
    op = s.client.upload([MissionItem(16, LAT, LON, 10.0)] * 4)
    s.pump()
    s.request(0)
    s.request(1)
    s.pump()
    s.ack(mavlink.MAV_MISSION_ACCEPTED)
    s.pump()
    with pytest.raises(ProtocolError, match="2 of 4"):
        op.result()


def test_denied_ack_mid_upload() -> None:
    s = Scripted("denied")
    op = s.client.upload([MissionItem(16, LAT, LON, 10.0)] * 3)
    s.pump()
    s.request(0)
    s.pump()
    s.ack(mavlink.MAV_MISSION_DENIED)
    s.pump()
    with pytest.raises(MissionRejected, match="DENIED") as info:
        op.result()
    assert info.value.result == mavlink.MAV_MISSION_DENIED


def test_silent_vehicle_times_out_and_the_transfer_is_cancelled() -> None:
    s = Scripted("silent", MissionTiming(timeout_s=0.2, item_timeout_s=0.05, retries=3))
    op = s.client.upload([MissionItem(16, LAT, LON, 10.0)] * 3)
    for _ in range(40):
        s.pump()
    assert isinstance(op.error, Timeout)
    types = [m.get_type() for m in s.vehicle_rx()]
    assert types.count("MISSION_COUNT") == 4  # first + 3 resends
    assert types[-1] == "MISSION_ACK" and s.sent_to_vehicle[-1].type == mavlink.MAV_MISSION_OPERATION_CANCELLED


def test_missing_final_ack_after_all_items_fails() -> None:
    s = Scripted("noack", MissionTiming(timeout_s=0.2, retries=2))
    op = s.client.upload([MissionItem(16, LAT, LON, 10.0)] * 2)
    s.pump()
    s.request(0)
    s.request(1)
    for _ in range(30):
        s.pump()
    assert isinstance(op.error, Timeout)
    assert s.client.counters["item_resends"] == 2


def test_download_rerequests_lost_items_and_busy_guard() -> None:
    s = Scripted("dl", MissionTiming(item_timeout_s=0.1))
    op = s.client.download()
    with pytest.raises(Busy):
        s.client.upload([])
    s.pump()
    s.veh.send(s.veh.mav.mission_count_encode(255, 190, 2, 0))
    s.pump()
    s.pump(0.2)  # the vehicle 'loses' the first request: the client asks again
    reqs = [m.seq for m in s.vehicle_rx() if m.get_type() == "MISSION_REQUEST_INT"]
    assert reqs == [0, 0]
    for seq in (1, 0, 1):  # a wrong, the right and then the next item
        s.veh.send(s.veh.mav.mission_item_int_encode(255, 190, seq, 3, 16, 0, 1, 0, 0, 0, 0,
                                                     int(LAT * 1e7), int(LON * 1e7), 10.0 + seq, 0))
        s.pump()
    back = op.result()
    assert [it.altitude_m for it in back] == [10.0, 11.0]


def test_ardupilot_home_item_is_added_and_stripped() -> None:
    from sanqin.uav_bridge.bridge import BridgeOptions
    from sanqin.uav_bridge.vehicle import VehicleOptions

    with SimulatedLink(options=BridgeOptions(vehicle=VehicleOptions(home_at_seq0=True))) as link:
        v = link.connect()
        link.advance(1.0)  # HOME_POSITION known
        items = _mission(3)
        assert link.run(v.upload(items)) == len(items) + 1
        stored = link.sim.autopilot.mission
        assert len(stored) == len(items) + 1 and stored[0].command == 16
        assert abs(stored[0].x / 1e7 - link.sim.origin.latitude_deg) < 1e-6
        back = link.run(v.download())
        assert len(back) == len(items) and all(same_item(a, b) for a, b in zip(items, back))
        assert link.run(v.set_current(1)) == 2
