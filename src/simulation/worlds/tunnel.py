"""A power-cable tunnel as a low-polygon triangle mesh with ground truth, built from a typed config.

Frames. The world (``odom`` of tunnel scenarios, ENU-like, REP-103) has its origin on the floor at
the entrance, on the centre line, ``x`` along the first straight, ``z`` up. Positions *in* the tunnel
are given as a *station* ``s`` (distance along the centre line from the entrance), a lateral offset
(``+`` towards the left wall, looking in) and a height. Without bends station ``s`` is ``x = s`` and
lateral is ``y``; bends (constant-radius, in plan) turn the centre line, and
:meth:`TunnelWorld.to_world` / :meth:`TunnelWorld.frame` map tunnel coordinates into the world. The
floor on the centre line is at ``z = 0`` at the entrance and follows the ramps
(:meth:`TunnelWorld.floor_z`).

What is modelled:

* the shell: floor, vertical walls and a flat ceiling (``rectangular``) or a segmental arch
  (``arched``), optional end walls, an optional open drainage channel in the floor;
* ramps: piecewise-constant grade sections, and bends: constant-curvature turns in plan (the floor,
  trays and cables follow both; brackets, joints and the cart are boxes placed on the local floor
  height, level, turned with the centre line — :class:`Box` carries their yaw);
* cable trays (thin slabs) at given heights along one or both walls, carried by brackets (a wall post
  plus one arm per tray) every ``bracket_spacing_m``; cables as hexagonal prisms lying on the trays;
* cable joints (boxes around a cable) at given stations, and a parked cart (a body on four wheels).

Every triangle carries a material id (:data:`MATERIALS`, reflectivity for LiDAR intensity). The mesh
stays small (the default 200 m tunnel has about 12,000 triangles): long elements are extruded between
*stations* (ends, ramp breaks, every ``station_step_m`` and every ≤ 2.5° within bends) instead of being
tessellated finely.

Ground truth (:class:`TunnelAnnotations`): trays, brackets, joints, the cart and the drain as
dataclasses in the world frame, for perception tests (obstacles, hotspots, odometry) to score against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sanqin.runtime.config import param, require
from sanqin.simulation.errors import WorldError

#: Material name → LiDAR reflectivity (0..1 diffuse; used as ``reflectivity × cos(incidence)``).
MATERIALS: dict[str, float] = {
    "concrete": 0.25,
    "steel": 0.55,
    "tray": 0.6,
    "cable": 0.08,
    "joint": 0.35,
    "cart": 0.45,
    "rubber": 0.05,
}
MATERIAL_IDS: dict[str, int] = {name: i for i, name in enumerate(MATERIALS)}
SIDES = ("left", "right")
#: Corner i of a box takes x from hi if bit 0 of i is set, y if bit 1, z if bit 2.
_BOX_BITS = np.array([[(i >> k) & 1 for k in range(3)] for i in range(8)], dtype=bool)


@dataclass(frozen=True)
class TunnelConfig:
    """Geometry of a cable tunnel and what is in it (metres; stations measured from the entrance)."""

    length_m: float = param(200.0, "tunnel length along its axis (m)", min=2.0, max=20000.0)
    width_m: float = param(3.0, "inner width wall to wall (m)", min=1.0, max=30.0)
    height_m: float = param(3.2, "inner height floor to ceiling or arch crown (m)", min=1.0, max=30.0)
    profile: str = param("arched", "cross-section: vertical walls with a flat ceiling or an arch",
                         choices=("arched", "rectangular"))
    arch_rise_m: float = param(0.8, "height of the arch above the wall tops (m); at most width/2", min=0.05)
    arch_segments: int = param(8, "straight segments approximating the arch", min=2, max=64)
    station_step_m: float = param(20.0, "longitudinal spacing of shell vertices (m)", min=0.5)
    end_walls: bool = param(True, "close both ends of the tunnel")
    tray_sides: str = param("both", "walls carrying cable trays", choices=("both", "left", "right", "none"))
    tray_heights_m: tuple[float, ...] = param((0.6, 1.1, 1.6), "top of each tray tier above the floor (m)", min=0.05)
    tray_depth_m: float = param(0.45, "how far a tray reaches from its wall (m)", min=0.1, max=2.0)
    tray_thickness_m: float = param(0.03, "tray slab thickness (m)", min=0.005, max=0.2)
    wall_gap_m: float = param(0.05, "gap between wall and tray (bracket post depth) (m)", min=0.0, max=0.5)
    bracket_spacing_m: float = param(2.0, "distance between brackets along a wall (m)", min=0.3)
    bracket_width_m: float = param(0.06, "bracket post and arm width along the tunnel (m)", min=0.01, max=0.5)
    cables_per_tray: int = param(2, "cables lying on each tray", min=0, max=8)
    cable_diameter_m: float = param(0.1, "cable outer diameter (m)", min=0.01, max=0.5)
    joint_stations_m: tuple[float, ...] = param((40.0, 95.0, 160.0), "stations of cable joints (m)", min=0.0)
    joint_sides: tuple[str, ...] = param(("left", "right", "left"), "wall of each joint", choices=SIDES)
    joint_tiers: tuple[int, ...] = param((1, 0, 2), "tray tier of each joint (0 = lowest)", min=0)
    joint_cables: tuple[int, ...] = param((0, 1, 0), "cable index on the tray of each joint (0 = wall side)", min=0)
    joint_length_m: float = param(0.8, "joint length along the cable (m)", min=0.05, max=5.0)
    joint_diameter_m: float = param(0.2, "joint outer size across the cable (m)", min=0.01, max=1.0)
    cart_enabled: bool = param(True, "park a cart in the tunnel")
    cart_station_m: float = param(70.0, "station of the cart centre (m)", min=0.0)
    cart_lateral_m: float = param(0.75, "lateral offset of the cart centre from the centre line (+ left) (m)")
    cart_size_m: tuple[float, ...] = param((1.2, 0.6, 0.9), "cart length, width, height incl. wheels (m)", min=0.05)
    ramp_start_m: tuple[float, ...] = param((110.0,), "start station of each ramp (m)", min=0.0)
    ramp_length_m: tuple[float, ...] = param((30.0,), "length of each ramp (m)", min=0.1)
    ramp_grade: tuple[float, ...] = param((0.05,), "rise over run of each ramp (+ climbs along x)", min=-0.3, max=0.3)
    bend_start_m: tuple[float, ...] = param((), "start station of each bend (m)", min=0.0)
    bend_length_m: tuple[float, ...] = param((), "length of each bend along the centre line (m)", min=0.1)
    bend_angle_deg: tuple[float, ...] = param((), "heading change of each bend (+ turns left) (deg)",
                                              min=-180.0, max=180.0)
    drain_enabled: bool = param(True, "open drainage channel in the floor")
    drain_lateral_m: float = param(-1.25, "lateral position of the drain centre (+ left) (m)")
    drain_width_m: float = param(0.3, "drain width (m)", min=0.05, max=2.0)
    drain_depth_m: float = param(0.15, "drain depth below the floor (m)", min=0.02, max=2.0)

    def __post_init__(self) -> None:
        half = self.width_m / 2
        wall_top = self.wall_height_m
        require(self.profile == "rectangular" or self.arch_rise_m <= half,
                f"arch_rise_m {self.arch_rise_m} exceeds half the width ({half} m)")
        require(wall_top > 0.2, f"walls are only {wall_top:.2f} m high: lower arch_rise_m or raise height_m")
        n = len(self.joint_stations_m)
        require(len(self.joint_sides) == n and len(self.joint_tiers) == n and len(self.joint_cables) == n,
                "joint_stations_m, joint_sides, joint_tiers and joint_cables must have the same length")
        tiers = len(self.tray_heights_m)
        require(list(self.tray_heights_m) == sorted(set(self.tray_heights_m)), "tray_heights_m must increase")
        if tiers and self.tray_sides != "none":
            top = max(self.tray_heights_m) + self.cable_diameter_m
            require(top < wall_top, f"top tray with cables ({top:.2f} m) must be below the wall top ({wall_top:.2f} m)")
            require(self.tray_depth_m + self.wall_gap_m < half, "trays reach past the tunnel centre line")
            require(self.cables_per_tray * self.cable_diameter_m <= self.tray_depth_m,
                    "the cables do not fit side by side on a tray")
        for i, s in enumerate(self.joint_stations_m):
            side_ok = self.tray_sides in ("both", self.joint_sides[i])
            require(side_ok, f"joint {i} is on the {self.joint_sides[i]} wall, which carries no trays")
            require(self.joint_tiers[i] < tiers, f"joint {i}: tier {self.joint_tiers[i]} does not exist")
            require(self.joint_cables[i] < self.cables_per_tray,
                    f"joint {i}: cable {self.joint_cables[i]} does not exist ({self.cables_per_tray} per tray)")
            require(self.joint_length_m / 2 <= s <= self.length_m - self.joint_length_m / 2,
                    f"joint {i} at station {s} m is outside the tunnel")
        require(len(self.ramp_length_m) == len(self.ramp_start_m) == len(self.ramp_grade),
                "ramp_start_m, ramp_length_m and ramp_grade must have the same length")
        end = 0.0
        for start, length in sorted(zip(self.ramp_start_m, self.ramp_length_m)):
            require(start >= end, f"ramp starting at {start} m overlaps the previous ramp")
            end = start + length
            require(end <= self.length_m, f"ramp ending at {end} m runs past the tunnel end")
        require(len(self.bend_length_m) == len(self.bend_start_m) == len(self.bend_angle_deg),
                "bend_start_m, bend_length_m and bend_angle_deg must have the same length")
        end = 0.0
        for start, length, angle in sorted(zip(self.bend_start_m, self.bend_length_m, self.bend_angle_deg)):
            require(start >= end, f"bend starting at {start} m overlaps the previous bend")
            end = start + length
            require(end <= self.length_m, f"bend ending at {end} m runs past the tunnel end")
            radius = length / max(np.radians(abs(angle)), 1e-12)
            require(radius > half + 0.5, f"bend at {start} m: radius {radius:.2f} m is too tight for a "
                    f"{self.width_m} m wide tunnel")
        if self.cart_enabled:
            require(len(self.cart_size_m) == 3, "cart_size_m needs length, width, height")
            length, width, height = self.cart_size_m
            require(abs(self.cart_lateral_m) + width / 2 <= half, "the cart does not fit between the walls")
            require(length / 2 <= self.cart_station_m <= self.length_m - length / 2, "the cart is outside the tunnel")
            require(height < wall_top, "the cart is taller than the walls")
        if self.drain_enabled:
            require(abs(self.drain_lateral_m) + self.drain_width_m / 2 < half, "the drain does not fit in the floor")

    @property
    def wall_height_m(self) -> float:
        """Height of the vertical walls (below the arch springing for the arched profile)."""
        return self.height_m - (self.arch_rise_m if self.profile == "arched" else 0.0)


@dataclass(frozen=True)
class Box:
    """A level box in the world frame: centre, full size along its own axes (m), yaw of its x axis (rad).

    Boxes in a tunnel are aligned with the centre line: size is (along, across, height) and ``yaw_rad``
    the centre line's heading at the box (0 without bends).
    """

    center_m: tuple[float, float, float]
    size_m: tuple[float, float, float]
    yaw_rad: float = 0.0

    def corners(self) -> np.ndarray:
        """The 8 corners (8, 3) in the world frame."""
        half = np.asarray(self.size_m) / 2
        local = np.where(_BOX_BITS, half, -half)
        c, s = np.cos(self.yaw_rad), np.sin(self.yaw_rad)
        rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
        return local @ rot.T + np.asarray(self.center_m)

    @property
    def min_m(self) -> np.ndarray:
        """Lower corner of the world-axis-aligned bounds (the box itself when ``yaw_rad`` is 0)."""
        return self.corners().min(axis=0)

    @property
    def max_m(self) -> np.ndarray:
        """Upper corner of the world-axis-aligned bounds."""
        return self.corners().max(axis=0)

    def contains(self, points: np.ndarray, margin_m: float = 0.0) -> np.ndarray:
        """Which (N, 3) world points lie inside the box grown by ``margin_m``."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 3) - np.asarray(self.center_m)
        c, s = np.cos(self.yaw_rad), np.sin(self.yaw_rad)
        local = np.column_stack([c * p[:, 0] + s * p[:, 1], -s * p[:, 0] + c * p[:, 1], p[:, 2]])
        return np.all(np.abs(local) <= np.asarray(self.size_m) / 2 + margin_m, axis=1)


