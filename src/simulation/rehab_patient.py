"""A simulated impaired patient for rehabilitation-robot tests: a planar 2-link arm's own joint torques.

The patient sees the target, waits a reaction time, then tries to reach it along their own minimum-jerk
path; the voluntary torques are a joint-space PD toward that path scaled by the impaired strength. On top:

* reduced strength — voluntary torque × ``strength`` (0..1), saturated at ``strength × max_torque``;
* spasticity — velocity-dependent resistance to elbow *extension* above a threshold speed (Lance's
  definition): ``τ = k_sp · max(0, ω_ext − ω_th)`` opposing the extension;
* tremor — a ~5 Hz elbow torque with slowly drifting phase;
* fatigue — strength × a fatigue level that drops with effort and recovers at rest;
* recovery over sessions — strength rises and spasticity falls toward healthy values (exponential in the
  session index);
* spasms — an injected sudden elbow-flexion torque (pulls the hand back toward the shoulder).

Joint convention: shoulder angle from +x, elbow relative, elbow on the right (negative elbow angle);
elbow flexion = −q[1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sanqin.runtime.config import param


@dataclass(frozen=True)
class PatientConfig:
    """Impairment and arm parameters of the simulated patient."""

    upper_arm_m: float = param(0.30, "upper-arm length (m)", min=0.15, max=0.5)
    forearm_m: float = param(0.33, "forearm + hand length (m)", min=0.15, max=0.5)
    max_torque_nm: float = param(12.0, "healthy voluntary torque limit per joint (N·m)", min=0.0, max=100.0)
    kp_nm_rad: float = param(60.0, "healthy voluntary joint stiffness toward the intended path (N·m/rad)", min=0.0)
    kd_nms_rad: float = param(3.0, "healthy voluntary joint damping (N·m·s/rad)", min=0.0)
    strength: float = param(0.25, "strength at session 0 (0..1 of healthy)", min=0.0, max=1.0)
    strength_recovered: float = param(0.9, "strength after full recovery", min=0.0, max=1.0)
    spasticity_nms_rad: float = param(4.0, "spasticity gain at session 0 (N·m·s/rad above the threshold)", min=0.0)
    spasticity_recovered: float = param(0.5, "spasticity gain after full recovery", min=0.0)
    spasticity_threshold_rad_s: float = param(0.3, "elbow extension speed above which spasticity acts (rad/s)",
                                              min=0.0)
    recovery_sessions: float = param(3.0, "recovery time constant in sessions", min=0.1)
    tremor_nm: float = param(0.3, "tremor torque amplitude at the elbow (N·m)", min=0.0)
    tremor_hz: float = param(5.0, "tremor frequency (Hz)", min=0.1, max=20.0)
    fatigue_rate: float = param(0.02, "fatigue per second at full voluntary effort", min=0.0, max=1.0)
    fatigue_recovery_rate: float = param(0.05, "fatigue recovery per second (toward fresh)", min=0.0, max=1.0)
    reaction_time_s: float = param(0.25, "delay between a new target and the patient's start (s)", min=0.0)
    movement_time_s: float = param(1.4, "the patient's own intended reach duration (s)", min=0.2)
    passive_damping_nms_rad: float = param(0.5, "passive tissue damping per joint (N·m·s/rad)", min=0.0)
    intent_push: float = param(20.0, "push toward a new target before the cursor moves, at full strength "
                                     "(N at the hand; N·m at the elbow)", min=0.0)
    spasm_torque_nm: float = param(8.0, "elbow-flexion torque of an injected spasm (N·m)", min=0.0)
    spasm_duration_s: float = param(0.4, "duration of an injected spasm (s)", min=0.0)


class ImpairedPatient:
    """Joint torques of the patient's arm for a given state, target and time; see the module docstring."""

    def __init__(self, config: PatientConfig, shoulder_xy: np.ndarray, session: int = 0,
                 rng: np.random.Generator | None = None) -> None:
        self.config = config
        self.shoulder = np.asarray(shoulder_xy, float)
        self.rng = rng or np.random.default_rng(0)
        self.fatigue = 1.0
        self.set_session(session)
        self._plan: tuple[np.ndarray, np.ndarray, float, float] | None = None  # start, goal, t0, T
        self._target: np.ndarray | None = None
        self._lean = False
        self._tremor_phase = float(self.rng.uniform(0, 2 * math.pi))
        self.spasm_until = -math.inf

    def set_session(self, session: int) -> None:
        """Recovery: strength and spasticity for therapy session number ``session`` (0-based)."""
        c = self.config
        r = 1.0 - math.exp(-session / c.recovery_sessions)
        self.session = session
        self.strength = c.strength + (c.strength_recovered - c.strength) * r
        self.spasticity = c.spasticity_nms_rad + (c.spasticity_recovered - c.spasticity_nms_rad) * r
        self.fatigue = 1.0

    def tire(self, effort: float, dt_s: float) -> None:
        """Fatigue over ``dt_s``: drops with the voluntary ``effort`` (0..1 of healthy), recovers toward fresh."""
        c = self.config
        self.fatigue += dt_s * (-c.fatigue_rate * effort + c.fatigue_recovery_rate * (1.0 - self.fatigue))
        self.fatigue = min(max(self.fatigue, 0.2), 1.0)

    # --- kinematics ------------------------------------------------------------------------------
    def hand(self, q: np.ndarray) -> np.ndarray:
        """Hand position (m, world) for arm joint angles."""
        a, b = self.config.upper_arm_m, self.config.forearm_m
        return self.shoulder + np.array([a * math.cos(q[0]) + b * math.cos(q[0] + q[1]),
                                         a * math.sin(q[0]) + b * math.sin(q[0] + q[1])])

    def inverse(self, x: np.ndarray) -> np.ndarray:
        """Arm joint angles (elbow on the right) reaching hand position ``x`` (clamped to the reachable ring)."""
        a, b = self.config.upper_arm_m, self.config.forearm_m
        d = np.asarray(x, float) - self.shoulder
        r = float(np.clip(np.linalg.norm(d), abs(a - b) + 1e-4, a + b - 1e-4))
        c2 = (r * r - a * a - b * b) / (2 * a * b)
        q1 = -math.acos(max(-1.0, min(1.0, c2)))
        q0 = math.atan2(d[1], d[0]) - math.atan2(b * math.sin(q1), a + b * math.cos(q1))
        return np.array([q0, q1])

    def jacobian(self, q: np.ndarray) -> np.ndarray:
        """∂hand/∂q (2×2)."""
        a, b = self.config.upper_arm_m, self.config.forearm_m
        s1, c1 = math.sin(q[0]), math.cos(q[0])
        s12, c12 = math.sin(q[0] + q[1]), math.cos(q[0] + q[1])
        return np.array([[-a * s1 - b * s12, -b * s12], [a * c1 + b * c12, b * c12]])

    # --- behaviour --------------------------------------------------------------------------------
    def see_target(self, t_s: float, target: np.ndarray, q: np.ndarray) -> None:
        """A new target appeared: lean toward it (the intent a force sensor can pick up) until :meth:`go`."""
        target = np.asarray(target, float)
        if self._target is not None and np.allclose(target, self._target):
            return
        self._target = target
        self._lean = True

    def go(self, t_s: float, q: np.ndarray) -> None:
        """The robot's cursor starts moving: reach from the current hand position along with it."""
        if self._target is None:
            return
        self._lean = False
        self._plan = (self.hand(q), self._target, t_s + self.config.reaction_time_s, self.config.movement_time_s)

    def spasm(self, t_s: float) -> None:
        """Start a spasm now."""
        self.spasm_until = t_s + self.config.spasm_duration_s

    def torque(self, t_s: float, q: np.ndarray, qd: np.ndarray, dt_s: float) -> np.ndarray:
        """The patient's joint torques (N·m): voluntary + spasticity + tremor + passive + spasm."""
        c = self.config
        tau = -c.passive_damping_nms_rad * qd
        vol = np.zeros(2)
        if self._plan is not None:
            start, goal, t0, T = self._plan
            s = min(max((t_s - t0) / T, 0.0), 1.0)
            p = s**3 * (10 - 15 * s + 6 * s * s)
            dp = 30 * s * s * (1 - s) ** 2 / T if 0 < s < 1 else 0.0
            x_des = start + (goal - start) * p
            v_des = (goal - start) * dp
            q_des = self.inverse(x_des)
            qd_des = np.linalg.solve(self.jacobian(q_des), v_des)
            scale = self.strength * self.fatigue
            vol = scale * (c.kp_nm_rad * (q_des - q) + c.kd_nms_rad * (qd_des - qd))
            vol = np.clip(vol, -scale * c.max_torque_nm, scale * c.max_torque_nm)
        if self._lean and self._target is not None:  # a push toward the target while waiting for the cursor
            d = self._target - self.hand(q)
            f = c.intent_push * self.strength * d / max(float(np.linalg.norm(d)), 1e-9)
            vol = vol + self.jacobian(q).T @ f
        self.tire(float(np.max(np.abs(vol))) / c.max_torque_nm if c.max_torque_nm > 0 else 0.0, dt_s)
        ext_speed = float(qd[1])  # elbow extension: the elbow angle rises toward 0 (less flexed)
        spastic = self.spasticity * max(0.0, ext_speed - c.spasticity_threshold_rad_s)
        tau = tau + vol + np.array([0.0, -spastic])
        tau[1] += c.tremor_nm * math.sin(2 * math.pi * c.tremor_hz * t_s + self._tremor_phase)
        if t_s < self.spasm_until:
            tau[1] -= c.spasm_torque_nm  # flexion: more negative elbow angle
        return tau


