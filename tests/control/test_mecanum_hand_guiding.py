"""Mecanum kinematics, direction-preserving saturation and payload-dependent hand-guiding admittance."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.control.errors import InvalidInputError
from sanqin.control.hand_guiding import HandGuidingConfig, HandGuidingController
from sanqin.control.mecanum import MecanumConfig, MecanumKinematics
from sanqin.runtime.config import load_config
from sanqin.runtime.errors import ConfigError

DT = 0.01


def test_ik_fk_round_trip_and_pure_motions() -> None:
    kin = MecanumKinematics(MecanumConfig())
    for twist in ([0.5, 0, 0], [0, 0.4, 0], [0, 0, 0.7], [0.3, -0.2, 0.5]):
        assert kin.body_twist(kin.wheel_speeds(*twist)) == pytest.approx(twist)
    w = kin.wheel_speeds(1.0, 0.0, 0.0)
    assert np.allclose(w, w[0])  # straight ahead: all wheels alike
    w = kin.wheel_speeds(0.0, 1.0, 0.0)
    assert w[0] == pytest.approx(-w[1]) and w[1] == pytest.approx(w[2])  # sideways: diagonal pairs


def test_ik_matches_the_per_wheel_roller_model() -> None:
    """Independent of the matrix in the module: Modern Robotics eq. 13.5 per wheel (driving direction +x,
    free-sliding direction at roller angle γ, wheel at (x, y) in the FLU body frame)."""
    cfg = MecanumConfig(wheel_radius_m=0.08, half_length_m=0.4, half_width_m=0.25)
    lx, ly, r = cfg.half_length_m, cfg.half_width_m, cfg.wheel_radius_m
    wheels = {"FL": (lx, ly, -np.pi / 4), "FR": (lx, -ly, np.pi / 4),
              "RL": (-lx, ly, np.pi / 4), "RR": (-lx, -ly, -np.pi / 4)}
    kin = MecanumKinematics(cfg)
    for vx, vy, wz in ([0.5, 0, 0], [0, 0.4, 0], [0, 0, 0.7], [0.3, -0.2, 0.5]):
        expected = []
        for x, y, gamma in wheels.values():
            contact_v = np.array([vx - wz * y, vy + wz * x])  # velocity of the wheel centre
            expected.append((contact_v[0] + np.tan(gamma) * contact_v[1]) / r)
        assert kin.wheel_speeds(vx, vy, wz) == pytest.approx(expected)


def test_saturation_preserves_direction() -> None:
    kin = MecanumKinematics(MecanumConfig(max_wheel_speed_rad_s=5.0))
    twist, wheels, scale = kin.saturate(2.0, 1.0, 0.5)
    assert scale < 1.0 and np.max(np.abs(wheels)) == pytest.approx(5.0)
    assert twist / np.linalg.norm(twist) == pytest.approx(np.array([2.0, 1.0, 0.5]) / np.linalg.norm([2.0, 1.0, 0.5]))


def _push(ctrl, force, n, t0=0.0):
    t = t0
    out = []
    for _ in range(n):
        t += DT
        ctrl.on_handle(t, t, *force)
        out.append(ctrl.step(t))
    return out, t


def test_heavier_payload_responds_slower_and_limits_hold() -> None:
    cfg = load_config(HandGuidingConfig, {"safety": {"max_linear_speed_m_s": 0.5, "max_force_n": 400.0,
                                                     "max_power_w": 1000.0, "watchdog_timeout_s": 0.05}})
    light, heavy = HandGuidingController(cfg), HandGuidingController(cfg)
    heavy.set_payload(800.0)
    out_l, _ = _push(light, (60.0, 0.0, 0.0), 100)
    out_h, _ = _push(heavy, (60.0, 0.0, 0.0), 100)
    assert out_h[-1][0][0] < 0.5 * out_l[-1][0][0]
    speeds = np.array([o[0][0] for o in out_l])
    assert np.all(np.diff(speeds) <= cfg.max_accel_m_s2 * DT + 1e-9)
    out, _ = _push(light, (300.0, 0.0, 0.0), 500)
    assert max(np.linalg.norm(o[0][:2]) for o in out) <= 0.5 + 1e-9


def test_deadband_and_dropout_stop() -> None:
    ctrl = HandGuidingController(load_config(HandGuidingConfig, {"safety": {"watchdog_timeout_s": 0.03}}))
    out, t = _push(ctrl, (3.0, 0.0, 0.0), 20)
    assert not np.any(out[-1][0])
    out, t = _push(ctrl, (50.0, 0.0, 0.0), 30, t)
    assert out[-1][0][0] > 0
    stopped = []
    for _ in range(6):  # handle sensor silent
        t += DT
        twist, wheels, verdict = ctrl.step(t)
        stopped.append(not verdict.allowed)
        if not verdict.allowed:
            assert not twist.any() and not wheels.any()
    assert stopped.index(True) <= 4


def test_nan_force_stops_same_cycle_and_bad_payload_rejected() -> None:
    ctrl = HandGuidingController(HandGuidingConfig())
    _, t = _push(ctrl, (50.0, 0.0, 0.0), 10)
    assert not ctrl.on_handle(t + DT, t + DT, np.nan, 0.0, 0.0)
    twist, _, verdict = ctrl.step(t + DT)
    assert not verdict.allowed and not twist.any()
    with pytest.raises(InvalidInputError):
        ctrl.set_payload(-1.0)
    with pytest.raises(InvalidInputError):
        ctrl.set_payload(1e6)


@pytest.mark.parametrize("params", [{"base_mass_kg": 0.0}, {"base_mass_kg": -10.0}, {"damping_ratio_s": 0.0},
                                    {"base_inertia_kg_m2": 0.0}])
def test_unstable_virtual_dynamics_rejected(params) -> None:
    with pytest.raises(ConfigError, match="must be > 0"):
        load_config(HandGuidingConfig, params)


def test_handle_force_above_the_limit_latches_a_stop_until_reset() -> None:
    ctrl = HandGuidingController(load_config(HandGuidingConfig, {"safety": {"max_force_n": 300.0}}))
    out, t = _push(ctrl, (80.0, 0.0, 0.0), 50)
    assert out[-1][0][0] > 0
    out, t = _push(ctrl, (400.0, 0.0, 0.0), 1, t)  # someone falls against the handle
    twist, wheels, verdict = out[-1]
    assert verdict.state.value == "estop" and not twist.any() and not wheels.any()
    out, t = _push(ctrl, (80.0, 0.0, 0.0), 20, t)
    assert not any(o[0].any() for o in out)  # latched
    assert ctrl.safety.reset(t)[0]
    out, t = _push(ctrl, (80.0, 0.0, 0.0), 20, t)
    assert out[-1][0][0] > 0


def test_handle_torque_above_the_limit_latches_a_stop() -> None:
    ctrl = HandGuidingController(load_config(HandGuidingConfig, {"safety": {"max_torque_nm": 150.0}}))
    out, t = _push(ctrl, (0.0, 0.0, 40.0), 50)
    assert out[-1][0][2] > 0  # turning
    out, t = _push(ctrl, (0.0, 0.0, 200.0), 1, t)  # the handle is wrenched round
    twist, wheels, verdict = out[-1]
    assert verdict.state.value == "estop" and "torque" in verdict.reasons[0] and not wheels.any()
