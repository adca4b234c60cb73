"""MuJoCo → SDF conversion: joint limits in Gazebo's joint coordinates (zero at the pose the links are written in)."""

from __future__ import annotations

import mujoco
import pytest

from sanqin.simulation.gazebo.mujoco_sdf import robot_model

MJCF = """<mujoco><compiler angle="radian"/><worldbody><body name="link" pos="0 0 0">
  <joint name="hinge" type="hinge" axis="0 0 1" ref="0.5" range="0 1"/>
  <geom type="capsule" fromto="0 0 0 0.3 0 0" size="0.02" mass="1"/>
</body></worldbody></mujoco>"""


def _limits(qpos=None) -> tuple[float, float]:
    m = mujoco.MjModel.from_xml_string(MJCF)
    limit = robot_model(m, "arm", "link", qpos=qpos).model.find("joint[@name='hinge']/axis/limit")
    return float(limit.findtext("lower")), float(limit.findtext("upper"))


@pytest.mark.parametrize(("qpos", "written"), [(None, 0.5), ([0.8], 0.8), ([0.0], 0.0)])
def test_limits_count_from_the_written_configuration_also_with_a_joint_ref(qpos, written) -> None:
    """Review fix: Gazebo reads 0 where the links are written (qpos0 = the joint's ref when none is given), so the
    MuJoCo range [0, 1] is [-written, 1 - written] there; the limits were shifted by qpos - qpos0, i.e. not at all
    for a model written at qpos0 = ref = 0.5 (DART would have let the joint 0.5 rad past its range)."""
    assert _limits(qpos) == pytest.approx((0.0 - written, 1.0 - written))
