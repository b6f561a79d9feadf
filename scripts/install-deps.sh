#!/usr/bin/env bash
# Installs what building, running and testing Mailroom needs on Debian 12,
# and nothing when it is all there already (a few dpkg queries, well under a second).
set -euo pipefail

packages=(
    # build tools
    g++ cmake ninja-build pkg-config git ca-certificates
    # the sanitized build (scripts/build.sh --sanitize) and the fuzz targets: clang with its runtimes,
    # and llvm for llvm-symbolizer: without it sanitizer reports have no function names, and
    # tests/sanitizers/lsan.supp, which names Qt functions, cannot match
    clang libclang-rt-14-dev llvm
    # Qt 6.4 from Debian (each QML runtime module is its own package)
    qt6-base-dev qt6-declarative-dev libqt6sql6-sqlite
    # PostgreSQL storage (--database postgresql://...): Qt's driver, and the server and psql the
    # postgres runs of the tests start (tests/support/throwaway_postgres.py)
    libqt6sql6-psql postgresql postgresql-client
    qml6-module-qtquick qml6-module-qtquick-controls qml6-module-qtquick-templates
    qml6-module-qtquick-layouts qml6-module-qtquick-dialogs qml6-module-qtquick-window
    qml6-module-qtqml qml6-module-qtqml-models qml6-module-qtqml-workerscript
    qml6-module-qttest qml6-module-qt-labs-folderlistmodel
    # the client's text, also when rendered headless (screenshots, UI tests)
    fonts-dejavu-core
    # an X server for the UI test that runs the client's screens on the xcb platform, as on a desktop
    xvfb
    # certificate creation, and what the tests drive
    openssl python3 curl sqlite3
    # swaks needs Net::SSLeay for TLS: a recommendation, which --no-install-recommends skips
    swaks libnet-ssleay-perl
    # a POP3 retriever that writes mbox "From " lines from Return-Path
    getmail6
    # the IMAP synchronisers the tests drive (mbsync, offlineimap: every folder both ways into a Maildir)
    isync offlineimap3
)

missing=()
for package in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
    [ "$status" = installed ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages: ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
    exit 2
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
