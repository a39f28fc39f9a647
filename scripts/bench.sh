#!/usr/bin/env bash
# Side-by-side benchmark: Keybridge against the reference SCIM server
# scim2-server, both on loopback over plain HTTP, driven by the same compiled
# load generator (crates/loadgen) in the same run: both servers run at once,
# and each scenario is measured in turns that alternate between them.
# Prints a table of throughput ratios (Keybridge / peer) per operation and
# Keybridge's peak RSS, and writes bench-results/latest.md (+ latest.jsonl).
# See docs/benchmarks.md for the method.
#
# Usage: scripts/bench.sh [--quick] [--two-peers] [--no-build]
#   --quick      smaller populations and shorter runs (a few minutes)
#   --two-peers  measure a second scim2-server instance in Keybridge's place
#                (to check the tooling itself, or while the server is broken)
#   --no-build   use the binaries already built
# Environment (defaults: full / quick):
#   BENCH_POPULATIONS     10000,100000 / 1000,10000   people for lookups and paging
#   BENCH_DURATION        10 / 3                      seconds per measured scenario and server
#   BENCH_TURNS           5 / 3                       turns each scenario is split into per server
#   BENCH_PATCH_RESERVE   20000 / 2000                users added by member PATCHes
#   BENCH_SMALL_GROUPS    200 / 50                    groups of 100 the small PATCHes spread over
#   KB_CONCURRENCY        32                          connections driving Keybridge
#   PEER_CONCURRENCY      2                           connections driving the peer
#   BENCH_TIMEOUT         7200 / 1800                 seconds allowed to the whole run
#   BENCH_SCENARIOS       filter,page,patch,post      which scenarios to measure (seeding to
#                                                     the populations always happens)
#   CARGO_TARGET_DIR      target                      where the release binaries are built
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

QUICK=0
TWO_PEERS=0
BUILD=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --two-peers) TWO_PEERS=1 ;;
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "bench: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

if [[ "$QUICK" == 1 ]]; then
  POPS="${BENCH_POPULATIONS:-1000,10000}"
  DURATION="${BENCH_DURATION:-3}"
  TURNS="${BENCH_TURNS:-3}"
  RESERVE="${BENCH_PATCH_RESERVE:-2000}"
  SMALL_GROUPS="${BENCH_SMALL_GROUPS:-50}"
  RUN_TIMEOUT="${BENCH_TIMEOUT:-1800}"
else
  POPS="${BENCH_POPULATIONS:-10000,100000}"
  DURATION="${BENCH_DURATION:-10}"
  TURNS="${BENCH_TURNS:-5}"
  RESERVE="${BENCH_PATCH_RESERVE:-20000}"
  SMALL_GROUPS="${BENCH_SMALL_GROUPS:-200}"
  RUN_TIMEOUT="${BENCH_TIMEOUT:-7200}"
fi
SCENARIOS="${BENCH_SCENARIOS:-filter,page,patch,post}"
KB_CONC="${KB_CONCURRENCY:-32}"
PEER_CONC="${PEER_CONCURRENCY:-2}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
KB_BIN="$TARGET_DIR/release/keybridge"
LOADGEN="$TARGET_DIR/release/keybridge-loadgen"
VENV="$ROOT/.peers/venv"
RESULTS="$ROOT/bench-results"

say() { echo "bench: $*" >&2; }

if [[ "$BUILD" == 1 ]]; then
  say "building keybridge-loadgen (release)"
  CARGO_TARGET_DIR="$TARGET_DIR" cargo build --quiet --release -p keybridge-loadgen
  if [[ "$TWO_PEERS" == 0 ]]; then
    say "building keybridge (release)"
    CARGO_TARGET_DIR="$TARGET_DIR" cargo build --quiet --release --bin keybridge
  fi
fi
[[ -x "$LOADGEN" ]] || { say "no load generator at $LOADGEN"; exit 2; }
if [[ "$TWO_PEERS" == 0 ]]; then
  [[ -x "$KB_BIN" ]] || { say "no keybridge binary at $KB_BIN"; exit 2; }
fi
scripts/install-peers.sh
# A release build leaves much of what it wrote in dirty pages; written back while Keybridge
# is measured, they would slow its fsyncs (the peer syncs nothing), so flush them first.
sync

