"""Stroke-rehabilitation robots: end-effector and exoskeleton models, training modes with assist-as-needed,
interaction control, intent detection, an independent safety supervisor, durable sessions and progress reports.

Every module here is ROS-free (numpy/dataclasses in and out); :mod:`sanqin.rehab_robot.nodes` wraps them.
"""
