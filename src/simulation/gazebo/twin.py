"""A scenario's Gazebo twin under construction, and the table of twin exporters.

A **twin exporter** is a module named in :data:`EXPORTERS` for a simulator plugin (``module:Class`` as
written in scenario files). It provides

* ``export(config, entry, twin) -> None`` — given the plugin's validated config (the very object the
  headless runner builds from the scenario YAML), add models, spawns, bridges, systems, launch
  processes and fidelity notes to the :class:`Twin`;
* optionally ``score(config, entry, scenario, bag) -> dict[str, float]`` — the plugin's metrics recomputed from a
  bag recorded in Gazebo (see :mod:`sanqin.simulation.gazebo.score`), named as the headless runner
  names them (``<simulator name>.<metric>``, the prefix is added by the caller).

An exporter that cannot reproduce a configuration (e.g. a fault ArduPilot SITL cannot be made to inject) raises
:class:`~sanqin.simulation.gazebo.errors.NoTwin` with the reason; the scenario is then listed with it under
``headless_only`` in ``sim/gazebo/twins.yaml``.

Adding a scenario's twin is therefore: write one exporter module for its simulator plugin and add one
line to :data:`EXPORTERS`; ``sanqin gazebo generate`` then writes its world, models, bridge config and
launch file, and the tests check them.
"""

from __future__ import annotations

import importlib
import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sanqin.runtime.scenario import NodeEntry, Scenario
from sanqin.simulation.gazebo.bridge import BridgeEntry
from sanqin.simulation.gazebo.command_split import MAX_JOINTS, output_topic
from sanqin.simulation.gazebo.errors import TwinError
from sanqin.simulation.gazebo.sdf import el, fields, pose, sdf_root
from sanqin.simulation.gazebo.sensors import SensorResult

#: Simulator plugin (``module:Class``) → twin exporter module.
EXPORTERS: dict[str, str] = {
    "sanqin.simulation.tunnel_lidar:TunnelLidarSim": "sanqin.simulation.gazebo.tunnel",
    "sanqin.simulation.tunnel_odometry:TunnelOdometrySim": "sanqin.simulation.gazebo.tunnel_odometry",
    "sanqin.simulation.industrial_bay:IndustrialBaySim": "sanqin.simulation.gazebo.industrial_bay",
    "sanqin.simulation.welding_cell:WeldingCellSim": "sanqin.simulation.gazebo.welding",
    "sanqin.simulation.multicopter.plugin:MulticopterSim": "sanqin.simulation.gazebo.uav",
    "sanqin.simulation.crop_field:CropFieldSim": "sanqin.simulation.gazebo.crop_field",
    "sanqin.simulation.kinematic_robot:KinematicRobotSim": "sanqin.simulation.gazebo.kinematic",
    "sanqin.simulation.thermal_tunnel:ThermalTunnelSim": "sanqin.simulation.gazebo.thermal_tunnel",
    "sanqin.simulation.mujoco_arm:ArmPushSim": "sanqin.simulation.gazebo.arm_push",
    "sanqin.simulation.mecanum_base:MecanumBaseSim": "sanqin.simulation.gazebo.mecanum_hand",
    "sanqin.simulation.rehab:RehabPlanarSim": "sanqin.simulation.gazebo.rehab",
    "sanqin.simulation.rehab_exo:RehabExoSim": "sanqin.simulation.gazebo.rehab_exo",
    "sanqin.simulation.cable_tunnel_rail:CableTunnelRailSim": "sanqin.simulation.gazebo.rail_probe",
}


def exporter(plugin: str) -> Any:
    """The exporter module for a simulator plugin; :class:`TwinError` if it has none."""
    if plugin not in EXPORTERS:
        raise TwinError(f"no Gazebo twin exporter for simulator plugin {plugin!r}; known: {sorted(EXPORTERS)}")
    return importlib.import_module(EXPORTERS[plugin])


@dataclass
class Model:
    """A Gazebo model folder ``sim/gazebo/models/<name>/``: model.sdf, model.config and extra files."""

    name: str
    sdf: ET.Element
    description: str
    files: dict[str, str | bytes] = field(default_factory=dict)  # path in the folder → text or bytes
    header: str = ""

    @property
    def model(self) -> ET.Element:
        """The ``<model>`` element."""
        node = self.sdf.find("model")
        if node is None:
            raise TwinError(f"model {self.name}: no <model> element")
        return node


