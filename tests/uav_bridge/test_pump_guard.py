"""The pump guard, fault injection: a spraying vehicle that leaves AUTO — by the companion's failsafe, the autopilot's
own failsafe, a pilot's mode switch — gets its pump switched off by the bridge (ArduPilot keeps the output on);
an unacknowledged pump-off is resent, one lost with the link is sent when the link returns, and nothing is sent
when the pump is known to be off."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sanqin.common.mission import MissionItem
from sanqin.runtime.errors import ConfigError
from sanqin.runtime.headless import Graph
from sanqin.runtime.params import load_node_config
from sanqin.runtime.paths import share_dir
from sanqin.simulation.multicopter import MulticopterConfig, MulticopterSimulator
from sanqin.uav_bridge.enums import mavlink
from sanqin.uav_bridge.errors import Busy, CommandDenied, LinkLost, UavBridgeError
from sanqin.uav_bridge.nodes import UAV_BRIDGE, UavBridgeConfig
from sanqin.uav_bridge.operation import Operation
from sanqin.uav_bridge.payload import SprayConfig
from sanqin.uav_bridge.plan_file import read_plan
from sanqin.uav_bridge.preflight import FailsafePolicy
from sanqin.uav_bridge.pump_guard import PUMP_OFF_EVENT, PumpGuard, PumpGuardOptions, pump_switches

C = mavlink
SPRAY_PLAN = "sim/missions/spray_field.plan"
LOITER, RTL = 5, 6


class Flight:
    """A uav_bridge node and the simulated vehicle on one clock, with the node's events collected."""

    def __init__(self, name: str, overrides: dict, sim_cfg: dict | None = None) -> None:
        cfg = load_node_config(UavBridgeConfig, share_dir() / "config" / "uav_bridge.yaml", "uav_bridge", "uav",
                               {"link": {"url": f"mem:{name}"}, **overrides})
        self.g = Graph()
        self.node = self.g.add_node(UAV_BRIDGE, cfg, namespace="uav", strict=True)
        self.comp = self.node.component
        self.sim = MulticopterSimulator(MulticopterConfig(connection=f"mem:{name}", **(sim_cfg or {})))
        self.ap = self.sim.autopilot
        self.events: list[str] = []
        self.g.bus.subscribe("/uav/events", "std_msgs/msg/String", lambda m: self.events.append(m.data))
        self.t = 0.0

    def tick(self) -> None:
        self.t += 0.02
        self.sim.step(self.t)
        self.g.advance_to(self.t)

    def advance(self, seconds: float) -> None:
        end = self.t + seconds
        while self.t < end:
            self.tick()

    def until(self, predicate, limit_s: float) -> bool:
        end = self.t + limit_s
        while self.t < end:
            if predicate():
                return True
            self.tick()
        return bool(predicate())

    def link_down(self, seconds: float) -> None:
        """The radio link drops now for ``seconds``."""
        self.sim.config = replace(self.sim.config, link_down_start_s=self.t, link_down_end_s=self.t + seconds)

    @property
    def pump_offs(self) -> list[str]:
        return [e for e in self.events if PUMP_OFF_EVENT.match(e)]


def _spraying(name: str, overrides: dict | None = None, sim_cfg: dict | None = None) -> Flight:
    """The spray plan flown by the bridge until the pump runs on the first pass."""
    f = Flight(name, {"mission": {"plan_file": SPRAY_PLAN, "autostart": True}, **(overrides or {})}, sim_cfg)
    assert f.until(lambda: f.ap.spraying, 120.0), f.events
    f.advance(2.0)
    assert f.ap.spraying and f.ap.mode == 3  # AUTO, mid-pass
    return f


def _sprayed_after(f: Flight, t0: float) -> list[tuple[float, bool, float, float]]:
    return [x for x in f.ap.spray_log if x[0] >= t0]


def test_our_failsafe_switches_the_pump_off() -> None:
    f = _spraying("pg-ours")
    f.comp.failsafe.policy = FailsafePolicy(battery_low=1.0)  # the battery is "low" now
    t0 = f.t
    assert f.until(lambda: not f.ap.spraying, 2.0)
    f.advance(3.0)
    i_fs = f.events.index("failsafe (battery): commanding RTL")
    assert f.events.index("payload: pump off (failsafe: battery)") > i_fs
    assert f.ap.mode == RTL and f.ap.payload.servos[9] == 1100 and not f.ap.spraying
    assert f.ap.spray_log[-1][0] - t0 < 0.2  # off before the vehicle even left AUTO (heartbeat lag)
    assert f.comp.metrics()["pumps_off"] >= 1 and f.comp.counters["failsafe_actions"] == 1


