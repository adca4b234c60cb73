"""The parameters each Gazebo Harmonic system plugin reads, and a checker for the SDF files we generate.

libsdformat checks the structure of a world or model, but a ``<plugin>``'s children are free XML: a
misspelt or non-existent parameter, a missing required one, or a value that does not parse is ignored by
Gazebo at run time and only shows up as wrong behaviour in a real run. :data:`SYSTEMS` lists, for every
``gz::sim::systems`` class our twins use (and the ones likely to come), its plugin library, where it may be
attached and each parameter its ``Configure()`` reads — type, whether it may repeat, whether the system
needs it — plus *explicit* parameters: optional for Gazebo, but with a default that is not neutral
(JointPositionController's i gain 0.1 and ±1000 output limit, DiffDrive's 1 m wheel separation, an
OdometryPublisher in 2-D with ``<model>/odom`` frames, ...), so our files must always write them.
:func:`check_plugin` reports every departure from the table; :func:`check_sdf_file` checks every plugin
of a world or model file, including its placement and the joints and links it names.

Source checked: gazebosim/gz-sim, branch ``gz-sim8`` (Harmonic) at commit
b81e26dab4ac0c1f4cfa485eb555e9141edd8649 (2026-07-01, after tag gz-sim8_8.14.0): each system's
``src/systems/<dir>/<File>.cc`` ``Configure()`` (``System.source``), its CMake ``gz_add_system`` name (the
unversioned library ``gz-sim-<name>-system``) and ``GZ_ADD_PLUGIN_ALIAS`` class name; parameters added
after 8.0.0 carry the release that added them (``Param.since``) and are reported, because older Harmonic
releases ignore them. The table is written from reading that source; no text of it is copied.
"""

from __future__ import annotations

import difflib
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

#: gz-sim commit the table was checked against (branch gz-sim8).
GZ_SIM_COMMIT = "b81e26dab4ac0c1f4cfa485eb555e9141edd8649"
#: Oldest Harmonic release our files must work on: parameters newer than this are reported.
OLDEST_HARMONIC = (8, 0, 0)

KINDS = ("double", "int", "uint", "bool", "string", "vector3", "color", "text", "element")


@dataclass(frozen=True)
class Attr:
    """An XML attribute a system reads from a parameter element."""

    kind: str = "string"
    required: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Param:
    """One parameter element: its value type and how the system treats it.

    ``required``: the system fails or does nothing without it. ``explicit``: optional for Gazebo, but the
    default is not neutral, so our files must set it. ``repeated``: every occurrence is read (others: only
    the first). ``ref``: the value names a ``joint`` or ``link`` of the enclosing model. ``children``:
    sub-elements of an ``element`` parameter. ``since``: the gz-sim 8 release that added it.
    """

    kind: str
    required: bool = False
    explicit: bool = False
    repeated: bool = False
    choices: tuple[str, ...] = ()
    ref: str = ""
    attrs: Mapping[str, Attr] = field(default_factory=dict)
    children: Mapping[str, Param] = field(default_factory=dict)
    since: tuple[int, int, int] | None = None
    note: str = ""


Rule = Callable[[ET.Element], list[str]]


@dataclass(frozen=True)
class System:
    """A gz-sim system: class, plugin library, gz-sim source, allowed parents, parameters, extra rules."""

    cls: str
    filename: str
    source: str
    attach: tuple[str, ...]
    params: Mapping[str, Param] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    plugin_attrs: Mapping[str, Attr] = field(default_factory=dict)

    @property
    def short(self) -> str:
        return self.cls.rsplit("::", 1)[-1]


def _p(kind: str, **kw: object) -> Param:
    return Param(kind, **kw)  # type: ignore[arg-type]


D, S, B, V3 = "double", "string", "bool", "vector3"


def _present(el: ET.Element, tag: str) -> bool:
    return el.find(tag) is not None


def _text(el: ET.Element, tag: str) -> str | None:
    node = el.find(tag)
    return None if node is None else (node.text or "").strip()


def _is_true(text: str | None) -> bool:
    return text is not None and text.strip().lower() in ("true", "1")