class ElbowPatient:
    """The same impairments for a musculoskeletal elbow: outputs flexor/extensor *excitations* (0..1).

    The intended joint torque (a PD toward the patient's own minimum-jerk plan, scaled by strength and
    fatigue) is split into flexor and extensor excitation by the muscles' torque capacity; spasticity is a
    stretch reflex — flexor excitation proportional to the elbow *extension* speed above the threshold;
    tremor alternates a small flexor/extensor excitation; a spasm drives the flexors hard.
    Joint convention (MyoSuite elbow): angle 0 = extended, positive = flexion.
    """

    def __init__(self, config: PatientConfig, session: int = 0, rng: np.random.Generator | None = None) -> None:
        self.config = config
        self.rng = rng or np.random.default_rng(0)
        self._arm = ImpairedPatient(config, np.zeros(2), session, self.rng)  # shares recovery and fatigue laws
        self._plan: tuple[float, float, float, float] | None = None
        self._target: float | None = None
        self._lean = False
        self.spasm_until = -math.inf

    @property
    def strength(self) -> float:
        """Current strength (recovery-dependent)."""
        return self._arm.strength

    @property
    def spasticity(self) -> float:
        """Current spasticity gain."""
        return self._arm.spasticity

    @property
    def fatigue(self) -> float:
        """Current fatigue level (1 = fresh)."""
        return self._arm.fatigue

    def set_session(self, session: int) -> None:
        """Recovery for session ``session``."""
        self._arm.set_session(session)

    def see_target(self, t_s: float, target: float, q: float) -> None:
        """A new target angle (rad) appeared: lean toward it until :meth:`go`."""
        if self._target is not None and abs(target - self._target) < 1e-9:
            return
        self._target = float(target)
        self._lean = True

    def go(self, t_s: float, q: float) -> None:
        """The robot's cursor starts moving: follow it from the current angle."""
        if self._target is None:
            return
        self._lean = False
        self._plan = (float(q), self._target, t_s + self.config.reaction_time_s, self.config.movement_time_s)

    def spasm(self, t_s: float) -> None:
        """Start a spasm now."""
        self.spasm_until = t_s + self.config.spasm_duration_s

    def excitations(self, t_s: float, q: float, qd: float, dt_s: float, flex_max_nm: float,
                    ext_max_nm: float) -> tuple[float, float]:
        """(flexor, extensor) excitation for this instant."""
        c = self.config
        tau = 0.0
        if self._plan is not None:
            start, goal, t0, T = self._plan
            s = min(max((t_s - t0) / T, 0.0), 1.0)
            q_des = start + (goal - start) * s**3 * (10 - 15 * s + 6 * s * s)
            qd_des = (goal - start) * 30 * s * s * (1 - s) ** 2 / T if 0 < s < 1 else 0.0
            scale = self._arm.strength * self._arm.fatigue
            tau = scale * (c.kp_nm_rad * (q_des - q) + c.kd_nms_rad * (qd_des - qd))
            tau = max(-scale * c.max_torque_nm, min(scale * c.max_torque_nm, tau))
        if self._lean and self._target is not None:  # intent: a push toward the new target
            tau += math.copysign(c.intent_push * self._arm.strength, self._target - q)
        arm = self._arm
        arm.tire(abs(tau) / c.max_torque_nm if c.max_torque_nm > 0 else 0.0, dt_s)
        flex = max(tau, 0.0) / flex_max_nm
        ext = max(-tau, 0.0) / ext_max_nm
        ext_speed = max(0.0, -qd - c.spasticity_threshold_rad_s)  # extension = angle decreasing
        flex += arm.spasticity * ext_speed / flex_max_nm  # stretch reflex of the flexors
        tremor = c.tremor_nm * math.sin(2 * math.pi * c.tremor_hz * t_s) / flex_max_nm
        flex, ext = flex + max(tremor, 0.0), ext + max(-tremor, 0.0)
        if t_s < self.spasm_until:
            flex += c.spasm_torque_nm / flex_max_nm
        return min(max(flex, 0.0), 1.0), min(max(ext, 0.0), 1.0)
