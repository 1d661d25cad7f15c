#!/usr/bin/env bash
# Builds PhotoFix for Linux from a clone: the one-folder bundle dist/PhotoFix (PyInstaller,
# packaging/photofix.spec), checks it with packaging/smoke_test.py, then packs
#   dist/PhotoFix-<version>-linux-x86_64.tar.xz   (the bundle, a .desktop file, the icon)
#   dist/PhotoFix-<version>-x86_64.AppImage       (when appimagetool is on PATH or $APPIMAGETOOL)
# Usage: bash packaging/build_linux.sh [--with-downloaded-models] [--no-smoke] [--no-pack]
# Takes several minutes and ~2.5 GB of disk while building; run it with `nice -n 10` on a
# shared machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

spec_args=() smoke=1 pack=1
for arg in "$@"; do
  case "$arg" in
    --with-downloaded-models) spec_args+=(--with-downloaded-models) ;;
    --no-smoke) smoke=0 ;;
    --no-pack) pack=0 ;;
    *) echo "build_linux: unknown option $arg" >&2; exit 2 ;;
  esac
done

bash scripts/setup.sh
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[build]" \
  2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
version=$(.venv/bin/python -c 'import photofix; print(photofix.__version__)')

.venv/bin/pyinstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/photofix.spec -- ${spec_args[@]+"${spec_args[@]}"}
echo "build_linux: bundle dist/PhotoFix: $(du -sm dist/PhotoFix | cut -f1) MB"

if (( smoke )); then
  .venv/bin/python packaging/smoke_test.py dist/PhotoFix
fi
if (( pack )); then
  bash packaging/linux/pack.sh dist/PhotoFix "$version"
fi
