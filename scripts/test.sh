#!/usr/bin/env bash
# Runs every test Keybridge has, installing what they need first:
#   formatting and lints, the Rust test suite of every crate (unit, integration over real
#   HTTP and SQLite, the SCIM conformance testers against the real binary, `--tls acme`
#   against Let's Encrypt's test CA pebble), and the secrets test against a real Secret
#   Service, the desktop app's UI tests in a real headless Chromium (after svelte-check),
#   and the desktop app itself: its .deb built by the Tauri CLI (a debug build with the
#   UI embedded) and an end-to-end test of that build's real window under Xvfb.
# Ends with the test runner's summary; exits non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

step() { printf '\n==> %s\n' "$*"; }

step "installing test dependencies (idempotent)"
scripts/install-keyring-test-deps.sh
scripts/install-pebble.sh
scripts/install-peers.sh
scripts/install-desktop-deps.sh

# The Tauri crate embeds ui/dist at compile time: build it before any cargo step.
step "the desktop UI (ui/dist)"
npm --prefix ui run --silent build -- --logLevel warn

step "the desktop UI's types (tsc, svelte-check)"
npm --prefix ui run --silent check

step "rustfmt"
cargo fmt --all -- --check

step "clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "the secrets store against a real Secret Service"
crates/secrets/test-real-keychain.sh

step "the SSO and mail peers (OpenID provider, SMTP server; idempotent)"
scripts/install-oidc-provider.sh
scripts/install-smtp-peer.sh

step "the desktop UI in headless Chromium"
(cd ui && node --test --test-concurrency=1 tests/)

# The desktop app's package and the real app end to end come before the Rust suite, so
# that the run ends with cargo's summary. A debug package (scripts/build-deb.sh says why);
# the release package's size is measured by scripts/measure-desktop.sh (README).
step "the desktop app's Debian package (tauri build --debug --bundles deb)"
deb=$(scripts/build-deb.sh --debug | tail -1)
echo "$deb"

step "end to end on the real app (tauri-driver, WebKitWebDriver, Xvfb)"
scripts/e2e-desktop.sh "${CARGO_TARGET_DIR:-$ROOT/target}/debug/keybridge-desktop"

# One run of the measurement as a check of the window's life: closed as a window manager
# closes it (the app then ends WebKit's network process, or this fails), and brought
# back by a second launch with a UI that answers. Its memory figures are the debug
# build's; the README's are the release package's.
step "the window closed to the tray and opened again, on the real app"
scripts/measure-desktop.sh "${CARGO_TARGET_DIR:-$ROOT/target}/debug/keybridge-desktop" 1

step "the test suite"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast --failure-output final
else
  cargo test --workspace --no-fail-fast
fi
