"""Robot models integrate correctly, derive limits from physical parameters and reject bad parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sanqin.planning import models
from sanqin.planning.errors import ModelError


def test_differential_drive_drives_an_arc_of_the_right_radius() -> None:
    m = models.differential_drive()
    x = np.zeros(3)
    for _ in range(100):  # half a turn at w = 0.5 rad/s takes 2π s
        x = m.simulate(x, np.array([0.5, 0.5]), 2 * math.pi / 100)
    assert x[:2] == pytest.approx([0.0, 2.0], abs=1e-4)  # radius v/w = 1 m
    assert x[2] == pytest.approx(math.pi, abs=1e-6)


def test_mecanum_payload_lowers_acceleration_limits() -> None:
    light = models.mecanum(base_mass_kg=400, payload_mass_kg=0, max_force_n=400)
    heavy = models.mecanum(base_mass_kg=400, payload_mass_kg=400, max_force_n=400)
    assert light.u_ub[0] == pytest.approx(1.0)
    assert heavy.u_ub[0] == pytest.approx(0.5)
    x = heavy.simulate(np.array([0, 0, math.pi / 2, 0, 0, 0.0]), np.array([0.5, 0, 0]), 1.0)
    assert x[:2] == pytest.approx([0.0, 0.25], abs=1e-9)  # body x along world y at yaw 90°


def test_rail_and_multirotor_dynamics() -> None:
    r = models.rail()
    assert r.simulate(np.array([1.0, 0.0]), np.array([0.5]), 2.0) == pytest.approx([2.0, 1.0])
    q = models.multirotor(drag_1_s=0.0, tilt_max_rad=0.4)
    assert q.u_ub[0] == pytest.approx(models.GRAVITY_M_S2 * math.tan(0.4))
    assert q.simulate(np.zeros(6), np.array([0, 0, 1.0]), 1.0)[2] == pytest.approx(0.5)


@pytest.mark.parametrize(
    "build",
    [
        lambda: models.differential_drive(v_max_m_s=-1),
        lambda: models.differential_drive(v_max_m_s=1.0, v_min_m_s=2.0),
        lambda: models.mecanum(payload_mass_kg=float("nan")),
        lambda: models.mecanum(base_mass_kg=0),
        lambda: models.rail(s_min_m=5, s_max_m=1),
        lambda: models.multirotor(tilt_max_rad=2.0),
    ],
)
def test_bad_model_parameters_raise(build) -> None:
    with pytest.raises(ModelError):
        build()


def test_brake_laws_slow_down_within_limits() -> None:
    dd = models.differential_drive(a_max_m_s2=1.0)
    assert dd.brake(np.zeros(3), np.array([0.5, -1.0]), 0.1) == pytest.approx([0.4, -0.7])
    mc = models.mecanum()
    a = mc.brake(np.array([0, 0, 0, 0.8, 0, 0.0]), np.zeros(3), 0.1)
    assert a[0] == pytest.approx(mc.u_lb[0]) and a[1] == 0.0
