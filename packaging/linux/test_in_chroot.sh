#!/usr/bin/env bash
# Runs the smoke test against a built Linux bundle inside a minimal Debian 12 chroot that holds
# only Debian's minbase, the system libraries the README lists for the bundle, and
# python3 (to run packaging/smoke_test.py; the bundle brings its own Python).
# Needs root and mmdebstrap (apt-get install mmdebstrap); the chroot is kept in $CHROOT
# (default /var/tmp/photofix-deb12) for later runs. The test runs without network
# (unshare --net) where the kernel allows it.
# Usage: sudo bash packaging/linux/test_in_chroot.sh [dist/PhotoFix] [smoke_test options...]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bundle=$(cd "${1:-$root/dist/PhotoFix}" && pwd)
shift || true
chroot_dir=${CHROOT:-/var/tmp/photofix-deb12}
libs=libgl1,libegl1,libxkbcommon0,libglib2.0-0,libfreetype6,libfontconfig1,libdbus-1-3
if [[ ! -x "$chroot_dir/usr/bin/python3" ]]; then
  mmdebstrap --variant=minbase --include="$libs,python3" bookworm "$chroot_dir"
fi
inside=/opt/photofix-test
rm -rf "${chroot_dir:?}$inside"
mkdir -p "$chroot_dir$inside/packaging" "$chroot_dir$inside/photofix"
cp -a "$bundle" "$chroot_dir$inside/PhotoFix"
cp "$root/packaging/smoke_test.py" "$chroot_dir$inside/packaging/"
cp "$root/photofix/__init__.py" "$chroot_dir$inside/photofix/"
mount --bind /proc "$chroot_dir/proc"
mount --bind /dev "$chroot_dir/dev"
trap 'umount "$chroot_dir/proc" "$chroot_dir/dev"; rm -rf "${chroot_dir:?}$inside"' EXIT
echo "chroot: $(chroot "$chroot_dir" dpkg-query -W -f '.' | wc -c) Debian packages installed"
# no network inside: a first start that tried to download anything would fail here
netns=()
if unshare --net true 2>/dev/null; then netns=(unshare --net); fi
if (( ${#netns[@]} )); then echo "chroot: network cut off (unshare --net)"; else
  echo "chroot: network not isolated (unshare --net refused)"; fi
${netns[@]+"${netns[@]}"} chroot "$chroot_dir" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 \
  python3 "$inside/packaging/smoke_test.py" "$inside/PhotoFix" "$@"
