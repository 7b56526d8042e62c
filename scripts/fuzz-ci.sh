#!/usr/bin/env bash
# A short, bounded fuzz run of every target in fuzz/ (loader, expr, state),
# as CI runs it: installs cargo-fuzz if it is missing, seeds the corpora,
# builds the targets once, then runs each for FUZZ_SECONDS (default 60).
# Fails on any crash, out-of-memory or hang; the reproducer is left in
# fuzz/artifacts/TARGET/ (see docs/fuzzing.md to shrink and keep it).
#
#   FUZZ_SECONDS=60 FUZZ_TARGETS="loader expr state" bash scripts/fuzz-ci.sh
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-"loader expr state"}
# The toolchain is stable: let cargo-fuzz pass its -Z flags. No sanitizer:
# the engine forbids unsafe code, and the builds and runs are much faster.
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --version 0.13.2 --locked
fi
cargo fuzz --version

echo "== seeds"
bash fuzz/seed.sh

cd fuzz
echo "== build"
# One build for every target: the engine is compiled once.
cargo fuzz build --sanitizer none

failed=()
for t in $targets; do
  echo "== fuzz $t for ${seconds}s"
  if ! cargo fuzz run --sanitizer none "$t" "corpus/$t" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1; then
    failed+=("$t")
  fi
done

if ((${#failed[@]})); then
  echo "fuzzing found crashes in: ${failed[*]} (reproducers in fuzz/artifacts/)" >&2
  ls -l artifacts/* >&2 || true
  exit 1
fi
echo "fuzzing: no crash in $targets (${seconds}s each)"
