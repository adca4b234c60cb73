"""trajectory_msgs/JointTrajectory and std_msgs/Float64MultiArray ↔ joint commands (ros2_control inputs).

``joint_trajectory_controller`` takes a JointTrajectory; a one-point trajectory whose
``time_from_start`` is one control period streams set-points. ``forward_command_controller``
(position, velocity or effort) takes a Float64MultiArray with one value per joint in the controller's
joint order; the layout's single dimension is labelled with the interface name.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sanqin.control.command import JointCommand
from sanqin.msgs.buffers import as_float_array
from sanqin.msgs.errors import MessageError
from sanqin.msgs.time import header_stamp_frame, make_header, s_to_sec_nanosec, time_to_s


def _duration(t_s: float, factory: Any) -> Any:
    if not np.isfinite(t_s) or t_s < 0:
        raise MessageError(f"time_from_start must be finite and >= 0, got {t_s!r}")
    sec, nsec = s_to_sec_nanosec(t_s)
    return factory.new("builtin_interfaces/msg/Duration", sec=sec, nanosec=nsec)


def joint_trajectory_to_msg(
    command: JointCommand, factory: Any, *, stamp_s: float = 0.0, time_from_start_s: float = 0.0
) -> Any:
    """A one-point JointTrajectory from a command (empty fields stay empty); stamp 0 means "start now"."""
    n = len(command.names)
    for label, arr in (("position", command.position), ("velocity", command.velocity), ("effort", command.effort)):
        if np.size(arr) not in (0, n):
            raise MessageError(f"JointCommand.{label} has {np.size(arr)} values for {n} joints")
    point = factory.new(
        "trajectory_msgs/msg/JointTrajectoryPoint",
        positions=np.asarray(command.position, float),
        velocities=np.asarray(command.velocity, float),
        effort=np.asarray(command.effort, float),
        time_from_start=_duration(time_from_start_s, factory),
    )
    return factory.new(
        "trajectory_msgs/msg/JointTrajectory",
        header=make_header(factory, stamp_s, ""),
        joint_names=list(command.names),
        points=[point],
    )


def joint_trajectory_from_msg(msg: Any) -> tuple[float, tuple[str, ...], list[tuple[float, JointCommand]]]:
    """JointTrajectory → (stamp s, joint names, [(time_from_start s, command)]); sizes are checked."""
    stamp_s, _ = header_stamp_frame(msg.header)
    names = tuple(str(n) for n in msg.joint_names)
    points = []
    for i, p in enumerate(msg.points):
        arrays = []
        for label in ("positions", "velocities", "effort"):
            arr = as_float_array(getattr(p, label), f"JointTrajectory.points[{i}].{label}")
            if arr.size not in (0, len(names)):
                raise MessageError(f"JointTrajectory.points[{i}].{label} has {arr.size} values for {len(names)} joints")
            arrays.append(arr)
        points.append((time_to_s(p.time_from_start), JointCommand(names, *arrays)))
    return stamp_s, names, points


def float64_array_to_msg(values: np.ndarray, factory: Any, label: str = "joints") -> Any:
    """std_msgs/Float64MultiArray with one labelled dimension."""
    data = np.asarray(values, dtype=np.float64).reshape(-1)
    dim = factory.new("std_msgs/msg/MultiArrayDimension", label=label, size=int(data.size), stride=int(data.size))
    layout = factory.new("std_msgs/msg/MultiArrayLayout", dim=[dim], data_offset=0)
    return factory.new("std_msgs/msg/Float64MultiArray", layout=layout, data=data)


def float64_array_from_msg(msg: Any) -> np.ndarray:
    """std_msgs/Float64MultiArray → flat float array (honours ``data_offset``)."""
    data = as_float_array(msg.data, "Float64MultiArray.data")
    offset = int(msg.layout.data_offset)
    if offset < 0 or offset > data.size:
        raise MessageError(f"Float64MultiArray data_offset {offset} outside data of size {data.size}")
    return data[offset:]


def command_to_forward_msg(command: JointCommand, factory: Any, interface: str) -> Any:
    """The forward-command-controller message for one interface (position, velocity or effort)."""
    values = {"position": command.position, "velocity": command.velocity, "effort": command.effort}.get(interface)
    if values is None:
        raise MessageError(f"unknown command interface {interface!r}")
    if np.size(values) != len(command.names):
        raise MessageError(f"command has no {interface} values for {len(command.names)} joints")
    return float64_array_to_msg(values, factory, interface)
