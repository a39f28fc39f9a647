#!/bin/sh
# Installs tauri-driver, the WebDriver server the real-app end-to-end test talks to
# (it starts Debian's WebKitWebDriver, from scripts/install-desktop-deps.sh, which drives
# the app's WebKitGTK window). Built from source with the crate's own lock file into
# .peers/tauri-driver/ (about 35 s once); idempotent: nothing happens when that version
# is already there. Prints the binary's path on its last line.
set -eu

version=2.1.0
repo=$(cd "$(dirname "$0")/.." && pwd)
root="$repo/.peers/tauri-driver"
bin="$root/bin/tauri-driver"
stamp="$root/.version"

if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
    echo "$bin"
    exit 0
fi
# A target directory of its own, so the workspace's (CARGO_TARGET_DIR) is not touched.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
CARGO_TARGET_DIR="$scratch" cargo install tauri-driver --locked --version "$version" \
    --root "$root" --quiet >&2
echo "$version" >"$stamp"
echo "installed: tauri-driver $version" >&2
echo "$bin"
