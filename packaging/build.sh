#!/usr/bin/env bash
# Builds the PhotoFix one-folder bundle in dist/PhotoFix with PyInstaller, then checks that the
# frozen program starts, runs an operation on the bundled sample scan and opens its window.
# Usage: bash packaging/build.sh        (a few minutes; about 1 GB on disk)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[build]" \
  2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
.venv/bin/pyinstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/photofix.spec
app=dist/PhotoFix/PhotoFix
check=$(mktemp -d)
trap 'rm -rf "$check"' EXIT
"$app" --version
"$app" process resources/samples/sample_scan.jpg -o "$check/fade.png" --op fade --op detect-defects
"$app" process resources/samples/sample_scan.jpg -o "$check/x2.png" --op upscale:scale=2,model=realesr-animevideov3
"$app" info "$check/x2.png"
QT_QPA_PLATFORM=offscreen PHOTOFIX_EXIT_AFTER_START=1 "$app" resources/samples/sample_scan.jpg
echo "built $(du -sh dist/PhotoFix | cut -f1) in dist/PhotoFix"
