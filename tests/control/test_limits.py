"""Saturation, rate limiting, deadband and the wrench conditioning chain."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.control.limits import RateLimiter, deadband, scale_to_box, scale_to_norm
from sanqin.control.wrench_filter import WrenchFilter, WrenchFilterConfig
from sanqin.runtime.config import load_config
from sanqin.runtime.errors import ConfigError


def test_scaling_preserves_direction() -> None:
    v = scale_to_box(np.array([2.0, -1.0, 0.5]), np.array([1.0, 1.0, 1.0]))
    assert v == pytest.approx([1.0, -0.5, 0.25])
    assert np.linalg.norm(scale_to_norm(np.array([3.0, 4.0]), 1.0)) == pytest.approx(1.0)
    assert scale_to_norm(np.zeros(2), 1.0) == pytest.approx([0, 0])


def test_rate_limiter_bounds_change_per_step() -> None:
    r = RateLimiter(1.0, initial=np.zeros(2))
    out = r.step(np.array([10.0, 0.0]), 0.1)
    assert out == pytest.approx([0.1, 0.0])
    r2 = RateLimiter(np.array([1.0, 2.0]), initial=np.zeros(2), per_element=True)
    assert r2.step(np.array([1.0, 1.0]), 0.1) == pytest.approx([0.1, 0.1])


def test_deadband_is_continuous() -> None:
    assert deadband(np.array([0.5, 1.5, -3.0]), 1.0) == pytest.approx([0.0, 0.5, -2.0])


def test_tool_gravity_compensation_in_any_orientation() -> None:
    cfg = WrenchFilterConfig(tool_mass_kg=2.0, tool_com_m=(0.0, 0.0, 0.1), force_deadband_n=0.0,
                             torque_deadband_nm=0.0)
    wf = WrenchFilter(cfg)
    rng = np.random.default_rng(1)
    for _ in range(5):
        q = rng.normal(size=4)
        q /= np.linalg.norm(q)
        from scipy.spatial.transform import Rotation

        R = Rotation.from_quat(q).as_matrix()
        g_s = R.T @ np.array([0.0, 0.0, -9.81 * 2.0])
        contact = np.array([1.0, -2.0, 3.0])
        f, t = wf.compensate(g_s + contact, np.cross([0, 0, 0.1], g_s), R)
        assert f == pytest.approx(contact) and t == pytest.approx(np.zeros(3), abs=1e-12)


def test_low_pass_and_deadband_suppress_noise_but_track_steps() -> None:
    wf = WrenchFilter(WrenchFilterConfig(cutoff_hz=10.0, force_deadband_n=1.0))
    rng = np.random.default_rng(0)
    outs = [wf.step(rng.normal(0, 0.3, 3), np.zeros(3), None, 0.001)[0] for _ in range(200)]
    assert np.abs(outs[-1]).max() == 0.0
    for _ in range(500):
        f, _ = wf.step(np.array([0.0, 0.0, 20.0]), np.zeros(3), None, 0.001)
    assert f[2] == pytest.approx(19.0, abs=0.05)


def test_tare_removes_sensor_bias() -> None:
    wf = WrenchFilter(WrenchFilterConfig(force_deadband_n=0.0))
    wf.tare(np.array([3.0, 0, 0]), np.zeros(3), None)
    f, _ = wf.step(np.array([3.0, 0, 5.0]), np.zeros(3), None, 0.001)
    assert f == pytest.approx([0, 0, 5.0])


def test_bad_filter_config_rejected() -> None:
    with pytest.raises(ConfigError, match="tool_com_m"):
        load_config(WrenchFilterConfig, {"tool_com_m": [0.0, 0.1]})
    with pytest.raises(ConfigError, match="tool_mass_kg"):
        load_config(WrenchFilterConfig, {"tool_mass_kg": -1.0})
