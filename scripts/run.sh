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
echo "Starting mailroom-smtpd: submission with STARTTLS on 127.0.0.1:8025, implicit TLS on 127.0.0.1:8465."
echo "The web and POP3 servers and the desktop client are not written yet (issues 5-8). Ctrl-C stops."
exec build/bin/mailroom-smtpd --data-dir "$data_dir" --listen 127.0.0.1:8025 --listen-tls 127.0.0.1:8465
