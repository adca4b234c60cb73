"""Therapy plans: blocks of reaching trials, each block with a training mode, targets and timing.

A plan file (YAML)::

    plan_id: center-out-4
    robot: planar
    success_tolerance: 0.02        # final distance to target counted as success (m or rad)
    blocks:
      - mode: active_assist        # passive | active_assist | transparent | resistive
        trials: 8
        targets: [[0.10, 0.45], [0.0, 0.35], [-0.10, 0.45], [0.0, 0.35]]   # visited in turn, cycled
        movement_time_s: 1.5       # minimum-jerk duration of each reach
        rest_s: 0.5                # pause between trials
        trigger: force             # auto | force | emg | bci: what starts a trial
        trigger_timeout_s: 4.0     # start anyway (passively) after this long without intent
        resistance: 0.0            # resistive mode viscosity, N·s/m (planar) or N·m·s/rad (exo)

Trial *k* of a block reaches from wherever the limb is to ``targets[k % len(targets)]``.
:func:`check_plan_against_profile` rejects targets outside the patient's range of motion.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sanqin.rehab_robot.errors import PlanError
from sanqin.rehab_robot.profile import PatientProfile
from sanqin.rehab_robot.robots import ROBOT_KINDS, make_robot
from sanqin.runtime.yamlfile import read_yaml

MODES = ("passive", "active_assist", "transparent", "resistive")
TRIGGERS = ("auto", "force", "emg", "bci")
_BLOCK_KEYS = {"mode", "trials", "targets", "movement_time_s", "rest_s", "trigger", "trigger_timeout_s",
               "resistance"}


@dataclass(frozen=True)
class Block:
    """A block of trials in one mode."""

    mode: str
    trials: int
    targets: tuple[tuple[float, ...], ...]
    movement_time_s: float
    rest_s: float = 0.5
    trigger: str = "auto"
    trigger_timeout_s: float = 4.0
    resistance: float = 0.0

    def target(self, k: int) -> np.ndarray:
        """Target of trial ``k`` of this block (task coordinates)."""
        return np.array(self.targets[k % len(self.targets)], float)


@dataclass(frozen=True)
class TherapyPlan:
    """A validated plan: ordered blocks and the success tolerance."""

    plan_id: str
    robot: str
    success_tolerance: float
    blocks: tuple[Block, ...]

    @property
    def n_trials(self) -> int:
        """Total number of trials."""
        return sum(b.trials for b in self.blocks)

    def trial(self, index: int) -> tuple[Block, np.ndarray]:
        """(block, target) of the plan's trial ``index`` (0-based across blocks)."""
        k = index
        for b in self.blocks:
            if k < b.trials:
                return b, b.target(k)
            k -= b.trials
        raise PlanError(f"plan {self.plan_id!r} has {self.n_trials} trials, asked for trial {index}")


def _num(doc: Mapping[str, Any], key: str, where: str, default: float | None = None, *, minimum: float = 0.0,
         strict: bool = True) -> float:
    if key not in doc:
        if default is None:
            raise PlanError(f"{where}: missing key {key!r}")
        return default
    v = doc[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
        raise PlanError(f"{where}: {key!r} must be a finite number, got {v!r}")
    if (strict and v <= minimum) or v < minimum:
        raise PlanError(f"{where}: {key!r} must be {'>' if strict else '>='} {minimum:g}, got {v!r}")
    return float(v)


def parse_plan(doc: Any, where: str = "plan") -> TherapyPlan:
    """Validate a plan document."""
    if not isinstance(doc, Mapping):
        raise PlanError(f"{where}: top level must be a mapping")
    unknown = set(doc) - {"plan_id", "robot", "success_tolerance", "blocks"}
    if unknown:
        raise PlanError(f"{where}: unknown key(s) {sorted(unknown)}")
    pid = doc.get("plan_id")
    if not isinstance(pid, str) or not pid.strip():
        raise PlanError(f"{where}: 'plan_id' must be a non-empty string, got {pid!r}")
    kind = doc.get("robot")
    if kind not in ROBOT_KINDS:
        raise PlanError(f"{where}: 'robot' must be one of {list(ROBOT_KINDS)}, got {kind!r}")
    n = make_robot(kind).n_task
    blocks_doc = doc.get("blocks")
    if not isinstance(blocks_doc, list) or not blocks_doc:
        raise PlanError(f"{where}: 'blocks' must be a non-empty list")
    blocks = []
    for i, b in enumerate(blocks_doc):
        w = f"{where}: blocks[{i}]"
        if not isinstance(b, Mapping):
            raise PlanError(f"{w}: must be a mapping")
        bad = set(b) - _BLOCK_KEYS
        if bad:
            raise PlanError(f"{w}: unknown key(s) {sorted(bad)}; allowed: {sorted(_BLOCK_KEYS)}")
        mode = b.get("mode")
        if mode not in MODES:
            raise PlanError(f"{w}: 'mode' must be one of {list(MODES)}, got {mode!r}")
        trigger = b.get("trigger", "auto")
        if trigger not in TRIGGERS:
            raise PlanError(f"{w}: 'trigger' must be one of {list(TRIGGERS)}, got {trigger!r}")
        trials = b.get("trials")
        if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
            raise PlanError(f"{w}: 'trials' must be a positive integer, got {trials!r}")
        targets = b.get("targets")
        if not isinstance(targets, list) or not targets:
            raise PlanError(f"{w}: 'targets' must be a non-empty list")
        tgts = []
        for j, t in enumerate(targets):
            t = [t] if isinstance(t, (int, float)) and not isinstance(t, bool) and n == 1 else t
            if (not isinstance(t, (list, tuple)) or len(t) != n
                    or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
                               for x in t)):
                raise PlanError(f"{w}: targets[{j}] must be {n} finite numbers, got {t!r}")
            tgts.append(tuple(float(x) for x in t))
        blocks.append(Block(
            mode=mode, trials=trials, targets=tuple(tgts),
            movement_time_s=_num(b, "movement_time_s", w, minimum=0.2),
            rest_s=_num(b, "rest_s", w, 0.5, strict=False),
            trigger=trigger,
            trigger_timeout_s=_num(b, "trigger_timeout_s", w, 4.0),
            resistance=_num(b, "resistance", w, 0.0, strict=False),
        ))
    return TherapyPlan(pid.strip(), kind, _num(doc, "success_tolerance", where), tuple(blocks))


def load_plan(path: str | Path) -> TherapyPlan:
    """Read and validate a plan file."""
    return parse_plan(read_yaml(path, PlanError), str(path))


def check_plan_against_profile(plan: TherapyPlan, profile: PatientProfile, margin: float = 0.0) -> None:
    """Raise :class:`PlanError` if the plan is for another robot or a target lies outside the patient's ROM."""
    if plan.robot != profile.robot:
        raise PlanError(f"plan {plan.plan_id!r} is for robot {plan.robot!r}, profile {profile.patient_id!r} "
                        f"for {profile.robot!r}")
    lim = profile.limits
    for i, b in enumerate(plan.blocks):
        for t in b.targets:
            if not lim.contains(np.array(t), margin):
                raise PlanError(
                    f"plan {plan.plan_id!r} blocks[{i}]: target {list(t)} {lim.task_unit} is outside patient "
                    f"{profile.patient_id!r}'s range of motion {lim.task_min.tolist()}..{lim.task_max.tolist()} "
                    f"(margin {margin:g})")
