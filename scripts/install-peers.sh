#!/usr/bin/env bash
# Installs the SCIM peers used by the conformance and benchmark scripts into
# .peers/venv at the repository root:
#   scim2-cli + scim2-tester  conformance checks (`scim2 ... test`)
#   scim-sanity               conformance probe (`scim-sanity probe ...`)
#   scim2-server              reference SCIM server for side-by-side benchmarks
#
# Idempotent: a stamp file records the pinned set; when it matches and the
# programs are present, nothing is done. Quiet unless something fails.
# Needs: python3 (3.11+) with the venv module, network access to the Python
# package index through pip's default configuration.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS="$ROOT/.peers"
VENV="$PEERS/venv"
STAMP="$PEERS/install.stamp"

# Top-level tools, pinned to versions verified together.
TOOLS=(
  "scim2-cli==0.6.0"
  "scim2-tester==0.5.2"
  "scim-sanity==0.7.4"
  "scim2-server==0.8.3"
)
# Their dependencies as resolved when the tools above were verified; used as
# constraints so that a later release of a dependency cannot change results.
CONSTRAINTS='annotated-types==0.8.0
anyio==4.16.0
click==8.5.1
colorama==0.4.6
dnspython==2.9.2
docutils==0.23
email-validator==2.4.0
h11==0.16.0
httpcore2==2.16.2
httpx2==2.16.2
idna==3.20
lark==1.3.1
pydanclick==0.5.1
pydantic==2.14.4
pydantic_core==2.50.5
Pygments==2.21.0
scim-sanity==0.7.4
scim2-cli==0.6.0
scim2-client==0.13.2
scim2-models==0.12.3
scim2-server==0.8.3
scim2-tester==0.5.2
sphinx-click-rst-to-ansi-formatter==0.2.0
truststore==0.10.5
typing-inspection==0.4.5
typing_extensions==4.16.0'

want="$(printf '%s\n' "${TOOLS[@]}" "$CONSTRAINTS" "$(python3 -c 'import sys; print(sys.version.split()[0])')" | sha256sum | cut -d' ' -f1)"

have_all() {
  [[ -x "$VENV/bin/scim2" && -x "$VENV/bin/scim-sanity" && -x "$VENV/bin/scim2-server" ]]
}

if [[ -f "$STAMP" ]] && [[ "$(cat "$STAMP")" == "$want" ]] && have_all; then
  exit 0
fi

LOG="$(mktemp)"
trap 'rm -f "$LOG" "${CFILE:-}"' EXIT

fail() {
  echo "install-peers: $1" >&2
  cat "$LOG" >&2
  exit 1
}

mkdir -p "$PEERS"
rm -f "$STAMP"
if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV" >"$LOG" 2>&1 || fail "could not create $VENV (is python3-venv installed?)"
fi

CFILE="$(mktemp)"
printf '%s\n' "$CONSTRAINTS" >"$CFILE"
export PIP_DISABLE_PIP_VERSION_CHECK=1
"$VENV/bin/python" -m pip install --quiet --constraint "$CFILE" "${TOOLS[@]}" >"$LOG" 2>&1 \
  || fail "pip install failed"

have_all || fail "tools missing after install"
# Check that what is installed is what was pinned.
"$VENV/bin/python" - "${TOOLS[@]}" >"$LOG" 2>&1 <<'EOF' || fail "installed versions differ from the pins"
import sys
from importlib.metadata import version
bad = []
for spec in sys.argv[1:]:
    name, want = spec.split("==")
    got = version(name)
    if got != want:
        bad.append(f"{name}: want {want}, got {got}")
if bad:
    print("\n".join(bad))
    sys.exit(1)
EOF

echo "$want" >"$STAMP"
