"""One safety layer shared by every controller: limits, watchdog, e-stop latch, input guard, clock handling.

In the spirit of ISO/TS 15066 power-and-force limiting (PFL): commanded speeds are capped, the power
``|F·v| + |τ·ω|`` that a motion could transfer into a contact is capped by scaling the velocity,
and a measured contact force or torque above the limit latches an e-stop. A latched e-stop needs an
explicit :meth:`SafetyLayer.reset`, which is refused while its cause persists.

Cycle contract (one control cycle, node time ``t_s`` in seconds)::

    layer.observe("wrench", stamp_s, t_s, force, torque)   # on each message; NaN/inf/out-of-order rejected
    verdict = layer.assess(t_s, force_n=f, torque_nm=tau, q=q)  # clock, watchdog, latch, limits
    if not verdict.allowed:
        command = controller.safe_command()            # same cycle
    else:
        command = layer.limit_twist(...) / layer.limit_joint_velocity(...)
        layer.check_output(command)                    # a non-finite output also stops

Protective stops (stale or invalid data, clock jumps) clear by themselves once every channel has
fresh, valid data again; e-stops (force/torque over limit, joint limit hit, external request) latch.
After a force/torque e-stop ``release_required`` is set: a controller that can move *away* from the
contact (the cable probe retracting) may do so, as ISO/TS 15066 asks that a clamped body part can be
freed; every other motion stays stopped.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from sanqin.common.diagnostics import DiagLevel, DiagnosticStatus
from sanqin.runtime.config import param, require


class SafetyState(enum.Enum):
    """Safety states, least to most severe."""

    OK = "ok"
    LIMITED = "limited"  # a limit scaled the command this cycle
    STOPPED = "stopped"  # protective stop; clears when the cause clears
    ESTOP = "estop"  # latched; needs reset()


@dataclass(frozen=True)
class SafetyConfig:
    """Limits of the shared safety layer (SI units)."""

    max_linear_speed_m_s: float = param(0.25, "Cartesian speed cap (m/s; 0.25 = ISO 10218 reduced speed)", min=0.0)
    max_angular_speed_rad_s: float = param(1.0, "Cartesian angular speed cap (rad/s)", min=0.0)
    max_joint_speed_rad_s: float = param(1.0, "joint speed cap (rad/s or m/s)", min=0.0)
    max_force_n: float = param(140.0, "measured contact force that latches an e-stop (N)", min=0.0)
    max_torque_nm: float = param(20.0, "measured contact torque that latches an e-stop (N·m)", min=0.0)
    max_power_w: float = param(40.0, "cap on |F·v|+|τ·ω| a commanded motion may transfer (W)", min=0.0)
    watchdog_timeout_s: float = param(0.02, "input age that triggers a protective stop (s)", min=1e-4)
    max_clock_step_s: float = param(0.5, "larger forward clock steps count as a clock jump (s)", min=1e-4)
    max_stamp_lead_s: float = param(
        1.0, "reject samples stamped more than this ahead of the node clock (s; 0 = no check)", min=0.0
    )
    joint_limit_margin: float = param(0.02, "band inside a joint limit where motion towards it is blocked", min=0.0)
    reset_requires_fresh_data: bool = param(True, "refuse a reset while inputs are stale or invalid")

    def __post_init__(self) -> None:
        require(
            self.max_clock_step_s >= self.watchdog_timeout_s,
            f"max_clock_step_s ({self.max_clock_step_s}) must be >= watchdog_timeout_s ({self.watchdog_timeout_s})",
        )


@dataclass(frozen=True)
class Verdict:
    """Outcome of one cycle's assessment: may the controller command motion, and why not."""

    allowed: bool
    state: SafetyState
    reasons: tuple[str, ...] = ()


@dataclass
class _Channel:
    last_rx_s: float = -math.inf
    last_stamp_s: float = -math.inf
    invalid: str = ""


