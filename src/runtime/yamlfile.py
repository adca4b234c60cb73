"""Reading a YAML file with errors that name it (params files, scenarios, profiles, plans)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def read_yaml(path: str | Path, error: type[Exception], what: str = "") -> Any:
    """Parse a YAML file; an unreadable or malformed file raises ``error`` naming the path (and ``what`` it is)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise error(f"{path}: cannot read{' ' + what if what else ''}: {err.strerror or err}") from err
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise error(f"{path}: not valid YAML: {err}") from err
