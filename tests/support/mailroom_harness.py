"""The pieces the fault and attack tests (tests/servers/resilience/) share:
a data directory with accounts, the three servers as child processes whose
logs are read by a thread, and byte-level SMTP, POP3 and HTTPS clients that
interpret nothing they are not asked to.

Standard library only. Every server listens on 127.0.0.1 port 0 and says
where in its log ("listening on 127.0.0.1:PORT (STARTTLS|implicit TLS|HTTPS)")."""

import argparse
import base64
import http.client
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import tempfile
import threading
import time

HOST = "127.0.0.1"
DOMAIN = "project.com"
HOSTNAME = "localhost"
ITERATIONS = "1000"  # tests only: production never lowers it
START_TIMEOUT = 30


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
        self.database = os.path.join(self.data, "mailroom.db")
        self.passwords = {}
        self.servers = []
        self.ctl("init")
        for name, password in users.items():
            self.add_user(name, password)

    def common_args(self):
        return ["--data-dir", self.data, "--hostname", HOSTNAME, "--pbkdf2-iterations", self.iterations]

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
        return query_database(self.database, sql, params)

    def cleanup(self):
        for server in self.servers:
            server.kill()
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