# --- extra rules (what a per-parameter table cannot say) -------------------------------------------------

_FORCE_MODE_PID = ("p_gain", "i_gain", "d_gain", "i_max", "i_min", "cmd_max", "cmd_min", "cmd_offset")


def _pid_integral_clamp(el: ET.Element) -> list[str]:
    """A non-zero i gain with the default integral clamp ±1 (JointPositionController, JointController)."""
    i_gain = _text(el, "i_gain")
    try:
        nonzero = i_gain is not None and float(i_gain) != 0.0
    except ValueError:
        return []
    missing = [t for t in ("i_max", "i_min") if not _present(el, t)]
    if nonzero and missing:
        return [f"non-zero <i_gain> without {', '.join(f'<{t}>' for t in missing)}: the integral term is clamped "
                "to the default ±1"]
    return []


def _jpc_mode(el: ET.Element) -> list[str]:
    """JointPositionController: a PID force loop, or with <use_velocity_commands> a velocity set directly."""
    if _is_true(_text(el, "use_velocity_commands")):
        out = [f"<{t}> is ignored with <use_velocity_commands>true</use_velocity_commands>"
               for t in _FORCE_MODE_PID if t != "cmd_max" and _present(el, t)]
        if not _present(el, "cmd_max"):
            out.append("velocity mode without <cmd_max> (the speed limit): the joint is moved to the target in "
                       "one step")
        return out
    out = [f"<{t}> must be set explicitly: the PID default (p 1, i 0.1, d 0.01, output ±1000) is not neutral"
           for t in ("p_gain", "i_gain", "d_gain", "cmd_max", "cmd_min") if not _present(el, t)]
    return out + _pid_integral_clamp(el)


def _actuator_number(el: ET.Element) -> list[str]:
    if _is_true(_text(el, "use_actuator_msg")) and not _present(el, "actuator_number"):
        return ["<use_actuator_msg> is true but <actuator_number> is missing: the system keeps listening for "
                "Double commands"]
    return []


def _topic_and_sub_topic(el: ET.Element) -> list[str]:
    if _present(el, "topic") and _present(el, "sub_topic"):
        return ["both <topic> and <sub_topic>: <sub_topic> is ignored"]
    return []


def _joint_controller_mode(el: ET.Element) -> list[str]:
    """JointController reads its PID only with <use_force_commands>true: else it sets the velocity directly."""
    given = [t for t in _FORCE_MODE_PID if _present(el, t)]
    if not _is_true(_text(el, "use_force_commands")):
        return [f"<{t}> is ignored without <use_force_commands>true</use_force_commands>" for t in given]
    missing = [t for t in ("p_gain", "i_gain", "d_gain", "cmd_max", "cmd_min") if not _present(el, t)]
    return [f"force mode without <{t}>: the default is not neutral (p 1, i 0, d 0, output ±1000)"
            for t in missing] + _pid_integral_clamp(el)


_JTC_PER_JOINT = tuple(f"{loop}_{term}" for loop in ("position", "velocity")
                       for term in ("p_gain", "i_gain", "d_gain", "i_min", "i_max", "cmd_min", "cmd_max",
                                    "cmd_offset")) + ("initial_position",)


def _jtc_per_joint(el: ET.Element) -> list[str]:
    """JointTrajectoryController pairs the n-th value of each per-joint parameter with the n-th <joint_name>."""
    n = len(el.findall("joint_name"))
    out = []
    for tag in _JTC_PER_JOINT:
        k = len(el.findall(tag))
        if k and n and k != n:
            out.append(f"{k} <{tag}> for {n} <joint_name>: values pair with joints by position, so the last "
                       f"{n - k} joint(s) get the default" if k < n else
                       f"{k} <{tag}> for {n} <joint_name>: the extra values are ignored")
    return out


