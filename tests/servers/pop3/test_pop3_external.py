#!/usr/bin/env python3
"""mailroom-pop3d against real outside clients: Python's poplib, curl and a
raw socket, over STLS and implicit TLS, with certificate verification
against the data directory's own certificate (never unverified). Mail is
sent through the real mailroom-smtpd with smtplib; results are checked in
the database (the SQLite file, read-only, or in a postgres run, with
MAILROOM_TEST_POSTGRES set, a PostgreSQL database of its own on the suite's
throw-away server), as docs/protocol/pop3.md and docs/protocol/messages.md
describe them.

    test_pop3_external.py --pop3d PATH --smtpd PATH --ctl PATH [unittest options, e.g. -v]

One data directory (mailroomctl init, alice and bob) serves the whole run:
one mailroom-smtpd and one mailroom-pop3d on ports the system picks, plus
short-lived mailroom-pop3d processes of their own for the idle timeout, the
login throttle and SIGTERM. Tests that count messages get an account of
their own, so that they do not depend on each other. Every server is
stopped with SIGTERM (exit code 0 expected) and killed if it does not
stop."""

import argparse
import base64
import contextlib
import email.utils
import os
import pathlib
import poplib
import re
import select
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from mailroom_harness import Daemon, TestDatabase  # noqa: E402

POP3D = SMTPD = CTL = None
ITERATIONS = "1000"
DOMAIN = "project.com"
HOSTNAME = "localhost"
CLIENT_NAME = "client.example"
TIMEOUT = 15
CURL = shutil.which("curl")
GETMAIL = shutil.which("getmail")

PASSWORDS = {"alice": "alice-secret-1", "bob": "bob-secret-22"}
WELCOME = b"+OK Mailroom POP3 ready"
CAPABILITIES = ["USER", "SASL", "UIDL", "TOP", "PIPELINING", "RESP-CODES", "AUTH-RESP-CODE"]

# The module's fixture (setUpModule): one data directory, smtpd and pop3d.
FIXTURE = None


def run_quietly(command, **kwargs):
    return subprocess.run(command, stdin=kwargs.pop("stdin", subprocess.DEVNULL), capture_output=True,
                          timeout=kwargs.pop("timeout", 60), **kwargs)


def unique(what):
    return f"{what} {uuid.uuid4().hex[:12]}"


def crlf(*lines):
    return b"".join((line.encode() if isinstance(line, str) else line) + b"\r\n" for line in lines)


def make_message(subject, sender, recipient, body=b"Hello from the POP3 tests.\r\n"):
    """A complete RFC 5322 message (From, To, Subject, Date, Message-ID), so
    that the server adds nothing but its Return-Path: and Received: fields."""
    head = crlf(f"From: {sender}", f"To: {recipient}", f"Subject: {subject}",
                f"Date: {email.utils.formatdate(localtime=True)}",
                f"Message-ID: <{uuid.uuid4().hex}@{CLIENT_NAME}>")
    return head + b"\r\n" + body


def dot_stuffed(raw):
    """What RFC 1939 §3 puts on the wire for raw: leading dots doubled, '.' line at the end."""
    out = re.sub(rb"(?m)^\.", b"..", raw)
    if not out.endswith(b"\r\n"):
        out += b"\r\n"
    return out + b".\r\n"


def joined(lines):
    """poplib's list of lines (CRLF stripped, dot-stuffing undone) back to bytes."""
    return b"".join(line + b"\r\n" for line in lines)


class Fixture:
    """The data directory with alice and bob, one smtpd, one pop3d and any extra pop3d processes."""

    def __init__(self):
        self.directory = tempfile.mkdtemp(prefix="mailroom-pop3-external-")
        self.data = str(pathlib.Path(self.directory) / "data")
        self.cert = str(pathlib.Path(self.data) / "tls" / "cert.pem")
        self.database = str(pathlib.Path(self.data) / "mailroom.db")
        self.servers = []
        self.secrets = set(PASSWORDS.values())
        self.passwords = dict(PASSWORDS)
        self.smtpd = self.pop3d = None
        self.db = TestDatabase(self.data)  # the SQLite file, or a PostgreSQL database of its own

    def common_args(self):
        return ["--data-dir", self.data, "--hostname", HOSTNAME, "--pbkdf2-iterations", ITERATIONS, *self.db.args()]

    def init(self):
        result = run_quietly([CTL, *self.common_args(), "init"])
        if result.returncode != 0:
            raise AssertionError(f"mailroomctl init: expected exit code 0, got {result.returncode}: {result.stderr!r}")
        if not os.path.exists(self.cert):
            raise AssertionError(f"mailroomctl init made no {self.cert}")
        for name, password in PASSWORDS.items():
            self.add_user(name, password)

    def add_user(self, name, password):
        result = run_quietly([CTL, "--data-dir", self.data, "--pbkdf2-iterations", ITERATIONS, *self.db.args(),
                              "add-user", name],
                             stdin=None, input=(password + "\n").encode())
        if result.returncode != 0:
            raise AssertionError(f"mailroomctl add-user {name}: expected exit code 0, got {result.returncode}: "
                                 f"{result.stderr!r}")
        self.passwords[name] = password
        self.secrets.add(password)

    def new_account(self):
        """A fresh account with an empty inbox: (name, password)."""
        name = "u" + uuid.uuid4().hex[:10]
        password = "pw-" + uuid.uuid4().hex[:16]
        self.add_user(name, password)
        return name, password

    def start_smtpd(self):
        self.smtpd = Daemon("mailroom-smtpd", [SMTPD, *self.common_args(), "--listen", "127.0.0.1:0"], 1)
        self.servers.append(self.smtpd)

    def start_pop3d(self, *extra, listeners=2, name="mailroom-pop3d"):
        server = Daemon(name, [POP3D, *self.common_args(), "--listen", "127.0.0.1:0",
                                      "--listen-tls", "127.0.0.1:0", *extra], listeners)
        self.servers.append(server)
        return server

    def context(self):
        """A verifying client context: the data directory's certificate, host name checked."""
        context = ssl.create_default_context(cafile=self.cert)
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        return context

    # Mail through mailroom-smtpd

    def send(self, sender, recipients, message, mail_options=()):
        """smtplib: STARTTLS, AUTH, one message; returns the refused-recipients dict."""
        with smtplib.SMTP("127.0.0.1", self.smtpd.port, local_hostname=CLIENT_NAME, timeout=TIMEOUT) as client:
            client.ehlo()
            client.starttls(context=self.context())
            client.ehlo()
            client.login(sender, self.passwords[sender])
            return client.sendmail(f"{sender}@{DOMAIN}", [f"{name}@{DOMAIN}" for name in recipients], message,
                                   mail_options=list(mail_options))

    def deliver(self, sender, recipient, subject=None, body=b"Hello from the POP3 tests.\r\n"):
        """Sends one message; returns the bytes that were sent."""
        message = make_message(subject or unique("pop3 test"), f"{sender}@{DOMAIN}", f"{recipient}@{DOMAIN}", body)
        refused = self.send(sender, [recipient], message)
        if refused:
            raise AssertionError(f"smtplib: recipients refused: {refused}")
        return message

    # The database, read-only

    def query(self, sql, params=()):
        return self.db.query(sql, params)

    def inbox(self, username):
        """[(entry id, message id, seen, raw bytes)] of an account's inbox, oldest first."""
        return [(row[0], row[1], row[2], bytes(row[3])) for row in self.query(
            "SELECT e.id, e.message_id, e.seen, m.raw FROM mailbox_entries e"
            " JOIN accounts a ON a.id = e.owner_id JOIN messages m ON m.id = e.message_id"
            " JOIN folders f ON f.id = e.folder_id WHERE a.username = ? AND f.role = 'inbox' ORDER BY e.id", (username,))]

    def entries_of_message(self, message_id):
        """Sorted [(username, folder, seen)] of a message's mailbox entries."""
        return sorted(self.query(
            "SELECT a.username, f.role, e.seen FROM mailbox_entries e JOIN accounts a ON a.id = e.owner_id"
            " JOIN folders f ON f.id = e.folder_id WHERE e.message_id = ?", (message_id,)))

    def message_exists(self, message_id):
        return bool(self.query("SELECT 1 FROM messages WHERE id = ?", (message_id,)))

    def seen(self, entry_id):
        rows = self.query("SELECT seen FROM mailbox_entries WHERE id = ?", (entry_id,))
        return rows[0][0] if rows else None

    def stop_all(self):
        """SIGTERM to every server still running: [(name, exit code)]."""
        return [(server.name, server.stop()) for server in self.servers if server.process.returncode is None]

    def cleanup(self):
        for server in self.servers:
            server.kill()
        self.db.drop()
        shutil.rmtree(self.directory, ignore_errors=True)


