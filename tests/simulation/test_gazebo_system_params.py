"""Gazebo system plugin parameters: every committed generated plugin as gz-sim 8 reads it, and the checker."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from sanqin.simulation.gazebo import cli, systems
from sanqin.simulation.gazebo.system_params import (
    KINDS,
    SYSTEMS,
    check_plugin,
    check_sdf_file,
    check_tree,
    value_problem,
)

REPO = Path(__file__).resolve().parents[2]
GAZEBO = REPO / "sim" / "gazebo"


def _committed_sdf_files() -> list[Path]:
    """The generated worlds and models in git (others' uncommitted work in progress is not ours to judge)."""
    try:
        out = subprocess.run(["git", "ls-files", "--", "sim/gazebo"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split()
        files = [REPO / f for f in out if f.endswith(".sdf")]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: everything on disk
        files = sorted(GAZEBO.glob("**/*.sdf"))
    return sorted(f for f in files if f.exists())


FILES = _committed_sdf_files()


def _xml(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 - test literals


def _plugin(cls: str, body: str = "", filename: str | None = None) -> ET.Element:
    filename = filename or SYSTEMS[f"gz::sim::systems::{cls}"].filename
    return _xml(f'<plugin filename="{filename}" name="gz::sim::systems::{cls}">{body}</plugin>')


JPC_OK = ("<joint_name>j1</joint_name><p_gain>100</p_gain><i_gain>0</i_gain><d_gain>5</d_gain>"
          "<cmd_max>50</cmd_max><cmd_min>-50</cmd_min>")


# --- the committed generated files ---------------------------------------------------------------------------

def test_the_generated_files_are_found_with_plugins_at_every_level() -> None:
    parents: Counter[str] = Counter()
    for path in FILES:
        root = ET.parse(path).getroot()  # noqa: S314 - repository-owned, generated file
        for node in root.iter():
            parents.update("plugin" for c in node if c.tag == "plugin")
            parents.update(node.tag for c in node if c.tag == "plugin")
    assert len([f for f in FILES if f.parent.name == "worlds"]) >= 10
    assert parents["plugin"] >= 100
    # world systems, model systems, thermal visuals and the thermal camera's sensor plugin are all visited
    assert {"world", "model", "visual", "sensor"} <= set(parents)


@pytest.mark.parametrize("path", FILES, ids=[str(f.relative_to(GAZEBO)) for f in FILES])
def test_every_plugin_is_a_known_system_with_known_parameters(path: Path) -> None:
    assert check_sdf_file(path) == []


def test_every_system_used_by_the_generated_files_is_in_the_table() -> None:
    roots = [ET.parse(f).getroot() for f in FILES]  # noqa: S314 - repository-owned, generated files
    used = {p.get("name") for root in roots for p in root.iter("plugin")}
    assert used <= set(SYSTEMS)
    assert {"gz::sim::systems::JointPositionController", "gz::sim::systems::DiffDrive",
            "gz::sim::systems::TriggeredPublisher", "gz::sim::systems::Thermal"} <= used


# --- the table -----------------------------------------------------------------------------------------------

def test_the_table_is_consistent() -> None:
    for cls, system in SYSTEMS.items():
        assert cls == system.cls and cls.startswith("gz::sim::systems::")
        assert system.filename.startswith("gz-sim-") and system.filename.endswith("-system")
        assert system.attach and set(system.attach) <= {"world", "model", "visual", "sensor"}
        stack = list(system.params.values())
        while stack:
            param = stack.pop()
            assert param.kind in KINDS
            assert not (param.required and param.explicit)
            assert param.ref in ("", "joint", "link")
            stack.extend(param.children.values())
    assert len({s.filename for s in SYSTEMS.values()}) == len(SYSTEMS)


# --- the checker finds what Gazebo would silently ignore -------------------------------------------------------

def test_a_correct_plugin_has_no_problems() -> None:
    assert check_plugin(_plugin("JointPositionController", JPC_OK), parent="model",
                        refs={"joint": {"j1"}, "link": set()}) == []


def test_a_misspelt_parameter_is_reported_with_the_right_name() -> None:
    problems = check_plugin(_plugin("JointPositionController", JPC_OK.replace("p_gain", "pgain")))
    assert any("unknown parameter <pgain>" in p and "did you mean <p_gain>" in p for p in problems)
    assert any("<p_gain> must be set explicitly" in p for p in problems)


def test_an_unknown_system_is_reported() -> None:
    problems = check_plugin(_xml('<plugin filename="gz-sim-diff-drive-system" name="gz::sim::systems::DifDrive"/>'))
    assert len(problems) == 1 and "not a known gz-sim 8 system" in problems[0]
    assert "gz::sim::systems::DiffDrive" in problems[0]


def test_a_wrong_library_and_a_wrong_parent_are_reported() -> None:
    problems = check_plugin(_plugin("DiffDrive", filename="gz-sim-diffdrive-system"), parent="world")
    assert any("filename 'gz-sim-diffdrive-system'" in p for p in problems)
    assert any("attached to a <world>" in p for p in problems)


def test_a_missing_required_parameter_is_reported() -> None:
    problems = check_plugin(_plugin("DiffDrive", "<right_joint>r</right_joint><wheel_separation>0.5"
                                    "</wheel_separation><wheel_radius>0.1</wheel_radius>"
                                    "<frame_id>odom</frame_id><child_frame_id>base_link</child_frame_id>"))
    assert problems == ["DiffDrive: missing required parameter <left_joint>"]


def test_a_non_numeric_value_is_reported() -> None:
    problems = check_plugin(_plugin("JointPositionController", JPC_OK.replace("<p_gain>100", "<p_gain>high")))
    assert problems == ["JointPositionController <p_gain>: 'high' is not a finite number"]


@pytest.mark.parametrize(("kind", "text", "ok"), [
    ("double", "1e-3", True), ("double", "nan", False), ("double", "1 2", False), ("int", "2", True),
    ("int", "2.0", False), ("uint", "-1", False), ("bool", "True", True), ("bool", "yes", False),
    ("vector3", "1 2 3", True), ("vector3", "1 2", False), ("color", "1 0 0 1", True), ("string", " ", False),
])
def test_values_parse_as_sdformat_reads_them(kind: str, text: str, ok: bool) -> None:
    assert (value_problem(kind, text) is None) is ok


def test_a_repeated_single_parameter_and_a_missing_joint_are_reported() -> None:
    body = JPC_OK + "<topic>/a</topic><topic>/b</topic>"
    problems = check_plugin(_plugin("JointPositionController", body), refs={"joint": {"other"}, "link": set()})
    assert "JointPositionController <topic>: given more than once; only the first is read" in problems
    assert "JointPositionController <joint_name>: the model has no joint named 'j1'" in problems


def test_pid_defaults_and_ignored_terms_depend_on_the_controller_mode() -> None:
    # force mode: a non-zero i gain keeps the default ±1 integral clamp unless set
    problems = check_plugin(_plugin("JointPositionController", JPC_OK.replace("<i_gain>0", "<i_gain>2")))
    assert any("integral term is clamped" in p for p in problems)
    # velocity mode: the gains do nothing, cmd_max is the speed limit
    body = "<joint_name>j1</joint_name><use_velocity_commands>true</use_velocity_commands><p_gain>5</p_gain>"
    problems = check_plugin(_plugin("JointPositionController", body))
    assert any("<p_gain> is ignored" in p for p in problems)
    assert any("without <cmd_max>" in p for p in problems)
    # JointController reads gains only in force mode
    problems = check_plugin(_plugin("JointController", "<joint_name>j1</joint_name><p_gain>5</p_gain>"))
    assert problems == ["JointController: <p_gain> is ignored without <use_force_commands>true</use_force_commands>"]


def test_system_specific_rules() -> None:
    thermal = check_plugin(_plugin("Thermal", "<temperature>300</temperature><min_temp>290</min_temp>"))
    assert thermal == ["Thermal: <min_temp> is only read with <heat_signature>"]
    trig = check_plugin(_plugin("TriggeredPublisher", '<input type="gz.msgs.Empty"/>'))
    assert "TriggeredPublisher <input>: missing required attribute topic" in trig
    assert "TriggeredPublisher: neither <output> nor <service>: the system does nothing" in trig
    body = ("<joint_name>a</joint_name><joint_name>b</joint_name><position_p_gain>1</position_p_gain>"
            "<topic>t</topic>")
    jtc = check_plugin(_plugin("JointTrajectoryController", body))
    assert len(jtc) == 1 and "1 <position_p_gain> for 2 <joint_name>" in jtc[0]
    touch = check_plugin(_plugin("TouchPlugin", "<target>x</target><time>1</time>"
                                 "<create_contact_sensor_for_collision>true</create_contact_sensor_for_collision>"))
    assert any("<enabled> must be set explicitly" in p for p in touch)
    assert any("added in gz-sim 8.12.0" in p for p in touch)
    force = check_plugin(_plugin("ApplyJointForce", "<joint_name>j</joint_name><topic>/f</topic>"))
    assert force == ["ApplyJointForce: unknown parameter <topic> (gz-sim 8 ignores it)"]


def test_a_file_is_checked_with_its_model_context_and_bad_xml_is_a_problem(tmp_path: Path) -> None:
    sdf = tmp_path / "model.sdf"
    sdf.write_text('<sdf version="1.9"><model name="m"><link name="l"/><joint name="j1" type="revolute"/>'
                   f'{ET.tostring(_plugin("JointPositionController", JPC_OK), encoding="unicode")}'
                   '<link name="v"><visual name="vis">'
                   '<plugin filename="gz-sim-thermal-system" name="gz::sim::systems::Thermal"><temprature>3'
                   '</temprature></plugin></visual></link></model></sdf>')
    problems = check_sdf_file(sdf)
    assert len(problems) == 2 and all(p.startswith(f"{sdf}: visual vis: Thermal") for p in problems)
    bad = tmp_path / "bad.sdf"
    bad.write_text("<sdf><model>")
    assert len(check_sdf_file(bad)) == 1 and "cannot be read as XML" in check_sdf_file(bad)[0]


# --- the builders write what the systems read ------------------------------------------------------------------

def _model(joints: list[str], links: list[str]) -> ET.Element:
    model = ET.Element("model", name="m")
    for name in links:
        ET.SubElement(model, "link", name=name)
    for name in joints:
        ET.SubElement(model, "joint", name=name)
    return model


def test_the_system_builders_pass_the_checker() -> None:
    model = _model(["fl", "fr", "bl", "br", "j1", "j2"], ["base_link"])
    systems.diff_drive(model, left_joints=["fl", "bl"], right_joints=["fr", "br"], wheel_separation_m=0.5,
                       wheel_radius_m=0.1, cmd_topic="c", odom_topic="o", tf_topic="t", max_velocity_m_s=1.0,
                       max_acceleration_m_s2=2.0)
    systems.mecanum_drive(model, front_left="fl", front_right="fr", back_left="bl", back_right="br",
                          wheel_separation_m=0.5, wheelbase_m=0.6, wheel_radius_m=0.1, cmd_topic="c",
                          odom_topic="o", tf_topic="t")
    systems.joint_state_publisher(model, "js", ["j1", "j2"])
    systems.joint_position_controller(model, "j1", "p", 100.0, 5.0, cmd_max=20.0, initial_position=0.3)
    systems.joint_position_controller(model, "j2", "p2", 100.0, 5.0, i_gain=1.0, cmd_max=float("inf"))
    systems.joint_trajectory_controller(model, "traj", ["j1", "j2"], [0.0, 0.1], [10.0, 20.0], [1.0, 2.0],
                                        cmd_max=[0.0, 50.0])
    systems.odometry_publisher(model, "o", "t", 50.0)
    systems.velocity_control(model, "v")
    world = ET.Element("world", name="w")
    systems.add_world_systems(world, list(systems.WORLD_SYSTEMS))
    sdf = ET.Element("sdf")
    sdf.extend([world, model])
    assert check_tree(sdf) == []
    assert len(model.findall("plugin")) == 8 and len(world.findall("plugin")) == len(systems.WORLD_SYSTEMS)


def test_an_unlimited_joint_position_controller_has_no_output_clamp() -> None:
    """None/inf was the system's ±1000 default; now cmd_max < cmd_min, which gz-math's PID does not clamp."""
    model = _model(["j"], [])
    systems.joint_position_controller(model, "j", "t", 10.0, 1.0, cmd_max=None)
    node = model.find("plugin")
    assert float(node.findtext("cmd_max")) < float(node.findtext("cmd_min"))
    with pytest.raises(ValueError, match="cmd_max must be > 0"):
        systems.joint_position_controller(model, "j", "t", 10.0, 1.0, cmd_max=0.0)


def test_trajectory_controller_limits_stay_paired_with_their_joints() -> None:
    """gz-sim pairs the n-th position_cmd_max with the n-th joint: a limit on joint 2 only must not move to 1."""
    model = _model(["a", "b"], [])
    systems.joint_trajectory_controller(model, "t", ["a", "b"], [0.0, 0.0], [1.0, 1.0], [0.1, 0.1],
                                        cmd_max=[0.0, 50.0])
    node = model.find("plugin")
    assert [float(e.text) for e in node.findall("position_cmd_max")] == [-1.0, 50.0]
    assert [float(e.text) for e in node.findall("position_cmd_min")] == [0.0, -50.0]


def test_the_cli_reports_plugin_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    worlds = tmp_path / "sim" / "gazebo" / "worlds"
    worlds.mkdir(parents=True)
    world = ET.Element("world", name="w")
    systems.add_world_systems(world, ["imu"])
    (worlds / "ok.sdf").write_text(ET.tostring(world, encoding="unicode"))
    assert cli.main(["plugins", "--share", str(tmp_path)]) == 0
    ET.SubElement(world.find("plugin"), "engin")
    (worlds / "bad.sdf").write_text(ET.tostring(world, encoding="unicode"))
    assert cli.main(["plugins", "--share", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "unknown parameter <engin>" in out and "did you mean <engine>" in out
