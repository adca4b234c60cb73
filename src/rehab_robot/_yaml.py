"""Reading YAML documents for profiles and plans with errors that name the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sanqin.rehab_robot.errors import RehabError


def read_yaml(path: str | Path, error: type[RehabError]) -> Any:
    """Parse a YAML file; unreadable or malformed files raise ``error`` naming the path."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise error(f"{path}: cannot read: {err.strerror or err}") from err
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise error(f"{path}: not valid YAML: {err}") from err
