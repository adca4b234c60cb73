"""Planning: real-time NMPC on CasADi, coverage planning for spraying, inspection patterns for drones."""
