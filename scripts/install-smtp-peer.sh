#!/usr/bin/env bash
# Installs the SMTP server the invitation-mail tests send to (PyPI aiosmtpd, pinned)
# into .peers/venv at the repository root; tests/smtp/sink.py runs it on loopback and
# writes each message it receives to a folder.
#
# Idempotent: a stamp records the pinned set; when it matches, nothing is done.
# Needs: python3 with the venv module, network access to the Python package index
# through pip's default configuration.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS="$ROOT/.peers"
VENV="$PEERS/venv"
STAMP="$PEERS/smtp.stamp"
PINS=("aiosmtpd==1.4.6" "atpublic==9.0.0" "attrs==26.1.0")

want="$(printf '%s\n' "${PINS[@]}" "$(python3 -c 'import sys; print(sys.version.split()[0])')" | sha256sum | cut -d' ' -f1)"
if [[ -f "$STAMP" ]] && [[ "$(cat "$STAMP")" == "$want" ]] && "$VENV/bin/python" -c 'import aiosmtpd' >/dev/null 2>&1; then
  exit 0
fi

LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
fail() { echo "install-smtp-peer: $1" >&2; cat "$LOG" >&2; exit 1; }

mkdir -p "$PEERS"
if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV" >"$LOG" 2>&1 || fail "could not create $VENV (is python3-venv installed?)"
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
"$VENV/bin/python" -m pip install --quiet "${PINS[@]}" >"$LOG" 2>&1 || fail "pip install failed"
"$VENV/bin/python" -c 'import aiosmtpd' >"$LOG" 2>&1 || fail "aiosmtpd missing after install"
echo "$want" >"$STAMP"
