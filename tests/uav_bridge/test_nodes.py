"""The uav_bridge node: builds from the shipped params, publishes converted telemetry, serves commands,
stages plans from the topic, reports refusals with the autopilot's reason, holds when the planner stops."""

from __future__ import annotations

import json

from sanqin.msgs.factory import default_factory
from sanqin.msgs.vehicle import vehicle_state_from_msg, vehicle_state_to_msg
from sanqin.runtime.headless import Graph
from sanqin.runtime.params import load_node_config
from sanqin.runtime.paths import share_dir
from sanqin.simulation.multicopter import MulticopterConfig, MulticopterSimulator
from sanqin.uav_bridge.nodes import UAV_BRIDGE, UavBridgeConfig
from sanqin.uav_bridge.plan_file import plan_to_dict, read_plan


def _setup(name: str, overrides: dict, sim_cfg: dict | None = None):
    cfg = load_node_config(UavBridgeConfig, share_dir() / "config" / "uav_bridge.yaml", "uav_bridge", "uav",
                           {"link": {"url": f"mem:{name}"}, **overrides})
    g = Graph()
    node = g.add_node(UAV_BRIDGE, cfg, namespace="uav", strict=True)
    sim = MulticopterSimulator(MulticopterConfig(connection=f"mem:{name}", **(sim_cfg or {})))
    got: dict[str, list] = {}
    for topic, typ in (("fix", "sensor_msgs/msg/NavSatFix"), ("odom", "nav_msgs/msg/Odometry"),
                       ("battery", "sensor_msgs/msg/BatteryState"), ("imu", "sensor_msgs/msg/Imu"),
                       ("vehicle_state", "diagnostic_msgs/msg/DiagnosticStatus"), ("events", "std_msgs/msg/String")):
        got[topic] = []
        g.bus.subscribe(f"/uav/{topic}", typ, got[topic].append)
    t = [0.0]

    def advance(seconds: float) -> None:
        end = t[0] + seconds
        while t[0] < end:
            t[0] += 0.02
            sim.step(t[0])
            g.advance_to(t[0])

    return g, node, sim, got, advance


def test_telemetry_topics_and_cdr_round_trip() -> None:
    g, node, sim, got, advance = _setup("node-telemetry", {})
    advance(3.0)
    f = default_factory()
    for topic in ("fix", "odom", "battery", "imu", "vehicle_state"):
        assert got[topic], topic
        msg = got[topic][-1]
        assert f.deserialize(f.serialize(msg), msg.__msgtype__) is not None
    state = vehicle_state_from_msg(got["vehicle_state"][-1])
    assert state.connected and state.mode == "STABILIZE" and not state.armed
    assert vehicle_state_from_msg(vehicle_state_to_msg(state, f)) == state
    assert got["fix"][-1].status.status == 0 and abs(got["fix"][-1].latitude - 52.087) < 1e-3
    assert any("link connected" in e.data for e in got["events"])


def test_services_report_outcomes_on_events() -> None:
    g, node, sim, got, advance = _setup("node-services", {}, {"gps_ok": False})
    advance(2.0)
    res = node.call_service("arm", True)
    assert res.success and "sent" in res.message
    advance(1.0)
    texts = [e.data for e in got["events"]]
    assert any(t.startswith("arm: FAILED") and "PreArm: GPS" in t for t in texts), texts
    pre = node.call_service("preflight")
    assert not pre.success and "GPS" in pre.message and "no geofence" in pre.message


