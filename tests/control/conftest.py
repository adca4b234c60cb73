"""Shared fixtures: the UR5e model (skips with a reason if the shared data is absent) and a torque-driven sim."""

from __future__ import annotations

import mujoco
import pytest

from sanqin.control.errors import RobotModelError
from sanqin.control.robot_model import DEFAULT_UR5E_PATH, RobotModel, resolve_model_path

from .control_fixtures import HOME, TorqueSim  # noqa: F401 - re-exported for tests


@pytest.fixture(scope="session")
def ur5e_path():
    try:
        return resolve_model_path(DEFAULT_UR5E_PATH)
    except RobotModelError as err:
        pytest.skip(f"UR5e model not available: {err}")


@pytest.fixture()
def ur5e(ur5e_path) -> RobotModel:
    return RobotModel(mujoco.MjModel.from_xml_path(str(ur5e_path)), "attachment_site")


@pytest.fixture()
def torque_sim(ur5e_path) -> TorqueSim:
    return TorqueSim(ur5e_path)
