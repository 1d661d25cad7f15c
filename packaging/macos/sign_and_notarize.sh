#!/usr/bin/env bash
# Signs and notarises PhotoFix for macOS when credentials are present; otherwise ad-hoc signs
# the app (so it runs on the build machine and on Apple silicon) and says what was skipped.
#   sign_and_notarize.sh app dist/PhotoFix.app   sign every Mach-O inside, then the app
#   sign_and_notarize.sh dmg dist/PhotoFix-....dmg  sign, notarise and staple the dmg (and app)
# Environment:
#   MACOS_SIGN_IDENTITY   "Developer ID Application: Name (TEAMID)" in the keychain
#   notarisation, either an App Store Connect API key:
#     MACOS_NOTARY_KEY (path to AuthKey_XXXX.p8), MACOS_NOTARY_KEY_ID, MACOS_NOTARY_ISSUER
#   or an Apple ID: MACOS_NOTARY_APPLE_ID, MACOS_NOTARY_PASSWORD (app-specific), MACOS_NOTARY_TEAM_ID
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
what=$1 target=$2
identity=${MACOS_SIGN_IDENTITY:-}

notary_args() {
  if [[ -n "${MACOS_NOTARY_KEY:-}" && -n "${MACOS_NOTARY_KEY_ID:-}" && -n "${MACOS_NOTARY_ISSUER:-}" ]]; then
    echo --key "$MACOS_NOTARY_KEY" --key-id "$MACOS_NOTARY_KEY_ID" --issuer "$MACOS_NOTARY_ISSUER"
  elif [[ -n "${MACOS_NOTARY_APPLE_ID:-}" && -n "${MACOS_NOTARY_PASSWORD:-}" && -n "${MACOS_NOTARY_TEAM_ID:-}" ]]; then
    echo --apple-id "$MACOS_NOTARY_APPLE_ID" --password "$MACOS_NOTARY_PASSWORD" --team-id "$MACOS_NOTARY_TEAM_ID"
  fi
}

sign() {  # hardened runtime, secure timestamp, our entitlements
  codesign --force --timestamp --options runtime --entitlements "$here/entitlements.plist" \
    --sign "$identity" "$@"
}

case "$what" in
  app)
    if [[ -z "$identity" ]]; then
      echo "sign_and_notarize: MACOS_SIGN_IDENTITY not set: ad-hoc signing $target (not for distribution)"
      codesign --force --deep --sign - "$target"
      exit 0
    fi
    # inside out: every dylib, .so and executable first, then the bundle itself
    while IFS= read -r -d '' f; do
      if file -b "$f" | grep -q "Mach-O"; then sign "$f"; fi
    done < <(find "$target/Contents" -type f \( -name "*.dylib" -o -name "*.so" -o -perm -u+x \) -print0)
    sign "$target"
    codesign --verify --deep --strict --verbose=2 "$target"
    ;;
  dmg)
    if [[ -z "$identity" ]]; then
      echo "sign_and_notarize: MACOS_SIGN_IDENTITY not set: $target left unsigned, not notarised"
      exit 0
    fi
    codesign --force --timestamp --sign "$identity" "$target"
    read -r -a creds <<< "$(notary_args)"
    if (( ${#creds[@]} == 0 )); then
      echo "sign_and_notarize: no notarisation credentials: $target signed, not notarised"
      exit 0
    fi
    xcrun notarytool submit "$target" "${creds[@]}" --wait
    xcrun stapler staple "$target"
    xcrun stapler validate "$target"
    spctl --assess --type open --context context:primary-signature --verbose "$target"
    ;;
  *) echo "usage: sign_and_notarize.sh app|dmg PATH" >&2; exit 2 ;;
esac
