"""The pieces the fault and attack tests (tests/servers/resilience/) share:
a data directory with accounts, the three servers as child processes whose
logs are read by a thread, and byte-level SMTP, POP3 and HTTPS clients that
interpret nothing they are not asked to.

Standard library only. Every server listens on 127.0.0.1 port 0 and says
where in its log ("listening on 127.0.0.1:PORT (STARTTLS|implicit TLS|HTTPS)").

The database: by default the SQLite file DATA/mailroom.db that the servers
find in their data directory. In the suite's postgres runs ctest sets
MAILROOM_TEST_POSTGRES to the state directory of throwaway_postgres.py;
then every TestDatabase (and so every Deployment) is a fresh database on
that throw-away server, passed to mailroomctl and the servers with
--database and --database-password-file, and dropped again by cleanup().
Queries go through psql there (no driver beyond the standard library), with
the rows converted to what sqlite3 returns: ints as int, bytea as bytes."""

import argparse
import base64
import http.client
import itertools
import json
import math
import os
import pathlib
import re
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HOST = "127.0.0.1"
DOMAIN = "project.com"
HOSTNAME = "localhost"
ITERATIONS = "1000"  # tests only: production never lowers it
START_TIMEOUT = 30
POSTGRES_VARIABLE = "MAILROOM_TEST_POSTGRES"
PSQL_TIMEOUT = 120  # seconds; the machine may be busy with niced fuzzers

SUPPORT = os.path.dirname(os.path.abspath(__file__))
if SUPPORT not in sys.path:
    sys.path.insert(0, SUPPORT)
import throwaway_postgres  # noqa: E402  (beside this file)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for process {pid}")


def query_database(database, sql, params=()):
    """Rows of one query on the SQLite file, opened read-only beside the servers."""
    uri = pathlib.Path(database).as_uri() + "?mode=ro"
    connection = sqlite3.connect(uri, uri=True, timeout=30)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


# ---------------------------------------------------------------- PostgreSQL

def postgres_state():
    """The throw-away server's state directory in a postgres run, else None."""
    return os.environ.get(POSTGRES_VARIABLE) or None


def engine():
    """"postgresql" in a postgres run (MAILROOM_TEST_POSTGRES set), else "sqlite"."""
    return "postgresql" if postgres_state() else "sqlite"


def sql_literal(value):
    """value as a PostgreSQL literal, as sqlite3 would bind it: None NULL, bool
    and int as integers, str quoted ('' doubled; standard_conforming_strings,
    on by default, keeps backslashes literal), bytes as bytea."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value) if value >= 0 else f"({value})"  # never "- -1", a comment
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"no SQL literal for {value!r}")
        return repr(value) if value >= 0 else f"({value!r})"
    if isinstance(value, str):
        if "\0" in value:
            raise ValueError("PostgreSQL text cannot hold a NUL character")
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "'\\x" + bytes(value).hex() + "'::bytea"
    raise TypeError(f"no SQL literal for a {type(value).__name__}")


def bind_parameters(sql, params):
    """sql with each ? outside quotes and comments replaced by the literal of
    the next parameter (sqlite3's qmark style); the counts must match."""
    params = list(params)
    out, used, i, n = [], 0, 0, len(sql)
    while i < n:
        char = sql[i]
        if char in ("'", '"'):
            end = i + 1
            while end < n:
                if sql[end] == char:
                    if end + 1 < n and sql[end + 1] == char:  # doubled: still inside
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i:end + 1])
            i = end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end])
            i = end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(sql[i:end])
            i = end
        elif char == "?":
            if used >= len(params):
                raise ValueError(f"more ? placeholders than the {len(params)} parameters in {sql!r}")
            out.append(sql_literal(params[used]))
            used += 1
            i += 1
        else:
            out.append(char)
            i += 1
    if used != len(params):
        raise ValueError(f"{len(params)} parameters for {used} ? placeholders in {sql!r}")
    return "".join(out)


