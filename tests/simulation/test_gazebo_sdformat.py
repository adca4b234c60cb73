"""Every generated SDF file parses with the real SDFormat library (libsdformat) without a single error."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sanqin.runtime.paths import share_dir
from sanqin.simulation.gazebo import cli
from sanqin.simulation.gazebo.sdfcheck import build_checker, check_files, stub_models, unavailable_reason

GAZEBO = share_dir() / "sim" / "gazebo"
WHY = unavailable_reason()
pytestmark = pytest.mark.skipif(WHY is not None, reason=f"SDFormat checker unavailable: {WHY}")


@pytest.fixture(scope="module")
def checker() -> Path:
    return build_checker()  # cached in ~/.cache/sanqin (XDG_CACHE_HOME), never in the repository


def _files() -> list[Path]:
    return sorted(GAZEBO.rglob("*.sdf")) + sorted(GAZEBO.rglob("*.urdf"))


def test_every_generated_file_parses_without_errors(checker: Path, tmp_path: Path) -> None:
    files = _files()
    assert files, "no generated SDF files"
    twins = yaml.safe_load((GAZEBO / "twins.yaml").read_text())["twins"]
    external = sorted({m for t in twins.values() for m in t["external_models"]})
    reports = check_files(files, [GAZEBO / "models", stub_models(external, tmp_path)], binary=checker)
    problems = [f"{r.path}: {e}" for r in reports for e in r.errors]
    assert problems == []
    for rep in reports:
        assert rep.counts["version"] == "1.9"
        if "/worlds/" in rep.path:
            assert int(rep.counts["worlds"]) == 1
            assert int(rep.counts["models"]) >= 1  # static world models are included and resolved
        else:
            assert int(rep.counts["models"]) >= 1 and int(rep.counts["links"]) >= 1


def test_tunnel_robot_carries_its_lidar_and_wheels(checker: Path) -> None:
    (rep,) = check_files([GAZEBO / "models" / "tunnel_lidar_robot" / "model.sdf"], binary=checker)
    assert rep.ok, rep.errors
    assert rep.counts["sensors"] == "1" and rep.counts["joints"] == "4" and rep.counts["links"] == "5"


BROKEN = {
    "unknown element": '<model name="m"><link name="l"><speed>3</speed></link></model>',
    "joint to a missing link": ('<model name="m"><link name="a"/><joint name="j" type="revolute"><parent>a</parent>'
                                "<child>nowhere</child><axis><xyz>0 0 1</xyz></axis></joint></model>"),
    "bad number": '<model name="m"><link name="l"><inertial><mass>heavy</mass></inertial></link></model>',
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_the_checker_reports_broken_files(checker: Path, tmp_path: Path, case: str) -> None:
    path = tmp_path / "broken.sdf"
    path.write_text(f'<?xml version="1.0"?>\n<sdf version="1.9">{BROKEN[case]}</sdf>\n')
    (rep,) = check_files([path], binary=checker)
    assert not rep.ok


def test_a_newer_sdf_version_is_not_silently_accepted(checker: Path, tmp_path: Path) -> None:
    path = tmp_path / "new.sdf"
    path.write_text('<?xml version="1.0"?>\n<sdf version="1.11"><model name="m"><link name="l"/></model></sdf>\n')
    (rep,) = check_files([path], binary=checker)
    assert not rep.ok and "1.11" in rep.errors[0]


def test_harmonic_only_elements_are_accepted_exactly(checker: Path, tmp_path: Path) -> None:
    sensor = ('<model name="m"><link name="l"><sensor name="s" type="imu"><topic>/imu</topic>'
              "<gz_frame_id>imu</gz_frame_id></sensor></link></model>")
    path = tmp_path / "imu.sdf"
    path.write_text(f'<?xml version="1.0"?>\n<sdf version="1.9">{sensor}</sdf>\n')
    assert check_files([path], binary=checker)[0].ok
    assert not check_files([path], allowed=(), binary=checker)[0].ok


def test_cli_check_passes_on_the_shipped_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check"]) == 0
    assert "parse without errors" in capsys.readouterr().out