def _thermal_source(el: ET.Element) -> list[str]:
    temp, sig = _present(el, "temperature"), _present(el, "heat_signature")
    out = []
    if temp and sig:
        out.append("both <temperature> and <heat_signature>: <temperature> is ignored")
    if not temp and not sig:
        out.append("neither <temperature> nor <heat_signature>: the system does nothing")
    range_tags = [t for t in ("min_temp", "max_temp") if _present(el, t)]
    if not sig:
        out += [f"<{t}> is only read with <heat_signature>" for t in range_tags]
    elif len(range_tags) < 2:
        out += [f"<heat_signature> without <{t}>: it defaults to the atmosphere temperature"
                for t in ("min_temp", "max_temp") if t not in range_tags]
    return out


def _motor_number(el: ET.Element) -> list[str]:
    if not (_present(el, "actuator_number") or _present(el, "motorNumber")):
        return ["missing <actuator_number> (or <motorNumber>): the motor reads actuator 0"]
    if _present(el, "actuator_number") and _present(el, "motorNumber"):
        return ["both <actuator_number> and <motorNumber>: <motorNumber> is ignored"]
    return []


def _rotor_count(el: ET.Element) -> list[str]:
    cfg = el.find("rotorConfiguration")
    if cfg is not None and len(cfg.findall("rotor")) < 4:
        return ["<rotorConfiguration> needs at least 4 rotors (the allocation matrix must have rank 4)"]
    return []


def _triggered_output(el: ET.Element) -> list[str]:
    if not (_present(el, "output") or _present(el, "service")):
        return ["neither <output> nor <service>: the system does nothing"]
    return []


def _detach_topic(el: ET.Element) -> list[str]:
    topic, detach = _text(el, "topic"), _text(el, "detach_topic")
    if topic is not None and detach is not None and topic != detach:
        return ["<topic> and <detach_topic> differ: <topic> is deprecated, use <detach_topic> only"]
    return []


# --- the table ----------------------------------------------------------------------------------------------


_SPEED_LIMITS_ALL = {f"{bound}_{what}": _p(D) for bound in ("min", "max")
                     for what in ("velocity", "acceleration", "jerk")}
_SPEED_LIMITS_SPLIT = {f"{bound}_{axis}_{what}": _p(D) for bound in ("min", "max") for axis in ("linear", "angular")
                       for what in ("velocity", "acceleration", "jerk")}
_DRIVE_COMMON = {
    "wheel_separation": _p(D, explicit=True, note="default 1.0 m"),
    "wheel_radius": _p(D, explicit=True, note="default 0.2 m"),
    "odom_publish_frequency": _p(D), "topic": _p(S), "odom_topic": _p(S), "tf_topic": _p(S),
    "frame_id": _p(S, explicit=True, note="default <model>/odom"),
    "child_frame_id": _p(S, explicit=True, note="default <model>/<canonical link>"),
}

_ROTOR = {"jointName": _p(S, required=True, ref="joint"), "forceConstant": _p(D, required=True),
          "momentConstant": _p(D, required=True), "direction": _p("int", required=True, choices=("1", "-1"))}

_GI_CHILDREN = {"enabled": _p(B), "resolution": _p(V3), "octant_count": _p(V3), "bounce_count": _p("uint"),
                "high_quality": _p(B), "anisotropic": _p(B), "thin_wall_counter": _p(D), "conserve_memory": _p(B),
                "debug_vis_mode": _p(S, choices=("none", "albedo", "normal", "emissive", "lighting"))}

_SENSOR_SYSTEM_ATTACH = ("world", "model")