@dataclass(frozen=True)
class CableTray:
    """One tray tier on one wall: its top surface height above the local floor and lateral extent
    (lateral offsets from the centre line, + left)."""

    side: str
    tier: int
    top_above_floor_m: float
    y_inner_m: float
    y_outer_m: float
    start_m: float
    end_m: float


@dataclass(frozen=True)
class Cable:
    """One cable on a tray: lateral offset from the centre line and centre height above the local floor."""

    side: str
    tier: int
    index: int
    y_m: float
    center_above_floor_m: float
    diameter_m: float


@dataclass(frozen=True)
class Bracket:
    """A bracket (wall post with one arm per tier) at a station on one wall."""

    station_m: float
    side: str
    box: Box


@dataclass(frozen=True)
class CableJoint:
    """A cable joint (a thermal-inspection target) on a given tray and cable."""

    station_m: float
    side: str
    tier: int
    cable: int
    box: Box


@dataclass(frozen=True)
class Cart:
    """A parked cart (an obstacle) including its wheels."""

    station_m: float
    box: Box


@dataclass(frozen=True)
class Drain:
    """The open drainage channel in the floor (lateral centre, width, depth)."""

    lateral_m: float
    width_m: float
    depth_m: float


@dataclass(frozen=True)
class Ramp:
    """A constant-grade section of the floor."""

    start_m: float
    end_m: float
    grade: float


