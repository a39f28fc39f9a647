#!/usr/bin/env bash
# Measures the desktop app on this machine (a measurement, not a test):
#   - start to a usable window: from exec until the UI's first call reaches the core;
#   - idle memory with the bridge running and the window open: PSS (each shared page
#     counted once, split between the processes sharing it) of the app and its WebKit
#     processes, after 10 s, in total and per process (anonymous / file-backed);
#   - idle memory in the tray: the window closed as a window manager closes it (which
#     destroys its webview; the bridge keeps running), again after 10 s;
#   - that the window comes back: a second launch (as "Open Keybridge" does) rebuilds it
#     and its UI answers, after the app ended WebKit's network process (it fails when
#     that process still runs 10 s after the window closed); scripts/test.sh runs it once
#     on the debug package as that check;
#   - idle memory when started at login (--minimized): the tray only, no window ever;
#   - the size of the .deb, when one was built.
# Runs the app under its own Xvfb (a free display it picks) and D-Bus session bus, with a
# throwaway home and data directory whose settings start the bridge at launch (plain
# HTTP on a loopback port) and never check for updates (KEYBRIDGE_UPDATES=off, as the
# first launch's fresh settings have them on): nothing here leaves the machine. A first,
# unmeasured launch creates the data directory. Stops what it started.
# Usage: scripts/measure-desktop.sh [path/to/keybridge-desktop] [runs]
#        scripts/measure-desktop.sh --webkit-floor [runs]
#   --webkit-floor measures, the same way, the smallest WebKitGTK window instead
#   (scripts/webkit-floor/minimal-window.c, built here with gcc): what the platform's web
#   view costs with the window open before any application is in it.
#   MEASURE_MAPPINGS=N also prints each process's N largest mappings by PSS;
#   MEASURE_SMAPS_DIR=DIR keeps each process's /proc/PID/smaps there (the last state).
# Needs a build with the UI embedded (scripts/build-deb.sh, or --debug for A/B runs): a
# plain `cargo build` loads the UI from the Vite dev server (tauri.conf.json's devUrl).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
target=${CARGO_TARGET_DIR:-target}
floor=0
if [ "${1:-}" = --webkit-floor ]; then
  floor=1
  runs=${2:-3}
else
  app=${1:-$target/release-desktop/keybridge-desktop}
  runs=${2:-3}
fi

scratch=$(mktemp -d)
if [ "$floor" = 1 ]; then
  app="$scratch/minimal-window"
  # shellcheck disable=SC2046 # pkg-config prints several flags on purpose
  gcc -O2 -o "$app" scripts/webkit-floor/minimal-window.c $(pkg-config --cflags --libs webkit2gtk-4.1 gtk+-3.0)
fi
[ -x "$app" ] || { echo "no $app: build it (scripts/build-deb.sh)" >&2; exit 1; }

xvfb=""
bus=""
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "$xvfb" ] && kill "$xvfb" 2>/dev/null || true
  [ -n "$bus" ] && kill "$bus" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT
mkfifo "$scratch/display"
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$scratch/display" >/dev/null 2>&1 &
xvfb=$!
read -r display <"$scratch/display"
export DISPLAY=":$display" NO_AT_BRIDGE=1 KEYBRIDGE_LOG=info KEYBRIDGE_UPDATES=off HOME="$scratch/home"
export XDG_RUNTIME_DIR="$scratch/run" && mkdir -m 700 "$XDG_RUNTIME_DIR" "$HOME"
# A session bus of its own, as every desktop has: the single-instance hand-over of a
# second launch goes over it.
mkfifo "$scratch/bus"
dbus-daemon --session --nofork --nopidfile --print-address=3 3>"$scratch/bus" >/dev/null 2>&1 &
bus=$!
read -r DBUS_SESSION_BUS_ADDRESS <"$scratch/bus"
export DBUS_SESSION_BUS_ADDRESS

descendants() { # every process below $1
  local p
  for p in $(pgrep -P "$1" || true); do echo "$p"; descendants "$p"; done
}
field_kb() { # field_kb PID FIELD: a smaps_rollup field in kB (0 once the process is gone)
  awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null || true
}
pss_kb() { # PSS of a process and all its descendants, in kB
  local total=0 p v
  for p in "$1" $(descendants "$1"); do
    v=$(field_kb "$p" Pss)
    total=$(( total + ${v:-0} ))
  done
  echo "$total"
}
breakdown() { # one line per process: name, PSS, of which anonymous and file-backed
  local p name pss anon file
  for p in "$1" $(descendants "$1"); do
    name=$(cat "/proc/$p/comm" 2>/dev/null || echo gone)
    pss=$(field_kb "$p" Pss); anon=$(field_kb "$p" Pss_Anon); file=$(field_kb "$p" Pss_File)
    printf '    %-16s pid %-7s PSS %4d MiB (anon %4d, file %4d, shmem %3d)\n' "$name" "$p" \
      $(( ${pss:-0} / 1024 )) $(( ${anon:-0} / 1024 )) $(( ${file:-0} / 1024 )) \
      $(( $(field_kb "$p" Pss_Shmem | sed 's/^$/0/') / 1024 ))
    if [ -n "${MEASURE_SMAPS_DIR:-}" ]; then
      cp "/proc/$p/smaps" "$MEASURE_SMAPS_DIR/$name.$p.smaps" 2>/dev/null || true
    fi
    if [ "${MEASURE_MAPPINGS:-0}" -gt 0 ]; then
      # Not `head`: it can exit before sort has written everything, and sort's SIGPIPE
      # then ends the whole script (pipefail, set -e).
      awk '/^[0-9a-f]+-[0-9a-f]+ / {name = ($6 == "" ? "[anon]" : $6)} /^Pss:/ {sum[name] += $2}
           END {for (n in sum) printf "        %7d kB  %s\n", sum[n], n}' "/proc/$p/smaps" 2>/dev/null \
        | sort -rn | awk -v n="$MEASURE_MAPPINGS" 'NR <= n'
    fi
  done
}
windows() { python3 scripts/x11-close-window.py "$1" --count; }
# The conditions waited for (on the app $pid, its log $log), evaluated afresh each time.
closed() { [ "$(windows "$pid")" = 0 ]; }
reopened() { [ "$(windows "$pid")" -ge 1 ] && [ "$(grep -c "the window is usable" "$log")" -ge 2 ]; }
wait_for() { # wait_for SECONDS COMMAND...: until COMMAND succeeds; fails after SECONDS
  local end=$(( $(date +%s) + $1 )); shift
  until "$@"; do [ "$(date +%s)" -lt "$end" ] || return 1; sleep 0.05; done
}

