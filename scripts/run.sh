#!/usr/bin/env bash
# Builds and runs the Keybridge bridge on this machine: the one command of the README's
# quick start. On first run it issues a bearer token and prints it once.
#
#   scripts/run.sh [serve options…]      e.g. --hostname scim.example.com --listen 0.0.0.0:443
#
# Environment: KEYBRIDGE_DATA_DIR (default: the platform's data directory).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if ! command -v cargo >/dev/null 2>&1; then
  echo "Keybridge builds with Rust's cargo, which is not installed here; install Rust (rustup) first." >&2
  exit 1
fi
cargo build --release --quiet --bin keybridge
BIN="$ROOT/target/release/keybridge"

if [[ -z "$("$BIN" token list 2>/dev/null)" ]]; then
  echo "First run: issuing a bearer token named 'jumpcloud'." >&2
  "$BIN" token issue --name jumpcloud
fi
exec "$BIN" serve "$@"
