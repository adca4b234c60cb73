"""Simulated spinning 3-D LiDAR on Open3D raycasting: beam pattern, range noise, dropouts, intensity.

The sensor is a rotating multi-beam LiDAR (Velodyne / Ouster style). One scan is ``channels × columns``
rays: every column (azimuth step) fires all channels (beam elevations) at once, columns sweep
counter-clockwise seen from above, starting at azimuth −180° (behind the sensor) and ending one
period later. With ``motion_distortion`` each column is cast from the sensor pose at its firing
time, interpolated between the pose at the start and the end of the sweep, so a moving robot sees
the skew a real spinning sensor produces; the points are expressed in the instantaneous sensor
frame, as real drivers deliver them.

A return is lost when the true surface is farther than ``max_range_m`` (no hit) or nearer than
``min_range_m``, at random with ``dropout_probability``, or when its intensity (calibrated,
Lambertian: ``intensity_scale × reflectivity × |cos(incidence)|``) is below ``min_intensity``
(dark or grazing surfaces). Range noise is Gaussian along the beam. The output is a dense cloud
(only returns, no NaN), float32 xyz in the sensor frame ``frame_id`` plus float32 intensity;
:meth:`LidarSimulator.scan_fields` adds each return's ring and firing time, and
:meth:`LidarScan.to_structured` lays them out as the Velodyne ROS 2 driver does (PointXYZIRT).

The robot's own body can be given as a box in ``base_link``; beams entering it return from the body
(the self-hits a crop box in the preprocessing must remove). Sensor frame convention: REP-103
(x forward, y left, z up); ``mount_*`` is the ``base_link → lidar`` transform.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from sanqin.common.types import PointCloud, Pose
from sanqin.runtime.config import param, require
from sanqin.simulation.errors import SensorError

#: Beam elevations (deg) of common sensors, lowest first. VLP-32C's are non-uniform (dense near 0°).
VERTICAL_PATTERNS_DEG: dict[str, tuple[float, ...]] = {
    "vlp16": tuple(-15.0 + 2.0 * i for i in range(16)),
    "vlp32c": (
        -25.0, -15.639, -11.31, -8.843, -7.254, -6.148, -5.333, -4.667, -4.0, -3.667, -3.333, -3.0,
        -2.667, -2.333, -2.0, -1.667, -1.333, -1.0, -0.667, -0.333, 0.0, 0.333, 0.667, 1.0, 1.333,
        1.667, 2.333, 3.333, 4.667, 7.0, 10.333, 15.0,
    ),
    "hdl32e": tuple(-30.67 + i * (41.34 / 31) for i in range(32)),
    "os1_64": tuple(-16.6 + i * (33.2 / 63) for i in range(64)),
}

PATTERNS = ("uniform", "custom", *VERTICAL_PATTERNS_DEG)


@dataclass(frozen=True)
class LidarConfig:
    """A spinning LiDAR: beam pattern, timing, range limits, noise, intensity model and mounting."""

    pattern: str = param(
        "vlp32c",
        "vertical beam pattern: a named sensor, 'uniform' (channels over the vertical FOV) or 'custom'",
        choices=PATTERNS,
    )
    channels: int = param(32, "number of beams of the 'uniform' pattern", min=1, max=256)
    vertical_fov_min_deg: float = param(-15.0, "lowest beam of the 'uniform' pattern (deg)", min=-89.0, max=89.0)
    vertical_fov_max_deg: float = param(15.0, "highest beam of the 'uniform' pattern (deg)", min=-89.0, max=89.0)
    vertical_angles_deg: tuple[float, ...] = param(
        (), "beam elevations of the 'custom' pattern (deg)", min=-89.0, max=89.0
    )
    horizontal_resolution_deg: float = param(0.2, "azimuth step between columns (deg)", min=0.01, max=10.0)
    rate_hz: float = param(10.0, "rotation rate = scans per second (Hz)", min=0.5, max=50.0)
    min_range_m: float = param(0.3, "returns nearer than this are lost (m)", min=0.0)
    max_range_m: float = param(100.0, "surfaces farther than this give no return (m)", min=0.1)
    range_noise_sigma_m: float = param(0.02, "standard deviation of Gaussian range noise (m)", min=0.0, max=1.0)
    dropout_probability: float = param(0.005, "probability that a valid return is lost", min=0.0, max=1.0)
    intensity_scale: float = param(100.0, "intensity of a perfect diffuse reflector hit head-on", min=0.0)
    min_intensity: float = param(0.5, "returns with a lower intensity are lost (dark or grazing surfaces)", min=0.0)
    default_reflectivity: float = param(0.3, "reflectivity of triangles without a material", min=0.0, max=10.0)
    motion_distortion: bool = param(True, "cast each column from the sensor pose at its firing time")
    mount_xyz_m: tuple[float, ...] = param((0.0, 0.0, 0.5), "base_link → lidar translation (m)")
    mount_rpy_rad: tuple[float, ...] = param((0.0, 0.0, 0.0), "base_link → lidar roll, pitch, yaw (rad)")
    frame_id: str = param("lidar", "frame of the output cloud")
    self_box_min_m: tuple[float, ...] = param((), "robot body box min corner in base_link (m); empty: none")
    self_box_max_m: tuple[float, ...] = param((), "robot body box max corner in base_link (m)")
    self_reflectivity: float = param(0.4, "reflectivity of the robot body", min=0.0, max=10.0)

    def __post_init__(self) -> None:
        require(self.max_range_m > self.min_range_m, "max_range_m must be greater than min_range_m")
        require(self.vertical_fov_max_deg >= self.vertical_fov_min_deg,
                "vertical_fov_max_deg must be >= vertical_fov_min_deg")
        require(self.pattern != "custom" or len(self.vertical_angles_deg) > 0,
                "pattern 'custom' needs vertical_angles_deg")
        require(len(self.mount_xyz_m) == 3, "mount_xyz_m needs 3 values")
        require(len(self.mount_rpy_rad) == 3, "mount_rpy_rad needs 3 values")
        require(len(self.self_box_min_m) == len(self.self_box_max_m) and len(self.self_box_min_m) in (0, 3),
                "self_box_min_m and self_box_max_m need 3 values each (or both empty)")
        if self.self_box_min_m:
            lo, hi = np.asarray(self.self_box_min_m), np.asarray(self.self_box_max_m)
            require(bool(np.all(hi > lo)), "self_box_max_m must exceed self_box_min_m on every axis")
            inside = np.all((np.asarray(self.mount_xyz_m) > lo) & (np.asarray(self.mount_xyz_m) < hi))
            require(not inside, "the LiDAR is mounted inside its own self box")

    def elevations_rad(self) -> np.ndarray:
        """Beam elevations (rad), in channel order."""
        if self.pattern == "uniform":
            deg = np.linspace(self.vertical_fov_min_deg, self.vertical_fov_max_deg, self.channels)
        elif self.pattern == "custom":
            deg = np.asarray(self.vertical_angles_deg, dtype=np.float64)
        else:
            deg = np.asarray(VERTICAL_PATTERNS_DEG[self.pattern], dtype=np.float64)
        return np.radians(deg)

    @property
    def columns(self) -> int:
        """Azimuth steps per revolution."""
        return max(1, int(round(360.0 / self.horizontal_resolution_deg)))

    @property
    def period_s(self) -> float:
        """Duration of one sweep (s)."""
        return 1.0 / self.rate_hz


def pose_to_matrix(pose: Pose) -> np.ndarray:
    """A :class:`Pose` as a 4×4 homogeneous transform (parent ← child)."""
    q = np.asarray(pose.orientation_xyzw, dtype=np.float64)
    norm = float(np.linalg.norm(q))
    if not np.all(np.isfinite(q)) or norm < 1e-9 or not np.all(np.isfinite(pose.position_m)):
        raise SensorError(f"invalid pose: position {pose.position_m}, quaternion {q}")
    m = np.eye(4)
    m[:3, :3] = Rotation.from_quat(q / norm).as_matrix()
    m[:3, 3] = pose.position_m
    return m


def mount_matrix(config: LidarConfig) -> np.ndarray:
    """The ``base_link → lidar`` transform of a config as a 4×4 matrix."""
    m = np.eye(4)
    m[:3, :3] = Rotation.from_euler("xyz", config.mount_rpy_rad).as_matrix()
    m[:3, 3] = config.mount_xyz_m
    return m


class LidarScene:
    """A static triangle mesh prepared for raycasting, with a reflectivity per triangle.

    ``mesh`` is an ``open3d.geometry.TriangleMesh`` (legacy) or ``open3d.t.geometry.TriangleMesh``;
    ``triangle_reflectivity`` is an (T,) array or None (then ``default_reflectivity`` everywhere).
    """

    def __init__(self, mesh: Any, triangle_reflectivity: np.ndarray | None = None,
                 default_reflectivity: float = 0.3) -> None:
        import open3d as o3d

        tmesh = mesh if isinstance(mesh, o3d.t.geometry.TriangleMesh) else o3d.t.geometry.TriangleMesh.from_legacy(mesh)
        n_tri = int(tmesh.triangle.indices.shape[0]) if "indices" in tmesh.triangle else 0
        if n_tri == 0:
            raise SensorError("the scene mesh has no triangles")
        if triangle_reflectivity is None:
            refl = np.full(n_tri, default_reflectivity, dtype=np.float32)
        else:
            refl = np.asarray(triangle_reflectivity, dtype=np.float32).reshape(-1)
            if refl.size != n_tri:
                raise SensorError(f"triangle_reflectivity has {refl.size} values for {n_tri} triangles")
        self._o3d = o3d
        self.scene = o3d.t.geometry.RaycastingScene()
        self.scene.add_triangles(tmesh.to(o3d.core.Device("CPU:0")))
        self.reflectivity = refl
        self.triangles = n_tri

    def cast(self, origins: np.ndarray, directions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cast unit-direction rays; return hit distance (inf on a miss), unit normals and reflectivity."""
        rays = np.concatenate([origins, directions], axis=1).astype(np.float32)
        ans = self.scene.cast_rays(self._o3d.core.Tensor(rays))
        t_hit = ans["t_hit"].numpy().astype(np.float64)
        normals = ans["primitive_normals"].numpy().astype(np.float64)
        prim = ans["primitive_ids"].numpy()
        hit = np.isfinite(t_hit)
        refl = np.zeros(t_hit.shape, dtype=np.float64)
        refl[hit] = self.reflectivity[prim[hit]]
        return t_hit, normals, refl

    def distance(self, points: np.ndarray) -> np.ndarray:
        """Unsigned distance (m) from each point to the nearest surface."""
        query = self._o3d.core.Tensor(np.asarray(points, dtype=np.float32).reshape(-1, 3))
        return self.scene.compute_distance(query).numpy().astype(np.float64)


