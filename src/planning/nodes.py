"""Node declarations of the planning area: the NMPC planner and the coverage planner.

``mpc_planner`` — one executable for every model (``model.kind``): differential drive (tunnel patrol
robot, AGV), mecanum heavy-load base, rail carriage, multirotor.

* in: ``odom`` (nav_msgs/Odometry: pose in odom/map, twist in base_link), ``path`` (nav_msgs/Path, the
  reference; latched), ``obstacles`` (sensor_msgs/PointCloud2 obstacle table, see
  :mod:`sanqin.msgs.obstacles`), ``payload`` (std_msgs/Float64, kg: mecanum acceleration limits).
* out: ``cmd_vel`` (geometry_msgs/Twist: body v/ω for ground robots, carriage speed in ``linear.x`` on
  the rail, ENU velocity setpoint for the multirotor), ``predicted_path`` (nav_msgs/Path, the MPC's
  prediction), ``setpoint`` (geometry_msgs/PoseStamped, multirotor offboard position setpoint a few
  stages ahead; the UAV bridge's ``setpoint`` input).

``coverage_planner`` — plans a spraying mission from a boundary file on start or on the ``plan``
service; publishes ``mission_plan`` (std_msgs/String with the QGroundControl plan JSON, latched — the
UAV bridge's ``mission_plan`` input) and ``coverage_path`` (nav_msgs/Path of the route, latched).
Standard messages only: an ament_python package cannot define .msg types.
"""

from __future__ import annotations

from sanqin.msgs.geometry import odometry_from_msg, path_from_msg, path_to_msg, pose_stamped_to_msg, twist_to_msg
from sanqin.msgs.obstacles import pointcloud2_to_obstacles
from sanqin.msgs.rehab import float64_from_msg
from sanqin.msgs.vehicle import text_to_msg
from sanqin.planning.components import CoveragePlanner, CoveragePlannerConfig, MpcPlanner, MpcPlannerConfig
from sanqin.runtime.node import Input, NodeSpec, Output, Qos, Service, Timer

MPC_PLANNER = NodeSpec(
    name="mpc_planner",
    config=MpcPlannerConfig,
    component=MpcPlanner,
    inputs=(
        Input("odom", "nav_msgs/msg/Odometry", "on_odometry", odometry_from_msg, Qos.SENSOR, "robot state"),
        Input("path", "nav_msgs/msg/Path", "on_path", path_from_msg, Qos.LATCHED, "reference path to follow"),
        Input("obstacles", "sensor_msgs/msg/PointCloud2", "on_obstacles", pointcloud2_to_obstacles, Qos.SENSOR,
              "obstacle table from perception (odom frame)"),
        Input("payload", "std_msgs/msg/Float64", "on_payload", float64_from_msg, Qos.LATCHED, "payload mass (kg)"),
    ),
    outputs=(
        Output("cmd_vel", "geometry_msgs/msg/Twist", twist_to_msg, Qos.RELIABLE, description="velocity command"),
        Output("predicted_path", "nav_msgs/msg/Path", path_to_msg, Qos.RELIABLE, description="MPC prediction"),
        Output("setpoint", "geometry_msgs/msg/PoseStamped", pose_stamped_to_msg, Qos.RELIABLE,
               description="multirotor position setpoint"),
    ),
    timers=(Timer("mpc.dt_s", "tick"),),
    description="real-time NMPC (CasADi) path following with obstacle avoidance",
)

COVERAGE_PLANNER = NodeSpec(
    name="coverage_planner",
    config=CoveragePlannerConfig,
    component=CoveragePlanner,
    outputs=(
        Output("mission_plan", "std_msgs/msg/String", text_to_msg, Qos.LATCHED, description="QGC plan JSON"),
        Output("coverage_path", "nav_msgs/msg/Path", path_to_msg, Qos.LATCHED, description="spraying route"),
    ),
    timers=(Timer(1.0, "tick"),),
    services=(Service("plan", "std_srvs/srv/Trigger", "srv_plan", "plan from the boundary file now"),),
    description="coverage planning for crop spraying",
)
