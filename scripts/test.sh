#!/usr/bin/env bash
# Sets PhotoFix up (scripts/setup.sh) and runs every quality gate: ruff lint + format check,
# import-linter layer contracts, and the whole pytest suite (Qt offscreen, no display needed).
# Extra arguments go to pytest, e.g. scripts/test.sh -k imageio
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export QT_QPA_PLATFORM=offscreen
echo "== ruff check" && .venv/bin/ruff check .
echo "== ruff format --check" && .venv/bin/ruff format --check .
echo "== import-linter" && .venv/bin/lint-imports
echo "== pytest" && .venv/bin/python -m pytest "$@"
