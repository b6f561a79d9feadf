#!/usr/bin/env bash
# The README's test command: install what is missing, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
export QT_QPA_PLATFORM=offscreen
# Benchmarks (label bench) print figures and load the machine: not part of
# the normal run; `scripts/test.sh -L bench` runs the smoke benchmark.
[ $# -eq 0 ] && set -- -LE bench
ctest --test-dir build --output-on-failure --timeout 600 -j "$(nproc)" "$@"
