#!/usr/bin/env bash
# Sets PhotoFix up (scripts/setup.sh --gui) and opens the bundled sample scan in the app.
# Extra arguments replace the sample, e.g. scripts/run.sh ~/scans/grandma.tif
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh --gui
if [[ "$(uname -s)" == "Linux" && -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" && -z "${QT_QPA_PLATFORM:-}" ]]; then
  echo "photofix: no display found (DISPLAY/WAYLAND_DISPLAY unset). Run this on a desktop, or under" >&2
  echo "          a virtual screen: apt-get install xvfb && xvfb-run -a scripts/run.sh" >&2
  exit 1
fi
if (( $# )); then exec .venv/bin/photofix "$@"; fi
exec .venv/bin/photofix resources/samples/sample_scan.jpg
