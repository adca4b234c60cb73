"""Null-space posture for redundant arms: secondary joint-space goals that do not disturb the end effector."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sanqin.runtime.config import param, require


@dataclass(frozen=True)
class NullSpaceConfig:
    """Posture task acting in the null space of the end-effector task."""

    enabled: bool = param(True, "apply the posture task (no effect on a non-redundant arm away from singularities)")
    stiffness: float = param(10.0, "posture stiffness (N·m/rad at torque level, 1/s at velocity level)", min=0.0)
    damping: float = param(2.0, "posture damping at torque level (N·m·s/rad)", min=0.0)
    posture: tuple[float, ...] = param((), "posture joint positions (rad); empty = the state at activation")

    def __post_init__(self) -> None:
        require(all(np.isfinite(self.posture)), "null_space.posture must be finite")


def dls_pinv(J: np.ndarray, damping: float) -> np.ndarray:
    """Damped least-squares pseudo-inverse ``Jᵀ(JJᵀ + λ²I)⁻¹`` (robust near singularities)."""
    m = J.shape[0]
    return J.T @ np.linalg.solve(J @ J.T + (damping**2) * np.eye(m), np.eye(m))


def null_space_projector(J: np.ndarray, J_pinv: np.ndarray) -> np.ndarray:
    """Kinematic null-space projector ``I − J⁺J``: joint velocities through it do not move the site."""
    return np.eye(J.shape[1]) - J_pinv @ J


def dynamic_null_space_projector(
    J: np.ndarray, M: np.ndarray, *, Minv: np.ndarray | None = None, task_inertia: np.ndarray | None = None
) -> np.ndarray:
    """Dynamically consistent torque projector ``I − Jᵀ J̄ᵀ`` with ``J̄ = M⁻¹JᵀΛ`` (Khatib).

    ``Minv`` and ``task_inertia`` (Λ) may be passed when the caller already has them (a control cycle).
    """
    if Minv is None:
        Minv = np.linalg.inv(M)
    lam = np.linalg.pinv(J @ Minv @ J.T) if task_inertia is None else task_inertia
    J_bar = Minv @ J.T @ lam
    return np.eye(J.shape[1]) - J.T @ J_bar.T


def posture_velocity(config: NullSpaceConfig, posture: np.ndarray, q: np.ndarray, N: np.ndarray) -> np.ndarray:
    """Joint velocity (rad/s) pulling ``q`` to the posture, projected into the null space ``N``."""
    if not config.enabled:
        return np.zeros_like(q)
    return N @ (config.stiffness * (posture - q))


def posture_torque(
    config: NullSpaceConfig, posture: np.ndarray, q: np.ndarray, qd: np.ndarray, N: np.ndarray
) -> np.ndarray:
    """Joint torque (N·m) of a posture spring-damper, projected through the torque projector ``N``."""
    if not config.enabled:
        return np.zeros_like(q)
    return N @ (config.stiffness * (posture - q) - config.damping * qd)
