"""Patient profiles and therapy plans are validated with clear errors; limits never exceed the hardware."""

from __future__ import annotations

import pytest
import yaml

from sanqin.rehab_robot.errors import PlanError, ProfileError
from sanqin.rehab_robot.plan import check_plan_against_profile, load_plan, parse_plan
from sanqin.rehab_robot.profile import load_profile, parse_profile

from .rehab_helpers import REHAB_DATA


def _doc(**changes):
    doc = yaml.safe_load((REHAB_DATA / "profile_planar_example.yaml").read_text())
    doc.update(changes)
    return doc


def test_example_profiles_load_within_hardware(planar_profile, exo_profile) -> None:
    assert planar_profile.limits.task_unit == "m" and exo_profile.limits.task_unit == "rad"
    assert planar_profile.limits.max_speed == 0.6
    assert parse_profile(planar_profile.to_dict()).to_dict() == planar_profile.to_dict()


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"rom_min": [0.1, 0.28], "rom_max": [-0.1, 0.56]}, "empty or negative"),
        ({"rom_max": [0.16, 0.9]}, r"maximum 0.9 m is above the hardware limit 0.62 m"),
        ({"max_speed": 5.0}, "max speed 5 m/s exceeds the hardware limit 1 m/s"),
        ({"max_interaction": 500.0}, "max interaction 500 N exceeds"),
        ({"max_joint_torque_nm": [25.0, 99.0]}, "max joint torque 1 99"),
        ({"max_speed": float("nan")}, "must be finite"),
        ({"max_speed": -1.0}, "must be positive"),
        ({"rom_min": [0.0]}, "list of 2 numbers"),
        ({"robot": "hexapod"}, "'robot' must be one of"),
        ({"colour": "red"}, "unknown key"),
        ({"spasm_opposing": 80.0}, "must be below max_interaction"),
    ],
)
def test_bad_profiles_are_rejected_with_the_reason(changes, match) -> None:
    with pytest.raises(ProfileError, match=match):
        parse_profile(_doc(**changes), "p.yaml")


def test_unreadable_and_malformed_profile_files(tmp_path) -> None:
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("patient_id: [unclosed\n")
    with pytest.raises(ProfileError, match="not valid YAML"):
        load_profile(bad)


def test_plans_load_and_check_against_the_profile(planar_profile, exo_profile) -> None:
    plan = load_plan(REHAB_DATA / "plan_center_out.yaml")
    assert plan.n_trials == 8
    block, target = plan.trial(2)
    assert block.mode == "active_assist" and target.tolist() == [-0.10, 0.48]
    check_plan_against_profile(plan, planar_profile)
    with pytest.raises(PlanError, match="is for robot"):
        check_plan_against_profile(plan, exo_profile)
    exo_plan = load_plan(REHAB_DATA / "plan_exo_flexion.yaml")
    check_plan_against_profile(exo_plan, exo_profile)
    assert exo_plan.trial(7)[1].tolist() == [0.5]


def test_plan_target_outside_rom_and_bad_plans(planar_profile) -> None:
    doc = yaml.safe_load((REHAB_DATA / "plan_center_out.yaml").read_text())
    doc["blocks"][0]["targets"].append([0.3, 0.45])
    with pytest.raises(PlanError, match="outside patient 'SIM-PLANAR-01'"):
        check_plan_against_profile(parse_plan(doc), planar_profile)
    for key, value, match in [("mode", "dance", "'mode' must be"), ("trials", 0, "positive integer"),
                              ("movement_time_s", 0.0, "must be > 0.2"), ("targets", [[0.1]], "2 finite")]:
        d = yaml.safe_load((REHAB_DATA / "plan_center_out.yaml").read_text())
        d["blocks"][0][key] = value
        with pytest.raises(PlanError, match=match):
            parse_plan(d)
