import pytest

from sanqin.runtime.errors import ScenarioError
from sanqin.runtime.yamlfile import read_yaml


def test_read_yaml_parses_a_file(tmp_path):
    p = tmp_path / "a.yaml"
    p.write_text("a: [1, 2]\n", encoding="utf-8")
    assert read_yaml(p, ScenarioError) == {"a": [1, 2]}


def test_read_yaml_errors_name_the_file_and_what_it_is(tmp_path):
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ScenarioError, match=r"missing\.yaml: cannot read plan: "):
        read_yaml(missing, ScenarioError, "plan")
    with pytest.raises(ScenarioError, match=r"missing\.yaml: cannot read: "):
        read_yaml(missing, ScenarioError)
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"bad\.yaml: not valid YAML"):
        read_yaml(bad, ScenarioError)
