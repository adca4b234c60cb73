"""Gazebo (Harmonic) twins of the headless scenarios, generated from the same scenario files.

ROS-free and Gazebo-free: this package only writes files. From ``sim/scenarios/<name>.yaml`` and the
simulator plugins' validated configs it generates SDF 1.9 worlds and models (the headless worlds' own
meshes, the robots with the sensors and drive systems our nodes use), ``ros_gz_bridge`` configs and
``launch/gz_<name>.launch.xml``; ``sanqin gazebo generate`` writes them, ``sanqin gazebo score`` scores a
bag recorded in Gazebo with the headless runner's metric names. See ``sim/gazebo/README.md``.

Modules: :mod:`.sdf` (XML), :mod:`.bridge` (ROS ↔ gz types), :mod:`.sensors`, :mod:`.systems`,
:mod:`.mesh`, :mod:`.twin` (the twin under construction and the exporter table), one exporter per
simulator plugin (:mod:`.tunnel`, :mod:`.welding`), :mod:`.generate`, :mod:`.score`, :mod:`.cli`.
"""
