"""The welding-cell twin is the headless MuJoCo cell: same kinematics, inertias, servo gains; scored alike."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import mujoco
import numpy as np
import pytest
import yaml
from scipy.spatial.transform import Rotation

from sanqin.runtime.config import load_config
from sanqin.runtime.paths import share_dir
from sanqin.runtime.runner import run_scenario
from sanqin.runtime.scenario import load_scenario
from sanqin.simulation.gazebo.score import score_bag
from sanqin.simulation.gazebo.twin import headless_simulator
from sanqin.simulation.welding_cell import UR5E_JOINTS, WeldingCellSim

SHARE = share_dir()
GZ = SHARE / "sim" / "gazebo"
ARM = GZ / "models" / "welding_seam_arm" / "model.sdf"


def _config():
    sc = load_scenario(SHARE / "sim" / "scenarios" / "welding_seam.yaml")
    return sc, load_config(WeldingCellSim.Config, sc.simulators[0].params)


def _cell(sc):
    return headless_simulator(sc, sc.simulators[0].name).m


def _floats(text: str | None) -> np.ndarray:
    return np.array([float(v) for v in (text or "").split()])


def _tf(values: np.ndarray) -> np.ndarray:
    t = np.eye(4)
    t[:3, :3] = Rotation.from_euler("xyz", values[3:6]).as_matrix() if len(values) > 3 else np.eye(3)
    t[:3, 3] = values[:3]
    return t


def _sdf_fk(model: ET.Element, q: dict[str, float]) -> dict[str, np.ndarray]:
    """World poses of every link for joint values ``q``, from the SDF alone (poses at zero + joint axes)."""
    zero = {lk.get("name"): _tf(_floats(lk.findtext("pose"))) for lk in model.findall("link")}
    joints = {j.findtext("child"): j for j in model.findall("joint")}
    out: dict[str, np.ndarray] = {}

    def pose(link: str) -> np.ndarray:
        if link in out:
            return out[link]
        j = joints[link]
        parent = j.findtext("parent")
        if parent == "world":
            out[link] = zero[link]
            return out[link]
        rel = np.linalg.inv(zero[parent]) @ zero[link]
        motion = np.eye(4)
        if j.get("type") == "revolute":
            anchor = _tf(_floats(j.findtext("pose")))
            rot = np.eye(4)
            rot[:3, :3] = Rotation.from_rotvec(_floats(j.findtext("axis/xyz")) * q[j.get("name")]).as_matrix()
            motion = anchor @ rot @ np.linalg.inv(anchor)
        out[link] = pose(parent) @ rel @ motion
        return out[link]

    for name in zero:
        pose(name)
    return out


def _parse(path: Path) -> ET.Element:
    return ET.parse(path).getroot()  # noqa: S314 - repository-owned, generated file


def test_sdf_kinematics_equal_mujoco_forward_kinematics() -> None:
    sc, _ = _config()
    m = _cell(sc)
    d = mujoco.MjData(m)
    model = _parse(ARM).find("model")
    rng = np.random.default_rng(0)
    for _ in range(5):
        q = rng.uniform(-2.5, 2.5, size=6)
        d.qpos[:6] = q
        mujoco.mj_kinematics(m, d)
        poses = _sdf_fk(model, dict(zip(UR5E_JOINTS, q)))
        for b in range(1, m.nbody):
            name = m.body(b).name
            np.testing.assert_allclose(poses[name][:3, 3], d.xpos[b], atol=1e-6, err_msg=name)
            np.testing.assert_allclose(poses[name][:3, :3], d.xmat[b].reshape(3, 3), atol=1e-6, err_msg=name)


def test_inertias_gains_and_home_come_from_the_mujoco_model() -> None:
    sc, _ = _config()
    m = _cell(sc)
    model = _parse(ARM).find("model")
    for b in range(1, m.nbody):
        link = model.find(f"link[@name='{m.body(b).name}']")
        assert float(link.findtext("inertial/mass")) == pytest.approx(m.body_mass[b])
        assert [float(link.findtext(f"inertial/inertia/i{a}{a}")) for a in "xyz"] == pytest.approx(m.body_inertia[b])
        assert (link.findtext("gravity") == "false") == (m.body_gravcomp[b] >= 1)  # torch weight stays on
    jpc = [p for p in model.findall("plugin") if p.get("name") == "gz::sim::systems::JointPositionController"]
    assert [p.findtext("joint_name") for p in jpc] == list(UR5E_JOINTS)
    kp = [float(m.actuator_gainprm[a][0]) for a in range(6)]
    kd = [-float(m.actuator_biasprm[a][2]) for a in range(6)]
    assert [float(p.findtext("p_gain")) for p in jpc] == pytest.approx(kp)
    assert [float(p.findtext("d_gain")) for p in jpc] == pytest.approx(kd)
    assert [float(p.findtext("i_gain")) for p in jpc] == [0.0] * 6  # the system's default (0.1) is not neutral
    assert [float(p.findtext("cmd_max")) for p in jpc] == pytest.approx([float(m.actuator_forcerange[a][1])
                                                                         for a in range(6)])
    assert [float(p.findtext("initial_position")) for p in jpc] == pytest.approx(m.key_qpos[0][:6])
    assert not [p for p in model.findall("plugin") if "Trajectory" in p.get("name")]  # one controller per joint
    ft = model.find("joint[@name='torch_fixed']/sensor[@type='force_torque']")
    assert ft.findtext("force_torque/measure_direction") == "child_to_parent"
    assert ft.findtext("force_torque/frame") == "child"


def test_score_from_the_headless_bag_matches_the_headless_metrics(tmp_path: Path) -> None:
    sc, _ = _config()
    result = run_scenario(replace(sc, duration_s=6.0), tmp_path / "run", plots=False)
    score = score_bag(replace(sc, duration_s=6.0), tmp_path / "run" / "bag")
    got, ref = score.metrics, result.metrics
    for key in ("cell.seam_rms_error_m", "cell.seam_max_error_m"):
        assert got[key] == pytest.approx(ref[key], abs=1e-5)
    assert got["cell.seam_coverage"] == pytest.approx(ref["cell.seam_coverage"], abs=2e-3)
    assert got["cell.contact_fraction"] == pytest.approx(ref["cell.contact_fraction"], abs=0.01)
    # Contact force from the F/T sensor (with its 0.3 N noise) instead of MuJoCo's contact solver.
    assert got["cell.force_mean_n"] == pytest.approx(ref["cell.force_mean_n"], abs=0.2)
    assert got["cell.force_rms_error_n"] == pytest.approx(ref["cell.force_rms_error_n"], abs=0.3)
    assert got["cell.commands_received"] == ref["cell.commands_received"]


def test_seam_follower_keeps_its_forward_position_interface_through_the_split_node() -> None:
    root = _parse(SHARE / "launch" / "gz_welding_seam.launch.xml")
    follower = root.find("node[@exec='seam_follower']")
    assert follower.find("param[@name='command_interface']") is None  # the shipped forward_position
    split = root.find("node[@exec='joint_command_split']")
    remap = {r.get("from"): r.get("to") for r in split.findall("remap")}
    assert remap["commands"] == "/forward_position_controller/commands"
    gz_topics = [remap[f"joint_{i}"] for i in range(6)]
    assert gz_topics == [f"/model/welding_seam_arm/joint/{j}/cmd_pos" for j in UR5E_JOINTS]
    bridged = {b["ros_topic_name"]: b for b in yaml.safe_load((GZ / "bridge" / "welding_seam.yaml").read_text())}
    model = _parse(ARM).find("model")
    jpc_topics = [p.findtext("topic") for p in model.findall("plugin")
                  if p.get("name") == "gz::sim::systems::JointPositionController"]
    for topic in gz_topics:
        assert bridged[topic]["gz_topic_name"] in jpc_topics and bridged[topic]["direction"] == "ROS_TO_GZ"
        assert bridged[topic]["ros_type_name"] == "std_msgs/msg/Float64"
