#!/usr/bin/env python3
"""A throw-away PostgreSQL server for the test suite.

    throwaway_postgres.py start STATE_DIR
    throwaway_postgres.py stop STATE_DIR
    throwaway_postgres.py createdb STATE_DIR NAME
    throwaway_postgres.py dropdb STATE_DIR NAME

start leaves in STATE_DIR:
    url       postgresql://mailroom@127.0.0.1:PORT/postgres (no password in it)
    password  the password of the superuser mailroom (mode 0600)
    env       MAILROOM_TEST_POSTGRES_URL=... and MAILROOM_TEST_POSTGRES_PASSWORD_FILE=...,
              for `. STATE_DIR/env`
    server.log, initdb.log
The server listens on 127.0.0.1 only, with scram-sha-256 password
authentication; its unix socket is in a 0700 directory of the account that
runs it.

Importable too: start, stop, read_url, read_password, psql.

Standard library only. The server binaries come from the Debian package
postgresql (PostgreSQL 15 on Debian 12), psql from postgresql-client."""

import argparse
import glob
import os
import pwd
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

HOST = "127.0.0.1"
SUPERUSER = "mailroom"
PORT_ATTEMPTS = 5
PG_CTL_TIMEOUT = 60       # seconds; the machine may be busy with niced fuzzers
SOCKET_PATH_MAX = 107     # sizeof(sockaddr_un.sun_path) - 1 on Linux
SOCKET_NAME_MAX = len("/.s.PGSQL.65535")
TMP_PREFIX = "mrpg"       # short, so socket paths under /tmp fit; also marks dirs stop may delete
LOG_TAIL = 20

# Everything start may create in STATE_DIR: a non-empty directory holding
# anything else is not ours, and start refuses to delete it.
STATE_FILES = {"data", "socket", "url", "password", "env", "datadir", "tmpdirs",
               "server.log", "initdb.log"}

# The server is thrown away after the tests, so durability buys nothing and
# costs a lot of time on a busy machine.
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "64MB",
    "log_min_messages": "warning",
    # stderr goes to STATE_DIR/server.log, opened by us: the server's account
    # may not be allowed to open a file in STATE_DIR itself.
    "logging_collector": "off",
    "log_destination": "'stderr'",
}


class PostgresError(RuntimeError):
    pass


# ---------------------------------------------------------------- binaries

def _version_key(bindir):
    """/usr/lib/postgresql/15/bin -> (15,), so that 15 sorts above 9.6."""
    version = os.path.basename(os.path.dirname(bindir))
    return tuple(int(part) if part.isdigit() else -1 for part in version.split("."))


def _bindir_candidates():
    candidates = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            result = subprocess.run([pg_config, "--bindir"], stdin=subprocess.DEVNULL,
                                    capture_output=True, text=True, timeout=30)
            if result.returncode == 0 and result.stdout.strip():
                candidates.append(result.stdout.strip())
        except (OSError, subprocess.TimeoutExpired):
            pass
    # libpq-dev's pg_config answers even when no server is installed, so the
    # Debian layout is a fallback, not an alternative.
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    return candidates


def _bindir():
    for candidate in _bindir_candidates():
        if os.access(os.path.join(candidate, "initdb"), os.X_OK):
            return candidate
    raise PostgresError("throwaway_postgres: no initdb found (pg_config --bindir, "
                        "/usr/lib/postgresql/*/bin); install the Debian package postgresql")


def _psql_binary():
    for candidate in _bindir_candidates():
        path = os.path.join(candidate, "psql")
        if os.access(path, os.X_OK):
            return path
    path = shutil.which("psql")
    if path:
        return path
    raise PostgresError("throwaway_postgres: no psql found; install the Debian package postgresql-client")


