"""Where the package's data (launch/, config/, sim/) lives: source tree, pip install or ROS share."""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path

from sanqin.runtime.errors import RuntimeLayerError


@cache
def share_dir() -> Path:
    """The folder holding package.xml, launch/, config/ and sim/ for this installation."""
    env = os.environ.get("SANQIN_SHARE")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2])  # source tree / editable install
    candidates.append(Path(sys.prefix) / "share" / "sanqin")  # pip data_files
    try:  # a colcon install: ament index
        from ament_index_python.packages import get_package_share_directory

        candidates.append(Path(get_package_share_directory("sanqin")))
    except Exception:  # noqa: S110 - ament_index_python absent or package not indexed: other candidates
        pass
    for c in candidates:
        if (c / "package.xml").is_file() and (c / "sim").is_dir():
            return c
    raise RuntimeLayerError(
        "cannot find Sanqin's share folder (package.xml, sim/, config/); set SANQIN_SHARE"
    )


def resolve_data_path(path: str | Path, base: Path | None = None) -> Path:
    """An absolute path for a data file named relative to ``base`` or the share folder."""
    p = Path(path).expanduser()
    if p.is_absolute():
        return p
    if base is not None and (base / p).exists():
        return base / p
    return share_dir() / p
