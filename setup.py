"""ament_python package `sanqin`: the import package lives in src/ (package_dir), data in share/sanqin."""

import ast
from glob import glob
from pathlib import Path

from setuptools import setup

PACKAGE = "sanqin"
HERE = Path(__file__).resolve().parent


def node_names() -> list[str]:
    """Executable names from src/registry.py, read without importing the package."""
    tree = ast.parse((HERE / "src" / "registry.py").read_text(encoding="utf-8"))
    for stmt in tree.body:
        if isinstance(stmt, ast.AnnAssign) and getattr(stmt.target, "id", "") == "NODES":
            return sorted(ast.literal_eval(stmt.value))
    raise RuntimeError("src/registry.py defines no NODES table")


def packages() -> list[str]:
    """`sanqin` and every subpackage under src/ (folders with an __init__.py)."""
    found = [PACKAGE]
    for init in sorted((HERE / "src").rglob("__init__.py")):
        rel = init.parent.relative_to(HERE / "src")
        if rel.parts:
            found.append(".".join((PACKAGE, *rel.parts)))
    return found


def data_tree(folder: str) -> list[tuple[str, list[str]]]:
    """(share/sanqin/<dir>, [files]) pairs installing ``folder`` recursively."""
    entries: dict[str, list[str]] = {}
    for path in sorted(glob(f"{folder}/**/*", recursive=True)):
        p = Path(path)
        if p.is_file() and "__pycache__" not in p.parts:
            entries.setdefault(f"share/{PACKAGE}/{p.parent.as_posix()}", []).append(path)
    return sorted(entries.items())


setup(
    name=PACKAGE,
    version="0.1.0",
    packages=packages(),
    package_dir={PACKAGE: "src"},
    package_data={PACKAGE: ["py.typed"]},
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        *data_tree("launch"),
        *data_tree("config"),
        *data_tree("sim"),
    ],
    python_requires=">=3.10",
    install_requires=[
        "setuptools",
        "numpy>=1.24",
        "scipy>=1.10",
        "PyYAML>=6",
        "open3d>=0.18",
        "casadi>=3.6",
        "pymavlink>=2.4.40",
        "rosbags>=0.10",
        "mujoco>=3.1",
        "shapely>=2.0",
        "pyproj>=3.6",
        "matplotlib>=3.7",
        "tqdm>=4.60",
    ],
    extras_require={
        "test": ["pytest>=8", "ruff>=0.5", "mavsdk>=2", "myo-sim>=0.2"],
    },
    zip_safe=True,
    maintainer="Sanqin developers",
    maintainer_email="sanqin-dev@users.noreply.github.com",
    description=(
        "ROS 2 autonomy stack: perception, MPC planning, compliant control, MAVLink bridge, rehabilitation robots"
    ),
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            f"{name} = {PACKAGE}.ros.entrypoints:{name}" for name in node_names()
        ]
        + [f"{PACKAGE} = {PACKAGE}.cli:main"],
    },
)
