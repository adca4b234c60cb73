"""Offboard streaming in both frames, proof of life, rejection of bad setpoints, safe hold."""

from __future__ import annotations

import math

from sanqin.simulation.multicopter.harness import SimulatedLink
from sanqin.uav_bridge.offboard import GlobalSetpoint, OffboardStreamer, Setpoint


def _airborne(link: SimulatedLink):
    v = link.connect()
    link.run(v.set_mode("GUIDED"))
    link.run(v.arm())
    link.run(v.takeoff(10.0))
    link.advance(6.0)
    return v


def _stream(link: SimulatedLink, st: OffboardStreamer, sp, seconds: float) -> None:
    end = link.t_s + seconds
    while link.t_s < end:
        st.on_setpoint(sp, link.t_s)
        st.step(link.t_s, None)
        link.pump()


def test_local_and_global_setpoints_move_the_vehicle() -> None:
    with SimulatedLink() as link:
        _airborne(link)
        b = link.bridge
        st = OffboardStreamer(b.conn.mav, b.conn.send, 1, rate_hz=20.0)
        st.enable(True, link.t_s)
        _stream(link, st, Setpoint(20.0, -10.0, 15.0, 0.0), 12.0)
        assert abs(link.sim.body.pos[0] - 20) < 1.5 and abs(link.sim.body.pos[1] + 10) < 1.5
        lat, lon, _ = link.sim.origin.to_geodetic(-15.0, 25.0)
        _stream(link, st, GlobalSetpoint(lat, lon, 8.0), 12.0)
        pos = link.sim.body.pos
        assert abs(pos[0] + 15) < 1.5 and abs(pos[1] - 25) < 1.5 and abs(pos[2] - 8) < 1.0
        assert st.counters["sent"] > 300 and st.counters["holds"] == 0


def test_non_finite_setpoints_are_rejected_and_silence_leads_to_hold() -> None:
    with SimulatedLink() as link:
        _airborne(link)
        b = link.bridge
        st = OffboardStreamer(b.conn.mav, b.conn.send, 1, rate_hz=10.0, planner_timeout_s=0.5)
        st.enable(True, link.t_s)
        assert st.step(link.t_s, None) is None  # nothing heard yet: no stream, no hold
        st.on_setpoint(Setpoint(math.nan, 0.0, 10.0), link.t_s)
        st.on_setpoint(GlobalSetpoint(95.0, 0.0, 10.0), link.t_s)
        assert st.counters["setpoints_rejected"] == 2 and st.setpoint is None
        st.on_setpoint(Setpoint(5.0, 5.0, 10.0), link.t_s)
        events = []
        here = Setpoint(*link.sim.body.pos)
        for _ in range(50):
            events.append(st.step(link.t_s, here))
            link.pump()
        assert events.count("hold") == 1 and st.holding and st.setpoint == here
