#!/usr/bin/env bash
# Measures the desktop app on this machine (a measurement, not a test):
#   - start to a usable window: from exec until the UI's first call reaches the core;
#   - idle memory with the bridge running: PSS (each shared page counted once, split
#     between the processes sharing it) of the app and its WebKit processes, after 10 s;
#   - the size of the .deb, when one was built.
# Runs the app under its own Xvfb (a free display it picks) with a throwaway home and
# data directory whose settings start the bridge at launch (plain HTTP on a loopback
# port). A first, unmeasured launch creates the data directory. Stops what it started.
# Usage: scripts/measure-desktop.sh [path/to/keybridge-desktop] [runs]
# Needs a release build (scripts/build-deb.sh): a plain debug build loads the UI from the
# Vite dev server (tauri.conf.json's devUrl), not from the embedded ui/dist.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
target=${CARGO_TARGET_DIR:-target}
app=${1:-$target/release/keybridge-desktop}
runs=${2:-3}
[ -x "$app" ] || { echo "no $app: build it (scripts/build-deb.sh)" >&2; exit 1; }

scratch=$(mktemp -d)
xvfb=""
cleanup() {
  [ -n "$xvfb" ] && kill "$xvfb" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT
mkfifo "$scratch/display"
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$scratch/display" >/dev/null 2>&1 &
xvfb=$!
read -r display <"$scratch/display"
export DISPLAY=":$display" NO_AT_BRIDGE=1 KEYBRIDGE_LOG=info HOME="$scratch/home"
export XDG_RUNTIME_DIR="$scratch/run" && mkdir -m 700 "$XDG_RUNTIME_DIR" "$HOME"
unset DBUS_SESSION_BUS_ADDRESS

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
  # A first launch creates the data directory (its store and default settings).
  KEYBRIDGE_DATA_DIR="$data" "$app" >"$scratch/first$run" 2>&1 &
  pid=$!
  for _ in $(seq 1 1500); do
    grep -q "the window is usable" "$scratch/first$run" && break
    sleep 0.02
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
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
deb=$(ls -t "$target"/release/bundle/deb/*.deb 2>/dev/null | head -1 || true)
if [ -n "$deb" ]; then
  echo "package: $deb, $(( $(stat -c %s "$deb") / 1024 )) KiB ($(stat -c %s "$deb") bytes)"
fi
