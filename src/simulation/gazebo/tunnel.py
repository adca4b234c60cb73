"""Gazebo twin of :class:`sanqin.simulation.tunnel_lidar.TunnelLidarSim`: the cable tunnel and the LiDAR robot.

Geometry: the tunnel is the headless world's own triangle mesh (:func:`build_tunnel` on the scenario's
``world`` config) written as one OBJ per material, used for both visuals and collisions, so the two
simulations raycast identical triangles; each material's ``laser_retro`` is ``intensity_scale ×
reflectivity``, the intensity the headless sensor returns at normal incidence.

Robot: ``base_link`` on the floor between the axles, as headless. Its visual body is exactly the LiDAR's
self box (so the same beams hit the body); four wheels (:mod:`.robots`) sit inside the
box footprint at ``±wheelbase_m/2`` and drive it skid-steer (``DiffDrive`` with two joints per side)
from ``/cmd_vel``. The LiDAR is a ``gpu_lidar`` built from the scenario's ``lidar`` config. Ground truth
comes from ``OdometryPublisher`` on the plugin's ``odom_topic`` and ``/tf``; ``base_link → lidar`` is
published on ``/tf_static`` by ``tf2_ros static_transform_publisher``, as the plugin does once.

The headless robot moves kinematically along the centre line (through its bends) at ``speed_m_s`` from
t = 0; here the twin adds a ``path_driver`` node that steers the robot along the same line at that
speed from the ground-truth odometry, and the wheels accelerate it from rest.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sanqin.runtime.scenario import NodeEntry, SimulatorEntry
from sanqin.simulation.gazebo.errors import TwinError
from sanqin.simulation.gazebo.mesh import obj_text, split_by_material
from sanqin.simulation.gazebo.robots import WheeledRobot, wheeled_robot
from sanqin.simulation.gazebo.sdf import el
from sanqin.simulation.gazebo.twin import (
    LaunchProcess,
    Model,
    Placement,
    Spawn,
    Twin,
    new_model,
    visual_and_collision,
)
from sanqin.simulation.worlds.tunnel import MATERIALS, build_tunnel

#: Display colour (RGBA) per tunnel material.
COLOURS: dict[str, tuple[float, float, float, float]] = {
    "concrete": (0.62, 0.62, 0.6, 1.0),
    "steel": (0.5, 0.52, 0.55, 1.0),
    "tray": (0.7, 0.72, 0.74, 1.0),
    "cable": (0.08, 0.08, 0.08, 1.0),
    "joint": (0.85, 0.45, 0.1, 1.0),
    "cart": (0.9, 0.75, 0.1, 1.0),
    "rubber": (0.05, 0.05, 0.05, 1.0),
}
DEFAULT_BODY = ((-0.5, -0.35, 0.0), (0.5, 0.35, 0.6))
PATH_STEP_M = 1.0
PATH_MARGIN_M = 10.0  # path beyond where the run ends, so the driver never stops early
DRIVER_LOOKAHEAD_M = 1.5


def export(config: Any, entry: SimulatorEntry, twin: Twin) -> None:
    """Add the tunnel, the robot with its LiDAR, the drive command and the bridges to ``twin``."""
    world = twin.headless_simulator(entry.name).world  # the very mesh the headless LiDAR raycasts
    tunnel_model(twin, world, config.lidar.intensity_scale)
    robot = _robot_model(twin, config)
    s0 = config.start_station_m
    half = config.wheelbase_m / 2
    z_rear, z_front = float(world.floor_z(s0 - half)), float(world.floor_z(s0 + half))
    pitch = -math.atan2(z_front - z_rear, 2 * half)
    twin.spawns.append(Spawn(robot.name, "robot", (s0, config.lateral_m, (z_rear + z_front) / 2), (0.0, pitch, 0.0)))
    lidar = config.lidar
    xyz, rpy = lidar.mount_xyz_m, lidar.mount_rpy_rad
    twin.processes.append(LaunchProcess(
        name="lidar_mount_tf", pkg="tf2_ros", exec="static_transform_publisher",
        args=(f"--x {xyz[0]:g} --y {xyz[1]:g} --z {xyz[2]:g} --roll {rpy[0]:g} --pitch {rpy[1]:g} --yaw {rpy[2]:g} "
              f"--frame-id {config.base_frame} --child-frame-id {lidar.frame_id}"),
        description=f"{config.base_frame} → {lidar.frame_id} on /tf_static (the plugin publishes it once)"))
    last = min(world.config.length_m - config.end_margin_m,
               config.start_station_m + config.speed_m_s * twin.scenario.duration_s + PATH_MARGIN_M)
    twin.nodes.append(path_driver(world, config.start_station_m, last, config.lateral_m, config.odom_topic,
                                  {"speed_m_s": config.speed_m_s, "lookahead_m": DRIVER_LOOKAHEAD_M}))
    twin.record_topics.update({config.filtered_topic, "/tf_static"})
    stop_s = (world.config.length_m - config.end_margin_m - s0) / config.speed_m_s if config.speed_m_s > 0 else 0.0
    if stop_s < twin.scenario.duration_s:
        twin.notes.append(f"the robot stops {config.end_margin_m:g} m before the end wall after {stop_s:.1f} s "
                          "(path end), as headless")
    twin.notes.append("the headless robot moves kinematically along the centre line at constant speed from t = 0; "
                      "here path_driver steers it along the same line (pure pursuit on ground-truth odometry) and "
                      "the wheels accelerate it from rest on the floor mesh")


def path_driver(world: Any, start_m: float, end_m: float, lateral_m: float, odom_topic: str,
                params: dict[str, Any]) -> NodeEntry:
    """A path_driver on the tunnel line at ``lateral_m`` from ``start_m`` to ``end_m`` (points 1 m apart)."""
    stations = np.append(np.arange(start_m, end_m, PATH_STEP_M), end_m)
    xy = [world.to_world(float(s), lateral_m)[:2] for s in stations]
    path = [float(round(v, 4)) for p in xy for v in p]
    return NodeEntry(node="path_driver", name="path_driver", params_file="config/path_driver.yaml",
                     params={"path_xy_m": path, **params}, remap={"odom": odom_topic, "cmd_vel": "/cmd_vel"})


def tunnel_model(twin: Twin, world: Any, intensity_scale: float) -> Model:
    """The tunnel mesh as a static model: one OBJ per material, laser_retro = intensity_scale × reflectivity."""
    name = twin.model_name("tunnel")
    root, model = new_model(name, static=True)
    link = el(model, "link", name="shell")
    parts = split_by_material(world.mesh, world.triangle_material, list(MATERIALS))
    files: dict[str, str] = {}
    for mat, (verts, tris) in parts.items():
        rel = f"meshes/{mat}.obj"
        files[rel] = obj_text(verts, tris, f"{name}_{mat}")
        visual_and_collision(link, mat, "mesh", {"uri": f"model://{name}/{rel}"},
                             rgba=COLOURS.get(mat, (0.6, 0.6, 0.6, 1.0)),
                             laser_retro=intensity_scale * MATERIALS[mat])
    cfg = world.config
    header = (f"Cable tunnel of scenario {twin.scenario.name}: {cfg.length_m:g} m x {cfg.width_m:g} m x "
              f"{cfg.height_m:g} m ({cfg.profile}), {world.triangles} triangles of the headless mesh in "
              f"{len(parts)} OBJ files (one per material).")
    twin.placements.append(Placement(name, "tunnel"))
    return twin.add_model(Model(name, root, "Cable tunnel (headless world mesh)", files, header))


def _robot_model(twin: Twin, config: Any) -> Model:
    lidar = config.lidar
    lo, hi = (lidar.self_box_min_m, lidar.self_box_max_m) if lidar.self_box_min_m else DEFAULT_BODY
    spec = WheeledRobot(part="robot", body_min_m=lo, body_max_m=hi, wheelbase_m=config.wheelbase_m, drive="diff",
                        base_frame=config.base_frame, odom_frame=config.odom_frame, odom_topic=config.odom_topic,
                        odom_rate_hz=config.odom_rate_hz, body_reflectivity=lidar.self_reflectivity,
                        body_seen_by_lidar=bool(lidar.self_box_min_m))
    return wheeled_robot(twin, spec, lidar, config.points_topic,
                         f"Tunnel inspection robot of scenario {twin.scenario.name} (body = the LiDAR self box)")


# --- scoring a recorded run ---------------------------------------------------------------------------


def _node_limits(config: Any, scenario: Any) -> Any:
    """The preprocessing node's config, loaded as the headless runner loads it."""
    from sanqin.runtime.params import load_node_config
    from sanqin.runtime.paths import resolve_data_path
    from sanqin.runtime.registry import get_node_spec

    for entry in scenario.nodes:
        if entry.name == config.preprocessor_node:
            base = scenario.path.parent if scenario.path else None
            params = resolve_data_path(entry.params_file, base) if entry.params_file else None
            return load_node_config(get_node_spec(entry.node).config, params, entry.name, entry.namespace,
                                    entry.params)
    raise TwinError(f"scenario {scenario.name} has no node {config.preprocessor_node!r} to score")


