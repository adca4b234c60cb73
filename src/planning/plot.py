"""PNG plots of plans over their field (matplotlib, Agg backend: works headless)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

KIND_STYLE = {"pass": ("tab:green", 1.6), "lap": ("tab:olive", 1.6), "turn": ("tab:orange", 0.9),
              "transit": ("tab:gray", 0.8)}


def _polys(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom]
    return [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]


def _fill(ax, geom: BaseGeometry, **kw) -> None:
    for p in _polys(geom):
        xy = np.asarray(p.exterior.coords)
        ax.fill(xy[:, 0], xy[:, 1], **kw)
        for h in p.interiors:
            hxy = np.asarray(h.coords)
            ax.fill(hxy[:, 0], hxy[:, 1], color="white")
            ax.plot(hxy[:, 0], hxy[:, 1], color="black", lw=0.8)
        ax.plot(xy[:, 0], xy[:, 1], color=kw.get("edgecolor", "black"), lw=0.8)


def _save(fig, ax, path: str | Path) -> Path:
    """Equal axes in local east/north metres, written to ``path`` (folders made), figure closed."""
    ax.set_aspect("equal")
    ax.set_xlabel("east (m)")
    ax.set_ylabel("north (m)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_coverage(plan, path: str | Path, title: str = "") -> Path:
    """Field, no-spray zones, route (spray on/off), turns, transits and refill points → PNG."""
    fig, ax = plt.subplots(figsize=(8, 8), dpi=110)
    _fill(ax, plan.field.boundary, color="#e8f3df", edgecolor="black")
    for z in plan.field.no_spray:
        _fill(ax, z, color="#f4c7c3", edgecolor="tab:red", hatch="//")
    for piece in plan.pieces:
        color, lw = KIND_STYLE.get(piece.kind, ("black", 1.0))
        if piece.spray:
            for s in piece.spray:
                xy = np.vstack([s.start_m, s.end_m])
                ax.plot(xy[:, 0], xy[:, 1], color=color if s.on else "tab:gray", lw=lw if s.on else 0.8,
                        ls="-" if s.on else "--")
        else:
            ax.plot(piece.points_m[:, 0], piece.points_m[:, 1], color=color, lw=lw,
                    ls=":" if piece.kind == "transit" else "-")
    for r in plan.refills:
        ax.plot(*r.leave_m, marker="v", color="tab:blue", ms=8)
    if plan.home_m is not None:
        ax.plot(*plan.home_m, marker="*", color="tab:red", ms=12)
    m = plan.metrics
    ax.set_title(title or (f"{plan.field.name}: covered {m.get('covered_share', 0) * 100:.2f} %, "
                           f"{m.get('passes', 0):.0f} passes, {m.get('turns', 0):.0f} turns, "
                           f"{m.get('path_length_m', 0) / 1000:.2f} km"), fontsize=9)
    return _save(fig, ax, path)


def plot_inspection(waypoints_m: np.ndarray, path: str | Path, *, triggers_m: np.ndarray | None = None,
                    outline_m: list[np.ndarray] | None = None, title: str = "") -> Path:
    """An inspection route (x, y[, z]) with camera trigger points and outlines (line, footprint) → PNG."""
    wp = np.asarray(waypoints_m, float)
    fig, ax = plt.subplots(figsize=(8, 8), dpi=110)
    for o in outline_m or []:
        o = np.asarray(o, float)
        ax.plot(o[:, 0], o[:, 1], color="black", lw=1.2)
    sc = ax.scatter(wp[:, 0], wp[:, 1], c=wp[:, 2] if wp.shape[1] > 2 else "tab:blue", s=8, cmap="viridis")
    ax.plot(wp[:, 0], wp[:, 1], color="tab:blue", lw=0.8)
    if wp.shape[1] > 2:
        fig.colorbar(sc, ax=ax, label="altitude (m)")
    if triggers_m is not None and len(triggers_m):
        t = np.asarray(triggers_m, float)
        ax.plot(t[:, 0], t[:, 1], "x", color="tab:red", ms=4, label="camera triggers")
        ax.legend(loc="best")
    ax.set_title(title, fontsize=9)
    return _save(fig, ax, path)