_SYSTEM_LIST = [
    # World systems.
    System("gz::sim::systems::Physics", "gz-sim-physics-system", "physics/Physics.cc", ("world",), {
        "engine": _p("element", children={"filename": _p(S, required=True)}),
        "contacts": _p("element", children={"include_entity_names": _p(B)}),
    }),
    System("gz::sim::systems::Sensors", "gz-sim-sensors-system", "sensors/Sensors.cc", ("world",), {
        "render_engine": _p(S, choices=("ogre2", "ogre")), "render_engine_api_backend": _p(S),
        "disable_on_drained_battery": _p(B), "background_color": _p("color"), "ambient_light": _p("color"),
        "global_illumination": _p("element", attrs={"type": Attr(required=True, choices=("vct", "civct"))},
                                  children=_GI_CHILDREN, since=(8, 7, 0)),
    }),
    System("gz::sim::systems::SceneBroadcaster", "gz-sim-scene-broadcaster-system",
           "scene_broadcaster/SceneBroadcaster.cc", ("world",),
           {"dynamic_pose_hertz": _p("int"), "state_hertz": _p(D)}),
    System("gz::sim::systems::UserCommands", "gz-sim-user-commands-system", "user_commands/UserCommands.cc",
           ("world",), {"set_all_light_entities": _p(B, since=(8, 1, 0))}),
    System("gz::sim::systems::Imu", "gz-sim-imu-system", "imu/Imu.cc", _SENSOR_SYSTEM_ATTACH),
    System("gz::sim::systems::ForceTorque", "gz-sim-forcetorque-system", "force_torque/ForceTorque.cc",
           _SENSOR_SYSTEM_ATTACH),
    System("gz::sim::systems::NavSat", "gz-sim-navsat-system", "navsat/NavSat.cc", _SENSOR_SYSTEM_ATTACH),
    System("gz::sim::systems::AirPressure", "gz-sim-air-pressure-system", "air_pressure/AirPressure.cc",
           _SENSOR_SYSTEM_ATTACH),
    System("gz::sim::systems::Magnetometer", "gz-sim-magnetometer-system", "magnetometer/Magnetometer.cc",
           _SENSOR_SYSTEM_ATTACH, {
               "use_units_gauss": _p(B, since=(8, 6, 0), note="default true (gauss, not tesla)"),
               "use_earth_frame_ned": _p(B, since=(8, 6, 0), note="default true (NED field, not ENU)"),
           }),
    System("gz::sim::systems::Contact", "gz-sim-contact-system", "contact/Contact.cc", _SENSOR_SYSTEM_ATTACH),
    System("gz::sim::systems::ApplyLinkWrench", "gz-sim-apply-link-wrench-system",
           "apply_link_wrench/ApplyLinkWrench.cc", ("world",), {
               "verbose": _p(B), "topic": _p(S), "topic_persistent": _p(S), "topic_clear": _p(S),
               "persistent": _p("element", repeated=True, children={
                   "entity_name": _p(S, required=True), "entity_type": _p(S, required=True, choices=("link", "model")),
                   "force": _p(V3), "torque": _p(V3)}),
           }),
    System("gz::sim::systems::TriggeredPublisher", "gz-sim-triggered-publisher-system",
           "triggered_publisher/TriggeredPublisher.cc", ("world", "model"), {
               "input": _p("element", required=True, attrs={"type": Attr(required=True), "topic": Attr(required=True)},
                           children={"match": _p("text", repeated=True, attrs={
                               "field": Attr(), "logic_type": Attr(choices=("positive", "negative")),
                               "tol": Attr("double")})}),
               "output": _p("text", repeated=True, attrs={"type": Attr(required=True), "topic": Attr(required=True)}),
               "service": _p("element", repeated=True, attrs={
                   "name": Attr(required=True), "reqType": Attr(required=True), "repType": Attr(required=True),
                   "reqMsg": Attr(required=True), "timeout": Attr("int", required=True)}),
               "delay_ms": _p("int"),
           }, rules=(_triggered_output,)),
    # Drives and controllers (model systems).
    System("gz::sim::systems::DiffDrive", "gz-sim-diff-drive-system", "diff_drive/DiffDrive.cc", ("model",), {
        "left_joint": _p(S, required=True, repeated=True, ref="joint"),
        "right_joint": _p(S, required=True, repeated=True, ref="joint"),
        **_DRIVE_COMMON, **_SPEED_LIMITS_ALL, **_SPEED_LIMITS_SPLIT,
    }),
    System("gz::sim::systems::MecanumDrive", "gz-sim-mecanum-drive-system", "mecanum_drive/MecanumDrive.cc",
           ("model",), {
               **{f"{corner}_joint": _p(S, required=True, repeated=True, ref="joint")
                  for corner in ("front_left", "front_right", "back_left", "back_right")},
               "wheelbase": _p(D, explicit=True, note="default 1.0 m"),
               **_DRIVE_COMMON, **_SPEED_LIMITS_ALL,  # one limit for the linear, lateral and angular limiters
           }),
    System("gz::sim::systems::VelocityControl", "gz-sim-velocity-control-system",
           "velocity_control/VelocityControl.cc", ("model",), {
               "topic": _p(S), "initial_linear": _p(V3), "initial_angular": _p(V3),
               "link_name": _p(S, repeated=True, ref="link"),
           }),
    System("gz::sim::systems::OdometryPublisher", "gz-sim-odometry-publisher-system",
           "odometry_publisher/OdometryPublisher.cc", ("model",), {
               "odom_frame": _p(S, explicit=True, note="default <model>/odom"),
               "robot_base_frame": _p(S, explicit=True, note="default <model>/base_footprint"),
               "dimensions": _p("int", explicit=True, choices=("2", "3"), note="default 2: z, roll, pitch dropped"),
               "odom_publish_frequency": _p(D), "odom_topic": _p(S), "odom_covariance_topic": _p(S),
               "tf_topic": _p(S), "xyz_offset": _p(V3), "rpy_offset": _p(V3), "gaussian_noise": _p(D),
           }),
    System("gz::sim::systems::JointStatePublisher", "gz-sim-joint-state-publisher-system",
           "joint_state_publisher/JointStatePublisher.cc", ("model",), {
               "joint_name": _p(S, repeated=True, ref="joint"), "topic": _p(S),
               "update_rate": _p(D, since=(8, 14, 0)),
           }),
    System("gz::sim::systems::JointPositionController", "gz-sim-joint-position-controller-system",
           "joint_position_controller/JointPositionController.cc", ("model",), {
               "joint_name": _p(S, required=True, repeated=True, ref="joint"), "joint_index": _p("uint"),
               **{k: _p(D) for k in _FORCE_MODE_PID}, "use_velocity_commands": _p(B), "initial_position": _p(D),
               "use_actuator_msg": _p(B), "actuator_number": _p("int"), "sub_topic": _p(S), "topic": _p(S),
           }, rules=(_jpc_mode, _actuator_number, _topic_and_sub_topic)),
    System("gz::sim::systems::JointController", "gz-sim-joint-controller-system",
           "joint_controller/JointController.cc", ("model",), {
               "joint_name": _p(S, required=True, repeated=True, ref="joint"), "initial_velocity": _p(D),
               "use_force_commands": _p(B), **{k: _p(D) for k in _FORCE_MODE_PID},
               "use_actuator_msg": _p(B), "actuator_number": _p("int"), "sub_topic": _p(S), "topic": _p(S),
           }, rules=(_joint_controller_mode, _actuator_number, _topic_and_sub_topic)),
    System("gz::sim::systems::JointTrajectoryController", "gz-sim-joint-trajectory-controller-system",
           "joint_traj_control/JointTrajectoryController.cc", ("model",), {
               "joint_name": _p(S, repeated=True, ref="joint"), "topic": _p(S),
               **{tag: _p(D, repeated=True) for tag in _JTC_PER_JOINT},
           }, rules=(_jtc_per_joint,), plugin_attrs={"use_header_start_time": Attr("bool")}),
    System("gz::sim::systems::ApplyJointForce", "gz-sim-apply-joint-force-system",
           "apply_joint_force/ApplyJointForce.cc", ("model",),
           {"joint_name": _p(S, required=True, ref="joint",
                             note="the command topic is always /model/<model>/joint/<joint>/cmd_force")}),
    System("gz::sim::systems::DetachableJoint", "gz-sim-detachable-joint-system",
           "detachable_joint/DetachableJoint.cc", ("model",), {
               "parent_link": _p(S, required=True, ref="link"), "child_model": _p(S, required=True),
               "child_link": _p(S, required=True), "detach_topic": _p(S), "topic": _p(S), "attach_topic": _p(S),
               "output_topic": _p(S), "suppress_child_warning": _p(B),
           }, rules=(_detach_topic,)),
    System("gz::sim::systems::TouchPlugin", "gz-sim-touchplugin-system", "touch_plugin/TouchPlugin.cc",
           ("model",), {
               "target": _p(S, required=True), "time": _p(D, required=True), "namespace": _p(S),
               "enabled": _p(B, explicit=True, note="default false: nothing is reported until enabled"),
               "collision": _p(S, repeated=True, since=(8, 11, 0)),
               "create_contact_sensor_for_collision": _p(B, since=(8, 12, 0)),
           }),
    System("gz::sim::systems::MulticopterMotorModel", "gz-sim-multicopter-motor-model-system",
           "multicopter_motor_model/MulticopterMotorModel.cc", ("model",), {
               "robotNamespace": _p(S), "jointName": _p(S, required=True, ref="joint"),
               "linkName": _p(S, required=True, ref="link"), "actuator_number": _p("int"), "motorNumber": _p("int"),
               "turningDirection": _p(S, required=True, choices=("cw", "ccw")),
               "motorType": _p(S, explicit=True, choices=("velocity",),
                               note="only velocity is supported; absent means velocity with a warning"),
               "commandSubTopic": _p(S),
               **{k: _p(D, explicit=True, note="airframe constant: the default is the X3's")
                  for k in ("rotorDragCoefficient", "rollingMomentCoefficient", "maxRotVelocity", "motorConstant",
                            "momentConstant", "timeConstantUp", "timeConstantDown")},
               "rotorVelocitySlowdownSim": _p(D),
           }, rules=(_motor_number,)),
    System("gz::sim::systems::MulticopterVelocityControl", "gz-sim-multicopter-control-system",
           "multicopter_control/MulticopterVelocityControl.cc", ("model",), {
               "robotNamespace": _p(S, required=True), "comLinkName": _p(S, required=True, ref="link"),
               "rotorConfiguration": _p("element", required=True, children={
                   "rotor": _p("element", required=True, repeated=True, children=_ROTOR)}),
               "velocityGain": _p(V3, required=True), "attitudeGain": _p(V3, required=True),
               "angularRateGain": _p(V3, required=True),
               **{k: _p(V3, explicit=True, note="default unlimited")
                  for k in ("maximumLinearAcceleration", "maximumLinearVelocity", "maximumAngularVelocity")},
               **{k: _p(V3) for k in ("linearVelocityNoiseMean", "linearVelocityNoiseStdDev",
                                      "angularVelocityNoiseMean", "angularVelocityNoiseStdDev")},
               "commandSubTopic": _p(S), "enableSubTopic": _p(S),
           }, rules=(_rotor_count,)),
    # Thermal.
    System("gz::sim::systems::Thermal", "gz-sim-thermal-system", "thermal/Thermal.cc", ("visual",), {
        "temperature": _p(D), "heat_signature": _p(S), "min_temp": _p(D), "max_temp": _p(D),
    }, rules=(_thermal_source,)),
    System("gz::sim::systems::ThermalSensor", "gz-sim-thermal-sensor-system", "thermal/ThermalSensor.cc",
           ("sensor",), {"resolution": _p(D), "min_temp": _p(D), "max_temp": _p(D)}),
    System("gz::sim::systems::PosePublisher", "gz-sim-pose-publisher-system", "pose_publisher/PosePublisher.cc",
           ("model",), {
               **{f"publish_{what}_pose": _p(B) for what in ("link", "nested_model", "model", "visual", "collision",
                                                             "sensor")},
               "update_frequency": _p(D), "static_publisher": _p(B), "static_update_frequency": _p(D),
               "use_pose_vector_msg": _p(B), "topic": _p(S, since=(8, 12, 0)),
           }),
]

