"""Every node Sanqin ships: executable name → ``module:attribute`` of its :class:`NodeSpec`.

This one table drives the console-script entry points (``ros2 run sanqin <name>``), the headless
runner, and the launch-file check. It imports nothing so that ``setup.py`` can read it.
"""

NODES: dict[str, str] = {
    "lidar_preprocessor": "sanqin.perception.nodes:LIDAR_PREPROCESSOR",
    "obstacle_detector": "sanqin.perception.nodes:OBSTACLE_DETECTOR",
    "lidar_odometry": "sanqin.perception.nodes:LIDAR_ODOMETRY",
    "imu_attitude": "sanqin.perception.nodes:IMU_ATTITUDE",
    "thermal_inspector": "sanqin.perception.nodes:THERMAL_INSPECTOR",
    "canopy_mapper": "sanqin.perception.nodes:CANOPY_MAPPER",
    "camera_lidar_fusion": "sanqin.perception.nodes:CAMERA_LIDAR_FUSION",
    "seam_follower": "sanqin.control.nodes:SEAM_FOLLOWER",
    "cartesian_admittance": "sanqin.control.nodes:CARTESIAN_ADMITTANCE",
    "cartesian_impedance": "sanqin.control.nodes:CARTESIAN_IMPEDANCE",
    "joint_impedance": "sanqin.control.nodes:JOINT_IMPEDANCE",
    "mecanum_hand_guide": "sanqin.control.nodes:MECANUM_HAND_GUIDE",
    "rail_patrol": "sanqin.control.nodes:RAIL_PATROL",
    "contact_probe": "sanqin.control.nodes:CONTACT_PROBE",
    "rehab_robot": "sanqin.rehab_robot.nodes:REHAB_ROBOT",
    "uav_bridge": "sanqin.uav_bridge.nodes:UAV_BRIDGE",
    "mpc_planner": "sanqin.planning.nodes:MPC_PLANNER",
    "coverage_planner": "sanqin.planning.nodes:COVERAGE_PLANNER",
    "path_driver": "sanqin.simulation.gazebo.nodes:PATH_DRIVER",
    "thermal_counts": "sanqin.simulation.gazebo.nodes:THERMAL_COUNTS",
    "scene_publisher": "sanqin.simulation.gazebo.nodes:SCENE_PUBLISHER",
    "operator_push": "sanqin.simulation.gazebo.nodes:OPERATOR_PUSH",
    "world_twist_relay": "sanqin.simulation.gazebo.nodes:WORLD_TWIST_RELAY",
    "mavlink_fault_relay": "sanqin.simulation.gazebo.nodes:MAVLINK_FAULT_RELAY",
    "joint_command_split": "sanqin.simulation.gazebo.nodes:JOINT_COMMAND_SPLIT",
    "velocity_integrator": "sanqin.simulation.gazebo.drive_nodes:VELOCITY_INTEGRATOR",
    "joint_state_dropout": "sanqin.simulation.gazebo.drive_nodes:JOINT_STATE_DROPOUT",
    "rehab_patient": "sanqin.simulation.gazebo.rehab_nodes:REHAB_PATIENT",
    "rehab_exo_patient": "sanqin.simulation.gazebo.rehab_nodes:REHAB_EXO_PATIENT",
}