@dataclass(frozen=True)
class Spawn:
    """A robot spawned into the running world by ``ros_gz_sim create`` (pose in the world frame, m/rad)."""

    model: str
    name: str
    xyz: tuple[float, float, float]
    rpy: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Placement:
    """A static model included in the world file."""

    model: str
    name: str
    xyz: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rpy: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class LaunchProcess:
    """An extra process the twin's launch file starts: a ROS node of another package or a command.

    ``pkg``/``exec``/``args`` for a node (``pkg`` must not be ``sanqin``: our nodes come from the
    scenario), or ``cmd`` for a plain executable (e.g. a ``ros2 topic pub`` that drives the robot
    as the headless plugin does).
    """

    name: str
    pkg: str = ""
    exec: str = ""
    args: str = ""
    cmd: str = ""
    description: str = ""


@dataclass
class Twin:
    """Everything generated for one scenario."""

    scenario: Scenario
    world_name: str
    physics_step_s: float = 0.001
    real_time_factor: float = 1.0  # < 1 paces Gazebo slower than the wall clock (nodes closing a stiff loop)
    startup_slack_s: float = 0.0  # sim time run beyond the scenario's duration: a scenario whose clock starts
    # when our nodes are up (e.g. at the first session) loses the sim time Gazebo ran before them
    models: dict[str, Model] = field(default_factory=dict)
    placements: list[Placement] = field(default_factory=list)
    spawns: list[Spawn] = field(default_factory=list)
    bridges: list[BridgeEntry] = field(default_factory=list)
    systems: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    processes: list[LaunchProcess] = field(default_factory=list)
    node_params: dict[str, dict[str, Any]] = field(default_factory=dict)  # scenario node name → extra params
    nodes: list[NodeEntry] = field(default_factory=list)  # Sanqin nodes the twin adds (e.g. a path driver)
    record_topics: set[str] = field(default_factory=set)
    record_exclude: set[str] = field(default_factory=set)  # node outputs never published here (unused joints)
    world_elements: list[ET.Element] = field(default_factory=list)  # e.g. actors, appended to <world>
    spherical_coordinates: tuple[float, float, float] | None = None  # lat deg, lon deg, alt m (ENU origin)
    ardupilot: bool = False
    external_models: set[str] = field(default_factory=set)  # model:// URIs from other packages (ardupilot_gazebo)
    _headless: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def iterations(self) -> int:
        """Physics steps the world runs: the scenario's duration plus the start-up slack."""
        return int(math.ceil((self.scenario.duration_s + self.startup_slack_s) / self.physics_step_s - 1e-9))

    def headless_simulator(self, name: str) -> Any:
        """The headless simulator ``name`` of this scenario, built exactly as the runner builds it (once).

        Exporters read geometry from it (e.g. a compiled MuJoCo model) instead of re-deriving it, so a
        change in the simulator reaches the twin without a matching change here.
        """
        return headless_simulator(self.scenario, name, self._headless)

    def model_name(self, part: str) -> str:
        """A model folder name unique to this scenario (scenario parameters differ between scenarios)."""
        return f"{self.scenario.name}_{part}"

    def add_model(self, model: Model) -> Model:
        """Register a model (names must be unique)."""
        if model.name in self.models:
            raise TwinError(f"scenario {self.scenario.name}: model {model.name} added twice")
        self.models[model.name] = model
        return model

    def add_sensor(self, result: SensorResult) -> None:
        """Collect a sensor's bridges, world systems and notes."""
        self.bridges.extend(result.bridges)
        self.systems.update(result.systems)
        self.notes.extend(result.notes)
        for b in result.bridges:
            self.record_topics.add(b.ros_topic)

    def add_bridge(self, entry: BridgeEntry) -> None:
        """A bridge not tied to a sensor (drive commands, odometry, joint states, TF)."""
        self.bridges.append(entry)
        self.record_topics.add(entry.ros_topic)

    def add_command_split(self, name: str, commands: str, outputs: Sequence[str], **params: Any) -> None:
        """A ``joint_command_split`` node ``name``: the forward-controller array on ``commands``, element *i* to
        ``outputs[i]`` (``expected_size`` is their number; ``params`` are its other parameters). Its outputs
        beyond them are never published, so they are left out of the recording."""
        if not 0 < len(outputs) <= MAX_JOINTS:
            raise TwinError(f"{name}: 1..{MAX_JOINTS} joint command outputs, got {len(outputs)}")
        self.nodes.append(NodeEntry(
            node="joint_command_split", name=name, params_file="config/joint_command_split.yaml",
            params={"expected_size": len(outputs), **params},
            remap={"commands": commands, **{output_topic(i): topic for i, topic in enumerate(outputs)}}))
        self.record_exclude.update(f"/{output_topic(i)}" for i in range(len(outputs), MAX_JOINTS))


