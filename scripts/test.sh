#!/usr/bin/env bash
# Runs every test Keybridge has, installing what they need first:
#   formatting and lints, the Rust test suite of every crate (unit, integration over real
#   HTTP and SQLite, the SCIM conformance testers against the real binary, `--tls acme`
#   against Let's Encrypt's test CA pebble), and the secrets test against a real Secret
#   Service, the desktop app's UI tests in a real headless Chromium (after svelte-check),
#   and the desktop app itself: its .deb built by the Tauri CLI (release build, size
#   checked) and an end-to-end test of that build's real window under Xvfb.
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

step "the test suite"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast --failure-output final
else
  cargo test --workspace --no-fail-fast
fi

# Last: the release build takes minutes (README, "Developing the desktop app"), and the suite above
# says more when something is wrong.
step "the desktop app's Debian package (tauri build --bundles deb; under 15 MB)"
deb=$(scripts/build-deb.sh | tail -1)
echo "$deb"

step "end to end on the real app (tauri-driver, WebKitWebDriver, Xvfb)"
scripts/e2e-desktop.sh