def test_the_autopilots_own_failsafe_leaving_auto_switches_the_pump_off() -> None:
    """The autopilot's low-battery failsafe returns by itself (the companion's threshold never trips): the bridge
    sees the vehicle leave AUTO and switches the pump off."""
    f = _spraying("pg-autopilot", {"safety": {"battery_low": 0.0, "battery_action": "rtl"}},
                  {"param_names": ("BATT_LOW_TIMER",), "param_values": (0.0,)})
    assert f.sim.params.set("BATT_LOW_VOLT", 60.0)  # the autopilot's own failsafe fires
    assert f.until(lambda: f.ap.mode == RTL, 2.0) and f.ap.failsafe == "battery_low"
    assert f.ap.spraying  # ArduPilot's servo output outlasts the mode change...
    assert f.until(lambda: not f.ap.spraying, 3.0)  # ...until the bridge hears the mode and switches it off
    f.advance(2.0)
    assert f.pump_offs == ["payload: pump off (left AUTO: RTL)"]
    assert f.comp.counters["failsafe_actions"] == 0 and not f.ap.spraying


def test_a_pilots_mode_change_switches_the_pump_off() -> None:
    f = _spraying("pg-pilot")
    f.ap.set_mode(LOITER)  # an RC mode switch: nothing from the bridge
    assert f.until(lambda: not f.ap.spraying, 3.0)
    f.advance(2.0)
    assert f.pump_offs == ["payload: pump off (left AUTO: LOITER)"] and f.ap.mode == LOITER


def test_an_unacknowledged_pump_off_is_resent_until_acknowledged() -> None:
    f = _spraying("pg-noack", sim_cfg={"no_ack_commands": (C.MAV_CMD_DO_SET_SERVO,)})
    f.ap.set_mode(LOITER)
    assert f.until(lambda: f.comp.pump.pending, 3.0)
    f.advance(12.0)  # three command-protocol rounds (1 s ACK timeout, 3 resends) and pauses between them
    assert f.ap.spraying and f.comp.pump.pending == "left AUTO: LOITER"
    refusals = [e for e in f.events if "not acknowledged" in e]
    assert len(refusals) >= 2 and "resending in 1 s" in refusals[0] and "resending in 2 s" in refusals[1]  # backoff
    assert f.comp.pump.counters["pump_off_commands"] >= 2 and not f.pump_offs
    assert f.comp.diagnostics()[-1].values["pump_off_pending"] == "1"
    f.sim.server.faults = replace(f.sim.server.faults, no_ack_commands=frozenset())  # the vehicle answers again
    assert f.until(lambda: not f.ap.spraying, 8.0)
    f.advance(1.0)
    assert f.pump_offs == ["payload: pump off (left AUTO: LOITER)"] and not f.comp.pump.pending


def test_a_pump_off_lost_with_the_link_is_sent_when_it_returns() -> None:
    f = _spraying("pg-link")
    f.ap.set_mode(LOITER)
    while not f.comp.pump.pending:  # the bridge has just heard the mode change and sends the pump-off...
        f.tick()
    f.link_down(10.0)  # ...into a link that drops at that moment
    f.advance(8.0)
    assert f.ap.spraying and not f.pump_offs and not f.comp.vehicle.connected
    assert any("resending when the link returns" in e for e in f.events), f.events
    assert f.until(lambda: not f.ap.spraying, 6.0)  # the link is back: sent again, acknowledged
    f.advance(1.0)
    assert f.pump_offs == ["payload: pump off (left AUTO: LOITER)"]


def test_a_mode_change_during_an_outage_is_acted_on_when_the_link_returns() -> None:
    f = _spraying("pg-outage")
    f.link_down(8.0)
    f.advance(1.0)
    f.ap.set_mode(LOITER)  # the pilot takes over while the companion cannot hear the vehicle
    f.advance(6.0)
    assert f.ap.spraying and f.comp.pump.counters["pump_off_commands"] == 0  # nothing sent into a dead link
    assert f.until(lambda: not f.ap.spraying, 5.0)
    f.advance(1.0)
    # the link is back: the companion's link-loss failsafe (RTL) and the pump-off go out together
    assert f.pump_offs == ["payload: pump off (failsafe: link_loss)"] and f.ap.mode == RTL


