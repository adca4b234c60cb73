"""Node runtime without ROS: typed configs, params files, node declarations, in-process bus, scenarios."""
