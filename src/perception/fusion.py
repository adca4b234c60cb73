"""Pose filter fusing wheel odometry, IMU and LiDAR registration (an EKF on x, y, z, yaw).

Roll and pitch come from the IMU attitude filter (gravity makes them observable); the filter state is the
base_link position in ``odom``, its yaw and the wheel scale factor, ``s = [x, y, z, ψ, k]`` with
covariance ``P``.

* **Prediction** (wheel + IMU): the wheel's forward speed, times the scale ``k``, is rotated by the full
  attitude (ramps and slopes move the robot in z) and the yaw integrates the IMU yaw rate. Process noise
  is a random walk in the distance driven (variance ∝ distance: scale error, slip) plus the gyro noise.
* **Correction** (LiDAR): a registered pose with its information matrix from the ICP Hessian, in which
  degenerate directions carry no information (see :mod:`sanqin.perception.registration`). The update is
  done in information form, ``P⁺ = (P⁻¹ + I)⁻¹``, so along the axis of a featureless tunnel the estimate
  is exactly the wheel/IMU prediction while the observable directions are corrected. The information per
  direction is capped by ``floor_*`` (correlated ICP residuals are never as informative as the Hessian
  says), and a correction whose Mahalanobis distance exceeds ``gate_chi2`` is rejected — unless
  ``max_rejections`` corrections in a row were: then the prediction is what went wrong (wheel slip, a tilt
  error), the covariance is inflated and the correction taken.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sanqin.runtime.config import param


@dataclass(frozen=True)
class FusionConfig:
    """Noise model of the prediction and limits of the LiDAR correction."""

    wheel_noise_m_per_sqrt_m: float = param(
        0.05, "random-walk std of the wheel distance: grows with sqrt(distance) (m/sqrt(m))", min=0.0, max=10.0
    )
    lateral_noise_m_per_sqrt_m: float = param(0.02, "random-walk std of sideways slip (m/sqrt(m))", min=0.0, max=10.0)
    vertical_noise_m_per_sqrt_m: float = param(
        0.02, "random-walk std of vertical motion (m/sqrt(m))", min=0.0, max=10.0
    )
    gyro_noise_rad_s: float = param(0.005, "yaw-rate noise density (rad/s/sqrt(Hz) ~ rad/sqrt(s))", min=0.0)
    floor_position_m: float = param(0.02, "smallest std a LiDAR correction claims per position direction (m)", min=1e-4)
    floor_yaw_rad: float = param(0.002, "smallest std a LiDAR correction claims on yaw (rad)", min=1e-5)
    attitude_std_rad: float = param(
        0.02, "roll/pitch uncertainty of the attitude filter: tilts the predicted motion (rad)", min=0.0, max=0.5
    )
    gate_chi2: float = param(50.0, "corrections with a larger Mahalanobis distance² are rejected", min=1.0)
    max_rejections: int = param(
        3, "after this many rejected corrections in a row the prediction is distrusted and the next one is taken",
        min=1, max=1000,
    )
    reset_std_m: float = param(1.0, "position std the covariance is inflated to after max_rejections (m)", min=0.01)
    estimate_wheel_scale: bool = param(True, "estimate the wheel distance scale factor as a filter state")
    wheel_scale_std: float = param(0.03, "initial std of the wheel scale factor (-)", min=1e-6, max=0.5)
    wheel_scale_rw_per_sqrt_m: float = param(
        2e-4, "random walk of the wheel scale factor (tyre wear, load) per sqrt(m)", min=0.0, max=0.1
    )
    initial_std_m: float = param(0.01, "initial position std (m)", min=1e-6)
    initial_yaw_std_rad: float = param(0.01, "initial yaw std (rad)", min=1e-6)


def wrap(a: float) -> float:
    """Angle wrapped to [-π, π)."""
    return float((a + np.pi) % (2 * np.pi) - np.pi)


def rot_rpy(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """Rotation matrix R = Rz(yaw) Ry(pitch) Rx(roll)."""
    cr, sr, cp, sp, cy, sy = np.cos(roll), np.sin(roll), np.cos(pitch), np.sin(pitch), np.cos(yaw), np.sin(yaw)
    return np.array(
        [
            [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
            [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
            [-sp, cp * sr, cp * cr],
        ]
    )


@dataclass(frozen=True)
class CorrectionResult:
    """What a LiDAR correction did."""

    accepted: bool
    chi2: float
    observable_dims: int


class PoseFilter:
    """EKF over ``[x, y, z, yaw, k]`` of base_link in odom (k: wheel scale); roll/pitch from the attitude filter.

    The wheel scale factor ``k`` (true distance / wheel distance) is observable whenever the LiDAR
    constrains the direction of travel (junctions, equipment, bends); along a degenerate stretch the
    prediction then uses the calibrated scale, which is what keeps the drift along a tunnel axis small.
    """

    def __init__(self, config: FusionConfig) -> None:
        self.config = config
        self.s = np.array([0.0, 0.0, 0.0, 0.0, 1.0])
        k_var = config.wheel_scale_std**2 if config.estimate_wheel_scale else 0.0
        self.p = np.diag([config.initial_std_m**2] * 3 + [config.initial_yaw_std_rad**2, k_var])
        self.roll = 0.0
        self.pitch = 0.0
        self.distance_m = 0.0
        self.rejections = 0
        self.recoveries = 0

    def reset(self, s: np.ndarray | None = None) -> None:
        """Back to a state (default the origin) with the initial covariance."""
        self.__init__(self.config)  # type: ignore[misc]
        if s is not None:
            given = np.asarray(s, float).reshape(-1)
            self.s[: given.size] = given

    def set_attitude(self, roll: float, pitch: float) -> None:
        """Roll and pitch (rad) from the attitude filter."""
        self.roll, self.pitch = float(roll), float(pitch)

    def matrix(self) -> np.ndarray:
        """4×4 ``odom ← base_link`` of the current estimate."""
        m = np.eye(4)
        m[:3, :3] = rot_rpy(self.roll, self.pitch, self.s[3])
        m[:3, 3] = self.s[:3]
        return m

    def predict(self, forward_m: float, lateral_m: float, dyaw_rad: float, dt_s: float) -> None:
        """Advance by a body-frame displacement (wheel odometry) and a yaw increment (IMU) over ``dt_s``."""
        cfg = self.config
        yaw_mid = self.s[3] + 0.5 * dyaw_rad
        rot = rot_rpy(self.roll, self.pitch, yaw_mid)
        k = self.s[4]
        d = rot @ np.array([k * forward_m, k * lateral_m, 0.0])
        self.s[:3] += d
        self.s[3] = wrap(self.s[3] + dyaw_rad)
        dist = float(np.hypot(forward_m, lateral_m))
        self.distance_m += dist
        f = np.eye(5)
        f[0, 3] = -d[1]
        f[1, 3] = d[0]
        f[:3, 4] = rot @ np.array([forward_m, lateral_m, 0.0])
        g = rot[:, :3]
        tilt2 = (cfg.attitude_std_rad * dist) ** 2  # a pitch/roll error moves the robot vertically
        qb = np.diag(
            [
                cfg.wheel_noise_m_per_sqrt_m**2 * dist + 1e-12,
                cfg.lateral_noise_m_per_sqrt_m**2 * dist + 1e-12,
                cfg.vertical_noise_m_per_sqrt_m**2 * dist + tilt2 + 1e-12,
            ]
        )
        q = np.zeros((5, 5))
        q[:3, :3] = g @ qb @ g.T
        q[3, 3] = cfg.gyro_noise_rad_s**2 * max(dt_s, 0.0) + 1e-12
        if cfg.estimate_wheel_scale:
            q[4, 4] = cfg.wheel_scale_rw_per_sqrt_m**2 * dist
        self.p = f @ self.p @ f.T + q

    def correct(self, measured: np.ndarray, information6: np.ndarray) -> CorrectionResult:
        """Fuse a registered base_link pose (4×4 odom ← base_link) with its 6×6 [ω, δt] information."""
        cfg = self.config
        # Marginalise roll/pitch rotations (ω_x, ω_y) out; keep [δt_x, δt_y, δt_z, ω_z] in state order.
        a = [0, 1]
        b = [3, 4, 5, 2]
        i_aa = information6[np.ix_(a, a)]
        i_ab = information6[np.ix_(a, b)]
        i_bb = information6[np.ix_(b, b)]
        info = i_bb - i_ab.T @ np.linalg.pinv(i_aa, rcond=1e-9) @ i_ab
        info = 0.5 * (info + info.T)
        lam, vec = np.linalg.eigh(info)
        floors2 = np.array([cfg.floor_position_m**2] * 3 + [cfg.floor_yaw_rad**2])
        f2 = np.einsum("ij,i,ij->j", vec, floors2, vec)
        lam = np.clip(lam, 0.0, None)
        lam_eff = lam / (1.0 + lam * f2)
        observable = lam_eff > 1e-6 * lam_eff.max(initial=0.0) if lam_eff.size else np.zeros(0, bool)
        lam_eff = np.where(observable, lam_eff, 0.0)
        info = np.zeros((5, 5))
        info[:4, :4] = (vec * lam_eff) @ vec.T  # the scale factor is not measured, only correlated
        yaw_meas = float(np.arctan2(measured[1, 0], measured[0, 0]))
        e = np.concatenate([measured[:3, 3] - self.s[:3], [wrap(yaw_meas - self.s[3]), 0.0]])
        # Innovation test in the observable subspace: S = H P H^T + R with R = I^-1 on that subspace.
        vo = vec[:, observable]
        if vo.shape[1] == 0:
            return CorrectionResult(False, 0.0, 0)
        eo = vo.T @ e[:4]
        s_mat = vo.T @ self.p[:4, :4] @ vo + np.diag(1.0 / lam_eff[observable])
        chi2 = float(eo @ np.linalg.solve(s_mat, eo))
        if not np.isfinite(chi2) or chi2 > cfg.gate_chi2:
            self.rejections += 1
            if self.rejections < cfg.max_rejections or not np.isfinite(chi2):
                return CorrectionResult(False, chi2, int(observable.sum()))
            # The LiDAR has disagreed for a while: the prediction is what is wrong (slip, a tilt error).
            self.p = self.p + np.diag([cfg.reset_std_m**2] * 3 + [(cfg.reset_std_m / 10.0) ** 2, 0.0])
            self.recoveries += 1
        self.rejections = 0
        # Information form; a scale factor that is not estimated has zero variance and stays out of the inverse.
        n = 5 if self.p[4, 4] > 0 else 4
        p_inv = np.linalg.inv(self.p[:n, :n])
        p_new = np.linalg.inv(p_inv + info[:n, :n])
        self.s[:n] = self.s[:n] + p_new @ info[:n, :n] @ e[:n]
        self.s[3] = wrap(self.s[3])
        self.p[:n, :n] = 0.5 * (p_new + p_new.T)
        self.s[4] = float(np.clip(self.s[4], 0.5, 1.5))
        return CorrectionResult(True, chi2, int(observable.sum()))