#: System class (``gz::sim::systems::X``) → its description.
SYSTEMS: dict[str, System] = {s.cls: s for s in _SYSTEM_LIST}


# --- checking ------------------------------------------------------------------------------------------------

_INT = re.compile(r"[+-]?\d+")
_UINT = re.compile(r"\+?\d+")


def _floats(text: str) -> list[float] | None:
    try:
        values = [float(t) for t in text.split()]
    except ValueError:
        return None
    return values if all(math.isfinite(v) for v in values) else None


def value_problem(kind: str, text: str | None) -> str | None:
    """Why ``text`` does not parse as ``kind`` the way SDFormat reads it for the system, or None."""
    t = (text or "").strip()
    if kind in ("element", "text"):
        return None
    if kind == "string":
        return "is empty" if not t else None
    if kind == "double":
        v = _floats(t)
        return None if v is not None and len(v) == 1 else f"{t!r} is not a finite number"
    if kind == "int":
        return None if _INT.fullmatch(t) else f"{t!r} is not an integer"
    if kind == "uint":
        return None if _UINT.fullmatch(t) else f"{t!r} is not a non-negative integer"
    if kind == "bool":
        return None if t.lower() in ("true", "false", "1", "0") else f"{t!r} is not a boolean (true/false/1/0)"
    if kind == "vector3":
        v = _floats(t)
        return None if v is not None and len(v) == 3 else f"{t!r} is not three finite numbers"
    if kind == "color":
        v = _floats(t)
        return None if v is not None and len(v) in (3, 4) else f"{t!r} is not a colour (3 or 4 numbers)"
    raise ValueError(f"unknown parameter kind {kind!r}")


