"""Progress metrics of reaching movements: range of motion, peak speed, smoothness, path deviation, assistance.

* SPARC — spectral arc length of the speed profile (Balasubramanian et al. 2015); closer to 0 is smoother
  (a minimum-jerk reach scores about −1.6; jerky, segmented reaches go below −2).
* normalised jerk — ``sqrt(½ ∫|x⃛|² dt · T⁵ / L²)`` (Teulings et al. 1997), dimensionless and independent of
  amplitude and duration; a minimum-jerk reach (the smoothest rest-to-rest reach) scores √360 ≈ 19, larger
  is jerkier. The jerk comes from a Savitzky–Golay filter (scipy) so sensor noise does not dominate.
* path deviation — largest distance from the straight start→goal segment (1-D tasks: overshoot past the
  goal or the start).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy.signal import savgol_filter


def sparc(speed: np.ndarray, fs_hz: float, pad_level: int = 4, fc_hz: float = 10.0, amp_th: float = 0.05) -> float:
    """Spectral arc length of a speed profile sampled at ``fs_hz`` (NaN for fewer than 4 samples or no motion)."""
    v = np.asarray(speed, float)
    if v.size < 4 or not np.all(np.isfinite(v)) or float(np.max(np.abs(v))) <= 1e-9:
        return float("nan")
    nfft = int(2 ** (math.ceil(math.log2(v.size)) + pad_level))
    f = np.arange(0, fs_hz, fs_hz / nfft)
    mag = np.abs(np.fft.fft(v, nfft))
    mag = mag / mag.max()
    sel = f <= fc_hz
    f_sel, m_sel = f[sel], mag[sel]
    above = np.nonzero(m_sel >= amp_th)[0]
    if above.size == 0:
        return float("nan")
    f_sel, m_sel = f_sel[: above[-1] + 1], m_sel[: above[-1] + 1]
    df = np.diff(f_sel) / (f_sel[-1] - f_sel[0]) if f_sel[-1] > f_sel[0] else np.zeros(0)
    return float(-np.sum(np.sqrt(df**2 + np.diff(m_sel) ** 2)))


def _jerk(x: np.ndarray, dt_s: float) -> np.ndarray:
    """Smoothed third derivative of positions ``x`` (N×d)."""
    n = x.shape[0]
    win = min(n if n % 2 else n - 1, max(7, int(round(0.05 / dt_s)) | 1))
    return savgol_filter(x, win, 4 if win > 5 else win - 1, deriv=3, delta=dt_s, axis=0)


def normalized_jerk(x: np.ndarray, dt_s: float) -> float:
    """Dimensionless jerk of a path ``x`` (N×d) sampled every ``dt_s`` (NaN if too short or no motion)."""
    x = np.asarray(x, float).reshape(len(x), -1)
    if x.shape[0] < 9 or not np.all(np.isfinite(x)):
        return float("nan")
    j = _jerk(x, dt_s)
    length = float(np.sum(np.linalg.norm(np.diff(x, axis=0), axis=1)))
    if length <= 1e-9:
        return float("nan")
    duration = dt_s * (x.shape[0] - 1)
    return float(math.sqrt(0.5 * float(np.sum(np.sum(j**2, axis=1))) * dt_s * duration**5 / length**2))


def path_deviation(x: np.ndarray, start: np.ndarray, goal: np.ndarray) -> float:
    """Largest distance from the straight segment start→goal (1-D: overshoot beyond the goal or start)."""
    x = np.asarray(x, float).reshape(len(x), -1)
    s, g = np.asarray(start, float).reshape(-1), np.asarray(goal, float).reshape(-1)
    if x.shape[0] == 0:
        return float("nan")
    if s.size == 1:
        lo, hi = min(s[0], g[0]), max(s[0], g[0])
        return float(max(0.0, np.max(x[:, 0] - hi), np.max(lo - x[:, 0])))
    d = g - s
    L2 = float(d @ d)
    if L2 < 1e-18:
        return float(np.max(np.linalg.norm(x - s, axis=1)))
    u = np.clip((x - s) @ d / L2, 0.0, 1.0)
    return float(np.max(np.linalg.norm(x - (s + u[:, None] * d), axis=1)))


def range_of_motion(x: np.ndarray) -> np.ndarray:
    """Per-axis excursion (max − min) of positions ``x`` (N×d)."""
    x = np.asarray(x, float).reshape(len(x), -1)
    return np.ptp(x, axis=0) if x.shape[0] else np.zeros(x.shape[1])


@dataclass(frozen=True)
class TrialMetrics:
    """Metrics of one reaching trial (task units: m or rad; forces N or N·m)."""

    index: int
    mode: str
    success: bool
    final_error: float
    rms_tracking_error: float
    path_deviation: float
    peak_speed: float
    sparc: float
    normalized_jerk: float
    rom: tuple[float, ...]
    mean_assist_force: float
    assist_gain: float
    duration_s: float
    aborted: str = ""

    def to_dict(self) -> dict[str, object]:
        """Plain data (NaN → None) for the session log."""
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(self).items()}


def trial_metrics(index: int, mode: str, t_s: np.ndarray, x: np.ndarray, v: np.ndarray, x_ref: np.ndarray,
                  f_assist: np.ndarray, start: np.ndarray, goal: np.ndarray, tolerance: float,
                  assist_gain: float, aborted: str = "") -> TrialMetrics:
    """Compute a trial's metrics from its samples (rows aligned in time)."""
    t_s = np.asarray(t_s, float)
    n = t_s.size
    x = np.asarray(x, float).reshape(n, -1)
    v = np.asarray(v, float).reshape(n, -1)
    if n < 2:
        nan = float("nan")
        return TrialMetrics(index, mode, False, nan, nan, nan, nan, nan, nan, (), nan, assist_gain, 0.0,
                            aborted or "no samples")
    dt = float(np.median(np.diff(t_s)))
    speed = np.linalg.norm(v, axis=1)
    final = float(np.linalg.norm(x[-1] - np.asarray(goal, float)))
    err = np.linalg.norm(x - np.asarray(x_ref, float).reshape(n, -1), axis=1)
    fa = np.linalg.norm(np.asarray(f_assist, float).reshape(n, -1), axis=1)
    return TrialMetrics(
        index=index, mode=mode, success=(final <= tolerance and not aborted), final_error=final,
        rms_tracking_error=float(np.sqrt(np.mean(err**2))), path_deviation=path_deviation(x, start, goal),
        peak_speed=float(speed.max()), sparc=sparc(speed, 1.0 / dt) if dt > 0 else float("nan"),
        normalized_jerk=normalized_jerk(x, dt) if dt > 0 else float("nan"),
        rom=tuple(float(r) for r in range_of_motion(x)), mean_assist_force=float(fa.mean()),
        assist_gain=float(assist_gain), duration_s=float(t_s[-1] - t_s[0]), aborted=aborted,
    )