def _environment():
    """Ours, minus PG* variables: PGDATA, PGPORT, PGSSLMODE, ... from the
    caller's shell would silently override what we pass on the command line."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    # Messages in English: start recognises "Address already in use".
    environment["LC_ALL"] = "C"
    return environment


def _run(argv, **kwargs):
    # cwd "/": the server's account may not be allowed into our working directory.
    return subprocess.run(argv, stdin=subprocess.DEVNULL, cwd="/", env=_environment(), **kwargs)


# ---------------------------------------------------------------- accounts

def _server_account():
    """The account to run initdb and postgres as, or None for ourselves.
    Both refuse to run as root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    raise PostgresError("throwaway_postgres: running as root, and there is no user postgres "
                        "or nobody to run the server as")


def _as(account, argv):
    if account is None:
        return argv
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    if not os.access(runuser, os.X_OK):
        raise PostgresError("throwaway_postgres: running as root needs runuser (Debian package util-linux)")
    return [runuser, "-u", account.pw_name, "--"] + argv


def _account_can_reach(account, directory):
    # Asking the account itself covers every ancestor's mode bits, ACLs and
    # mount options, which a look at the modes from here would not.
    result = _run(_as(account, ["test", "-x", directory]))
    return result.returncode == 0


def _owner_of(path):
    """The account to run pg_ctl as for an existing data directory."""
    if os.geteuid() != 0:
        return None
    uid = os.stat(path).st_uid
    return None if uid == 0 else pwd.getpwuid(uid)


def _give(account, path):
    if account is not None:
        os.chown(path, account.pw_uid, account.pw_gid)


# ---------------------------------------------------------------- state files

def _path(state_dir, name):
    return os.path.join(os.path.abspath(state_dir), name)


def _read(state_dir, name):
    with open(_path(state_dir, name)) as file:
        return file.read().strip()


def _write(state_dir, name, text, mode=0o644):
    path = _path(state_dir, name)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    os.chmod(path, mode)


def read_url(state_dir):
    return _read(state_dir, "url")


def read_password(state_dir):
    return _read(state_dir, "password")


def _data_dir(state_dir):
    try:
        return _read(state_dir, "datadir")
    except FileNotFoundError:
        return _path(state_dir, "data")


def _tmp_dirs(state_dir):
    try:
        lines = _read(state_dir, "tmpdirs").splitlines()
    except FileNotFoundError:
        return []
    # The file is only ever written by us, but it decides what gets deleted
    # recursively: accept nothing but what our mkdtemp calls could have made.
    return [line for line in lines
            if os.path.dirname(line) == "/tmp" and os.path.basename(line).startswith(TMP_PREFIX)]


def _tail(path, lines=LOG_TAIL):
    try:
        with open(path, errors="replace") as file:
            text = file.read().splitlines()[-lines:]
    except OSError:
        return ""
    return f"--- last {len(text)} lines of {path} ---\n" + "\n".join(text)


# ---------------------------------------------------------------- processes

def _postgres_alive(pid):
    """True while pid is a postgres process that has not exited. A zombie
    counts as gone: whoever inherited it may never reap it."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            stat = file.read()
    except OSError:
        return False
    comm = stat[stat.index("(") + 1:stat.rindex(")")]
    state = stat[stat.rindex(")") + 2:].split()[0]
    return comm.startswith("postgres") and state not in ("Z", "X")


def _postmaster_pid(data):
    try:
        with open(os.path.join(data, "postmaster.pid")) as file:
            pid = int(file.readline().strip())
    except (OSError, ValueError):
        return None
    if not _postgres_alive(pid):
        return None
    # A stale pid file (server killed with -9) may name a pid reused by
    # another server's process: the postmaster works in its data directory.
    try:
        if os.readlink(f"/proc/{pid}/cwd") != os.path.realpath(data):
            return None
    except OSError:
        pass
    return pid


def _wait_gone(pid, seconds):
    deadline = time.monotonic() + seconds
    while _postgres_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _children(pid):
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as file:
                stat = file.read()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
            children.append(int(entry))
    return children


def _kill(pid):
    """What pg_ctl stop could not do. SIGQUIT makes the postmaster take its
    children down with it. Failing that, SIGKILL to each of them: every
    backend leads its own process group (setsid), so killpg would miss them,
    and a busy backend may not notice the postmaster's death for a while."""
    try:
        os.kill(pid, signal.SIGQUIT)
    except ProcessLookupError:
        return
    if _wait_gone(pid, 10):
        return
    # Listed before the postmaster dies: afterwards they belong to init.
    for victim in _children(pid) + [pid]:
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if not _wait_gone(pid, 10):
        raise PostgresError(f"throwaway_postgres: postgres process {pid} survived SIGKILL")


