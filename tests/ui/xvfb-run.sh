#!/usr/bin/env bash
# Runs a command on a private X server (Xvfb) with Qt's xcb platform, as on
# a person's desktop. Some QML warnings only show there: the X11 keyboard
# scheme binds more keys to the standard shortcuts than the offscreen
# platform does (Delete is also Ctrl+D), for one. Xvfb picks a free display
# itself (-displayfd) and goes when the command ends.
set -euo pipefail
fifo=$(mktemp -u)
mkfifo "$fifo"
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$fifo" 2>/dev/null &
xvfb=$!
trap 'kill "$xvfb" 2>/dev/null || true; rm -f "$fifo"' EXIT
if ! read -r -t 20 display <"$fifo"; then
    echo "xvfb-run.sh: Xvfb did not start" >&2
    exit 2
fi
# Software rendering: no GPU here, and none needed to find warnings.
DISPLAY=":$display" QT_QPA_PLATFORM=xcb QT_QUICK_BACKEND=software "$@"