def _ray_box_entry(
    origin: np.ndarray, dirs: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Entry distance of rays from one origin (outside the box) into an axis-aligned box, and entry normals."""
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / dirs
        t1 = (lo - origin) * inv
        t2 = (hi - origin) * inv
    t1 = np.where(np.isnan(t1), -np.inf, t1)
    t2 = np.where(np.isnan(t2), np.inf, t2)
    tmin = np.minimum(t1, t2)
    tmax = np.maximum(t1, t2)
    t_enter = tmin.max(axis=1)
    t_exit = tmax.min(axis=1)
    hit = (t_enter <= t_exit) & (t_exit > 0) & (t_enter > 0)
    t = np.where(hit, t_enter, np.inf)
    axis = tmin.argmax(axis=1)
    normals = np.zeros_like(dirs)
    normals[np.arange(len(dirs)), axis] = -np.sign(dirs[np.arange(len(dirs)), axis])
    return t, normals


@dataclass(frozen=True)
class ScanStats:
    """What happened to the rays of one scan."""

    rays: int
    returns: int
    no_hit: int
    out_of_range: int
    dropped: int
    too_weak: int
    self_hits: int


#: Point layout of velodyne_pointcloud's PointXYZIRT (ROS 2 driver): 22-byte points, little endian.
XYZIRT_DTYPE = np.dtype({
    "names": ["x", "y", "z", "intensity", "ring", "time"],
    "formats": ["<f4", "<f4", "<f4", "<f4", "<u2", "<f4"],
    "offsets": [0, 4, 8, 12, 16, 18],
    "itemsize": 22,
})


@dataclass(frozen=True)
class LidarScan:
    """One sweep: the cloud plus each return's ring and firing time.

    ``ring`` is the channel index in the beam pattern's order (the named patterns list beams lowest
    first, as Velodyne drivers number rings).

    ``time_s`` is relative to the cloud's stamp (the end of the sweep), so it is ≤ 0.
    """

    cloud: PointCloud
    ring: np.ndarray
    time_s: np.ndarray
    stats: ScanStats

    def to_structured(self) -> np.ndarray:
        """The returns as a structured array in the Velodyne driver's x, y, z, intensity, ring, time layout."""
        out = np.zeros(len(self.cloud), dtype=XYZIRT_DTYPE)
        pts = self.cloud.points
        out["x"], out["y"], out["z"] = pts[:, 0], pts[:, 1], pts[:, 2]
        out["intensity"] = self.cloud.intensity if self.cloud.intensity is not None else 0.0
        out["ring"] = self.ring
        out["time"] = self.time_s
        return out


