#!/bin/sh
# Installs what the desktop app's build and tests need, on Debian/Ubuntu, and nothing
# when it is already there (idempotent, quiet):
#   - the Tauri build libraries (WebKitGTK 4.1, the ayatana tray library, librsvg, xdo)
#     and pkg-config;
#   - the test tools: Debian's chromium (the UI tests drive it with playwright-core),
#     Xvfb, xauth and ImageMagick (screenshots of the real window), WebKitWebDriver,
#     D-Bus and GNOME Keyring (the real Secret Service);
#   - the UI's npm packages, exactly as ui/package-lock.json pins them (`npm ci`).
# Node.js and npm come with the machine image.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)

missing=""
for pkg in libwebkit2gtk-4.1-dev build-essential file libxdo-dev libssl-dev \
    libayatana-appindicator3-dev librsvg2-dev pkg-config \
    xvfb xauth imagemagick webkit2gtk-driver chromium dbus gnome-keyring; do
    if ! dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
        missing="$missing $pkg"
    fi
done
if [ -n "$missing" ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    # shellcheck disable=SC2086 # word splitting of the package list is intended
    $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
    echo "installed:$missing"
fi

if ! command -v npm >/dev/null 2>&1; then
    echo "install-desktop-deps: npm not found; install Node.js 20 or newer" >&2
    exit 1
fi
# `npm ci` only when the lock file changed since the last install (it empties
# node_modules first, which costs ~20 s).
stamp="$repo/ui/node_modules/.keybridge-lock"
if [ ! -f "$stamp" ] || ! cmp -s "$repo/ui/package-lock.json" "$stamp"; then
    (cd "$repo/ui" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$repo/ui/package-lock.json" "$stamp"
    echo "installed: ui npm packages"
fi
