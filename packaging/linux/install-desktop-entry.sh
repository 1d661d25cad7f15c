#!/usr/bin/env bash
# Adds PhotoFix (this unpacked folder) to the desktop menu and to "Open With" for JPEG, PNG
# and TIFF, for the current user only (no root). Run again after moving the folder;
# --remove takes the entry away.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
apps=${XDG_DATA_HOME:-$HOME/.local/share}/applications
icons=${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/256x256/apps
if [[ "${1:-}" == "--remove" ]]; then
  rm -f "$apps/photofix.desktop" "$icons/photofix.png"
  echo "PhotoFix removed from the menu"; exit 0
fi
mkdir -p "$apps" "$icons"
install -m 644 "$here/photofix.png" "$icons/photofix.png"
sed "s|^Exec=PhotoFix|Exec=\"$here/PhotoFix\"|" "$here/photofix.desktop" > "$apps/photofix.desktop"
if command -v update-desktop-database >/dev/null; then update-desktop-database "$apps" || true; fi
echo "PhotoFix added to the menu ($apps/photofix.desktop)"
