#!/usr/bin/env bash
# The README's run command: install what is missing, build, prepare a data
# directory (database and certificate), start Mailroom's servers (SMTP,
# HTTPS, POP3, IMAP) and then the desktop client pointed at them. Without a display it runs the servers
# only and says how to connect. Ctrl-C (or closing the client) stops all.
#   MAILROOM_DATA_DIR  data directory (default ./mailroom-data)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
data_dir=${MAILROOM_DATA_DIR:-./mailroom-data}
build/bin/mailroomctl --data-dir "$data_dir" init
cert="$data_dir/tls/cert.pem"

build/bin/mailroom-smtpd --data-dir "$data_dir" --listen 127.0.0.1:8025 --listen-tls 127.0.0.1:8465 &
smtpd=$!
build/bin/mailroom-webd --data-dir "$data_dir" --listen 127.0.0.1:9999 &
webd=$!
build/bin/mailroom-pop3d --data-dir "$data_dir" --listen 127.0.0.1:8110 --listen-tls 127.0.0.1:8995 &
pop3d=$!
build/bin/mailroom-imapd --data-dir "$data_dir" --listen 127.0.0.1:8143 --listen-tls 127.0.0.1:8993 &
imapd=$!
pids=("$smtpd" "$webd" "$pop3d" "$imapd")
stop() { kill -TERM "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap 'stop; exit 130' INT TERM

# All listening, or one of them gave up (a port in use, a bad data dir).
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in $(seq 100); do
    listening 8025 && listening 9999 && listening 8110 && listening 8143 && break
    if ! kill -0 "$smtpd" 2>/dev/null || ! kill -0 "$webd" 2>/dev/null || ! kill -0 "$pop3d" 2>/dev/null \
        || ! kill -0 "$imapd" 2>/dev/null; then
        echo "run: a server did not start (see its message above)" >&2
        stop
        exit 1
    fi
    sleep 0.1
done

cat <<TEXT

Mailroom is running:
  mailroom-smtpd  127.0.0.1:8025 (STARTTLS) and 127.0.0.1:8465 (implicit TLS)
  mailroom-webd   https://127.0.0.1:9999
  mailroom-pop3d  127.0.0.1:8110 (STLS) and 127.0.0.1:8995 (implicit TLS)
  mailroom-imapd  127.0.0.1:8143 (STARTTLS) and 127.0.0.1:8993 (implicit TLS)
  data            $data_dir (certificate $cert)
TEXT

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || [ "${QT_QPA_PLATFORM:-}" = offscreen ]; then
    cat <<TEXT

Starting the desktop client. First time here? Click "Create an account…",
choose a user name and a password, and you are logged in; press Ctrl+N,
write to your own name, Ctrl+Return sends, F5 shows it in your inbox.
Closing the client (or Ctrl-C here) stops the servers too.
TEXT
    build/bin/mailroom --smtp 127.0.0.1:8025 --web 127.0.0.1:9999 --ca-cert "$cert" &
    client=$!
    pids+=("$client")
    # When any of them ends, the others stop.
    wait -n || true
    stop
else
    cat <<TEXT

No display here, so no desktop client. To connect (use the name localhost:
some clients check only the certificate's DNS names, not its IP addresses):
  - from a machine with a display:
      build/bin/mailroom --smtp localhost:8025 --web localhost:9999 --ca-cert $cert
  - add an account:   build/bin/mailroomctl --data-dir $data_dir add-user NAME
  - send with swaks:  swaks --server localhost:8025 -tls --tls-verify --tls-ca-path $cert --auth PLAIN \\
                        --auth-user NAME --auth-password PASSWORD --from NAME@project.com --to NAME@project.com
  - read with curl:   curl --cacert $cert https://localhost:9999/api/v1/session \\
                        -H 'Content-Type: application/json' -d '{"username":"NAME","password":"PASSWORD"}'
                      curl --ssl-reqd --cacert $cert pop3://localhost:8110/1 -u NAME:PASSWORD
                      curl --cacert $cert 'imaps://localhost:8993/INBOX;UID=1' -u NAME:PASSWORD
  - Thunderbird: see "Thunderbird" in README.md (IMAP localhost:8993 SSL/TLS, SMTP localhost:8465 SSL/TLS)
Ctrl-C stops the servers.
TEXT
    wait -n || true
    stop
fi
