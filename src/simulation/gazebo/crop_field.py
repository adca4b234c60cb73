"""Gazebo twin of :class:`sanqin.simulation.crop_field.CropFieldSim`: a nadir camera over the crop field.

The field is the headless simulator's own leaf/soil texel pattern (the same seeded draw, read from the
simulator instance) as a two-colour PNG texture on a textured quad of the field's size (one texel per
``texel_m`` square, the headless leaf and soil colours), on a gravel-grey ground. The camera is carried
at ``altitude_m`` by a gravity-free body moved by ``VelocityControl``: ``path_driver`` flies it along the
headless passes at ``speed_m_s``; the camera looks straight down with the image top toward the nose and
the headless intrinsics (``f_px``, image size) and colour noise. ``OdometryPublisher`` gives the pose in the
``field`` frame on ``/field/odom``, as headless.

Scored by the plugin's own ``metrics`` with the last recorded ``/canopy_cover``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sanqin.runtime.scenario import NodeEntry, SimulatorEntry
from sanqin.simulation.gazebo import systems
from sanqin.simulation.gazebo.bridge import GZ_TO_ROS, ROS_TO_GZ, BridgeEntry
from sanqin.simulation.gazebo.mesh import obj_text
from sanqin.simulation.gazebo.sdf import el, fields
from sanqin.simulation.gazebo.sensors import camera
from sanqin.simulation.gazebo.texture import indexed_png
from sanqin.simulation.gazebo.twin import Model, Placement, Spawn, Twin, inertial, material, new_model

#: The headless renderer's colours (rgb8): soil, leaf; and the gravel around the field.
SOIL, LEAF, GRAVEL = (120, 90, 60), (60, 140, 50), (90, 90, 90)


def export(config: Any, entry: SimulatorEntry, twin: Twin) -> None:
    """Add the textured field, the camera carrier, its driver and the bridges to ``twin``."""
    sim = twin.headless_simulator(entry.name)
    _field(twin, config, sim.leaf)
    name = twin.model_name("drone")
    root, model = new_model(name)
    link = el(model, "link", name="base_link")
    el(link, "gravity", False)
    inertial(link, 5.0, (0.1, 0.1, 0.15))
    res = camera(link, name="camera", gz_topic=f"/model/{name}/camera/image", ros_image_topic="/camera/image",
                 ros_info_topic=None, frame_id="camera", width=config.width_px, height=config.height_px,
                 horizontal_fov_rad=2 * math.atan(config.width_px / 2 / config.f_px), rate_hz=config.rate_hz,
                 near_m=0.5, far_m=200.0, noise_stddev=config.color_noise / 255.0, rpy=(0.0, math.pi / 2, 0.0))
    twin.add_sensor(res)
    systems.velocity_control(model, f"/model/{name}/cmd_vel")
    systems.odometry_publisher(model, odom_topic=f"/model/{name}/odom", tf_topic=f"/model/{name}/tf",
                               rate_hz=20.0, frame_id="field", child_frame_id="base_link")
    twin.add_bridge(BridgeEntry("/cmd_vel", f"/model/{name}/cmd_vel", "geometry_msgs/msg/Twist", "gz.msgs.Twist",
                                ROS_TO_GZ))
    twin.add_bridge(BridgeEntry("/field/odom", f"/model/{name}/odom", "nav_msgs/msg/Odometry", "gz.msgs.Odometry",
                                GZ_TO_ROS))
    twin.add_model(Model(name, root, "Nadir camera carrier (gravity-free, VelocityControl)", {},
                         f"Camera carrier of scenario {twin.scenario.name}: {config.width_px}x{config.height_px} px, "
                         f"f = {config.f_px:g} px, nadir, image top toward the nose, at {config.altitude_m:g} m."))
    xyz, yaw = sim.pose_at(0.0)
    twin.spawns.append(Spawn(name, "drone", tuple(float(v) for v in xyz), (0.0, 0.0, float(yaw))))
    path = [float(v) for p in sim.waypoints for v in p]
    twin.nodes.append(NodeEntry(
        node="path_driver", name="path_driver", params_file="config/path_driver.yaml",
        params={"path_xy_m": path, "speed_m_s": config.speed_m_s, "lookahead_m": 2.0, "max_yaw_rate_rad_s": 3.0,
                 "goal_tolerance_m": 0.2},
        remap={"odom": "/field/odom", "cmd_vel": "/cmd_vel"}))
    twin.record_topics.update({config.cover_topic, config.prescription_topic})
    twin.notes.append("headless the drone turns on the spot at the pass ends; here path_driver flies round the turns")
    twin.notes.append("Gazebo renders the texture lit by the sun and filtered (a pixel covers about 1.2 texels at "
                      "12 m); headless samples the nearest texel in flat colours")


def _field(twin: Twin, config: Any, leaf: np.ndarray) -> Model:
    name = twin.model_name("field")
    root, model = new_model(name, static=True)
    link = el(model, "link", name="field")
    ny, nx = leaf.shape
    length, width = nx * config.texel_m, ny * config.texel_m
    verts = np.array([[0, 0, 0], [length, 0, 0], [length, width, 0], [0, width, 0]], dtype=np.float64)
    uv = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=np.float64)  # image top = north edge (v = 1)
    tris = np.array([[0, 1, 2], [0, 2, 3]])
    files: dict[str, str | bytes] = {
        "meshes/field.obj": obj_text(verts, tris, f"{name}_field", uv=uv),
        "materials/canopy.png": indexed_png(np.flipud(leaf).astype(np.uint8), [SOIL, LEAF]),
    }
    v = el(link, "visual", name="field_visual")
    el(el(el(v, "geometry"), "mesh"), "uri", f"model://{name}/meshes/field.obj")
    m = el(v, "material")
    fields(m, {"ambient": [1, 1, 1, 1], "diffuse": [1, 1, 1, 1], "specular": [0, 0, 0, 1]})
    el(el(el(m, "pbr"), "metal"), "albedo_map", f"model://{name}/materials/canopy.png")
    ground = el(link, "visual", name="gravel_visual")
    el(ground, "pose", f"{length / 2:g} {width / 2:g} -0.02 0 0 0")
    fields(el(el(ground, "geometry"), "plane"), {"normal": [0, 0, 1], "size": [length + 200.0, width + 200.0]})
    material(ground, tuple(c / 255 for c in GRAVEL) + (1.0,))
    twin.placements.append(Placement(name, "field"))
    header = (f"Crop field of scenario {twin.scenario.name}: {length:g} m x {width:g} m, {nx}x{ny} leaf/soil texels "
              f"of {config.texel_m:g} m (the headless draw), mean leaf fraction {leaf.mean():.3f}.")
    return twin.add_model(Model(name, root, "Crop field (headless canopy texture)", files, header))


def score(config: Any, entry: SimulatorEntry, scenario: Any, bag: Any) -> dict[str, float]:
    """The plugin's metrics: the last recorded cover grid against the same seeded truth, images counted."""
    from sanqin.simulation.gazebo.twin import headless_simulator

    sim = headless_simulator(scenario, entry.name)  # the same seeded leaf pattern, nothing scored yet
    for _, msg in bag.messages(config.cover_topic):
        sim._on_cover(msg)
    sim.images = sum(1 for _ in bag.messages("/camera/image"))
    sim.prescriptions = sum(1 for _ in bag.messages(config.prescription_topic))
    return sim.metrics()
