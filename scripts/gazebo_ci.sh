#!/usr/bin/env bash
# Run every scenario's Gazebo twin headless and score it like the headless runner (for users' CI).
#
#   scripts/gazebo_ci.sh [scenario ...]        default: every scenario listed by `sanqin gazebo list`
#
# Needs a sourced ROS 2 Jazzy workspace with sanqin built (colcon build), Gazebo Harmonic (`gz`),
# ros_gz (ros_gz_sim, ros_gz_bridge), tf2_ros and `ros2 bag` with the MCAP storage plugin.
# For each scenario: `ros2 launch sanqin gz_<scenario>.launch.xml record:=true` under `timeout`
# (the world runs the scenario's duration as a fixed number of physics iterations, then Gazebo exits
# and the launch shuts down), then `sanqin gazebo score` on the bag (metrics.json, report.md). Each run gets
# its own run_dir (node files such as rehab session logs start empty: a scenario gives the same result when rerun).
#
# Environment: SANQIN_GZ_OUT (default gazebo_runs/<UTC time>), SANQIN_GZ_TIMEOUT_FACTOR (wall seconds
# allowed per simulated second at real-time factor 1, divided by the world's factor; default 10),
# SANQIN_GZ_STARTUP_S (extra wall seconds, default 120).
#
# Exit status: 0 every scenario passed; 1 a scenario failed its criteria, timed out or crashed;
# 2 usage error; 77 Gazebo (`gz`) or ROS 2 (`ros2`) is not available here - nothing was run
# (77 is the conventional "skipped" status of automake/meson/ctest test drivers).
set -uo pipefail

EXIT_SKIPPED=77
missing=()
command -v gz >/dev/null 2>&1 || missing+=("gz (Gazebo Harmonic: apt-get install gz-harmonic)")
command -v ros2 >/dev/null 2>&1 || missing+=("ros2 (source /opt/ros/jazzy/setup.bash and your workspace's install/setup.bash)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "gazebo_ci: skipped - not available here: ${missing[*]}" >&2
  exit "$EXIT_SKIPPED"
fi
if ! ros2 pkg prefix sanqin >/dev/null 2>&1; then
  echo "gazebo_ci: skipped - the ROS package 'sanqin' is not installed in the sourced workspace (colcon build)" >&2
  exit "$EXIT_SKIPPED"
fi
for pkg in ros_gz_sim ros_gz_bridge; do
  if ! ros2 pkg prefix "$pkg" >/dev/null 2>&1; then
    echo "gazebo_ci: skipped - ROS package $pkg is not installed (apt-get install ros-jazzy-ros-gz)" >&2
    exit "$EXIT_SKIPPED"
  fi
done
SANQIN="$(command -v sanqin || true)"
[ -n "$SANQIN" ] || SANQIN="python3 -m sanqin.cli"

out="${SANQIN_GZ_OUT:-gazebo_runs/$(date -u +%Y%m%d-%H%M%S)}"
factor="${SANQIN_GZ_TIMEOUT_FACTOR:-10}"
startup="${SANQIN_GZ_STARTUP_S:-120}"
mkdir -p "$out"

declare -A duration rtf
while IFS=$'\t' read -r name dur _iters _ap factor_rt; do
  case "$dur" in ''|*[!0-9.]*) continue ;; esac  # "no twin: <reason>" lines: not run
  [ -n "$name" ] && duration[$name]="$dur" && rtf[$name]="${factor_rt:-1}"
done < <($SANQIN gazebo list)
if [ $# -gt 0 ]; then scenarios=("$@"); else scenarios=("${!duration[@]}"); fi
if [ ${#scenarios[@]} -eq 0 ]; then
  echo "gazebo_ci: no scenario has a Gazebo twin" >&2
  exit 2
fi

# A private DDS domain per CI job keeps parallel jobs on one machine apart.
export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-$(( ($$ % 100) + 101 ))}"
export ROS_AUTOMATIC_DISCOVERY_RANGE="${ROS_AUTOMATIC_DISCOVERY_RANGE:-LOCALHOST}"

failed=()
for sc in $(printf '%s\n' "${scenarios[@]}" | sort); do
  if [ -z "${duration[$sc]:-}" ]; then
    echo "gazebo_ci: $sc has no Gazebo twin (see: sanqin gazebo list)" >&2
    exit 2
  fi
  dir="$out/$sc"
  rm -rf "$dir" && mkdir -p "$dir"
  # wall seconds: simulated seconds / the world's real-time factor (the rehab twins run at 0.25) x factor + startup
  limit=$(python3 -c "import math,sys; a=[float(v) for v in sys.argv[1:]]; print(int(math.ceil(a[0] / a[1] * a[2] + a[3])))" \
    "${duration[$sc]}" "${rtf[$sc]}" "$factor" "$startup")
  echo "=== $sc: ${duration[$sc]} s simulated, wall-clock limit ${limit} s, output $dir"
  timeout --signal=INT --kill-after=30 "$limit" \
    ros2 launch sanqin "gz_${sc}.launch.xml" record:=true bag:="$dir/bag" run_dir:="$dir/run" >"$dir/launch.log" 2>&1
  status=$?
  if [ $status -eq 124 ] || [ $status -eq 137 ]; then
    echo "gazebo_ci: $sc timed out after ${limit} s (see $dir/launch.log)" >&2
    failed+=("$sc(timeout)")
    continue
  fi
  if [ ! -d "$dir/bag" ]; then
    echo "gazebo_ci: $sc recorded no bag (launch exit $status; see $dir/launch.log)" >&2
    failed+=("$sc(no bag)")
    continue
  fi
  if ! $SANQIN gazebo score "$sc" "$dir/bag" --out "$dir"; then
    failed+=("$sc")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "gazebo_ci: FAILED: ${failed[*]} (runs in $out)" >&2
  exit 1
fi
echo "gazebo_ci: all ${#scenarios[@]} scenario(s) passed (runs in $out)"
