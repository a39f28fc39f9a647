#!/usr/bin/env bash
# Measures the desktop app on this machine (a measurement, not a test):
#   - start to a usable window: from exec until the UI's first call reaches the core;
#   - idle memory with the bridge running: PSS (each shared page counted once, split
#     between the processes sharing it) of the app and its WebKit processes, after 10 s.
# Runs the app under its own Xvfb on :99 with a throwaway data directory whose settings
# start the bridge at launch (plain HTTP on a loopback port). Stops what it started.
# Usage: scripts/measure-desktop.sh [path/to/keybridge-desktop] [runs]
# Needs a release build (scripts/build-deb.sh): a plain debug build loads the UI from the
# Vite dev server (tauri.conf.json's devUrl), not from the embedded ui/dist.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
app=${1:-target/release/keybridge-desktop}
runs=${2:-3}
# The CLI of the same build seeds the data directory.
cli="$(dirname "$app")/keybridge"
[ -x "$app" ] || { echo "no $app: build it (scripts/build-deb.sh)" >&2; exit 1; }
if [ ! -x "$cli" ]; then
  case "$app" in
    */release/*) cargo build --release --quiet --bin keybridge ;;
    *) cargo build --quiet --bin keybridge ;;
  esac
fi

scratch=$(mktemp -d)
xvfb=""
cleanup() {
  [ -n "$xvfb" ] && kill "$xvfb" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT
Xvfb :99 -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
sleep 1
export DISPLAY=:99 NO_AT_BRIDGE=1 KEYBRIDGE_LOG=info
export XDG_RUNTIME_DIR="$scratch/run" && mkdir -m 700 "$XDG_RUNTIME_DIR"

descendants() { # every process below $1
  local p
  for p in $(pgrep -P "$1" || true); do echo "$p"; descendants "$p"; done
}
pss_kb() { # PSS of a process and all its descendants, in kB
  local total=0 p v
  for p in "$1" $(descendants "$1"); do
    v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || true)
    total=$(( total + ${v:-0} ))
  done
  echo "$total"
}

for run in $(seq 1 "$runs"); do
  data="$scratch/data$run"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$cli" --data-dir "$data" --secrets file token issue --name measure >/dev/null 2>&1
  python3 - "$data/keybridge.db" "$port" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
settings = {"listenAddress": "127.0.0.1", "port": int(sys.argv[2]), "tls": "none",
            "secrets": "file", "updateChannel": "off", "wasRunning": True}
db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES ('app.settings', ?)", (json.dumps(settings),))
db.commit()
PY
  log="$scratch/log$run"
  start=$(date +%s%N)
  KEYBRIDGE_DATA_DIR="$data" "$app" >"$log" 2>&1 &
  pid=$!
  ready=""
  for _ in $(seq 1 1500); do
    if grep -q "the window is usable" "$log"; then ready=$(date +%s%N); break; fi
    sleep 0.02
  done
  sleep 10
  up=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/ping" || true)
  pss=$(pss_kb "$pid")
  procs=$(( 1 + $(descendants "$pid" | wc -l) ))
  kill "$pid"; wait "$pid" 2>/dev/null || true
  if [ -z "$ready" ]; then echo "run $run: the window never became usable; log:" >&2; cat "$log" >&2; exit 1; fi
  echo "run $run: usable window after $(( (ready - start) / 1000000 )) ms; idle PSS $(( pss / 1024 )) MiB in $procs processes; bridge /ping answered $up"
done
