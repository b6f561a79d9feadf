#!/usr/bin/env bash
# Mailroom's load matrix: starts mailroom-smtpd, mailroom-webd and
# mailroom-imapd on port 0 over a fresh data directory, drives them with
# mailroom-load (bench/), and prints a markdown table of the medians
# followed by the JSON lines. Not part of the normal test run (ctest's
# bench_smoke runs it with --quick).
#
#   bench/run-bench.sh [--quick] [--runs N] [--build-dir DIR | --bin-dir DIR [--bin-dir DIR2]]
#                      [--no-build] [--max-wait S] [--out FILE] [--keep]
#
#   --quick       a smoke run of every scenario with small counts, one run each
#   --runs N      runs per scenario (default 3; the table shows the medians)
#   --build-dir   build tree to use (default build/; built if needed)
#   --bin-dir     take the executables from DIR; nothing is built. Given
#                 twice (before, after: bench/build-commit.sh builds an old
#                 commit), both sets of servers run side by side, each on
#                 its own data directory, the runs of each scenario taking
#                 turns, all driven by the second DIR's mailroom-load; a
#                 third table compares them (the IMAP rows only when both
#                 have mailroom-imapd)
#   --no-build    don't build; the executables must exist
#   --max-wait S  before each run, wait up to S seconds (default 120; 0 with
#                 --quick) for the machine to be idle: other work on a small
#                 machine skews the figures (the "other CPU" column shows it)
#   --out FILE    also write the JSON lines to FILE
#   --keep        keep the temporary data directory and server logs
#
# Progress goes to stderr; the table and the JSON lines to stdout. The exit
# status is 1 when any run reported errors.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=$root/build
bin_dirs=()
quick=0
runs=
build=1
out=
keep=0
max_wait=

