"""Shared fixtures: example profiles for both robots and a supervisor factory."""

from __future__ import annotations

import pytest

from sanqin.rehab_robot.profile import load_profile
from sanqin.rehab_robot.robots import make_robot
from sanqin.rehab_robot.supervisor import SafetySupervisor, SupervisorConfig

from .rehab_helpers import REHAB_DATA


@pytest.fixture
def planar_profile():
    return load_profile(REHAB_DATA / "profile_planar_example.yaml")


@pytest.fixture
def exo_profile():
    return load_profile(REHAB_DATA / "profile_exo_example.yaml")


@pytest.fixture
def planar_supervisor(planar_profile):
    robot = make_robot("planar")
    return SafetySupervisor(SupervisorConfig(), robot, planar_profile)