def _stamp_us(msg: Any) -> int:
    return int(msg.header.stamp.sec) * 1_000_000 + int(round(msg.header.stamp.nanosec / 1000))


def _ground_truth(bag: Any, topic: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(stamps s, positions, quaternions xyzw) of the ground-truth odometry in the bag."""
    rows = []
    for _, msg in bag.messages(topic):
        p, q = msg.pose.pose.position, msg.pose.pose.orientation
        rows.append((msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9, p.x, p.y, p.z, q.x, q.y, q.z, q.w))
    arr = np.asarray(rows, dtype=np.float64).reshape(-1, 8)
    _, first = np.unique(arr[:, 0], return_index=True)  # sorted, one row per stamp (Slerp needs increasing times)
    arr = arr[first]
    return arr[:, 0], arr[:, 1:4], arr[:, 4:8]


def score(config: Any, entry: SimulatorEntry, scenario: Any, bag: Any) -> dict[str, float]:
    """The plugin's metrics (:meth:`TunnelLidarSim.metrics` names) recomputed from a recorded run.

    Raw clouds may be organised with NaN/inf for beams without a return (Gazebo's gpu_lidar); only
    finite points count as returns. Latency is log time of the filtered cloud minus log time of the
    raw cloud with the same stamp (both on the simulation clock).
    """
    from scipy.spatial.transform import Rotation, Slerp

    from sanqin.msgs.errors import MessageError
    from sanqin.msgs.pointcloud import pointcloud2_to_cloud
    from sanqin.perception.voxel import occupancy_violations
    from sanqin.simulation.lidar import LidarScene, mount_matrix

    limits = _node_limits(config, scenario)
    lidar = config.lidar
    mount = mount_matrix(lidar)
    raw: dict[int, tuple[float, int]] = {}
    for t, msg in bag.messages(config.points_topic):
        try:
            cloud = pointcloud2_to_cloud(msg)
        except MessageError:
            continue
        raw[_stamp_us(msg)] = (t, int(np.count_nonzero(np.isfinite(np.asarray(cloud.points)).all(axis=1))))
    gt_t, gt_p, gt_q = _ground_truth(bag, config.odom_topic)
    world = build_tunnel(config.world)
    scene = LidarScene(world.mesh, world.triangle_reflectivity(), lidar.default_reflectivity)
    slerp = Slerp(gt_t, Rotation.from_quat(gt_q)) if len(gt_t) >= 2 else None
    c = dict.fromkeys(("malformed", "unknown_stamp", "wrong_frame", "nonfinite", "out_of_range", "crop",
                       "voxel", "body", "off_surface", "checked", "no_pose"), 0)
    n_out: list[int] = []
    n_in_matched: list[int] = []
    latencies: list[float] = []
    dists: list[np.ndarray] = []
    rf, crop, vox = limits.range_filter, limits.crop_box, limits.voxel
    tol = 1e-4
    for t, msg in bag.messages(config.filtered_topic):
        try:
            cloud = pointcloud2_to_cloud(msg)
        except MessageError:
            c["malformed"] += 1
            continue
        key = _stamp_us(msg)
        if key not in raw:
            c["unknown_stamp"] += 1
            continue
        if cloud.frame_id != lidar.frame_id:
            c["wrong_frame"] += 1
        latencies.append(t - raw[key][0])
        n_out.append(len(cloud))
        n_in_matched.append(raw[key][1])
        pts = np.asarray(cloud.points, dtype=np.float64)
        finite = np.isfinite(pts).all(axis=1)
        c["nonfinite"] += int(np.count_nonzero(~finite))
        pts = pts[finite]
        if not len(pts):
            continue
        c["checked"] += len(pts)
        r = np.linalg.norm(pts, axis=1)
        c["out_of_range"] += int(np.count_nonzero((r < rf.min_m - tol) | (r > rf.max_m + tol)))
        if crop.mode != "off":
            lo, hi = np.asarray(crop.min_m), np.asarray(crop.max_m)
            inside = np.all((pts > lo + tol) & (pts < hi - tol), axis=1)
            outside = np.any((pts < lo - tol) | (pts > hi + tol), axis=1)
            c["crop"] += int(np.count_nonzero(inside if crop.mode == "remove_inside" else outside))
        if vox.size_m > 0:
            c["voxel"] += occupancy_violations(np.asarray(cloud.points)[finite], vox.size_m)
        if lidar.self_box_min_m:
            base = pts @ mount[:3, :3].T + mount[:3, 3]
            lo_b, hi_b = np.asarray(lidar.self_box_min_m) - 0.05, np.asarray(lidar.self_box_max_m) + 0.05
            c["body"] += int(np.count_nonzero(np.all((base >= lo_b) & (base <= hi_b), axis=1)))
        stamp = key * 1e-6
        if slerp is None or not gt_t[0] - 1e-6 <= stamp <= gt_t[-1] + 1e-6:
            c["no_pose"] += 1
            continue
        s = float(np.clip(stamp, gt_t[0], gt_t[-1]))
        m = np.eye(4)
        m[:3, :3] = slerp([s]).as_matrix()[0]
        m[:3, 3] = [np.interp(s, gt_t, gt_p[:, i]) for i in range(3)]
        wl = m @ mount
        d = scene.distance(pts @ wl[:3, :3].T + wl[:3, 3])
        dists.append(d)
        c["off_surface"] += int(np.count_nonzero(d > config.surface_tolerance_m))
    nan = float("nan")
    n_in_all = np.array([n for _, n in raw.values()], dtype=float)
    n_o = np.array(n_out, dtype=float)
    dist = np.concatenate(dists) if dists else np.zeros(0)
    rays = lidar.columns * lidar.elevations_rad().size
    return {
        "frames_published": float(len(raw)),
        "frames_received": float(len(n_out)),
        "frames_lost": float(len(raw) - len(n_out)),
        "malformed_frames": float(c["malformed"]),
        "unknown_stamp_frames": float(c["unknown_stamp"]),
        "wrong_frame_frames": float(c["wrong_frame"]),
        "mean_points_in": float(n_in_all.mean()) if n_in_all.size else nan,
        "mean_points_out": float(n_o.mean()) if n_o.size else nan,
        "min_points_out": float(n_o.min()) if n_o.size else nan,
        "reduction_ratio": float(n_o.sum() / sum(n_in_matched)) if n_o.size and sum(n_in_matched) else nan,
        "nonfinite_points": float(c["nonfinite"]),
        "out_of_range_points": float(c["out_of_range"]),
        "crop_violations": float(c["crop"]),
        "voxel_violations": float(c["voxel"]),
        "body_points": float(c["body"]),
        "latency_mean_s": float(np.mean(latencies)) if latencies else nan,
        "latency_max_s": float(np.max(latencies)) if latencies else nan,
        "surface_dist_median_m": float(np.median(dist)) if dist.size else nan,
        "surface_dist_p95_m": float(np.percentile(dist, 95)) if dist.size else nan,
        "off_surface_fraction": float(c["off_surface"] / c["checked"]) if c["checked"] else nan,
        "frames_without_pose": float(c["no_pose"]),
        "lidar_return_fraction": float(n_in_all.sum() / (rays * n_in_all.size)) if n_in_all.size else nan,
        "distance_travelled_m": float(np.linalg.norm(gt_p[-1, :2] - gt_p[0, :2])) if len(gt_p) else nan,
        "world_triangles": float(world.triangles),
    }
