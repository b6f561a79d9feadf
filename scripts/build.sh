#!/usr/bin/env bash
# Configures and builds Mailroom into build/ (warnings are errors).
# --sanitize: the sanitized build instead, into build-sanitize/: clang,
# AddressSanitizer and UndefinedBehaviorSanitizer on every target
# (MAILROOM_SANITIZE), the fuzz targets' smoke runs too, no benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --sanitize ]; then
    # -O1 and line tables only, as the sanitizers' own documentation
    # suggests: reports keep function names and lines, and the build (a
    # second full build in the README's test command) takes less time.
    cmake -S . -B build-sanitize -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" \
        -DMAILROOM_WERROR=ON -DMAILROOM_SANITIZE=ON -DMAILROOM_FUZZ=ON -DMAILROOM_BENCH=OFF >/dev/null
    cmake --build build-sanitize
    exit
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAILROOM_WERROR=ON >/dev/null
cmake --build build