def _suggest(tag: str, known: Mapping[str, object]) -> str:
    close = difflib.get_close_matches(tag, list(known), n=1, cutoff=0.6)
    return f" (did you mean <{close[0]}>?)" if close else ""


def _check_attrs(where: str, el: ET.Element, attrs: Mapping[str, Attr], ignore: tuple[str, ...] = ()) -> list[str]:
    out = []
    for name, value in el.attrib.items():
        if name in ignore:
            continue
        spec = attrs.get(name)
        if spec is None:
            out.append(f"{where}: unknown attribute {name}=\"{value}\" (ignored){_suggest(name, attrs)}")
            continue
        problem = value_problem(spec.kind, value)
        if problem:
            out.append(f"{where}: attribute {name} {problem}")
        elif spec.choices and value.strip() not in spec.choices:
            out.append(f"{where}: attribute {name}=\"{value}\" is not one of {', '.join(spec.choices)}")
    for name, spec in attrs.items():
        if spec.required and name not in el.attrib:
            out.append(f"{where}: missing required attribute {name}")
    return out


def _version(v: tuple[int, int, int]) -> str:
    return ".".join(map(str, v))


def _check_children(where: str, el: ET.Element, params: Mapping[str, Param], refs: Mapping[str, set[str]] | None,
                    ) -> list[str]:
    out: list[str] = []
    counts: dict[str, int] = {}
    for child in el:
        if not isinstance(child.tag, str):  # comments
            continue
        tag = child.tag
        counts[tag] = counts.get(tag, 0) + 1
        spec = params.get(tag)
        if spec is None:
            out.append(f"{where}: unknown parameter <{tag}> (gz-sim 8 ignores it){_suggest(tag, params)}")
            continue
        here = f"{where} <{tag}>"
        if counts[tag] == 2 and not spec.repeated:
            out.append(f"{here}: given more than once; only the first is read")
        if spec.since is not None and spec.since > OLDEST_HARMONIC:
            out.append(f"{here}: added in gz-sim {_version(spec.since)}; older Harmonic releases ignore it")
        out += _check_attrs(here, child, spec.attrs)
        if spec.kind == "element":
            if (child.text or "").strip():
                out.append(f"{here}: has text, but only its sub-elements are read")
            out += _check_children(here, child, spec.children, refs)
            continue
        if len(child):
            out.append(f"{here}: has sub-elements, but only its text is read")
        problem = value_problem(spec.kind, child.text)
        value = (child.text or "").strip()
        if problem:
            out.append(f"{here}: {problem}")
        elif spec.choices and value not in spec.choices:
            out.append(f"{here}: {value!r} is not one of {', '.join(spec.choices)}")
        elif spec.ref and refs is not None and value not in refs.get(spec.ref, set()):
            out.append(f"{here}: the model has no {spec.ref} named {value!r}")
    for tag, spec in params.items():
        if tag in counts:
            continue
        if spec.required:
            out.append(f"{where}: missing required parameter <{tag}>")
        elif spec.explicit:
            note = f" ({spec.note})" if spec.note else ""
            out.append(f"{where}: <{tag}> must be set explicitly: its default is not neutral{note}")
    return out


