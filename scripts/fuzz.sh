#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers on stable Rust, time-boxed. Optional: not part
# of CI (the property tests in the normal suite are). Usage:
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 60); TARGETs default to all of: filter, patch_path,
# resource_json, expression. Installs cargo-fuzz if it is missing. The corpus grows in
# fuzz/corpus/TARGET (seeded from fuzz/seeds/TARGET); a crash leaves its input in
# fuzz/artifacts/TARGET/, replayable with `cargo fuzz run -s none TARGET FILE` in fuzz/.
# Prints executions per second for each target; exits non-zero if any target crashed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_PER_TARGET="${1:-60}"
shift || true
TARGETS=("$@")
if [ "${#TARGETS[@]}" -eq 0 ]; then
  TARGETS=(filter patch_path resource_json expression)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

cd "$ROOT/fuzz"
mkdir -p logs
# `-s none`: no sanitizer, so no nightly-only `-Zsanitizer` flag. Safe Rust needs no
# AddressSanitizer to find panics, overflows (debug assertions stay on), endless loops
# (-timeout) and runaway memory (-rss_limit_mb).
FUZZ_FLAGS=(-s none)
if ! cargo fuzz build "${FUZZ_FLAGS[@]}" >logs/build.log 2>&1; then
  # Some cargo-fuzz versions insist on a nightly compiler even without a sanitizer;
  # RUSTC_BOOTSTRAP lets stable accept that here, and only here.
  echo "==> cargo fuzz build failed on stable as is; retrying with RUSTC_BOOTSTRAP=1 (see fuzz/logs/build.log)"
  export RUSTC_BOOTSTRAP=1
  cargo fuzz build "${FUZZ_FLAGS[@]}"
fi

failed=()
summary=()
for target in "${TARGETS[@]}"; do
  echo "==> fuzzing $target for ${SECONDS_PER_TARGET}s"
  mkdir -p "corpus/$target"
  log="logs/$target.log"
  status=0
  cargo fuzz run "${FUZZ_FLAGS[@]}" "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -dict="dicts/$target.dict" -print_final_stats=1 >"$log" 2>&1 || status=$?
  runs="$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 \2/p' "$log" | tail -1)"
  if [ "$status" -ne 0 ]; then
    failed+=("$target")
    summary+=("$target: CRASHED (see fuzz/$log and fuzz/artifacts/$target/)")
    tail -40 "$log"
  elif [ -n "$runs" ]; then
    set -- $runs
    summary+=("$target: $1 runs in $2 s = $(( $1 / ($2 > 0 ? $2 : 1) )) exec/s, corpus $(ls "corpus/$target" | wc -l) inputs")
  else
    summary+=("$target: finished, but printed no run count (see fuzz/$log)")
  fi
done

echo
echo "==> fuzzing summary (${SECONDS_PER_TARGET}s per target)"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "crashed: ${failed[*]}"
  exit 1
fi
