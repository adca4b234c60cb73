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

import mujoco
import numpy as np

from sanqin.common.diagnostics import DiagLevel, DiagnosticStatus
from sanqin.common.types import JointStates, PoseStamped, Twist, TwistCommand, WrenchStamped
from sanqin.control.admittance import AdmittanceConfig, AdmittanceController
from sanqin.control.cartesian_impedance import CartesianImpedanceConfig, CartesianImpedanceController
from sanqin.control.command import JointCommand
from sanqin.control.contact_probe import ContactProbe, ContactProbeConfig, ProbeState
from sanqin.control.errors import ForceLimitError, InvalidInputError
from sanqin.control.hand_guiding import HandGuidingConfig, HandGuidingController
from sanqin.control.joint_impedance import JointImpedanceConfig, JointImpedanceController
from sanqin.control.rail_patrol import PatrolState, RailPatrolConfig, RailPatrolController
from sanqin.control.seam import SeamConfig, SeamFollower
from sanqin.msgs.control import command_to_forward_msg, float64_array_to_msg, joint_trajectory_to_msg
from sanqin.msgs.geometry import pose_stamped_from_msg, twist_command_to_msg, wrench_stamped_from_msg
from sanqin.msgs.sensors import joint_state_from_msg
from sanqin.runtime.config import param
from sanqin.runtime.node import Input, NodeSpec, Output, Qos, Service, ServiceResult, Timer

ARM_INTERFACES = ("forward_position", "joint_trajectory")


def _float64_in(msg: Any) -> float:
    return float(msg.data)


