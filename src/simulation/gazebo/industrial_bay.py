"""Gazebo twin of :class:`sanqin.simulation.industrial_bay.IndustrialBaySim`: the bay, its people, the LiDAR base.

Geometry is the headless scene's own boxes as SDF primitives: the floor slab, the four perimeter walls,
the pallet stacks and the standing people (one static model), with the same centres, sizes and yaws.
The walking people are actors whose trajectory animation reproduces the headless walk exactly (back
and forth on their segment at their speed, facing the way they walk, from the same phase at t = 0);
Gazebo renders an actor's link visuals, so the LiDAR sees them (trajectory-only actors: gz-sim ≥ 7.5,
Harmonic included).

The robot is a mecanum base (``MecanumDrive``, roller friction) with the scenario's LiDAR; a
``path_driver`` drives it along the headless straight line at ``robot_speed_m_s``; ground truth is on the
plugin's ``odom_topic`` and ``/tf``, as headless.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sanqin.runtime.scenario import NodeEntry, SimulatorEntry
from sanqin.simulation.gazebo.robots import WheeledRobot, wheeled_robot
from sanqin.simulation.gazebo.sdf import el, fields, pose
from sanqin.simulation.gazebo.twin import Model, Placement, Spawn, Twin, new_model, visual_and_collision

#: Base body (m, base_link on the floor): below every LiDAR beam of a sensor mounted 1 m up (headless has none).
BODY = ((-0.45, -0.3, 0.0), (0.45, 0.3, 0.35))
WHEELBASE_M = 0.6
COLOURS = {"floor": (0.55, 0.55, 0.55, 1.0), "wall": (0.75, 0.75, 0.7, 1.0), "pallet": (0.6, 0.45, 0.25, 1.0),
           "person": (0.8, 0.3, 0.3, 1.0)}


def export(config: Any, entry: SimulatorEntry, twin: Twin) -> None:
    """Add the bay, the walkers, the mecanum base with its LiDAR and its driver to ``twin``."""
    retro = config.lidar.intensity_scale * config.lidar.default_reflectivity
    objects = twin.headless_simulator(entry.name).objects  # the plugin's own ground truth, t → objects
    _bay_model(twin, config, objects(0.0), retro)
    for i, obj in enumerate(o for o in objects(0.0) if o.kind == "walker"):
        twin.world_elements.append(_walker(config, i, obj, retro))
    spec = WheeledRobot(part="base", body_min_m=BODY[0], body_max_m=BODY[1], wheelbase_m=WHEELBASE_M,
                        drive="mecanum", body_mass_kg=120.0, odom_topic=config.odom_topic,
                        odom_rate_hz=config.odom_rate_hz, body_seen_by_lidar=True)
    robot = wheeled_robot(twin, spec, config.lidar, config.points_topic,
                          f"Mecanum base with a LiDAR of scenario {twin.scenario.name}")
    x0, y0 = config.robot_start_xy
    twin.spawns.append(Spawn(robot.name, "base", (x0, y0, 0.0)))
    end = x0 + config.robot_speed_m_s * twin.scenario.duration_s + 10.0
    twin.nodes.append(NodeEntry(
        node="path_driver", name="path_driver", params_file="config/path_driver.yaml",
        params={"path_xy_m": [float(x0), float(y0), float(round(end, 4)), float(y0)],
                "speed_m_s": config.robot_speed_m_s, "lookahead_m": 1.0},
        remap={"odom": config.odom_topic, "cmd_vel": "/cmd_vel"},
    ))
    twin.record_topics.add(config.obstacles_topic)
    twin.notes.append("the headless base moves kinematically from t = 0; here path_driver drives the mecanum base "
                      "along the same line and it accelerates from rest")
    twin.notes.append("walkers are trajectory-animated actors: they pass through the robot instead of colliding")


def _bay_model(twin: Twin, config: Any, objects: list[Any], retro: float) -> Model:
    name = twin.model_name("bay")
    root, model = new_model(name, static=True)
    link = el(model, "link", name="bay")
    lx, ly, h = config.bay_length_m, config.bay_width_m, config.wall_height_m
    boxes = [("floor", (0.0, 0.0, -0.05), (lx, ly, 0.1), 0.0, "floor"),
             ("wall_east", (lx / 2, 0.0, h / 2), (0.3, ly, h), 0.0, "wall"),
             ("wall_west", (-lx / 2, 0.0, h / 2), (0.3, ly, h), 0.0, "wall"),
             ("wall_north", (0.0, ly / 2, h / 2), (lx, 0.3, h), 0.0, "wall"),
             ("wall_south", (0.0, -ly / 2, h / 2), (lx, 0.3, h), 0.0, "wall")]
    counts: dict[str, int] = {}
    for obj in objects:
        if obj.kind in ("pallet", "person"):
            k = counts[obj.kind] = counts.get(obj.kind, 0) + 1
            boxes.append((f"{obj.kind}_{k}", tuple(obj.center_m), tuple(obj.size_m), obj.yaw_rad, obj.kind))
    for part, centre, size, yaw, kind in boxes:
        visual_and_collision(link, part, "box", {"size": list(size)}, xyz=centre, rpy=(0, 0, yaw),
                             rgba=COLOURS[kind], laser_retro=retro)
    twin.placements.append(Placement(name, "bay"))
    header = (f"Industrial bay of scenario {twin.scenario.name}: {lx:g} m x {ly:g} m, walls {h:g} m, "
              f"{counts.get('pallet', 0)} pallet stacks, {counts.get('person', 0)} standing people "
              "(the headless scene's boxes).")
    return twin.add_model(Model(name, root, "Industrial bay (headless scene boxes)", {}, header))


def _walker(config: Any, index: int, obj: Any, retro: float) -> Any:
    """An actor walking back and forth like headless walker ``index`` (box body, trajectory animation)."""
    x0, y0, x1, y1, v = config.walkers[5 * index: 5 * index + 5]
    length = math.hypot(x1 - x0, y1 - y0)
    out_yaw = math.atan2(y1 - y0, x1 - x0)
    back_yaw = math.atan2(y0 - y1, x0 - x1)
    z = obj.size_m[2] / 2
    actor = el(None, "actor", name=f"walker_{index + 1}")
    link = el(actor, "link", name="body")
    visual_and_collision(link, "body", "box", {"size": list(obj.size_m)}, rgba=COLOURS["person"],
                         laser_retro=retro, collision=False)
    script = el(actor, "script")
    fields(script, {"loop": True, "delay_start": 0.0, "auto_start": True})
    traj = el(script, "trajectory", id="0", type="walk")
    t_turn, period, eps = length / v, 2 * length / v, 1e-3
    for t, (x, y), yaw in ((0.0, (x0, y0), out_yaw), (t_turn, (x1, y1), out_yaw),
                           (t_turn + eps, (x1, y1), back_yaw), (period - eps, (x0, y0), back_yaw),
                           (period, (x0, y0), out_yaw)):
        wp = el(traj, "waypoint")
        fields(wp, {"time": t, "pose": pose((x, y, z), (0, 0, yaw))})
    return actor


# --- scoring a recorded run ---------------------------------------------------------------------------


def score(config: Any, entry: SimulatorEntry, scenario: Any, bag: Any) -> dict[str, float]:
    """The plugin's metrics recomputed from a recorded run, with the plugin's own scoring code.

    For each raw sweep: the ground truth at its stamp (the plugin's ``objects``), the robot pose from the
    recorded ground-truth odometry and which objects are visible (≥ ``min_visible_points`` returns in
    their box); then every recorded obstacle table is scored exactly as the plugin scores it live.
    """
    from scipy.spatial.transform import Rotation

    from sanqin.msgs.errors import MessageError
    from sanqin.msgs.pointcloud import pointcloud2_to_cloud
    from sanqin.simulation.lidar import mount_matrix

    mount = mount_matrix(config.lidar)
    odom = [(m.header.stamp.sec + m.header.stamp.nanosec * 1e-9, m.pose.pose)
            for _, m in bag.messages(config.odom_topic)]
    stamps = np.array([t for t, _ in odom])
    from sanqin.simulation.gazebo.twin import headless_simulator

    scorer = headless_simulator(scenario, entry.name)  # fresh: its scoring state is empty
    for _, msg in bag.messages(config.points_topic):
        try:
            cloud = pointcloud2_to_cloud(msg)
        except MessageError:
            continue
        if not len(stamps):
            break
        t = cloud.stamp_s
        p = odom[int(np.argmin(np.abs(stamps - t)))][1]
        m = np.eye(4)
        m[:3, :3] = Rotation.from_quat([p.orientation.x, p.orientation.y, p.orientation.z, p.orientation.w]).as_matrix()
        m[:3, 3] = [p.position.x, p.position.y, p.position.z]
        wl = m @ mount
        pts = np.asarray(cloud.points, dtype=np.float64)
        pts = pts[np.isfinite(pts).all(axis=1)]
        world = pts @ wl[:3, :3].T + wl[:3, 3]
        objs = scorer.objects(t)
        visible = np.array([scorer._count_inside(world, o) >= config.min_visible_points for o in objs])
        scorer._pending.append((t, objs, visible, m[:3, 3].copy()))
    pending = scorer._pending
    for _, msg in bag.messages(config.obstacles_topic):
        scorer._pending = pending  # the plugin keeps the last 50 sweeps; a replay keeps them all
        scorer._on_obstacles(msg)
    return scorer.metrics()
