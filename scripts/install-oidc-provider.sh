#!/usr/bin/env bash
# Installs the OpenID Connect provider the SSO tests sign in against (npm oidc-provider,
# pinned in tests/oidc/package-lock.json) into tests/oidc/node_modules.
#
# Idempotent: when node_modules matches the lock file (a stamp records its hash),
# nothing is done. Needs: node (20+) and npm, network access to the npm registry through
# npm's default configuration.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$ROOT/tests/oidc"
STAMP="$DIR/node_modules/.keybridge-install.stamp"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq >/dev/null && apt-get install -y -qq nodejs npm >/dev/null
  fi
fi
command -v npm >/dev/null 2>&1 || { echo "install-oidc-provider: node and npm are needed" >&2; exit 1; }

want="$(cat "$DIR/package-lock.json" "$DIR/package.json" | sha256sum | cut -d' ' -f1)"
if [[ -f "$STAMP" ]] && [[ "$(cat "$STAMP")" == "$want" ]] && [[ -f "$DIR/node_modules/oidc-provider/package.json" ]]; then
  exit 0
fi

LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
(cd "$DIR" && npm ci --no-audit --no-fund >"$LOG" 2>&1) || {
  echo "install-oidc-provider: npm ci failed" >&2
  cat "$LOG" >&2
  exit 1
}
echo "$want" >"$STAMP"
