#!/usr/bin/env bash
# make bench: runs every benchmark binary of a build; results go to stdout (copy the figures into
# bench/README.md with this command).
set -euo pipefail
build=${1:-build}
for b in "$build"/bench/*_bench; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b" --benchmark_counters_tabular=true
done