if [ "$floor" = 1 ]; then
  for run in $(seq 1 "$runs"); do
    log="$scratch/floor$run"
    "$app" >"$log" 2>&1 &
    pid=$!; pids+=("$pid")
    wait_for 30 grep -qs "the window is usable" "$log" || { echo "run $run: the page never loaded" >&2; cat "$log" >&2; exit 1; }
    sleep 10
    echo "run $run: the smallest WebKitGTK window, open: idle PSS $(( $(pss_kb "$pid") / 1024 )) MiB in $(( 1 + $(descendants "$pid" | wc -l) )) processes"
    breakdown "$pid"
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
  exit 0
fi

for run in $(seq 1 "$runs"); do
  data="$scratch/data$run"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  # A first launch creates the data directory (its store and default settings).
  KEYBRIDGE_DATA_DIR="$data" "$app" >"$scratch/first$run" 2>&1 &
  pid=$!; pids+=("$pid")
  wait_for 30 grep -qs "the window is usable" "$scratch/first$run" || true
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
  pid=$!; pids+=("$pid")
  ready=""
  if wait_for 30 grep -qs "the window is usable" "$log"; then ready=$(date +%s%N); fi
  if [ -z "$ready" ]; then echo "run $run: the window never became usable; log:" >&2; cat "$log" >&2; exit 1; fi
  sleep 10
  up=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/ping" || true)
  open_pss=$(pss_kb "$pid")
  procs=$(( 1 + $(descendants "$pid" | wc -l) ))
  echo "run $run: usable window after $(( (ready - start) / 1000000 )) ms; window open: idle PSS $(( open_pss / 1024 )) MiB in $procs processes; bridge /ping answered $up"
  breakdown "$pid"

  # Closed to the tray, as a window manager's close button closes it.
  asked=$(python3 scripts/x11-close-window.py "$pid")
  [ "$asked" -ge 1 ] || { echo "run $run: no window to close" >&2; exit 1; }
  wait_for 10 closed || { echo "run $run: the window did not close" >&2; exit 1; }
  sleep 10
  kill -0 "$pid" 2>/dev/null || { echo "run $run: closing the window ended the app; log:" >&2; cat "$log" >&2; exit 1; }
  up=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/ping" || true)
  tray_pss=$(pss_kb "$pid")
  procs=$(( 1 + $(descendants "$pid" | wc -l) ))
  echo "run $run: in the tray (window closed): idle PSS $(( tray_pss / 1024 )) MiB in $procs processes; bridge /ping answered $up"
  breakdown "$pid"
  # The app ends WebKit's network process a few seconds after the window closed.
  for p in $(descendants "$pid"); do
    if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = WebKitNetworkPr ]; then
      echo "run $run: WebKit's network process ($p) still runs 10 s after the window closed" >&2; exit 1
    fi
  done

  # A second launch hands over to this one, which opens its window again.
  second=0
  KEYBRIDGE_DATA_DIR="$data" timeout 20 "$app" >"$scratch/second$run" 2>&1 || second=$?
  if [ "$second" = 0 ] && wait_for 30 reopened; then
    echo "run $run: a second launch opened the window again, and its UI answered"
  else
    echo "run $run: a second launch (exit $second) did not open a working window; logs:" >&2
    cat "$scratch/second$run" "$log" >&2; exit 1
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true

  # Started at login (--minimized): the tray only, no window was ever built.
  KEYBRIDGE_DATA_DIR="$data" "$app" --minimized >"$scratch/login$run" 2>&1 &
  pid=$!; pids+=("$pid")
  wait_for 30 curl -sf -o /dev/null "http://127.0.0.1:$port/ping" || true
  sleep 10
  up=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/ping" || true)
  login_pss=$(pss_kb "$pid")
  procs=$(( 1 + $(descendants "$pid" | wc -l) ))
  echo "run $run: started at login (--minimized, never opened): idle PSS $(( login_pss / 1024 )) MiB in $procs processes, $(windows "$pid") windows; bridge /ping answered $up"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
deb=$(ls -t "$target"/release-desktop/bundle/deb/*.deb 2>/dev/null | head -1 || true)
if [ -n "$deb" ]; then
  echo "package: $deb, $(( $(stat -c %s "$deb") / 1024 )) KiB ($(stat -c %s "$deb") bytes)"
fi