WORK="$(mktemp -d "${TMPDIR:-/tmp}/keybridge-bench.XXXXXX")"
SERVER_PIDS=()   # the processes started (`timeout` wrappers)
stop_servers() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${SERVER_PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  SERVER_PIDS=()
}
cleanup() { stop_servers; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# The server process under the `timeout` wrapper, whose memory we report.
child_of() {
  local p="$1" c=""
  for _ in $(seq 50); do
    c="$(cat "/proc/$p/task/$p/children" 2>/dev/null | awk '{print $1}')"
    [[ -n "$c" ]] && { echo "$c"; return 0; }
    sleep 0.1
  done
  return 1
}

wait_ready() {  # pid url token log
  for _ in $(seq 300); do
    kill -0 "$1" 2>/dev/null || { say "server exited during start-up:"; tail -n 30 "$4" >&2; return 1; }
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H @- "$2" <<<"Authorization: Bearer $3" || true)"
    [[ "$code" == 200 ]] && return 0
    sleep 0.1
  done
  say "server not ready at $2 after 30 s"; tail -n 30 "$4" >&2
  return 1
}

# Each start_* adds one server to the load generator's arguments (LOADGEN_ARGS)
# and its bearer token to the environment under TOKEN_VAR.
LOADGEN_ARGS=()
add_server() {  # label port token-variable concurrency pid
  LOADGEN_ARGS+=(--url "http://127.0.0.1:$2/scim/v2" --label "$1" --token-env "$3"
    --concurrency "$4" --rss-pid "$5")
}

start_peer() {  # label token-variable concurrency
  local port token pid
  port="$(free_port)"
  token="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
  # The peer only takes its (throwaway, loopback-only) token on the command line.
  timeout "$((RUN_TIMEOUT + 60))" "$VENV/bin/scim2-server" --hostname 127.0.0.1 --port "$port" \
    --bearer-token "$token" --tenant scim >"$WORK/$1.log" 2>&1 &
  pid=$!
  SERVER_PIDS+=("$pid")
  wait_ready "$pid" "http://127.0.0.1:$port/scim/v2/ServiceProviderConfig" "$token" "$WORK/$1.log"
  export "$2=$token"
  add_server "$1" "$port" "$2" "$3" "$(child_of "$pid")"
}

start_keybridge() {  # token-variable concurrency
  local port token pid data="$WORK/kb-data"
  port="$(free_port)"
  token="$("$KB_BIN" --data-dir "$data" token issue --name bench 2>"$WORK/token.log" | tail -n 1 | tr -d '[:space:]')" \
    || { say "token issue failed"; cat "$WORK/token.log" >&2; return 1; }
  [[ -n "$token" ]] || { say "token issue printed no token"; cat "$WORK/token.log" >&2; return 1; }
  timeout "$((RUN_TIMEOUT + 60))" "$KB_BIN" --data-dir "$data" serve --listen "127.0.0.1:$port" --tls none \
    >"$WORK/keybridge.log" 2>&1 &
  pid=$!
  SERVER_PIDS+=("$pid")
  wait_ready "$pid" "http://127.0.0.1:$port/ping" "$token" "$WORK/keybridge.log"
  export "$1=$token"
  add_server keybridge "$port" "$1" "$2" "$(child_of "$pid")"
}

mkdir -p "$RESULTS"
JSONL="$WORK/results.jsonl"

if [[ "$TWO_PEERS" == 1 ]]; then
  # The same server twice, driven alike: the ratios should come out near 1.
  KB_LABEL="peer-as-keybridge"
  KB_CONC="$PEER_CONC"
  start_peer "$KB_LABEL" KB_TOKEN "$KB_CONC"
else
  KB_LABEL="keybridge"
  start_keybridge KB_TOKEN "$KB_CONC"
fi
start_peer scim2-server PEER_TOKEN "$PEER_CONC"

say "driving $KB_LABEL ($KB_CONC connections) and scim2-server ($PEER_CONC) in alternating turns;" \
  "populations $POPS; ${DURATION}s per scenario and server in $TURNS turns"
STATUS=0
set +e
timeout "$RUN_TIMEOUT" "$LOADGEN" "${LOADGEN_ARGS[@]}" --turns "$TURNS" \
  --populations "$POPS" --duration "$DURATION" --scenarios "$SCENARIOS" \
  --patch-reserve "$RESERVE" --small-groups "$SMALL_GROUPS" \
  | tee "$JSONL" >&2
rc=${PIPESTATUS[0]}
set -e
if [[ "$rc" != 0 ]]; then
  say "the load generator failed (exit $rc); see its messages above"
  STATUS=1
fi
stop_servers

python3 - "$JSONL" "$RESULTS" "$KB_LABEL" "$QUICK" "$KB_CONC" "$PEER_CONC" "$DURATION" "$TURNS" "$STATUS" <<'PY'
import json, sys, datetime, platform, os
path, outdir, kb, quick, kbc, pc, dur, turns, status = sys.argv[1:]
rows, rss = {}, {}
lines = [json.loads(l) for l in open(path) if l.strip()]
for d in lines:
    if d.get("scenario"):
        name = d["scenario"] + (f" ({d['population']} people)" if "population" in d else "")
        rows.setdefault(name, {})[d["server"]] = d
    elif d.get("rss"):
        rss.setdefault(d["server"], {})[d["checkpoint"]] = d
