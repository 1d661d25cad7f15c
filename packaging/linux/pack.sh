#!/usr/bin/env bash
# Packs a built Linux bundle (dist/PhotoFix) as a tarball and, when appimagetool is available
# ($APPIMAGETOOL or on PATH), as an AppImage. Called by packaging/build_linux.sh.
# Usage: bash packaging/linux/pack.sh BUNDLE_DIR VERSION   ($PHOTOFIX_XZ_LEVEL: xz preset, default 6)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bundle=$(cd "$1" && pwd)
version=$2
out=$(dirname "$bundle")
arch=$(uname -m)
icons="$root/resources/icons"

# ---- tarball: PhotoFix-<version>/ = the bundle + desktop entry + icon + installer of both ----
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
name="PhotoFix-$version"
cp -a "$bundle" "$stage/$name"
install -m 644 "$here/photofix.desktop" "$stage/$name/photofix.desktop"
install -m 644 "$icons/photofix-256.png" "$stage/$name/photofix.png"
install -m 755 "$here/install-desktop-entry.sh" "$stage/$name/install-desktop-entry.sh"
tarball="$out/$name-linux-$arch.tar.xz"
tar -C "$stage" --owner=0 --group=0 -cf - "$name" | xz -T0 "-${PHOTOFIX_XZ_LEVEL:-6}" > "$tarball.tmp"
mv "$tarball.tmp" "$tarball"
echo "pack: $tarball: $(( $(stat -c %s "$tarball") / 1000000 )) MB"

# ---- AppImage: AppDir with AppRun, desktop file and icon at its top ----
tool=${APPIMAGETOOL:-$(command -v appimagetool || true)}
if [[ -z "$tool" ]]; then
  echo "pack: appimagetool not found (set APPIMAGETOOL or put it on PATH): AppImage skipped"
  exit 0
fi
appdir="$stage/PhotoFix.AppDir"
mkdir -p "$appdir/usr/lib" "$appdir/usr/share/icons/hicolor/256x256/apps"
cp -a "$bundle" "$appdir/usr/lib/photofix"
install -m 755 "$here/AppRun" "$appdir/AppRun"
install -m 644 "$here/photofix.desktop" "$appdir/photofix.desktop"
install -m 644 "$icons/photofix-256.png" "$appdir/photofix.png"
install -m 644 "$icons/photofix-256.png" "$appdir/usr/share/icons/hicolor/256x256/apps/photofix.png"
ln -s photofix.png "$appdir/.DirIcon"
image="$out/PhotoFix-$version-$arch.AppImage"
ARCH=$arch "$tool" --no-appstream "$appdir" "$image"
echo "pack: $image: $(( $(stat -c %s "$image") / 1000000 )) MB"