def _guided_spraying(name: str, overrides: dict | None = None) -> Flight:
    f = Flight(name, overrides or {})
    f.advance(2.0)
    for svc, arg in (("offboard", True), ("arm", True)):
        f.node.call_service(svc, arg)
        f.advance(1.0)
    f.node.call_service("takeoff")
    f.advance(4.0)
    return f


def test_the_spray_service_pump_is_switched_off_by_a_failsafe() -> None:
    f = _guided_spraying("pg-service")
    f.node.call_service("spray", True)
    f.advance(1.0)
    assert f.ap.spraying
    f.comp.failsafe.policy = FailsafePolicy(battery_low=1.0)
    assert f.until(lambda: not f.ap.spraying, 2.0)
    f.advance(2.0)
    assert f.pump_offs == ["payload: pump off (failsafe: battery)"]  # and not again when RTL shows (known off)


def test_nothing_is_sent_when_the_pump_is_known_off() -> None:
    # the spray service switched it on and off again: a failsafe sends no pump command
    f = _guided_spraying("pg-off")
    f.node.call_service("spray", True)
    f.advance(1.0)
    f.node.call_service("spray", False)
    f.advance(1.0)
    sent = f.sim.server.counters["commands"]
    f.comp.failsafe.policy = FailsafePolicy(battery_low=1.0)
    f.advance(4.0)
    assert f.ap.mode == RTL and not f.pump_offs and f.comp.pump.counters["pump_off_commands"] == 0
    assert f.sim.server.counters["commands"] - sent == 1  # the RTL only
    # a plan without pump items (the corridor inspection), and no spray service: the pump was never on
    c = Flight("pg-corridor", {"mission": {"plan_file": "sim/missions/powerline_corridor.plan", "autostart": True}})
    assert c.until(lambda: c.ap.mode == 3 and c.sim.body.pos[2] > 5, 60.0)
    c.ap.set_mode(LOITER)
    c.advance(3.0)
    assert not c.pump_offs and c.comp.pump.counters["pump_off_requests"] == 0


def test_the_guard_can_be_switched_off() -> None:
    f = _spraying("pg-disabled", {"payload": {"pump_off_on_failsafe": False}})
    f.ap.set_mode(LOITER)
    f.advance(3.0)
    assert f.ap.spraying and not f.pump_offs  # as ArduPilot alone: the pump sprays on
    with pytest.raises(ConfigError):
        load_node_config(UavBridgeConfig, None, "uav_bridge", "uav", {"payload": {"pump_off_retry_s": 0.0}})
    with pytest.raises(UavBridgeError):
        PumpGuardOptions(retry_s=-1.0)


def test_the_pump_off_covers_every_switch_the_plan_uses() -> None:
    """A plan that sprays with DO_SPRAYER while the service's method is the servo: both are switched off."""
    cfg = SprayConfig()
    plan = read_plan(share_dir() / SPRAY_PLAN)
    assert pump_switches(plan.mission, cfg) == ("servo",)
    items = [MissionItem(C.MAV_CMD_DO_SPRAYER, params=(1, 0, 0, 0), frame=2),
             MissionItem(C.MAV_CMD_DO_SET_SERVO, params=(10, 1900, 0, 0), frame=2),  # not the pump's channel
             MissionItem(C.MAV_CMD_DO_SET_RELAY, params=(0, 0, 0, 0), frame=2)]  # relay off: switches nothing on
    assert pump_switches(items, cfg) == ("sprayer",)
    f = _guided_spraying("pg-switches")
    f.comp.pump.set_plan(items)
    f.node.call_service("spray", True)
    f.advance(1.0)
    f.comp.failsafe.policy = FailsafePolicy(battery_low=1.0)
    f.advance(3.0)
    assert f.comp.pump.counters["pump_off_commands"] == 2 and f.pump_offs == ["payload: pump off (failsafe: battery)"]


