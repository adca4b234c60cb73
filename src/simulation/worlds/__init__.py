"""Simulated worlds: triangle meshes built from typed configs, with ground-truth annotations.

Each world module builds an Open3D triangle mesh (for raycasting sensors), a per-triangle material id
(for reflectivity) and dataclasses describing the objects that perception is expected to find.
"""