def _psql(state_dir, database, script, quiet=True):
    """stdout of psql running script (stdin) over TCP with the throw-away server's password."""
    url = urllib.parse.urlsplit(throwaway_postgres.read_url(state_dir))
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    environment.update(PGPASSWORD=throwaway_postgres.read_password(state_dir), PGCONNECT_TIMEOUT="10",
                       PGCLIENTENCODING="UTF8", LC_ALL="C")
    argv = [throwaway_postgres._psql_binary(), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-w",
            "-h", url.hostname, "-p", str(url.port), "-U", url.username, "-d", database, "-f", "-"]
    if quiet:
        argv.insert(2, "-q")
    result = subprocess.run(argv, input=script, capture_output=True, encoding="utf-8", errors="replace",
                            env=environment, timeout=PSQL_TIMEOUT)
    if result.returncode != 0:
        raise AssertionError(f"psql on database {database}: exit code {result.returncode}: "
                             f"{result.stderr.strip()}\nSQL: {script[:2000]}")
    return result.stdout


def _statement(sql, params):
    sql = bind_parameters(sql, params).strip()
    while sql.endswith(";"):
        sql = sql[:-1].rstrip()
    return sql


def _postgres_value(value, type_name):
    if value is None:
        return None
    if type_name == "bytea":
        return bytes.fromhex(value[2:])  # psql and json: "\x" and hex digits
    if type_name in ("smallint", "integer", "bigint") and not isinstance(value, int):
        return int(value)
    if type_name == "numeric" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# What PRAGMA integrity_check looks at that PostgreSQL could get wrong here:
# every row a reference points at exists. "ok" when so, as SQLite says it.
POSTGRES_INTEGRITY_CHECK = """
SELECT problem FROM (
  SELECT 'mailbox entry ' || e.id || ' without its message ' || e.message_id AS problem, 1 AS o, e.id AS k
    FROM mailbox_entries e LEFT JOIN messages m ON m.id = e.message_id WHERE m.id IS NULL
  UNION ALL
  SELECT 'mailbox entry ' || e.id || ' without its owner ' || e.owner_id, 2, e.id
    FROM mailbox_entries e LEFT JOIN accounts a ON a.id = e.owner_id WHERE a.id IS NULL
  UNION ALL
  SELECT 'token of account ' || t.account_id || ' without its account', 3, t.account_id
    FROM api_tokens t LEFT JOIN accounts a ON a.id = t.account_id WHERE a.id IS NULL
  UNION ALL
  SELECT 'mailbox entry ' || e.id || ' outside a folder of its owner', 4, e.id
    FROM mailbox_entries e LEFT JOIN folders f ON f.id = e.folder_id AND f.owner_id = e.owner_id WHERE f.id IS NULL
  UNION ALL
  SELECT 'ok', 5, 0
) checks ORDER BY o, k"""


def query_postgres(state_dir, database, sql, params=()):
    """Rows of one statement on a database of the throw-away server, as
    query_database returns them from SQLite: a list of tuples, integers as
    int, bytea as bytes, NULL as None. ? placeholders take params as
    literals. A statement that returns no rows (UPDATE without RETURNING, ...)
    returns []. PRAGMA integrity_check becomes its PostgreSQL counterpart
    (POSTGRES_INTEGRITY_CHECK): [("ok",)] when every reference holds."""
    if re.fullmatch(r"\s*PRAGMA\s+integrity_check\s*;?\s*", sql, re.IGNORECASE):
        problems = [row for row in query_postgres(state_dir, database, POSTGRES_INTEGRITY_CHECK)]
        return problems if len(problems) == 1 else problems[:-1]
    statement = _statement(sql, params)
    if not (re.match(r"(?i)\s*(select|with|values|table)\b", statement)
            or re.search(r"(?i)\breturning\b", statement)):
        _psql(state_dir, database, statement + ";\n")
        return []
    marker = "mailroom-harness-" + os.urandom(8).hex()
    # \gdesc names each column's type without running the statement; then
    # the rows as one JSON array (json_agg keeps the statement's order).
    script = (f"{statement}\n\\gdesc\n\\echo {marker}\n"
              f"WITH mailroom_harness_rows AS (\n{statement}\n)\n"
              f"SELECT json_agg(mailroom_harness_rows) FROM mailroom_harness_rows;\n")
    output = _psql(state_dir, database, script)
    head, found, tail = output.partition(marker + "\n")
    if not found:
        raise AssertionError(f"psql: no marker in its output: {output[:2000]!r}")
    types = [line.rsplit("|", 1)[1] for line in head.splitlines() if "|" in line]
    text = tail.strip()
    if not text:
        return []
    rows = json.loads(text, object_pairs_hook=lambda pairs: pairs)
    return [tuple(_postgres_value(value, types[index] if index < len(types) else None)
                  for index, (_, value) in enumerate(row)) for row in rows]