def test_plan_topic_stages_valid_plans_and_rejects_bad_ones() -> None:
    g, node, sim, got, advance = _setup("node-plan", {})
    plan = read_plan(share_dir() / "sim" / "missions" / "powerline_corridor.plan")
    f = g.bus.factory
    g.bus.publish("/uav/mission_plan", f.new("std_msgs/msg/String", data="{broken"))
    doc = plan_to_dict(plan)
    g.bus.publish("/uav/mission_plan", f.new("std_msgs/msg/String", data=json.dumps(doc)))
    advance(1.0)
    texts = [e.data for e in got["events"]]
    assert any("plan rejected" in t for t in texts) and any("plan staged: 9" in t for t in texts)
    assert node.component.plan is not None and len(node.component.plan.mission) == 9
    assert node.call_service("upload").success
    advance(5.0)
    assert len(sim.autopilot.mission) == 9 and len(sim.autopilot.fence) > 0
    assert node.component.executive.state == "done"


def test_offboard_setpoints_then_safe_hold_when_planner_stops() -> None:
    g, node, sim, got, advance = _setup("node-offboard", {})
    advance(2.0)
    comp = node.component
    for svc, arg in (("offboard", True), ("arm", True)):
        node.call_service(svc, arg)
        advance(1.0)
    node.call_service("takeoff")
    advance(6.0)
    f = g.bus.factory

    def setpoint(e: float, n: float, u: float):
        return f.new("geometry_msgs/msg/PoseStamped",
                     header=f.new("std_msgs/msg/Header", frame_id="map"),
                     pose=f.new("geometry_msgs/msg/Pose", position=f.new("geometry_msgs/msg/Point", x=e, y=n, z=u),
                                orientation=f.new("geometry_msgs/msg/Quaternion", w=1.0)))

    for _ in range(100):  # 10 s of planner setpoints at 10 Hz
        g.bus.publish("/uav/setpoint", setpoint(30.0, 10.0, 12.0))
        advance(0.1)
    pos = sim.body.pos
    assert abs(pos[0] - 30) < 2 and abs(pos[1] - 10) < 2 and abs(pos[2] - 12) < 1.5
    advance(2.0)  # planner silent
    assert comp.offboard.holding and comp.offboard.counters["holds"] == 1
    assert sim.autopilot.mode == 5  # LOITER
    assert any("planner silent" in e.data for e in got["events"])


def test_rejected_mission_reason_reaches_events_and_nothing_is_armed() -> None:
    g, node, sim, got, advance = _setup(
        "node-reject", {"mission": {"plan_file": "sim/missions/vtol_on_multicopter.plan", "autostart": True}})
    advance(5.0)
    texts = [e.data for e in got["events"]]
    assert any("FAILED" in t and "MAV_MISSION_UNSUPPORTED" in t for t in texts), texts
    assert node.component.executive.state == "failed" and not sim.autopilot.armed
    assert sim.autopilot.mission == []


def test_plan_leaving_its_fence_is_refused_before_arming() -> None:
    plan = read_plan(share_dir() / "sim" / "missions" / "powerline_corridor.plan")
    doc = plan_to_dict(plan)
    doc["geoFence"]["circles"] = []
    doc["geoFence"]["polygons"][0]["polygon"] = [[52.0869, 5.1629], [52.0872, 5.1629], [52.0872, 5.1632]]
    g, node, sim, got, advance = _setup("node-fence", {})
    g.bus.publish("/uav/mission_plan", g.bus.factory.new("std_msgs/msg/String", data=json.dumps(doc)))
    advance(0.5)
    assert node.call_service("fly").success
    advance(15.0)
    texts = [e.data for e in got["events"]]
    assert any("pre-flight checks failed" in t and "outside the inclusion fence" in t for t in texts), texts
    assert not sim.autopilot.armed and sim.armed_s == 0


