"""Rehabilitation-robot control cycle: therapy controller + safety supervisor step time and safety reaction.

Runs the planar robot in an active-assist reaching session at 1 kHz against a rigid-body plant with a
scripted patient force, timing (per cycle, plant excluded):

* baseline — the smallest safe controller one could ship: an impedance law on the minimum-jerk reference and
  a torque clamp (what a hand-written firmware loop does);
* ours — :class:`TherapySession.step` (modes, assist-as-needed, intent, bumpless transfer, trial metrics
  bookkeeping) + :class:`SafetySupervisor.step` (every check, soft walls, spasm detection, clamps);
* ours + the durable session log (a checksummed record every 10 cycles, fsync on a background thread).

Then injects faults (spasm, NaN force, over-speed, clock jump, sensor dropout, e-stop) and counts the control
cycles from the first sample showing the fault to the first output in the safe state (0 = the same cycle).
Goal: p99 < 200 µs (1 kHz with 5× margin). Usage: ``python bench/rehab.py [--seconds 10] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from _common import cpu_model

from sanqin.rehab_robot.plan import parse_plan
from sanqin.rehab_robot.profile import load_profile
from sanqin.rehab_robot.robots import make_robot
from sanqin.rehab_robot.session_log import SessionRecorder, SessionWriter
from sanqin.rehab_robot.supervisor import SafetyInput, SafetyState, SafetySupervisor, SupervisorConfig
from sanqin.rehab_robot.therapy import RobotSample, TherapyConfig, TherapySession
from sanqin.rehab_robot.trajectory import MinimumJerk

DATA = Path(__file__).resolve().parents[1] / "sim" / "rehab"
DT = 0.001


class Plant:
    """Rigid-body planar robot with a patient force at the handle (semi-implicit Euler)."""

    def __init__(self, robot, x0=(0.0, 0.38)):
        self.robot = robot
        self.q = robot.inverse(np.array(x0))
        self.qd = np.zeros(2)
        self.t = 0.0

    def step(self, tau, f):
        qdd = self.robot.chain.forward_dynamics(self.q, self.qd, tau + self.robot.joint_torque(self.q, f))
        self.qd = self.qd + qdd * DT
        self.q = self.q + self.qd * DT
        self.t += DT


def patient(t, x, v):
    """A weak patient: some voluntary push toward +y and a 5 Hz tremor."""
    return np.array([0.5 * np.sin(2 * np.pi * 5 * t), 2.0]) - 10.0 * v


def time_ours(seconds, profile, plan, robot, sink=None):
    session = TherapySession(TherapyConfig(), robot, profile, plan, sink=sink)
    sup = SafetySupervisor(SupervisorConfig(), robot, profile)
    plant = Plant(robot)
    session.start(0.0)
    times = []
    for _ in range(int(seconds / DT)):
        t = plant.t
        x = robot.forward(plant.q)
        v = robot.task_velocity(plant.q, plant.qd)
        f = patient(t, x, v)
        q, qd = plant.q.copy(), plant.qd.copy()
        t0 = time.perf_counter_ns()
        tau_cmd = session.step(t, RobotSample(t, q, qd, f), sup.state, sup.epoch)
        tau = sup.step(SafetyInput(t, t, q, qd, f, tau_cmd)).tau_nm
        times.append(time.perf_counter_ns() - t0)
        plant.step(tau, f)
    return np.array(times) / 1e3, session, sup


def time_baseline(seconds, robot):
    plant = Plant(robot)
    mj = MinimumJerk(robot.forward(plant.q), np.array([0.1, 0.48]), 0.0, 1.2)
    cap = robot.hardware.max_joint_torque_nm
    times = []
    for _ in range(int(seconds / DT)):
        t = plant.t
        v_meas = robot.task_velocity(plant.q, plant.qd)
        f = patient(t, robot.forward(plant.q), v_meas)
        t0 = time.perf_counter_ns()
        x = robot.forward(plant.q)
        v = robot.task_velocity(plant.q, plant.qd)
        xr, vr, _ = mj.sample(t % 2.4)
        tau = np.clip(robot.joint_torque(plant.q, 600.0 * (xr - x) + 40.0 * (vr - v)), -cap, cap)
        times.append(time.perf_counter_ns() - t0)
        plant.step(tau, f)
    return np.array(times) / 1e3


def reaction_cycles(profile, robot):
    """Cycles from the first faulty sample to the first safe output, per fault."""
    q0 = robot.inverse(np.array([0.0, 0.40]))
    v_move = np.array([0.0, 0.2])
    qd0 = np.linalg.solve(robot.jacobian(q0), v_move)
    out = {}

    def run(fault_at, make, expect):
        sup = SafetySupervisor(SupervisorConfig(), robot, profile)
        for k in range(400):
            t = k * DT
            inp, estop = make(k, t)
            if estop:
                sup.set_estop(True, t, "bench")
            res = sup.step(inp)
            if k >= fault_at and res.state >= expect:
                return k - fault_at
        return None

    def normal(t):
        return SafetyInput(t, t, q0, qd0, np.array([0.0, 2.0]), np.zeros(2))

    f0 = 200
    out["spasm (sudden 15 N opposing pull)"] = run(f0, lambda k, t: (
        dataclasses.replace(normal(t), interaction=np.array([0.0, -15.0])) if k >= f0 else normal(t), False),
        SafetyState.HOLD)
    out["NaN interaction force"] = run(f0, lambda k, t: (
        dataclasses.replace(normal(t), interaction=np.array([np.nan, 0.0])) if k >= f0 else normal(t), False),
        SafetyState.STOP)
    fast = np.linalg.solve(robot.jacobian(q0), np.array([0.0, profile.limits.max_speed * 1.2]))
    out["over-speed"] = run(f0, lambda k, t: (
        dataclasses.replace(normal(t), qd=fast) if k >= f0 else normal(t), False), SafetyState.STOP)
    out["clock jump (+1 s)"] = run(f0, lambda k, t: (normal(t + 1.0) if k >= f0 else normal(t), False),
                                   SafetyState.STOP)
    out["e-stop input"] = run(f0, lambda k, t: (normal(t), k == f0), SafetyState.ESTOP)
    # dropout: samples stop arriving at f0; the watchdog fires after sensor_timeout_s
    last = {"t": 0.0}

    def dropout(k, t):
        if k < f0:
            last["t"] = t
        return dataclasses.replace(normal(t), sensor_time_s=last["t"]), False

    out["sensor dropout (watchdog 20 ms)"] = run(f0, dropout, SafetyState.STOP)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="simulated seconds per timing run")
    parser.add_argument("--repeats", type=int, default=3, help="timing runs (the quietest is reported)")
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical cores, load avg {load[0]:.2f} (shared machine)")
    print(f"python {platform.python_version()}, numpy {np.__version__}")
    robot = make_robot("planar")
    profile = load_profile(DATA / "profile_planar_example.yaml")
    doc = yaml.safe_load((DATA / "plan_center_out.yaml").read_text())
    doc["blocks"][0]["trials"] = 1000
    plan = parse_plan(doc)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):  # interleaved, so all see the same load; the quietest run is reported
            base = time_baseline(args.seconds, robot)
            ours, session, sup = time_ours(args.seconds, profile, plan, robot)
            recorder = SessionRecorder(SessionWriter(Path(tmp) / f"s{r}.jsonl", {"patient_id": "bench"}))
            logged, _, _ = time_ours(args.seconds, profile, plan, robot, recorder)
            recorder.close()
            runs.append((base, ours, logged))
            print(f"run {r + 1}: p99 baseline {np.percentile(base, 99):6.1f} µs, ours {np.percentile(ours, 99):6.1f} "
                  f"µs, ours + session log {np.percentile(logged, 99):6.1f} µs (load avg {os.getloadavg()[0]:.2f})")
    # each variant's quietest run (lowest p99): preemption by other processes only ever adds time
    base, ours, logged = (min((r[i] for r in runs), key=lambda a: np.percentile(a, 99)) for i in range(3))
    print(f"cycles timed per run: {ours.size} (1 kHz, {args.seconds:g} s simulated), trials completed "
          f"{len(session.trials)}, safety state {sup.state.name}; each variant's quietest of {args.repeats} runs:")
    for name, a in (("baseline: impedance + clamp", base), ("ours: therapy + supervisor", ours),
                    ("ours + durable session log", logged)):
        print(f"{name:28s} median {np.median(a):7.1f} µs   p99 {np.percentile(a, 99):7.1f} µs   "
              f"max {a.max():8.1f} µs")
    print("(max values are dominated by preemption on this shared machine)")
    ratio = np.median(ours) / np.median(base)
    print(f"ratio ours/baseline (median): {ratio:.1f}x — the price of modes, AAN, intent, bumpless transfer and "
          "every safety check")
    print("safety reaction (control cycles from the first faulty sample to a safe output; 0 = same cycle):")
    reactions = reaction_cycles(profile, robot)
    for name, cycles in reactions.items():
        print(f"  {name:34s} {cycles if cycles is not None else 'NOT DETECTED'}")
    p99 = float(np.percentile(ours, 99))
    verdict = "meets" if p99 < 200 else "misses"
    spasm = next(c for name, c in reactions.items() if name.startswith("spasm"))
    spasm_text = ("NOT DETECTED" if spasm is None else "in the same control cycle" if spasm == 0
                  else f"after {spasm} control cycle(s)")
    print(f"headline: controller + supervisor step p99 {p99:.0f} µs (median {np.median(ours):.0f} µs) at 1 kHz — "
          f"{verdict} the 200 µs goal; spasm → compliant hold {spasm_text}")


if __name__ == "__main__":
    sys.exit(main())
