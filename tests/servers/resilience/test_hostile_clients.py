#!/usr/bin/env python3
"""Hostile clients against all three servers at once: mailroom-smtpd,
mailroom-webd and mailroom-pop3d on one data directory, started with short
limits. Each attack is followed by normal clients (a real login and a real
operation on each server) that must be served, and served promptly.

  1. slowloris: a command or request head dribbled one byte a second;
  2. connections beyond the global and the per-address limits;
  3. connections that never finish their TLS handshake;
  4. garbage before, instead of, and beneath TLS;
  5. 10,000 pipelined commands or requests in one write;
  6. a message with 10,000 header fields;
  7. invalid UTF-8 and NUL bytes in every field;
  8. SQL metacharacters in names, addresses, subjects and JSON;
  9. a 1 GiB DATA stream;
 10. huge header sections: a 25 MB To: of 2.6 million addresses, and one
     just over the 256 KiB limit, while normal clients go on.

Figures (RSS, timings, counts) go to stderr, so they appear in the ctest log.
Standard library only: --smtpd P --webd P --pop3d P --ctl P."""

import base64
import io
import json
import os
import random
import re
import select
import socket
import ssl
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))

from mailroom_harness import (DOMAIN, huge_to_message, HOST, HOSTNAME, Deployment, Https, LineClient, Pop3Client,  # noqa: E402
                              SmtpClient, binaries_from_argv, plain_message)

IDLE = 3           # --idle-timeout (smtpd, pop3d) and --keepalive-timeout (webd), seconds
HANDSHAKE = 2      # --handshake-timeout, seconds
MAX_CONNECTIONS = 40
PER_ADDRESS = 8
PROMPT = 1.5       # a normal client's whole exchange: well under HANDSHAKE and IDLE, so a stall shows
SLACK = 2.5        # how late a timeout may fire on a loaded 2-core machine
USERS = {"alice": "alice-password-1", "bob": "bob-password-1"}
MIB = 1 << 20
GIB = 1 << 30
# Under the sanitizers (the MAILROOM_SANITIZE build sets MAILROOM_SANITIZED=1)
# ASan keeps freed blocks in a 256 MiB quarantine before reusing them, with
# redzones and shadow memory on top: RSS climbs by ~300 MiB under any
# steady traffic, leak or not. Memory bounds allow for that there only.
ASAN_RSS_ALLOWANCE_KIB = 384 * 1024 if os.environ.get("MAILROOM_SANITIZED") == "1" else 0

BINARIES = None
D = SMTP = WEB = POP3 = None
_counter = iter(range(1, 1 << 30))


def log(text):
    print(text, file=sys.stderr, flush=True)


def setUpModule():
    global D, SMTP, WEB, POP3
    D = Deployment(BINARIES, USERS, prefix="mailroom-hostile-")
    try:
        # Login throttling has its own test (test_brute_force.py); here the
        # many refused logins of the attacks must not lock the normal clients out.
        throttling = ["--max-failed-logins-per-address", "100000", "--max-failed-logins-per-user", "100000"]
        limits = ["--idle-timeout", str(IDLE), "--handshake-timeout", str(HANDSHAKE),
                  "--max-connections", str(MAX_CONNECTIONS), "--max-connections-per-address", str(PER_ADDRESS)]
        SMTP = D.start("smtpd", *limits, *throttling)
        POP3 = D.start("pop3d", *limits, *throttling)
        WEB = D.start("webd", "--keepalive-timeout", str(IDLE), "--handshake-timeout", str(HANDSHAKE),
                      "--max-connections", str(MAX_CONNECTIONS), "--max-connections-per-address", str(PER_ADDRESS),
                      *throttling)
    except BaseException:
        D.cleanup()
        raise


def tearDownModule():
    try:
        codes = {server.name: server.stop() for server in D.servers}
        log(f"exit codes after SIGTERM: {codes}")
        for server in D.servers:
            if codes[server.name] != 0:
                raise AssertionError(f"{server.name} exited with {codes[server.name]} after SIGTERM:\n"
                                     f"{server.log_text(last=40)}")
    finally:
        D.cleanup()


# --- small tools -------------------------------------------------------------

class Background(threading.Thread):
    """A function on a thread of its own; outcome() gives its result or raises its exception."""

    def __init__(self, function, *args):
        super().__init__(daemon=True)
        self.function, self.args = function, args
        self.result = self.error = None
        self.start()

    def run(self):
        try:
            self.result = self.function(*self.args)
        except BaseException as error:  # handed to the test's thread
            self.error = error

    def outcome(self, timeout=60):
        self.join(timeout)
        if self.is_alive():
            raise AssertionError(f"{self.function.__name__} still running after {timeout} s")
        if self.error is not None:
            raise self.error
        return self.result


def read_to_end(sock, timeout):
    """What the peer sends until it closes: (bytes, closed); closed is False after the timeout."""
    deadline = time.monotonic() + timeout
    data = b""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return data, False
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return data, False
        except (ConnectionError, ssl.SSLError, OSError):
            return data, True
        if not chunk:
            return data, True
        data += chunk


def tcp(port, source=None, timeout=10):
    return socket.create_connection((HOST, port), timeout=timeout, source_address=(source, 0) if source else None)


