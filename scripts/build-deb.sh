#!/usr/bin/env bash
# Builds the desktop app's Debian package with the Tauri CLI from ui/'s npm packages:
#   ${CARGO_TARGET_DIR:-target}/release-desktop/bundle/deb/Keybridge_<version>_amd64.deb
# (and the binary release-desktop/keybridge-desktop, which the end-to-end test and
# scripts/measure-desktop.sh use by default), with Cargo.toml's `release-desktop` profile.
# Signed updater artifacts need the updater's private key in TAURI_SIGNING_PRIVATE_KEY
# (the release workflow has it). Without one, a throwaway key is generated for this
# build only, so the package still builds; its .sig is then not one any installed
# Keybridge trusts. Prints the package's size and fails when it is over the 15 MB
# target (KEYBRIDGE_DEB_MAX_BYTES overrides it); the last line is the package's path.
#
# `--debug` builds the same package from a debug build (target/debug/bundle/deb): what the
# test suite uses, because it shares most of its compiled dependencies with the tests'
# own build, where a cold release-desktop build (fat LTO) costs about 20 CPU-minutes, too
# much for CI's 2 cores. Its size is printed but not checked (debug symbols).
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
target=${CARGO_TARGET_DIR:-$PWD/target}
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
# The Tauri CLI takes the profile from cargo's arguments and bundles from its directory.
profile=release-desktop
cargo_args=(-- --profile release-desktop)
for arg in "$@"; do [ "$arg" = "--debug" ] && profile=debug && cargo_args=(); done
start=$(date +%s)
# Tauri's own progress goes to stderr; only the summary lines below go to stdout.
npx --prefix ui tauri build --bundles deb "$@" "${cargo_args[@]}" >&2
deb=$(ls -t "$target"/$profile/bundle/deb/*.deb | head -1)
bytes=$(stat -c %s "$deb")
max=${KEYBRIDGE_DEB_MAX_BYTES:-15000000}
echo "built $deb: $(( bytes / 1024 )) KiB ($bytes bytes; $profile build; target under $max for release) in $(( $(date +%s) - start )) s" >&2
if [ "$profile" != debug ] && [ "$bytes" -ge "$max" ]; then
    echo "the .deb is $bytes bytes, over the $max-byte target: see what grew (dpkg-deb -c $deb)" >&2
    exit 1
fi
echo "$deb"