@dataclass(frozen=True)
class Bend:
    """A constant-curvature turn of the centre line in plan (+ angle turns left)."""

    start_m: float
    end_m: float
    angle_rad: float

    @property
    def curvature_per_m(self) -> float:
        """Heading change per metre of centre line (rad/m)."""
        return self.angle_rad / (self.end_m - self.start_m)


def _plan(stations: np.ndarray, bends: tuple[Bend, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre-line x, y (m) and heading (rad) at stations, integrating straights and arcs exactly."""
    s = np.asarray(stations, dtype=np.float64)
    x, y, psi = np.zeros_like(s), np.zeros_like(s), np.zeros_like(s)
    heading, pos = 0.0, 0.0
    segments = []
    for b in bends:
        segments += [(pos, b.start_m, 0.0), (b.start_m, b.end_m, b.curvature_per_m)]
        pos = b.end_m
    segments.append((pos, np.inf, 0.0))
    for a, b, k in segments:
        d = np.clip(s - a, 0.0, b - a)
        if k == 0.0:
            x += d * np.cos(heading)
            y += d * np.sin(heading)
        else:
            x += (np.sin(heading + k * d) - np.sin(heading)) / k
            y -= (np.cos(heading + k * d) - np.cos(heading)) / k
            psi += k * d
            heading += k * (b - a)
    return x, y, psi


@dataclass(frozen=True)
class TunnelAnnotations:
    """Ground truth of a tunnel world (world frame)."""

    trays: tuple[CableTray, ...]
    cables: tuple[Cable, ...]
    brackets: tuple[Bracket, ...]
    joints: tuple[CableJoint, ...]
    cart: Cart | None
    drain: Drain | None
    ramps: tuple[Ramp, ...]
    bends: tuple[Bend, ...] = ()


class _MeshBuilder:
    """Accumulates vertices, triangles and a material per triangle."""

    def __init__(self) -> None:
        self.vertices: list[np.ndarray] = []
        self.triangles: list[np.ndarray] = []
        self.materials: list[np.ndarray] = []
        self.n = 0

    def add(self, verts: np.ndarray, tris: np.ndarray, material: str) -> None:
        self.vertices.append(np.asarray(verts, dtype=np.float64))
        self.triangles.append(np.asarray(tris, dtype=np.int64) + self.n)
        self.materials.append(np.full(len(tris), MATERIAL_IDS[material], dtype=np.int32))
        self.n += len(verts)

    def box(self, lo: np.ndarray, hi: np.ndarray, material: str) -> None:
        """An axis-aligned box (12 outward-facing triangles)."""
        lo, hi = np.asarray(lo, float), np.asarray(hi, float)
        corners = np.where(_BOX_BITS, hi, lo)
        tris = np.array([
            [0, 2, 1], [1, 2, 3], [4, 5, 6], [5, 7, 6],  # z-, z+
            [0, 1, 4], [1, 5, 4], [2, 6, 3], [3, 6, 7],  # y-, y+
            [0, 4, 2], [2, 4, 6], [1, 3, 5], [3, 7, 5],  # x-, x+
        ])
        self.add(corners, tris, material)

    def extrude(self, loop_yz: np.ndarray, stations: np.ndarray, z_of: np.ndarray, material: str,
                closed: bool = True) -> None:
        """Sweep a (P, 2) y/z polyline along x through ``stations``, lifted by ``z_of`` at each station."""
        loop = np.asarray(loop_yz, float)
        p, s = len(loop), len(stations)
        verts = np.empty((s, p, 3))
        verts[:, :, 0] = np.asarray(stations)[:, None]
        verts[:, :, 1] = loop[None, :, 0]
        verts[:, :, 2] = loop[None, :, 1] + np.asarray(z_of)[:, None]
        edges = p if closed else p - 1
        i = np.arange(s - 1)[:, None]
        j = np.arange(edges)[None, :]
        a = i * p + j
        b = i * p + (j + 1) % p
        c = a + p
        d = b + p
        tris = np.concatenate([np.stack([a, b, c], -1).reshape(-1, 3), np.stack([b, d, c], -1).reshape(-1, 3)])
        self.add(verts.reshape(-1, 3), tris, material)

    def fan(self, polygon_xyz: np.ndarray, material: str) -> None:
        """A convex planar polygon as a triangle fan around its vertex centroid."""
        poly = np.asarray(polygon_xyz, float)
        verts = np.vstack([poly.mean(axis=0), poly])
        k = len(poly)
        tris = np.array([[0, 1 + i, 1 + (i + 1) % k] for i in range(k)])
        self.add(verts, tris, material)

    def to_open3d(self) -> tuple[Any, np.ndarray]:
        """(open3d.geometry.TriangleMesh with triangle normals, (T,) material ids)."""
        import open3d as o3d

        mesh = o3d.geometry.TriangleMesh()
        mesh.vertices = o3d.utility.Vector3dVector(np.vstack(self.vertices))
        mesh.triangles = o3d.utility.Vector3iVector(np.vstack(self.triangles).astype(np.int32))
        mesh.compute_triangle_normals()
        return mesh, np.concatenate(self.materials)


class TunnelWorld:
    """A built tunnel: Open3D mesh, material per triangle, ground truth and floor geometry."""

    def __init__(self, config: TunnelConfig, mesh: Any, triangle_material: np.ndarray,
                 annotations: TunnelAnnotations) -> None:
        self.config = config
        self.mesh = mesh
        self.triangle_material = triangle_material
        self.annotations = annotations

    @property
    def triangles(self) -> int:
        """Number of triangles in the mesh."""
        return int(len(self.triangle_material))

    def floor_z(self, station_m: np.ndarray | float) -> np.ndarray | float:
        """Floor height (m) on the centre line at a station (or array of stations)."""
        s = np.asarray(station_m, dtype=np.float64)
        z = np.zeros_like(s)
        for ramp in self.annotations.ramps:
            z = z + ramp.grade * np.clip(s - ramp.start_m, 0.0, ramp.end_m - ramp.start_m)
        return float(z) if z.ndim == 0 else z

    def grade(self, station_m: float) -> float:
        """Floor grade (rise over run) at a station."""
        for ramp in self.annotations.ramps:
            if ramp.start_m <= station_m < ramp.end_m:
                return ramp.grade
        return 0.0

    def centerline(self, station_m: float, height_m: float = 0.0) -> np.ndarray:
        """The point on the centre line at a station, ``height_m`` above the floor (world frame)."""
        return self.to_world(station_m, 0.0, height_m)

    def heading(self, station_m: np.ndarray | float) -> np.ndarray | float:
        """Heading (yaw, rad) of the centre line at a station."""
        psi = _plan(np.asarray(station_m, dtype=np.float64), self.annotations.bends)[2]
        return float(psi) if psi.ndim == 0 else psi

    def curvature(self, station_m: float) -> float:
        """Curvature of the centre line in plan at a station (rad/m, + turning left)."""
        for bend in self.annotations.bends:
            if bend.start_m <= station_m < bend.end_m:
                return bend.curvature_per_m
        return 0.0

    def frame(self, station_m: float) -> tuple[np.ndarray, float]:
        """(centre-line floor point in the world (3,), heading in rad) at a station."""
        x, y, psi = _plan(np.array([station_m], dtype=np.float64), self.annotations.bends)
        return np.array([x[0], y[0], float(self.floor_z(station_m))]), float(psi[0])

    def to_world(self, station_m: float, lateral_m: float, height_m: float = 0.0) -> np.ndarray:
        """Tunnel coordinates (station, lateral + left, height above the local floor) → world point (3,)."""
        origin, psi = self.frame(station_m)
        return origin + np.array([-np.sin(psi) * lateral_m, np.cos(psi) * lateral_m, height_m])

    def triangle_reflectivity(self) -> np.ndarray:
        """(T,) reflectivity of every triangle, from :data:`MATERIALS`."""
        table = np.array(list(MATERIALS.values()), dtype=np.float32)
        return table[self.triangle_material]


def _shell_loop(cfg: TunnelConfig) -> tuple[np.ndarray, np.ndarray]:
    """The inner cross-section as a closed y/z loop (floor right→left, left wall, roof, right wall),
    and the convex part above the floor (for the end walls)."""
    half, wall = cfg.width_m / 2, cfg.wall_height_m
    floor = [(-half, 0.0)]
    if cfg.drain_enabled:
        y0, y1 = cfg.drain_lateral_m - cfg.drain_width_m / 2, cfg.drain_lateral_m + cfg.drain_width_m / 2
        floor += [(y0, 0.0), (y0, -cfg.drain_depth_m), (y1, -cfg.drain_depth_m), (y1, 0.0)]
    floor += [(half, 0.0), (half, wall)]
    roof: list[tuple[float, float]] = []
    if cfg.profile == "arched":
        rise = cfg.arch_rise_m
        radius = (half**2 + rise**2) / (2 * rise)
        zc = cfg.height_m - radius
        phi0 = np.arctan2(wall - zc, half)
        for phi in np.linspace(phi0, np.pi - phi0, cfg.arch_segments + 1)[1:-1]:
            roof.append((radius * np.cos(phi), zc + radius * np.sin(phi)))
    roof.append((-half, wall))
    loop = np.array(floor + roof)
    upper = np.array([(-half, 0.0), (half, 0.0), (half, wall), *roof])
    return loop, upper


def _world_box(world: TunnelWorld, center_local: np.ndarray, size: np.ndarray) -> Box:
    """A box given in straight tunnel coordinates (station, lateral, absolute z) placed in the world."""
    s, lateral, z = (float(v) for v in center_local)
    center = world.to_world(s, lateral, 0.0)
    center[2] = z
    return Box(tuple(float(v) for v in center), tuple(float(v) for v in size), float(world.heading(s)))


def build_tunnel(config: TunnelConfig) -> TunnelWorld:
    """Build the mesh and ground truth of a tunnel from its config."""
    cfg = config
    ramps = tuple(
        Ramp(s, s + length, g)
        for s, length, g in sorted(zip(cfg.ramp_start_m, cfg.ramp_length_m, cfg.ramp_grade))
    )
    bends = tuple(
        Bend(s, s + length, float(np.radians(a)))
        for s, length, a in sorted(zip(cfg.bend_start_m, cfg.bend_length_m, cfg.bend_angle_deg))
    )
    ann_stub = TunnelAnnotations((), (), (), (), None, None, ramps, bends)
    probe = TunnelWorld(cfg, None, np.zeros(0, np.int32), ann_stub)
    floor_z = probe.floor_z
    half = cfg.width_m / 2
    breaks = [0.0, cfg.length_m, *np.arange(0.0, cfg.length_m, cfg.station_step_m)]
    for r in ramps:
        breaks += [r.start_m, r.end_m]
    for b in bends:  # chords of at most 2.5° in bends (sag ≤ 5 mm at a 20 m radius)
        n = max(1, int(np.ceil(abs(np.degrees(b.angle_rad)) / 2.5)))
        breaks += list(np.linspace(b.start_m, b.end_m, n + 1))
    stations = np.unique(np.round(np.asarray(breaks), 9))
    z_st = np.asarray(floor_z(stations))
    mb = _MeshBuilder()

    # Shell and end walls.
    loop, upper = _shell_loop(cfg)
    mb.extrude(loop, stations, z_st, "concrete", closed=True)
    if cfg.end_walls:
        for s in (0.0, cfg.length_m):
            zf = float(floor_z(s))
            mb.fan(np.column_stack([np.full(len(upper), s), upper[:, 0], upper[:, 1] + zf]), "concrete")
            if cfg.drain_enabled:
                y0 = cfg.drain_lateral_m - cfg.drain_width_m / 2
                y1 = y0 + cfg.drain_width_m
                notch = [(y0, 0.0), (y1, 0.0), (y1, -cfg.drain_depth_m), (y0, -cfg.drain_depth_m)]
                mb.fan(np.array([(s, y, z + zf) for y, z in notch]), "concrete")

    # Trays, cables and brackets.
    sides = {"both": SIDES, "left": ("left",), "right": ("right",), "none": ()}[cfg.tray_sides]
    trays: list[CableTray] = []
    cables: list[Cable] = []
    brackets: list[Bracket] = []
    hexagon = np.array([(np.cos(a), np.sin(a)) for a in np.arange(6) * np.pi / 3]) * cfg.cable_diameter_m / 2
    t = cfg.tray_thickness_m
    for side in sides:
        sign = 1.0 if side == "left" else -1.0
        y_outer = sign * (half - cfg.wall_gap_m)
        y_inner = sign * (half - cfg.wall_gap_m - cfg.tray_depth_m)
        lo_y, hi_y = min(y_inner, y_outer), max(y_inner, y_outer)
        for tier, h in enumerate(cfg.tray_heights_m):
            rect = np.array([(lo_y, h - t), (hi_y, h - t), (hi_y, h), (lo_y, h)])
            mb.extrude(rect, stations, z_st, "tray", closed=True)
            trays.append(CableTray(side, tier, h, y_inner, y_outer, 0.0, cfg.length_m))
            for k in range(cfg.cables_per_tray):
                y_c = y_outer - sign * (k + 0.5) * cfg.tray_depth_m / cfg.cables_per_tray
                zc = h + cfg.cable_diameter_m / 2
                mb.extrude(hexagon + (y_c, zc), stations, z_st, "cable", closed=True)
                cables.append(Cable(side, tier, k, y_c, zc, cfg.cable_diameter_m))
        if not cfg.tray_heights_m:
            continue
        w = cfg.bracket_width_m
        post_lo, post_hi = cfg.tray_heights_m[0] - t - 0.25, cfg.tray_heights_m[-1] + 0.1
        y_wall = sign * half
        for s in np.arange(cfg.bracket_spacing_m / 2, cfg.length_m, cfg.bracket_spacing_m):
            zf = float(floor_z(s))
            post = (np.array([s - w / 2, min(y_wall, y_outer), zf + post_lo]),
                    np.array([s + w / 2, max(y_wall, y_outer), zf + post_hi]))
            mb.box(*post, "steel")
            for h in cfg.tray_heights_m:
                mb.box(np.array([s - w / 2, lo_y, zf + h - t - 0.04]), np.array([s + w / 2, hi_y, zf + h - t]), "steel")
            lo = np.array([s - w / 2, min(lo_y, y_wall), zf + post_lo])
            hi = np.array([s + w / 2, max(hi_y, y_wall), zf + post_hi])
            brackets.append(Bracket(float(s), side, _world_box(probe, (lo + hi) / 2, hi - lo)))

    # Cable joints.
    joints: list[CableJoint] = []
    for s, side, tier, k in zip(cfg.joint_stations_m, cfg.joint_sides, cfg.joint_tiers, cfg.joint_cables):
        cable = next(c for c in cables if c.side == side and c.tier == tier and c.index == k)
        center = np.array([s, cable.y_m, float(floor_z(s)) + cable.center_above_floor_m])
        size = np.array([cfg.joint_length_m, cfg.joint_diameter_m, cfg.joint_diameter_m])
        mb.box(center - size / 2, center + size / 2, "joint")
        joints.append(CableJoint(float(s), side, tier, k, _world_box(probe, center, size)))

    # Parked cart: body on four wheels.
    cart = None
    if cfg.cart_enabled:
        length, width, height = cfg.cart_size_m
        s, y = cfg.cart_station_m, cfg.cart_lateral_m
        zf = float(floor_z(s))
        wheel = min(0.15, 0.3 * height)
        mb.box(np.array([s - length / 2, y - width / 2, zf + wheel]),
               np.array([s + length / 2, y + width / 2, zf + height]), "cart")
        for dx in (-1, 1):
            for dy in (-1, 1):
                cx, cy = s + dx * (length / 2 - wheel), y + dy * (width / 2 - wheel / 3)
                half_wheel = np.array([wheel / 2, wheel / 3, 0.0])
                mb.box(np.array([cx, cy, zf]) - half_wheel, np.array([cx, cy, zf + wheel]) + half_wheel, "rubber")
        cart = Cart(float(s), _world_box(probe, np.array([s, y, zf + height / 2]), np.array([length, width, height])))

    drain = Drain(cfg.drain_lateral_m, cfg.drain_width_m, cfg.drain_depth_m) if cfg.drain_enabled else None
    if bends:  # bend everything built along a straight x axis onto the centre line
        for verts in mb.vertices:
            x, y, psi = _plan(verts[:, 0], bends)
            lat = verts[:, 1].copy()
            verts[:, 0] = x - np.sin(psi) * lat
            verts[:, 1] = y + np.cos(psi) * lat
    mesh, materials = mb.to_open3d()
    if not len(materials):
        raise WorldError("the tunnel mesh is empty")
    ann = TunnelAnnotations(tuple(trays), tuple(cables), tuple(brackets), tuple(joints), cart, drain, ramps, bends)
    return TunnelWorld(cfg, mesh, materials, ann)
