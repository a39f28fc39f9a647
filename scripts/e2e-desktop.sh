#!/usr/bin/env bash
# End to end on the real desktop app (ui/tests/e2e/real-app.e2e.mjs): the release build's
# WebKitGTK window under its own Xvfb, driven over WebDriver by tauri-driver and Debian's
# WebKitWebDriver. Installs tauri-driver (scripts/install-tauri-driver.sh) and the Debian
# packages (scripts/install-desktop-deps.sh) first.
#
# Usage: scripts/e2e-desktop.sh [--screenshots DIR] [path/to/keybridge-desktop]
#   The app defaults to the release build of scripts/build-deb.sh; the test suite passes
#   the debug one of `scripts/build-deb.sh --debug` (a plain `cargo build`
#   would load the UI from the Vite dev server, not the embedded ui/dist).
#   --screenshots docs/screenshots refreshes the README's pictures of the real window.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

shots=""
if [ "${1:-}" = "--screenshots" ]; then
  shots=$(mkdir -p "$2" && cd "$2" && pwd)
  shift 2
fi
target=${CARGO_TARGET_DIR:-$ROOT/target}
case "$target" in /*) ;; *) target="$ROOT/$target" ;; esac
app=${1:-$target/release-desktop/keybridge-desktop}
case "$app" in /*) ;; *) app="$ROOT/$app" ;; esac
[ -x "$app" ] || { echo "no $app: build it with scripts/build-deb.sh" >&2; exit 1; }

scripts/install-desktop-deps.sh
driver=$(scripts/install-tauri-driver.sh | tail -1)

cd ui
KEYBRIDGE_APP="$app" TAURI_DRIVER="$driver" KEYBRIDGE_SCREENSHOTS="$shots" \
  timeout 600 node --test --test-concurrency=1 tests/e2e/real-app.e2e.mjs