class _FakeVehicle:
    """Records the DO commands the guard sends; answers them as the test says."""

    def __init__(self) -> None:
        self.sent: list[MissionItem] = []
        self.ops: list[Operation] = []
        self.busy = 0
        self.busy_commands: set[int] = set()

    def do(self, item: MissionItem) -> Operation:
        if item.command in self.busy_commands:
            raise Busy(f"command {item.command} is already waiting for its ACK")
        if self.busy:
            self.busy -= 1
            raise Busy("MAV_CMD_DO_SET_SERVO is already waiting for its ACK")
        self.sent.append(item)
        self.ops.append(Operation("do"))
        return self.ops[-1]


def test_guard_on_px4_names_busy_commands_and_denials() -> None:
    """PX4 modes (MISSION → HOLD is leaving AUTO), a command slot still busy (tried again next tick, silently),
    a denial (resent after retry_s, said on events), then the acknowledgement."""
    fake = _FakeVehicle()
    g = PumpGuard(fake.do, SprayConfig(), PumpGuardOptions(retry_s=2.0))
    g.on_spray_command(True, Operation("spray on"))
    g.step(0.0, connected=True, armed=True, mode="MISSION", autopilot="px4")
    fake.busy = 1
    g.step(0.1, connected=True, armed=True, mode="HOLD", autopilot="px4")
    assert g.pending == "left AUTO: LOITER" and not fake.sent and not g.events
    g.step(0.2, connected=True, armed=True, mode="HOLD", autopilot="px4")
    assert len(fake.sent) == 1 and fake.sent[0].params[:2] == (9, 1100)
    fake.ops[-1].fail(CommandDenied(C.MAV_CMD_DO_SET_SERVO, C.MAV_RESULT_DENIED, "servo in use"))
    g.step(0.3, connected=True, armed=True, mode="HOLD", autopilot="px4")
    assert "resending in 2 s" in g.events[-1] and "servo in use" in g.events[-1]
    g.step(1.0, connected=True, armed=True, mode="HOLD", autopilot="px4")
    assert len(fake.sent) == 1  # waits retry_s
    g.step(2.4, connected=True, armed=True, mode="HOLD", autopilot="px4")
    assert len(fake.sent) == 2
    fake.ops[-1].finish(0)
    g.step(2.5, connected=True, armed=True, mode="HOLD", autopilot="px4")
    assert g.events[-1] == "payload: pump off (left AUTO: LOITER)" and not g.pending and not g.may_be_on
    g.step(3.0, connected=True, armed=False, mode="HOLD", autopilot="px4")  # disarming: known off, nothing sent
    assert len(fake.sent) == 2 and g.counters["pump_off_requests"] == 1


def test_an_operators_spray_on_drops_a_pending_pump_off() -> None:
    fake = _FakeVehicle()
    g = PumpGuard(fake.do, SprayConfig())
    g.on_spray_command(True, Operation("spray on"))
    g.failsafe("battery")
    g.step(0.0, connected=False, armed=True, mode="AUTO")  # link down: nothing sent
    assert g.pending and not fake.sent
    lost = Operation("spray on")
    g.on_spray_command(True, lost)
    lost.fail(LinkLost("no link"))  # an "on" sent into the dead link does not cancel the safety pump-off
    assert g.pending == "failsafe: battery"
    acked = Operation("spray on")
    g.on_spray_command(True, acked)
    assert g.pending  # not before the vehicle acknowledges it
    acked.finish(0)
    assert not g.pending and "dropped" in g.events[-1]
    g.step(0.1, connected=True, armed=True, mode="GUIDED")
    assert not fake.sent


def test_a_pump_off_refused_for_good_backs_off_and_thins_its_events() -> None:
    fake = _FakeVehicle()
    g = PumpGuard(fake.do, SprayConfig(), PumpGuardOptions(retry_s=1.0))
    g.on_spray_command(True, Operation("spray on"))
    g.failsafe("link")
    t, sends = 0.0, []
    while t < 400.0:
        g.step(t, connected=True, armed=True, mode="RTL")
        if fake.ops and not fake.ops[-1].done:
            sends.append(t)
            fake.ops[-1].fail(CommandDenied(C.MAV_CMD_DO_SET_SERVO, C.MAV_RESULT_DENIED, "no"))
        t = round(t + 0.1, 1)
    gaps = [b - a for a, b in zip(sends, sends[1:])]
    assert gaps[0] < 1.3 and gaps[1] == pytest.approx(2.0, abs=0.15) and max(gaps) <= 8.15  # 1, 2, 4, 8, 8 … s
    assert g.pending and len(sends) < 60  # still trying, ~50 sends in 400 s instead of 400
    refusals = [e for e in g.events if "not acknowledged" in e]
    assert len(refusals) < len(sends) // 3 and "(failure 10)" in refusals[3]