@dataclass(frozen=True)
class SessionSummary:
    """Aggregates over a session's completed trials."""

    trials: int
    aborted: int
    success_rate: float
    mean_final_error: float
    mean_path_deviation: float
    mean_peak_speed: float
    mean_sparc: float
    mean_normalized_jerk: float
    rom: tuple[float, ...]
    mean_assist_force: float
    final_assist_gain: float

    def to_dict(self) -> dict[str, object]:
        """Plain data (NaN → None)."""
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(self).items()}


def _nanmean(values: Sequence[float]) -> float:
    a = np.array([v for v in values if v is not None], float)
    a = a[np.isfinite(a)]
    return float(a.mean()) if a.size else float("nan")


def summarize(trials: Sequence[TrialMetrics]) -> SessionSummary:
    """Session aggregates; aborted trials count against the success rate but not the movement metrics."""
    done = [t for t in trials if not t.aborted]
    rom = tuple(float(r) for r in np.max(np.array([t.rom for t in done]), axis=0)) if done else ()
    return SessionSummary(
        trials=len(trials), aborted=len(trials) - len(done),
        success_rate=(sum(t.success for t in trials) / len(trials)) if trials else float("nan"),
        mean_final_error=_nanmean([t.final_error for t in done]),
        mean_path_deviation=_nanmean([t.path_deviation for t in done]),
        mean_peak_speed=_nanmean([t.peak_speed for t in done]),
        mean_sparc=_nanmean([t.sparc for t in done]),
        mean_normalized_jerk=_nanmean([t.normalized_jerk for t in done]),
        rom=rom, mean_assist_force=_nanmean([t.mean_assist_force for t in done]),
        final_assist_gain=trials[-1].assist_gain if trials else float("nan"),
    )
