"""Telemetry logs: every frame of a session lands in the .tlog, readable by pymavlink, damage skipped."""

from __future__ import annotations

from pymavlink import mavutil

from sanqin.simulation.multicopter import MulticopterConfig
from sanqin.simulation.multicopter.harness import SimulatedLink
from sanqin.uav_bridge.bridge import BridgeOptions
from sanqin.uav_bridge.tlog import TlogWriter, read_tlog


def test_session_is_logged_and_readable(tmp_path) -> None:
    path = tmp_path / "flight.tlog"
    with SimulatedLink(MulticopterConfig(), BridgeOptions(tlog_path=str(path))) as link:
        v = link.connect()
        link.run(v.set_mode("GUIDED"))
        link.advance(2.0)
        n_rx = link.bridge.conn.counters["rx_messages"]
        n_tx = link.bridge.conn.counters["tx_messages"]
        records = link.bridge.tlog.records
    assert records == n_rx + n_tx
    msgs = [m for _, m in read_tlog(path)]
    assert len(msgs) == records
    assert {"HEARTBEAT", "COMMAND_LONG", "COMMAND_ACK", "ATTITUDE_QUATERNION"} <= {m.get_type() for m in msgs}
    log = mavutil.mavlink_connection(str(path))  # pymavlink's own reader agrees
    first = log.recv_match(type="HEARTBEAT")
    assert first is not None


def test_truncated_and_damaged_logs_are_read_up_to_the_damage(tmp_path) -> None:
    path = tmp_path / "t.tlog"
    w = TlogWriter(path, clock=iter(range(1000)).__next__)
    from sanqin.uav_bridge.enums import mavlink

    mav = mavlink.MAVLink(None, 1, 1)
    for i in range(10):
        w.write(bytes(mav.heartbeat_encode(2, 3, 0, i, 4).pack(mav)))
    w.close()
    data = path.read_bytes()
    (tmp_path / "cut.tlog").write_bytes(data[:-7])
    assert len(list(read_tlog(tmp_path / "cut.tlog"))) == 9
    damaged = bytearray(data)
    damaged[8 + 12] ^= 0xFF  # inside the first frame's payload: bad CRC
    (tmp_path / "bad.tlog").write_bytes(bytes(damaged))
    assert len(list(read_tlog(tmp_path / "bad.tlog"))) == 9
    w.write(b"after close is ignored")


def test_a_failing_disk_costs_log_records_not_the_link(tmp_path) -> None:
    import errno

    path = tmp_path / "flight.tlog"
    with SimulatedLink(MulticopterConfig(), BridgeOptions(tlog_path=str(path))) as link:
        v = link.connect()
        tlog = link.bridge.tlog

        class FullDisk:
            closed = False

            def write(self, data: bytes) -> int:
                raise OSError(errno.ENOSPC, "No space left on device")

            def flush(self) -> None:
                raise OSError(errno.ENOSPC, "No space left on device")

            def fileno(self) -> int:
                return -1

            def close(self) -> None:
                self.closed = True

        real, tlog._f = tlog._f, FullDisk()
        before = tlog.records
        link.run(v.set_mode("GUIDED"))  # the link keeps working
        link.advance(1.0)
        assert link.sim.autopilot.mode == 4 and v.connected
        assert tlog.records == before and tlog.write_errors > 10 and "No space" in tlog.last_error
        real.close()
