"""IMU attitude: Mahony's nonlinear complementary filter with gyro-bias estimation.

The filter (Mahony, Hamel & Pflimlin, IEEE TAC 2008) integrates the bias-corrected gyro and pulls the
estimated gravity direction toward the measured specific force with a proportional gain ``kp``; the
integral gain ``ki`` estimates the gyro bias about the axes gravity observes (roll and pitch rates). The
yaw-rate bias, which gravity cannot observe, is estimated while the IMU is at rest (gyro and specific
force steady), the usual zero-velocity update of ground robots. Accelerometer corrections are skipped
while the specific force is far from 1 g (the robot accelerates or is hit).

Bad samples never corrupt the state: non-finite values are rejected with :class:`ImuSampleError`; a time
step that is not positive, or longer than ``max_dt_s``, restarts the integration at that sample.
Frames: body FLU, world ENU; quaternion order x, y, z, w.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from sanqin.perception.errors import ImuSampleError
from sanqin.runtime.config import param

GRAVITY_M_S2 = 9.80665


@dataclass(frozen=True)
class AttitudeConfig:
    """Complementary-filter gains, rest detection and bad-sample limits."""

    kp: float = param(1.0, "proportional gain toward the accelerometer's gravity (1/s)", min=0.0, max=100.0)
    ki: float = param(0.05, "integral gain of the roll/pitch gyro-bias estimate (1/s^2)", min=0.0, max=10.0)
    accel_tolerance_m_s2: float = param(
        0.5, "no accelerometer correction when | |a| - g | exceeds this (m/s^2)", min=0.0, max=50.0
    )
    rest_gyro_rad_s: float = param(0.02, "at rest when the corrected gyro stays below this (rad/s)", min=0.0)
    rest_accel_m_s2: float = param(0.15, "at rest when | |a| - g | stays below this (m/s^2)", min=0.0)
    rest_samples: int = param(25, "consecutive still samples before the bias is updated at rest", min=1)
    rest_bias_gain: float = param(0.05, "low-pass gain of the at-rest gyro-bias update per sample", min=0.0, max=1.0)
    max_bias_rad_s: float = param(0.1, "bias estimates are clamped to this magnitude (rad/s)", min=0.0)
    max_dt_s: float = param(0.5, "longer gaps restart integration (time jump) (s)", min=1e-4, max=60.0)


class AttitudeFilter:
    """Orientation (world ← body) from gyro and accelerometer samples."""

    def __init__(self, config: AttitudeConfig) -> None:
        self.config = config
        self.q_xyzw = np.array([0.0, 0.0, 0.0, 1.0])
        self.bias_rad_s = np.zeros(3)
        self.last_t: float | None = None
        self.initialized = False
        self.still_count = 0
        self.rejected = 0
        self.time_jumps = 0
        self.last_rate_rad_s = np.zeros(3)

    @property
    def rotation(self) -> Rotation:
        """Current orientation as a scipy Rotation (world ← body)."""
        return Rotation.from_quat(self.q_xyzw)

    def roll_pitch_yaw(self) -> tuple[float, float, float]:
        """Current roll, pitch, yaw (rad), extrinsic x-y-z convention (ZYX intrinsic)."""
        r, p, y = self.rotation.as_euler("xyz")
        return float(r), float(p), float(y)

    def _init_from_accel(self, acc: np.ndarray) -> None:
        a = acc / np.linalg.norm(acc)
        roll = np.arctan2(a[1], a[2])
        pitch = np.arctan2(-a[0], np.hypot(a[1], a[2]))
        self.q_xyzw = Rotation.from_euler("xyz", [roll, pitch, 0.0]).as_quat()
        self.initialized = True

    def correct_tilt(self, roll_rad: float, pitch_rad: float, gain: float) -> None:
        """Move roll and pitch a fraction ``gain`` toward an external measurement (e.g. a LiDAR scan), keeping yaw."""
        r, p, y = self.rotation.as_euler("xyz")
        # Same convention both ways: extrinsic x-y-z equals intrinsic Z-Y-X.
        r_new = r + gain * float(np.arctan2(np.sin(roll_rad - r), np.cos(roll_rad - r)))
        p_new = p + gain * (pitch_rad - p)
        self.q_xyzw = Rotation.from_euler("xyz", [r_new, p_new, y]).as_quat()

    def update(
        self,
        gyro_rad_s: np.ndarray,
        accel_m_s2: np.ndarray,
        t_s: float,
        at_rest: bool | None = None,
        use_accel: bool = True,
    ) -> np.ndarray:
        """Fuse one sample; returns the bias-corrected angular rate (rad/s, body).

        ``at_rest`` overrides the IMU-only rest detection when another sensor knows (wheel encoders read zero):
        IMU-only detection cannot tell standing still from driving straight at constant speed. With
        ``use_accel`` false the sample only propagates the gyro (the caller knows the body accelerates).
        """
        cfg = self.config
        w = np.asarray(gyro_rad_s, dtype=np.float64).reshape(3)
        a = np.asarray(accel_m_s2, dtype=np.float64).reshape(3)
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(a)) and np.isfinite(t_s)):
            self.rejected += 1
            raise ImuSampleError(f"IMU sample at t={t_s!r} has non-finite values (gyro {w}, accel {a})")
        a_norm = float(np.linalg.norm(a))
        if not self.initialized:
            # Initialise only from a sample that looks like gravity alone (not a start-up jerk or a bump).
            if abs(a_norm - GRAVITY_M_S2) <= cfg.accel_tolerance_m_s2:
                self._init_from_accel(a)
            self.last_t = t_s
            return w - self.bias_rad_s
        dt = t_s - self.last_t if self.last_t is not None else 0.0
        self.last_t = t_s
        if dt <= 0.0 or dt > cfg.max_dt_s:
            self.time_jumps += 1
            self.still_count = 0
            return w - self.bias_rad_s
        corrected = w - self.bias_rad_s
        err = np.zeros(3)
        if use_accel and a_norm > 1e-6 and abs(a_norm - GRAVITY_M_S2) <= cfg.accel_tolerance_m_s2:
            up_body = self.rotation.inv().apply([0.0, 0.0, 1.0])
            err = np.cross(a / a_norm, up_body)
            self.bias_rad_s = self.bias_rad_s - cfg.ki * err * dt
        # At rest the gyro reads its bias (plus Earth rate, below gyro grade): low-pass it.
        still = np.linalg.norm(corrected) < cfg.rest_gyro_rad_s and abs(a_norm - GRAVITY_M_S2) < cfg.rest_accel_m_s2
        if at_rest is not None:
            still = still and at_rest
        self.still_count = self.still_count + 1 if still else 0
        if self.still_count >= cfg.rest_samples:
            self.bias_rad_s = self.bias_rad_s + cfg.rest_bias_gain * (w - self.bias_rad_s)
        nb = float(np.linalg.norm(self.bias_rad_s))
        if nb > cfg.max_bias_rad_s:
            self.bias_rad_s *= cfg.max_bias_rad_s / nb
        omega = corrected + cfg.kp * err
        self.q_xyzw = (self.rotation * Rotation.from_rotvec(omega * dt)).as_quat()
        self.last_rate_rad_s = w - self.bias_rad_s
        return self.last_rate_rad_s
