#!/usr/bin/env bash
# Regenerates docs/screenshots/: every screen of the desktop client rendered
# headless against real server code with a demo account and demo messages.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
runtime=$(mktemp -d)
trap 'rm -rf "$runtime"' EXIT
XDG_RUNTIME_DIR=$runtime QT_QPA_PLATFORM=offscreen QT_LOGGING_RULES="mailroom.*.info=false" \
    build/bin/mailroom-screenshots --out docs/screenshots
