"""Movement-intent detection: force or EMG onset with hysteresis, and a BCI motor-imagery trigger.

All detectors are stepped with a time stamp and a scalar; non-finite samples are ignored (counted) and
never start a movement.

* :class:`OnsetDetector` — on when the signal stays above ``on`` for ``min_on_s``, off when it stays
  below ``off`` (< ``on``) for ``min_off_s``: the hysteresis band and dwell times reject noise and tremor.
* :class:`EmgOnset` — an :class:`OnsetDetector` on the EMG envelope with thresholds at ``baseline mean +
  k·sd`` (Hodges & Bui 1996) learned from a rest window (:meth:`EmgOnset.calibrate`).
* :class:`BciTrigger` — fires once when the motor-imagery confidence (0..1) stays above a threshold for a
  dwell time, then stays quiet for a refractory period.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sanqin.rehab_robot.errors import ControlError
from sanqin.runtime.config import param, require


class OnsetDetector:
    """Threshold detector with hysteresis and dwell times."""

    def __init__(self, on: float, off: float, min_on_s: float = 0.03, min_off_s: float = 0.05) -> None:
        if not (math.isfinite(on) and math.isfinite(off) and off < on):
            raise ControlError(f"onset detector needs finite thresholds with off < on, got on={on}, off={off}")
        self.on, self.off, self.min_on_s, self.min_off_s = float(on), float(off), min_on_s, min_off_s
        self.active = False
        self._since: float | None = None
        self.rejected = 0

    def reset(self) -> None:
        """Back to inactive."""
        self.active = False
        self._since = None

    def step(self, t_s: float, value: float) -> bool:
        """Feed one sample; return whether intent is active."""
        if not (math.isfinite(value) and math.isfinite(t_s)):
            self.rejected += 1
            return self.active
        crossing = value > self.on if not self.active else value < self.off
        if crossing:
            self._since = t_s if self._since is None else self._since
            if t_s - self._since >= (self.min_on_s if not self.active else self.min_off_s):
                self.active = not self.active
                self._since = None
        else:
            self._since = None
        return self.active


def force_toward(f_int: np.ndarray, x: np.ndarray, target: np.ndarray) -> float:
    """Component of the interaction force (N or N·m) pointing from ``x`` toward ``target``."""
    d = np.asarray(target, float) - np.asarray(x, float)
    n = float(np.linalg.norm(d))
    return float(np.asarray(f_int, float) @ d / n) if n > 1e-9 else 0.0


@dataclass(frozen=True)
class IntentConfig:
    """Thresholds of the intent detectors."""

    force_on: float = param(3.0, "interaction toward the target that signals intent (N or N·m)", min=0.0)
    force_off: float = param(1.5, "hysteresis release level (N or N·m)", min=0.0)
    force_min_on_s: float = param(0.05, "force must stay above force_on this long (s)", min=0.0, max=2.0)
    emg_k_on: float = param(3.0, "EMG onset at baseline mean + k_on standard deviations", min=0.5, max=20.0)
    emg_k_off: float = param(1.5, "EMG offset at baseline mean + k_off standard deviations", min=0.0, max=20.0)
    emg_min_on_s: float = param(0.025, "EMG envelope must stay above onset this long (s)", min=0.0, max=2.0)
    bci_threshold: float = param(0.7, "motor-imagery confidence that triggers a movement (0..1)", min=0.0, max=1.0)
    bci_dwell_s: float = param(0.5, "confidence must stay above the threshold this long (s)", min=0.0, max=10.0)
    bci_refractory_s: float = param(2.0, "no new trigger this long after one (s)", min=0.0, max=60.0)

    def __post_init__(self) -> None:
        require(self.force_off < self.force_on, "intent: force_off must be below force_on")
        require(self.emg_k_off < self.emg_k_on, "intent: emg_k_off must be below emg_k_on")


class EmgOnset:
    """EMG-envelope onset detector with thresholds from a rest-baseline calibration."""

    def __init__(self, k_on: float, k_off: float, min_on_s: float) -> None:
        self.k_on, self.k_off, self.min_on_s = k_on, k_off, min_on_s
        self.detector: OnsetDetector | None = None
        self._rest: list[float] = []

    def calibrate(self, rest_envelope: np.ndarray) -> None:
        """Set thresholds from a rest window of the EMG envelope (≥ 20 finite samples)."""
        r = np.asarray(rest_envelope, float)
        r = r[np.isfinite(r)]
        if r.size < 20:
            raise ControlError(f"EMG calibration needs at least 20 finite rest samples, got {r.size}")
        mu, sd = float(np.mean(r)), max(float(np.std(r)), 1e-6)
        self.detector = OnsetDetector(mu + self.k_on * sd, mu + self.k_off * sd, self.min_on_s, 0.05)

    def step(self, t_s: float, envelope: float) -> bool:
        """Feed one envelope sample; until calibrated, samples build the rest baseline (returns False)."""
        if self.detector is None:
            if math.isfinite(envelope):
                self._rest.append(float(envelope))
                if len(self._rest) >= 200:
                    self.calibrate(np.array(self._rest))
            return False
        return self.detector.step(t_s, envelope)


class BciTrigger:
    """Fires once per sustained motor-imagery episode (confidence above threshold for a dwell time)."""

    def __init__(self, threshold: float, dwell_s: float, refractory_s: float) -> None:
        self.threshold, self.dwell_s, self.refractory_s = threshold, dwell_s, refractory_s
        self._above_since: float | None = None
        self._last_fire = -math.inf
        self.rejected = 0

    def step(self, t_s: float, confidence: float) -> bool:
        """Feed one confidence sample (0..1); True on the sample that triggers a movement."""
        if not (math.isfinite(confidence) and 0.0 <= confidence <= 1.0):
            self.rejected += 1
            self._above_since = None
            return False
        if confidence < self.threshold or t_s - self._last_fire < self.refractory_s:
            self._above_since = None
            return False
        self._above_since = t_s if self._above_since is None else self._above_since
        if t_s - self._above_since >= self.dwell_s:
            self._last_fire = t_s
            self._above_since = None
            return True
        return False
