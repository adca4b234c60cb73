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


def test_joint_spring_and_dry_friction_are_converted() -> None:
    """Review fix: a MuJoCo joint spring (stiffness toward springref) and frictionloss were silently dropped; they
    become SDF's spring_stiffness / spring_reference (in Gazebo's joint coordinates) and friction."""
    m = mujoco.MjModel.from_xml_string(MJCF.replace('range="0 1"', 'range="0 1" stiffness="3" springref="0.7" '
                                                                    'frictionloss="0.2"'))
    dyn = robot_model(m, "arm", "link").model.find("joint[@name='hinge']/axis/dynamics")
    assert float(dyn.findtext("spring_stiffness")) == pytest.approx(3.0)
    assert float(dyn.findtext("spring_reference")) == pytest.approx(0.7 - 0.5)  # written at qpos0 = ref = 0.5
    assert float(dyn.findtext("friction")) == pytest.approx(0.2)
    plain = robot_model(mujoco.MjModel.from_xml_string(MJCF), "arm", "link").model
    assert plain.find("joint/axis/dynamics/spring_stiffness") is None  # nothing written for a joint without one
