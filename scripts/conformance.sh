#!/usr/bin/env bash
# Runs the two external SCIM conformance testers against a freshly started
# Keybridge (or, with --peer, against the reference server scim2-server):
#   scim2-tester (through `scim2 ... test`)  about 135 checks
#   scim-sanity probe                          about 31 checks
# and prints every failure, then a final line `N passed, N failed`.
# Exits non-zero when anything failed.
#
# Usage: scripts/conformance.sh [--peer] [--keep] [KEYBRIDGE_BIN]
#   KEYBRIDGE_BIN   server binary (default: $KEYBRIDGE_BIN, else target/debug/keybridge)
#   --peer          test the reference server scim2-server instead of Keybridge
#   --keep          keep the server's data directory
# Environment:
#   CONFORMANCE_TIMEOUT  seconds allowed to each tester (default 300)
#   CONFORMANCE_OUT      where raw outputs go (default .peers/conformance-last)
#
# Checks that do not pass (SKIPPED included) count as failures unless they are
# listed, with the reason, in scripts/conformance-known.txt; those are shown
# as "known" and counted in neither number.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

MODE=keybridge
KEEP=0
BIN="${KEYBRIDGE_BIN:-}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --peer) MODE=peer ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "conformance: unknown option $1" >&2; exit 2 ;;
    *) BIN="$1" ;;
  esac
  shift
done
BIN="${BIN:-target/debug/keybridge}"
TESTER_TIMEOUT="${CONFORMANCE_TIMEOUT:-300}"
# The server may live at most as long as both testers plus start-up.
SERVER_TIMEOUT=$((2 * TESTER_TIMEOUT + 120))
OUT="${CONFORMANCE_OUT:-$ROOT/.peers/conformance-last}"
KNOWN="$ROOT/scripts/conformance-known.txt"
VENV="$ROOT/.peers/venv"

scripts/install-peers.sh

WORK="$(mktemp -d "${TMPDIR:-/tmp}/keybridge-conformance.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ "$KEEP" == 1 ]]; then
    echo "conformance: kept $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$OUT"