def check_plugin(element: ET.Element, *, parent: str | None = None,
                 refs: Mapping[str, set[str]] | None = None) -> list[str]:
    """Problems of one ``<plugin>`` element against :data:`SYSTEMS` (empty: as gz-sim 8 reads it).

    ``parent`` is the tag of the element that holds the plugin (world, model, visual, sensor); ``refs`` maps
    ``joint``/``link`` to the names in the enclosing model. Either is only checked when given.
    """
    if element.tag != "plugin":
        return [f"<{element.tag}> is not a <plugin>"]
    cls = element.get("name", "")
    filename = element.get("filename", "")
    system = SYSTEMS.get(cls)
    if system is None:
        by_file = [s.cls for s in _SYSTEM_LIST if s.filename == filename]
        hint = f" ({filename} holds {by_file[0]})" if by_file else _suggest_cls(cls)
        return [f"plugin {cls!r} ({filename}): not a known gz-sim 8 system{hint}"]
    where = system.short
    out = []
    if filename != system.filename:
        out.append(f"{where}: filename {filename!r} is not the system's library {system.filename!r}")
    if parent is not None and parent not in system.attach:
        out.append(f"{where}: attached to a <{parent}>; it works on a {' or '.join(system.attach)}")
    out += _check_attrs(where, element, system.plugin_attrs, ignore=("filename", "name"))
    out += _check_children(where, element, system.params, refs)
    for rule in system.rules:
        out += [f"{where}: {p}" for p in rule(element)]
    return out


