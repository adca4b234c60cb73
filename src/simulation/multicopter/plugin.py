"""Headless-runner plugin: the MAVLink multicopter as a scenario simulator.

The bridge node under test talks to it over the same MAVLink bytes as to a real autopilot (an in-process
``mem:`` channel by default, or UDP on loopback). Metrics cover the flight, the mission, the payload
(spraying inside/outside the field, photo spacing), failsafes and the fence; ``plots`` draws the track.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shapely.geometry import LineString, Polygon

from sanqin.runtime.config import param, require

from .sim import MulticopterConfig, MulticopterSimulator


@dataclass(frozen=True)
class MulticopterSimConfig(MulticopterConfig):
    """The vehicle plus what the scenario judges: the sprayed field, when the run ends."""

    field_polygon: tuple[float, ...] = param((), "sprayed field as lat, lon, lat, lon, … (deg); empty: none")
    field_margin_m: float = param(2.0, "spray within this distance of the field counts as inside (m)", min=0.0)
    end_when_landed: bool = param(True, "end the run once the vehicle has flown, landed and disarmed")

    def __post_init__(self) -> None:
        super().__post_init__()
        require(len(self.field_polygon) % 2 == 0 and (not self.field_polygon or len(self.field_polygon) >= 6),
                "field_polygon needs at least 3 lat, lon pairs")


#: How long the vehicle stays landed and disarmed before the run ends (s).
LANDED_END_S = 3.0


class MulticopterSim:
    """Runner plugin around :class:`MulticopterSimulator`."""

    Config = MulticopterSimConfig

    def __init__(self, config: MulticopterSimConfig, ctx: Any) -> None:
        self.config = config
        self.ctx = ctx
        self.sim = MulticopterSimulator(config)
        self._landed_since: float | None = None
        self._field = None
        if config.field_polygon:
            o = self.sim.origin
            pts = config.field_polygon
            self._field = Polygon([o.to_enu(pts[i], pts[i + 1])[:2] for i in range(0, len(pts), 2)])

    def step(self, t_s: float, dt_s: float) -> None:
        """Advance the vehicle to ``t_s``."""
        self.sim.step(t_s)
        ap = self.sim.autopilot
        if self.sim.armed_s > 0 and not ap.armed and self.sim.body.on_ground:
            self._landed_since = self._landed_since if self._landed_since is not None else t_s
        else:
            self._landed_since = None

    def done(self) -> bool:
        """The flight is over: flown, landed and disarmed for :data:`LANDED_END_S` — long enough for the companion
        to hear it (1 Hz heartbeat) and report its outcome on /diagnostics (1 Hz), so a recording ends as the run."""
        return bool(self.config.end_when_landed and self._landed_since is not None
                    and self.sim.t_s - self._landed_since >= LANDED_END_S)

    def _spray_split(self) -> tuple[float, float]:
        """Sprayed path length inside and outside the field (m)."""
        if self._field is None:
            return self.sim.autopilot.sprayed_m, 0.0
        zone = self._field.buffer(self.config.field_margin_m)
        inside = outside = 0.0
        tr = self.sim.track
        for a, b in zip(tr, tr[1:]):
            if not (a[4] and b[4]):
                continue
            seg = LineString([(a[1], a[2]), (b[1], b[2])])
            if seg.length == 0:
                continue
            inn = seg.intersection(zone).length
            inside += inn
            outside += seg.length - inn
        return inside, outside

    def metrics(self) -> dict[str, float]:
        """The simulator's flight metrics plus spraying inside/outside the field."""
        m = self.sim.metrics()
        inside, outside = self._spray_split()
        m["spray_inside_field_m"] = inside
        m["spray_outside_field_m"] = outside
        if self._field is not None:
            m["field_area_m2"] = self._field.area
        return m

    def plots(self, out_dir: Path) -> list[Path]:
        """Top view of the flight: track (sprayed legs highlighted), photos, fence, field, home."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        ap, o = self.sim.autopilot, self.sim.origin
        fig, ax = plt.subplots(figsize=(7, 7))
        if self._field is not None:
            x, y = self._field.exterior.xy
            ax.fill(x, y, color="#cfe8c0", label="field")
        i = 0
        fence = ap.fence
        while i < len(fence):
            it = fence[i]
            if it.command in (5001, 5002):
                n = max(1, int(it.params[0]))
                pts = [o.to_enu(v.x / 1e7, v.y / 1e7)[:2] for v in fence[i:i + n]]
                pts.append(pts[0])
                ax.plot(*zip(*pts), color="red" if it.command == 5001 else "black", lw=1.5, label="fence")
                i += n
                continue
            if it.command in (5003, 5004):
                e, nn, _ = o.to_enu(it.x / 1e7, it.y / 1e7)
                ax.add_patch(plt.Circle((e, nn), it.params[0], fill=False, color="red"))
            i += 1
        tr = self.sim.track
        if tr:
            ax.plot([p[1] for p in tr], [p[2] for p in tr], color="#888888", lw=1, label="track")
            for a, b in zip(tr, tr[1:]):
                if a[4] and b[4]:
                    ax.plot([a[1], b[1]], [a[2], b[2]], color="tab:blue", lw=3)
        photos = ap.payload.photos
        if photos:
            pe = [o.to_enu(p.latitude_deg, p.longitude_deg)[:2] for p in photos]
            ax.scatter([p[0] for p in pe], [p[1] for p in pe], s=12, color="tab:orange", label="photos", zorder=3)
        ax.scatter([ap.home[0]], [ap.home[1]], marker="*", s=150, color="k", label="home", zorder=4)
        for t, text in ap.failsafe_events[:3]:
            ax.annotate(f"{text} @ {t:.0f} s", (0.02, 0.97 - 0.04 * ap.failsafe_events.index((t, text))),
                        xycoords="axes fraction", fontsize=8, color="red", va="top")
        handles, labels = ax.get_legend_handles_labels()
        uniq = dict(zip(labels, handles))
        ax.legend(uniq.values(), uniq.keys(), loc="lower right", fontsize=8)
        ax.set_aspect("equal")
        ax.set_xlabel("east (m)")
        ax.set_ylabel("north (m)")
        ax.set_title(f"{self.ctx.scenario.name}: {ap.flown_m:.0f} m flown, {len(photos)} photos, "
                     f"{ap.sprayed_m:.0f} m sprayed")
        path = Path(out_dir) / "flight_top_view.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return [path]