def test_a_switch_refused_for_good_does_not_hold_back_the_others() -> None:
    """A sprayer plan with the default servo method, on a vehicle that refuses the servo command every time (ArduPilot
    fails DO_SET_SERVO on a channel that has an output function, DO_SET_RELAY on a relay without a pin). The
    DO_SPRAYER off must still go out at once and be acknowledged — before the fix the refused head of the queue was
    resent forever and the sprayer kept pumping; the refused servo is resent after retry_s (pending, not done)."""
    fake = _FakeVehicle()
    g = PumpGuard(fake.do, SprayConfig(), PumpGuardOptions(retry_s=2.0))
    g.set_plan([MissionItem(C.MAV_CMD_DO_SPRAYER, params=(1, 0, 0, 0), frame=2)])
    g.step(0.0, connected=True, armed=True, mode="AUTO")
    g.step(0.1, connected=True, armed=True, mode="RTL")
    assert [it.command for it in fake.sent] == [C.MAV_CMD_DO_SET_SERVO]
    fake.ops[-1].fail(CommandDenied(C.MAV_CMD_DO_SET_SERVO, C.MAV_RESULT_FAILED, "Channel 9 is already in use"))
    g.step(0.2, connected=True, armed=True, mode="RTL")
    assert [it.command for it in fake.sent] == [C.MAV_CMD_DO_SET_SERVO, C.MAV_CMD_DO_SPRAYER]  # not after retry_s
    assert fake.sent[-1].params[0] == 0
    fake.ops[-1].finish(0)
    g.step(0.3, connected=True, armed=True, mode="RTL")
    assert len(fake.sent) == 2  # the refused servo waits its retry_s
    g.step(2.3, connected=True, armed=True, mode="RTL")
    assert [it.command for it in fake.sent][-1] == C.MAV_CMD_DO_SET_SERVO and len(fake.sent) == 3
    fake.ops[-1].fail(CommandDenied(C.MAV_CMD_DO_SET_SERVO, C.MAV_RESULT_FAILED, "Channel 9 is already in use"))
    g.step(2.4, connected=True, armed=True, mode="RTL")
    g.step(3.0, connected=True, armed=True, mode="RTL")
    assert len(fake.sent) == 3 and g.pending and not any(PUMP_OFF_EVENT.match(e) for e in g.events)
    g.step(4.5, connected=True, armed=True, mode="RTL")
    assert len(fake.sent) == 3  # the second refusal doubles the wait (2 s -> 4 s)
    g.step(6.5, connected=True, armed=True, mode="RTL")
    assert len(fake.sent) == 4 and fake.sent[-1].command == C.MAV_CMD_DO_SET_SERVO  # only the refused one again
    fake.ops[-1].finish(0)
    g.step(6.6, connected=True, armed=True, mode="RTL")
    assert g.events[-1] == "payload: pump off (left AUTO: RTL)" and not g.pending


def test_a_pump_on_pwm_not_above_off_is_refused_at_load() -> None:
    """The guard finds a plan's pump-on servo items by a PWM above spray_pwm_off; an "on" at or below "off" would
    leave every spray plan unguarded, so the config is refused."""
    plan = read_plan(share_dir() / SPRAY_PLAN)
    assert pump_switches(plan.mission, SprayConfig(pwm_off=1900, pwm_min=1100, pwm_max=1100)) == ()  # unguarded
    for off, on in ((1900, 1100), (1500, 1500)):
        with pytest.raises(ConfigError, match="spray_pwm_on"):
            load_node_config(UavBridgeConfig, None, "uav_bridge", "uav",
                             {"payload": {"spray_pwm_off": off, "spray_pwm_on": on}})
    cfg = load_node_config(UavBridgeConfig, share_dir() / "config" / "uav_bridge.yaml", "uav_bridge", "uav", {})
    assert cfg.payload.spray_pwm_on > cfg.payload.spray_pwm_off


