"""Minimum-jerk references, assist-as-needed, intent detectors, interaction laws and bumpless switching."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.rehab_robot.assist import AssistAsNeeded, AssistConfig
from sanqin.rehab_robot.errors import ControlError
from sanqin.rehab_robot.intent import BciTrigger, EmgOnset, OnsetDetector, force_toward
from sanqin.rehab_robot.interaction import Admittance
from sanqin.rehab_robot.modes import BumplessTransfer, ModeConfig, ModeLaws
from sanqin.rehab_robot.trajectory import MinimumJerk
from sanqin.runtime.errors import ConfigError


def test_minimum_jerk_profile() -> None:
    mj = MinimumJerk(np.array([0.0, 0.3]), np.array([0.1, 0.5]), 1.0, 2.0)
    p, v, a = mj.sample(1.0)
    assert p == pytest.approx([0.0, 0.3]) and v == pytest.approx([0, 0]) and a == pytest.approx([0, 0])
    p, v, _ = mj.sample(2.0)
    assert p == pytest.approx([0.05, 0.4]) and np.linalg.norm(v) == pytest.approx(mj.peak_speed())
    assert mj.sample(5.0)[0] == pytest.approx([0.1, 0.5]) and mj.done(3.0)
    ts = np.linspace(1.0, 3.0, 2001)
    pos = np.array([mj.sample(t)[0] for t in ts])
    assert np.allclose(np.gradient(pos[:, 1], ts), [mj.sample(t)[1][1] for t in ts], atol=1e-3)
    with pytest.raises(ControlError):
        MinimumJerk(np.zeros(2), np.zeros(2), 0.0, 0.0)


def test_assist_as_needed_fades_when_errors_fall_and_rises_with_errors() -> None:
    aan = AssistAsNeeded(AssistConfig(forgetting_factor=0.8, error_gain=0.1))
    gains = [aan.update(0.2) for _ in range(40)]
    assert gains[-1] < 0.15 and all(b <= a for a, b in zip(gains, gains[1:]))
    assert gains[-1] == pytest.approx(0.1 * 0.2 / 0.2, rel=0.05)  # fixed point c·e/(1−f)
    for _ in range(10):
        g = aan.update(5.0)
    assert g == 1.0
    assert aan.update(float("nan")) == 1.0  # NaN counts as the worst error
    with pytest.raises(ConfigError):
        AssistConfig(min_gain=0.8, max_gain=0.2)


def test_onset_detector_hysteresis_rejects_noise_and_holds_through_dips() -> None:
    det = OnsetDetector(on=3.0, off=1.5, min_on_s=0.05, min_off_s=0.05)
    t = np.arange(0, 1.0, 0.001)
    sig = np.where(t > 0.3, 4.0, 0.5) + 1.2 * np.sin(2 * np.pi * 40 * t) * (t < 0.3)  # noisy rest, then push
    sig[600:620] = 2.0  # a brief dip inside the hysteresis band
    active = [det.step(ti, si) for ti, si in zip(t, sig)]
    first = t[active.index(True)]
    assert 0.35 <= first <= 0.36
    assert all(active[int(0.36 / 0.001):])
    assert det.step(1.0, float("nan")) is True and det.rejected == 1
    with pytest.raises(ControlError):
        OnsetDetector(1.0, 2.0)


def test_emg_onset_calibrates_from_rest_and_bci_dwell_and_refractory() -> None:
    rng = np.random.default_rng(0)
    emg = EmgOnset(3.0, 1.5, 0.02)
    t = 0.0
    for _ in range(200):
        assert emg.step(t, 0.05 + 0.01 * rng.standard_normal()) is False
        t += 0.001
    assert emg.detector is not None
    onsets = [emg.step(t + k * 0.001, 0.3) for k in range(40)]
    assert onsets[-1] and not onsets[0]
    bci = BciTrigger(0.7, 0.5, 2.0)
    fired = [bci.step(k * 0.01, 0.9) for k in range(400)]
    idx = [i for i, f in enumerate(fired) if f]
    assert idx[0] == 50 and idx[1] - idx[0] >= 200  # dwell 0.5 s, refractory 2 s
    assert bci.step(5.0, float("nan")) is False and bci.step(5.0, 1.5) is False and bci.rejected == 2
    assert force_toward(np.array([3.0, 4.0]), np.zeros(2), np.array([0.0, 1.0])) == pytest.approx(4.0)


def test_admittance_follows_the_force_and_stays_in_its_box() -> None:
    adm = Admittance(2.0, 20.0, 0.0, np.array([-0.1]), np.array([0.1]))
    adm.reset(np.array([0.0]))
    for _ in range(2000):
        x, v = adm.step(np.array([10.0]), 0.001)
    assert x[0] == pytest.approx(0.1) and v[0] == 0.0
    adm.reset(np.array([0.0]))
    for _ in range(800):
        x, v = adm.step(np.array([1.0]), 0.001)
    assert v[0] == pytest.approx(1.0 / 20.0, rel=0.01)  # steady velocity F/D
    with pytest.raises(ControlError):
        adm.step(np.array([np.nan]), 0.001)


def test_mode_laws_and_bumpless_switch(planar_profile) -> None:
    laws = ModeLaws(ModeConfig(), planar_profile.limits)
    x, v = np.array([0.0, 0.4]), np.array([0.0, 0.2])
    ref = np.array([0.0, 0.42])
    fp = laws.force("passive", x, v, np.zeros(2), ref, np.zeros(2), 0.3, 0.0, 1e-3)
    fa = laws.force("active_assist", x, v, np.zeros(2), ref, np.zeros(2), 0.3, 0.0, 1e-3)
    assert fa == pytest.approx(0.3 * fp)
    fr = laws.force("resistive", x, v, np.zeros(2), ref, np.zeros(2), 0.3, 20.0, 1e-3)
    assert fr == pytest.approx([0.0, -4.0])
    with pytest.raises(ControlError, match="unknown training mode"):
        laws.force("dance", x, v, np.zeros(2), ref, np.zeros(2), 0.3, 0.0, 1e-3)
    # switching passive → resistive: the output is continuous and reaches the new law after the ramp
    bt = BumplessTransfer(0.3)
    bt.switch(1.0, fp, fr)
    outs = [bt.apply(1.0 + k * 1e-3, fr) for k in range(400)]
    assert outs[0] == pytest.approx(fp)
    step = np.max(np.linalg.norm(np.diff(outs, axis=0), axis=1))
    assert step <= 1.88 * np.linalg.norm(fp - fr) * 1e-3 / 0.3  # the minimum-jerk blend's peak slope
    assert outs[-1] == pytest.approx(fr) and not bt.active


def test_transparent_mode_force_feedback_and_admittance(planar_profile) -> None:
    laws = ModeLaws(ModeConfig(interaction_filter_s=0.0, transparent_force_gain=0.5), planar_profile.limits)
    x, v = np.array([0.0, 0.4]), np.zeros(2)
    f = laws.force("transparent", x, v, np.array([4.0, 0.0]), x, v, 1.0, 0.0, 1e-3)
    assert f == pytest.approx([2.0, 0.0])  # the robot adds half the patient's push: lighter to move
    adm = ModeLaws(ModeConfig(transparent_law="admittance", interaction_filter_s=0.0), planar_profile.limits)
    adm.reset_admittance(x)
    for _ in range(300):  # the admittance reference yields to a steady push, the inner loop follows it
        f = adm.force("transparent", x, v, np.array([5.0, 0.0]), x, v, 1.0, 0.0, 1e-3)
    assert adm.admittance.v_ref[0] > 0 and f[0] > 0 and abs(f[1]) < 1e-9