def client_hello():
    """The first flight of a real TLS client, made without a socket."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    hello = context.wrap_bio(ssl.MemoryBIO(), outgoing := ssl.MemoryBIO(), server_hostname=HOSTNAME)
    try:
        hello.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


class RawTls:
    """TLS through ssl.MemoryBIO over a plain socket that stays ours: bytes can
    be written beneath the session, where no TLS library would let them."""

    def __init__(self, sock):
        self.sock = sock
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = D.context().wrap_bio(self.incoming, self.outgoing, server_hostname=HOSTNAME)
        self.buffer = b""

    def _flush(self):
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed by the server")
        self.incoming.write(data)

    def handshake(self):
        while True:
            try:
                self.tls.do_handshake()
                self._flush()
                return self
            except ssl.SSLWantReadError:
                self._flush()
                self._fill()

    def send(self, data):
        self.tls.write(data)
        self._flush()

    def line(self):
        while b"\n" not in self.buffer:
            try:
                self.buffer += self.tls.read(65536)
            except ssl.SSLWantReadError:
                self._fill()
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")


def pump(sock, payload, marker, count, tail=b"", timeout=120):
    """Writes payload while reading what comes back, on one thread (an SSL
    socket must not be used by two at once), until `marker` came `count` times
    and what came ends with `tail`: the bytes received. A server that stops
    reading while its answers are not read cannot deadlock this client."""
    sock.setblocking(False)
    view = memoryview(payload)
    received = bytearray()
    seen = scanned = 0  # counted incrementally: a rescan per read would be quadratic
    deadline = time.monotonic() + timeout
    try:
        while view or seen < count or not received.endswith(tail):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{len(view)} bytes unsent, {seen} answers received after {timeout} s")
            if sock.pending():
                readable, writable = True, False
            else:
                r, w, _ = select.select([sock], [sock] if view else [], [], remaining)
                readable, writable = bool(r), bool(w)
            if writable:
                try:
                    view = view[sock.send(view[:256 * 1024]):]
                except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
                    pass
            if readable:
                try:
                    data = sock.recv(256 * 1024)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                    continue
                if not data:
                    raise ConnectionError(f"closed after {seen} answers")
                received += data
                seen += received.count(marker, scanned)
                scanned = max(scanned, len(received) - len(marker) + 1)
    finally:
        sock.settimeout(30)
    return bytes(received)


def read_response(stream, head_only=False):
    """One HTTP/1.1 response from a binary file object: (status, headers, body)."""
    status_line = stream.readline()
    if not status_line:
        raise ConnectionError("closed before a response")
    status = int(status_line.split()[1])
    headers = {}
    while True:
        line = stream.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = b"" if head_only else stream.read(length)
    return status, headers, body


def http_raw(request, source=None, timeout=10):
    """One raw request (bytes) on a fresh TLS connection: (status, headers, body)."""
    with D.context().wrap_socket(tcp(WEB.port, source, timeout), server_hostname=HOSTNAME) as sock:
        sock.sendall(request)
        with sock.makefile("rb") as stream:
            return read_response(stream)


def smtp_session(source=None, login="alice", context=None):
    """A STARTTLS session after EHLO, logged in as `login` unless it is None."""
    client = SmtpClient(SMTP.port, source=source, timeout=15)
    client.hello(context or D.context())
    if login:
        client.command(auth_plain_line(login, USERS[login]), expect=235)
    return client


def auth_plain_line(username, password):
    return "AUTH PLAIN " + base64.b64encode(b"\0" + username.encode() + b"\0" + password.encode()).decode()


def pop3_session(source=None, login="bob"):
    """A POP3 session after STLS, logged in as `login` unless it is None."""
    client = Pop3Client(POP3.port, source=source, timeout=15)
    greeting = client.line()
    if greeting != "+OK Mailroom POP3 ready":
        raise AssertionError(f"POP3 greeting: {greeting!r}")
    if not client.command("STLS").startswith("+OK"):
        raise AssertionError("STLS refused")
    client.start_tls(D.context())
    if login:
        if not client.command(f"USER {login}").startswith("+OK"):
            raise AssertionError("USER refused")
        answer = client.command(f"PASS {USERS[login]}")
        if not answer.startswith("+OK"):
            raise AssertionError(f"PASS: {answer!r}")
    return client


def send_mail(subject, body="Hello.\r\n", extra_headers=(), source=None):
    """alice to bob: the final reply (code, text)."""
    with smtp_session(source) as client:
        message = plain_message(f"alice@{DOMAIN}", [f"bob@{DOMAIN}"], subject, body, extra_headers)
        answer = client.send_message(f"alice@{DOMAIN}", [f"bob@{DOMAIN}"], message)
        client.command("QUIT")
        return answer


def web_login(source=None, username="bob"):
    https = Https(WEB.port, D.context(), source=source, timeout=15)
    status, token = https.login(username, USERS[username])
    if status != 200:
        raise AssertionError(f"webd login: {status}")
    return https, token


def entry_with_subject(subject, username="bob"):
    https, token = web_login(username=username)
    try:
        for entry in https.listing(token):
            if entry["subject"] == subject:
                return entry
        raise AssertionError(f"no entry with subject {subject!r} in {username}'s inbox")
    finally:
        https.close()


# --- normal clients ------------------------------------------------------------

def serve_smtp(source=None):
    """alice sends bob a message over STARTTLS + AUTH; it must then be stored. Seconds taken."""
    subject = f"normal message {next(_counter)}"
    started = time.monotonic()
    code, reply = send_mail(subject, source=source)
    elapsed = time.monotonic() - started
    if code != 250:
        raise AssertionError(f"normal SMTP send: {reply!r}")
    stored = D.query("SELECT count(*) FROM messages WHERE subject = ?", (subject,))[0][0]
    if stored != 1:
        raise AssertionError(f"the normal message {subject!r} was answered 250 but {stored} are stored")
    return elapsed


def serve_web(source=None):
    """bob logs in to webd and lists his inbox. Seconds taken."""
    started = time.monotonic()
    https, token = web_login(source)
    try:
        status, page = https.json("GET", "/api/v1/mailboxes/inbox/messages?limit=5", token=token)
        if status != 200 or not isinstance(page.get("messages"), list):
            raise AssertionError(f"webd listing: {status} {page}")
    finally:
        https.close()
    return time.monotonic() - started


def serve_pop3(source=None):
    """bob logs in over STLS and asks STAT. Seconds taken."""
    started = time.monotonic()
    with pop3_session(source) as client:
        answer = client.command("STAT")
        if not re.fullmatch(r"\+OK \d+ \d+", answer or ""):
            raise AssertionError(f"POP3 STAT: {answer!r}")
        client.command("QUIT")
    return time.monotonic() - started


class HostileTestCase(unittest.TestCase):
    def assert_running(self):
        for server in (SMTP, WEB, POP3):
            self.assertTrue(server.running(), f"{server.name} is gone:\n{server.log_text(last=40)}")

    def assert_served(self, label, source=None):
        """Every server is still running and serves a normal client promptly."""
        self.assert_running()
        times = {"smtp": serve_smtp(source), "web": serve_web(source), "pop3": serve_pop3(source)}
        log(f"  [{label}] normal clients served in " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in times.items()))
        for kind, seconds in times.items():
            self.assertLess(seconds, PROMPT, f"{label}: the normal {kind} client waited {seconds:.2f} s")
        self.assert_running()


# --- 1 -------------------------------------------------------------------------

class Slowloris(HostileTestCase):
    """A client dribbling one byte a second is cut at the idle timeout (docs/PROTOCOL.md
    §5: the timeout is per command; docs/protocol/web.md §4: a request begun and
    not finished within the keep-alive timeout gets 408), while others are
    served at once."""

    @staticmethod
    def dribble(client, payload, limit):
        """One byte a second until the server says something: (seconds, what it said, closed)."""
        started = time.monotonic()
        client.sock.settimeout(1.0)
        for byte in payload:
            if time.monotonic() - started > limit:
                break
            client.sock.sendall(bytes([byte]))
            try:
                data = client.sock.recv(65536)
            except TimeoutError:
                continue
            elapsed = time.monotonic() - started
            rest, closed = read_to_end(client.sock, 5) if data else (b"", True)
            return elapsed, data + rest, closed
        return time.monotonic() - started, b"", False

    def smtp(self):
        client = smtp_session(source="127.0.0.20", login=None)
        with client:
            return self.dribble(client, b"NOOP " + b"x" * 100 + b"\r\n", IDLE + SLACK + 2)

    def pop3(self):
        with pop3_session(source="127.0.0.20", login=None) as client:
            return self.dribble(client, b"CAPA " + b"x" * 100 + b"\r\n", IDLE + SLACK + 2)

    def web(self):
        client = LineClient(WEB.port, D.context(), source="127.0.0.20")
        with client:
            head = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"x" * 100 + b"\r\n\r\n"
            return self.dribble(client, head, IDLE + SLACK + 2)

    def test_dribbled_commands_are_cut_at_the_idle_timeout(self):
        attacks = {"smtp": Background(self.smtp), "pop3": Background(self.pop3), "web": Background(self.web)}
        time.sleep(1)
        self.assert_served("during slowloris")
        time.sleep(1)
        self.assert_served("during slowloris")
        results = {kind: attack.outcome() for kind, attack in attacks.items()}
        for kind, (elapsed, said, closed) in results.items():
            log(f"  slowloris {kind}: answered after {elapsed:.2f} s (timeout {IDLE} s): {said[:60]!r}, "
                f"closed: {closed}")
        expected = {"smtp": rb"421 4\.4\.2 ", "pop3": rb"-ERR ", "web": rb"HTTP/1\.1 408 "}
        for kind, (elapsed, said, closed) in results.items():
            with self.subTest(kind):
                self.assertRegex(said, expected[kind], f"{kind}: no timeout answer within {elapsed:.1f} s")
                self.assertTrue(closed, f"{kind}: not closed after the timeout answer")
                self.assertGreater(elapsed, IDLE - 0.5, f"{kind}: cut before the timeout")
                self.assertLess(elapsed, IDLE + SLACK, f"{kind}: cut {elapsed:.1f} s after the dribble began")
        self.assert_served("after slowloris")


# --- 2 -------------------------------------------------------------------------

class ConnectionLimits(HostileTestCase):
    """Beyond --max-connections-per-address and --max-connections the excess is
    refused (docs/PROTOCOL.md §5: SMTP 421 4.7.0 Too many connections, POP3
    -ERR, both listeners counted together; webd closes the excess without a
    word); everyone else is still served."""

    def line_hogs(self, server, sources, count, greeting, implicit_every=0):
        """`count` connections from each source, half-open dialogue after the greeting."""
        hogs = []
        for source in sources:
            for i in range(count):
                if implicit_every and i % implicit_every == implicit_every - 1:
                    hog = LineClient(server.tls_port, D.context(), source=source)
                else:
                    hog = LineClient(server.port, source=source)
                hogs.append(hog)
                line = hog.line()
                self.assertTrue(line and line.startswith(greeting), f"{server.name} hog from {source}: {line!r}")
        return hogs

    @staticmethod
    def refresh(hogs, command, multiline=False):
        """Keeps the hogs from the idle timeout."""
        for hog in hogs:
            hog.send(command)
        for hog in hogs:
            line = hog.line()
            if multiline and line and line.startswith("+OK"):
                while line not in (".", None):
                    line = hog.line()

    def assert_refused_in_plain(self, server, source, refusal):
        with LineClient(server.port, source=source, timeout=10) as client:
            said, closed = read_to_end(client.sock, 5)
        self.assertTrue(closed, f"{server.name}: the connection over the limit was not closed")
        self.assertEqual(said.decode(), refusal, f"{server.name}: the refusal over the limit")

    def assert_refused_with_tls(self, server, source):
        """The implicit-TLS port cannot say why: it closes without a handshake."""
        with tcp(server.tls_port, source) as sock:
            sock.sendall(client_hello())
            said, closed = read_to_end(sock, 5)
        self.assertTrue(closed, f"{server.name}: the TLS connection over the limit was not closed")
        self.assertEqual(said, b"", f"{server.name}: the TLS port answered a client over the limit")

    def line_server_limits(self, server, greeting, refusal, keepalive, multiline):
        hogs = []
        try:
            # Per address: both listeners count together.
            hogs += self.line_hogs(server, ["127.0.0.2"], PER_ADDRESS, greeting, implicit_every=3)
            self.assert_refused_in_plain(server, "127.0.0.2", refusal)
            self.assert_refused_with_tls(server, "127.0.0.2")
            self.assertLess((serve_smtp if server is SMTP else serve_pop3)(), PROMPT)
            # In all: 8 more addresses fill the server.
            self.refresh(hogs, keepalive, multiline)
            others = [f"127.0.0.{n}" for n in range(3, 3 + (MAX_CONNECTIONS - PER_ADDRESS) // PER_ADDRESS)]
            hogs += self.line_hogs(server, others, PER_ADDRESS, greeting)
            self.assertEqual(len(hogs), MAX_CONNECTIONS)
            self.assert_refused_in_plain(server, "127.0.0.9", refusal)
            self.assert_refused_with_tls(server, "127.0.0.9")
            self.assert_refused_in_plain(server, "127.0.0.1", refusal)
            self.refresh(hogs, keepalive, multiline)
            log(f"  {server.name}: {len(hogs)} connections held, the next ones refused")
        finally:
            for hog in hogs:
                hog.close()
        # The slots come back as soon as the hogs are gone.
        deadline = time.monotonic() + 5
        while True:
            with LineClient(server.port, timeout=10) as probe:
                line = probe.line()
            if line and line.startswith(greeting):
                break
            self.assertLess(time.monotonic(), deadline, f"{server.name}: the slots did not come back: {line!r}")
            time.sleep(0.1)

    def test_smtpd(self):
        self.line_server_limits(SMTP, "220 ", "421 4.7.0 Too many connections\r\n", b"NOOP\r\n", False)
        self.assert_served("after the SMTP connection limits")

    def test_pop3d(self):
        self.line_server_limits(POP3, "+OK", "-ERR [SYS/TEMP] Too many connections\r\n", b"CAPA\r\n", True)
        self.assert_served("after the POP3 connection limits")

    def test_webd(self):
        hogs = []

        def healthz(sock):
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            with sock.makefile("rb") as stream:
                return read_response(stream)[0]

        def refused(source):
            """The connection from `source` is closed, during its handshake or unanswered after it."""
            try:
                extra = D.context().wrap_socket(tcp(WEB.port, source), server_hostname=HOSTNAME)
            except (ssl.SSLError, ConnectionError):
                return True
            with extra:
                try:
                    extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
                except OSError:
                    pass
                said, closed = read_to_end(extra, 5)
            return closed and said == b""

        try:
            # docs/protocol/web.md §5: webd limits connections per address as well as in all.
            for n in range(MAX_CONNECTIONS):
                source = f"127.0.0.{2 + n // PER_ADDRESS}"
                sock = D.context().wrap_socket(tcp(WEB.port, source), server_hostname=HOSTNAME)
                hogs.append(sock)
                self.assertEqual(healthz(sock), 200, f"webd connection {n + 1} from {source}")
                if n == PER_ADDRESS - 1:
                    self.assertTrue(refused("127.0.0.2"), f"webd: connection {PER_ADDRESS + 1} from one address")
            self.assertTrue(refused("127.0.0.99"), f"webd: connection {MAX_CONNECTIONS + 1} in all")
            for sock in hogs:  # all still served
                self.assertEqual(healthz(sock), 200)
            log(f"  webd: {len(hogs)} connections held, {PER_ADDRESS} per address; one more from an address"
                f" and one more in all closed")
        finally:
            for sock in hogs:
                sock.close()
        time.sleep(0.2)
        self.assert_served("after the webd connection limit")


# --- 3 -------------------------------------------------------------------------

class UnfinishedHandshakes(HostileTestCase):
    """TCP connections that never finish TLS (silent, or half a ClientHello; on
    the implicit-TLS ports, on webd, and after STARTTLS/STLS) stall no one and
    are closed after --handshake-timeout."""

    def open_stalled(self, server, count, upgrade):
        """`count` connections, PER_ADDRESS from each of 127.0.0.30 on: a quarter
        silent and a quarter with half a ClientHello on the TLS port, the same
        after STARTTLS/STLS (upgrade: the command) on the other; on webd half
        and half. (socket, when its handshake began) each."""
        half = client_hello()[:100]
        stalled = []
        for i in range(count):
            source = f"127.0.0.{30 + i // PER_ADDRESS}"
            if upgrade is None or i % 2 == 0:
                sock = tcp(server.tls_port if upgrade else server.port, source)
            else:
                sock = tcp(server.port, source)
                stream = sock.makefile("rb")
                stream.readline()
                sock.sendall(upgrade)
                answer = stream.readline()
                if not (answer.startswith(b"220 ") or answer.startswith(b"+OK")):
                    raise AssertionError(f"{server.name}: {upgrade!r} answered {answer!r}")
                stream.close()
            if i % 4 >= 2:
                sock.sendall(half)
            stalled.append((sock, time.monotonic()))
        return stalled

    def test_unfinished_handshakes_stall_no_one(self):
        # webd: more than Qt's default 30 pending connections (QT64-NOTES).
        stalled = {
            "smtp": self.open_stalled(SMTP, 3 * PER_ADDRESS, b"STARTTLS\r\n"),
            "pop3": self.open_stalled(POP3, 3 * PER_ADDRESS, b"STLS\r\n"),
            "web": self.open_stalled(WEB, 35, None),
        }
        self.assert_served("with unfinished handshakes")
        self.assert_served("with unfinished handshakes")
        for kind, connections in stalled.items():
            lifetimes = []
            for sock, opened in connections:
                said, closed = read_to_end(sock, max(0.1, opened + HANDSHAKE + SLACK - time.monotonic()))
                lifetimes.append(time.monotonic() - opened)
                sock.close()
                self.assertTrue(closed, f"{kind}: an unfinished handshake was kept over "
                                        f"{HANDSHAKE + SLACK} s (handshake timeout {HANDSHAKE} s)")
                self.assertFalse(said.startswith(b"\x17"), f"{kind}: application data without a handshake")
            log(f"  {kind}: {len(connections)} unfinished handshakes closed after "
                f"{min(lifetimes):.2f}..{max(lifetimes):.2f} s (timeout {HANDSHAKE} s)")
            self.assertGreater(min(lifetimes), HANDSHAKE - 0.5, f"{kind}: closed before the handshake timeout")
        self.assert_served("after unfinished handshakes")


# --- 4 -------------------------------------------------------------------------

class TlsGarbage(HostileTestCase):
    """Random bytes where a ClientHello belongs (implicit-TLS ports, webd, after
    STARTTLS/STLS), and beneath an established TLS session: the connection is
    closed, the server goes on."""

    garbage = random.Random(20261122).randbytes(4096)
    # A handshake record header announcing 16 KiB that never come.
    truncated = b"\x16\x03\x01\x3f\xff" + b"\x01" * 50

    def assert_closed(self, sock, label, payload, within):
        started = time.monotonic()
        try:
            sock.sendall(payload)
        except OSError:
            return 0.0
        said, closed = read_to_end(sock, within)
        elapsed = time.monotonic() - started
        self.assertTrue(closed, f"{label}: still open {elapsed:.1f} s after the garbage")
        self.assertFalse(said.startswith(b"\x17"), f"{label}: answered garbage with application data")
        return elapsed

    def upgraded(self, server, command):
        sock = tcp(server.port, "127.0.0.40")
        stream = sock.makefile("rb")
        stream.readline()
        sock.sendall(command)
        self.assertRegex(stream.readline(), rb"^(220 |\+OK)")
        stream.close()
        return sock

    def established(self, port, greeting):
        """A TLS session on a socket we keep: after the greeting when there is one."""
        session = RawTls(tcp(port, "127.0.0.40")).handshake()
        if greeting:
            self.assertTrue(session.line().startswith(greeting))
        else:
            session.send(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            self.assertEqual(session.line(), "HTTP/1.1 200 OK")
        return session

    def test_garbage_before_and_beneath_tls(self):
        times = {}
        # Garbage is a failed handshake at once; a record that never
        # completes waits for the handshake timeout.
        for payload_name, payload, within in (("random bytes", self.garbage, PROMPT),
                                              ("a truncated record", self.truncated, HANDSHAKE + SLACK)):
            for label, port in (("smtpd TLS port", SMTP.tls_port), ("pop3d TLS port", POP3.tls_port),
                                ("webd", WEB.port)):
                with self.subTest(f"{payload_name} to {label}"), tcp(port, "127.0.0.40") as sock:
                    times[f"{payload_name} to {label}"] = self.assert_closed(sock, label, payload, within)
            for label, server, command in (("after STARTTLS", SMTP, b"STARTTLS\r\n"),
                                           ("after STLS", POP3, b"STLS\r\n")):
                with self.subTest(f"{payload_name} {label}"), self.upgraded(server, command) as sock:
                    times[f"{payload_name} {label}"] = self.assert_closed(sock, label, payload, within)
        # Beneath an established session: a record of random bytes, and a
        # well-formed application-data record whose contents are random (bad
        # MAC). RFC 8446 §5.2: the connection ends then, not at the idle timeout.
        forged = b"\x17\x03\x03\x01\x00" + self.garbage[:256]
        for payload_name, payload in (("raw garbage", self.garbage), ("a forged record", forged)):
            for label, port, greeting in (("smtpd", SMTP.tls_port, "220 "), ("pop3d", POP3.tls_port, "+OK"),
                                          ("webd", WEB.port, None)):
                session = self.established(port, greeting)
                with self.subTest(f"{payload_name} beneath TLS to {label}"), session.sock:
                    times[f"{payload_name} beneath TLS to {label}"] = self.assert_closed(
                        session.sock, f"{payload_name} beneath TLS to {label}", payload, PROMPT)
        for name, seconds in times.items():
            log(f"  {name}: closed after {seconds:.2f} s")
        self.assert_served("after TLS garbage")


# --- 5 -------------------------------------------------------------------------

class Pipelining(HostileTestCase):
    """10,000 commands in one write: every one answered, in order, in bounded
    memory; the connection and the server go on."""

    COUNT = 10_000

    def pipeline(self, server, sock, payload, marker, tail=b""):
        """(what came back, seconds, RSS before, RSS after)."""
        before = server.rss_kib()
        started = time.monotonic()
        received = pump(sock, payload, marker, self.COUNT, tail)
        return received, time.monotonic() - started, before, server.rss_kib()

    def report(self, server, what, count, elapsed, before, after):
        log(f"  {server.name}: {count} pipelined {what} answered in {elapsed:.2f} s "
            f"({count / elapsed:.0f}/s); RSS {before} -> {after} KiB")
        self.assertLess(after - before, 16 * 1024 + ASAN_RSS_ALLOWANCE_KIB, f"{server.name}: memory grew with the pipelined {what}")

    def test_smtp(self):
        commands = [("NOOP", "250 2.0.0 OK"), ("PING", "250 2.0.0 PONG"),
                    ("VRFY postmaster", "252 2.5.0 Cannot VRFY user"), ("RSET", "250 2.0.0 OK"),
                    ("HELP", "214 2.0.0 ")]
        order = [commands[i % len(commands)] for i in range(self.COUNT)]
        with smtp_session(source="127.0.0.41") as client:
            payload = b"".join(command.encode() + b"\r\n" for command, _ in order)
            received, *figures = self.pipeline(SMTP, client.sock, payload, b"\n")
            answers = received.decode().split("\r\n")[:-1]
            self.report(SMTP, "commands", len(answers), *figures)
            self.assertEqual(len(answers), self.COUNT)
            wrong = [(i, command, answer) for i, ((command, expected), answer) in enumerate(zip(order, answers))
                     if not answer.startswith(expected)]
            self.assertEqual(wrong[:5], [], f"{len(wrong)} answers out of order or wrong")
            # The connection still works: a real message on it.
            subject = f"after pipelining {next(_counter)}"
            message = plain_message(f"alice@{DOMAIN}", [f"bob@{DOMAIN}"], subject)
            code, reply = client.send_message(f"alice@{DOMAIN}", [f"bob@{DOMAIN}"], message)
            self.assertEqual(code, 250, reply)
        self.assertEqual(D.query("SELECT count(*) FROM messages WHERE subject = ?", (subject,))[0][0], 1)
        self.assert_served("after pipelined SMTP commands")

    def test_pop3(self):
        self.assertEqual(send_mail(f"for pipelining {next(_counter)}")[0], 250)
        with pop3_session(source="127.0.0.41") as client:
            expected = {command: client.command(command) for command in ("STAT", "LIST 1", "UIDL 1")}
            self.assertTrue(all(answer.startswith("+OK ") for answer in expected.values()), expected)
            expected["NOOP"] = "+OK"
            cycle = ["NOOP", "STAT", "LIST 1", "UIDL 1"]
            order = [cycle[i % len(cycle)] for i in range(self.COUNT)]
            payload = b"".join(command.encode() + b"\r\n" for command in order)
            received, *figures = self.pipeline(POP3, client.sock, payload, b"\n")
            answers = received.decode().split("\r\n")[:-1]
            self.report(POP3, "commands", len(answers), *figures)
            self.assertEqual(len(answers), self.COUNT)
            wrong = [(i, command, answer) for i, (command, answer) in enumerate(zip(order, answers))
                     if answer != expected[command]]
            self.assertEqual(wrong[:5], [], f"{len(wrong)} answers out of order or wrong")
            self.assertEqual(client.command("RETR 1").split()[0], "+OK")
            self.assertGreater(len(client.multiline()), 3)
            self.assertEqual(client.command("QUIT"), "+OK Bye")
        self.assert_served("after pipelined POP3 commands")

    def test_webd(self):
        requests = [(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", 200),
                    (b"GET /api/v1/no-such-thing HTTP/1.1\r\nHost: localhost\r\n\r\n", 404),
                    (b"POST /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n", 405)]
        order = [requests[i % len(requests)] for i in range(self.COUNT)]
        self.assertEqual(order[-1][1], 200)  # so the last answer ends with its JSON body
        with D.context().wrap_socket(tcp(WEB.port, "127.0.0.41", 120), server_hostname=HOSTNAME) as sock:
            received, *figures = self.pipeline(WEB, sock, b"".join(request for request, _ in order),
                                               b"HTTP/1.1 ", b"}")
            stream = io.BytesIO(received)
            answers = [read_response(stream) for _ in order]
            self.assertEqual(stream.read(), b"", "more answers than requests")
            self.report(WEB, "requests", len(answers), *figures)
            wrong = [(i, status, answer[0]) for i, ((_, status), answer) in enumerate(zip(order, answers))
                     if answer[0] != status]
            self.assertEqual(wrong[:5], [], f"{len(wrong)} answers out of order or wrong")
            self.assertEqual(answers[0][2], b'{"status":"ok"}')
            self.assertTrue(all(answer[1].get("connection") == "keep-alive" for answer in answers))
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            with sock.makefile("rb") as rest:
                self.assertEqual(read_response(rest)[0], 200)
        self.assert_served("after pipelined HTTP requests")


# --- 6 -------------------------------------------------------------------------

class ManyHeaders(HostileTestCase):
    """A 10,000-field header section (~220 KB, under the 256 KiB header limit)
    is accepted; webd's detail and POP3's RETR still return it; the servers
    stay responsive."""

    FIELDS = 10_000

    def test_ten_thousand_header_fields(self):
        subject = f"many headers {next(_counter)}"
        extra = [f"X-Filler-{i}: v{i}" for i in range(self.FIELDS)]
        started = time.monotonic()
        code, reply = send_mail(subject, body="The body after many fields.\r\n", extra_headers=extra)
        sent = time.monotonic() - started
        self.assertEqual(code, 250, reply)
        entry = entry_with_subject(subject)
        https, token = web_login()
        try:
            started = time.monotonic()
            status, detail = https.json("GET", f"/api/v1/messages/{entry['id']}", token=token)
            shown = time.monotonic() - started
            self.assertEqual(status, 200, detail)
            self.assertEqual(detail["subject"], subject)
            self.assertEqual(detail["text"].strip(), "The body after many fields.")
            fields = dict((name, value) for name, value in detail["headers"])
            self.assertEqual(sum(name.startswith("X-Filler-") for name, _ in detail["headers"]), self.FIELDS)
            self.assertEqual(fields["X-Filler-9999"], "v9999")
            raw = https.raw(token, entry["id"])
        finally:
            https.close()
        with pop3_session() as client:
            uidls = [line.split() for line in (client.command("UIDL"), *client.multiline())[1:]]
            number = next(n for n, uid in uidls if int(uid) == entry["id"])
            started = time.monotonic()
            first = client.command(f"RETR {number}")
            retrieved = "\r\n".join(client.multiline()).encode() + b"\r\n"
            fetched = time.monotonic() - started
            client.command("QUIT")
        self.assertTrue(first.startswith("+OK"), first)
        self.assertEqual(retrieved, raw, "POP3 RETR and webd /raw differ")
        log(f"  {self.FIELDS} fields, {len(raw)} bytes: SMTP {sent:.2f} s, webd detail {shown:.2f} s, "
            f"POP3 RETR {fetched:.2f} s")
        self.assertLess(shown, 3, "webd's detail of the message took too long (it blocks everyone meanwhile)")
        self.assert_served("after 10,000 header fields")


# --- 7 -------------------------------------------------------------------------

class InvalidUtf8AndNul(HostileTestCase):
    """Invalid UTF-8 and NUL bytes in every field of the three protocols: a
    clear error, or handled; never a crash or a hang."""

    SOURCE = "127.0.0.50"

    def smtp_expect(self, client, line, codes):
        code, reply = client.command(line)
        self.assertIn(code, codes, f"{line!r}: {reply!r}")
        return code

    def test_smtp(self):
        b64 = lambda data: base64.b64encode(data)  # noqa: E731
        with smtp_session(self.SOURCE, login=None) as client:
            self.smtp_expect(client, b"EHLO \xff\xfe\x00\xc3\x28.example", (250, 501))
            self.smtp_expect(client, b"\xff\xfe\x00", (500,))
            self.smtp_expect(client, b"NO\x00OP", (500,))
            self.smtp_expect(client, b"AUTH PLAIN " + b64(b"\0\xff\xfealice\0alice-password-1"), (535,))
            self.smtp_expect(client, b"AUTH PLAIN " + b64(b"\0alice\0alice-password-1\0"), (501,))  # a third NUL: malformed (RFC 4616)
            client.command("NOOP", expect=250)
        with smtp_session(self.SOURCE, login=None) as client:
            self.smtp_expect(client, b"AUTH LOGIN", (334,))
            self.smtp_expect(client, b64(b"ali\x00ce"), (334,))
            self.smtp_expect(client, b64(b"alice-password-1\xff"), (535,))
            self.smtp_expect(client, b"REG " + b64(b"\xff\xfeuser\0password-1"), (553,))
            self.smtp_expect(client, b"REG " + b64(b"\xc3\x28\0password-1"), (553,))
            client.command("NOOP", expect=250)
        with smtp_session(self.SOURCE) as client:
            self.smtp_expect(client, b"GETUSER \xffbob", (550,))
            self.smtp_expect(client, b"GETUSER bob\x00", (550,))
            self.smtp_expect(client, b"MAIL FROM:<al\xffice@project.com>", (553, 501))
            self.smtp_expect(client, b"MAIL FROM:<alice\x00@project.com>", (553, 501))
            client.command("MAIL FROM:<alice@project.com>", expect=250)
            self.smtp_expect(client, b"RCPT TO:<b\xffob@project.com>", (550, 501))
            self.smtp_expect(client, b"RCPT TO:<bob\x00@project.com>", (550, 501))
            self.smtp_expect(client, b"RCPT TO:<bob@project.com\xc3\x28>", (550, 501))
            client.command("RCPT TO:<bob@project.com>", expect=250)
            client.command("DATA", expect=354)
            # 8-bit junk in the header fields and the body is content: stored.
            subject = f"bad bytes {next(_counter)}".encode()
            client.send(b"From: Al\xffice <alice@project.com>\r\nTo: B\xc3\x28ob <bob@project.com>\r\n"
                        b"Subject: " + subject + b" \xff\xfe\xc3\x28 caf\xe9\r\n\r\nbody \xff\xfe\xc0\xaf\r\n.\r\n")
            code, reply = client.reply()
            self.assertEqual(code, 250, reply)
            # NUL anywhere in the data: 550 5.6.0 (docs/protocol/smtp.md §7), nothing stored.
            for where, message in (("subject", b"From: alice@project.com\r\nSubject: a\x00b\r\n\r\nbody\r\n"),
                                   ("from", b"From: al\x00ice@project.com\r\n\r\nbody\r\n"),
                                   ("to", b"From: alice@project.com\r\nTo: bob\x00@project.com\r\n\r\nbody\r\n"),
                                   ("body", b"From: alice@project.com\r\nSubject: nul body\r\n\r\nbo\x00dy\r\n")):
                client.command("MAIL FROM:<alice@project.com>", expect=250)
                client.command("RCPT TO:<bob@project.com>", expect=250)
                client.command("DATA", expect=354)
                client.send(message + b".\r\n")
                code, reply = client.reply()
                self.assertEqual(code, 550, f"NUL in the {where}: {reply!r}")
                self.assertIn("5.6.0", reply)
            # A From: whose address is not valid UTF-8 is not the account's.
            client.command("MAIL FROM:<alice@project.com>", expect=250)
            client.command("RCPT TO:<bob@project.com>", expect=250)
            client.command("DATA", expect=354)
            client.send(b"From: al\xffice@project.com\r\n\r\nbody\r\n.\r\n")
            self.assertEqual(client.reply()[0], 550)
            client.command("QUIT", expect=221)
        entry = next(e for e in self.inbox() if e["subject"].startswith(subject.decode()))
        https, token = web_login()
        try:
            status, detail = https.json("GET", f"/api/v1/messages/{entry['id']}", token=token)
        finally:
            https.close()
        self.assertEqual(status, 200)
        log(f"  8-bit junk shown by webd as subject {detail['subject']!r}, text {detail['text']!r}")
        self.assertEqual(D.query("SELECT count(*) FROM messages WHERE subject LIKE 'nul body%'")[0][0], 0)
        self.assert_served("after invalid bytes to smtpd")

    @staticmethod
    def inbox():
        https, token = web_login()
        try:
            return https.listing(token)
        finally:
            https.close()

    def test_webd(self):
        self.assertEqual(send_mail(f"for PATCH {next(_counter)}")[0], 250)
        https, token = web_login()
        entry_id = https.listing(token)[0]["id"]
        https.close()

        def post(path_line, body, extra=b""):
            return http_raw(path_line + b" HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" + extra
                            + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body, self.SOURCE)

        auth = b"Authorization: Bearer " + token.encode() + b"\r\n"
        cases = [
            ("username not UTF-8", post(b"POST /api/v1/session", b'{"username":"\xff\xfe","password":"x\xff"}'),
             (400, 401)),
            ("NUL in username", post(b"POST /api/v1/session",
                                     b'{"username":"bo\\u0000b","password":"bob-password-1"}'), (401,)),
            ("raw NUL in username", post(b"POST /api/v1/session",
                                         b'{"username":"bob\x00","password":"bob-password-1"}'), (400, 401)),
            ("NUL inside the password", post(b"POST /api/v1/session",
                                             b'{"username":"bob","password":"bob-pass\\u0000word-1"}'), (401,)),
            # PBKDF2's HMAC pads its key with zero bytes (RFC 2104 §2): "pw" and
            # "pw\0" derive the same key, so a password with a NUL is refused unchecked.
            ("NUL after the password", post(b"POST /api/v1/session",
                                            b'{"username":"bob","password":"bob-password-1\\u0000"}'), (401,)),
            ("password not UTF-8", post(b"POST /api/v1/session",
                                        b'{"username":"bob","password":"bob-password-1\xc3\x28"}'), (400, 401)),
            ("PATCH not UTF-8", post(b"PATCH /api/v1/messages/%d" % entry_id, b'{"seen":"\xff"}', auth), (400,)),
            ("PATCH with NUL", post(b"PATCH /api/v1/messages/%d" % entry_id, b'{"seen":true}\x00', auth), (400,)),
            ("PATCH NUL string", post(b"PATCH /api/v1/messages/%d" % entry_id, b'{"seen":"\\u0000"}', auth),
             (400,)),
            ("password change", post(b"PUT /api/v1/account/password",
                                     b'{"current":"\\u0000\xff","new":"\\u0000"}', auth), (400,)),
            ("path %FF", http_raw(b"GET /api/v1/messages/%FF HTTP/1.1\r\nHost: localhost\r\n" + auth + b"\r\n",
                                  self.SOURCE), (400, 404)),
            ("path %00", http_raw(b"GET /api/v1/mailboxes/in%00box/messages HTTP/1.1\r\nHost: localhost\r\n"
                                  + auth + b"\r\n", self.SOURCE), (400, 404)),
            ("raw bytes in path", http_raw(b"GET /\xff\xfe\x00 HTTP/1.1\r\nHost: localhost\r\n\r\n", self.SOURCE),
             (400,)),
            ("query %FF", http_raw(b"GET /api/v1/mailboxes/inbox/messages?limit=%FF HTTP/1.1\r\nHost: localhost\r\n"
                                   + auth + b"\r\n", self.SOURCE), (400,)),
            ("query %00", http_raw(b"GET /api/v1/mailboxes/inbox/messages?before=1%00 HTTP/1.1\r\n"
                                   b"Host: localhost\r\n" + auth + b"\r\n", self.SOURCE), (400,)),
            ("header not UTF-8", http_raw(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Junk: \xff\xfe\xc3\x28\r\n"
                                          b"\r\n", self.SOURCE), (200,)),
            ("NUL in a header", http_raw(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Junk: a\x00b\r\n\r\n",
                                         self.SOURCE), (400,)),
            ("header name not UTF-8", http_raw(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-\xff: 1\r\n\r\n",
                                               self.SOURCE), (400,)),
            ("token not UTF-8", http_raw(b"GET /api/v1/account HTTP/1.1\r\nHost: localhost\r\n"
                                         b"Authorization: Bearer \xff\xfe\xc3\x28\r\n\r\n", self.SOURCE), (401,)),
            ("NUL in the token", http_raw(b"GET /api/v1/account HTTP/1.1\r\nHost: localhost\r\n"
                                          b"Authorization: Bearer abc\x00def\r\n\r\n", self.SOURCE), (400, 401)),
            ("method not UTF-8", http_raw(b"G\xffT /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", self.SOURCE), (400,)),
        ]
        for name, (status, _, body), allowed in cases:
            with self.subTest(name):
                self.assertIn(status, allowed, f"{name}: {status} {body[:200]!r}")
                if status >= 400:
                    self.assertIn("error", json.loads(body), f"{name}: {body!r}")
        log("  webd: " + ", ".join(f"{name} {status}" for name, (status, _, _), _ in cases))
        self.assert_served("after invalid bytes to webd")

    def test_pop3(self):
        def pop3_expect(client, line, prefix):
            answer = client.command(line)
            self.assertTrue(answer is not None and answer.startswith(prefix), f"{line!r}: {answer!r}")

        with pop3_session(self.SOURCE, login=None) as client:
            pop3_expect(client, b"\xff\xfe\x00", "-ERR")
            pop3_expect(client, b"US\x00ER bob", "-ERR")
            pop3_expect(client, b"USER \xff\xfe\xc3\x28", "+OK")
            pop3_expect(client, b"PASS \x00\xff", "-ERR [AUTH]")
            pop3_expect(client, b"USER bob\x00", "+OK")
            pop3_expect(client, b"PASS bob-password-1", "-ERR [AUTH]")
        with pop3_session(self.SOURCE, login=None) as client:
            pop3_expect(client, b"USER bob", "+OK")
            pop3_expect(client, b"PASS bob-pass\x00word-1", "-ERR [AUTH]")
            pop3_expect(client, b"AUTH PLAIN " + base64.b64encode(b"\0\xffbob\0bob-password-1"), "-ERR [AUTH]")
        with pop3_session(self.SOURCE, login=None) as client:
            pop3_expect(client, b"USER bob", "+OK")
            pop3_expect(client, b"PASS bob-password-1\x00", "-ERR [AUTH]")  # HMAC's zero padding
        with pop3_session(self.SOURCE) as client:
            for line in (b"RETR \xff", b"TOP 1 \x00", b"LIST \x001", b"DELE 1\x00", b"\xc3\x28"):
                pop3_expect(client, line, "-ERR")
            pop3_expect(client, b"STAT", "+OK")
            self.assertEqual(client.command("QUIT"), "+OK Bye")
        self.assert_served("after invalid bytes to pop3d")


# --- 8 -------------------------------------------------------------------------

class SqlMetacharacters(HostileTestCase):
    """SQL metacharacters in usernames, addresses, subjects and JSON fields: a
    normal refusal and nothing else; the accounts table is unchanged; a subject
    made of them is stored and shown byte-exact."""

    SOURCE = "127.0.0.51"
    NAMES = ["' OR '1'='1", "alice' --", "alice'; DROP TABLE accounts; --", '" OR ""="', "%", "_", "al%", "alic_",
             "b_b", "\\", "alice\\", "alice%", "a'b", "bob;", "bob--", "' UNION SELECT password_hash FROM accounts --"]
    VALID = {"b_b"}  # a valid name (docs/PROTOCOL.md §6 allows "_"), and what LIKE 'b_b' would match: bob

    def test_sql_metacharacters(self):
        # Who the accounts are; their modseq counts changes to their mail, which this makes.
        accounts_sql = "SELECT id, username, password_hash, created_at, display_name FROM accounts ORDER BY id"
        accounts = D.query(accounts_sql)
        subject = (f"meta {next(_counter)}: it's \"quoted\"; -- ' OR '1'='1 %_\\ "
                   "'); DROP TABLE messages; -- \\' %% __")
        # SMTP: logins, REG, GETUSER, addresses.
        for name in self.NAMES:
            for password in (USERS["alice"], "' OR '1'='1"):
                with self.subTest(smtp_login=name, password=password):
                    with smtp_session(self.SOURCE, login=None) as client:
                        code, reply = client.command(auth_plain_line(name, password))
                        self.assertEqual(code, 535, reply)
                        if name in self.VALID:
                            continue
                        token = base64.b64encode(name.encode() + b"\0" + b"password-123").decode()
                        code, reply = client.command("REG " + token)
                        self.assertEqual(code, 553, reply)
        # 8 errors a connection: smtpd closes at 10 (docs/protocol/smtp.md §2)
        for group in range(0, len(self.NAMES), 4):
            with smtp_session(self.SOURCE) as client:
                for name in self.NAMES[group:group + 4]:
                    code, reply = client.command(f"GETUSER {name}")
                    self.assertEqual(code, 550, f"GETUSER {name!r}: {reply!r}")
                    code, reply = client.command(f"GETUSER {name}@{DOMAIN}")
                    self.assertEqual(code, 550, f"GETUSER {name!r}: {reply!r}")
                code, reply = client.command("GETUSER bob")
                self.assertRegex(reply, r"^250 2\.1\.5 \d+ bob@project\.com$")
        with smtp_session(self.SOURCE) as client:
            for name in self.NAMES[:8]:
                code, reply = client.command(f"MAIL FROM:<{name}@{DOMAIN}>")
                self.assertIn(code, (553, 501), f"MAIL FROM {name!r}: {reply!r}")
            client.command("RSET", expect=250)
        with smtp_session(self.SOURCE) as client:
            client.command(f"MAIL FROM:<alice@{DOMAIN}>", expect=250)
            for name in self.NAMES[:8]:
                code, reply = client.command(f"RCPT TO:<{name}@{DOMAIN}>")
                self.assertIn(code, (550, 501), f"RCPT TO {name!r}: {reply!r}")
            client.command("RSET", expect=250)
        code, reply = send_mail(subject, body=subject + "\r\n")
        self.assertEqual(code, 250, reply)
        # webd: logins and JSON fields.
        for name in self.NAMES:
            with self.subTest(web_login=name):
                https = Https(WEB.port, D.context(), source=self.SOURCE)
                for password in (USERS["alice"], USERS["bob"], "' OR '1'='1"):
                    status, token = https.login(name, password)
                    self.assertEqual(status, 401, f"webd login {name!r}/{password!r}")
                https.close()
        entry = entry_with_subject(subject)
        self.assertEqual(entry["subject"], subject)
        https, token = web_login()
        try:
            status, detail = https.json("GET", f"/api/v1/messages/{entry['id']}", token=token)
            self.assertEqual(status, 200)
            self.assertEqual(detail["subject"], subject)
            self.assertEqual(detail["text"].strip(), subject)
            self.assertIn(subject.encode(), https.raw(token, entry["id"]))
            for query in ("limit=1;DROP%20TABLE%20messages", "limit=1%27%20OR%20%271%27=%271",
                          "before=1%27%20OR%20%271%27=%271", "before=1%20OR%201=1", "limit=5%25", "before=%25"):
                status, _ = https.json("GET", f"/api/v1/mailboxes/inbox/messages?{query}", token=token)
                self.assertEqual(status, 400, query)
            for path in ("/api/v1/messages/1' OR '1'='1", "/api/v1/messages/1;DROP", "/api/v1/mailboxes/%25/messages",
                         "/api/v1/mailboxes/inbox'--/messages"):
                status, _, _ = https.request("GET", path.replace(" ", "%20").replace("'", "%27"), token=token)
                self.assertEqual(status, 404, path)
            status, answer = https.json("PATCH", f"/api/v1/messages/{entry['id']}", {"seen": "1' OR '1'='1"},
                                        token=token)
            self.assertEqual(status, 400, answer)
            status, answer = https.json("PUT", "/api/v1/account/password",
                                        {"current": "' OR '1'='1", "new": "'; DROP TABLE accounts; --"}, token=token)
            self.assertEqual(status, 401, answer)
            status, listing = https.json("GET", "/api/v1/mailboxes/inbox/messages?limit=500", token=token)
            self.assertEqual(status, 200)
            self.assertIn(entry["id"], [message["id"] for message in listing["messages"]])
        finally:
            https.close()
        # POP3.
        with pop3_session(self.SOURCE, login=None) as client:
            for name in self.NAMES[:2]:
                self.assertEqual(client.command(f"USER {name}")[:3], "+OK")
                self.assertTrue(client.command(f"PASS {USERS['bob']}").startswith("-ERR [AUTH]"))
        with pop3_session(self.SOURCE, login=None) as client:
            for name in ("b_b", "bo%"):
                self.assertEqual(client.command(f"USER {name}")[:3], "+OK")
                self.assertTrue(client.command(f"PASS {USERS['bob']}").startswith("-ERR [AUTH]"))
        # Nothing changed where it must not have.
        self.assertEqual(D.query(accounts_sql), accounts)
        self.assertEqual(D.query("SELECT count(*) FROM messages WHERE subject = ?", (subject,))[0][0], 1)
        tables_sql = ("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                      if D.engine() == "postgresql" else "SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = {row[0] for row in D.query(tables_sql)}
        self.assertTrue({"accounts", "messages", "mailbox_entries", "api_tokens"} <= tables, tables)
        log(f"  {len(self.NAMES)} hostile names refused everywhere; subject stored and shown byte-exact")
        self.assert_served("after SQL metacharacters")


# --- 9 -------------------------------------------------------------------------

class OneGibibyte(HostileTestCase):
    """1 GiB of DATA (the limit is the default 25 MiB): read to the end in flat
    memory, answered 552 5.3.4, nothing stored; tests/servers/smtp/test_smtp_memory.py's
    approach through the harness, with the RSS sampled every 0.5 s."""

    def test_one_gibibyte_of_data(self):
        messages_before = D.query("SELECT count(*) FROM messages")[0][0]
        samples = []
        done = threading.Event()

        def sample():
            while not done.is_set():
                samples.append(SMTP.rss_kib())
                done.wait(0.5)

        with smtp_session("127.0.0.52") as client:
            client.command(f"MAIL FROM:<alice@{DOMAIN}>", expect=250)
            client.command(f"RCPT TO:<bob@{DOMAIN}>", expect=250)
            client.command("DATA", expect=354)
            client.sock.settimeout(120)
            chunk = (b"y" * 998 + b"\r\n") * 4096  # 4 MiB
            start = SMTP.rss_kib()
            sampler = Background(sample)
            started = time.monotonic()
            sent = 0
            while sent < GIB:
                client.sock.sendall(chunk)
                sent += len(chunk)
            client.send(b".\r\n")
            code, reply = client.reply()
            elapsed = time.monotonic() - started
            done.set()
            sampler.outcome(5)
            end = SMTP.rss_kib()
            samples.append(end)
            peak = max(samples)
            log(f"  1 GiB DATA in {elapsed:.1f} s ({sent / MIB / elapsed:.0f} MiB/s): smtpd RSS start {start} KiB, "
                f"max {peak} KiB (+{peak - start}), end {end} KiB, {len(samples)} samples; answer {reply!r}")
            self.assertEqual(code, 552, reply)
            self.assertIn("5.3.4", reply)
            self.assertLess(peak - start, 64 * 1024 + ASAN_RSS_ALLOWANCE_KIB, "smtpd's memory grew with the data")
            client.command("NOOP", expect=250)
            client.command("QUIT", expect=221)
        self.assertEqual(D.query("SELECT count(*) FROM messages")[0][0], messages_before)
        self.assert_served("after 1 GiB of DATA")


# --- 10 ------------------------------------------------------------------------

def header_of_size(size, subject):
    """A header section of exactly `size` octets with its empty line: From
    alice, To bob, the subject, then X-Pad: lines of at most 900 octets."""
    head = f"From: alice@{DOMAIN}\r\nTo: bob@{DOMAIN}\r\nSubject: {subject}\r\n".encode()
    while len(head) + 2 < size:
        room = size - 2 - len(head)
        line = room if room <= 900 else min(900, room - 10)
        head += b"X-Pad: " + b"p" * (line - 9) + b"\r\n"
    assert len(head) + 2 == size
    return head + b"\r\n"


class HugeHeaders(HostileTestCase):
    """The probe's high-severity attack (found: smtpd +1.09 GB RSS, 29 s of
    CPU for one message; webd stalled 18 s listing it): a 25 MB message whose
    To: holds 2.6 million short addresses, and one whose header section is
    one octet over the 256 KiB limit, each on a connection of its own, while
    two normal clients keep sending, listing and reading on all three
    servers. Both are read to the end and refused with 552 5.3.4 Header
    section too large, nothing of them is stored, every normal client is
    served (their latencies are printed, not asserted), and smtpd's peak RSS
    stays under its baseline plus twice the 25 MiB message size limit: what
    holding the whole message and one copy would take, where a header
    dropped at 256 KiB needs a few MiB."""

    SOURCE = "127.0.0.53"

    def attack(self, message):
        with smtp_session(self.SOURCE) as client:
            client.sock.settimeout(120)
            started = time.monotonic()
            answer = client.send_message(f"alice@{DOMAIN}", [f"bob@{DOMAIN}"], message)
            elapsed = time.monotonic() - started
            after = client.command("NOOP")
            client.command("QUIT")
            return answer, after, elapsed

    @staticmethod
    def normal_traffic(stop, order):
        """serve_* in turn until `stop` is set, one round at least: {kind: [seconds]}."""
        serve = {"smtp": serve_smtp, "web": serve_web, "pop3": serve_pop3}
        latencies = {kind: [] for kind in order}
        while True:
            for kind in order:
                latencies[kind].append(serve[kind]())
            if stop.is_set():
                return latencies

    def test_huge_header_sections(self):
        huge_subject, over_subject = f"huge to {next(_counter)}", f"just over {next(_counter)}"
        huge, count = huge_to_message(25 * 1000 * 1000, huge_subject)
        over = header_of_size(256 * 1024 + 1, over_subject) + b"body\r\n"
        self.assertGreater(count, 2_600_000)
        self.assertLess(len(huge), 25 * MIB)
        baseline = SMTP.rss_kib()
        samples = [baseline]
        done = threading.Event()

        def sample():
            while not done.is_set():
                samples.append(SMTP.rss_kib())
                done.wait(0.05)

        sampler = Background(sample)
        traffic = [Background(self.normal_traffic, done, ("smtp", "web", "pop3")),
                   Background(self.normal_traffic, done, ("web", "pop3", "smtp"))]
        started = time.monotonic()
        attacks = {"2.6 M addresses": Background(self.attack, huge),
                   "256 KiB + 1": Background(self.attack, over)}
        results = {name: attack.outcome(120) for name, attack in attacks.items()}
        attack_seconds = time.monotonic() - started
        done.set()
        latencies = [run.outcome(120) for run in traffic]
        sampler.outcome(5)
        samples.append(SMTP.rss_kib())
        peak = max(samples)
        for name, ((code, reply), (noop, _), elapsed) in results.items():
            log(f"  {name}: {code} {reply!r} after {elapsed:.2f} s; NOOP then {noop}")
        log(f"  smtpd RSS baseline {baseline} KiB, peak {peak} KiB (+{(peak - baseline) // 1024} MiB), "
            f"end {samples[-1]} KiB; attacks done in {attack_seconds:.1f} s")
        for kind in ("smtp", "web", "pop3"):
            seen = sorted(seconds for run in latencies for seconds in run[kind])
            log(f"  normal {kind} meanwhile: {len(seen)} served, {seen[0] * 1000:.0f} ms min, "
                f"{seen[len(seen) // 2] * 1000:.0f} ms median, {seen[-1] * 1000:.0f} ms max")
        for name, ((code, reply), (noop, _), _) in results.items():
            with self.subTest(name):
                self.assertEqual((code, reply), (552, "552 5.3.4 Header section too large"))
                self.assertEqual(noop, 250, "the session goes on after the refusal")
        self.assertLess(peak - baseline, 2 * 25 * 1024 + ASAN_RSS_ALLOWANCE_KIB,
                        "smtpd's memory grew with the header section")
        for subject in (huge_subject, over_subject):
            self.assertEqual(D.query("SELECT count(*) FROM messages WHERE subject = ?", (subject,))[0][0], 0)
        self.assert_served("after huge header sections")


if __name__ == "__main__":
    BINARIES, rest = binaries_from_argv(sys.argv)
    unittest.main(argv=rest, verbosity=2)
