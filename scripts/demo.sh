#!/usr/bin/env bash
# Main job: set up, then run the flagship headless scenario and write its run folder with a report.
#   bash scripts/demo.sh [scenario] [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
scenario="${1:-tunnel_lidar}"
shift || true
exec .venv/bin/sanqin run "$scenario" "$@"
