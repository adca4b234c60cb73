"""Patient profiles: validated per-patient safety limits that can never exceed the robot's hardware limits.

A profile file (YAML)::

    patient_id: P-0007
    robot: planar                 # planar | exo_elbow | exo_elbow_wrist
    rom_min: [-0.12, 0.30]        # range of motion, task coordinates: m (planar handle) or rad (exo joints)
    rom_max: [0.12, 0.55]
    max_speed: 0.5                # m/s (planar) or rad/s (exo)
    max_interaction: 35.0         # handle force N (planar) or cuff torque N·m (exo)
    max_joint_torque_nm: [20.0, 15.0]
    spasm_opposing: 12.0          # opposing interaction (N or N·m) that, rising fast, is a spasm
    spasm_rate: 150.0             # rise rate of the opposing interaction (N/s or N·m/s)
    notes: "left hemiparesis, 3 months post-stroke"

Every value is checked: finite numbers, ``rom_max > rom_min`` on every axis (a negative range of motion
is rejected), positive limits, and every limit within the robot's hardware limits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sanqin.rehab_robot.errors import ProfileError
from sanqin.rehab_robot.limits import Limits
from sanqin.rehab_robot.robots import ROBOT_KINDS, Robot, make_robot
from sanqin.runtime.yamlfile import read_yaml

_KEYS = {"patient_id", "robot", "rom_min", "rom_max", "max_speed", "max_interaction", "max_joint_torque_nm",
         "spasm_opposing", "spasm_rate", "notes"}


@dataclass(frozen=True)
class PatientProfile:
    """A validated patient profile: who, which robot, and the limits the safety supervisor enforces."""

    patient_id: str
    robot: str
    limits: Limits
    spasm_opposing: float
    spasm_rate: float
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The profile as plain data (the shape of the file)."""
        return {
            "patient_id": self.patient_id, "robot": self.robot,
            "rom_min": self.limits.task_min.tolist(), "rom_max": self.limits.task_max.tolist(),
            "max_speed": self.limits.max_speed, "max_interaction": self.limits.max_interaction,
            "max_joint_torque_nm": self.limits.max_joint_torque_nm.tolist(),
            "spasm_opposing": self.spasm_opposing, "spasm_rate": self.spasm_rate, "notes": self.notes,
        }


def _number(doc: Mapping[str, Any], key: str, where: str, *, positive: bool = True) -> float:
    if key not in doc:
        raise ProfileError(f"{where}: missing key {key!r}")
    v = doc[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ProfileError(f"{where}: {key!r} must be a number, got {v!r}")
    v = float(v)
    if not math.isfinite(v):
        raise ProfileError(f"{where}: {key!r} must be finite, got {v!r}")
    if positive and v <= 0:
        raise ProfileError(f"{where}: {key!r} must be positive, got {v!r}")
    return v


def _vector(doc: Mapping[str, Any], key: str, n: int, where: str) -> np.ndarray:
    if key not in doc:
        raise ProfileError(f"{where}: missing key {key!r}")
    v = doc[key]
    if isinstance(v, (int, float)) and not isinstance(v, bool) and n == 1:
        v = [v]
    if not isinstance(v, (list, tuple)) or len(v) != n:
        raise ProfileError(f"{where}: {key!r} must be a list of {n} numbers, got {v!r}")
    out = []
    for x in v:
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(float(x)):
            raise ProfileError(f"{where}: {key!r} must hold finite numbers, got {v!r}")
        out.append(float(x))
    return np.array(out)


def parse_profile(doc: Any, where: str = "profile", robot: Robot | None = None) -> PatientProfile:
    """Validate a profile document against the hardware limits of ``robot`` (default: the kind it names)."""
    if not isinstance(doc, Mapping):
        raise ProfileError(f"{where}: top level must be a mapping")
    unknown = set(doc) - _KEYS
    if unknown:
        raise ProfileError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_KEYS)}")
    pid = doc.get("patient_id")
    if not isinstance(pid, str) or not pid.strip():
        raise ProfileError(f"{where}: 'patient_id' must be a non-empty string, got {pid!r}")
    kind = doc.get("robot")
    if kind not in ROBOT_KINDS:
        raise ProfileError(f"{where}: 'robot' must be one of {list(ROBOT_KINDS)}, got {kind!r}")
    named = make_robot(kind)
    if robot is not None and (robot.name, robot.n_joints) != (named.name, named.n_joints):
        raise ProfileError(f"{where}: profile is for robot {kind!r} ({named.n_joints} joint(s)), the robot in use "
                           f"is {robot.name!r} with {robot.n_joints} joint(s)")
    robot = robot or named
    n, hw = robot.n_task, robot.hardware
    lo, hi = _vector(doc, "rom_min", n, where), _vector(doc, "rom_max", n, where)
    for i in range(n):
        if hi[i] <= lo[i]:
            raise ProfileError(
                f"{where}: range of motion axis {i} is empty or negative (rom_min {lo[i]:g} >= rom_max "
                f"{hi[i]:g} {hw.task_unit})")
    limits = Limits(
        task_min=lo, task_max=hi,
        max_speed=_number(doc, "max_speed", where),
        max_interaction=_number(doc, "max_interaction", where),
        max_joint_torque_nm=_vector(doc, "max_joint_torque_nm", robot.n_joints, where),
        task_unit=hw.task_unit,
    )
    if np.any(limits.max_joint_torque_nm <= 0):
        raise ProfileError(f"{where}: 'max_joint_torque_nm' must be positive, got {limits.max_joint_torque_nm}")
    problems = limits.exceedances(hw)
    if problems:
        raise ProfileError(f"{where}: limits beyond the {kind} robot's hardware: " + "; ".join(problems))
    opposing = _number(doc, "spasm_opposing", where)
    if opposing >= limits.max_interaction:
        raise ProfileError(f"{where}: 'spasm_opposing' {opposing:g} must be below max_interaction "
                           f"{limits.max_interaction:g} {limits.interaction_unit}")
    notes = doc.get("notes", "")
    return PatientProfile(pid.strip(), kind, limits, opposing, _number(doc, "spasm_rate", where),
                          str(notes) if notes is not None else "")


def load_profile(path: str | Path, robot: Robot | None = None) -> PatientProfile:
    """Read and validate a profile file (errors name the file and the key)."""
    return parse_profile(read_yaml(path, ProfileError), str(path), robot)