def _stop_server(data):
    pid = _postmaster_pid(data)
    if pid is None:
        return
    try:
        pg_ctl = os.path.join(_bindir(), "pg_ctl")
        result = _run(_as(_owner_of(data), [pg_ctl, "-D", data, "-m", "fast", "-w",
                                             "-t", str(PG_CTL_TIMEOUT), "stop"]),
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stopped = result.returncode == 0 and _wait_gone(pid, 10)
    except (OSError, PostgresError):
        stopped = False
    if not stopped:
        _kill(pid)


# ---------------------------------------------------------------- start / stop

def _clear_stale(state_dir):
    if not os.path.lexists(state_dir):
        return
    if not os.path.isdir(state_dir) or os.path.islink(state_dir):
        raise PostgresError(f"throwaway_postgres: {state_dir} exists and is not a directory")
    strangers = set(os.listdir(state_dir)) - STATE_FILES
    if strangers:
        raise PostgresError(f"throwaway_postgres: {state_dir} holds {', '.join(sorted(strangers))}, "
                            "which start did not make; refusing to delete it")
    stop(state_dir)
    shutil.rmtree(state_dir)


def _locale():
    # C.UTF-8 makes upper()/lower() and regexes work on non-ASCII text;
    # glibc before 2.35 may not have it.
    try:
        result = _run(["locale", "-a"], capture_output=True, text=True, timeout=30)
        names = {name.lower().replace("-", "") for name in result.stdout.split()}
    except (OSError, subprocess.TimeoutExpired):
        names = set()
    return "C.UTF-8" if "c.utf8" in names else "C"


def _free_port():
    # Another process may take it before the server binds: start retries.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _lay_out(state_dir, account):
    """Creates the data and socket directories; returns both paths.
    Everything that must be removed later is recorded before it exists."""
    tmp_dirs = []

    def make_tmp():
        directory = tempfile.mkdtemp(prefix=TMP_PREFIX, dir="/tmp")
        tmp_dirs.append(directory)
        _write(state_dir, "tmpdirs", "".join(d + "\n" for d in tmp_dirs))
        _give(account, directory)
        return directory

    if account is None or _account_can_reach(account, state_dir):
        data = _path(state_dir, "data")
        socket_dir = _path(state_dir, "socket")
        if len(os.fsencode(socket_dir)) + SOCKET_NAME_MAX > SOCKET_PATH_MAX:
            socket_dir = make_tmp()
        else:
            os.mkdir(socket_dir, 0o700)
            _give(account, socket_dir)
    else:
        # e.g. STATE_DIR under /root, which postgres may not traverse.
        home = make_tmp()
        data = os.path.join(home, "data")
        socket_dir = home
    _write(state_dir, "datadir", data + "\n")
    os.mkdir(data, 0o700)
    _give(account, data)
    return data, socket_dir


def _initdb(state_dir, bindir, account, data, socket_dir, password):
    # The password reaches initdb through a file the account can read: the
    # socket directory is the one place that is both private and its own.
    descriptor, pwfile = tempfile.mkstemp(prefix="pw", dir=socket_dir)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(password + "\n")
        _give(account, pwfile)
        with open(_path(state_dir, "initdb.log"), "ab") as log:
            result = _run(_as(account, [
                os.path.join(bindir, "initdb"), "-D", data, "-U", SUPERUSER, f"--pwfile={pwfile}",
                # Local socket connections may trust: the socket directory is 0700.
                "--auth-host=scram-sha-256", "--auth-local=trust",
                "-E", "UTF8", f"--locale={_locale()}",
                "--no-sync",  # thrown away: no point waiting for the disk
            ]), stdout=log, stderr=subprocess.STDOUT, timeout=600)
    finally:
        os.unlink(pwfile)
    if result.returncode != 0:
        raise PostgresError(f"throwaway_postgres: initdb failed with exit code {result.returncode}")


# For measurements (bench/scaling.py): a commit waits for its disk flush, as
# on a real server, or the figures would flatter.
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on", "shared_buffers": "256MB"}


def _configure(data, account, port, socket_dir, durable=False):
    quoted = socket_dir.replace("'", "''")
    settings = dict(SETTINGS, port=str(port), unix_socket_directories=f"'{quoted}'")
    if durable:
        settings.update(DURABLE)
    path = os.path.join(data, "throwaway.conf")
    with open(path, "w") as file:
        file.write("# Written by tests/support/throwaway_postgres.py for every start attempt.\n")
        file.writelines(f"{name} = {value}\n" for name, value in settings.items())
    _give(account, path)
    conf = os.path.join(data, "postgresql.conf")
    with open(conf) as file:
        included = "include = 'throwaway.conf'" in file.read()
    if not included:
        with open(conf, "a") as file:
            file.write("\ninclude = 'throwaway.conf'\n")


def _start_server(state_dir, bindir, account, data, socket_dir, durable=False):
    """Returns the port the server listens on."""
    log_path = _path(state_dir, "server.log")
    for _ in range(PORT_ATTEMPTS):
        port = _free_port()
        _configure(data, account, port, socket_dir, durable)
        offset = os.path.getsize(log_path) if os.path.exists(log_path) else 0
        # Without -l, pg_ctl hands the postmaster its own stdout, a file we
        # opened: the server's account never needs to open anything in STATE_DIR.
        with open(log_path, "ab") as log:
            result = _run(_as(account, [os.path.join(bindir, "pg_ctl"), "-D", data, "-w",
                                        "-t", str(PG_CTL_TIMEOUT), "start"]),
                          stdout=log, stderr=subprocess.STDOUT)
        if result.returncode == 0:
            return port
        with open(log_path, errors="replace") as log:
            log.seek(offset)
            attempt = log.read()
        if "Address already in use" not in attempt:
            break
    raise PostgresError(f"throwaway_postgres: pg_ctl start failed with exit code {result.returncode}")


def start(state_dir, durable=False):
    """Starts a fresh server for STATE_DIR, replacing any earlier one;
    returns the one-line description start prints."""
    state_dir = os.path.abspath(state_dir)
    bindir = _bindir()
    account = _server_account()
    _clear_stale(state_dir)
    os.makedirs(state_dir, mode=0o755)
    log = _path(state_dir, "initdb.log")
    try:
        data, socket_dir = _lay_out(state_dir, account)
        password = secrets.token_urlsafe(24)
        _initdb(state_dir, bindir, account, data, socket_dir, password)
        log = _path(state_dir, "server.log")
        port = _start_server(state_dir, bindir, account, data, socket_dir, durable)
        url = f"postgresql://{SUPERUSER}@{HOST}:{port}/postgres"
        _write(state_dir, "password", password + "\n", mode=0o600)
        _write(state_dir, "url", url + "\n")
        _write(state_dir, "env",
               f"MAILROOM_TEST_POSTGRES_URL={shlex.quote(url)}\n"
               f"MAILROOM_TEST_POSTGRES_PASSWORD_FILE={shlex.quote(_path(state_dir, 'password'))}\n")
        # Proves the url and password work over TCP before anyone relies on them.
        version = psql(state_dir, "SHOW server_version").strip()
    except BaseException as error:
        # Never leave a server behind; the files stay for stop and for reading.
        _stop_server(_data_dir(state_dir))
        if not isinstance(error, Exception):
            raise
        message = str(error) if isinstance(error, PostgresError) else f"throwaway_postgres: {error}"
        raise PostgresError(message + "\n" + _tail(log)) from error
    return f"throwaway_postgres: PostgreSQL {version} on {HOST}:{port} ({state_dir})"


def stop(state_dir):
    """Stops the server of STATE_DIR, if any, and deletes its data. Keeps
    server.log and initdb.log; the connection files go with the server."""
    state_dir = os.path.abspath(state_dir)
    if not os.path.isdir(state_dir):
        return
    _stop_server(_data_dir(state_dir))
    shutil.rmtree(_path(state_dir, "data"), ignore_errors=True)
    shutil.rmtree(_path(state_dir, "socket"), ignore_errors=True)
    for directory in _tmp_dirs(state_dir):
        shutil.rmtree(directory, ignore_errors=True)
    for name in ("url", "password", "env", "datadir", "tmpdirs"):
        try:
            os.unlink(_path(state_dir, name))
        except FileNotFoundError:
            pass


def halt(state_dir):
    """Stops the server of STATE_DIR and keeps its data, as a database that
    goes down for a restart does; resume() starts it again."""
    _stop_server(_data_dir(os.path.abspath(state_dir)))


def resume(state_dir):
    """Starts a halted server again on its data and its port."""
    state_dir = os.path.abspath(state_dir)
    data = _data_dir(state_dir)
    with open(_path(state_dir, "server.log"), "ab") as log:
        result = _run(_as(_owner_of(data), [os.path.join(_bindir(), "pg_ctl"), "-D", data, "-w",
                                            "-t", str(PG_CTL_TIMEOUT), "start"]),
                      stdout=log, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise PostgresError(f"throwaway_postgres: pg_ctl start failed with exit code {result.returncode}\n"
                            + _tail(_path(state_dir, "server.log")))


# ---------------------------------------------------------------- SQL

def psql(state_dir, sql, database="postgres"):
    """stdout of one psql -c over TCP with the password; raises PostgresError
    when psql fails."""
    url = urllib.parse.urlsplit(read_url(state_dir))
    environment = _environment()
    environment["PGPASSWORD"] = read_password(state_dir)
    environment["PGCONNECT_TIMEOUT"] = "10"
    # Not derived from LC_ALL=C: results and messages are UTF-8 text.
    environment["PGCLIENTENCODING"] = "UTF8"
    result = subprocess.run(
        [_psql_binary(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
         "-w",  # never prompt for a password: fail instead
         "-h", url.hostname, "-p", str(url.port), "-U", url.username, "-d", database, "-c", sql],
        stdin=subprocess.DEVNULL, capture_output=True, encoding="utf-8", errors="replace",
        env=environment)
    if result.returncode != 0:
        raise PostgresError(f"throwaway_postgres: psql failed with exit code {result.returncode}: "
                            f"{result.stderr.strip()}")
    return result.stdout


def _identifier(name):
    return '"' + name.replace('"', '""') + '"'


def createdb(state_dir, name):
    psql(state_dir, f"CREATE DATABASE {_identifier(name)}")


def dropdb(state_dir, name):
    psql(state_dir, f"DROP DATABASE IF EXISTS {_identifier(name)} WITH (FORCE)")


# ---------------------------------------------------------------- command line

def main(argv=None):
    parser = argparse.ArgumentParser(description="Start and stop a throw-away PostgreSQL server "
                                                 "for the test suite.")
    commands = parser.add_subparsers(dest="command", required=True)
    starting = commands.add_parser("start", help="start a fresh server")
    starting.add_argument("state_dir")
    starting.add_argument("--durable", action="store_true", help="fsync and synchronous commits on (benchmarks)")
    commands.add_parser("stop", help="stop it and delete its data").add_argument("state_dir")
    for command in ("createdb", "dropdb"):
        sub = commands.add_parser(command, help=f"{command} NAME on the running server")
        sub.add_argument("state_dir")
        sub.add_argument("name")
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "start":
            print(start(arguments.state_dir, arguments.durable), flush=True)
        elif arguments.command == "stop":
            stop(arguments.state_dir)
        elif arguments.command == "createdb":
            createdb(arguments.state_dir, arguments.name)
        else:
            dropdb(arguments.state_dir, arguments.name)
    except PostgresError as error:
        print(error, file=sys.stderr)
        return 1
    except OSError as error:
        print(f"throwaway_postgres: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
