#!/usr/bin/env bash
# Runs every test Keybridge has, installing what they need first:
#   formatting and lints, the Rust test suite of every crate (unit, integration over real
#   HTTP and SQLite, the SCIM conformance testers against the real binary, `--tls acme`
#   against Let's Encrypt's test CA pebble), and the secrets test against a real Secret
#   Service.
# Ends with the test runner's summary; exits non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

step() { printf '\n==> %s\n' "$*"; }

step "installing test dependencies (idempotent)"
scripts/install-keyring-test-deps.sh
scripts/install-pebble.sh
scripts/install-peers.sh

step "rustfmt"
cargo fmt --all -- --check

step "clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "the secrets store against a real Secret Service"
crates/secrets/test-real-keychain.sh

step "the SSO and mail peers (OpenID provider, SMTP server; idempotent)"
scripts/install-oidc-provider.sh
scripts/install-smtp-peer.sh

step "the test suite"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast --failure-output final
else
  cargo test --workspace --no-fail-fast
fi
