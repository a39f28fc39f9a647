#!/usr/bin/env bash
# Builds the desktop app's Debian package with the Tauri CLI from ui/'s npm packages:
#   target/release/bundle/deb/Keybridge_<version>_amd64.deb
# Signed updater artifacts need the updater's private key in TAURI_SIGNING_PRIVATE_KEY
# (the release workflow has it). Without one, a throwaway key is generated for this
# build only, so the package still builds; its .sig is then not one any installed
# Keybridge trusts. Prints the package's size.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-desktop-deps.sh
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
if [ -z "${TAURI_SIGNING_PRIVATE_KEY:-}" ]; then
    CI=true npx --prefix ui tauri signer generate --ci -p "" -w "$scratch/throwaway.key" >/dev/null
    export TAURI_SIGNING_PRIVATE_KEY="$scratch/throwaway.key"
    export TAURI_SIGNING_PRIVATE_KEY_PASSWORD=""
fi
start=$(date +%s)
npx --prefix ui tauri build --bundles deb "$@"
deb=$(ls -t target/release/bundle/deb/*.deb | head -1)
echo "built $deb: $(du -h "$deb" | cut -f1) ($(stat -c %s "$deb") bytes) in $(( $(date +%s) - start )) s"