peer = "scim2-server"
def f(x, nd=1):
    if x is None:
        return "—"
    if 0 < abs(x) < 10 ** -nd * 10:
        return f"{x:.2g}"
    return f"{x:,.{nd}f}"
out = []
out.append(f"# Keybridge vs scim2-server — {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
out.append("")
mode = "quick" if quick == "1" else "full"
out.append(f"Mode: {mode}; {dur} s per scenario and server, in {turns} turns that alternate between the servers; "
           f"{kbc} connections to {kb}, {pc} to {peer}; "
           f"{os.cpu_count()} CPUs ({platform.machine()}), client and servers on the same machine.")
if kb != "keybridge":
    out.append("")
    out.append(f"**Note: `{kb}` is a second scim2-server instance standing in for Keybridge (tooling check).**")
if status != "0":
    out.append("")
    out.append("**The run did not complete: some scenarios are missing (see the log).**")
out.append("")
out.append(f"| operation | {kb} req/s | {peer} req/s | ratio | ratio per turn | {kb} p50 / p99 ms | {peer} p50 / p99 ms | errors |")
out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
ratios = {}
for name, by in rows.items():
    a, b = by.get(kb), by.get(peer)
    ra = a["rps"] if a else None
    rb = b["rps"] if b else None
    ratio = (ra / rb) if (ra and rb) else None
    ratios[name] = ratio
    lat = lambda d: f"{d['p50_ms']:.1f} / {d['p99_ms']:.1f}" if d else "—"
    errs = sum(d["errors"] for d in (a, b) if d)
    # Turn k of one server ran next to turn k of the other: their ratio is free of drift
    # between turns; the spread of these ratios shows how steady the machine was.
    pairs = [x / y for x, y in zip(a.get("turn_rps", []), b.get("turn_rps", [])) if y] if (a and b) else []
    spread = f"{f(min(pairs), 0)}–{f(max(pairs), 0)}×" if len(pairs) > 1 else "—"
    out.append(f"| {name} | {f(ra)} | {f(rb)} | {f(ratio, 0) + '×' if ratio else '—'} | {spread} | {lat(a)} | {lat(b)} | {errs} |")
out.append("")
def mb(kb_):
    return None if kb_ is None else kb_ / 1024
biggest = max((int(c.split("=")[1]) for s in rss.values() for c in s if c.startswith("people=") and "+" not in c), default=None)
if biggest is not None:
    key = f"people={biggest}"
    for server in (kb, peer):
        d = rss.get(server, {}).get(key)
        end = rss.get(server, {}).get("end")
        if d:
            out.append(f"- Peak RSS (VmHWM) of {server} with {biggest:,} people: **{f(mb(d['vmhwm_kb']))} MB**"
                       + (f" (at the end of its run, groups and all: {f(mb(end['vmhwm_kb']))} MB)" if end else ""))
# Member PATCH: big group vs small group, for Keybridge.
patch = {n: by.get(kb) for n, by in rows.items() if n.startswith("patch_add_member_group_")}
if len(patch) == 2:
    (n_small, s), (n_big, b) = sorted(patch.items(), key=lambda kv: int(kv[0].rsplit("_", 1)[1]))
    if s and b and b["rps"]:
        out.append(f"- {kb}: member PATCH on the {n_big.rsplit('_',1)[1]}-member group runs at "
                   f"{b['rps'] / s['rps']:.2f}× the throughput of the {n_small.rsplit('_',1)[1]}-member groups "
                   f"(p50 {b['p50_ms']:.1f} ms vs {s['p50_ms']:.1f} ms)")
known = [r for r in ratios.values() if r]
if known:
    out.append(f"- Smallest ratio {kb} / {peer}: **{min(known):.1f}×** (target: at least 20× on every operation)")
setup = [d for d in lines if d.get("setup")]
if setup:
    out.append("")
    out.append("Setup (not measured): " + "; ".join(
        f"{d['server']} {d['step']} {d['count']:,} in {d['seconds']:.0f} s" for d in setup))
text = "\n".join(out) + "\n"
open(os.path.join(outdir, "latest.md"), "w").write(text)
with open(os.path.join(outdir, "latest.jsonl"), "w") as fh:
    fh.writelines(json.dumps(d) + "\n" for d in lines)
print(text)
PY
say "wrote bench-results/latest.md and bench-results/latest.jsonl"
exit "$STATUS"