rm -f "$OUT"/*

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

PORT="$(free_port)"
if [[ "$MODE" == peer ]]; then
  LABEL="scim2-server (reference peer)"
  TOKEN="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
  # The peer only takes its token on the command line; it is a throwaway
  # token for a loopback server that lives as long as this script.
  timeout "$SERVER_TIMEOUT" "$VENV/bin/scim2-server" --hostname 127.0.0.1 --port "$PORT" \
    --bearer-token "$TOKEN" --tenant scim >"$OUT/server.log" 2>&1 &
  SERVER_PID=$!
  READY_URL="http://127.0.0.1:$PORT/scim/v2/ServiceProviderConfig"
else
  [[ -x "$BIN" ]] || { echo "conformance: no server binary at $BIN (build it, or pass its path)" >&2; exit 2; }
  LABEL="keybridge ($BIN)"
  DATA="$WORK/data"
  TOKEN="$(timeout 60 "$BIN" --data-dir "$DATA" token issue --name conformance 2>"$OUT/token-issue.log" | tail -n 1 | tr -d '[:space:]')" \
    || { echo "conformance: token issue failed:" >&2; cat "$OUT/token-issue.log" >&2; exit 2; }
  [[ -n "$TOKEN" ]] || { echo "conformance: token issue printed no token" >&2; cat "$OUT/token-issue.log" >&2; exit 2; }
  timeout "$SERVER_TIMEOUT" "$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" --tls none \
    >"$OUT/server.log" 2>&1 &
  SERVER_PID=$!
  READY_URL="http://127.0.0.1:$PORT/ping"
fi
BASE="http://127.0.0.1:$PORT/scim/v2"

ready=0
for _ in $(seq 300); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "conformance: server exited during start-up:" >&2
    tail -n 40 "$OUT/server.log" >&2
    exit 2
  fi
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H "@-" "$READY_URL" <<<"Authorization: Bearer $TOKEN" || true)"
  if [[ "$code" == 200 ]]; then ready=1; break; fi
  sleep 0.1
done
if [[ "$ready" != 1 ]]; then
  echo "conformance: server not ready at $READY_URL after 30 s" >&2
  tail -n 40 "$OUT/server.log" >&2
  exit 2
fi
echo "conformance: testing $LABEL at $BASE" >&2

# scim2-tester: scim2-cli reads extra headers from SCIM_CLI_HEADERS (";"-separated).
set +e
SCIM_CLI_HEADERS="Authorization: Bearer $TOKEN" NO_COLOR=1 \
  timeout "$TESTER_TIMEOUT" "$VENV/bin/scim2" --url "$BASE" test \
  >"$OUT/scim2-tester.txt" 2>&1
TESTER_RC=$?
# scim-sanity has no environment variable for its --token option; run its
# click entry point with an envvar prefix so that --token comes from
# SCIM_SANITY_PROBE_TOKEN instead of the command line.
SCIM_SANITY_PROBE_TOKEN="$TOKEN" \
  timeout "$TESTER_TIMEOUT" "$VENV/bin/python" -c \
  'import sys; from scim_sanity.cli import main; sys.argv[0] = "scim-sanity"; main(auto_envvar_prefix="SCIM_SANITY")' \
  probe "$BASE" --i-accept-side-effects --json-output \
  >"$OUT/scim-sanity.json" 2>"$OUT/scim-sanity.stderr"
SANITY_RC=$?
set -e

python3 - "$OUT" "$KNOWN" "$TESTER_RC" "$SANITY_RC" "$TESTER_TIMEOUT" <<'PY'
import json, re, sys
out, known_path, tester_rc, sanity_rc, tmo = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
ansi = re.compile(r"\x1b\[[0-9;]*m")

# Allowlist: "tool | check | reason substring or * | why", one per line.
known = []
try:
    for n, line in enumerate(open(known_path, encoding="utf-8"), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 4 or not all(parts):
            sys.exit(f"conformance: {known_path}:{n}: want 'tool | check | match | reason'")
        known.append({"tool": parts[0], "check": parts[1], "match": parts[2], "why": parts[3], "used": 0})
except FileNotFoundError:
    pass

def is_known(tool, check, detail):
    for k in known:
        if k["tool"] == tool and k["check"] == check and (k["match"] == "*" or k["match"] in detail):
            k["used"] += 1
            return k
    return None

results = []  # (tool, status, check, detail, passed)

# scim2-tester: "STATUS title" then indented reason lines.
STATUSES = ("SUCCESS", "COMPLIANT", "ACCEPTABLE", "DEVIATION", "ERROR", "CRITICAL", "SKIPPED")
text = ansi.sub("", open(f"{out}/scim2-tester.txt", encoding="utf-8", errors="replace").read())
cur = None
for line in text.splitlines():
    word = line.split(" ", 1)[0]
    if word in STATUSES:
        cur = ["scim2-tester", word, line[len(word):].strip(), ""]
        results.append(cur)
    elif cur is not None and line.startswith("  "):
        cur[3] = (cur[3] + " " + line.strip()).strip()
n_tester = len(results)
for r in results:
    r.append(r[1] == "SUCCESS")
tester_fail = sum(1 for r in results if not r[4])
if tester_rc == 124:
    results.append(["scim2-tester", "TIMEOUT", "scim2-tester run", f"did not finish within {tmo} s", False])
elif n_tester == 0 or (tester_rc != 0 and tester_fail == 0) or tester_rc not in (0, 1):
    tail = " / ".join(text.strip().splitlines()[-3:])
    results.append(["scim2-tester", "CRASHED", "scim2-tester run", f"exit {tester_rc}: {tail}", False])

# scim-sanity: JSON report with pass / fail / warn / skip / error.
try:
    rep = json.load(open(f"{out}/scim-sanity.json", encoding="utf-8"))
    for r in rep.get("results", []):
        st = r.get("status", "?")
        results.append(["scim-sanity", st.upper(), r.get("name", "?"),
                         r.get("message", ""), st in ("pass", "warn")])
    if not rep.get("results"):
        raise ValueError("no results")
except Exception as e:  # noqa: BLE001 - any unreadable report is one failure
    err = open(f"{out}/scim-sanity.stderr", encoding="utf-8", errors="replace").read().strip().splitlines()
    why = f"did not finish within {tmo} s" if sanity_rc == 124 else f"exit {sanity_rc}, no report ({e}): {' / '.join(err[-3:])}"
    results.append(["scim-sanity", "CRASHED", "scim-sanity probe", why, False])

passed = failed = 0
known_hits = []
for tool, st, check, detail, ok in results:
    if ok:
        passed += 1
        if st == "WARN":
            print(f"warning  [{tool}] {check}: {detail}")
        continue
    k = is_known(tool, check, detail)
    if k:
        known_hits.append((tool, st, check, k["why"]))
        continue
    failed += 1
    print(f"FAIL     [{tool}] {st} {check}" + (f": {detail}" if detail else ""))
for tool, st, check, why in known_hits:
    print(f"known    [{tool}] {st} {check} -- {why}")
for k in known:
    if not k["used"]:
        print(f"note: allowlist entry matched nothing: {k['tool']} | {k['check']} | {k['match']}")
by_tool = {}
for tool, st, check, detail, ok in results:
    t = by_tool.setdefault(tool, [0, 0])
    t[0 if ok else 1] += 1
for tool, (p, f) in by_tool.items():
    print(f"{tool}: {p} passed, {f} not passed")
if known_hits:
    print(f"{len(known_hits)} known (listed in scripts/conformance-known.txt, counted in neither number)")
print(f"raw output: {out}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
