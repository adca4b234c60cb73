"""LiDAR preprocessing and simulated LiDAR speed, with Open3D's voxel_down_sample as the baseline in the same run.

Clouds: a real Velodyne scan (``/work/shared/data/lidar/velodyne_fast_gicp_pair``, ~69k points, skipped
if absent), a simulated VLP-32C-like scan in the cable tunnel (~28k points) and a 300k-point synthetic
cloud. For each: the voxel step alone (Sanqin's frame-fixed numpy grid vs Open3D ``voxel_down_sample``
with intensity carried in a colour channel, both at 0.1 m) and the whole ``preprocess_cloud`` pipeline
with the shipped params. Then the simulated LiDAR (rays per second) and the ``tunnel_lidar`` scenario's
real-time factor (without recording).

Run: ``.venv/bin/python bench/lidar_preprocess.py [--repeats 7] [--no-scenario]``. The last line is the
headline: the numpy grid's speedup over Open3D on the real scan and the pipeline time per frame.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
from _common import cpu_model

from sanqin.common.types import PointCloud, Pose
from sanqin.perception.preprocess import LidarPreprocessorConfig, preprocess_cloud
from sanqin.perception.voxel import voxel_downsample, voxel_downsample_open3d
from sanqin.runtime.params import load_node_config
from sanqin.simulation.lidar import LidarConfig, LidarScene, LidarSimulator
from sanqin.simulation.worlds.tunnel import TunnelConfig, build_tunnel

ROOT = Path(__file__).resolve().parents[1]
REAL = Path("/work/shared/data/lidar/velodyne_fast_gicp_pair/251370668.pcd")


def median_s(fn, repeats: int) -> float:
    fn()  # warm up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def clouds() -> dict[str, PointCloud]:
    out: dict[str, PointCloud] = {}
    if REAL.is_file():
        import open3d as o3d

        pcd = o3d.t.io.read_point_cloud(str(REAL))
        out["velodyne (real)"] = PointCloud(
            points=pcd.point.positions.numpy().astype(np.float32),
            intensity=pcd.point.intensity.numpy().reshape(-1).astype(np.float32),
        )
    world = build_tunnel(TunnelConfig())
    sim = LidarSimulator(LidarConfig(horizontal_resolution_deg=0.4, mount_xyz_m=(0.2, 0.0, 0.75)),
                         LidarScene(world.mesh, world.triangle_reflectivity()), np.random.default_rng(0))
    out["tunnel (simulated)"] = sim.scan(Pose(np.array([95.0, 0.0, 0.0])), 0.1)
    rng = np.random.default_rng(1)
    out["synthetic 300k"] = PointCloud(
        points=(rng.normal(size=(300_000, 3)) * [15, 15, 2]).astype(np.float32),
        intensity=rng.uniform(0, 100, 300_000).astype(np.float32),
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--no-scenario", action="store_true", help="skip the scenario real-time factor")
    args = ap.parse_args()
    print(f"machine: {cpu_model()}, {os.cpu_count()} cpus (shared with other jobs), "
          f"load avg {os.getloadavg()[0]:.2f}, python {platform.python_version()}")
    cfg = load_node_config(LidarPreprocessorConfig, ROOT / "config" / "lidar_preprocessor.yaml", "lidar_preprocessor")
    headline = ""
    print(f"{'cloud':<20} {'points':>8} {'o3d voxel ms':>13} {'numpy voxel ms':>15} {'speedup':>8} "
          f"{'pipeline ms':>12} {'out':>7}")
    for name, cloud in clouds().items():
        pts, inten = cloud.points, cloud.intensity
        t_o3d = median_s(lambda p=pts, i=inten: voxel_downsample_open3d(p, 0.1, i), args.repeats)
        t_np = median_s(lambda p=pts, i=inten: voxel_downsample(p, 0.1, i), args.repeats)
        rng = np.random.default_rng(0)
        t_pipe = median_s(lambda c=cloud, r=rng: preprocess_cloud(c, cfg, r), args.repeats)
        n_out = len(preprocess_cloud(cloud, cfg, rng)[0])
        print(f"{name:<20} {len(pts):>8} {t_o3d * 1e3:>13.2f} {t_np * 1e3:>15.2f} {t_o3d / t_np:>7.2f}x "
              f"{t_pipe * 1e3:>12.2f} {n_out:>7}")
        if not headline or name.startswith("velodyne"):
            headline = (f"numpy voxel grid vs Open3D voxel_down_sample on {name}: {t_o3d / t_np:.2f}x; "
                        f"full preprocessing {t_pipe * 1e3:.1f} ms per {len(pts)}-point frame")

    world = build_tunnel(TunnelConfig())
    scene = LidarScene(world.mesh, world.triangle_reflectivity())
    sim = LidarSimulator(LidarConfig(horizontal_resolution_deg=0.2), scene, np.random.default_rng(0))
    t_scan = median_s(lambda: sim.scan(Pose(np.array([95.0, 0.0, 0.0])), 0.1, Pose(np.array([94.9, 0.0, 0.0]))),
                      args.repeats)
    print(f"simulated LiDAR: {sim.rays_per_scan} rays (VLP-32C pattern, 0.2°) on {world.triangles} triangles: "
          f"{t_scan * 1e3:.1f} ms per scan = {sim.rays_per_scan / t_scan / 1e6:.2f} M rays/s")
    if not args.no_scenario:
        from sanqin.runtime.runner import run_scenario

        res = run_scenario(ROOT / "sim" / "scenarios" / "tunnel_lidar.yaml", record=False, plots=False)
        print(f"tunnel_lidar scenario (no recording): {res.sim_s:.0f} s simulated in {res.wall_s:.1f} s "
              f"= {res.sim_s / res.wall_s:.1f}x real time, passed={res.passed}")
    print(f"headline: {headline}")


if __name__ == "__main__":
    main()
