"""Core data types shared across areas (ROS-free). SI units, REP-103 frames (ENU, FLU body).

Quaternions are stored **x, y, z, w** (the order of geometry_msgs/Quaternion) everywhere in Sanqin.
Arrays are float64 unless stated otherwise; point clouds are float32.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

IDENTITY_QUAT_XYZW = (0.0, 0.0, 0.0, 1.0)


def _vec(values: object, n: int) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.size != n:
        raise ValueError(f"expected {n} values, got {arr.size}")
    return arr


@dataclass(frozen=True)
class Pose:
    """Position (m) and orientation (unit quaternion xyzw) of a frame in ``frame_id``."""

    position_m: np.ndarray = field(default_factory=lambda: np.zeros(3))
    orientation_xyzw: np.ndarray = field(default_factory=lambda: np.array(IDENTITY_QUAT_XYZW))

    def __post_init__(self) -> None:
        object.__setattr__(self, "position_m", _vec(self.position_m, 3))
        object.__setattr__(self, "orientation_xyzw", _vec(self.orientation_xyzw, 4))


@dataclass(frozen=True)
class Twist:
    """Linear (m/s) and angular (rad/s) velocity, expressed in the body frame unless stated."""

    linear_m_s: np.ndarray = field(default_factory=lambda: np.zeros(3))
    angular_rad_s: np.ndarray = field(default_factory=lambda: np.zeros(3))

    def __post_init__(self) -> None:
        object.__setattr__(self, "linear_m_s", _vec(self.linear_m_s, 3))
        object.__setattr__(self, "angular_rad_s", _vec(self.angular_rad_s, 3))


@dataclass(frozen=True)
class Wrench:
    """Force (N) and torque (N·m)."""

    force_n: np.ndarray = field(default_factory=lambda: np.zeros(3))
    torque_nm: np.ndarray = field(default_factory=lambda: np.zeros(3))

    def __post_init__(self) -> None:
        object.__setattr__(self, "force_n", _vec(self.force_n, 3))
        object.__setattr__(self, "torque_nm", _vec(self.torque_nm, 3))


@dataclass(frozen=True)
class Stamped:
    """Mixin fields: stamp in seconds and the frame the data is expressed in."""

    stamp_s: float = 0.0
    frame_id: str = ""


@dataclass(frozen=True)
class PoseStamped(Stamped):
    """A pose at a time in a frame (geometry_msgs/PoseStamped)."""

    pose: Pose = field(default_factory=Pose)


@dataclass(frozen=True)
class TwistCommand:
    """A velocity command (geometry_msgs/Twist, body frame; no header)."""

    twist: Twist = field(default_factory=Twist)


@dataclass(frozen=True)
class TwistStamped(Stamped):
    """A twist at a time in a frame (geometry_msgs/TwistStamped)."""

    twist: Twist = field(default_factory=Twist)


@dataclass(frozen=True)
class FrameTransform(Stamped):
    """Pose of ``child_frame_id`` in ``frame_id`` (a tf2 transform, e.g. odom → base_link)."""

    child_frame_id: str = ""
    pose: Pose = field(default_factory=Pose)


@dataclass(frozen=True)
class WrenchStamped(Stamped):
    """A measured or commanded wrench in ``frame_id`` (geometry_msgs/WrenchStamped)."""

    wrench: Wrench = field(default_factory=Wrench)


@dataclass(frozen=True)
class Odometry(Stamped):
    """Pose in ``frame_id`` (e.g. odom) and twist in ``child_frame_id`` (e.g. base_link); 6×6 covariances."""

    child_frame_id: str = "base_link"
    pose: Pose = field(default_factory=Pose)
    twist: Twist = field(default_factory=Twist)
    pose_covariance: np.ndarray = field(default_factory=lambda: np.zeros((6, 6)))
    twist_covariance: np.ndarray = field(default_factory=lambda: np.zeros((6, 6)))


@dataclass(frozen=True)
class Path(Stamped):
    """A sequence of stamped poses (nav_msgs/Path)."""

    poses: tuple[PoseStamped, ...] = ()


@dataclass(frozen=True)
class ImuSample(Stamped):
    """IMU reading: orientation (xyzw, or None if unknown), angular velocity (rad/s), specific force (m/s²)."""

    orientation_xyzw: np.ndarray | None = None
    angular_velocity_rad_s: np.ndarray = field(default_factory=lambda: np.zeros(3))
    linear_acceleration_m_s2: np.ndarray = field(default_factory=lambda: np.zeros(3))
    orientation_covariance: np.ndarray = field(default_factory=lambda: np.zeros((3, 3)))
    angular_velocity_covariance: np.ndarray = field(default_factory=lambda: np.zeros((3, 3)))
    linear_acceleration_covariance: np.ndarray = field(default_factory=lambda: np.zeros((3, 3)))


@dataclass(frozen=True)
class GeoFix(Stamped):
    """GNSS fix: WGS84 latitude/longitude (deg), ellipsoidal altitude (m), NavSatStatus status, ENU covariance."""

    latitude_deg: float = float("nan")
    longitude_deg: float = float("nan")
    altitude_m: float = float("nan")
    status: int = -1  # sensor_msgs/NavSatStatus: -1 no fix, 0 fix, 1 SBAS, 2 GBAS
    service: int = 1  # GPS
    position_covariance_m2: np.ndarray = field(default_factory=lambda: np.zeros((3, 3)))
    covariance_type: int = 0


@dataclass(frozen=True)
class JointStates(Stamped):
    """Joint names with positions (rad or m), velocities (rad/s or m/s) and efforts (N·m or N).

    Velocity and effort arrays may be empty when the source does not report them.
    """

    names: tuple[str, ...] = ()
    position: np.ndarray = field(default_factory=lambda: np.zeros(0))
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    effort: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass(frozen=True)
class PointCloud(Stamped):
    """A point cloud: (N, 3) float32 xyz in metres in ``frame_id``, optional (N,) float32 intensity."""

    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.float32))
    intensity: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.points.shape[0])


@dataclass(frozen=True)
class ImageFrame(Stamped):
    """An image: (H, W) or (H, W, C) array with its ROS encoding (mono8, mono16, rgb8, bgr8, 32FC1)."""

    data: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.uint8))
    encoding: str = "mono8"


def _mat(values: object, rows: int, cols: int) -> np.ndarray:
    return _vec(values, rows * cols).reshape(rows, cols)


@dataclass(frozen=True)
class CameraModel(Stamped):
    """Camera calibration as in sensor_msgs/CameraInfo: K (3×3), D, R (3×3), P (3×4) in pixels, image size.

    ``roi`` is (x_offset, y_offset, height, width, do_rectify); all zeros means the full image.
    """

    width: int = 0
    height: int = 0
    distortion_model: str = "plumb_bob"
    k: np.ndarray = field(default_factory=lambda: np.zeros((3, 3)))
    d: np.ndarray = field(default_factory=lambda: np.zeros(0))
    r: np.ndarray = field(default_factory=lambda: np.eye(3))
    p: np.ndarray = field(default_factory=lambda: np.zeros((3, 4)))
    binning_x: int = 0
    binning_y: int = 0
    roi: tuple[int, int, int, int, bool] = (0, 0, 0, 0, False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "k", _mat(self.k, 3, 3))
        object.__setattr__(self, "r", _mat(self.r, 3, 3))
        object.__setattr__(self, "p", _mat(self.p, 3, 4))
        object.__setattr__(self, "d", np.asarray(self.d, dtype=np.float64).reshape(-1))


@dataclass(frozen=True)
class BatteryState(Stamped):
    """Battery reading (sensor_msgs/BatteryState): V, A (negative = discharging), Ah, °C, charge fraction 0..1.

    Unmeasured quantities are NaN; status/health/technology use the sensor_msgs/BatteryState constants.
    """

    voltage_v: float = float("nan")
    current_a: float = float("nan")
    charge_ah: float = float("nan")
    capacity_ah: float = float("nan")
    design_capacity_ah: float = float("nan")
    percentage: float = float("nan")
    temperature_c: float = float("nan")
    power_supply_status: int = 0
    power_supply_health: int = 0
    power_supply_technology: int = 0
    present: bool = True
    cell_voltage_v: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cell_temperature_c: np.ndarray = field(default_factory=lambda: np.zeros(0))
    location: str = ""
    serial_number: str = ""