def execute_postgres(state_dir, database, sql, params=()):
    """Runs one data-changing statement; the number of rows it changed."""
    output = _psql(state_dir, database, _statement(sql, params) + ";\n", quiet=False)
    tags = [line for line in output.splitlines() if re.fullmatch(r"[A-Z]+( \d+)+", line.strip())]
    if not tags:
        raise AssertionError(f"psql: no command tag in {output[:2000]!r}")
    return int(tags[-1].split()[-1])


_database_numbers = itertools.count()


class TestDatabase:
    """The database of one data directory's servers. SQLite: the file
    DATA/mailroom.db, which the servers find by themselves (args() is empty).
    PostgreSQL (MAILROOM_TEST_POSTGRES set): a database made for it on the
    throw-away server, named mailroom_py_<pid>_<n>; args() names it to
    mailroomctl and the servers; drop() removes it (WITH (FORCE), so servers
    still connected do not stop it)."""

    __test__ = False  # not a unittest case, whatever a collector thinks

    def __init__(self, data_dir, prefix="mailroom_py"):
        self.state = postgres_state()
        self.engine = "postgresql" if self.state else "sqlite"
        self.path = os.path.join(data_dir, "mailroom.db")
        self.name = None
        self.password_file = None
        self.url = None
        self.created = False
        if self.state:
            self.name = f"{prefix}_{os.getpid()}_{next(_database_numbers)}"
            admin = urllib.parse.urlsplit(throwaway_postgres.read_url(self.state))
            self.url = f"postgresql://{admin.username}@{admin.hostname}:{admin.port}/{self.name}"
            self.password_file = os.path.join(os.path.abspath(self.state), "password")
            try:
                throwaway_postgres.createdb(self.state, self.name)
            except throwaway_postgres.PostgresError as error:
                raise AssertionError(f"cannot create the test database {self.name} on the throw-away PostgreSQL "
                                     f"server of {self.state}: {error}") from error
            self.created = True

    @property
    def postgresql(self):
        return self.engine == "postgresql"

    def args(self):
        """For mailroomctl's and every server's command line."""
        if not self.postgresql:
            return []
        return ["--database", self.url, "--database-password-file", self.password_file]

    def query(self, sql, params=()):
        """Rows of one query (sqlite3's ? placeholders on both engines)."""
        if not self.postgresql:
            return query_database(self.path, sql, params)
        return query_postgres(self.state, self.name, sql, params)

    def execute(self, sql, params=()):
        """One data-changing statement, committed at once: the rows it changed."""
        if not self.postgresql:
            connection = sqlite3.connect(self.path, timeout=30)
            try:
                with connection:
                    return connection.execute(sql, params).rowcount
            finally:
                connection.close()
        return execute_postgres(self.state, self.name, sql, params)

    def integrity_check(self):
        """[("ok",)] when the database is consistent (PRAGMA integrity_check
        on SQLite; references on PostgreSQL)."""
        return self.query("PRAGMA integrity_check")

    def drop(self):
        """PostgreSQL: drops the database; never raises (the server may be gone)."""
        if self.created:
            try:
                throwaway_postgres.dropdb(self.state, self.name)
                self.created = False
            except (throwaway_postgres.PostgresError, OSError) as error:
                print(f"mailroom_harness: could not drop the test database {self.name}: {error}", file=sys.stderr)


