#!/usr/bin/env bash
# The README's test command: install what is missing, then two steps:
#   1. build/ (g++, warnings are errors) and every test but the benchmarks;
#   2. build-sanitize/ (clang++ with AddressSanitizer, LeakSanitizer and
#      UndefinedBehaviorSanitizer: MAILROOM_SANITIZE) and the same tests
#      there, plus the fuzz targets' smoke runs.
# The first step includes the postgres runs (label postgres): the storage,
# smtpd, webd, pop3d and mailroomctl tests again against a throw-away
# PostgreSQL 15 that ctest starts and stops (tests/support/throwaway_postgres.py).
# Arguments go to ctest in both steps (default: -LE bench, and in the
# sanitized step -LE 'bench|postgres|slow': the PostgreSQL runs and the three
# tests over 30 s, which keeps CI within its time; `scripts/test.sh
# --sanitize-only -LE bench` runs them all there). One step alone:
# --no-sanitize (the first), --sanitize-only (the second).
set -euo pipefail
cd "$(dirname "$0")/.."
normal=1 sanitize=1
case "${1:-}" in
    --no-sanitize) sanitize=0; shift ;;
    --sanitize-only) normal=0; shift ;;
esac
scripts/install-deps.sh
export QT_QPA_PLATFORM=offscreen
# Benchmarks (label bench) print figures and load the machine: not part of
# the normal run; `scripts/test.sh --no-sanitize -L bench` runs the smoke
# benchmark (the sanitized build has none).
sanitized_args=("$@")
[ $# -eq 0 ] && sanitized_args=(-LE 'bench|postgres|slow') && set -- -LE bench
# Two tests per core: most of a test's time is spent waiting (for servers to
# start, for replies, for throttling delays), not computing. On the 2-core
# CI machine, 4 at a time took the normal run from about 360 s to 210 s and
# the sanitized one from 255 s to 170 s, with the same results.
jobs=$(( $(nproc) * 2 ))
if [ $normal = 1 ]; then
    scripts/build.sh
    ctest --test-dir build --output-on-failure --timeout 600 -j "$jobs" "$@"
fi
if [ $sanitize = 1 ]; then
    echo "test.sh: the same tests under AddressSanitizer and UndefinedBehaviorSanitizer (build-sanitize/)"
    scripts/build.sh --sanitize
    # ctest sets ASAN_OPTIONS, LSAN_OPTIONS (tests/sanitizers/lsan.supp) and
    # UBSAN_OPTIONS itself (the top-level CMakeLists.txt).
    ctest --test-dir build-sanitize --output-on-failure --timeout 900 -j "$jobs" "${sanitized_args[@]}"
fi