def _suggest_cls(cls: str) -> str:
    close = difflib.get_close_matches(cls, list(SYSTEMS), n=1, cutoff=0.8)
    return f" (did you mean {close[0]}?)" if close else ""


def _model_refs(model: ET.Element, prefix: str = "") -> dict[str, set[str]]:
    """Joint and link names of a model, nested models' scoped as ``nested::name``."""
    refs: dict[str, set[str]] = {"joint": set(), "link": set()}
    for child in model:
        if child.tag in refs and child.get("name"):
            refs[child.tag].add(prefix + child.get("name", ""))
        elif child.tag == "model" and child.get("name"):
            for kind, names in _model_refs(child, f"{prefix}{child.get('name')}::").items():
                refs[kind] |= names
    return refs


def check_tree(root: ET.Element, label: str = "") -> list[str]:
    """Problems of every ``<plugin>`` under ``root`` (world, model, link, visual and sensor plugins)."""
    out: list[str] = []
    prefix = f"{label}: " if label else ""

    def walk(node: ET.Element, model: ET.Element | None, refs: dict[str, set[str]] | None) -> None:
        for child in node:
            if not isinstance(child.tag, str):
                continue
            if child.tag == "plugin":
                scope = f"{prefix}{node.tag} {node.get('name', '')}".rstrip()
                out.extend(f"{scope}: {p}" for p in check_plugin(child, parent=node.tag, refs=refs))
            elif child.tag == "model":
                walk(child, child, _model_refs(child))
            else:
                walk(child, model, refs)

    if root.tag == "model":
        walk(root, root, _model_refs(root))
    else:
        walk(root, None, None)
    return out


def check_sdf_file(path: str | Path) -> list[str]:
    """Problems of every system plugin in an SDF world or model file (empty when all are right)."""
    path = Path(path)
    try:
        root = ET.parse(path).getroot()  # noqa: S314 - our own generated SDF files
    except (OSError, ET.ParseError) as exc:
        return [f"{path}: cannot be read as XML: {exc}"]
    return check_tree(root, str(path))
