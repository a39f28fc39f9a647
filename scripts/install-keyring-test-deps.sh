#!/bin/sh
# Installs what the real-keychain test of crates/secrets needs on Debian/Ubuntu: a D-Bus
# session bus (dbus-run-session) and GNOME Keyring as the Secret Service. libdbus itself
# is compiled into the build by keyring's `vendored` feature, so no -dev package is
# needed. Idempotent and quiet: it does nothing when everything is already installed.
# Run crates/secrets/test-real-keychain.sh afterwards.
set -eu

missing=""
for pkg in dbus dbus-bin gnome-keyring; do
    if ! dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
        missing="$missing $pkg"
    fi
done
[ -z "$missing" ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086 # word splitting of the package list is intended
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "installed:$missing"