def _reorder(js: JointStates, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Positions/velocities in the controller's joint order (a JointState may list joints in any order)."""
    index = {n: i for i, n in enumerate(js.names)}
    missing = [n for n in names if n not in index]
    if missing:
        raise InvalidInputError(f"joint_states lacks joints {missing}")
    if js.position.size == 0:  # a valid JointState may carry only velocities or efforts
        raise InvalidInputError("joint_states carries no positions")
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
        if self.interface == "forward_position":
            return {"commands": cmd}
        return {"joint_trajectory": (cmd, self.period_s)}

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


def _arm_outputs() -> tuple[Output, ...]:
    return (
        Output("commands", "std_msgs/msg/Float64MultiArray",
               lambda cmd, f: command_to_forward_msg(cmd, f, "position"),
               description="joint positions for a forward_command_controller (position interface)"),
        # stamp 0 = "start now"; reach the point one control period later (as MoveIt Servo streams)
        Output("joint_trajectory", "trajectory_msgs/msg/JointTrajectory",
               lambda cmd_period, f: joint_trajectory_to_msg(cmd_period[0], f, time_from_start_s=cmd_period[1]),
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

    def on_target_force(self, force_n: float, t_s: float) -> None:
        """New contact force (N); at or above the safety limit it is refused (ForceLimitError) and nothing changes."""
        self.ctrl.set_target_force(force_n)

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
        level = DiagLevel.ERROR if c.phase.value == "fault" else DiagLevel.OK
        d.append(DiagnosticStatus(level, "sanqin/control/seam", c.fault or c.phase.value, "",
                                  {"phase": c.phase.value, "force_n": f"{c.force_n:.2f}", "s_m": f"{c.s:.4f}"}))
        return d


SEAM_FOLLOWER = NodeSpec(
    name="seam_follower",
    config=SeamFollowerNodeConfig,
    component=SeamFollowerNode,
    inputs=(*_ARM_INPUTS,
            Input("target_force", "std_msgs/msg/Float64", "on_target_force", _float64_in,
                  description="contact force to hold while welding (N); refused at/above the safety limit")),
    outputs=_arm_outputs(),
    timers=(Timer("control_period_s", "tick"),),
    services=_SAFETY_SERVICES,
    description="hybrid force/position welding seam follower (UR5e, torch on an F/T sensor)",
)


# --- Cartesian admittance (position level) ----------------------------------------------------------


def pose_to_target(pose: PoseStamped) -> tuple[np.ndarray, np.ndarray]:
    """A PoseStamped as (position m, rotation matrix); the quaternion must be finite and non-zero."""
    qx, qy, qz, qw = pose.pose.orientation_xyzw
    quat = np.array([qw, qx, qy, qz], float)
    n = float(np.linalg.norm(quat))
    if not np.isfinite(n) or n < 1e-9 or not np.all(np.isfinite(pose.pose.position_m)):
        raise InvalidInputError("target pose must be finite with a non-zero quaternion")
    R = np.zeros(9)
    mujoco.mju_quat2Mat(R, quat / n)
    return pose.pose.position_m.copy(), R.reshape(3, 3)


@dataclass(frozen=True)
class AdmittanceNodeConfig(AdmittanceConfig):
    """Admittance controller plus node settings."""

    control_period_s: float = param(0.002, "control cycle (s)", min=1e-4, max=0.1)
    command_interface: str = param("forward_position", "output: forward_position or joint_trajectory",
                                   choices=ARM_INTERFACES)


class AdmittanceNode(ArmNode):
    """Cartesian admittance node (reference pose on ``target``)."""

    def __init__(self, config: AdmittanceNodeConfig) -> None:
        super().__init__(AdmittanceController(config), config.control_period_s, config.command_interface)

    def on_target(self, pose: PoseStamped, t_s: float) -> None:
        """New reference pose of the tool site (world/base frame)."""
        self.ctrl.set_reference(*pose_to_target(pose))


CARTESIAN_ADMITTANCE = NodeSpec(
    name="cartesian_admittance",
    config=AdmittanceNodeConfig,
    component=AdmittanceNode,
    inputs=(*_ARM_INPUTS,
            Input("target", "geometry_msgs/msg/PoseStamped", "on_target", pose_stamped_from_msg,
                  description="reference pose of the tool site in the robot base frame")),
    outputs=_arm_outputs(),
    timers=(Timer("control_period_s", "tick"),),
    services=_SAFETY_SERVICES,
    description="Cartesian admittance (position/velocity level) for 6-DoF arms over a MuJoCo model",
)


# --- torque-level arm controllers -------------------------------------------------------------------


class TorqueArmNode:
    """Component for a torque-level arm controller: joint states in, efforts out (forward effort controller)."""

    def __init__(self, controller: Any) -> None:
        self.ctrl = controller
        self.q: np.ndarray | None = None
        self.qd: np.ndarray | None = None

    def on_joint_states(self, js: JointStates, t_s: float) -> None:
        """Keep the latest valid joint state."""
        q, qd = _reorder(js, self.ctrl.model.joint_names)
        if self.ctrl.on_joint_states(js.stamp_s, t_s, q, qd):
            self.q, self.qd = q, qd

    def tick(self, t_s: float) -> dict[str, Any] | None:
        """One cycle; publishes efforts (the brake torque on a safety refusal)."""
        if self.q is None:
            self.ctrl.safety.assess(t_s)
            return None
        cmd = self.ctrl.step(t_s, self.q, self.qd)
        return {"commands": cmd} if cmd.effort.size else None

    reset = ArmNode.reset
    estop = ArmNode.estop
    diagnostics = ArmNode.diagnostics
    metrics = ArmNode.metrics


_EFFORT_OUT = (
    Output("commands", "std_msgs/msg/Float64MultiArray", lambda cmd, f: command_to_forward_msg(cmd, f, "effort"),
           description="joint efforts for a forward_command_controller (effort interface)"),
)


@dataclass(frozen=True)
class CartesianImpedanceNodeConfig(CartesianImpedanceConfig):
    """Cartesian impedance plus node settings."""

    control_period_s: float = param(0.001, "control cycle (s)", min=1e-4, max=0.1)


class CartesianImpedanceNode(TorqueArmNode):
    """Cartesian impedance node (target pose on ``target``)."""

    def __init__(self, config: CartesianImpedanceNodeConfig) -> None:
        super().__init__(CartesianImpedanceController(config))
        self.ctrl.check_sampled_stability(config.control_period_s)

    def on_target(self, pose: PoseStamped, t_s: float) -> None:
        """New target pose of the tool site."""
        self.ctrl.set_target(*pose_to_target(pose))


CARTESIAN_IMPEDANCE = NodeSpec(
    name="cartesian_impedance",
    config=CartesianImpedanceNodeConfig,
    component=CartesianImpedanceNode,
    inputs=(_ARM_INPUTS[0],
            Input("target", "geometry_msgs/msg/PoseStamped", "on_target", pose_stamped_from_msg,
                  description="target pose of the tool site in the robot base frame")),
    outputs=_EFFORT_OUT,
    timers=(Timer("control_period_s", "tick"),),
    services=_SAFETY_SERVICES,
    description="torque-level Cartesian impedance with null-space posture over a MuJoCo model",
)


@dataclass(frozen=True)
class JointImpedanceNodeConfig(JointImpedanceConfig):
    """Joint impedance plus node settings."""

    control_period_s: float = param(0.001, "control cycle (s)", min=1e-4, max=0.1)


class JointImpedanceNode(TorqueArmNode):
    """Joint impedance node (joint target on ``target``, a JointState with positions)."""

    def __init__(self, config: JointImpedanceNodeConfig) -> None:
        super().__init__(JointImpedanceController(config))
        self.ctrl.check_sampled_stability(config.control_period_s)

    def on_target(self, js: JointStates, t_s: float) -> None:
        """New joint target."""
        q, _ = _reorder(js, self.ctrl.model.joint_names)
        self.ctrl.set_target(q)  # refuses non-finite or out-of-limit targets


JOINT_IMPEDANCE = NodeSpec(
    name="joint_impedance",
    config=JointImpedanceNodeConfig,
    component=JointImpedanceNode,
    inputs=(_ARM_INPUTS[0],
            Input("target", "sensor_msgs/msg/JointState", "on_target", joint_state_from_msg,
                  description="joint target positions (names select the joints)")),
    outputs=_EFFORT_OUT,
    timers=(Timer("control_period_s", "tick"),),
    services=_SAFETY_SERVICES,
    description="torque-level joint impedance with model-based gravity compensation",
)


# --- mecanum hand guiding ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HandGuideNodeConfig(HandGuidingConfig):
    """Hand-guiding controller plus node settings."""

    control_period_s: float = param(0.01, "control cycle (s)", min=1e-4, max=0.1)


class HandGuideNode:
    """Handle wrench → cmd_vel (body twist) and the four wheel speeds."""

    def __init__(self, config: HandGuideNodeConfig) -> None:
        self.ctrl = HandGuidingController(config)

    def on_handle(self, w: WrenchStamped, t_s: float) -> None:
        """Operator push on the handle (base frame): x, y force and z torque."""
        f, tau = w.wrench.force_n, w.wrench.torque_nm
        self.ctrl.on_handle(w.stamp_s, t_s, f[0], f[1], tau[2])

    def on_payload(self, payload_kg: float, t_s: float) -> None:
        """Carried payload (kg) from the load sensing."""
        self.ctrl.set_payload(payload_kg)

    def tick(self, t_s: float) -> dict[str, Any]:
        """One cycle; zero velocity on a safety refusal."""
        twist, wheels, _ = self.ctrl.step(t_s)
        cmd = TwistCommand(Twist(linear_m_s=[twist[0], twist[1], 0.0], angular_rad_s=[0.0, 0.0, twist[2]]))
        return {"cmd_vel": cmd, "wheel_commands": wheels}

    reset = ArmNode.reset
    estop = ArmNode.estop
    diagnostics = ArmNode.diagnostics

    def metrics(self) -> dict[str, float]:
        """Safety counters and the payload."""
        out = {f"safety.{k}": float(v) for k, v in self.ctrl.safety.counters.items()}
        out["payload_kg"] = self.ctrl.payload_kg
        return out


MECANUM_HAND_GUIDE = NodeSpec(
    name="mecanum_hand_guide",
    config=HandGuideNodeConfig,
    component=HandGuideNode,
    inputs=(
        Input("handle_wrench", "geometry_msgs/msg/WrenchStamped", "on_handle", wrench_stamped_from_msg, Qos.SENSOR,
              "operator push measured by the handle F/T sensor, base frame"),
        Input("payload", "std_msgs/msg/Float64", "on_payload", _float64_in, description="payload mass (kg)"),
    ),
    outputs=(
        Output("cmd_vel", "geometry_msgs/msg/Twist", twist_command_to_msg, description="base twist (body frame)"),
        Output("wheel_commands", "std_msgs/msg/Float64MultiArray",
               lambda w, f: float64_array_to_msg(w, f, "velocity"),
               description="wheel speeds FL FR RL RR (rad/s) for a forward velocity controller"),
    ),
    timers=(Timer("control_period_s", "tick"),),
    services=_SAFETY_SERVICES,
    description="admittance hand-guiding of a mecanum heavy-load base with payload-dependent virtual mass",
)


# --- cable-tunnel rail robot ------------------------------------------------------------------------


@dataclass(frozen=True)
class RailPatrolNodeConfig(RailPatrolConfig):
    """Rail patrol plus node settings."""

    control_period_s: float = param(0.02, "control cycle (s)", min=1e-4, max=0.5)
    carriage_joint: str = param("carriage", "joint name of the carriage in joint_states")
    interlock_joint: str = param("probe", "joint that must be retracted before the carriage moves ('' = none)")
    interlock_max: float = param(0.01, "largest interlock-joint position that counts as retracted (m)")


def _position_of(js: JointStates, name: str) -> float:
    if name not in js.names:
        raise InvalidInputError(f"joint_states lacks joint {name!r}")
    i = js.names.index(name)
    if i >= js.position.size:
        raise InvalidInputError(f"joint_states has no position for {name!r}")
    return float(js.position[i])


class RailPatrolNode:
    """Carriage position → carriage speed; announces arrivals and waits for the inspection."""

    def __init__(self, config: RailPatrolNodeConfig) -> None:
        self.config = config
        self.ctrl = RailPatrolController(config)
        self._announced = 0

    def on_joint_states(self, js: JointStates, t_s: float) -> None:
        """Carriage position from the joint states (other joints ignored)."""
        if self.config.carriage_joint in js.names:
            self.ctrl.on_position(js.stamp_s, t_s, _position_of(js, self.config.carriage_joint))
        lock = self.config.interlock_joint
        if lock:
            x = _position_of(js, lock) if lock in js.names else np.nan
            self.ctrl.interlock_ok = bool(np.isfinite(x) and x <= self.config.interlock_max)

    def on_inspection_done(self, ok: bool, t_s: float) -> None:
        """The probe finished at this point."""
        self.ctrl.on_inspection_done()

    def tick(self, t_s: float) -> dict[str, Any]:
        """One cycle: the carriage speed; an ``arrived`` message on each arrival."""
        v = self.ctrl.step(t_s)
        out: dict[str, Any] = {"commands": np.array([v])}
        if self.ctrl.arrivals > self._announced:
            self._announced = self.ctrl.arrivals
            out["arrived"] = float(self.ctrl.target_m)
        return out

    def pause(self, request: Any, t_s: float) -> ServiceResult:
        """Pause the patrol."""
        self.ctrl.pause()
        return ServiceResult(True, "paused")

    def resume(self, request: Any, t_s: float) -> ServiceResult:
        """Resume the patrol."""
        self.ctrl.resume()
        return ServiceResult(True, f"resumed ({self.ctrl.state.value})")

    reset = ArmNode.reset
    estop = ArmNode.estop

    def diagnostics(self) -> list:
        """Safety state and the patrol state."""
        c = self.ctrl
        return [c.safety.diagnostic("sanqin/control/safety"),
                DiagnosticStatus(DiagLevel.OK, "sanqin/control/rail_patrol", c.state.value, "",
                                 {"target_m": f"{c.target_m:.2f}", "visited": str(len(c.visited)),
                                  "wait_timeouts": str(c.timeouts)})]

    def metrics(self) -> dict[str, float]:
        """Safety counters, visited points and completion."""
        out = {f"safety.{k}": float(v) for k, v in self.ctrl.safety.counters.items()}
        out["visited"] = float(len(self.ctrl.visited))
        out["done"] = float(self.ctrl.state is PatrolState.DONE)
        out["wait_timeouts"] = float(self.ctrl.timeouts)
        return out


RAIL_PATROL = NodeSpec(
    name="rail_patrol",
    config=RailPatrolNodeConfig,
    component=RailPatrolNode,
    inputs=(
        Input("joint_states", "sensor_msgs/msg/JointState", "on_joint_states", joint_state_from_msg, Qos.SENSOR),
        Input("inspection_done", "std_msgs/msg/Bool", "on_inspection_done", lambda m: bool(m.data),
              description="the inspection at the current point finished"),
    ),
    outputs=(
        Output("commands", "std_msgs/msg/Float64MultiArray", lambda v, f: float64_array_to_msg(v, f, "velocity"),
               description="carriage speed (m/s) for a forward velocity controller"),
        Output("arrived", "std_msgs/msg/Float64", lambda x, f: f.new("std_msgs/msg/Float64", data=float(x)),
               description="position (m) of the inspection point just reached"),
    ),
    timers=(Timer("control_period_s", "tick"),),
    services=(
        Service("~/pause", "std_srvs/srv/Trigger", "pause", "decelerate and hold"),
        Service("~/resume", "std_srvs/srv/Trigger", "resume", "continue the patrol"),
        *_SAFETY_SERVICES,
    ),
    description="rail-hanging cable-tunnel patrol: speed profile, inspection stops, pause/resume",
)


@dataclass(frozen=True)
class ContactProbeNodeConfig(ContactProbeConfig):
    """Contact probe plus node settings."""

    control_period_s: float = param(0.01, "control cycle (s)", min=1e-4, max=0.1)
    probe_joint: str = param("probe", "joint name of the probe extension in joint_states")
    force_axis: int = param(2, "axis of the probe wrench along the probe (0 x, 1 y, 2 z)", min=0, max=2)
    force_sign: float = param(-1.0, "sign turning that component into '+ = pressing'", choices=(-1.0, 1.0))
    start_on_arrival: bool = param(True, "start a placement whenever the patrol reports an arrival")


class ContactProbeNode:
    """Probe extension + axial force → probe speed; reports each placement's outcome."""

    def __init__(self, config: ContactProbeNodeConfig) -> None:
        self.config = config
        self.ctrl = ContactProbe(config)
        self.target_force_n = config.target_force_n
        self.x: float | None = None
        self.x_t_s = -np.inf
        self.placements = 0
        self.aborts = 0
        self._reported = True

    def on_joint_states(self, js: JointStates, t_s: float) -> None:
        """Probe extension from the joint states."""
        if self.config.probe_joint in js.names:
            x = _position_of(js, self.config.probe_joint)
            if np.isfinite(x):
                self.x, self.x_t_s = x, t_s

    def on_wrench(self, w: WrenchStamped, t_s: float) -> None:
        """Probe force sensor; combined with the latest extension into one probe sample.

        A stale extension (joint states silent) withholds the sample, so the probe's watchdog trips.
        """
        if self.x is None or t_s - self.x_t_s > self.ctrl.safety.config.watchdog_timeout_s:
            return
        f = self.config.force_sign * float(w.wrench.force_n[self.config.force_axis])
        self.ctrl.on_probe(w.stamp_s, t_s, self.x, f)

    def on_target_force(self, force_n: float, t_s: float) -> None:
        """Target force of the next placements (N); refused (ForceLimitError) unless below the abort limit."""
        c = self.config
        if not np.isfinite(force_n) or not c.contact_threshold_n < force_n < c.abort_force_n:
            raise ForceLimitError(
                f"target force {force_n!r} N refused: must be in ({c.contact_threshold_n:g}, {c.abort_force_n:g}) N"
            )
        self.target_force_n = float(force_n)

    def on_arrived(self, x_m: float, t_s: float) -> None:
        """The patrol reached an inspection point."""
        if self.config.start_on_arrival:
            self._start()

    def _start(self) -> ServiceResult:
        if self.ctrl.state in (ProbeState.APPROACH, ProbeState.CONTACT, ProbeState.HOLD, ProbeState.RETRACT):
            return ServiceResult(False, f"busy ({self.ctrl.state.value})")
        self.ctrl.start(self.target_force_n)
        self._reported = False
        return ServiceResult(True, "placement started")

    def start(self, request: Any, t_s: float) -> ServiceResult:
        """Start a placement at the configured target force."""
        return self._start()

    def tick(self, t_s: float) -> dict[str, Any]:
        """One cycle: the probe speed; the outcome once a placement ends."""
        v = self.ctrl.step(t_s)
        out: dict[str, Any] = {"commands": np.array([v])}
        finished = self.ctrl.state is ProbeState.DONE or (
            self.ctrl.state is ProbeState.ABORTED and self.x is not None and self.x <= self.config.home_m + 1e-3)
        if finished and not self._reported:
            self._reported = True
            ok = self.ctrl.state is ProbeState.DONE
            self.placements += ok
            self.aborts += not ok
            out["inspection_done"] = ok
        return out

    reset = ArmNode.reset
    estop = ArmNode.estop

    def diagnostics(self) -> list:
        """Safety state and the probe state."""
        c = self.ctrl
        level = DiagLevel.WARN if c.state is ProbeState.ABORTED else DiagLevel.OK
        return [c.safety.diagnostic("sanqin/control/safety"),
                DiagnosticStatus(level, "sanqin/control/contact_probe", c.reason or c.state.value, "",
                                 {"state": c.state.value, "max_force_n": f"{c.max_force_n:.2f}"})]

    def metrics(self) -> dict[str, float]:
        """Safety counters, placements, aborts, peak force."""
        out = {f"safety.{k}": float(v) for k, v in self.ctrl.safety.counters.items()}
        out.update(placements=float(self.placements), aborts=float(self.aborts), max_force_n=self.ctrl.max_force_n)
        return out


CONTACT_PROBE = NodeSpec(
    name="contact_probe",
    config=ContactProbeNodeConfig,
    component=ContactProbeNode,
    inputs=(
        Input("joint_states", "sensor_msgs/msg/JointState", "on_joint_states", joint_state_from_msg, Qos.SENSOR),
        Input("wrench", "geometry_msgs/msg/WrenchStamped", "on_wrench", wrench_stamped_from_msg, Qos.SENSOR),
        Input("arrived", "std_msgs/msg/Float64", "on_arrived", _float64_in,
              description="the patrol reached an inspection point (m)"),
        Input("target_force", "std_msgs/msg/Float64", "on_target_force", _float64_in,
              description="target force of the next placements (N); refused unless below the abort limit"),
    ),
    outputs=(
        Output("commands", "std_msgs/msg/Float64MultiArray", lambda v, f: float64_array_to_msg(v, f, "velocity"),
               description="probe extension speed (m/s) for a forward velocity controller"),
        Output("inspection_done", "std_msgs/msg/Bool", lambda ok, f: f.new("std_msgs/msg/Bool", data=bool(ok)),
               description="a placement finished (true = held at the target force, false = aborted)"),
    ),
    timers=(Timer("control_period_s", "tick"),),
    services=(Service("~/start", "std_srvs/srv/Trigger", "start", "start a placement"), *_SAFETY_SERVICES),
    description="force-limited contact probe (e.g. partial-discharge sensor on a cable)",
)
