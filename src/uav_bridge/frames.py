"""NED/FRD (MAVLink) ↔ ENU/FLU (REP-103) conversions; quaternions are x, y, z, w on our side.

MAVLink's local frame is north-east-down with a forward-right-down body; ROS uses east-north-up with a
forward-left-up body. These are the only functions that know about NED.
"""

from __future__ import annotations

import math

Quat = tuple[float, float, float, float]  # x, y, z, w


def quat_mul(a: Quat, b: Quat) -> Quat:
    """Hamilton product a ⊗ b of xyzw quaternions."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    )


def quat_from_rpy(roll_rad: float, pitch_rad: float, yaw_rad: float) -> Quat:
    """xyzw quaternion of intrinsic Z-Y-X (yaw, pitch, roll) Euler angles."""
    cr, sr = math.cos(roll_rad / 2), math.sin(roll_rad / 2)
    cp, sp = math.cos(pitch_rad / 2), math.sin(pitch_rad / 2)
    cy, sy = math.cos(yaw_rad / 2), math.sin(yaw_rad / 2)
    return (
        sr * cp * cy - cr * sp * sy,
        cr * sp * cy + sr * cp * sy,
        cr * cp * sy - sr * sp * cy,
        cr * cp * cy + sr * sp * sy,
    )


def rpy_from_quat(q: Quat) -> tuple[float, float, float]:
    """Z-Y-X Euler angles (roll, pitch, yaw) in radians of an xyzw quaternion."""
    x, y, z, w = q
    roll = math.atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y))
    pitch = math.asin(max(-1.0, min(1.0, 2 * (w * y - z * x))))
    yaw = math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    return roll, pitch, yaw


#: Rotation taking NED-frame vectors to ENU, and FLU body vectors to FRD (both their own inverses).
Q_ENU_FROM_NED: Quat = quat_from_rpy(math.pi, 0.0, math.pi / 2)
Q_FRD_FROM_FLU: Quat = quat_from_rpy(math.pi, 0.0, 0.0)


def ned_to_enu(north: float, east: float, down: float) -> tuple[float, float, float]:
    """A NED vector → ENU."""
    return east, north, -down


def enu_to_ned(east: float, north: float, up: float) -> tuple[float, float, float]:
    """An ENU vector → NED."""
    return north, east, -up


def frd_to_flu(x: float, y: float, z: float) -> tuple[float, float, float]:
    """A forward-right-down body vector → forward-left-up (also FLU → FRD)."""
    return x, -y, -z


def attitude_ned_to_enu(q_ned_frd_wxyz: tuple[float, float, float, float]) -> Quat:
    """MAVLink attitude (w, x, y, z; body FRD in NED) → ROS orientation (x, y, z, w; body FLU in ENU)."""
    w, x, y, z = q_ned_frd_wxyz
    n = math.sqrt(w * w + x * x + y * y + z * z)
    if not n > 0 or not math.isfinite(n):
        raise ValueError(f"attitude quaternion is not a rotation: {q_ned_frd_wxyz}")
    q = (x / n, y / n, z / n, w / n)
    out = quat_mul(quat_mul(Q_ENU_FROM_NED, q), Q_FRD_FROM_FLU)
    return out if out[3] >= 0 else (-out[0], -out[1], -out[2], -out[3])


def attitude_enu_to_ned(q_enu_flu: Quat) -> tuple[float, float, float, float]:
    """ROS orientation (xyzw, FLU in ENU) → MAVLink attitude (w, x, y, z; FRD in NED)."""
    x, y, z, w = quat_mul(quat_mul(Q_ENU_FROM_NED, q_enu_flu), Q_FRD_FROM_FLU)
    if w < 0:
        x, y, z, w = -x, -y, -z, -w
    return w, x, y, z


def yaw_ned_to_enu(yaw_ned_rad: float) -> float:
    """Heading clockwise from north → yaw counter-clockwise from east, wrapped to (-π, π]."""
    return wrap_pi(math.pi / 2 - yaw_ned_rad)


def yaw_enu_to_ned(yaw_enu_rad: float) -> float:
    """Yaw counter-clockwise from east → heading clockwise from north, wrapped to (-π, π]."""
    return wrap_pi(math.pi / 2 - yaw_enu_rad)


def wrap_pi(angle_rad: float) -> float:
    """Wrap an angle to (-π, π]."""
    a = math.fmod(angle_rad + math.pi, 2 * math.pi)
    if a <= 0:
        a += 2 * math.pi
    return a - math.pi
