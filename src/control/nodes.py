"""Node declarations of the control area: thin wrappers converting messages and stepping the cores.

Interfaces (standard messages only — an ament_python package cannot define .msg types):

* in: ``joint_states`` (sensor_msgs/JointState), ``wrench`` (geometry_msgs/WrenchStamped: the wrench
  on the tool in the F/T sensor frame = the controller's tool site frame);
* out, for ros2_control: ``joint_trajectory`` (trajectory_msgs/JointTrajectory, one point, for
  joint_trajectory_controller) or ``commands`` (std_msgs/Float64MultiArray for a forward command
  controller), selected by ``command_interface``; bases publish ``cmd_vel`` (geometry_msgs/Twist);
* the safety layer's state on /diagnostics (diagnostic_msgs/DiagnosticArray) every second;
* services ``~/reset`` (clear a latched e-stop; refused while inputs are stale) and ``~/estop``
  (std_srvs/Trigger).

Each control cycle runs on a timer (``control_period_s``) with the latest accepted samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sanqin.common.types import JointStates, WrenchStamped
from sanqin.control.command import JointCommand
from sanqin.control.errors import InvalidInputError
from sanqin.control.seam import SeamConfig, SeamFollower
from sanqin.msgs.control import command_to_forward_msg, joint_trajectory_to_msg
from sanqin.msgs.geometry import wrench_stamped_from_msg
from sanqin.msgs.sensors import joint_state_from_msg
from sanqin.runtime.config import param
from sanqin.runtime.node import Input, NodeSpec, Output, Qos, Service, ServiceResult, Timer

ARM_INTERFACES = ("forward_position", "joint_trajectory")


def _reorder(js: JointStates, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Positions/velocities in the controller's joint order (a JointState may list joints in any order)."""
    index = {n: i for i, n in enumerate(js.names)}
    missing = [n for n in names if n not in index]
    if missing:
        raise InvalidInputError(f"joint_states lacks joints {missing}")
    idx = [index[n] for n in names]
    q = js.position[idx]
    qd = js.velocity[idx] if js.velocity.size else np.zeros(len(names))
    return q, qd


class ArmNode:
    """Component for a position-level arm controller with a joint-state and a wrench input."""

    def __init__(self, controller: Any, period_s: float, interface: str) -> None:
        self.ctrl = controller
        self.period_s = period_s
        self.interface = interface
        self.q: np.ndarray | None = None
        self.qd: np.ndarray | None = None
        self.last: JointCommand | None = None

    def on_joint_states(self, js: JointStates, t_s: float) -> None:
        """Keep the latest valid joint state (the safety layer rejects NaN/out-of-order samples)."""
        q, qd = _reorder(js, self.ctrl.model.joint_names)
        if self.ctrl.on_joint_states(js.stamp_s, t_s, q, qd):
            self.q, self.qd = q, qd

    def on_wrench(self, w: WrenchStamped, t_s: float) -> None:
        """Register an F/T reading."""
        self.ctrl.on_wrench(w.stamp_s, t_s, w.wrench.force_n, w.wrench.torque_nm)

    def tick(self, t_s: float) -> dict[str, Any] | None:
        """One control cycle; nothing is published before the first joint state."""
        if self.q is None:
            self.ctrl.safety.assess(t_s)  # keeps the watchdog/diagnostics honest while waiting
            return None
        cmd = self.ctrl.step(t_s, self.q, self.qd)
        self.last = cmd
        if cmd.position.size == 0:
            return None
        topic = "commands" if self.interface == "forward_position" else "joint_trajectory"
        return {topic: cmd}

    def reset(self, request: Any, t_s: float) -> ServiceResult:
        """Clear a latched e-stop."""
        ok, message = self.ctrl.safety.reset(t_s)
        return ServiceResult(ok, message)

    def estop(self, request: Any, t_s: float) -> ServiceResult:
        """Latch an e-stop."""
        self.ctrl.safety.request_estop("e-stop service")
        return ServiceResult(True, "e-stop latched")

    def diagnostics(self) -> list:
        """The safety layer's state."""
        return [self.ctrl.safety.diagnostic("sanqin/control/safety")]

    def metrics(self) -> dict[str, float]:
        """Safety counters."""
        return {f"safety.{k}": float(v) for k, v in self.ctrl.safety.counters.items()}


def _arm_outputs(period_attr: str = "control_period_s") -> tuple[Output, ...]:
    return (
        Output("commands", "std_msgs/msg/Float64MultiArray",
               lambda cmd, f: command_to_forward_msg(cmd, f, "position"),
               description="joint positions for a forward_command_controller (position interface)"),
        Output("joint_trajectory", "trajectory_msgs/msg/JointTrajectory",
               lambda cmd, f: joint_trajectory_to_msg(cmd, f, time_from_start_s=0.0),
               description="one-point trajectory for joint_trajectory_controller"),
    )


_ARM_INPUTS = (
    Input("joint_states", "sensor_msgs/msg/JointState", "on_joint_states", joint_state_from_msg, Qos.SENSOR),
    Input("wrench", "geometry_msgs/msg/WrenchStamped", "on_wrench", wrench_stamped_from_msg, Qos.SENSOR),
)
_SAFETY_SERVICES = (
    Service("~/reset", "std_srvs/srv/Trigger", "reset", "clear a latched e-stop"),
    Service("~/estop", "std_srvs/srv/Trigger", "estop", "latch an e-stop"),
)


# --- seam follower ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeamFollowerNodeConfig(SeamConfig):
    """Seam follower plus node settings."""

    control_period_s: float = param(0.004, "control cycle (s)", min=1e-4, max=0.1)
    command_interface: str = param("forward_position", "output: forward_position or joint_trajectory",
                                   choices=ARM_INTERFACES)


class SeamFollowerNode(ArmNode):
    """Welding seam follower node."""

    def __init__(self, config: SeamFollowerNodeConfig) -> None:
        super().__init__(SeamFollower(config), config.control_period_s, config.command_interface)

    def metrics(self) -> dict[str, float]:
        """Safety counters and the seam phase."""
        out = super().metrics()
        out["seam_done"] = float(self.ctrl.phase.value == "done")
        out["seam_fault"] = float(self.ctrl.phase.value == "fault")
        return out

    def diagnostics(self) -> list:
        """Safety state plus the seam phase."""
        d = super().diagnostics()
        c = self.ctrl
        from sanqin.common.diagnostics import DiagLevel, DiagnosticStatus

        level = DiagLevel.ERROR if c.phase.value == "fault" else DiagLevel.OK
        d.append(DiagnosticStatus(level, "sanqin/control/seam", c.fault or c.phase.value, "",
                                  {"phase": c.phase.value, "force_n": f"{c.force_n:.2f}", "s_m": f"{c.s:.4f}"}))
        return d


SEAM_FOLLOWER = NodeSpec(
    name="seam_follower",
    config=SeamFollowerNodeConfig,
    component=SeamFollowerNode,
    inputs=_ARM_INPUTS,
    outputs=_arm_outputs(),
    timers=(Timer("control_period_s", "tick"),),
    services=_SAFETY_SERVICES,
    description="hybrid force/position welding seam follower (UR5e, torch on an F/T sensor)",
)