class LidarSimulator:
    """A spinning LiDAR over a :class:`LidarScene`; deterministic for a given ``rng`` seed."""

    def __init__(self, config: LidarConfig, scene: LidarScene, rng: np.random.Generator) -> None:
        self.config = config
        self.scene = scene
        self.rng = rng
        elev = config.elevations_rad()
        cols = config.columns
        self.channels = int(elev.size)
        self.columns = cols
        # Column k fires at fraction (k + 1) / cols of the sweep; azimuth from -180° counter-clockwise.
        self.azimuth_rad = -np.pi + (np.arange(cols) + 0.5) * (2 * np.pi / cols)
        self.fire_fraction = (np.arange(cols) + 1.0) / cols
        az = self.azimuth_rad[:, None]
        el = elev[None, :]
        # Local ray directions, column-major (cols, channels, 3), as drivers emit packets.
        self.dirs_local = np.stack(
            [np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el) * np.ones_like(az)], axis=-1
        )
        self.mount = mount_matrix(config)
        self.ring = np.broadcast_to(np.arange(self.channels), (cols, self.channels)).reshape(-1)
        self._self_t = np.full(cols * self.channels, np.inf)
        self._self_n = np.zeros((cols * self.channels, 3))
        if config.self_box_min_m:
            dirs_base = self.dirs_local.reshape(-1, 3) @ self.mount[:3, :3].T
            t, n_base = _ray_box_entry(
                self.mount[:3, 3], dirs_base, np.asarray(config.self_box_min_m), np.asarray(config.self_box_max_m)
            )
            self._self_t = t
            self._self_n = n_base @ self.mount[:3, :3]  # into the lidar frame
        self.last_stats: ScanStats | None = None

    @property
    def rays_per_scan(self) -> int:
        """Rays cast per scan (channels × columns)."""
        return self.channels * self.columns

    def _sensor_poses(self, base_end: np.ndarray, base_start: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """World rotation (cols, 3, 3) and origin (cols, 3) of the sensor at each column's firing time."""
        cols = self.columns
        if base_start is None or not self.config.motion_distortion:
            w = base_end @ self.mount
            return np.broadcast_to(w[:3, :3], (cols, 3, 3)), np.broadcast_to(w[:3, 3], (cols, 3))
        rots = Rotation.from_matrix(np.stack([base_start[:3, :3], base_end[:3, :3]]))
        r_base = Slerp([0.0, 1.0], rots)(self.fire_fraction).as_matrix()
        p_base = base_start[:3, 3] + self.fire_fraction[:, None] * (base_end[:3, 3] - base_start[:3, 3])
        r = r_base @ self.mount[:3, :3]
        p = p_base + r_base @ self.mount[:3, 3]
        return r, p

    def scan(self, base_pose: Pose, stamp_s: float, base_pose_start: Pose | None = None) -> PointCloud:
        """One sweep ending at ``stamp_s`` with base_link at ``base_pose`` (world frame).

        ``base_pose_start`` is base_link at the start of the sweep (one period earlier); with
        ``motion_distortion`` the columns are cast from poses interpolated between the two.
        Returns the returns in the sensor frame (float32 xyz, float32 intensity), stamped ``stamp_s``.
        """
        return self.scan_fields(base_pose, stamp_s, base_pose_start).cloud

    def scan_fields(self, base_pose: Pose, stamp_s: float, base_pose_start: Pose | None = None) -> LidarScan:
        """Like :meth:`scan`, with each return's ring (channel) and firing time as a driver reports them."""
        cfg = self.config
        if not np.isfinite(stamp_s):
            raise SensorError(f"scan stamp must be finite, got {stamp_s!r}")
        end = pose_to_matrix(base_pose)
        start = pose_to_matrix(base_pose_start) if base_pose_start is not None else None
        rot, origin = self._sensor_poses(end, start)
        dirs_world = np.einsum("kij,kcj->kci", rot, self.dirs_local).reshape(-1, 3)
        origins = np.repeat(origin, self.channels, axis=0)
        t_hit, normals_world, refl = self.scene.cast(origins, dirs_world)
        # Normals into the sensor frame of each column, so incidence uses the local ray direction.
        normals = np.einsum("kji,kcj->kci", rot, normals_world.reshape(self.columns, self.channels, 3)).reshape(-1, 3)
        self_hit = self._self_t < t_hit
        n_self = int(np.count_nonzero(self_hit))
        if n_self:
            t_hit = np.where(self_hit, self._self_t, t_hit)
            normals[self_hit] = self._self_n[self_hit]
            refl[self_hit] = cfg.self_reflectivity
        no_hit = ~np.isfinite(t_hit)
        in_range = ~no_hit & (t_hit >= cfg.min_range_m) & (t_hit <= cfg.max_range_m)
        dirs_local = self.dirs_local.reshape(-1, 3)
        cos_inc = np.abs(np.einsum("ij,ij->i", normals, dirs_local))
        intensity = cfg.intensity_scale * refl * cos_inc
        strong = intensity >= cfg.min_intensity
        kept_random = self.rng.random(t_hit.size) >= cfg.dropout_probability
        noise = self.rng.normal(0.0, cfg.range_noise_sigma_m, t_hit.size) if cfg.range_noise_sigma_m > 0 else 0.0
        measured = np.where(in_range, t_hit, 0.0) + noise
        measured_ok = (measured >= cfg.min_range_m) & (measured <= cfg.max_range_m)
        keep = in_range & strong & kept_random & measured_ok
        points = (dirs_local[keep] * measured[keep, None]).astype(np.float32)
        self.last_stats = ScanStats(
            rays=int(t_hit.size),
            returns=int(np.count_nonzero(keep)),
            no_hit=int(np.count_nonzero(no_hit)),
            out_of_range=int(np.count_nonzero(~no_hit & ~in_range)),
            dropped=int(np.count_nonzero(in_range & strong & ~kept_random)),
            too_weak=int(np.count_nonzero(in_range & ~strong)),
            self_hits=n_self,
        )
        cloud = PointCloud(
            stamp_s=float(stamp_s),
            frame_id=cfg.frame_id,
            points=points,
            intensity=np.clip(intensity[keep], 0.0, 255.0).astype(np.float32),
        )
        time_s = np.repeat((self.fire_fraction - 1.0) * cfg.period_s, self.channels)
        return LidarScan(cloud, self.ring[keep].astype(np.uint16), time_s[keep].astype(np.float32), self.last_stats)
