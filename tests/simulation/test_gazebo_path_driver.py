"""path_driver: a twin's robot follows the headless path (bends included) and stops safely."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sanqin.common.types import Odometry, Pose
from sanqin.msgs.factory import default_factory
from sanqin.msgs.geometry import odometry_to_msg
from sanqin.runtime.config import load_config
from sanqin.runtime.errors import ConfigError
from sanqin.runtime.headless import Graph
from sanqin.runtime.params import load_node_config
from sanqin.runtime.paths import share_dir
from sanqin.simulation.gazebo.nodes import PATH_DRIVER
from sanqin.simulation.gazebo.path_driver import PathDriver, PathDriverConfig


def _odom(x: float, y: float, yaw: float, t: float = 0.0) -> Odometry:
    q = np.array([0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)])
    return Odometry(stamp_s=t, frame_id="odom", pose=Pose(np.array([x, y, 0.0]), q))


def _arc_path(radius: float = 30.0, angle: float = math.radians(-20)) -> list[float]:
    """10 m straight, a 20° right bend of 30 m radius, 10 m straight (1 m spacing)."""
    pts = [(float(x), 0.0) for x in range(0, 11)]
    n = int(abs(angle) * radius)
    for k in range(1, n + 1):
        a = angle * k / n
        pts.append((10 + radius * math.sin(abs(a)), -radius * (1 - math.cos(a))))
    x0, y0 = pts[-1]
    for k in range(1, 11):
        pts.append((x0 + k * math.cos(angle), y0 + k * math.sin(angle)))
    return [v for p in pts for v in p]


def test_unicycle_follows_a_bend_within_centimetres() -> None:
    cfg = load_config(PathDriverConfig, {"path_xy_m": _arc_path(), "speed_m_s": 1.5, "lookahead_m": 1.5})
    drv = PathDriver(cfg)
    x, y, yaw, dt = 0.0, 0.0, 0.0, 0.05
    for k in range(500):
        t = k * dt
        drv.on_odom(_odom(x, y, yaw, t), t)
        cmd = drv.tick(t)["cmd_vel"]
        v, w = cmd.linear_m_s[0], cmd.angular_rad_s[2]
        x, y, yaw = x + v * math.cos(yaw) * dt, y + v * math.sin(yaw) * dt, yaw + w * dt
    m = drv.metrics()
    assert m["finished"] == 1 and m["progress_m"] >= m["path_length_m"] - cfg.goal_tolerance_m
    assert m["cross_track_max_m"] < 0.05
    assert yaw == pytest.approx(math.radians(-20), abs=math.radians(2))
    assert drv.tick(25.0)["cmd_vel"].linear_m_s[0] == 0.0  # at the end: stopped


def test_stops_without_fresh_odometry_and_rejects_nan() -> None:
    drv = PathDriver(load_config(PathDriverConfig, {"speed_m_s": 1.0}))
    assert drv.tick(0.0)["cmd_vel"].linear_m_s[0] == 0.0  # no odometry yet
    drv.on_odom(_odom(0.0, 0.0, 0.0), 0.0)
    assert drv.tick(0.1)["cmd_vel"].linear_m_s[0] == 1.0
    assert drv.tick(0.1 + drv.config.odom_timeout_s + 0.01)["cmd_vel"].linear_m_s[0] == 0.0  # stale
    drv.on_odom(_odom(float("nan"), 0.0, 0.0), 1.0)
    assert drv.counters["rejected_odom"] == 1
    assert drv.tick(1.0)["cmd_vel"].linear_m_s[0] == 0.0  # the NaN pose did not refresh the odometry


def test_turns_on_the_spot_when_the_path_is_behind() -> None:
    drv = PathDriver(load_config(PathDriverConfig, {"max_yaw_rate_rad_s": 0.7}))
    drv.on_odom(_odom(0.0, 0.0, math.pi), 0.0)
    cmd = drv.tick(0.0)["cmd_vel"]
    assert cmd.linear_m_s[0] == 0.0 and abs(cmd.angular_rad_s[2]) == pytest.approx(0.7)


@pytest.mark.parametrize(("values", "match"), [
    ({"path_xy_m": [0.0, 0.0, 1.0]}, "pairs"),
    ({"path_xy_m": [0.0, 0.0]}, "two points"),
    ({"path_xy_m": [0.0, 0.0, 0.0, 0.0]}, "repeated"),
    ({"speed_m_s": -1.0}, "minimum"),
])
def test_bad_configs_are_rejected_at_load(values: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_config(PathDriverConfig, values)


def test_node_runs_headless_from_the_shipped_params() -> None:
    share = share_dir()
    cfg = load_node_config(PATH_DRIVER.config, share / "config" / "path_driver.yaml", "path_driver",
                           overrides={"speed_m_s": 2.0})
    graph = Graph(default_factory())
    graph.add_node(PATH_DRIVER, cfg, name="path_driver", remap={"odom": "/odom_gt"})
    got = []
    graph.bus.subscribe("/cmd_vel", "geometry_msgs/msg/Twist", got.append)
    graph.bus.publish("/odom_gt", odometry_to_msg(_odom(1.0, 0.0, 0.0), graph.bus.factory))
    graph.advance_to(0.2)
    assert got and got[-1].linear.x == 2.0 and got[-1].angular.z == pytest.approx(0.0, abs=1e-9)


def test_waits_then_ramps_up_and_brakes_into_the_end() -> None:
    cfg = load_config(PathDriverConfig, {"path_xy_m": [0.0, 0.0, 20.0, 0.0], "speed_m_s": 4.0,
                                         "start_delay_s": 2.0, "max_accel_m_s2": 4.0, "goal_tolerance_m": 0.05})
    drv = PathDriver(cfg)
    x, dt, speeds = 0.0, cfg.control_period_s, []
    for k in range(400):
        t = k * dt
        drv.on_odom(_odom(x, 0.0, 0.0, t), t)
        v = drv.tick(t)["cmd_vel"].linear_m_s[0]
        speeds.append(v)
        x += v * dt
    sp = np.array(speeds)
    assert np.all(sp[: int(2.0 / dt)] == 0.0)  # waits
    assert np.all(np.diff(sp) <= 4.0 * dt + 1e-9)  # never accelerates faster than allowed
    assert sp.max() == pytest.approx(4.0)
    assert x == pytest.approx(20.0, abs=0.1) and sp[-1] == 0.0  # braked into the end and stopped
