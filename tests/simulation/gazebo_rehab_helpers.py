"""Shared by the rehabilitation twin tests: the generated launch file's nodes on a MuJoCo stand-in for Gazebo."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import mujoco
import numpy as np
import yaml

from sanqin.common.types import JointStates
from sanqin.msgs.sensors import joint_state_to_msg
from sanqin.runtime.headless import Graph
from sanqin.runtime.params import load_node_config
from sanqin.runtime.paths import share_dir
from sanqin.runtime.recorder import BagRecorder
from sanqin.runtime.registry import get_node_spec
from sanqin.simulation.gazebo.rehab import GZ_JOINT_STATES

SHARE = share_dir()


def parse(path: Path) -> ET.Element:
    return ET.parse(path).getroot()  # noqa: S314 - repository-owned, generated file


def launch_nodes(name: str) -> list[tuple[str, str, dict, dict]]:
    """(exec, name, params file + inline params, remaps) of our nodes in the generated launch file."""
    out = []
    for n in parse(SHARE / "launch" / f"gz_{name}.launch.xml").findall("node[@pkg='sanqin']"):
        inline = {p.get("name"): yaml.safe_load(p.get("value")) for p in n.findall("param[@name]")}
        pfile = SHARE / n.find("param[@from]").get("from").replace("$(find-pkg-share sanqin)/", "")
        out.append((n.get("exec"), n.get("name"), {"file": pfile, **inline},
                    {r.get("from"): r.get("to") for r in n.findall("remap")}))
    return out


class StandIn:
    """What Gazebo does in the twins, stepped by MuJoCo on the same bodies: ApplyJointForce holds the last torque
    of each joint (applied from the next step: the nodes answer a state one step late), JointStatePublisher
    reports the angles from the start configuration, stamped with sim time. Actuators are off: every joint
    torque comes over the bus, as in Gazebo. ``lag_steps`` delays every torque by that many more steps."""

    def __init__(self, m: Any, qpos: np.ndarray, joints: tuple[str, ...], offsets: np.ndarray,
                 effort_topics: tuple[str, ...], graph: Graph, lag_steps: int = 0) -> None:
        self.m = m
        self.m.opt.disableflags |= int(mujoco.mjtDisableBit.mjDSBL_ACTUATION)
        self.d = mujoco.MjData(self.m)
        self.d.qpos[:] = qpos
        ids = [mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, j) for j in joints]
        self.qadr = [int(m.jnt_qposadr[i]) for i in ids]
        self.vadr = [int(m.jnt_dofadr[i]) for i in ids]
        self.joints, self.offsets, self.graph = joints, offsets, graph
        self.tau = np.zeros(len(joints))
        self.pending: list[np.ndarray] = []  # torques received, applied lag_steps steps later (DDS latency)
        self.lag_steps = lag_steps
        for i, topic in enumerate(effort_topics):
            graph.bus.subscribe(topic, "std_msgs/msg/Float64", lambda msg, i=i: self.tau.__setitem__(i, msg.data))
        graph.bus.advertise(GZ_JOINT_STATES, "sensor_msgs/msg/JointState")

    def step(self, t_s: float) -> None:
        self.pending.append(self.tau.copy())
        applied = self.pending.pop(0) if len(self.pending) > self.lag_steps else np.zeros(len(self.joints))
        self.d.qfrc_applied[:] = 0.0
        self.d.qfrc_applied[self.vadr] = applied
        mujoco.mj_step(self.m, self.d)
        js = JointStates(stamp_s=t_s, names=self.joints, position=self.d.qpos[self.qadr] - self.offsets,
                         velocity=self.d.qvel[self.vadr].copy(), effort=np.zeros(len(self.joints)))
        self.graph.bus.publish(GZ_JOINT_STATES, joint_state_to_msg(js, self.graph.bus.factory))


def run_twin_graph(name: str, out: Path, duration_s: float, dt_s: float, make_stand_in: Any, therapy: str,
                   start_after_s: float) -> tuple[Path, float | None, Graph]:
    """Run the launch file's nodes on the stand-in for ``duration_s``, starting the session once (as the
    ``ros2 service call`` loop) from ``start_after_s``; returns the recorded bag, the start time and the graph."""
    g = Graph()
    recorder = BagRecorder(out / "bag", g.bus.factory)
    g.bus.recorders.append(recorder)
    patient_params: dict[str, Any] = {}
    for exe, node_name, params, remap in launch_nodes(name):
        spec = get_node_spec(exe)
        pfile = params.pop("file")
        if exe == "rehab_robot":
            params["session_dir"] = str(out / "sessions")
        if exe.endswith("_patient"):
            patient_params = params
        g.add_node(spec, load_node_config(spec.config, pfile, node_name, overrides=params), name=node_name,
                   remap=remap)
    phys = make_stand_in(g, patient_params)
    node = g.nodes[f"/{therapy}"]
    started_at = None
    for k in range(1, round(duration_s / dt_s) + 1):
        t = k * dt_s
        g.clock.now_s = t
        phys.step(t)
        g.advance_to(t)
        if started_at is None and t >= start_after_s and node.call_service("~/start").success:
            started_at = t
    recorder.close()
    return out / "bag", started_at, g


def bag_strings(bag: Path, topic: str) -> list[str]:
    from sanqin.simulation.gazebo.score import Bag

    b = Bag(bag)
    try:
        return [str(m.data) for _, m in b.messages(topic)]
    finally:
        b.close()