def headless_simulator(scenario: Scenario, name: str, cache: dict[str, Any] | None = None) -> Any:
    """Simulator ``name`` of ``scenario`` as the headless runner builds it (nodes and simulators, no stepping)."""
    from sanqin.runtime.runner import build_graph

    cache = {} if cache is None else cache
    if "sims" not in cache:
        _graph, sims, _configs = build_graph(scenario)
        cache["sims"] = dict(sims)
    if name not in cache["sims"]:
        raise TwinError(f"scenario {scenario.name} has no simulator {name!r}")
    return cache["sims"][name]


# --- SDF building blocks shared by the exporters ------------------------------------------------------


def new_model(name: str, *, static: bool = False) -> tuple[ET.Element, ET.Element]:
    """(``<sdf>`` root, ``<model>``) of a new model."""
    root = sdf_root()
    model = el(root, "model", name=name)
    el(model, "static", static)
    return root, model


def box_inertia(mass_kg: float, size_m: Sequence[float]) -> tuple[float, float, float]:
    """Principal moments (kg·m²) of a solid box."""
    x, y, z = size_m
    return (mass_kg * (y * y + z * z) / 12, mass_kg * (x * x + z * z) / 12, mass_kg * (x * x + y * y) / 12)


def cylinder_inertia(mass_kg: float, radius_m: float, length_m: float) -> tuple[float, float, float]:
    """Principal moments (kg·m²) of a solid cylinder along z."""
    side = mass_kg * (3 * radius_m**2 + length_m**2) / 12
    return side, side, mass_kg * radius_m**2 / 2


def inertial(link: ET.Element, mass_kg: float, moments: Sequence[float], xyz: Sequence[float] = (0, 0, 0),
             rpy: Sequence[float] = (0, 0, 0), products: Sequence[float] = (0.0, 0.0, 0.0)) -> None:
    """``<inertial>``: mass, centre-of-mass pose and inertia tensor (principal or full)."""
    if mass_kg <= 0 or min(moments) < 0:
        raise TwinError(f"link {link.get('name')}: mass must be > 0 and inertia moments >= 0")
    node = el(link, "inertial")
    el(node, "pose", pose(xyz, rpy))
    el(node, "mass", mass_kg)
    ixx, iyy, izz = moments
    ixy, ixz, iyz = products
    fields(el(node, "inertia"), {"ixx": ixx, "ixy": ixy, "ixz": ixz, "iyy": iyy, "iyz": iyz, "izz": izz})


def geometry(parent: ET.Element, kind: str, **dims: Any) -> None:
    """``<geometry>`` with one shape: box(size), cylinder(radius, length), sphere(radius),
    capsule(radius, length), plane(normal, size), mesh(uri)."""
    g = el(parent, "geometry")
    shape = el(g, kind)
    fields(shape, dims)


def material(parent: ET.Element, rgba: Sequence[float]) -> None:
    """A plain PBR-free material (ambient = diffuse = rgba)."""
    m = el(parent, "material")
    el(m, "ambient", list(rgba))
    el(m, "diffuse", list(rgba))
    el(m, "specular", [0.1, 0.1, 0.1, 1.0])


def visual_and_collision(link: ET.Element, name: str, kind: str, dims: dict[str, Any], *,
                         xyz: Sequence[float] = (0, 0, 0), rpy: Sequence[float] = (0, 0, 0),
                         rgba: Sequence[float] = (0.6, 0.6, 0.6, 1.0), laser_retro: float | None = None,
                         collision: bool = True, visual: bool = True, mu: float | None = None) -> None:
    """A visual (with material and LiDAR retro-reflectivity) and a collision of the same shape."""
    if visual:
        v = el(link, "visual", name=f"{name}_visual")
        el(v, "pose", pose(xyz, rpy))
        geometry(v, kind, **dims)
        material(v, rgba)
        if laser_retro is not None:
            el(v, "laser_retro", laser_retro)
    if collision:
        c = el(link, "collision", name=f"{name}_collision")
        el(c, "pose", pose(xyz, rpy))
        geometry(c, kind, **dims)
        if mu is not None:
            fr = el(el(c, "surface"), "friction")
            fields(el(fr, "ode"), {"mu": mu, "mu2": mu})


def model_config(model: Model) -> str:
    """The ``model.config`` text of a model folder."""
    root = el(None, "model")
    el(root, "name", model.name)
    el(root, "version", "1.0")
    el(root, "sdf", "model.sdf", version=model.sdf.get("version", ""))
    author = el(root, "author")
    el(author, "name", "Sanqin (generated by sanqin gazebo generate)")
    el(root, "description", model.description)
    ET.indent(root, space="  ")
    return '<?xml version="1.0"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