def test_a_busy_command_slot_does_not_hold_back_the_other_switches() -> None:
    """The spray service's DO_SET_SERVO "on" is still being resent (no ACK yet: up to 4 s) when the vehicle leaves
    AUTO: the guard's servo-off must wait for that slot, but the sprayer-off goes out at once."""
    fake = _FakeVehicle()
    g = PumpGuard(fake.do, SprayConfig())
    g.set_plan([MissionItem(C.MAV_CMD_DO_SPRAYER, params=(1, 0, 0, 0), frame=2)])
    g.on_spray_command(True, Operation("spray on"))
    g.step(0.0, connected=True, armed=True, mode="AUTO")
    fake.busy_commands = {C.MAV_CMD_DO_SET_SERVO}
    g.step(0.02, connected=True, armed=True, mode="LOITER")
    g.step(0.04, connected=True, armed=True, mode="LOITER")
    assert [it.command for it in fake.sent] == [C.MAV_CMD_DO_SPRAYER] and not g.events  # busy: silent
    fake.ops[-1].finish(0)
    for k in range(3):
        g.step(0.06 + 0.02 * k, connected=True, armed=True, mode="LOITER")
    assert len(fake.sent) == 1 and g.pending  # the servo slot is still busy
    fake.busy_commands = set()
    g.step(0.2, connected=True, armed=True, mode="LOITER")
    assert fake.sent[-1].command == C.MAV_CMD_DO_SET_SERVO and fake.sent[-1].params[:2] == (9, 1100)
    fake.ops[-1].finish(0)
    g.step(0.22, connected=True, armed=True, mode="LOITER")
    assert g.events == ["payload: pump off (left AUTO: LOITER)"] and not g.pending


def test_a_refused_service_switch_does_not_leave_the_plans_pump_running() -> None:
    """Fault injection on the simulated vehicle: the spray service is wired to a relay the vehicle refuses every time
    (DO_SET_RELAY denied), while the plan sprays with the servo. Leaving AUTO, the servo must still go off at once;
    before the fix the refused relay held the queue and the pump sprayed on."""
    f = _spraying("pg-refused", {"payload": {"spray_method": "relay"}},
                  {"deny_commands": (C.MAV_CMD_DO_SET_RELAY,)})
    f.ap.set_mode(LOITER)
    assert f.until(lambda: not f.ap.spraying, 3.0)
    assert f.ap.payload.servos[9] == 1100 and f.comp.pump.pending == "left AUTO: LOITER"  # the relay still refused
    f.advance(3.0)
    assert any("pump off not acknowledged" in e and "resending in 1 s" in e for e in f.events)
    assert not f.pump_offs and not f.ap.spraying


def test_a_plan_uploaded_mid_flight_keeps_the_previous_plans_switches_guarded() -> None:
    """A sprayer plan flying (uploaded and started without the fly sequence), then a plan without pump items is
    uploaded mid-flight (refused by the vehicle, or accepted: the sprayer stays enabled either way). Leaving AUTO
    must still switch the sprayer off — before the fix the new plan replaced the switches and only the service's
    servo went off, and after that pump-off the old plan's pump items ran unguarded."""
    fake = _FakeVehicle()
    g = PumpGuard(fake.do, SprayConfig())
    sprayer_plan = [MissionItem(C.MAV_CMD_DO_SPRAYER, params=(1, 0, 0, 0), frame=2)]
    g.set_plan(sprayer_plan)
    g.step(0.0, connected=True, armed=True, mode="AUTO")
    g.set_plan([MissionItem(C.MAV_CMD_NAV_WAYPOINT, 47.0, 8.0, 20.0)])  # no pump items
    g.step(0.1, connected=True, armed=True, mode="AUTO")
    assert g.may_be_on and "sprayer" in g.plan_switches
    g.step(0.2, connected=True, armed=True, mode="LOITER")
    fake.ops[-1].finish(0)
    g.step(0.3, connected=True, armed=True, mode="LOITER")
    assert [it.command for it in fake.sent] == [C.MAV_CMD_DO_SET_SERVO, C.MAV_CMD_DO_SPRAYER]
    fake.ops[-1].finish(0)
    g.step(0.4, connected=True, armed=True, mode="LOITER")
    assert g.events[-1] == "payload: pump off (left AUTO: LOITER)" and not g.may_be_on
    # the pump known off (landed, say): the next plan replaces the switches, nothing of the old one is kept
    g.set_plan([MissionItem(C.MAV_CMD_DO_SET_RELAY, params=(0, 1, 0, 0), frame=2)])
    assert g.plan_switches == ("relay",)
