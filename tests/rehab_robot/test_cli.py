"""``sanqin rehab``: profile/plan validation from the command line, with clear errors."""

from __future__ import annotations

from pathlib import Path

from sanqin.cli import main

DATA = Path(__file__).resolve().parents[2] / "sim" / "rehab"


def test_check_accepts_the_shipped_profile_and_plan(capsys) -> None:
    assert main(["rehab", "check", str(DATA / "profile_planar_example.yaml"), str(DATA / "plan_center_out.yaml")]) == 0
    out = capsys.readouterr().out
    assert "is valid" in out and "fits the profile" in out


def test_check_rejects_a_profile_beyond_the_hardware(tmp_path: Path, capsys) -> None:
    text = (DATA / "profile_planar_example.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("max_speed:", "max_speed: 1000.0 #", 1))
    assert main(["rehab", "check", str(bad)]) == 2
    assert "exceeds the hardware limit" in capsys.readouterr().err


def test_report_without_sessions_says_so(tmp_path: Path, capsys) -> None:
    assert main(["rehab", "report", str(tmp_path), "P1", str(tmp_path / "out")]) == 1
    assert "no session files" in capsys.readouterr().out
