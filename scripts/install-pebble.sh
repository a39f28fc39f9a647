#!/bin/sh
# Installs Let's Encrypt's test CA for tests/acme (`--tls acme` end to end): Debian's
# `pebble` package gives `pebble` and `pebble-challtestsrv`. The test writes its own pebble
# configuration and certificates; nothing else is set up here. Idempotent and quiet: it
# does nothing (not even `apt-get update`) when the package is already installed.
set -eu

if dpkg-query -W -f='${Status}\n' pebble 2>/dev/null | grep -q '^install ok installed$' \
    && command -v pebble >/dev/null && command -v pebble-challtestsrv >/dev/null; then
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends pebble >/dev/null
echo "installed: pebble"
