"""Session and progress reports: Markdown + HTML with PNG plots (matplotlib, Agg backend), from session files.

:func:`write_session_report` reads one session file (damaged records are skipped and listed in the
report) and plots the reach paths, speed profiles, assistance and smoothness per trial;
:func:`write_progress_report` compares a patient's sessions (success rate, assistance, smoothness, peak
speed, range of motion) to show progress over the course of therapy.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sanqin.rehab_robot.errors import SessionLogError
from sanqin.rehab_robot.session_log import SessionRead, read_session


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if math.isfinite(v) else "–"
    if v is None:
        return "–"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def _num(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else float("nan")


def _html(md_lines: Sequence[str], title: str) -> str:
    """A small self-contained HTML page from our restricted Markdown (headings, tables, lists, images)."""
    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
           "<style>body{font-family:sans-serif;max-width:1000px;margin:auto}table{border-collapse:collapse}"
           "td,th{border:1px solid #ccc;padding:2px 6px}</style></head><body>"]
    in_table = in_list = False
    for line in md_lines:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if all(set(c) <= {"-", ":"} for c in cells):
                continue
            if not in_table:
                out.append("<table>")
                in_table = True
                out.append("<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in cells) + "</tr>")
            else:
                out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith("- "):
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{html.escape(line[2:])}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        if line.startswith("!["):
            alt, src = line[2:].split("](", 1)
            out.append(f"<p><img src='{html.escape(src.rstrip(')'))}' alt='{html.escape(alt)}'></p>")
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{html.escape(line[level:].strip())}</h{level}>")
        elif line.strip():
            out.append(f"<p>{html.escape(line)}</p>")
    if in_table:
        out.append("</table>")
    if in_list:
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out)


def _session_plots(s: SessionRead, out_dir: Path) -> list[Path]:
    plt = _plt()
    samples = [r for r in s.of_type("sample") if isinstance(r.get("x"), list)]
    trials = s.of_type("trial")
    paths: list[Path] = []
    if samples:
        x = np.array([r["x"] for r in samples], float)
        v = np.array([r["v"] for r in samples], float)
        t = np.array([r["t_s"] for r in samples], float)
        k = np.array([r.get("trial", 0) for r in samples])
        moving = np.array([r.get("phase") == "move" for r in samples])
        fig, ax = plt.subplots(1, 2, figsize=(11, 4.2))
        for idx in np.unique(k[moving]):
            sel = moving & (k == idx)
            if x.shape[1] >= 2:
                ax[0].plot(x[sel, 0], x[sel, 1], lw=1)
            else:
                ax[0].plot(t[sel] - t[sel][0], x[sel, 0], lw=1)
            ax[1].plot(t[sel] - t[sel][0], np.linalg.norm(v[sel], axis=1), lw=1)
        for tr in trials:
            tg = tr.get("target")
            if isinstance(tg, list) and len(tg) >= 2:
                ax[0].plot(tg[0], tg[1], "kx")
        if x.shape[1] >= 2:
            ax[0].set_aspect("equal")
            ax[0].set_xlabel("x (m)")
            ax[0].set_ylabel("y (m)")
            ax[0].set_title("reach paths")
        else:
            ax[0].set_xlabel("time in reach (s)")
            ax[0].set_ylabel("joint angle (rad)")
        ax[1].set_xlabel("time in reach (s)")
        ax[1].set_ylabel("speed")
        ax[1].set_title("speed profiles")
        fig.tight_layout()
        p = out_dir / "paths_and_speed.png"
        fig.savefig(p, dpi=80)
        plt.close(fig)
        paths.append(p)
    if trials:
        idx = np.arange(len(trials))
        fig, ax = plt.subplots(1, 3, figsize=(12, 3.6))
        ax[0].plot(idx, [_num(t.get("gain_after")) for t in trials], "o-")
        ax[0].set_title("assistance gain")
        ax[0].set_ylim(0, 1.05)
        ax[1].plot(idx, [_num(t.get("sparc")) for t in trials], "o-")
        ax[1].set_title("SPARC (closer to 0 = smoother)")
        ax[2].plot(idx, [_num(t.get("path_deviation")) for t in trials], "o-", label="path deviation")
        ax[2].plot(idx, [_num(t.get("final_error")) for t in trials], "s-", label="final error")
        ax[2].legend(fontsize=7)
        ax[2].set_title("accuracy")
        for a in ax:
            a.set_xlabel("trial")
        fig.tight_layout()
        p = out_dir / "trials.png"
        fig.savefig(p, dpi=80)
        plt.close(fig)
        paths.append(p)
    return paths


def write_session_report(session_file: str | Path, out_dir: str | Path) -> Path:
    """Write ``report.md``, ``report.html`` and plots for one session into ``out_dir``; return the .md path."""
    s = read_session(session_file)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    head = s.header or {}
    trials = s.of_type("trial")
    end = (s.of_type("session_end") or [{}])[-1]
    summary = end.get("summary") or {}
    lines = [f"# Therapy session — patient {head.get('patient_id', '?')}", "",
             f"Plan `{head.get('plan_id', '?')}` on the {head.get('robot', '?')} robot; "
             f"file `{Path(session_file).name}`.",
             "", "## Data integrity", "", f"- {s.report()}"]
    if end:
        lines += [f"- session ended: {end.get('reason', '?')}"]
    else:
        lines += ["- no session_end record: the session was interrupted (crash or power loss); all records up to "
                  "the interruption are included"]
    lines += ["", "## Summary", "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in summary.items()]
    lines += ["", "## Trials", "",
              "| # | mode | trigger | success | final error | path dev. | peak speed | SPARC | norm. jerk | gain | "
              "aborted |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for t in trials:
        lines.append("| " + " | ".join(_fmt(t.get(k)) for k in ("index", "mode", "trigger", "success", "final_error",
                                                                  "path_deviation", "peak_speed", "sparc",
                                                                  "normalized_jerk", "gain_after", "aborted"))
                     + " |")
    safety = s.of_type("safety")
    lines += ["", "## Safety events", ""]
    lines += [f"- t={_fmt(e.get('t_s'))} s {e.get('kind')}: {e.get('cause')} ({e.get('state_before')} → "
              f"{e.get('state_after')})" for e in safety] or ["- none"]
    plots = _session_plots(s, out)
    if plots:
        lines += ["", "## Plots", ""] + [f"![{p.stem}]({p.name})" for p in plots]
    md = out / "report.md"
    md.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "report.html").write_text(_html(lines, f"session {Path(session_file).stem}"), encoding="utf-8")
    return md


def write_progress_report(session_files: Sequence[str | Path], out_dir: str | Path) -> Path:
    """Compare sessions (oldest first): success, assistance, smoothness, speed and ROM per session."""
    if not session_files:
        raise SessionLogError("no session files to report on")
    sessions = [read_session(p) for p in session_files]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for s in sessions:
        tr = [t for t in s.of_type("trial") if not t.get("aborted")]
        all_tr = s.of_type("trial")

        def mean(key: str, tr: list[dict[str, Any]] = tr) -> float:
            vals = [_num(t.get(key)) for t in tr]
            vals = [v for v in vals if math.isfinite(v)]
            return float(np.mean(vals)) if vals else float("nan")

        rom = [t.get("rom") for t in tr if isinstance(t.get("rom"), list) and t.get("rom")]
        rows.append({"session": s.path.stem, "trials": len(all_tr),
                     "success_rate": (sum(bool(t.get("success")) for t in all_tr) / len(all_tr)) if all_tr
                     else float("nan"),
                     "assist_gain": mean("gain_after"), "sparc": mean("sparc"), "peak_speed": mean("peak_speed"),
                     "path_deviation": mean("path_deviation"),
                     "rom": float(np.max(np.linalg.norm(np.array(rom, float), axis=1))) if rom else float("nan"),
                     "problems": len(s.problems)})
    keys = list(rows[0])
    lines = [f"# Progress — patient {(sessions[0].header or {}).get('patient_id', '?')}", "",
             "| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(_fmt(r[k]) for k in keys) + " |" for r in rows]
    plt = _plt()
    fig, ax = plt.subplots(1, 4, figsize=(14, 3.4))
    x = np.arange(len(rows))
    for a, key, title in zip(ax, ("assist_gain", "success_rate", "sparc", "peak_speed"),
                             ("mean assistance gain", "success rate", "mean SPARC", "mean peak speed")):
        a.plot(x, [r[key] for r in rows], "o-")
        a.set_title(title)
        a.set_xlabel("session")
    fig.tight_layout()
    p = out / "progress.png"
    fig.savefig(p, dpi=80)
    plt.close(fig)
    lines += ["", f"![progress]({p.name})"]
    md = out / "progress.md"
    md.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "progress.html").write_text(_html(lines, "progress"), encoding="utf-8")
    return md


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sanqin.rehab_robot.report SESSION_DIR PATIENT_ID OUT_DIR``: every session + progress report."""
    import argparse

    from sanqin.rehab_robot.session_log import session_files

    parser = argparse.ArgumentParser(description="Write session and progress reports for one patient.")
    parser.add_argument("session_dir", type=Path)
    parser.add_argument("patient_id")
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    files = session_files(args.session_dir, args.patient_id)  # oldest first: session_1000 after session_999
    if not files:
        print(f"no session files for patient {args.patient_id!r} under {args.session_dir}")
        return 1
    for f in files:
        print(write_session_report(f, args.out_dir / f.stem))
    print(write_progress_report(files, args.out_dir / "progress"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
