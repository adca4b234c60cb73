"""Stroke-rehabilitation robots: ROS-free cores for therapy with an end-effector robot or an exoskeleton.

One module per concept:

* :mod:`~sanqin.rehab_robot.robots` — planar 2-DoF end-effector robot (MIT-Manus-like) and 1–2 DoF elbow/wrist
  exoskeleton: kinematics, rigid-body dynamics, hardware limits (:mod:`~sanqin.rehab_robot.limits`);
* :mod:`~sanqin.rehab_robot.profile`, :mod:`~sanqin.rehab_robot.plan` — validated patient profiles (limits never
  beyond the hardware) and therapy plans;
* :mod:`~sanqin.rehab_robot.trajectory` (minimum jerk), :mod:`~sanqin.rehab_robot.modes` (passive, active-assist,
  transparent, resistive; bumpless transfer), :mod:`~sanqin.rehab_robot.assist` (assist-as-needed),
  :mod:`~sanqin.rehab_robot.interaction` (impedance, admittance), :mod:`~sanqin.rehab_robot.intent` (force/EMG
  onset, BCI trigger), :mod:`~sanqin.rehab_robot.therapy` (the trial loop);
* :mod:`~sanqin.rehab_robot.supervisor` — the safety supervisor, independent of every controller;
* :mod:`~sanqin.rehab_robot.session_log` (durable, checksummed sessions), :mod:`~sanqin.rehab_robot.metrics`
  (ROM, peak speed, SPARC, normalised jerk, path deviation, assistance, success), :mod:`~sanqin.rehab_robot.report`
  (Markdown/HTML + PNG; ``python -m sanqin.rehab_robot.report SESSION_DIR PATIENT OUT``);
* :mod:`~sanqin.rehab_robot.nodes` — the ``rehab_robot`` node a therapist's interface talks to.
"""
