"""Synthetic scenes for perception tests: meshes raycast by the simulated LiDAR, with ground truth."""

from __future__ import annotations

import numpy as np
import open3d as o3d

from sanqin.common.types import Pose
from sanqin.simulation.lidar import LidarConfig, LidarScene, LidarSimulator


def box_mesh(center, size, yaw=0.0):
    """An open3d box mesh centred at ``center`` (bottom at center z - h/2) rotated by ``yaw``."""
    sx, sy, sz = size
    m = o3d.geometry.TriangleMesh.create_box(sx, sy, sz)
    m.translate((-sx / 2, -sy / 2, -sz / 2))
    m.rotate(o3d.geometry.get_rotation_matrix_from_xyz((0, 0, yaw)), center=(0, 0, 0))
    m.translate(tuple(center))
    return m


def wedge_mesh(x0, x1, y0, y1, rise):
    """A solid ramp rising from z=0 at x0 to z=rise at x1 (a closed triangular prism)."""
    v = np.array(
        [[x0, y0, 0], [x1, y0, 0], [x1, y0, rise], [x0, y1, 0], [x1, y1, 0], [x1, y1, rise]], float
    )
    t = np.array([[0, 1, 2], [3, 5, 4], [0, 3, 4], [0, 4, 1], [1, 4, 5], [1, 5, 2], [0, 2, 5], [0, 5, 3]])
    m = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(v), o3d.utility.Vector3iVector(t))
    m.compute_triangle_normals()
    return m


def floor_mesh(half=40.0, z=0.0):
    """A thick flat floor slab whose top is at ``z``."""
    return box_mesh((0.0, 0.0, z - 0.05), (2 * half, 2 * half, 0.1))


def scan(mesh, pose=None, mount_z=1.0, pattern="vlp32c", res_deg=0.4, seed=0):
    """One LiDAR scan (sensor frame) of a mesh from a base pose."""
    cfg = LidarConfig(pattern=pattern, horizontal_resolution_deg=res_deg, mount_xyz_m=(0.0, 0.0, mount_z),
                      max_range_m=60.0, motion_distortion=False)
    sim = LidarSimulator(cfg, LidarScene(mesh), np.random.default_rng(seed))
    return sim.scan(pose or Pose(), 0.1).points
