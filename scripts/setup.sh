#!/usr/bin/env bash
# Set up Sanqin on a fresh Debian 12 / Ubuntu machine: system packages, a virtual environment in
# .venv, and the package installed editable with its test extras. Safe to run again (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${SANQIN_VENV:-.venv}"
PYTHON="${PYTHON:-python3}"

# System libraries: open3d needs libusb-1.0 (and libGL/libgomp on minimal images); venv needs python3-venv
# on Debian's system Python.
need=()
ldconfig -p 2>/dev/null | grep 'libusb-1.0.so.0' >/dev/null || need+=(libusb-1.0-0)
ldconfig -p 2>/dev/null | grep 'libgomp.so.1' >/dev/null || need+=(libgomp1)
ldconfig -p 2>/dev/null | grep 'libGL.so.1' >/dev/null || need+=(libgl1)
ldconfig -p 2>/dev/null | grep 'libEGL.so.1' >/dev/null || need+=(libegl1)
"$PYTHON" -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv python3-dev)
# The Gazebo-twin tests parse the generated SDF with the real SDFormat library (a small C++ checker).
{ command -v g++ >/dev/null && command -v pkg-config >/dev/null && pkg-config --list-all 2>/dev/null | grep '^sdformat' >/dev/null; } \
  || need+=(g++ pkg-config libsdformat-dev)
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "setup: installing system packages: ${need[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "setup: please install these system packages first: ${need[*]}" >&2
    exit 1
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.sanqin-installed"
if [ ! -f "$stamp" ] || [ setup.py -nt "$stamp" ] || [ setup.cfg -nt "$stamp" ] || [ src/registry.py -nt "$stamp" ]; then
  echo "setup: installing sanqin and its dependencies into $VENV (log: $VENV/pip-install.log)"
  if ! { "$VENV/bin/python" -m pip install --upgrade pip setuptools wheel \
         && "$VENV/bin/python" -m pip install -e '.[test]'; } >"$VENV/pip-install.log" 2>&1; then
    tail -n 30 "$VENV/pip-install.log" >&2
    echo "setup: pip install failed (full log: $VENV/pip-install.log)" >&2
    exit 1
  fi
  "$VENV/bin/python" -c 'import sanqin, open3d, casadi, mujoco, rosbags, pymavlink' \
    || { echo "setup: the installation does not import" >&2; exit 1; }
  touch "$stamp"
fi