class Daemon:
    """One server process; its stderr read by a thread; the ports it logs."""

    LISTENING = re.compile(r"listening on (\S+):(\d+) \((STARTTLS|implicit TLS|HTTPS)\)")

    def __init__(self, name, argv, listeners, env=None):
        self.name = name
        self.argv = argv
        self.lines = []
        self.ports = {}
        self.changed = threading.Condition()
        self.terminating = False
        environment = dict(os.environ if env is None else env)
        environment["QT_LOGGING_RULES"] = "mailroom.*.info=true"  # the "listening on" lines are info
        environment.pop("QT_MESSAGE_PATTERN", None)
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, env=environment)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        deadline = time.monotonic() + START_TIMEOUT
        with self.changed:
            while len(self.ports) < listeners:
                if self.process.poll() is not None:
                    self.changed.wait(1)
                    raise AssertionError(f"{name} exited with {self.process.returncode} before listening:\n"
                                         f"{self.log_text()}")
                if time.monotonic() > deadline:
                    self.kill()
                    raise AssertionError(f"{name} did not log {listeners} 'listening on' lines within "
                                         f"{START_TIMEOUT} s:\n{self.log_text()}")
                self.changed.wait(0.1)
        self.port = self.ports.get("STARTTLS") or self.ports.get("HTTPS")
        self.tls_port = self.ports.get("implicit TLS")

    def _read(self):
        for raw in self.process.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.changed:
                self.lines.append(line)
                match = self.LISTENING.search(line)
                if match:
                    self.ports[match.group(3)] = int(match.group(2))
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    @property
    def pid(self):
        return self.process.pid

    def running(self):
        return self.process.poll() is None

    def rss_kib(self):
        return rss_kib(self.process.pid)

    def log_text(self, last=None):
        with self.changed:
            return "\n".join(self.lines if last is None else self.lines[-last:])

    def log_size(self):
        with self.changed:
            return len(self.lines)

    def wait_for_log(self, pattern, timeout=5.0, start=0):
        """True once a log line from index start on matches pattern."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                if any(regex.search(line) for line in self.lines[start:]):
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.changed.wait(remaining)

    def signal(self, number):
        if self.running():
            self.process.send_signal(number)
            # A second SIGTERM or SIGINT is the operator insisting: the servers then exit at once.
            self.terminating = self.terminating or number in (signal.SIGTERM, signal.SIGINT)

    def stop(self, timeout=30):
        """SIGTERM; the exit code, or None when it had to be killed."""
        if not self.running():
            self._finish()
            return self.process.returncode
        if not self.terminating:
            self.signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        self._finish()
        return code

    def kill(self):
        """SIGKILL: no chance to clean up; the exit code."""
        if self.running():
            self.process.kill()
        self.process.wait()
        self._finish()
        return self.process.returncode

    def _finish(self):
        self.reader.join(5)
        if not self.reader.is_alive():
            self.process.stderr.close()


class Deployment:
    """A data directory with accounts (mailroomctl init and add-user) and the
    servers started on it. cleanup() kills whatever still runs."""

    def __init__(self, binaries, users, prefix="mailroom-", data_dir=None, iterations=ITERATIONS):
        self.binaries = binaries  # {"smtpd": path, "webd": path, "pop3d": path, "ctl": path}
        self.directory = tempfile.mkdtemp(prefix=prefix)
        self.data = data_dir or os.path.join(self.directory, "data")
        self.iterations = iterations
        self.cafile = os.path.join(self.data, "tls", "cert.pem")
        self.passwords = {}
        self.servers = []
        self.db = None
        try:
            self.db = TestDatabase(self.data)
            # The SQLite file; None in a postgres run (use query(), db).
            self.database = None if self.db.postgresql else self.db.path
            self.ctl("init")
            for name, password in users.items():
                self.add_user(name, password)
        except BaseException:
            self.cleanup()
            raise

    def engine(self):
        return self.db.engine

    def common_args(self):
        return ["--data-dir", self.data, "--hostname", HOSTNAME, "--pbkdf2-iterations", self.iterations,
                *self.db.args()]

    def ctl(self, *args, input=None):
        result = subprocess.run([self.binaries["ctl"], *self.common_args(), *args], input=input,
                                capture_output=True, timeout=120)
        if result.returncode != 0:
            raise AssertionError(f"mailroomctl {' '.join(args)}: exit code {result.returncode}: {result.stderr!r}")
        return result.stdout

    def add_user(self, name, password):
        self.ctl("add-user", name, input=(password + "\n").encode())
        self.passwords[name] = password

    def start(self, kind, *extra, listeners=None):
        """kind: smtpd or pop3d (STARTTLS and implicit TLS listeners) or webd (HTTPS)."""
        argv = [self.binaries[kind], *self.common_args(), "--listen", f"{HOST}:0"]
        if kind != "webd":
            argv += ["--listen-tls", f"{HOST}:0"]
        daemon = Daemon(f"mailroom-{kind}", argv + list(extra), listeners or (1 if kind == "webd" else 2))
        self.servers.append(daemon)
        return daemon

    def context(self):
        """A verifying TLS client context: the data directory's certificate, host name checked."""
        return ssl.create_default_context(cafile=self.cafile)

    def query(self, sql, params=()):
        if not self.db.postgresql:
            return query_database(self.database, sql, params)
        return self.db.query(sql, params)

    def integrity_check(self):
        return self.db.integrity_check()

    def cleanup(self):
        for server in self.servers:
            server.kill()
        if self.db is not None:
            self.db.drop()
        shutil.rmtree(self.directory, ignore_errors=True)


