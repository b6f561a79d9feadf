#!/usr/bin/env bash
# Runs the libFuzzer targets (tests/fuzz) for a while each and keeps what
# they find:
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60 s, all six)
#
# Builds build-fuzz/ with clang (-DMAILROOM_FUZZ=ON; MAILROOM_FUZZ_CMAKE_ARGS
# adds options, e.g. -DMAILROOM_SANITIZE=ON), runs each target from its
# corpus in tests/fuzz/corpus/<target>/ with its dictionary, then merges the
# new inputs into that corpus with -merge=1, so only those that reach new
# coverage are kept. A crashing input (a broken invariant included) is
# copied into the corpus too, as crash-<sha1>: the smoke tests then fail on
# it until it is fixed, and keep it as a regression input after that.
# Prints per target: executions per second, edges covered, corpus growth,
# crashes. Exit status 1 when any target crashed.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
seconds=${1:-60}
[[ $# -gt 0 ]] && shift
all=(fuzz_smtp_session fuzz_http_request fuzz_pop3_session fuzz_mail_message fuzz_smtp_reply fuzz_search_query)
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${all[@]}")

build=$root/build-fuzz
# shellcheck disable=SC2086 # MAILROOM_FUZZ_CMAKE_ARGS is a list of options
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DMAILROOM_FUZZ=ON \
    ${MAILROOM_FUZZ_CMAKE_ARGS:-} >/dev/null
ninja -C "$build" "${targets[@]}"

export QT_LOGGING_RULES='*=false'
failed=0
summary=()
for target in "${targets[@]}"; do
    binary=$build/fuzz/$target
    corpus=$root/tests/fuzz/corpus/$target
    work=$build/fuzz-work/$target
    rm -rf "$work"
    mkdir -p "$work/new" "$work/artifacts" "$corpus"
    before=$(find "$corpus" -type f | wc -l)
    echo "== $target: ${seconds} s"
    # New inputs go to the scratch directory first (libFuzzer writes to the
    # first directory it is given); the corpus is only read.
    set +e
    "$binary" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 \
        -dict="$root/tests/fuzz/$target.dict" -artifact_prefix="$work/artifacts/" \
        "$work/new" "$corpus" >"$work/fuzz.log" 2>&1
    status=$?
    # Only what reaches new edges is kept (without hit counts, which would
    # keep hundreds of inputs that differ only in how often a loop ran).
    "$binary" -merge=1 -use_counters=0 -timeout=30 -rss_limit_mb=4096 "$corpus" "$work/new" >"$work/merge.log" 2>&1
    set -e
    after=$(find "$corpus" -type f | wc -l)
    execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz.log" | tail -1)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$work/fuzz.log" | tail -1 | cut -d' ' -f2)
    crashes=()
    slow=()
    for artifact in "$work"/artifacts/*; do
        [[ -e $artifact ]] || continue
        # A slow unit is no failure: on a busy machine (or at nice 19) any
        # input can take seconds of wall time. It is reported, and kept
        # only if the merge found it new.
        if [[ $(basename "$artifact") == slow-unit-* ]]; then
            slow+=("$artifact")
            continue
        fi
        kept=$corpus/crash-$(sha1sum "$artifact" | cut -c1-40)
        cp "$artifact" "$kept"
        crashes+=("$kept")
    done
    line="$target: ${seconds} s, ${runs:-?} runs, ${execs:-?} exec/s, cov ${cov:-?} edges, corpus $before -> $after"
    [[ ${#slow[@]} -gt 0 ]] && line+=", slow units (wall time): ${slow[*]}"
    if [[ ${#crashes[@]} -gt 0 || $status -ne 0 ]]; then
        failed=1
        line+=", FAILED (exit $status): ${crashes[*]:-no artifact}; log $work/fuzz.log"
        grep -A3 -m1 'INVARIANT BROKEN\|ERROR: AddressSanitizer\|runtime error\|ERROR: libFuzzer' "$work/fuzz.log" || true
    fi
    echo "$line"
    summary+=("$line")
done
echo
printf '%s\n' "${summary[@]}"
exit $failed
