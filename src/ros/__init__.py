"""The only package that imports rclpy: runs declared nodes as real ROS 2 nodes."""