usage() { sed -n '8,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { echo "run-bench.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
    case $1 in
        --quick) quick=1 ;;
        --runs) [ $# -ge 2 ] || die "--runs needs a number"; runs=$2; shift ;;
        --build-dir) [ $# -ge 2 ] || die "--build-dir needs a directory"; build_dir=$(cd "$2" 2>/dev/null && pwd || echo "$2"); shift ;;
        --bin-dir) [ $# -ge 2 ] || die "--bin-dir needs a directory"; bin_dirs+=("$2"); build=0; shift ;;
        --no-build) build=0 ;;
        --out) [ $# -ge 2 ] || die "--out needs a file"; out=$2; shift ;;
        --keep) keep=1 ;;
        --max-wait) [ $# -ge 2 ] || die "--max-wait needs seconds"; max_wait=$2; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown option '$1'" ;;
    esac
    shift
done
[ -n "$runs" ] || runs=$([ $quick = 1 ] && echo 1 || echo 3)
case $runs in '' | *[!0-9]* | 0) die "--runs needs a positive number" ;; esac
[ -n "$max_wait" ] || max_wait=$([ $quick = 1 ] && echo 0 || echo 120)
case $max_wait in '' | *[!0-9]*) die "--max-wait needs a number of seconds" ;; esac
[ ${#bin_dirs[@]} -gt 0 ] || bin_dirs=("$build_dir/bin")
[ ${#bin_dirs[@]} -le 2 ] || die "--bin-dir at most twice (before, after)"
sides=${#bin_dirs[@]}
if [ "$sides" = 2 ]; then side_names=(before after); else side_names=(""); fi
bin_dir=${bin_dirs[$((sides - 1))]}

# ------------------------------------------------------------------ build
targets=(mailroom-load mailroom-smtpd mailroom-webd mailroom-imapd mailroomctl)
have_binaries() {
    local t
    # Without mailroom-imapd the IMAP rows are left out (below).
    for t in "${targets[@]}"; do [ -x "$bin_dir/$t" ] || [ "$t" = mailroom-imapd ] || return 1; done
    # The "before" side needs only its servers and mailroomctl.
    [ "$sides" = 1 ] || for t in mailroom-smtpd mailroom-webd mailroomctl; do
        [ -x "${bin_dirs[0]}/$t" ] || return 1
    done
}
if [ $build = 1 ]; then
    if [ "$build_dir" = "$root/build" ] && ! have_binaries; then
        echo "building with scripts/build.sh" >&2
        "$root/scripts/build.sh" >&2
    else
        if [ ! -f "$build_dir/CMakeCache.txt" ]; then
            cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAILROOM_WERROR=ON >&2
        fi
        # Only these targets: cheap when up to date.
        cmake --build "$build_dir" --target "${targets[@]}" >&2
    fi
fi
have_binaries || die "missing executables in ${bin_dirs[*]} (build first, or pass --build-dir / --bin-dir)"
load=$bin_dir/mailroom-load
# The IMAP rows need mailroom-imapd on every side (a commit from before it has none).
imap=1
for dir in "${bin_dirs[@]}"; do [ -x "$dir/mailroom-imapd" ] || imap=0; done

# ------------------------------------------------------------------ scenario sizes
if [ $quick = 1 ]; then
    small_conns=10 small_msgs=20
    big_conns=5 big_msgs=4
    onepc_conns=5 onepc_total=20
    idle_conns=50 idle_hold=1
    web_conns=5 web_list_requests=200 web_mixed_requests=200
    latency_conns=2 latency_seconds=2
    imap_conns=5 imap_fill=100 imap_ops=600
    timeout=60
else
    small_conns=50 small_msgs=100
    big_conns=50 big_msgs=20
    onepc_conns=50 onepc_total=2000
    idle_conns=1000 idle_hold=10
    web_conns=10 web_list_requests=30000 web_mixed_requests=20000
    latency_conns=4 latency_seconds=10
    imap_conns=10 imap_fill=1000 imap_ops=30000
    timeout=600
fi

# Every connection needs a descriptor in the generator and one in the server.
want_fds=$((idle_conns + 256))
hard_fds=$(ulimit -Hn)
if [ "$hard_fds" != unlimited ] && [ "$hard_fds" -lt "$want_fds" ]; then
    echo "warning: the hard descriptor limit is $hard_fds; idle connections lowered to fit" >&2
    idle_conns=$((hard_fds - 256))
    want_fds=$hard_fds
fi
[ "$(ulimit -Sn)" != unlimited ] && [ "$(ulimit -Sn)" -lt "$want_fds" ] && ulimit -Sn "$want_fds"

# ------------------------------------------------------------------ data dirs and servers
# Each side (one, or before and after) has its own data directory, servers
# and results; arrays are indexed by side.
work=$(mktemp -d "${TMPDIR:-/tmp}/mailroom-bench.XXXXXX")
smtpd_pid=() webd_pid=() smtpd_port=() webd_port=() smtpd_count=() data=() results=() ca=()
imapd_pid=() imapd_port=() imapd_tls_port=() imapd_count=()
for side in $(seq 0 $((sides - 1))); do
    data[$side]=$work/data.$side
    results[$side]=$work/results.$side.jsonl
    : >"${results[$side]}"
    smtpd_count[$side]=0
    imapd_count[$side]=0
done

stop_server() { # PID
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
cleanup() {
    local side
    for side in "${!smtpd_pid[@]}"; do stop_server "${smtpd_pid[$side]}"; done
    for side in "${!webd_pid[@]}"; do stop_server "${webd_pid[$side]}"; done
    for side in "${!imapd_pid[@]}"; do stop_server "${imapd_pid[$side]}"; done
    if [ $keep = 1 ]; then
        echo "kept $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

password=bench-load-password
for side in $(seq 0 $((sides - 1))); do
    ctl=${bin_dirs[$side]}/mailroomctl
    "$ctl" --data-dir "${data[$side]}" init >/dev/null
    echo "$password" | "$ctl" --data-dir "${data[$side]}" add-user bench >/dev/null
    # The same account type with the cheapest hash the servers allow, to show
    # what one-message connections cost without the PBKDF2 of every AUTH.
    echo "$password" | "$ctl" --data-dir "${data[$side]}" --pbkdf2-iterations 1000 add-user benchfast >/dev/null
    # IMAP's accounts, the same way: an inbox kept at its size by the mixed
    # load, and one that the idle connections select (nearly empty).
    for user in benchimap benchidle; do
        echo "$password" | "$ctl" --data-dir "${data[$side]}" --pbkdf2-iterations 1000 add-user $user >/dev/null
    done
    ca[$side]=${data[$side]}/tls/cert.pem
done

# Waits for "listening on 127.0.0.1:PORT" in LOG (with KIND after it when
# given, such as "(implicit TLS)") and prints PORT.
wait_port() { # LOG PID [KIND]
    local i port
    for i in $(seq 1 400); do
        port=$(sed -n "s/.*listening on 127\\.0\\.0\\.1:\\([0-9][0-9]*\\) *${3:-}.*/\\1/p" "$1" | head -n 1)
        if [ -n "$port" ]; then
            echo "$port"
            return 0
        fi
        kill -0 "$2" 2>/dev/null || { echo "server exited:" >&2; cat "$1" >&2; return 1; }
        sleep 0.05
    done
    echo "no 'listening on' line in $1 after 20 s" >&2
    return 1
}

# One address sends everything here, so the per-address limits (connections,
# and failed logins, which count logins still being checked) are lifted.
start_smtpd() { # SIDE
    local side=$1 log
    smtpd_count[$side]=$((smtpd_count[$side] + 1))
    log=$work/smtpd.$side.${smtpd_count[$side]}.log
    "${bin_dirs[$side]}/mailroom-smtpd" --data-dir "${data[$side]}" --listen 127.0.0.1:0 \
        --max-connections $((idle_conns + 100)) --max-connections-per-address $((idle_conns + 100)) \
        --max-failed-logins-per-address 100000 2>"$log" &
    smtpd_pid[$side]=$!
    smtpd_port[$side]=$(wait_port "$log" "${smtpd_pid[$side]}")
}
start_webd() { # SIDE
    local side=$1 log=$work/webd.$1.log
    "${bin_dirs[$side]}/mailroom-webd" --data-dir "${data[$side]}" --listen 127.0.0.1:0 \
        --max-failed-logins-per-address 100000 2>"$log" &
    webd_pid[$side]=$!
    webd_port[$side]=$(wait_port "$log" "${webd_pid[$side]}")
}
start_imapd() { # SIDE
    local side=$1 log
    imapd_count[$side]=$((imapd_count[$side] + 1))
    log=$work/imapd.$side.${imapd_count[$side]}.log
    "${bin_dirs[$side]}/mailroom-imapd" --data-dir "${data[$side]}" --listen 127.0.0.1:0 --listen-tls 127.0.0.1:0 \
        --max-connections $((idle_conns + 100)) --max-connections-per-address $((idle_conns + 100)) \
        --max-failed-logins-per-address 100000 2>"$log" &
    imapd_pid[$side]=$!
    imapd_port[$side]=$(wait_port "$log" "${imapd_pid[$side]}" "(STARTTLS)")
    imapd_tls_port[$side]=$(wait_port "$log" "${imapd_pid[$side]}" "(implicit TLS)")
}

# ------------------------------------------------------------------ runs
# Busy CPU ticks of the whole machine (user nice system irq softirq steal).
busy_ticks() { awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
ticks_per_second=$(getconf CLK_TCK)

# Waits (up to --max-wait seconds) until the machine did less than 0.15 CPUs
# of work over one second: the servers settled, nobody else compiling.
wait_quiet() {
    [ "$max_wait" -gt 0 ] || return 0
    local waited=0 before after busy
    while :; do
        before=$(busy_ticks)
        sleep 1
        after=$(busy_ticks)
        busy=$((after - before))
        [ $((busy * 100)) -lt $((15 * ticks_per_second)) ] && return 0
        waited=$((waited + 1))
        if [ $waited = 1 ]; then
            printf '(machine busy: %s CPU ticks/s, waiting) ' "$busy" >&2
        fi
        if [ $waited -ge "$max_wait" ]; then
            printf '(still busy after %s s, running anyway) ' "$max_wait" >&2
            return 0
        fi
    done
}

failures=0
step=0
run() { # SIDE LABEL NOTE MODE ARGS...
    local side=$1 label=$2 note=$3 line rc=0 name
    shift 3
    step=$((step + 1))
    wait_quiet
    name=${side_names[$side]}
    printf '[%d] %s%s ... ' "$step" "${name:+($name) }" "$label" >&2
    line=$("$load" "$@" --label "$label" --note "$note" --ca-cert "${ca[$side]}" --timeout "$timeout") || rc=$?
    if [ -z "$line" ]; then
        line="{\"scenario\":\"$label\",\"errors\":1,\"first_error\":\"mailroom-load exited with $rc and no result\"}"
    fi
    echo "$line" >>"${results[$side]}"
    printf '%s %s, p99 %s ms, errors %s\n' \
        "$(sed -n 's/.*"rate":\([0-9.]*\).*/\1/p' <<<"$line")" "$(sed -n 's/.*"unit":"\([^"]*\)".*/\1/p' <<<"$line")" \
        "$(sed -n 's/.*"p99_ms":\([0-9.]*\).*/\1/p' <<<"$line")" "$(sed -n 's/.*"errors":\([0-9]*\).*/\1/p' <<<"$line")" >&2
    if [ $rc != 0 ]; then
        failures=$((failures + 1))
        echo "    $(sed -n 's/.*"first_error":\("[^"]*"\).*/\1/p' <<<"$line")" >&2
    fi
}
# Runs a scenario `runs` times on every side, the sides taking turns so
# that a change in the machine's load meanwhile touches both alike. The
# arguments may name the side's servers as @SMTPD_PORT@, @SMTPD_PID@,
# @WEBD_PORT@, @WEBD_PID@, @IMAPD_PORT@ (STARTTLS) and @IMAPD_PID@.
repeat() { # LABEL NOTE MODE ARGS...
    local i side arg args
    for i in $(seq 1 "$runs"); do
        for side in $(seq 0 $((sides - 1))); do
            args=()
            for arg in "${@:3}"; do
                arg=${arg//@SMTPD_PORT@/${smtpd_port[$side]}}
                arg=${arg//@SMTPD_PID@/${smtpd_pid[$side]}}
                arg=${arg//@WEBD_PORT@/${webd_port[$side]}}
                arg=${arg//@WEBD_PID@/${webd_pid[$side]}}
                arg=${arg//@IMAPD_PORT@/${imapd_port[$side]:-}}
                arg=${arg//@IMAPD_PID@/${imapd_pid[$side]:-}}
                args+=("$arg")
            done
            run "$side" "$1" "$2" "${args[@]}"
        done
    done
}

for side in $(seq 0 $((sides - 1))); do
    start_smtpd "$side"
    start_webd "$side"
    [ $imap = 0 ] || start_imapd "$side"
done
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
smtp=(smtp --port @SMTPD_PORT@ --server-pid @SMTPD_PID@ --starttls)

repeat "smtp 1 KB, $small_conns conns x $small_msgs" "≥ 10,500 msg/s, p99 ≤ 20 ms" "${smtp[@]}" --auth "bench:$password" \
    --connections $small_conns --messages $small_msgs --size 1024
repeat "smtp 1 KB, $small_conns conns x $small_msgs, PIPELINING" "(MAIL, RCPT, DATA sent together)" \
    "${smtp[@]}" --auth "bench:$password" --pipelining --connections $small_conns --messages $small_msgs --size 1024
repeat "smtp 64 KB, $big_conns conns x $big_msgs" "≥ 4,000 msg/s" "${smtp[@]}" --auth "bench:$password" \
    --connections $big_conns --messages $big_msgs --size 65536
repeat "smtp 1 KB, 1 per conn, $onepc_conns at a time, $onepc_total" "≥ 1,000 msg/s" "${smtp[@]}" --auth "bench:$password" \
    --one-per-connection --connections $onepc_conns --total $onepc_total --size 1024
repeat "same, AUTH hash 1,000 iterations" "(not a target: PBKDF2 left out)" "${smtp[@]}" \
    --auth "benchfast:$password" --to "bench@project.com" \
    --one-per-connection --connections $onepc_conns --total $onepc_total --size 1024

# The smtp runs above filled bench's inbox (thousands of messages in the full
# matrix); listings read its newest 50.
stored=$("$bin_dir/mailroomctl" --data-dir "${data[$((sides - 1))]}" stats 2>/dev/null | sed -n 's/^messages: *//p' || true)
echo "the store holds ${stored:-?} messages (bench's inbox and sent folder share them)" >&2
web=(web --port @WEBD_PORT@ --server-pid @WEBD_PID@ --user bench --password "$password" --connections $web_conns)
repeat "web newest 50, $web_conns keep-alive conns" "≥ 4,000 listings/s" "${web[@]}" --list-only --requests $web_list_requests
repeat "web newest 50 + one message, in turn" "" "${web[@]}" --requests $web_mixed_requests
# Light requests (/healthz, benchfast's small inbox listing, each every
# 20 ms) while connections list bench's newest 500 back to back: one slow
# request may hold up only its own connection.
repeat "web light requests while $latency_conns conns list 500" "light p99 < 100 ms" web-latency \
    --port @WEBD_PORT@ --server-pid @WEBD_PID@ --user bench --password "$password" \
    --light-user benchfast --light-password "$password" --connections $latency_conns --limit 500 \
    --interval 20 --duration $latency_seconds

# IMAP: benchimap's inbox filled through smtpd (2 KB messages), then C
# connections go round SELECT, FETCH of the newest 20 headers, FETCH of one
# message, STORE \Seen, APPEND (flagged \Deleted) and UID EXPUNGE of it,
# which keeps the inbox at its size.
if [ $imap = 1 ]; then
    for side in $(seq 0 $((sides - 1))); do
        "$load" smtp --port "${smtpd_port[$side]}" --starttls --auth "benchimap:$password" --ca-cert "${ca[$side]}" \
            --connections 10 --messages $((imap_fill / 10)) --size 2048 >/dev/null || die "filling benchimap's inbox failed"
    done
    repeat "imap mixed, $imap_conns conns, inbox of $imap_fill" "(op/s; p50/p99 per operation in the JSON)" imap \
        --port @IMAPD_PORT@ --server-pid @IMAPD_PID@ --user benchimap --password "$password" \
        --connections $imap_conns --requests $imap_ops
fi

# Idle connections against a fresh server each time, so that its RSS before
# is not a heap already grown by the runs above.
for i in $(seq 1 "$runs"); do
    for side in $(seq 0 $((sides - 1))); do
        stop_server "${smtpd_pid[$side]}"
        start_smtpd "$side"
        run "$side" "idle TLS, $idle_conns conns held ${idle_hold} s" "≤ 64 KiB/conn" idle --port "${smtpd_port[$side]}" \
            --server-pid "${smtpd_pid[$side]}" --connections "$idle_conns" --hold "$idle_hold"
        [ $imap = 1 ] || continue
        # Rate: connections opened a second; p50/p99: an APPEND to EXISTS on all of them.
        stop_server "${imapd_pid[$side]}"
        start_imapd "$side"
        run "$side" "imap IDLE, $idle_conns conns, 5 messages" "≤ 64 KiB/conn" imap-idle --tls \
            --port "${imapd_tls_port[$side]}" --server-pid "${imapd_pid[$side]}" --user benchidle \
            --password "$password" --connections "$idle_conns" --rounds 5
    done
done

# ------------------------------------------------------------------ report
# Server log lines other than the routine ones: errors, warnings, stalls.
# Numbers become N so that alike lines count together.
unusual=$(cat "$work"/smtpd.*.log "$work"/webd.*.log "$work"/imapd.*.log 2>/dev/null | grep -v -E \
    -e 'listening on|connected|disconnected|closing|authenticated as|delivered to|shutting down|logged in' \
    -e 'appended [0-9]+ messages? to folder' \
    -e ' (GET|POST|PUT|PATCH|DELETE) [^ ]+ 2[0-9][0-9] ' \
    | sed -E 's/[0-9]+/N/g' | sort | uniq -c | sort -rn | head -n 10 || true)
if [ -n "$unusual" ]; then
    echo "server log lines other than connection and delivery events (count, line):" >&2
    echo "$unusual" >&2
fi

# The sources a side's executables were built from, when their build tree
# says (build-commit.sh leaves the commit in .mailroom-commit).
describe_sources() { # BIN_DIR
    local src commit dirty
    src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$1/../CMakeCache.txt" 2>/dev/null || true)
    [ -n "$src" ] || src=$root
    if [ -f "$src/.mailroom-commit" ]; then
        commit="$(cut -c1-7 "$src/.mailroom-commit") (git archive)"
    elif commit=$(git -C "$src" rev-parse --short HEAD 2>/dev/null); then
        dirty=$(git -C "$src" status --porcelain --untracked-files=no 2>/dev/null | grep -vc ' bench/' || true)
        [ "${dirty:-0}" -gt 0 ] && commit="$commit + $dirty modified files"
    else
        commit="? ($src is not a git checkout)"
    fi
    echo "sources $src (now at commit $commit); executables in $1"
}
echo "### Mailroom load matrix ($([ $quick = 1 ] && echo quick || echo full), $runs run(s) each, medians)"
echo
echo "$started; $(nproc) CPUs, Linux $(uname -r); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
for side in $(seq 0 $((sides - 1))); do
    echo
    [ "$sides" = 1 ] || echo "#### ${side_names[$side]}"
    [ "$sides" = 1 ] || echo
    echo "$(describe_sources "${bin_dirs[$side]}")"
    echo
    "$load" table "${results[$side]}"
done
if [ "$sides" = 2 ]; then
    echo
    echo "#### before → after (driven by $load)"
    echo
    "$load" compare "${results[0]}" "${results[1]}"
fi
echo
for side in $(seq 0 $((sides - 1))); do
    [ "$sides" = 1 ] || echo "# ${side_names[$side]}"
    cat "${results[$side]}"
done
if [ -n "$out" ]; then
    for side in $(seq 0 $((sides - 1))); do
        [ "$sides" = 1 ] || echo "# ${side_names[$side]}"
        cat "${results[$side]}"
    done >"$out"
fi

[ $failures = 0 ] || { echo "run-bench.sh: $failures run(s) reported errors" >&2; exit 1; }
