#!/usr/bin/env bash
# The README's run command: install what is missing, build, prepare a data
# directory (database and certificate) and start Mailroom's servers.
#   MAILROOM_DATA_DIR  data directory (default ./mailroom-data)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
data_dir=${MAILROOM_DATA_DIR:-./mailroom-data}
build/bin/mailroomctl --data-dir "$data_dir" init
echo
echo "Data directory $data_dir is ready. Add an account (in another terminal) with:"
echo "  build/bin/mailroomctl --data-dir $data_dir add-user NAME"
echo "Starting mailroom-smtpd (submission: STARTTLS on 127.0.0.1:8025, implicit TLS on 127.0.0.1:8465)"
echo "and mailroom-webd (HTTPS API on 127.0.0.1:9999). The POP3 server and the desktop client are not"
echo "written yet (issues 7 and 8). Ctrl-C stops both."
build/bin/mailroom-smtpd --data-dir "$data_dir" --listen 127.0.0.1:8025 --listen-tls 127.0.0.1:8465 &
smtpd=$!
build/bin/mailroom-webd --data-dir "$data_dir" --listen 127.0.0.1:9999 &
webd=$!
trap 'kill -TERM $smtpd $webd 2>/dev/null' INT TERM
# When either ends (Ctrl-C, or a start-up error such as a port in use), stop the other.
wait -n || true
kill -TERM $smtpd $webd 2>/dev/null || true
wait
