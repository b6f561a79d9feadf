#!/usr/bin/env bash
# Builds the servers of one commit in a directory of its own, for
# run-bench.sh to compare against the working tree ("before and after" on
# the same machine in the same run):
#
#   bench/build-commit.sh COMMIT DIR [--jobs N]
#   bench/run-bench.sh --bin-dir DIR/build/bin --bin-dir build/bin
#
# The commit's files come from `git archive` (no worktree, no change to the
# checkout's git state) into DIR, built in DIR/build with the same options as
# a normal build. Only the executables the matrix needs from it are built
# (run-bench.sh drives both sides with the newest mailroom-load); the
# IMAP server when the commit has one.
# --jobs defaults to 1, to leave the machine to whatever else runs on it.
# Rerunning with the same COMMIT and DIR rebuilds only what is out of date.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "build-commit.sh: $*" >&2; exit 2; }

[ $# -ge 2 ] || die "usage: build-commit.sh COMMIT DIR [--jobs N]"
commit=$1 dir=$2 jobs=1
shift 2
while [ $# -gt 0 ]; do
    case $1 in
        --jobs) [ $# -ge 2 ] || die "--jobs needs a number"; jobs=$2; shift ;;
        *) die "unknown option '$1'" ;;
    esac
    shift
done
full=$(git -C "$root" rev-parse --verify "$commit^{commit}") || die "no commit '$commit' in $root"

mkdir -p "$dir"
stamp=$dir/.mailroom-commit
if [ "$(cat "$stamp" 2>/dev/null)" != "$full" ]; then
    # A directory holding another commit's files: start over rather than mix.
    if [ -e "$stamp" ]; then
        find "$dir" -mindepth 1 -maxdepth 1 ! -name build -exec rm -rf {} +
        rm -rf "$dir/build"
    fi
    git -C "$root" archive "$full" | tar -x -C "$dir"
    echo "$full" >"$stamp"
fi
if [ ! -f "$dir/build/CMakeCache.txt" ]; then
    cmake -S "$dir" -B "$dir/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAILROOM_WERROR=ON \
        -DMAILROOM_BENCH=ON >&2
fi
ninja -C "$dir/build" -j "$jobs" mailroom-smtpd mailroom-webd mailroomctl >&2
if ninja -C "$dir/build" -t targets all | grep -q '^mailroom-imapd:'; then
    ninja -C "$dir/build" -j "$jobs" mailroom-imapd >&2
fi
echo "$dir/build/bin"
