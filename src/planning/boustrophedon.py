"""Boustrophedon ordering: back-and-forth passes inside each cell, cells chained nearest-first.

Each cell can be entered at four corners (first or last pass, either direction); the cell order and the
entry corner are chosen greedily to minimize the transit from the previous exit.
"""

from __future__ import annotations

import numpy as np

from sanqin.planning.swaths import Swath


def serpentine(cell: list[Swath], from_last: bool, reverse_first: bool) -> list[Swath]:
    """A cell's passes in back-and-forth order, starting at its first or last pass and a direction."""
    order = list(reversed(cell)) if from_last else list(cell)
    out = []
    flip = reverse_first
    for s in order:
        out.append(s.reversed() if flip else s)
        flip = not flip
    return out


def order_cells(cells: list[list[Swath]], start_m: np.ndarray) -> list[list[Swath]]:
    """Cells as driven: greedy nearest entry corner from ``start_m``; each cell in serpentine order."""
    left = list(range(len(cells)))
    pos = np.asarray(start_m, float)
    out: list[list[Swath]] = []
    while left:
        best = None
        for ci in left:
            for from_last in (False, True):
                for rev in (False, True):
                    first = cells[ci][-1] if from_last else cells[ci][0]
                    entry = first.end_m if rev else first.start_m
                    d = float(np.linalg.norm(entry - pos))
                    if best is None or d < best[0]:
                        best = (d, ci, from_last, rev)
        _, ci, from_last, rev = best
        seq = serpentine(cells[ci], from_last, rev)
        out.append(seq)
        pos = seq[-1].end_m
        left.remove(ci)
    return out
