"""Node components of the planning area (ROS-free): the NMPC planner and the coverage planner.

Each is built from its validated config and driven by input handlers and a timer (see
:mod:`sanqin.runtime.node`); the same objects run under ROS, in the headless simulator and in tests.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass
from typing import Any

import numpy as np

from sanqin.common.diagnostics import DiagLevel, DiagnosticStatus
from sanqin.common.obstacles import ObstacleList
from sanqin.common.types import Odometry, Path, Pose, PoseStamped, Twist
from sanqin.planning import models
from sanqin.planning.coverage import CoverageConfig
from sanqin.planning.errors import PlanningError
from sanqin.planning.mpc import Mpc, MpcConfig, MpcPlan
from sanqin.planning.reference import ReferencePath
from sanqin.runtime.config import nested, param, require
from sanqin.runtime.node import ServiceResult

MODEL_KINDS = ("differential_drive", "mecanum", "rail", "multirotor")


@dataclass(frozen=True)
class ModelConfig:
    """Which robot model, and its physical limits (only the chosen kind's parameters are used)."""

    kind: str = param("differential_drive", "robot model", choices=MODEL_KINDS)
    v_max_m_s: float = param(1.0, "speed limit (m/s; multirotor: horizontal)", min=0.01)
    w_max_rad_s: float = param(1.5, "yaw-rate limit (rad/s)", min=0.01)
    a_max_m_s2: float = param(1.0, "acceleration limit (diff drive, rail) (m/s²)", min=0.01)
    alpha_max_rad_s2: float = param(3.0, "yaw acceleration limit (diff drive) (rad/s²)", min=0.01)
    jerk_max_m_s3: float = param(4.0, "jerk limit (mecanum, rail, multirotor) (m/s³)", min=0.01)
    base_mass_kg: float = param(400.0, "mecanum base mass (kg)", min=1.0)
    payload_mass_kg: float = param(0.0, "mecanum payload at start (kg); /payload updates it", min=0.0)
    max_force_n: float = param(400.0, "mecanum total drive force (N)", min=1.0)
    max_torque_nm: float = param(300.0, "mecanum yaw torque (N·m)", min=1.0)
    yaw_inertia_kg_m2: float = param(120.0, "mecanum yaw inertia (kg·m²)", min=0.1)
    v_max_up_m_s: float = param(3.0, "multirotor climb limit (m/s)", min=0.01)
    v_max_down_m_s: float = param(2.0, "multirotor descent limit (m/s)", min=0.01)
    tilt_max_rad: float = param(0.5, "multirotor tilt limit (rad)", min=0.01, max=1.4)
    drag_1_s: float = param(0.3, "multirotor linear drag (1/s)", min=0.0)

    def build(self, payload_kg: float | None = None) -> models.Model:
        """The model this config describes."""
        if self.kind == "differential_drive":
            return models.differential_drive(self.v_max_m_s, self.w_max_rad_s, self.a_max_m_s2, self.alpha_max_rad_s2)
        if self.kind == "mecanum":
            payload = self.payload_mass_kg if payload_kg is None else payload_kg
            return models.mecanum(self.base_mass_kg, payload, self.max_force_n, self.max_torque_nm,
                                  self.yaw_inertia_kg_m2, self.v_max_m_s, self.w_max_rad_s, self.jerk_max_m_s3)
        if self.kind == "rail":
            return models.rail(self.v_max_m_s, self.a_max_m_s2, self.jerk_max_m_s3)
        return models.multirotor(self.v_max_m_s, self.v_max_up_m_s, self.v_max_down_m_s, self.tilt_max_rad,
                                 a_up_max_m_s2=4.0, a_down_max_m_s2=3.0, drag_1_s=self.drag_1_s,
                                 jerk_max_m_s3=self.jerk_max_m_s3)


@dataclass(frozen=True)
class MpcPlannerConfig:
    """NMPC planner node: model, MPC settings, path-following speed, input watchdog."""

    model: ModelConfig = nested(ModelConfig)
    mpc: MpcConfig = nested(MpcConfig)
    path_speed_m_s: float = param(0.8, "cruise speed along the path (m/s)", min=0.0)
    path_decel_m_s2: float = param(0.5, "braking toward the path end (m/s²)", min=0.01)
    odom_timeout_s: float = param(0.5, "odometry older than this → brake (s)", min=0.01)
    setpoint_lookahead: int = param(3, "multirotor: position setpoint this many stages ahead", min=1)

    def __post_init__(self) -> None:
        require(self.setpoint_lookahead <= self.mpc.horizon, "setpoint_lookahead must be <= mpc.horizon")


def state_from_odometry(kind: str, odom: Odometry) -> np.ndarray:
    """The model state from an odometry message (pose in its frame, twist in the child frame)."""
    p, q = odom.pose.position_m, odom.pose.orientation_xyzw
    yaw = math.atan2(2 * (q[3] * q[2] + q[0] * q[1]), 1 - 2 * (q[1] ** 2 + q[2] ** 2))
    v, w = odom.twist.linear_m_s, odom.twist.angular_rad_s
    if kind == "differential_drive":
        return np.array([p[0], p[1], yaw])
    if kind == "mecanum":
        return np.array([p[0], p[1], yaw, v[0], v[1], w[2]])
    if kind == "rail":
        return np.array([p[0], v[0]])
    c, s = math.cos(yaw), math.sin(yaw)  # multirotor: body (FLU) twist → ENU velocity
    return np.array([p[0], p[1], p[2], c * v[0] - s * v[1], s * v[0] + c * v[1], v[2]])


class MpcPlanner:
    """Follows the latest path with the NMPC, avoiding the latest obstacles; one step per timer tick."""

    def __init__(self, config: MpcPlannerConfig) -> None:
        self.config = config
        self.kind = config.model.kind
        self.model = config.model.build()
        self.mpc = Mpc(self.model, config.mpc)
        self.odom: Odometry | None = None
        self.odom_t = -math.inf
        self.obstacles: ObstacleList | None = None
        self.frame_id = "odom"
        self.last: MpcPlan | None = None
        self.solve_ms: list[float] = []
        self.rejected_paths = 0
        self.rejected_obstacles = 0
        self.setpoint_yaw = 0.0

    def on_odometry(self, odom: Odometry, t_s: float) -> None:
        """Latest state."""
        self.odom, self.odom_t = odom, t_s
        self.frame_id = odom.frame_id or self.frame_id

    def on_obstacles(self, obstacles: ObstacleList, t_s: float) -> None:
        """Latest obstacle list; it must be in the odometry frame (no transform here): another frame is refused."""
        if obstacles.frame_id and self.odom is not None and obstacles.frame_id != self.frame_id:
            self.rejected_obstacles += 1
            raise PlanningError(f"obstacles in frame {obstacles.frame_id!r} but odometry in {self.frame_id!r}: "
                                "not used (publish them in the odometry frame)")
        self.obstacles = obstacles

    def on_path(self, path: Path, t_s: float) -> None:
        """A new path to follow (an empty path stops: hold position)."""
        if not path.poses:
            self.mpc.set_path(None)
            return
        pts = np.array([p.pose.position_m for p in path.poses])
        dims = {"rail": 1, "multirotor": 3}.get(self.kind, 2)
        try:
            ref = ReferencePath(pts[:, :dims], self.config.path_speed_m_s, self.config.path_decel_m_s2)
            self.mpc.set_path(ref)
        except PlanningError:
            self.rejected_paths += 1
            raise

    def on_payload(self, payload_kg: float, t_s: float) -> None:
        """Payload changed (mecanum): new acceleration limits, no rebuild."""
        if not (math.isfinite(payload_kg) and payload_kg >= 0):
            raise PlanningError(f"payload must be finite and >= 0 kg, got {payload_kg}")
        if self.kind != "mecanum":
            return
        m = self.config.model.build(payload_kg)
        self.mpc.set_input_bounds(m.u_lb, m.u_ub)

    def _command(self, plan: MpcPlan, x: np.ndarray) -> Twist:
        dt = self.config.mpc.dt_s
        if self.kind == "differential_drive":
            return Twist(np.array([plan.u[0], 0, 0]), np.array([0, 0, plan.u[1]]))
        nxt = plan.states[1] if plan.states is not None and len(plan.states) > 1 else None
        if self.kind == "mecanum":
            vel = nxt[3:6] if nxt is not None else x[3:6] + plan.u * dt
            return Twist(np.array([vel[0], vel[1], 0.0]), np.array([0.0, 0.0, vel[2]]))
        if self.kind == "rail":
            v = nxt[1] if nxt is not None else x[1] + plan.u[0] * dt
            return Twist(np.array([v, 0.0, 0.0]))
        vel = nxt[3:6] if nxt is not None else x[3:6] + plan.u * dt
        return Twist(np.asarray(vel, float))  # multirotor: ENU velocity setpoint

    def tick(self, t_s: float) -> dict[str, Any]:
        """One control cycle: step the MPC (stale or missing odometry → brake) and publish."""
        fresh = self.odom is not None and t_s - self.odom_t <= self.config.odom_timeout_s
        x = state_from_odometry(self.kind, self.odom) if fresh else np.full(self.model.nx, np.nan)
        # without a usable measurement the MPC brakes from its dead-reckoned state: take it before the step
        # (the step advances it by this command)
        x_est = self.mpc._x_valid
        plan = self.mpc.step(x, self.obstacles)
        self.last = plan
        self.solve_ms.append(plan.solve_time_s * 1e3)
        valid = plan.source == "solver" or bool(np.all(np.isfinite(x)))
        x_now = x if valid else (x_est if x_est is not None else np.zeros(self.model.nx))
        out: dict[str, Any] = {"cmd_vel": self._command(plan, x_now)}
        if plan.states is not None:
            pos = plan.states[:, :3] if self.kind == "multirotor" else np.column_stack(
                [plan.states[:, 0], plan.states[:, 1] if self.kind != "rail" else np.zeros(len(plan.states)),
                 np.zeros(len(plan.states))])
            out["predicted_path"] = Path(t_s, self.frame_id, tuple(
                PoseStamped(t_s + k * self.config.mpc.dt_s, self.frame_id, Pose(p)) for k, p in enumerate(pos)))
            if self.kind == "multirotor":
                k = min(self.config.setpoint_lookahead, len(plan.states) - 1)
                v = plan.states[k, 3:5]
                if np.hypot(*v) > 0.3:  # face the direction of travel; hover keeps the last heading
                    self.setpoint_yaw = math.atan2(v[1], v[0])
                q = np.array([0.0, 0.0, math.sin(self.setpoint_yaw / 2), math.cos(self.setpoint_yaw / 2)])
                out["setpoint"] = PoseStamped(t_s, self.frame_id, Pose(plan.states[k, :3], q))
        return out

    def diagnostics(self) -> list[DiagnosticStatus]:
        """Solver health: source of the last command, status, fallbacks."""
        p, c = self.last, self.mpc.counters
        level = DiagLevel.OK if p is None or p.source == "solver" else (
            DiagLevel.WARN if p.source == "shifted" else DiagLevel.ERROR)
        values = {k: str(v) for k, v in c.items()}
        if p is not None:
            values.update(source=p.source, solve_ms=f"{p.solve_time_s * 1e3:.3f}", slack=f"{p.max_slack:.3g}")
        return [DiagnosticStatus(level, "sanqin/planning/mpc", p.status if p else "waiting for odometry", "", values)]

    def metrics(self) -> dict[str, float]:
        """Counters and solve-time figures."""
        m = {f"mpc.{k}": float(v) for k, v in self.mpc.counters.items()}
        m["mpc.rejected_paths"] = float(self.rejected_paths)
        m["mpc.rejected_obstacles"] = float(self.rejected_obstacles)
        if self.solve_ms:
            m["mpc.step_ms_median"] = statistics.median(self.solve_ms)
            m["mpc.step_ms_max"] = max(self.solve_ms)
        return m


@dataclass(frozen=True)
class CoveragePlannerConfig:
    """Coverage planner node: boundary file, planner settings, mission altitude and sprayer output."""

    boundary_file: str = param("", "field boundary (GeoJSON/KML/GML/QGC .plan); '' = wait for the plan service")
    prescription_file: str = param("", "variable-rate zones (GeoJSON polygons with rate_l_ha); '' = uniform rate")
    field_index: int = param(0, "which field of the file", min=0)
    coverage: CoverageConfig = nested(CoverageConfig)
    alt_m: float = param(3.0, "spraying height above ground (m)", min=0.1)
    home_lat_deg: float = param(-999.0, "take-off/refill latitude (deg); -999 = field corner")
    home_lon_deg: float = param(-999.0, "take-off/refill longitude (deg)")
    sprayer: str = param("sprayer", "sprayer command: DO_SPRAYER on/off or DO_SET_SERVO per section",
                         choices=("sprayer", "servo"))
    fence_margin_m: float = param(15.0, "inclusion geofence: hull of field and take-off point, this much wider (m)",
                                  min=1.0)
    plan_on_start: bool = param(True, "plan as soon as the node starts")

    def __post_init__(self) -> None:
        unset = (self.home_lat_deg == -999.0, self.home_lon_deg == -999.0)
        require(unset[0] == unset[1], "home_lat_deg and home_lon_deg must be set together (or both -999)")
        if not unset[0]:
            require(math.isfinite(self.home_lat_deg) and abs(self.home_lat_deg) <= 90.0
                    and math.isfinite(self.home_lon_deg) and abs(self.home_lon_deg) <= 180.0,
                    f"home {self.home_lat_deg}, {self.home_lon_deg} is not a WGS84 latitude/longitude")


class CoveragePlanner:
    """Plans a spraying mission from a boundary file; publishes it (QGC plan JSON) and its route (Path)."""

    def __init__(self, config: CoveragePlannerConfig) -> None:
        self.config = config
        self.plan = None
        self.sorties = 0
        self.error = ""
        self._pending: dict[str, Any] | None = None
        self._done = False

    def _make(self) -> dict[str, Any]:
        from sanqin.planning import boundary as bnd
        from sanqin.planning import coverage as cv
        from sanqin.planning import missions as ms
        from sanqin.uav_bridge.plan_file import Plan, plan_to_dict
        from sanqin.uav_bridge.spray_plan import fence_for

        c = self.config
        if not c.boundary_file:
            raise PlanningError("boundary_file is not set")
        from sanqin.runtime.paths import resolve_data_path

        fld = bnd.read_field(resolve_data_path(c.boundary_file), c.field_index)
        home = None
        if c.home_lat_deg != -999.0:
            home = fld.frame.to_local(np.array([c.home_lon_deg]), np.array([c.home_lat_deg]))[0]
        zones = ()
        if c.prescription_file:
            from sanqin.planning.spray import read_prescription

            zones = read_prescription(str(resolve_data_path(c.prescription_file)), fld.frame)
        plan = cv.plan_coverage(fld, c.coverage, home_m=home, rate_zones=zones)
        sorties = ms.coverage_sorties(plan, c.alt_m, ms.SprayerOutput(c.sprayer))
        # the fence must hold the take-off/refill point and every straight return to it (the field's own outline
        # put a take-off point outside the field — the default corner of a non-rectangular one — in breach)
        start = home if home is not None else (plan.pieces[0].points_m[0] if plan.pieces else None)
        qgc = Plan(sorties[0], fence_for(fld, start, c.fence_margin_m), [], [], None, c.coverage.speed_m_s,
                   c.coverage.speed_m_s)
        self.plan = plan
        self.sorties = len(sorties)
        route = np.vstack([p.points_m for p in plan.pieces])
        return {"mission_plan": json.dumps(plan_to_dict(qgc)),
                "coverage_path": Path(0.0, "map", tuple(PoseStamped(0.0, "map", Pose(np.array([*xy, c.alt_m])))
                                                       for xy in route))}

    def srv_plan(self, request: Any, t_s: float) -> ServiceResult:
        """Plan (again) now; the result is published on the next tick."""
        try:
            self._pending = self._make()
        except (PlanningError, OSError) as err:
            self.error = str(err)
            return ServiceResult(False, self.error)
        m = self.plan.metrics
        more = (f"; published sortie 1 of {self.sorties} only (refills: plan the field with 'sanqin uav plan spray' "
                "for one plan per sortie)") if self.sorties > 1 else ""
        return ServiceResult(True, f"covered {m['covered_share'] * 100:.2f} %, {m['passes']:.0f} passes, "
                                   f"{m['path_length_m']:.0f} m{more}")

    def tick(self, t_s: float) -> dict[str, Any] | None:
        """Plan on start if asked, publish a pending plan."""
        if self.config.plan_on_start and not self._done:
            self._done = True
            self.srv_plan(None, t_s)
        out, self._pending = self._pending, None
        return out

    def diagnostics(self) -> list[DiagnosticStatus]:
        """Planning state."""
        if self.error:
            return [DiagnosticStatus(DiagLevel.ERROR, "sanqin/planning/coverage", self.error)]
        if self.sorties > 1:  # the mission_plan topic carries one mission: the first sortie
            return [DiagnosticStatus(DiagLevel.WARN, "sanqin/planning/coverage",
                                     f"planned {self.sorties} sorties; only the first is published")]
        msg = "planned" if self.plan is not None else "no plan yet"
        return [DiagnosticStatus(DiagLevel.OK, "sanqin/planning/coverage", msg)]

    def metrics(self) -> dict[str, float]:
        """The plan's coverage metrics."""
        return {f"coverage.{k}": float(v) for k, v in (self.plan.metrics if self.plan else {}).items()}