def setUpModule():
    global FIXTURE
    FIXTURE = Fixture()
    unittest.addModuleCleanup(FIXTURE.cleanup)  # kills every child even when something failed
    FIXTURE.init()
    FIXTURE.start_smtpd()
    FIXTURE.pop3d = FIXTURE.start_pop3d()


def tearDownModule():
    codes = FIXTURE.stop_all()
    problems = [f"{name} after SIGTERM: expected exit code 0, got {code}" for name, code in codes if code != 0]
    for server in FIXTURE.servers:
        log = server.log_text()
        for secret in FIXTURE.secrets:
            if secret in log:
                problems.append(f"a password ({secret[:6]}...) appears in the log of {server.name}")
        if re.search(r"wrong-password-\d", log):
            problems.append(f"a wrong password (wrong-password-N) appears in the log of {server.name}")
    if problems:
        raise AssertionError("; ".join(problems))


class RawPop3:
    """A POP3 connection at the byte level: nothing is interpreted, nothing buffered beyond what was read."""

    def __init__(self, port, context=None, source=None, timeout=TIMEOUT):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=source)
        if context is not None:
            self.sock = context.wrap_socket(self.sock, server_hostname="127.0.0.1")
        self.buffer = b""

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        self.buffer += chunk
        return bool(chunk)

    def line(self):
        """The next line with its CRLF; b'' at the end of the stream (what was left when it ended without CRLF)."""
        while b"\r\n" not in self.buffer:
            if not self._fill():
                rest, self.buffer = self.buffer, b""
                return rest
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line + b"\r\n"

    def command(self, text):
        self.send(text + "\r\n")
        return self.line()

    def multiline_body(self):
        """The raw bytes after a +OK line up to and including the terminating '.\\r\\n'."""
        data = b""
        while True:
            line = self.line()
            if not line:
                raise AssertionError(f"the connection ended inside a multi-line response after {data[-200:]!r}")
            data += line
            if line == b".\r\n":
                return data

    def pending(self, wait=0.3):
        """Bytes that arrive within `wait` seconds beyond what was read (plain sockets)."""
        data = self.buffer
        readable, _, _ = select.select([self.sock], [], [], wait)
        if readable:
            try:
                data += self.sock.recv(65536)
            except (ssl.SSLError, OSError):
                pass
        return data

    def starttls(self, context):
        self.sock = context.wrap_socket(self.sock, server_hostname="127.0.0.1")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Pop3TestCase(unittest.TestCase):
    """Clients of the module's mailroom-pop3d."""

    maxDiff = 4000

    @property
    def fx(self):
        return FIXTURE

    @property
    def server(self):
        return FIXTURE.pop3d

    def plain(self, server=None):
        """poplib before TLS, after the greeting."""
        return poplib.POP3("127.0.0.1", (server or self.server).port, timeout=TIMEOUT)

    def stls(self, server=None):
        client = self.plain(server)
        try:
            client.stls(context=self.fx.context())
        except BaseException:
            client.close()
            raise
        return client

    def implicit(self, server=None):
        return poplib.POP3_SSL("127.0.0.1", (server or self.server).tls_port, context=self.fx.context(),
                               timeout=TIMEOUT)

    def login(self, name, password=None, client=None):
        """STLS (unless a client is given) and USER/PASS; returns the poplib client."""
        client = client or self.stls()
        try:
            self.assertOk(client.user(name), "USER")
            self.assertOk(client.pass_(password or self.fx.passwords[name.split("@")[0]]), "PASS")
        except BaseException:
            client.close()
            raise
        return client

    def assertOk(self, response, what):
        self.assertTrue(response.startswith(b"+OK"), f"expected +OK to {what}, got {response!r}")

    def assertPopError(self, call, expected_start, what):
        """call() must raise poplib.error_proto whose response starts with expected_start (bytes)."""
        with self.assertRaises(poplib.error_proto, msg=f"expected {expected_start!r}... to {what}, got +OK") as caught:
            call()
        response = caught.exception.args[0]
        self.assertTrue(response.startswith(expected_start),
                        f"expected the response to {what} to start with {expected_start!r}, got {response!r}")
        return response

    def wait_until(self, predicate, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    def account_with(self, count, sender="bob", body=b"Hello from the POP3 tests.\r\n"):
        """A fresh account with `count` messages from sender: (name, password, [sent bytes])."""
        name, password = self.fx.new_account()
        sent = [self.fx.deliver(sender, name, body=body) for _ in range(count)]
        return name, password, sent


class StlsPoplibTests(Pop3TestCase):
    """Python's poplib over STLS (RFC 2595) on --listen."""

    def test_greeting(self):
        with contextlib.closing(self.plain()) as client:
            self.assertEqual(client.getwelcome(), WELCOME, "expected the greeting '+OK Mailroom POP3 ready'")

    def test_capa_lists_stls_before_tls_only(self):
        client = self.plain()
        try:
            before = client.capa()
            for name in ["STLS"] + CAPABILITIES:
                self.assertIn(name, before, f"expected {name} in CAPA before TLS, got {sorted(before)}")
            self.assertIn("PLAIN", before["SASL"], f"expected 'SASL PLAIN' in CAPA, got SASL {before['SASL']}")
            self.assertOk(client.stls(context=self.fx.context()), "STLS")
            after = client.capa()
            self.assertNotIn("STLS", after, f"expected no STLS in CAPA after STLS, got {sorted(after)}")
            for name in CAPABILITIES:
                self.assertIn(name, after, f"expected {name} in CAPA after TLS, got {sorted(after)}")
            self.assertIn("PLAIN", after["SASL"], f"expected 'SASL PLAIN' in CAPA after TLS, got {after['SASL']}")
            self.assertPopError(lambda: client._shortcmd("STLS"), b"-ERR",
                                "a second STLS (TLS already active)")
        finally:
            client.close()

    def test_user_pass_and_auth_before_tls_are_refused(self):
        client = self.plain()
        try:
            self.assertPopError(lambda: client.user("alice"), b"-ERR [AUTH]", "USER alice before TLS")
            self.assertPopError(lambda: client.pass_(PASSWORDS["alice"]), b"-ERR [AUTH]", "PASS before TLS")
            plain = base64.b64encode(f"\0alice\0{PASSWORDS['alice']}".encode()).decode()
            self.assertPopError(lambda: client._shortcmd("AUTH PLAIN " + plain), b"-ERR [AUTH]",
                                "AUTH PLAIN with the right credentials before TLS")
            self.assertPopError(client.stat, b"-ERR", "STAT before login")
        finally:
            client.close()

    def test_wrong_password_and_unknown_user(self):
        with contextlib.closing(self.stls()) as client:
            self.assertOk(client.user("alice"), "USER alice")
            self.assertPopError(lambda: client.pass_("wrong-password-1"), b"-ERR [AUTH] Invalid credentials",
                                "PASS with a wrong password")
            self.assertOk(client.user("nobody-here"), "USER of an unknown account (no user enumeration)")
            self.assertPopError(lambda: client.pass_("wrong-password-2"), b"-ERR [AUTH] Invalid credentials",
                                "PASS for an unknown account")
            self.assertPopError(client.stat, b"-ERR", "STAT after failed logins")
        with contextlib.closing(self.login("alice")) as client:
            self.assertOk(client.noop(), "NOOP after a good login on a new connection")

    def test_full_session(self):
        name, password, sent = self.account_with(2)
        inbox = self.fx.inbox(name)
        self.assertEqual(len(inbox), 2, "expected 2 inbox entries after sending 2 messages")
        raws = [row[3] for row in inbox]
        for raw, message in zip(raws, sent):
            self.assertTrue(raw.endswith(message), "expected the stored message to end with the sent bytes")
        client = self.login(name, password)
        try:
            self.assertEqual(client.stat(), (2, sum(len(raw) for raw in raws)),
                             "expected STAT: 2 messages and the sum of the stored sizes")
            response, lines, _ = client.list()
            self.assertOk(response, "LIST")
            self.assertEqual(lines, [f"{i + 1} {len(raw)}".encode() for i, raw in enumerate(raws)],
                             "expected LIST: 'n size' with the stored sizes")
            self.assertEqual(client.list(2), f"+OK 2 {len(raws[1])}".encode(), "expected LIST 2 -> '+OK 2 size'")
            response, lines, _ = client.uidl()
            self.assertEqual(lines, [f"{i + 1} {row[0]}".encode() for i, row in enumerate(inbox)],
                             "expected UIDL: 'n uid' with the entry ids")
            self.assertEqual(client.uidl(1), f"+OK 1 {inbox[0][0]}".encode(), "expected UIDL 1 -> '+OK 1 uid'")
            response, lines, octets = client.retr(1)
            self.assertEqual(response, f"+OK {len(raws[0])} octets".encode(), "expected '+OK <size> octets' to RETR 1")
            self.assertEqual(joined(lines), raws[0], "expected RETR 1 to give the stored bytes")
            self.assertEqual(octets, len(raws[0]), "expected RETR octets to be the stored size")
            response, lines, _ = client.top(2, 0)
            self.assertOk(response, "TOP 2 0")
            self.assertEqual(joined(lines), raws[1].partition(b"\r\n\r\n")[0] + b"\r\n\r\n",
                             "expected TOP 2 0 to give the header and the blank line")
            response, lines, _ = client.top(1, 1000)
            self.assertEqual(joined(lines), raws[0], "expected TOP 1 1000 (more lines than the body has) to give "
                                                     "the whole message")
            self.assertOk(client.dele(1), "DELE 1")
            self.assertEqual(client.stat()[0], 1, "expected STAT to count 1 message after DELE 1")
            self.assertPopError(lambda: client.retr(1), b"-ERR", "RETR of a message marked deleted")
            self.assertPopError(lambda: client.list(3), b"-ERR", "LIST 3 (no such message)")
            self.assertOk(client.rset(), "RSET")
            self.assertEqual(client.stat()[0], 2, "expected STAT to count 2 messages after RSET")
            self.assertOk(client.noop(), "NOOP")
            self.assertOk(client.quit(), "QUIT")
        finally:
            client.close()
        self.assertEqual([row[0] for row in self.fx.inbox(name)], [row[0] for row in inbox],
                         "expected DELE undone by RSET to delete nothing at QUIT")

    def test_password_with_spaces(self):
        name = "u" + uuid.uuid4().hex[:10]
        password = f"pass with  spaces {uuid.uuid4().hex[:6]}"
        self.fx.add_user(name, password)
        with contextlib.closing(self.login(name, password)) as client:  # RFC 1939 §7: PASS takes the rest of the line
            self.assertEqual(client.stat(), (0, 0), "expected an empty maildrop after PASS with spaces")

    def test_login_with_the_full_address(self):
        with contextlib.closing(self.login(f"Alice@{DOMAIN.upper()}", PASSWORDS["alice"])) as client:
            self.assertOk(client.noop(), "NOOP after USER Alice@PROJECT.COM")


class ImplicitTlsTests(Pop3TestCase):
    """poplib.POP3_SSL on --listen-tls: the same dialogue, encrypted from the first byte."""

    def test_session_on_the_implicit_tls_port(self):
        name, password, _ = self.account_with(1)
        (entry_id, _, _, raw), = self.fx.inbox(name)
        client = self.implicit()
        try:
            self.assertEqual(client.getwelcome(), WELCOME, "expected the greeting on the implicit-TLS port")
            capabilities = client.capa()
            self.assertNotIn("STLS", capabilities, f"expected no STLS in CAPA with implicit TLS, got {sorted(capabilities)}")
            for capability in CAPABILITIES:
                self.assertIn(capability, capabilities, f"expected {capability} in CAPA with implicit TLS")
            self.assertPopError(lambda: client._shortcmd("STLS"), b"-ERR", "STLS on the implicit-TLS port")
            self.login(name, password, client=client)
            self.assertEqual(client.stat(), (1, len(raw)), "expected STAT '1 <stored size>'")
            self.assertEqual(client.list()[1], [f"1 {len(raw)}".encode()], "expected LIST '1 <stored size>'")
            self.assertEqual(client.uidl()[1], [f"1 {entry_id}".encode()], "expected UIDL '1 <entry id>'")
            response, lines, octets = client.retr(1)
            self.assertEqual(response, f"+OK {len(raw)} octets".encode())
            self.assertEqual(joined(lines), raw, "expected RETR 1 to give the stored bytes")
            self.assertOk(client.quit(), "QUIT")
        finally:
            client.close()


class MessageFidelityTests(Pop3TestCase):
    """A message with dot lines, 8-bit UTF-8 and CRLF, sent with smtplib, comes back byte for byte."""

    BODY = crlf("First line of the body.",
                ".one leading dot",
                "..two leading dots",
                ".",
                "...",
                "Non-ASCII: Grüße aus Köln, naïve café — 日本語 ✓",
                " .a dot after a space",
                "",
                "Last line.")

    def sent_message(self, name):
        head = crlf(f"From: alice@{DOMAIN}", f"To: {name}@{DOMAIN}", f"Subject: {unique('dots and utf-8')}",
                    f"Date: {email.utils.formatdate(localtime=True)}",
                    f"Message-ID: <{uuid.uuid4().hex}@{CLIENT_NAME}>", "MIME-Version: 1.0",
                    "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit")
        return head + b"\r\n" + self.BODY

    def test_retr_is_byte_for_byte_the_stored_message(self):
        name, password = self.fx.new_account()
        message = self.sent_message(name)
        self.assertEqual(self.fx.send("alice", [name], message, mail_options=["BODY=8BITMIME"]), {})
        (entry_id, _, _, raw), = self.fx.inbox(name)
        # RFC 5321 §4.4: the envelope sender on top (found missing: getmail
        # wrote "From unknown" for every message it fetched).
        self.assertTrue(raw.startswith(f"Return-Path: <alice@{DOMAIN}>\r\nReceived: ".encode()),
                        f"expected the stored message to start with Return-Path: and Received:, got {raw[:80]!r}")
        self.assertTrue(raw.endswith(message),
                        "expected the stored bytes to be the sent bytes under Return-Path: and Received:")

        client = self.login(name, password)
        try:
            self.assertEqual(client.list()[1], [f"1 {len(raw)}".encode()], "expected LIST '1 <stored size>'")
            response, lines, octets = client.retr(1)
            self.assertEqual(response, f"+OK {len(raw)} octets".encode(),
                             "expected '+OK <stored size> octets' to RETR")
            self.assertEqual(joined(lines), raw, "expected poplib's RETR lines to be the stored bytes exactly")
            # What a fetching client reads the envelope sender from.
            fetched = email.message_from_bytes(joined(lines))
            self.assertEqual(fetched.get_all("Return-Path"), [f"<alice@{DOMAIN}>"],
                             "expected one Return-Path: with the envelope sender in what RETR gives")
            self.assertEqual(octets, len(raw), "expected the octets poplib counted to be the LIST size")
            response, lines, _ = client.top(1, 3)
            self.assertOk(response, "TOP 1 3")
            head = raw.partition(b"\r\n\r\n")[0]
            self.assertEqual(joined(lines), head + b"\r\n\r\n" + b"".join(self.BODY.split(b"\r\n")[i] + b"\r\n"
                                                                         for i in range(3)),
                             "expected TOP 1 3: the header, the blank line and the first 3 body lines")
            client.quit()
        finally:
            client.close()

        # The wire bytes themselves: '+OK n octets', the dot-stuffed message, '.'.
        with RawPop3(self.server.tls_port, self.fx.context()) as raw_client:
            self.assertEqual(raw_client.line(), WELCOME + b"\r\n")
            self.assertTrue(raw_client.command(f"USER {name}").startswith(b"+OK"))
            self.assertTrue(raw_client.command(f"PASS {password}").startswith(b"+OK"))
            self.assertEqual(raw_client.command("RETR 1"), f"+OK {len(raw)} octets\r\n".encode())
            self.assertEqual(raw_client.multiline_body(), dot_stuffed(raw),
                             "expected RETR on the wire: the stored bytes with leading dots doubled, then '.'")
            self.assertEqual(raw_client.command(f"UIDL 1"), f"+OK 1 {entry_id}\r\n".encode())
            self.assertTrue(raw_client.command("QUIT").startswith(b"+OK"))


class MaildropTests(Pop3TestCase):
    """UIDL is stable across sessions; the maildrop is fixed at login (docs/protocol/pop3.md §4)."""

    def test_uids_are_stable_and_new_mail_shows_at_the_next_login(self):
        name, password, _ = self.account_with(2)
        first = self.login(name, password)
        try:
            uids = first.uidl()[1]
            self.assertEqual(len(uids), 2, f"expected 2 UIDL lines, got {uids}")
            self.fx.deliver("alice", name, subject=unique("arrives during a session"))
            self.assertEqual(len(self.fx.inbox(name)), 3, "expected the new message stored in the inbox")
            self.assertEqual(first.stat()[0], 2, "expected STAT in the open session to still count 2 messages "
                                                 "(maildrop fixed at login)")
            self.assertEqual(first.uidl()[1], uids, "expected UIDL in the open session unchanged")
            self.assertPopError(lambda: first.list(3), b"-ERR", "LIST 3 in the session opened before message 3")
            self.assertOk(first.quit(), "QUIT")
        finally:
            first.close()
        with contextlib.closing(self.login(name, password)) as second:
            self.assertEqual(second.stat()[0], 3, "expected STAT in the next session to count 3 messages")
            again = second.uidl()[1]
            self.assertEqual(again[:2], uids, "expected the same UIDs for the same messages in a second session")
            new_uid = again[2].split()[1]
            self.assertNotIn(new_uid, [line.split()[1] for line in uids], "expected a new UID for the new message")
            self.assertEqual(int(new_uid), self.fx.inbox(name)[2][0], "expected the new UID to be its entry id")
            second.quit()


class DeletionTests(Pop3TestCase):
    """DELE is applied at QUIT only, and only to the POP3 user's inbox entry."""

    def test_dele_then_dropped_connection_deletes_nothing(self):
        name, password, _ = self.account_with(2)
        before = self.fx.inbox(name)
        client = self.login(name, password)
        self.assertOk(client.dele(1), "DELE 1")
        self.assertOk(client.dele(2), "DELE 2")
        self.assertEqual(client.stat(), (0, 0), "expected STAT '0 0' after deleting both")
        mark = self.server.log_size()
        client.sock.close()  # no QUIT: the connection just ends
        client.file.close()
        self.server.wait_for_log(r"disconnected|closing", timeout=3, start=mark)
        time.sleep(0.3)
        self.assertEqual([row[0] for row in self.fx.inbox(name)], [row[0] for row in before],
                         "expected no inbox entry deleted when the connection drops after DELE without QUIT")
        with contextlib.closing(self.login(name, password)) as again:
            self.assertEqual(again.stat()[0], 2, "expected both messages in a new session after the dropped one")
            again.quit()

    def test_dele_then_quit_deletes_only_the_inbox_entry(self):
        name, password, _ = self.account_with(2)
        (first_entry, first_message, _, _), (second_entry, second_message, _, _) = self.fx.inbox(name)
        self.assertEqual(self.fx.entries_of_message(first_message), [("bob", "sent", 1), (name, "inbox", 0)],
                         "expected the message in bob's sent folder and the recipient's inbox before DELE")
        client = self.login(name, password)
        try:
            self.assertOk(client.dele(1), "DELE 1")
            response = client.quit()
            self.assertEqual(response, b"+OK Bye, 1 messages deleted", "expected QUIT to report 1 deletion")
        finally:
            client.close()
        self.assertEqual([row[0] for row in self.fx.inbox(name)], [second_entry],
                         "expected only message 1's inbox entry gone after DELE 1 and QUIT")
        self.assertEqual(self.fx.entries_of_message(first_message), [("bob", "sent", 1)],
                         "expected the sender's sent copy to stay after the recipient's POP3 DELE")
        self.assertTrue(self.fx.message_exists(first_message), "expected the message row kept for bob's sent copy")
        self.assertEqual(self.fx.entries_of_message(second_message), [("bob", "sent", 1), (name, "inbox", 0)])
        with contextlib.closing(self.login(name, password)) as again:
            self.assertEqual(again.uidl()[1], [f"1 {second_entry}".encode()],
                             "expected only the remaining message, now number 1, in the next session")
            again.quit()


class SeenTests(Pop3TestCase):
    """RETR marks the inbox entry seen; TOP does not."""

    def test_retr_marks_seen_and_top_does_not(self):
        name, password, _ = self.account_with(2)
        (first_entry, _, first_seen, _), (second_entry, _, second_seen, _) = self.fx.inbox(name)
        self.assertEqual((first_seen, second_seen), (0, 0), "expected new inbox entries unseen")
        client = self.login(name, password)
        try:
            self.assertOk(client.top(1, 5)[0], "TOP 1 5")
            self.assertOk(client.retr(2)[0], "RETR 2")
            self.assertOk(client.quit(), "QUIT")
        finally:
            client.close()
        self.assertTrue(self.wait_until(lambda: self.fx.seen(second_entry) == 1),
                        f"expected mailbox_entries.seen = 1 for the entry RETR fetched, got {self.fx.seen(second_entry)}")
        self.assertEqual(self.fx.seen(first_entry), 0, "expected mailbox_entries.seen = 0 for the entry only TOP fetched")


class AuthPlainTests(Pop3TestCase):
    """AUTH PLAIN (RFC 5034 with RFC 4616) after STLS: initial response and the '+ ' continuation."""

    @staticmethod
    def plain_response(authzid, authcid, password):
        return base64.b64encode(f"{authzid}\0{authcid}\0{password}".encode()).decode()

    def test_auth_plain_with_initial_response(self):
        name, password, _ = self.account_with(1)
        client = self.stls()
        try:
            self.assertEqual(client._shortcmd("AUTH PLAIN " + self.plain_response("", name, password))[:3], b"+OK",
                             "expected +OK to AUTH PLAIN with an initial response")
            self.assertEqual(client.stat()[0], 1, "expected the account's 1 message after AUTH PLAIN")
            client.quit()
        finally:
            client.close()

    def test_auth_plain_with_continuation(self):
        name, password, _ = self.account_with(1)
        client = self.implicit()
        try:
            self.assertEqual(client._shortcmd("AUTH PLAIN"), b"+ ", "expected the continuation '+ ' to AUTH PLAIN")
            self.assertEqual(client._shortcmd(self.plain_response(name, name, password))[:3], b"+OK",
                             "expected +OK to the base64 response (authzid = authcid)")
            self.assertEqual(client.stat()[0], 1, "expected the account's 1 message after AUTH PLAIN")
            client.quit()
        finally:
            client.close()

    def test_auth_plain_failures(self):
        client = self.stls()
        try:
            self.assertEqual(client._shortcmd("AUTH PLAIN"), b"+ ")
            self.assertPopError(lambda: client._shortcmd("*"), b"-ERR", "'*' (cancel) after the continuation")
            self.assertPopError(lambda: client._shortcmd("AUTH PLAIN " + self.plain_response("", "alice", "wrong-password-3")),
                                b"-ERR [AUTH] Invalid credentials", "AUTH PLAIN with a wrong password")
            self.assertPopError(lambda: client._shortcmd("AUTH PLAIN " + self.plain_response("bob", "alice", PASSWORDS["alice"])),
                                b"-ERR [AUTH]", "AUTH PLAIN acting for another user (authzid bob, authcid alice)")
            self.assertPopError(client.stat, b"-ERR", "STAT after failed AUTH")
        finally:
            client.close()


@unittest.skipUnless(CURL, "curl is not installed")
class CurlTests(Pop3TestCase):
    """curl's POP3: pop3:// with --ssl-reqd (STLS) and pop3s:// (implicit TLS), verifying the certificate."""

    def curl(self, url, name, password):
        return run_quietly([CURL, "--silent", "--show-error", "--max-time", "20", "--ssl-reqd", "--cacert",
                            self.fx.cert, url, "-u", f"{name}:{password}"])

    def assertCurlOk(self, result, what):
        self.assertEqual(result.returncode, 0, f"expected curl {what} to exit with 0, got {result.returncode}: "
                                               f"{result.stderr!r}; server log:\n{self.server.log_text(15)}")

    def test_retr_list_over_stls_and_implicit_tls(self):
        name, password, _ = self.account_with(2, body=crlf("curl body", ".dot line", "end"))
        inbox = self.fx.inbox(name)
        first_raw = inbox[0][3]

        result = self.curl(f"pop3://127.0.0.1:{self.server.port}/1", name, password)
        self.assertCurlOk(result, "pop3://.../1")
        self.assertEqual(result.stdout, first_raw, "expected curl pop3://.../1 to print message 1 as stored")

        result = self.curl(f"pop3s://127.0.0.1:{self.server.tls_port}/2", name, password)
        self.assertCurlOk(result, "pop3s://.../2")
        self.assertEqual(result.stdout, inbox[1][3], "expected curl pop3s://.../2 to print message 2 as stored")

        result = self.curl(f"pop3://127.0.0.1:{self.server.port}/", name, password)
        self.assertCurlOk(result, "pop3://.../ (LIST)")
        expected = b"".join(f"{i + 1} {len(row[3])}\r\n".encode() for i, row in enumerate(inbox))
        self.assertEqual(result.stdout, expected, "expected curl's listing to be '1 SIZE' lines with the stored sizes")

    def test_curl_rejects_a_wrong_password(self):
        result = self.curl(f"pop3s://127.0.0.1:{self.server.tls_port}/", "alice", "wrong-password-4")
        self.assertEqual(result.returncode, 67, f"expected curl to fail the login (exit code 67), got "
                                                f"{result.returncode}: {result.stderr!r}")


@unittest.skipUnless(GETMAIL, "getmail (Debian's getmail6) is not installed")
class GetmailTests(Pop3TestCase):
    """getmail6 fetching over implicit TLS into an mboxrd file. Found: it wrote
    "From unknown" for every message, for want of a Return-Path: (RFC 5321
    §4.4); the mbox separator names the envelope sender now."""

    def test_mbox_separator_names_the_envelope_sender(self):
        name, password = self.fx.new_account()
        sent = self.fx.deliver("alice", name, subject=unique("for getmail"))
        work = pathlib.Path(tempfile.mkdtemp(prefix="mailroom-getmail-"))
        self.addCleanup(shutil.rmtree, work, ignore_errors=True)
        mbox = work / "mbox"
        mbox.touch()
        # getmail refuses to deliver to a file as root: as nobody then.
        as_user = ""
        if os.geteuid() == 0:
            as_user = "user = nobody\n"
            os.chmod(work, 0o777)
            os.chmod(mbox, 0o666)
        rcfile = work / "getmailrc"
        rcfile.write_text(f"[retriever]\ntype = SimplePOP3SSLRetriever\nserver = localhost\n"
                          f"port = {self.server.tls_port}\nusername = {name}\npassword = {password}\n"
                          f"ca_certs = {self.fx.cert}\n\n[destination]\ntype = Mboxrd\npath = {mbox}\n{as_user}\n"
                          f"[options]\nread_all = true\ndelete = false\n")
        result = run_quietly([GETMAIL, "--getmaildir", str(work), "--rcfile", str(rcfile)])
        self.assertEqual(result.returncode, 0, f"expected getmail to exit with 0: {result.stdout!r} {result.stderr!r}")
        written = mbox.read_bytes()
        separator = written.split(b"\n", 1)[0]
        self.assertTrue(separator.startswith(f"From alice@{DOMAIN} ".encode()),
                        f"expected the mbox separator to name the envelope sender, got {separator!r}")
        self.assertIn(f"\nReturn-Path: <alice@{DOMAIN}>\n".encode(), written)
        self.assertIn(sent.split(b"\r\n", 1)[0].replace(b"\r", b""), written)


class StlsInjectionTests(Pop3TestCase):
    """Commands pipelined after STLS in clear text are never executed (RFC 2595 §4, CVE-2011-0411 style)."""

    def test_user_pipelined_after_stls_is_not_executed(self):
        with RawPop3(self.server.port) as client:
            self.assertEqual(client.line(), WELCOME + b"\r\n", "expected the greeting")
            client.send(b"STLS\r\nUSER alice\r\n")  # one write, one TCP segment
            self.assertEqual(client.line(), b"+OK Begin TLS negotiation\r\n", "expected '+OK Begin TLS negotiation'")
            stray = client.pending(0.3)
            self.assertEqual(stray, b"", "expected nothing in clear after STLS's +OK (the pipelined USER answered?)")
            client.starttls(self.fx.context())
            first = client.command("CAPA")
            self.assertEqual(first, b"+OK Capability list follows\r\n",
                             "expected the first response after TLS to be CAPA's, not one to the pipelined USER")
            capabilities = client.multiline_body()
            self.assertNotIn(b"STLS\r\n", capabilities, "expected no STLS in CAPA after TLS")
            response = client.command(f"PASS {PASSWORDS['alice']}")
            self.assertTrue(response.startswith(b"-ERR"),
                            f"expected -ERR to PASS without USER after TLS (the pipelined USER must be "
                            f"forgotten), got {response!r}")
            self.assertTrue(client.command("STAT").startswith(b"-ERR"), "expected STAT refused: not logged in")
            self.assertEqual(client.command("QUIT"), b"+OK Bye\r\n")


class PipeliningTests(Pop3TestCase):
    """CAPA says PIPELINING (RFC 2449 §6.6): commands sent in one write are all answered, in order."""

    def test_pipelined_commands_are_answered_in_order(self):
        name, password, _ = self.account_with(2)
        inbox = self.fx.inbox(name)
        with RawPop3(self.server.tls_port, self.fx.context()) as client:
            self.assertEqual(client.line(), WELCOME + b"\r\n")
            # Lower-case verbs too: RFC 1939 §3, keywords are case-insensitive.
            client.send(f"user {name}\r\npass {password}\r\nSTAT\r\nlist\r\nUIDL 2\r\nNOOP\r\nQUIT\r\n")
            self.assertEqual(client.line(), b"+OK Send the password\r\n", "expected +OK to the pipelined USER")
            self.assertTrue(client.line().startswith(b"+OK"), "expected +OK to the pipelined PASS")
            total = sum(len(row[3]) for row in inbox)
            self.assertEqual(client.line(), f"+OK 2 {total}\r\n".encode(), "expected '+OK 2 <octets>' to STAT")
            self.assertTrue(client.line().startswith(b"+OK"), "expected +OK to LIST")
            self.assertEqual(client.multiline_body(),
                             f"1 {len(inbox[0][3])}\r\n2 {len(inbox[1][3])}\r\n.\r\n".encode(),
                             "expected the scan listing of LIST")
            self.assertEqual(client.line(), f"+OK 2 {inbox[1][0]}\r\n".encode(), "expected '+OK 2 <uid>' to UIDL 2")
            self.assertEqual(client.line(), b"+OK\r\n", "expected +OK to NOOP")
            self.assertTrue(client.line().startswith(b"+OK Bye"), "expected '+OK Bye' to QUIT")
            self.assertEqual(client.line(), b"", "expected the connection closed after QUIT")

    def test_unknown_and_out_of_state_commands(self):
        with RawPop3(self.server.tls_port, self.fx.context()) as client:
            self.assertEqual(client.line(), WELCOME + b"\r\n")
            # 8 errors in all: the 10th error ends the connection (test_ten_errors_end_the_connection).
            for command in ("FOO", "RETR 1", "APOP alice 0123456789abcdef0123456789abcdef"):
                response = client.command(command)
                self.assertTrue(response.startswith(b"-ERR"), f"expected -ERR to {command!r} before login, "
                                                              f"got {response!r}")
            self.assertTrue(client.command("USER alice").startswith(b"+OK"))
            self.assertTrue(client.command(f"PASS {PASSWORDS['alice']}").startswith(b"+OK"))
            for command in ("USER bob", "STLS", "RETR 0", "TOP 1", "LIST 999999"):
                response = client.command(command)
                self.assertTrue(response.startswith(b"-ERR"), f"expected -ERR to {command!r} after login, "
                                                              f"got {response!r}")
            self.assertTrue(client.command("QUIT").startswith(b"+OK"))

    def test_ten_errors_end_the_connection(self):
        with RawPop3(self.server.tls_port, self.fx.context()) as client:
            self.assertEqual(client.line(), WELCOME + b"\r\n")
            client.send(b"FOO\r\n" * 12)
            lines = [client.line() for _ in range(12)]
            for number, line in enumerate(lines[:10], 1):
                self.assertTrue(line.startswith(b"-ERR "), f"expected -ERR to unknown command {number}, got {line!r}")
            self.assertTrue(lines[10].startswith(b"-ERR [SYS/TEMP]"),
                            f"expected '-ERR [SYS/TEMP] Too many errors' after the 10th error, got {lines[10]!r}")
            self.assertEqual(lines[11], b"", "expected the connection closed after 10 errors")


class ConnectionLimitTests(Pop3TestCase):
    """mailroom-pop3d --max-connections-per-address 3 (docs/PROTOCOL.md §5: the same limits as SMTP)."""

    @classmethod
    def setUpClass(cls):
        cls.limited = FIXTURE.start_pop3d("--max-connections-per-address", "3",
                                          name="mailroom-pop3d --max-connections-per-address 3")

    @classmethod
    def tearDownClass(cls):
        code = cls.limited.stop()
        if code != 0:
            raise AssertionError(f"mailroom-pop3d --max-connections-per-address 3 after SIGTERM: expected exit "
                                 f"code 0, got {code}")

    def test_fourth_connection_from_one_address_is_refused(self):
        clients = []
        try:
            for number in range(1, 4):
                clients.append(RawPop3(self.limited.port, timeout=5))
                self.assertEqual(clients[-1].line(), WELCOME + b"\r\n", f"expected the greeting on connection {number}")
            clients.append(RawPop3(self.limited.port, timeout=5))
            self.assertEqual(clients[-1].line(), b"-ERR [SYS/TEMP] Too many connections\r\n",
                             "expected the 4th connection from 127.0.0.1 refused with '-ERR [SYS/TEMP] Too many "
                             "connections'")
            self.assertEqual(clients[-1].line(), b"", "expected the refused connection closed")
            self.assertEqual(clients[0].command("QUIT"), b"+OK Bye\r\n")
            self.assertEqual(clients[0].line(), b"")
            greeting = b""
            deadline = time.monotonic() + 3
            while greeting != WELCOME + b"\r\n" and time.monotonic() < deadline:
                with RawPop3(self.limited.port, timeout=5) as again:
                    greeting = again.line()
                time.sleep(0.05)
            self.assertEqual(greeting, WELCOME + b"\r\n", "expected a new connection served once one had ended")
        finally:
            for client in clients:
                client.close()


class IdleTimeoutTests(Pop3TestCase):
    """mailroom-pop3d --idle-timeout 2: idle connections end."""

    @classmethod
    def setUpClass(cls):
        cls.idle_server = FIXTURE.start_pop3d("--idle-timeout", "2", name="mailroom-pop3d --idle-timeout 2")

    @classmethod
    def tearDownClass(cls):
        code = cls.idle_server.stop()
        if code != 0:
            raise AssertionError(f"mailroom-pop3d --idle-timeout 2 after SIGTERM: expected exit code 0, got {code}")

    def assertClosedWithin(self, client, low, high, what):
        start = time.monotonic()
        received = b""
        try:
            while True:
                line = client.line()
                if not line:
                    break
                received += line
        except (socket.timeout, TimeoutError):
            self.fail(f"expected {what} closed by the server within {high} s, still open after "
                      f"{time.monotonic() - start:.1f} s")
        except (ConnectionResetError, ssl.SSLError):
            pass
        elapsed = time.monotonic() - start
        self.assertGreaterEqual(elapsed, low, f"expected {what} to stay open about 2 s, closed after {elapsed:.1f} s")
        self.assertLessEqual(elapsed, high, f"expected {what} closed within {high} s, took {elapsed:.1f} s")
        return received

    def test_idle_connections_are_closed(self):
        name, password, _ = self.account_with(1)
        plain = RawPop3(self.idle_server.port, timeout=8)
        logged_in = RawPop3(self.idle_server.tls_port, self.fx.context(), timeout=8)
        try:
            self.assertEqual(plain.line(), WELCOME + b"\r\n")
            self.assertEqual(logged_in.line(), WELCOME + b"\r\n")
            self.assertTrue(logged_in.command(f"USER {name}").startswith(b"+OK"))
            self.assertTrue(logged_in.command(f"PASS {password}").startswith(b"+OK"))
            self.assertTrue(logged_in.command("DELE 1").startswith(b"+OK"))
            self.assertClosedWithin(plain, 1.0, 6.0, "an idle connection before TLS")
            said = self.assertClosedWithin(logged_in, 0.0, 6.0, "an idle logged-in connection")
            self.assertTrue(said == b"" or said.startswith(b"-ERR"), f"expected -ERR (or nothing) at the timeout, "
                                                                  f"got {said!r}")
        finally:
            plain.close()
            logged_in.close()
        self.assertEqual(len(self.fx.inbox(name)), 1, "expected nothing deleted by a session that timed out")


    def test_a_slow_reader_gets_a_large_message_whole(self):
        # The client sends nothing while it reads a long RETR; reading is
        # activity all the same: the idle timeout (2 s here) and the close
        # grace (5 s) must not cut a download that takes longer than both.
        line = b"x" * 75 + b"\r\n"
        body = line * (12 * 1024 * 1024 // len(line))  # well beyond what loopback buffers hold
        name, password, _ = self.account_with(1, body=body)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        sock.settimeout(30)
        sock.connect(("127.0.0.1", self.idle_server.tls_port))
        client = RawPop3.__new__(RawPop3)
        client.sock = self.fx.context().wrap_socket(sock, server_hostname="127.0.0.1")
        client.buffer = b""
        try:
            self.assertEqual(client.line(), WELCOME + b"\r\n")
            self.assertTrue(client.command(f"USER {name}").startswith(b"+OK"))
            self.assertTrue(client.command(f"PASS {password}").startswith(b"+OK"))
            status = client.command("RETR 1")
            self.assertTrue(status.startswith(b"+OK"), f"RETR: {status!r}")
            octets = int(status.split()[1])
            received = bytearray(client.buffer)
            client.buffer = b""
            started = time.monotonic()
            while not received.endswith(b"\r\n.\r\n"):
                chunk = client.sock.recv(16384)
                if not chunk:
                    break
                received += chunk
                time.sleep(0.02)  # about 0.8 MB/s: 12 MB take far longer than timeout plus grace
            elapsed = time.monotonic() - started
            self.assertGreater(elapsed, 7.5, "the download was too fast to show anything")
            self.assertTrue(received.endswith(b"\r\n.\r\n"),
                            f"the message was cut after {len(received)} of about {octets} bytes ({elapsed:.1f} s)")
            self.assertNotIn(b"-ERR", bytes(received[-200:]))
            self.assertEqual(len(received) - 3, octets, "expected the octets the +OK line announced")
        finally:
            client.close()


class SourcedPOP3(poplib.POP3):
    """poplib from a chosen loopback address (each 127.x.y.z is a client address of its own)."""

    def __init__(self, host, port, source, timeout):
        self.source = source
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout, source_address=self.source)


class SourcedPOP3_SSL(poplib.POP3_SSL):
    def __init__(self, host, port, source, context, timeout):
        self.source = source
        super().__init__(host, port, context=context, timeout=timeout)

    def _create_socket(self, timeout):
        sock = socket.create_connection((self.host, self.port), timeout, source_address=self.source)
        return self.context.wrap_socket(sock, server_hostname=self.host)


class ThrottleTests(Pop3TestCase):
    """Failed logins per client address (docs/PROTOCOL.md §6, shared with SMTP), on a pop3d of its own.
    The failures are counted in the database every server of the module shares (the same section),
    so they come from an address no other test uses: the others' wrong passwords from
    127.0.0.1 count toward 127.0.0.1's budget on this pop3d too."""

    ATTACKER = ("127.0.0.30", 0)

    def implicit_from_attacker(self):
        return SourcedPOP3_SSL("127.0.0.1", self.throttled.tls_port, self.ATTACKER, self.fx.context(), TIMEOUT)

    def stls_from_attacker(self):
        client = SourcedPOP3("127.0.0.1", self.throttled.port, self.ATTACKER, TIMEOUT)
        try:
            client.stls(context=self.fx.context())
        except BaseException:
            client.close()
            raise
        return client

    @classmethod
    def setUpClass(cls):
        cls.throttled = FIXTURE.start_pop3d("--pbkdf2-iterations", "1000", name="mailroom-pop3d (throttle)")

    @classmethod
    def tearDownClass(cls):
        code = cls.throttled.stop()
        if code != 0:
            raise AssertionError(f"mailroom-pop3d (throttle) after SIGTERM: expected exit code 0, got {code}")

    def test_ten_failed_logins_then_even_the_right_password_is_refused(self):
        name, password, _ = self.account_with(1)
        responses = []
        client = None
        try:
            while len(responses) < 10:
                if client is None:
                    client = self.implicit_from_attacker()
                    failures_here = 0
                try:
                    client.user(name)
                    client.pass_(f"wrong-password-{len(responses)}")
                    responses.append(b"+OK (accepted!)")
                except poplib.error_proto as error:
                    responses.append(error.args[0])
                failures_here += 1
                if failures_here == 3 or responses[-1].startswith(b"-ERR [SYS/TEMP]"):
                    client.close()  # the server ends a connection after 3 failures
                    client = None
        finally:
            if client is not None:
                client.close()
        for number, response in enumerate(responses[:9], 1):
            self.assertEqual(response, b"-ERR [AUTH] Invalid credentials",
                             f"expected failed login {number} of 9 answered '-ERR [AUTH] Invalid credentials'")
        self.assertTrue(responses[9] in (b"-ERR [AUTH] Invalid credentials",)
                        or responses[9].startswith(b"-ERR [SYS/TEMP]"),
                        f"expected the 10th wrong password refused, got {responses[9]!r}")
        client = self.implicit_from_attacker()
        try:
            client.user(name)
            response = self.assertPopError(lambda: client.pass_(password), b"-ERR [SYS/TEMP]",
                                           "the right password after 10 failed logins from this address")
            self.assertIn(b"Too many failed logins", response)
        finally:
            client.close()
        client = self.stls_from_attacker()
        try:
            auth = base64.b64encode(f"\0{name}\0{password}".encode()).decode()
            self.assertPopError(lambda: client._shortcmd("AUTH PLAIN " + auth), b"-ERR [SYS/TEMP]",
                                "AUTH PLAIN with the right password after 10 failed logins")
        finally:
            client.close()
        # Counted per address: another loopback address still logs in.
        try:
            other = RawPop3(self.throttled.tls_port, self.fx.context(), source=("127.0.0.2", 0))
        except OSError as error:
            self.skipTest(f"cannot connect from 127.0.0.2: {error}")
        with other:
            self.assertEqual(other.line(), WELCOME + b"\r\n")
            other.command(f"USER {name}")
            self.assertTrue(other.command(f"PASS {password}").startswith(b"+OK"),
                            "expected a login from another address (127.0.0.2) to be accepted")
            other.command("QUIT")


class SigtermTests(Pop3TestCase):
    """SIGTERM: pop3d exits 0, and a session in progress deletes nothing it had marked."""

    def test_sigterm_stops_cleanly_and_deletes_nothing(self):
        name, password, _ = self.account_with(2)
        before = [row[0] for row in self.fx.inbox(name)]
        server = self.fx.start_pop3d(name="mailroom-pop3d (SIGTERM)")
        client = RawPop3(server.tls_port, self.fx.context(), timeout=10)
        try:
            self.assertEqual(client.line(), WELCOME + b"\r\n")
            self.assertTrue(client.command(f"USER {name}").startswith(b"+OK"))
            self.assertTrue(client.command(f"PASS {password}").startswith(b"+OK"))
            self.assertEqual(client.command("DELE 1"), b"+OK Message 1 deleted\r\n")
            self.assertEqual(client.command("DELE 2"), b"+OK Message 2 deleted\r\n")
            start = time.monotonic()
            code = server.stop(timeout=10)
            elapsed = time.monotonic() - start
            self.assertEqual(code, 0, f"expected mailroom-pop3d to exit with 0 on SIGTERM, got {code}; "
                                      f"log:\n{server.log_text(15)}")
            self.assertLess(elapsed, 5, f"expected mailroom-pop3d to stop promptly on SIGTERM, took {elapsed:.1f} s")
            rest = b""
            try:
                while True:
                    line = client.line()
                    if not line:
                        break
                    rest += line
            except (OSError, ssl.SSLError):
                pass
            self.assertTrue(rest == b"" or rest.startswith(b"-ERR"),
                            f"expected -ERR (or nothing) to the session at shutdown, got {rest!r}")
        finally:
            client.close()
            server.kill()
        self.assertEqual([row[0] for row in self.fx.inbox(name)], before,
                         "expected no inbox entry deleted by a session ended by SIGTERM after DELE")


def main():
    global POP3D, SMTPD, CTL
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pop3d", required=True, help="the mailroom-pop3d binary")
    parser.add_argument("--smtpd", required=True, help="the mailroom-smtpd binary")
    parser.add_argument("--ctl", required=True, help="the mailroomctl binary")
    arguments, rest = parser.parse_known_args()
    POP3D, SMTPD, CTL = arguments.pop3d, arguments.smtpd, arguments.ctl
    unittest.main(argv=[sys.argv[0]] + rest)


if __name__ == "__main__":
    main()
