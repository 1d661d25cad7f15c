#!/usr/bin/env bash
# Compiles packaging/windows/photofix.iss on Linux (Inno Setup's compiler from npm `innosetup`,
# run under Debian's wine) against a stand-in program folder, so a syntax error in the script is
# found here rather than on the Windows release runner. Writes the stand-in installer to a
# temporary folder and removes it.
#   apt-get install wine wine32:i386 (after dpkg --add-architecture i386) ; npm install innosetup
# Usage: bash packaging/windows/check_iss.sh [path/to/ISCC.exe]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
iscc=${1:-${ISCC:-}}
if [[ -z "$iscc" ]]; then
  for c in "$here/../../node_modules/innosetup/bin/ISCC.exe" "$HOME/node_modules/innosetup/bin/ISCC.exe" \
           "$(npm root -g 2>/dev/null)/innosetup/bin/ISCC.exe"; do
    [[ -f "$c" ]] && iscc=$c && break
  done
fi
[[ -f "$iscc" ]] || { echo "check_iss: ISCC.exe not found (npm install innosetup, or pass its path)" >&2; exit 2; }
command -v wine >/dev/null || { echo "check_iss: wine not found (apt-get install wine wine32:i386)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/dist/PhotoFix/_internal"
printf 'stand-in\n' > "$work/dist/PhotoFix/PhotoFix.exe"
printf 'stand-in\n' > "$work/dist/PhotoFix/photofix-cli.exe"
printf 'stand-in\n' > "$work/dist/PhotoFix/_internal/base_library.zip"
version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$here/../../photofix/__init__.py")
export WINEDEBUG=-all WINEPREFIX=${WINEPREFIX:-$HOME/.wine-photofix}
cd "$here"
wine "$iscc" /Q "/DAppVersion=$version" "/DDistDir=$(winepath -w "$work/dist/PhotoFix")" \
  "/DOutputDir=$(winepath -w "$work/out")" photofix.iss
ls "$work/out/PhotoFix-$version-setup.exe" >/dev/null
echo "check_iss: photofix.iss compiles (Inno Setup $(basename "$(dirname "$(dirname "$iscc")")"), PhotoFix $version)"
