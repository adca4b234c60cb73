"""Boustrophedon cell decomposition of a non-convex region, from its swath pieces.

Sweeping the swath lines in order, a *cell* continues while each of its pieces on line k overlaps
exactly one piece on line k+1 and that piece overlaps no other cell: a concavity or a hole that splits
or merges the pieces (a critical point of the sweep) closes the cells involved and opens new ones.
Inside one cell consecutive passes are neighbours, so they can be driven back and forth.
"""

from __future__ import annotations

import numpy as np

from sanqin.planning.swaths import Swath


def _span(sw: Swath, heading_rad: float) -> tuple[float, float]:
    d = np.array([np.cos(heading_rad), np.sin(heading_rad)])
    a, b = float(sw.start_m @ d), float(sw.end_m @ d)
    return (a, b) if a <= b else (b, a)


def _overlap(a: tuple[float, float], b: tuple[float, float], min_m: float) -> bool:
    return min(a[1], b[1]) - max(a[0], b[0]) > min_m


def decompose(swaths: list[Swath], min_overlap_m: float = 0.5) -> list[list[Swath]]:
    """Group swaths (as from :func:`~sanqin.planning.swaths.swath_lines`) into boustrophedon cells."""
    if not swaths:
        return []
    heading = swaths[0].heading_rad
    by_line: dict[int, list[Swath]] = {}
    for s in swaths:
        by_line.setdefault(s.line, []).append(s)
    cells: list[list[Swath]] = []
    open_cells: list[int] = []  # indices into cells whose last swath is on the previous line
    prev_line = None
    for line in sorted(by_line):
        pieces = by_line[line]
        spans = [_span(p, heading) for p in pieces]
        if prev_line is None or line != prev_line + 1:
            open_cells = []
        prev_spans = [_span(cells[c][-1], heading) for c in open_cells]
        # overlap matrix between open cells (previous line) and pieces (this line)
        ov = np.array([[_overlap(ps, s, min_overlap_m) for s in spans] for ps in prev_spans], dtype=bool
                      ).reshape(len(prev_spans), len(spans))
        new_open: list[int] = []
        for j, piece in enumerate(pieces):
            owners = np.flatnonzero(ov[:, j]) if len(prev_spans) else np.array([], int)
            if len(owners) == 1 and ov[owners[0]].sum() == 1:
                c = open_cells[int(owners[0])]
                cells[c].append(piece)
            else:
                cells.append([piece])
                c = len(cells) - 1
            new_open.append(c)
        open_cells = new_open
        prev_line = line
    return cells