def test_two_vehicles_share_one_link_each_under_its_namespace() -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"udpin:127.0.0.1:{port}"
    g = Graph()
    nodes = {}
    for k in (1, 2):
        cfg = load_node_config(UavBridgeConfig, share_dir() / "config" / "uav_bridge.yaml", "uav_bridge", f"uav{k}",
                               {"link": {"url": url, "share": True, "vehicle_system_id": k, "role": "gcs",
                                         "system_id": 255}})
        nodes[k] = g.add_node(UAV_BRIDGE, cfg, namespace=f"uav{k}", strict=True)
    assert nodes[1].component.bridge is nodes[2].component.bridge
    sims = [MulticopterSimulator(MulticopterConfig(connection=f"udpout:127.0.0.1:{port}", system_id=k,
                                                   home_latitude_deg=52.0 + 0.01 * k)) for k in (1, 2)]
    fixes: dict[int, list] = {1: [], 2: []}
    for k in (1, 2):
        g.bus.subscribe(f"/uav{k}/fix", "sensor_msgs/msg/NavSatFix", fixes[k].append)
    try:
        t = 0.0
        for _ in range(150):
            t += 0.02
            for s in sims:
                s.step(t)
            g.advance_to(t)
        assert fixes[1] and fixes[2]
        assert abs(fixes[1][-1].latitude - 52.01) < 1e-3 and abs(fixes[2][-1].latitude - 52.02) < 1e-3
        assert nodes[2].call_service("set_home").success
    finally:
        for k in (1, 2):
            nodes[k].component.close()
        for s in sims:
            s.close()


def test_spray_and_capture_services_reach_the_payload() -> None:
    g, node, sim, got, advance = _setup("node-payload", {})
    advance(2.0)
    for svc, arg in (("arm", True), ("spray", True)):
        node.call_service(svc, arg)
        advance(1.0)
    assert sim.autopilot.spraying
    node.call_service("spray", False)
    node.call_service("capture_image")
    advance(1.0)
    assert not sim.autopilot.spraying and len(sim.autopilot.payload.photos) == 1
    texts = [e.data for e in got["events"]]
    assert "spray on: ok" in texts and "spray off: ok" in texts and "capture image: ok" in texts


def test_a_denied_failsafe_rtl_falls_back_to_land() -> None:
    """Fault injection: the autopilot refuses RTL. The companion's low-battery failsafe must not stop at
    the refusal (it used to fire once and give up): it lands instead."""
    g, node, sim, got, advance = _setup(
        "node-failsafe-denied", {"safety": {"battery_low": 0.99, "battery_action": "rtl"}},
        {"battery_soc_start": 0.97, "deny_commands": (20,)})  # MAV_CMD_NAV_RETURN_TO_LAUNCH
    advance(2.0)
    for svc, arg in (("offboard", True), ("arm", True)):
        node.call_service(svc, arg)
        advance(1.0)
    node.call_service("takeoff")
    advance(5.0)
    texts = [e.data for e in got["events"]]
    assert any("failsafe (battery): commanding RTL" in t for t in texts), texts
    assert any(t.startswith("failsafe rtl: FAILED") for t in texts), texts
    assert any("failsafe (battery (retry)): commanding LAND" in t for t in texts), texts
    assert sim.autopilot.mode == 9  # LAND
    assert [w for _t, w, _a in node.component.failsafe.history] == ["battery", "battery (retry)"]


def test_a_refused_plan_does_not_block_the_next_one() -> None:
    from dataclasses import replace

    from sanqin.uav_bridge.mission_items import FencePolygon

    plan = read_plan(share_dir() / "sim" / "missions" / "powerline_corridor.plan")
    a, b, c = plan.fence_polygons[0].vertices[:3]
    bad = replace(plan, fence_polygons=[FencePolygon((a, c, b, *plan.fence_polygons[0].vertices[3:]))])
    g, node, sim, got, advance = _setup("node-refused-plan", {})
    advance(0.5)
    node.component.plan = bad  # staged by code, not through the (validating) .plan parser
    res = node.call_service("fly")
    assert not res.success and "not a simple polygon" in res.message
    g.bus.publish("/uav/mission_plan", g.bus.factory.new("std_msgs/msg/String", data=json.dumps(plan_to_dict(plan))))
    advance(0.5)
    res = node.call_service("fly")
    assert res.success, res.message  # was "a plan is already running (idle)" for ever
    advance(1.0)
    assert node.component.executive.state in ("uploading", "preflight", "arming", "flying")
