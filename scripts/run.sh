#!/usr/bin/env bash
# The README's run command: install what is missing, build, prepare a data
# directory (database and certificate) and start Mailroom.
#   MAILROOM_DATA_DIR  data directory (default ./mailroom-data)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
data_dir=${MAILROOM_DATA_DIR:-./mailroom-data}
build/bin/mailroomctl --data-dir "$data_dir" init
echo
echo "Data directory $data_dir is ready. Add an account with:"
echo "  build/bin/mailroomctl --data-dir $data_dir add-user NAME"
echo "The servers and the desktop client are not written yet (issues 4-8), so this stops here."
