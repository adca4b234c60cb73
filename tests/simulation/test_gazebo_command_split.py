"""joint_command_split: forward-controller arrays → per-joint Float64 commands, whole or not at all, with a timeout."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.common.diagnostics import DiagLevel
from sanqin.msgs.control import float64_array_to_msg
from sanqin.runtime.config import load_config
from sanqin.runtime.errors import ConfigError
from sanqin.runtime.headless import Graph
from sanqin.runtime.params import params_for_node
from sanqin.runtime.paths import share_dir
from sanqin.simulation.gazebo.command_split import MAX_JOINTS, CommandSplit, CommandSplitConfig
from sanqin.simulation.gazebo.nodes import JOINT_COMMAND_SPLIT

SHARE = share_dir()


def _split(**params) -> CommandSplit:
    return CommandSplit(load_config(CommandSplitConfig, params))


def test_each_element_goes_to_its_joint_topic() -> None:
    out = _split().on_command(np.array([1.5, -2.0, 0.25]), 0.0)
    assert out == {"joint_0": 1.5, "joint_1": -2.0, "joint_2": 0.25}


def test_wrong_size_and_non_finite_arrays_are_rejected_whole() -> None:
    split = _split(expected_size=2)
    assert split.on_command(np.array([1.0, 2.0, 3.0]), 0.0) is None
    assert split.on_command(np.array([1.0, np.nan]), 0.0) is None
    assert split.on_command(np.array([np.inf, 1.0]), 0.0) is None
    assert split.on_command(np.zeros(0), 0.0) is None
    assert _split().on_command(np.zeros(MAX_JOINTS + 1), 0.0) is None
    m = split.metrics()
    assert (m["rejected_size"], m["rejected_non_finite"], m["commands"]) == (2, 2, 0)
    assert split.tick(1.0) is None  # nothing was ever applied: no joint to hold


def test_stale_commands_hold_every_joint_until_commands_return() -> None:
    split = _split(timeout_s=0.1, hold_value=0.0)
    split.on_command(np.array([3.0, 4.0]), 1.0)
    assert split.tick(1.05) is None
    assert split.tick(1.11) == {"joint_0": 0.0, "joint_1": 0.0}
    assert split.tick(1.2) == {"joint_0": 0.0, "joint_1": 0.0}  # repeated while stale
    assert split.metrics()["timeouts"] == 1 and split.metrics()["holding"] == 1.0
    (status,) = split.diagnostics()
    assert status.level == DiagLevel.WARN and status.values["timeouts"] == "1"
    assert split.on_command(np.array([1.0, 1.0]), 1.3) == {"joint_0": 1.0, "joint_1": 1.0}
    assert split.tick(1.35) is None
    assert split.metrics()["holding"] == 0.0


def test_position_interface_keeps_the_last_target_on_timeout() -> None:
    split = _split(timeout_s=0.1, on_timeout="keep_last")
    split.on_command(np.array([0.3, -1.2]), 0.0)
    assert split.tick(0.5) is None  # a zero position target would swing the arm: the controllers keep theirs
    assert split.metrics()["timeouts"] == 1 and split.metrics()["holds"] == 0


def test_sim_time_going_back_makes_the_last_command_stale() -> None:
    """Review fix: after a Gazebo reset (sim time back near 0) the last effort command counted as fresh until the
    old time returned, so ApplyJointForce kept the pre-reset torque; now the joints hold."""
    split = _split(timeout_s=0.05, hold_value=0.0)
    split.on_command(np.array([12.0, -8.0]), 5.0)
    assert split.tick(0.001) == {"joint_0": 0.0, "joint_1": 0.0}
    assert split.on_command(np.array([1.0, 2.0]), 0.002) == {"joint_0": 1.0, "joint_1": 2.0}
    assert split.tick(0.003) is None  # fresh again from the new time


def test_rejected_commands_do_not_refresh_the_timeout() -> None:
    split = _split(timeout_s=0.1)
    split.on_command(np.array([3.0]), 0.0)
    split.on_command(np.array([np.nan]), 0.09)
    assert split.tick(0.15) == {"joint_0": 0.0}


@pytest.mark.parametrize("params", [{"hold_value": float("nan")}, {"expected_size": 9}, {"timeout_s": 0.0},
                                    {"on_timeout": "zero"}])
def test_bad_config_fails_at_load(params) -> None:
    with pytest.raises(ConfigError):
        load_config(CommandSplitConfig, params)


def test_node_over_the_headless_bus_with_the_shipped_params_file() -> None:
    params = params_for_node(SHARE / "config" / "joint_command_split.yaml", "joint_command_split")
    config = load_config(CommandSplitConfig, params)
    g = Graph()
    g.add_node(JOINT_COMMAND_SPLIT, config, remap={"joint_1": "/model/arm/joint/elbow/cmd_force"})
    got: dict[str, list[float]] = {"j0": [], "j1": []}
    g.bus.subscribe("/joint_0", "std_msgs/msg/Float64", lambda m: got["j0"].append(m.data))
    g.bus.subscribe("/model/arm/joint/elbow/cmd_force", "std_msgs/msg/Float64", lambda m: got["j1"].append(m.data))
    f = g.bus.factory
    g.bus.publish("/commands", float64_array_to_msg(np.array([0.5, -0.5]), f, "effort"))
    g.advance_to(0.05)
    assert got == {"j0": [0.5], "j1": [-0.5]}
    g.bus.publish("/commands", f.new("std_msgs/msg/Float64MultiArray", data=np.array([np.nan, 1.0])))
    g.advance_to(0.3)  # the NaN array applied nothing; then the timeout holds zero
    assert got["j0"][0] == 0.5 and got["j0"][-1] == 0.0 and np.nan not in got["j0"]
    assert got["j1"][-1] == 0.0
