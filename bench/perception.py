"""Perception figures: obstacle pipeline and odometry speed and accuracy, with baselines measured in the same run.

1. Obstacle pipeline on simulated 120,000-point scans of an industrial bay (people walking, pallets, walls):
   frames per second of :class:`sanqin.perception.obstacles.ObstaclePipeline` (downsample, ground, clusters,
   boxes, tracking) on one core, against a straightforward Open3D pipeline on the same scans
   (``voxel_down_sample`` + ``segment_plane`` + ``cluster_dbscan``); ground segmentation against
   Patchwork++ (``pypatchworkpp``) where it is installed, with ground-label accuracy from the simulator's
   ground truth; object recall of both pipelines.
2. Odometry on simulated 64,000-point scans of the 200 m cable tunnel with wheel encoders (1 % long) and an
   IMU: frames per second and drift (final position error / distance) of the fused odometry, of our
   LiDAR-only mode and of KISS-ICP (``kiss-icp``) where it is installed.

Run: ``.venv/bin/python bench/perception.py`` (``--quick`` for a shorter tunnel). One core: the script
pins OpenMP/BLAS threads to 1 before importing numpy and Open3D (and KISS-ICP to one thread), and rates
are frames per CPU-second of this process (``time.process_time``), which other load on a shared machine
does not inflate; the obstacle figure also gives the wall-clock rate. The last line states the headline.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import open3d as o3d  # noqa: E402
from _common import cpu_model  # noqa: E402
from scipy.spatial.transform import Rotation  # noqa: E402

from sanqin.common.types import Pose  # noqa: E402
from sanqin.perception.obstacles import ObstaclePipeline, ObstaclePipelineConfig  # noqa: E402
from sanqin.perception.odometry import LidarOdometry, OdometryConfig  # noqa: E402
from sanqin.simulation.lidar import LidarConfig, LidarScene, LidarSimulator, pose_to_matrix  # noqa: E402
from sanqin.simulation.worlds.tunnel import TunnelConfig, build_tunnel  # noqa: E402

G = 9.80665
REST_S = 2.0  # the tunnel robot stands still first (IMU bias at rest), then drives at constant speed


def machine() -> str:
    """One line describing the machine."""
    return (f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs ({cpu_model()}), "
            f"load avg {os.getloadavg()[0]:.2f}, 1 thread used")


# --- 1. obstacles -------------------------------------------------------------------------------------------
def _box(center, size, yaw=0.0):
    m = o3d.geometry.TriangleMesh.create_box(*size)
    m.translate((-size[0] / 2, -size[1] / 2, -size[2] / 2))
    m.rotate(Rotation.from_euler("z", yaw).as_matrix(), center=(0, 0, 0))
    m.translate(tuple(center))
    return m


PALLETS = [(8.0, -3.0, 0.3), (12.0, 5.0, -0.5), (-6.0, -4.0, 0.0), (18.0, -6.0, 1.2), (-12.0, 8.0, 0.4)]


def _bay_static():
    """Floor, walls, roof and pallet stacks of a 60 m × 40 m bay."""
    static = _box((0, 0, -0.05), (60, 40, 0.1))
    walls = (((30, 0, 4), (0.3, 40, 8)), ((-30, 0, 4), (0.3, 40, 8)), ((0, 20, 4), (60, 0.3, 8)),
             ((0, -20, 4), (60, 0.3, 8)), ((0, 0, 8.1), (60, 40, 0.2)))  # walls and the roof
    for c, s in walls:
        static += _box(c, s)
    for x, y, yaw in PALLETS:
        static += _box((x, y, 0.6), (1.2, 1.0, 1.2), yaw)
    return static


def bay_scans(n: int, seed: int = 0):
    """n scans (120k points each) of the bay with people walking; returns (scans, objects per scan)."""
    static = _bay_static()
    pallets = PALLETS
    cfg = LidarConfig(pattern="uniform", channels=64, vertical_fov_min_deg=-25.0, vertical_fov_max_deg=15.0,
                      horizontal_resolution_deg=0.192, mount_xyz_m=(0.0, 0.0, 1.0), max_range_m=80.0,
                      motion_distortion=False, dropout_probability=0.0)
    sim = LidarSimulator(cfg, LidarScene(static), np.random.default_rng(seed))
    scans, objects = [], []
    for k in range(n):
        t = 0.1 * k
        people = [(5.0, 3.0), (-4.0, 6.0), (10.0, -8.0 + 1.2 * t), (15.0 - 1.0 * t, 4.0), (-10.0 + 1.4 * t, -10.0)]
        mesh = static
        for x, y in people:
            mesh = mesh + _box((x, y, 0.875), (0.5, 0.4, 1.75))
        sim.scene = LidarScene(mesh)
        scans.append(sim.scan(Pose(), t).points)
        objects.append([(x, y) for x, y, _ in pallets] + people)
    return scans, objects


def _recall(centres: np.ndarray, objects: list[tuple[float, float]], max_range: float = 25.0) -> tuple[int, int]:
    found = total = 0
    for x, y in objects:
        if np.hypot(x, y) > max_range:
            continue
        total += 1
        if len(centres) and np.min(np.hypot(centres[:, 0] - x, centres[:, 1] - y)) < 1.0:
            found += 1
    return found, total


def open3d_baseline(points: np.ndarray) -> np.ndarray:
    """voxel_down_sample + segment_plane + cluster_dbscan; returns cluster centres (x, y)."""
    pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points.astype(np.float64)))
    pcd = pcd.voxel_down_sample(0.1)
    _, inliers = pcd.segment_plane(distance_threshold=0.15, ransac_n=3, num_iterations=100)
    obst = pcd.select_by_index(inliers, invert=True)
    labels = np.asarray(obst.cluster_dbscan(eps=0.35, min_points=5))
    pts = np.asarray(obst.points)
    if labels.size == 0 or labels.max() < 0:
        return np.zeros((0, 2))
    centres = []
    for k in range(labels.max() + 1):
        c = pts[labels == k]
        ext = np.ptp(c, axis=0)
        if 0.15 < ext[2] < 4.0 and max(ext[0], ext[1]) < 8.0:  # the same size rules as ours
            centres.append(0.5 * (c.min(0) + c.max(0))[:2])
    return np.array(centres).reshape(-1, 2)


def bench_obstacles(n_scans: int) -> dict[str, float]:
    """Obstacle pipeline vs Open3D baseline vs Patchwork++ ground on the same 120k-point scans."""
    scans, objects = bay_scans(n_scans)
    npts = float(np.mean([len(s) for s in scans]))
    print(f"obstacles: {n_scans} simulated bay scans, {npts:,.0f} points each")
    pipe = ObstaclePipeline(ObstaclePipelineConfig(
        ground=ObstaclePipelineConfig().ground.__class__(sensor_height_m=1.0)))
    pipe.process(scans[0], 0.0)  # warm-up (imports, caches)
    c0 = time.process_time()
    t0 = time.perf_counter()
    ours_found = ours_total = 0
    stage: dict[str, float] = {}
    for k, pts in enumerate(scans):
        fr = pipe.process(pts, 0.1 * k)
        for name, v in fr.timings_s.items():
            stage[name] = stage.get(name, 0.0) + v
        c = np.array([d.center_m[:2] for d in fr.detections]).reshape(-1, 2)
        f, t = _recall(c, objects[k])
        ours_found, ours_total = ours_found + f, ours_total + t
    ours_s = (time.perf_counter() - t0) / n_scans
    ours_cpu = (time.process_time() - c0) / n_scans
    open3d_baseline(scans[0])
    c0 = time.process_time()
    t0 = time.perf_counter()
    base_found = base_total = 0
    for k, pts in enumerate(scans):
        f, t = _recall(open3d_baseline(pts), objects[k])
        base_found, base_total = base_found + f, base_total + t
    base_s = (time.perf_counter() - t0) / n_scans
    base_cpu = (time.process_time() - c0) / n_scans
    print(f"  ours:     {1 / ours_cpu:7.1f} Hz per CPU-second, {1 / ours_s:7.1f} Hz wall "
          f"({1000 * ours_s:6.1f} ms/scan; "
          + ", ".join(f"{k} {1000 * v / n_scans:.1f}" for k, v in stage.items())
          + f" ms), object recall {ours_found}/{ours_total}")
    print(f"  Open3D voxel+RANSAC plane+DBSCAN: {1 / base_cpu:7.1f} Hz per CPU-second, {1 / base_s:7.1f} Hz wall "
          f"({1000 * base_s:6.1f} ms/scan), object recall {base_found}/{base_total}")
    print(f"  ratio ours / Open3D baseline: {base_cpu / ours_cpu:.2f}x (CPU time), {base_s / ours_s:.2f}x (wall)")
    out = {"ours_hz": 1 / ours_cpu, "open3d_hz": 1 / base_cpu, "ratio": base_cpu / ours_cpu, "points": npts,
           "ours_wall_hz": 1 / ours_s}
    out.update(bench_ground(scans, pipe))
    return out


def bench_ground(scans: list[np.ndarray], pipe: ObstaclePipeline) -> dict[str, float]:
    """Our zone-model ground segmentation vs Patchwork++ on the same (raw) scans; accuracy vs the floor truth."""
    truth = [p[:, 2] < -1.0 + 0.05 for p in scans]  # sensor 1 m above a flat floor: returns on the floor
    t0 = time.process_time()
    ours = [pipe.ground.segment(p).ground for p in scans]
    ours_s = (time.process_time() - t0) / len(scans)
    acc = float(np.mean([np.mean(g == t) for g, t in zip(ours, truth)]))
    print(f"  ground, ours (raw scan): {1000 * ours_s:6.1f} CPU-ms/scan, label accuracy {100 * acc:.2f} %")
    out = {"ground_ours_ms": 1000 * ours_s, "ground_ours_acc": acc}
    try:
        import pypatchworkpp
    except ImportError:
        print("  Patchwork++ (pypatchworkpp) not installed: skipped")
        return out
    params = pypatchworkpp.Parameters()
    params.sensor_height = 1.0
    params.min_range = 0.5  # as ours: the default 2.7 m leaves the floor near the robot unlabelled
    params.max_range = 60.0
    params.verbose = False
    pw = pypatchworkpp.patchworkpp(params)
    t0 = time.process_time()
    accs = []
    for p, t in zip(scans, truth):
        pw.estimateGround(np.hstack([p, np.zeros((len(p), 1), np.float32)]).astype(np.float64))
        g = np.zeros(len(p), bool)
        g[np.asarray(pw.getGroundIndices(), dtype=np.int64)] = True
        accs.append(np.mean(g == t))
    pw_s = (time.process_time() - t0) / len(scans)
    print(f"  ground, Patchwork++:     {1000 * pw_s:6.1f} CPU-ms/scan, label accuracy {100 * np.mean(accs):.2f} %")
    out.update({"ground_patchwork_ms": 1000 * pw_s, "ground_patchwork_acc": float(np.mean(accs))})
    return out


# --- 2. odometry ----------------------------------------------------------------------------------------------
def _drive(sim: LidarSimulator, pose, n: int, speed_at, seed: int):
    """(t, points, per-point sweep times, imu samples, wheel samples, true pose, start pose) per 0.1 s sweep."""
    rng = np.random.default_rng(seed + 1)
    bias = np.array([0.002, -0.0015, 0.003])
    for k in range(1, n + 1):
        t = 0.1 * k
        imu, wheel = [], []
        for j in range(10):
            ti = t - 0.1 + 0.01 * (j + 1)
            h = 0.01
            r0, r1 = (Rotation.from_quat(pose(ti + d).orientation_xyzw) for d in (-h, h))
            omega = (r0.inv() * r1).as_rotvec() / (2 * h)
            p = [pose(ti + d).position_m for d in (-h, 0, h)]
            acc = (p[2] - 2 * p[1] + p[0]) / h**2
            f = Rotation.from_quat(pose(ti).orientation_xyzw).inv().apply(acc + [0, 0, G])
            imu.append((ti, omega + bias + rng.normal(0, 0.003, 3), f + rng.normal(0, 0.05, 3)))
            if j % 2 == 1:
                v = speed_at(ti)
                noise = (rng.normal(0, 0.02), rng.normal(0, 0.02)) if v > 0 else (0.0, 0.0)
                wheel.append((ti, v * 1.01 + noise[0], omega[2] + noise[1]))
        cloud = sim.scan(pose(t), t, pose(t - 0.1))
        az = np.arctan2(cloud.points[:, 1], cloud.points[:, 0])
        times = np.mod(az + np.pi, 2 * np.pi) / (2 * np.pi)
        yield t, cloud.points, times, imu, wheel, pose_to_matrix(pose(t)), pose_to_matrix(pose(0.0))


def _distance(t: float, speed: float, accel_s: float = 1.0) -> float:
    """Path length at ``t``: stand still for REST_S, reach ``speed`` in ``accel_s`` (no infinite jerk), cruise."""
    tm = max(t - REST_S, 0.0)
    if tm < accel_s:
        return speed * tm * tm / (2 * accel_s)
    return speed * (tm - accel_s / 2)


def _speed(t: float, speed: float, accel_s: float = 1.0) -> float:
    tm = max(t - REST_S, 0.0)
    return speed * min(tm / accel_s, 1.0)


def _lidar_64k() -> LidarConfig:
    return LidarConfig(pattern="uniform", channels=32, vertical_fov_min_deg=-25.0, vertical_fov_max_deg=15.0,
                       horizontal_resolution_deg=0.18, mount_xyz_m=(0.2, 0.0, 0.75), max_range_m=60.0)


def tunnel_sequence(length_m: float, speed: float, seed: int = 1):
    """A drive along the 200 m tunnel (a 5 % ramp with a 20° bend): stand still, then constant speed."""
    world = build_tunnel(TunnelConfig(length_m=200.0, bend_start_m=(112.0,), bend_length_m=(20.0,),
                                      bend_angle_deg=(-20.0,)))
    sim = LidarSimulator(_lidar_64k(), LidarScene(world.mesh, world.triangle_reflectivity()),
                         np.random.default_rng(seed))
    s0 = 3.0

    def pose(t):
        s = s0 + _distance(t, speed)
        q = Rotation.from_euler("ZY", [float(world.heading(s)), -float(np.arctan(world.grade(s)))]).as_quat()
        return Pose(world.to_world(s, 0.0, 0.0), q)

    n = int((length_m / speed + REST_S + 0.5) / 0.1)
    yield from _drive(sim, pose, n, lambda t: _speed(t, speed), seed)


def bay_sequence(length_m: float, speed: float, seed: int = 2):
    """A drive through the industrial bay (walls, roof, pallets, people standing) on a 40 m-radius arc."""
    mesh = _bay_static()
    for x, y in ((5.0, 3.0), (-4.0, 6.0), (10.0, -8.0), (-10.0, -10.0)):
        mesh += _box((x, y, 0.875), (0.5, 0.4, 1.75))
    sim = LidarSimulator(_lidar_64k(), LidarScene(mesh), np.random.default_rng(seed))
    radius = 40.0

    def pose(t):
        th = _distance(t, speed) / radius
        xy = (-20.0 + radius * np.sin(th), -12.0 + radius * (1.0 - np.cos(th)))
        return Pose([xy[0], xy[1], 0.0], Rotation.from_euler("z", th).as_quat())

    n = int((length_m / speed + REST_S + 0.5) / 0.1)
    yield from _drive(sim, pose, n, lambda t: _speed(t, speed), seed)


def bench_odometry(sequence, title: str) -> dict[str, float]:
    """Fused, LiDAR-only and KISS-ICP odometry on the same 64k-point sequence."""
    fused = LidarOdometry(OdometryConfig(mount_xyz_m=(0.2, 0.0, 0.75)))
    icp = LidarOdometry(OdometryConfig(mode="icp", mount_xyz_m=(0.2, 0.0, 0.75)))
    kiss = None
    try:
        from kiss_icp.config import KISSConfig
        from kiss_icp.kiss_icp import KissICP

        kc = KISSConfig()
        kc.data.max_range = 60.0
        kc.data.min_range = 1.0
        kc.data.deskew = True
        kc.mapping.voxel_size = 0.6
        kc.registration.max_num_threads = 1
        kiss = KissICP(kc)
    except ImportError:
        print("  KISS-ICP (kiss-icp) not installed: skipped")
    mount = np.eye(4)
    mount[:3, 3] = (0.2, 0.0, 0.75)
    times = {"fused": 0.0, "icp": 0.0, "kiss": 0.0}  # CPU seconds (one thread; robust to other load)
    final: dict[str, np.ndarray] = {}
    npts = []
    truth_rel = np.eye(4)
    n = 0
    path_m = 0.0
    for t, pts, ptimes, imu, wheel, truth, start in sequence:
        npts.append(len(pts))
        for ti, g, a in imu:
            fused.imu(g, a, ti)
        for ti, v, w in wheel:
            fused.wheel(v, w, ti)
        t0 = time.process_time()
        fused.scan(pts, t)
        times["fused"] += time.process_time() - t0
        t0 = time.process_time()
        icp.scan(pts, t)
        times["icp"] += time.process_time() - t0
        if kiss is not None:
            t0 = time.process_time()
            kiss.register_frame(pts.astype(np.float64), ptimes)
            times["kiss"] += time.process_time() - t0
            final["kiss"] = kiss.last_pose @ np.linalg.inv(mount)  # lidar → base_link
        prev = truth_rel
        truth_rel = np.linalg.inv(start) @ truth
        path_m += float(np.linalg.norm(truth_rel[:3, 3] - prev[:3, 3]))
        n += 1
    final["fused"] = fused.pose()
    final["icp"] = icp.pose()
    dist = path_m
    print(f"odometry, {title}: {n} simulated scans, {np.mean(npts):,.0f} points each, {dist:.0f} m, "
          "wheels 1 % long, gyro bias 0.003 rad/s")
    out: dict[str, float] = {"points": float(np.mean(npts)), "distance_m": dist}
    for name, label in (("fused", "ours, wheel+IMU+ICP"), ("icp", "ours, LiDAR only"), ("kiss", "KISS-ICP")):
        if name not in final:
            continue
        # KISS-ICP starts at identity in the lidar frame: compare its motion of base_link relative to the start.
        est = final[name] if name != "kiss" else mount @ final[name]
        err = float(np.linalg.norm(est[:3, 3] - truth_rel[:3, 3]))
        hz = n / times[name] if times[name] > 0 else float("nan")
        out[f"{name}_hz"] = hz
        out[f"{name}_drift_pct"] = 100 * err / dist
        print(f"  {label:22s} {hz:6.1f} Hz per CPU-second ({1000 / hz:6.1f} ms/scan), final error {err:6.2f} m = "
              f"{100 * err / dist:6.2f} % of distance")
    return out


def main() -> None:
    """Run both figures and print the headline."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="10 obstacle scans and a 60 m tunnel")
    args = ap.parse_args()
    print(machine())
    ob = bench_obstacles(10 if args.quick else 30)
    od = bench_odometry(tunnel_sequence(60.0 if args.quick else 194.0, 2.0), "200 m cable tunnel")
    bay = bench_odometry(bay_sequence(12.0 if args.quick else 24.0, 2.0), "industrial bay (not degenerate)")
    kiss = f", KISS-ICP {od['kiss_drift_pct']:.2f} %" if "kiss_drift_pct" in od else ""
    kiss_bay = f", KISS-ICP {bay['kiss_drift_pct']:.2f} %" if "kiss_drift_pct" in bay else ""
    print(
        f"HEADLINE: obstacle pipeline {ob['ours_hz']:.0f} Hz (CPU time) on {ob['points'] / 1000:.0f}k-point scans, "
        "one core "
        f"({ob['ratio']:.1f}x the Open3D voxel+plane+DBSCAN baseline at {ob['open3d_hz']:.1f} Hz); odometry "
        f"{od['fused_hz']:.0f} Hz on {od['points']/1000:.0f}k-point scans, drift over {od['distance_m']:.0f} m of "
        f"tunnel: fused {od['fused_drift_pct']:.2f} %, LiDAR-only {od['icp_drift_pct']:.1f} %{kiss}; "
        f"bay: fused {bay['fused_drift_pct']:.2f} %, LiDAR-only {bay['icp_drift_pct']:.2f} %{kiss_bay}"
    )


if __name__ == "__main__":
    main()
