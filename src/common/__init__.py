"""Types and helpers shared by every area: errors, frames, core data types. No ROS imports."""
