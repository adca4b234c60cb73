"""Node declarations of the Gazebo twins' drive and sensor adapters (standard messages only).

``velocity_integrator``: in ``velocity`` (std_msgs/Float64, a joint speed command, m/s or rad/s — e.g. one
element of a forward velocity controller's array split by ``joint_command_split``), out ``position``
(std_msgs/Float64, the integrated position target, every ``period_s``; the twin's bridge carries it to a
``JointPositionController``'s ``gz.msgs.Double`` topic): the set-point of an integrating velocity servo,
clamped to its range, stopped when the speed commands stop for ``timeout_s`` (see
:mod:`.velocity_integrator`). Counters (commands, rejected, timeouts, saturated ticks) on /diagnostics.

``joint_state_dropout``: in ``joint_states_in`` (sensor_msgs/JointState from Gazebo) and ``command``
(std_msgs/Float64MultiArray, a controller's command: with ``start_on_command`` the first one starts the
schedule), out ``joint_states`` (the same messages, except in the dropout window): a headless simulator's
scheduled encoder dropout replayed on sim time (see :mod:`.state_dropout`).
"""

from __future__ import annotations

from sanqin.msgs.control import float64_array_from_msg
from sanqin.msgs.rehab import float64_from_msg, float64_to_msg
from sanqin.msgs.sensors import joint_state_from_msg, joint_state_to_msg
from sanqin.runtime.node import Input, NodeSpec, Output, Qos, Timer
from sanqin.simulation.gazebo.state_dropout import JointStateDropout, JointStateDropoutConfig
from sanqin.simulation.gazebo.velocity_integrator import VelocityIntegrator, VelocityIntegratorConfig

VELOCITY_INTEGRATOR = NodeSpec(
    name="velocity_integrator",
    config=VelocityIntegratorConfig,
    component=VelocityIntegrator,
    inputs=(Input("velocity", "std_msgs/msg/Float64", "on_velocity", float64_from_msg, Qos.RELIABLE,
                  "joint speed command (m/s or rad/s), held until the next one"),),
    outputs=(Output("position", "std_msgs/msg/Float64", float64_to_msg, Qos.RELIABLE,
                    description="integrated position target (m or rad) for a position servo"),),
    timers=(Timer("period_s", "tick"),),
    description="integrates joint speed commands into a position servo's target (integrating velocity drive, "
                "Gazebo twins)",
)

JOINT_STATE_DROPOUT = NodeSpec(
    name="joint_state_dropout",
    config=JointStateDropoutConfig,
    component=JointStateDropout,
    inputs=(Input("joint_states_in", "sensor_msgs/msg/JointState", "on_joint_states", joint_state_from_msg,
                  Qos.SENSOR, "joint states from the simulator"),
            Input("command", "std_msgs/msg/Float64MultiArray", "on_command", float64_array_from_msg, Qos.RELIABLE,
                  "a controller's command (start_on_command: the first one starts the schedule)")),
    outputs=(Output("joint_states", "sensor_msgs/msg/JointState", joint_state_to_msg, Qos.SENSOR,
                    description="the joint states, except in the dropout window"),),
    description="relays joint states except in a scheduled dropout window on sim time (Gazebo twins)",
)