def all_finite(*arrays: object) -> bool:
    """True when every value of every array/scalar is finite (a None counts as absent, i.e. fine).

    One reduction per array (NaN and ±inf propagate through a sum); arrays whose sum overflows
    (values near 1e308) also count as non-finite — no controller input is sane at that size.
    """
    for a in arrays:
        if a is None:
            continue
        if isinstance(a, (float, int)):
            if not math.isfinite(a):
                return False
            continue
        arr = a if isinstance(a, np.ndarray) else np.asarray(a, dtype=float)
        with np.errstate(over="ignore", invalid="ignore"):
            total = float(arr.sum())
        if not math.isfinite(total):
            return False
    return True


class SafetyLayer:
    """Stateful safety supervisor stepped once per control cycle (see module docstring)."""

    def __init__(
        self,
        config: SafetyConfig,
        channels: Iterable[str] = (),
        joint_lower: np.ndarray | None = None,
        joint_upper: np.ndarray | None = None,
    ) -> None:
        self.config = config
        self.channels = {c: _Channel() for c in channels}
        self.joint_lower = None if joint_lower is None else np.asarray(joint_lower, float)
        self.joint_upper = None if joint_upper is None else np.asarray(joint_upper, float)
        self.state = SafetyState.OK
        self.latched = ""
        self.release_required = False  # latched by a contact force/torque: a release motion is allowed
        self.reasons: tuple[str, ...] = ()
        self.last_t_s: float | None = None
        self.dt_s = 0.0
        self._limited = False
        self._jump = ""
        self.counters = {
            "cycles": 0,
            "stopped_cycles": 0,
            "estops": 0,
            "limited_cycles": 0,
            "rejected_nonfinite": 0,
            "rejected_out_of_order": 0,
            "rejected_duplicate": 0,
            "rejected_future": 0,
            "stale_trips": 0,
            "clock_jumps": 0,
            "resets": 0,
        }

    # --- inputs -----------------------------------------------------------------------------------
    def observe(self, channel: str, stamp_s: float, t_s: float, *arrays: object) -> bool:
        """Register a received sample; reject (and flag the channel invalid) on NaN/inf or an old stamp.

        A stamp equal to the last accepted one is a repeat, not new data: it does not refresh the
        watchdog, so a driver stuck re-publishing its last sample stops the robot like a silent one.
        """
        ch = self.channels.setdefault(channel, _Channel())
        if not math.isfinite(t_s):  # a broken node clock would make the sample look fresh for ever
            self.counters["rejected_nonfinite"] += 1
            ch.invalid = "non-finite node clock"
            return False
        if not (math.isfinite(stamp_s) and all_finite(*arrays)):
            self.counters["rejected_nonfinite"] += 1
            ch.invalid = f"non-finite value on {channel}"
            return False
        if stamp_s < ch.last_stamp_s:
            self.counters["rejected_out_of_order"] += 1
            return False
        if stamp_s == ch.last_stamp_s:  # the same sample again (a frozen driver) must not feed the watchdog
            self.counters["rejected_duplicate"] += 1
            return False
        lead = self.config.max_stamp_lead_s
        if lead > 0 and stamp_s > t_s + lead:
            # accepting it would make every later, correctly stamped sample look out of order
            self.counters["rejected_future"] += 1
            return False
        ch.last_stamp_s = stamp_s
        ch.last_rx_s = t_s
        ch.invalid = ""
        return True

    # --- per-cycle assessment ---------------------------------------------------------------------
    def _clock(self, t_s: float) -> str:
        if not math.isfinite(t_s):
            return "non-finite clock"
        last = self.last_t_s
        self.last_t_s = t_s
        if last is None:
            self.dt_s = 0.0
            return ""
        dt = t_s - last
        if dt < -1e-9 or dt > self.config.max_clock_step_s:
            self.counters["clock_jumps"] += 1
            self.dt_s = 0.0
            for ch in self.channels.values():  # data from before the jump has an unknown age
                ch.last_rx_s = -math.inf
                ch.last_stamp_s = -math.inf
            return f"clock jumped {'backwards' if dt < 0 else 'forwards'} by {abs(dt):.3g} s"
        self.dt_s = dt
        return ""

    def assess(
        self,
        t_s: float,
        *,
        force_n: np.ndarray | None = None,
        torque_nm: np.ndarray | None = None,
        q: np.ndarray | None = None,
        extra: tuple[object, ...] = (),
    ) -> Verdict:
        """Judge one cycle: clock, watchdog, invalid inputs, force/torque and joint limits, the latch."""
        self.counters["cycles"] += 1
        self._limited = False
        reasons: list[str] = []
        jump = self._clock(t_s)
        if jump:
            reasons.append(jump)
        stale = False
        for name, ch in self.channels.items():
            if ch.invalid:
                reasons.append(ch.invalid)
            elif t_s - ch.last_rx_s > self.config.watchdog_timeout_s:
                stale = True
                seen = ch.last_rx_s > -math.inf
                reasons.append(f"{name} stale" if seen else f"no data on {name} since start or jump")
        if stale and self.state not in (SafetyState.STOPPED, SafetyState.ESTOP):
            self.counters["stale_trips"] += 1
        if not all_finite(force_n, torque_nm, q, *extra):
            reasons.append("non-finite input")
        else:
            self._check_contact(force_n, torque_nm)
            self._check_joints(q)
        if self.latched:
            reasons.insert(0, self.latched)
            return self._verdict(SafetyState.ESTOP, reasons)
        if reasons:
            return self._verdict(SafetyState.STOPPED, reasons)
        return self._verdict(SafetyState.OK, ())

    def _check_contact(self, force_n: np.ndarray | None, torque_nm: np.ndarray | None) -> None:
        if force_n is not None:
            f = float(np.linalg.norm(force_n))
            if f > self.config.max_force_n:
                self.trip(f"contact force {f:.1f} N above limit {self.config.max_force_n:g} N")
                self.release_required = True
        if torque_nm is not None:
            tau = float(np.linalg.norm(torque_nm))
            if tau > self.config.max_torque_nm:
                self.trip(f"contact torque {tau:.2f} N·m above limit {self.config.max_torque_nm:g} N·m")
                self.release_required = True

    def _check_joints(self, q: np.ndarray | None) -> None:
        if q is None or self.joint_lower is None or self.joint_upper is None:
            return
        below = np.nonzero(q < self.joint_lower)[0]
        above = np.nonzero(q > self.joint_upper)[0]
        if below.size or above.size:
            j = int(below[0]) if below.size else int(above[0])
            lo, hi = self.joint_lower[j], self.joint_upper[j]
            self.trip(f"joint {j} at {q[j]:.4f} outside its limits [{lo:.4f}, {hi:.4f}]")

    def _verdict(self, state: SafetyState, reasons: list[str] | tuple[str, ...]) -> Verdict:
        self.state = state
        self.reasons = tuple(reasons)
        allowed = state in (SafetyState.OK, SafetyState.LIMITED)
        if not allowed:
            self.counters["stopped_cycles"] += 1
        return Verdict(allowed, state, self.reasons)

    # --- latch ------------------------------------------------------------------------------------
    def trip(self, reason: str) -> None:
        """Latch an e-stop (first reason kept) — the current and every later cycle commands a safe stop."""
        if not self.latched:
            self.latched = f"e-stop: {reason}"
            self.counters["estops"] += 1
        self.state = SafetyState.ESTOP

    def request_estop(self, reason: str = "external request") -> None:
        """An operator or supervisor e-stop."""
        self.trip(reason)

    def unfit_channels(self, t_s: float) -> list[str]:
        """Names of the channels whose data is stale or invalid at node time ``t_s`` (all of them if it is NaN)."""
        if not math.isfinite(t_s):
            return list(self.channels)
        timeout = self.config.watchdog_timeout_s
        return [n for n, ch in self.channels.items() if ch.invalid or t_s - ch.last_rx_s > timeout]

    def reset(self, t_s: float) -> tuple[bool, str]:
        """Explicitly clear a latched e-stop; refused while inputs are stale or invalid (if configured)."""
        if not self.latched:
            return True, "nothing latched"
        if self.config.reset_requires_fresh_data:
            bad = self.unfit_channels(t_s)
            if bad:
                return False, f"reset refused: inputs not fresh/valid: {bad}"
        was = self.latched
        self.latched = ""
        self.release_required = False
        self.state = SafetyState.STOPPED  # the next assess() decides whether motion may resume
        self.counters["resets"] += 1
        return True, f"reset ({was})"

    # --- command limiting -------------------------------------------------------------------------
    def _mark_limited(self) -> None:
        if not self._limited:
            self._limited = True
            self.counters["limited_cycles"] += 1
            if self.state is SafetyState.OK:
                self.state = SafetyState.LIMITED

    def limit_twist(
        self,
        linear_m_s: np.ndarray,
        angular_rad_s: np.ndarray,
        force_n: np.ndarray | None = None,
        torque_nm: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Scale a Cartesian velocity (direction kept) to the speed caps and the power cap."""
        c = self.config
        s = 1.0
        v = float(np.linalg.norm(linear_m_s))
        w = float(np.linalg.norm(angular_rad_s))
        if v > c.max_linear_speed_m_s:
            s = min(s, c.max_linear_speed_m_s / v)
        if w > c.max_angular_speed_rad_s:
            s = min(s, c.max_angular_speed_rad_s / w)
        power = 0.0
        if force_n is not None:
            power += abs(float(np.dot(force_n, linear_m_s)))
        if torque_nm is not None:
            power += abs(float(np.dot(torque_nm, angular_rad_s)))
        if power * s > c.max_power_w:
            s = min(s, c.max_power_w / power)
        if s < 1.0:
            self._mark_limited()
            return linear_m_s * s, angular_rad_s * s
        return linear_m_s, angular_rad_s

    def limit_joint_velocity(self, qd: np.ndarray, q: np.ndarray | None = None) -> np.ndarray:
        """Block motion into a joint limit band, then scale (direction kept) to the joint speed cap."""
        out = qd
        if q is not None and self.joint_lower is not None and self.joint_upper is not None:
            m = self.config.joint_limit_margin
            into = ((q <= self.joint_lower + m) & (qd < 0)) | ((q >= self.joint_upper - m) & (qd > 0))
            if into.any():
                out = np.where(into, 0.0, qd)
                self._mark_limited()
        peak = float(np.max(np.abs(out))) if out.size else 0.0
        if peak > self.config.max_joint_speed_rad_s:
            out = out * (self.config.max_joint_speed_rad_s / peak)
            self._mark_limited()
        return out

    def limit_scalar_speed(self, v: float) -> float:
        """Clamp a 1-D speed (rail carriage, probe) to the linear speed cap."""
        cap = self.config.max_linear_speed_m_s
        if abs(v) > cap:
            self._mark_limited()
            return math.copysign(cap, v)
        return v

    def check_output(self, *arrays: object) -> bool:
        """A controller output must be finite; otherwise this cycle becomes a protective stop."""
        if all_finite(*arrays):
            return True
        self.state = SafetyState.STOPPED
        self.reasons = (*self.reasons, "controller produced a non-finite command")
        self.counters["stopped_cycles"] += 1
        return False

    # --- reporting --------------------------------------------------------------------------------
    @property
    def allowed(self) -> bool:
        """Whether the last assessed cycle allowed motion."""
        return self.state in (SafetyState.OK, SafetyState.LIMITED)

    def diagnostic(self, name: str, hardware_id: str = "") -> DiagnosticStatus:
        """The layer's state as a diagnostic status (ERROR when latched, WARN when stopped/limited)."""
        level = {
            SafetyState.OK: DiagLevel.OK,
            SafetyState.LIMITED: DiagLevel.WARN,
            SafetyState.STOPPED: DiagLevel.WARN,
            SafetyState.ESTOP: DiagLevel.ERROR,
        }[self.state]
        values = {"state": self.state.value, "latched": self.latched or "no"}
        values.update({k: str(v) for k, v in self.counters.items()})
        message = "; ".join(self.reasons) if self.reasons else (self.latched or self.state.value)
        return DiagnosticStatus(level, name, message, hardware_id, values)