class LineClient:
    """Lines over a plain or TLS socket, optionally from a chosen source address
    (any 127.x.y.z is this machine, and each is a client address of its own)."""

    def __init__(self, port, context=None, source=None, timeout=30):
        self.sock = socket.create_connection((HOST, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        if context is not None:
            self.sock = context.wrap_socket(self.sock, server_hostname=HOSTNAME)
        self.buffer = b""

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        """The next line without its CRLF, or None at the end of the stream."""
        while b"\n" not in self.buffer:
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buffer += data
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def start_tls(self, context):
        self.sock = context.wrap_socket(self.sock, server_hostname=HOSTNAME)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class SmtpClient(LineClient):
    def reply(self):
        """(code, all lines joined), or (None, text so far) at the end of the stream."""
        lines = []
        while True:
            line = self.line()
            if line is None:
                return None, "\n".join(lines)
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                code = int(line[:3]) if line[:3].isdigit() else None
                return code, "\n".join(lines)

    def command(self, text, expect=None):
        self.send((text if isinstance(text, bytes) else text.encode()) + b"\r\n")
        code, reply = self.reply()
        if expect is not None and code != expect:
            raise AssertionError(f"{text!r}: expected {expect}, got {reply!r}")
        return code, reply

    def hello(self, context):
        """Greeting, EHLO, STARTTLS, EHLO."""
        code, reply = self.reply()
        if code != 220:
            raise AssertionError(f"greeting: {reply!r}")
        self.command("EHLO client.test", expect=250)
        self.command("STARTTLS", expect=220)
        self.start_tls(context)
        self.command("EHLO client.test", expect=250)
        return self

    def auth_plain(self, username, password):
        token = base64.b64encode(b"\0" + username.encode() + b"\0" + password.encode()).decode()
        return self.command("AUTH PLAIN " + token)

    def send_message(self, sender, recipients, message):
        """MAIL, RCPT..., DATA with dot-stuffing: (code, reply) of the final answer,
        or of the first command refused."""
        code, reply = self.command(f"MAIL FROM:<{sender}>")
        if code != 250:
            return code, reply
        for recipient in recipients:
            code, reply = self.command(f"RCPT TO:<{recipient}>")
            if code != 250:
                return code, reply
        code, reply = self.command("DATA")
        if code != 354:
            return code, reply
        stuffed = re.sub(rb"(?m)^\.", b"..", message)
        if not stuffed.endswith(b"\r\n"):
            stuffed += b"\r\n"
        self.send(stuffed + b".\r\n")
        return self.reply()


class Pop3Client(LineClient):
    def command(self, text):
        self.send((text if isinstance(text, bytes) else text.encode()) + b"\r\n")
        return self.line()

    def multiline(self):
        lines = []
        while True:
            line = self.line()
            if line is None or line == ".":
                return lines
            lines.append(line[1:] if line.startswith("..") else line)


def plain_message(sender, recipients, subject, body="Hello.\r\n", extra_headers=()):
    head = [f"From: {sender}", f"To: {', '.join(recipients)}", f"Subject: {subject}", *extra_headers]
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode()


class Https:
    """The HTTPS API through http.client on one kept-alive connection."""

    def __init__(self, port, context, source=None, timeout=30):
        self.port = port
        self.context = context
        self.source = source
        self.timeout = timeout
        self.connection = None

    def _connect(self):
        self.connection = http.client.HTTPSConnection(HOST, self.port, context=self.context, timeout=self.timeout,
                                                      source_address=(self.source, 0) if self.source else None)

    def request(self, method, path, body=None, token=None, raw=None, headers=None):
        """(status, headers, body bytes); one reconnect when the server closed a kept-alive connection."""
        data = raw if body is None else json.dumps(body).encode()
        sent = dict(headers or {})
        if body is not None:
            sent.setdefault("Content-Type", "application/json")
        if token:
            sent["Authorization"] = "Bearer " + token
        for attempt in (1, 2):
            if self.connection is None:
                self._connect()
            try:
                self.connection.request(method, path, body=data, headers=sent)
                response = self.connection.getresponse()
                payload = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return response.status, response.headers, payload
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise

    def json(self, method, path, body=None, token=None):
        status, _, payload = self.request(method, path, body=body, token=token)
        return status, (json.loads(payload) if payload else None)

    def login(self, username, password):
        """(status, token or None)."""
        status, answer = self.json("POST", "/api/v1/session", {"username": username, "password": password})
        return status, (answer["token"] if status == 200 else None)

    def listing(self, token, folder="inbox", limit=500):
        """Every entry of a folder, newest first, through the pages."""
        entries, before = [], None
        while True:
            path = f"/api/v1/mailboxes/{folder}/messages?limit={limit}" + (f"&before={before}" if before else "")
            status, page = self.json("GET", path, token=token)
            if status != 200:
                raise AssertionError(f"GET {path}: {status} {page}")
            entries += page["messages"]
            before = page["nextBefore"]
            if before is None:
                return entries

    def raw(self, token, entry_id):
        status, _, payload = self.request("GET", f"/api/v1/messages/{entry_id}/raw", token=token)
        if status != 200:
            raise AssertionError(f"raw of {entry_id}: {status}")
        return payload

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def binaries_from_argv(argv):
    """--smtpd/--webd/--pop3d/--ctl PATH taken out of argv; the rest is for unittest."""
    parser = argparse.ArgumentParser()
    for kind in ("smtpd", "webd", "pop3d", "ctl"):
        parser.add_argument("--" + kind, required=True)
    known, rest = parser.parse_known_args(argv[1:])
    return vars(known), argv[:1] + rest


def huge_to_message(size, subject, sender="alice@" + "project.com"):
    """The security probe's message: a To: of short addresses ("1f@x",
    folded at about 990 octets) filling `size` octets, then a one-line
    body: (bytes, number of addresses)."""
    parts = [f"From: {sender}\r\nSubject: {subject}\r\nTo: ".encode()]
    total, column, count = len(parts[0]), 4, 0
    while total < size:
        address = b"%x@x" % count
        separator = b"," if count else b""
        if column + len(address) + 2 > 990:
            separator, column = b",\r\n ", 1
        parts += [separator, address]
        total += len(separator) + len(address)
        column += len(separator) + len(address)
        count += 1
    parts.append(b"\r\n\r\nbody\r\n")
    return b"".join(parts), count
