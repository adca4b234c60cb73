"""world_twist_relay: world-frame commands rotated into the body frame; hover on missing or stale input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from sanqin.common.types import Odometry, Pose, Twist
from sanqin.msgs.factory import default_factory
from sanqin.runtime.config import load_config
from sanqin.runtime.errors import ConfigError
from sanqin.simulation.gazebo.nodes import WORLD_TWIST_RELAY
from sanqin.simulation.gazebo.world_twist import WorldTwistRelay, WorldTwistRelayConfig


def _odom(t: float, quat: np.ndarray) -> Odometry:
    return Odometry(t, "odom", "base_link", Pose(np.zeros(3), quat), Twist())


def _relay() -> WorldTwistRelay:
    return WorldTwistRelay(load_config(WorldTwistRelayConfig, {}))


def test_body_command_rotated_back_by_the_attitude_is_the_world_command() -> None:
    relay = _relay()
    rot = Rotation.from_euler("xyz", [0.1, -0.2, 1.2])
    relay.on_odom(_odom(1.0, rot.as_quat()), 1.0)
    world = np.array([3.0, -1.0, 0.5])
    relay.on_command(Twist(world, np.array([0.0, 0.0, 0.3])), 1.0)
    out = relay.tick(1.01)["cmd_vel"]
    # MulticopterVelocityControl compares R · v_body with the world velocity
    np.testing.assert_allclose(rot.apply(out.linear_m_s), world, atol=1e-12)
    assert out.angular_rad_s[2] == pytest.approx(0.3)
    assert relay.metrics()["relayed"] == 1


def test_level_yawed_vehicle_gets_the_command_in_its_heading_frame() -> None:
    relay = _relay()
    relay.on_odom(_odom(0.0, np.array([0.0, 0.0, math.sin(math.pi / 4), math.cos(math.pi / 4)])), 0.0)
    relay.on_command(Twist(np.array([1.0, 0.0, 0.0]), np.zeros(3)), 0.0)
    np.testing.assert_allclose(relay.tick(0.0)["cmd_vel"].linear_m_s, [0.0, -1.0, 0.0], atol=1e-12)


def test_hover_before_command_before_odometry_and_when_stale() -> None:
    relay = _relay()
    assert not np.any(relay.tick(0.0)["cmd_vel"].linear_m_s)
    relay.on_command(Twist(np.array([1.0, 0.0, 0.0]), np.zeros(3)), 0.0)
    assert not np.any(relay.tick(0.01)["cmd_vel"].linear_m_s)  # no attitude yet
    relay.on_odom(_odom(0.0, np.array([0.0, 0.0, 0.0, 1.0])), 0.02)
    assert relay.tick(0.03)["cmd_vel"].linear_m_s[0] == pytest.approx(1.0)
    assert not np.any(relay.tick(0.6)["cmd_vel"].linear_m_s)  # command and odometry older than 0.5 s
    relay.on_command(Twist(np.array([1.0, 0.0, 0.0]), np.zeros(3)), 0.6)
    assert not np.any(relay.tick(0.61)["cmd_vel"].linear_m_s)  # odometry still stale
    m = relay.metrics()
    assert (m["hover_no_command"], m["hover_no_odometry"], m["hover_stale_command"], m["hover_stale_odometry"]) \
        == (1, 1, 1, 1)


def test_non_finite_inputs_are_rejected_and_the_last_good_ones_kept() -> None:
    relay = _relay()
    relay.on_odom(_odom(0.0, np.array([0.0, 0.0, 0.0, 1.0])), 0.0)
    relay.on_odom(_odom(0.01, np.array([np.nan, 0.0, 0.0, 1.0])), 0.01)
    relay.on_odom(_odom(0.01, np.zeros(4)), 0.01)
    relay.on_command(Twist(np.array([2.0, 0.0, 0.0]), np.zeros(3)), 0.0)
    relay.on_command(Twist(np.array([np.inf, 0.0, 0.0]), np.zeros(3)), 0.01)
    assert relay.tick(0.02)["cmd_vel"].linear_m_s[0] == pytest.approx(2.0)
    assert relay.metrics()["rejected_odometry"] == 2
    assert relay.metrics()["rejected_commands"] == 1


def test_output_round_trips_as_a_ros_twist() -> None:
    f = default_factory()
    relay = _relay()
    relay.on_odom(_odom(0.0, np.array([0.0, 0.0, 0.0, 1.0])), 0.0)
    relay.on_command(Twist(np.array([1.0, 2.0, 3.0]), np.zeros(3)), 0.0)
    (out,) = WORLD_TWIST_RELAY.outputs
    msg = out.convert(relay.tick(0.0)["cmd_vel"], f)
    back = f.deserialize(f.serialize(msg), "geometry_msgs/msg/Twist")
    assert (back.linear.x, back.linear.y, back.linear.z) == (1.0, 2.0, 3.0)


def test_bad_config_is_rejected() -> None:
    with pytest.raises(ConfigError):
        load_config(WorldTwistRelayConfig, {"period_s": 0.0})
