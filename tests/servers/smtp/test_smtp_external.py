#!/usr/bin/env python3
"""mailroom-smtpd against real outside clients: Python's smtplib, curl and
swaks, talking to the real binary over TCP, with certificate verification
against the data directory's own certificate (never unverified). Results
are checked in the database (the SQLite file, read-only, or in a postgres
run, with MAILROOM_TEST_POSTGRES set, a PostgreSQL database of its own on the
suite's throw-away server), as docs/protocol/smtp.md and docs/protocol/messages.md
describe them.

    test_smtp_external.py --smtpd PATH --ctl PATH [unittest options, e.g. -v]

Each test class starts one server on ports the system picks, in a data
directory of its own, and stops it with SIGTERM (exit code 0 expected)."""

import argparse
import base64
import email.utils
import os
import pathlib
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from mailroom_harness import Daemon, TestDatabase  # noqa: E402
import uuid
from datetime import datetime, timedelta, timezone

SMTPD = None
CTL = None
ITERATIONS = "1000"
DOMAIN = "project.com"
HOSTNAME = "localhost"
CLIENT_NAME = "client.example"
TIMEOUT = 30

PASSWORDS = {
    "alice": "alice-secret-1",
    "bob": "bob-secret-22",
    "carol": "carol-secret-333",
}
ALICE = "alice@project.com"
BOB = "bob@project.com"
CAROL = "carol@project.com"

SWAKS = shutil.which("swaks")
CURL = shutil.which("curl")


def unique_subject(what):
    return f"{what} {uuid.uuid4().hex[:12]}"


def make_message(subject, sender=ALICE, to=(BOB,), body="Hello from the tests.\r\n", extra=(), with_from=True):
    """An RFC 5322 message as CRLF bytes."""
    lines = []
    if with_from:
        lines.append(f"From: {sender}")
    lines.append("To: " + ", ".join(to))
    lines.append(f"Subject: {subject}")
    lines.extend(extra)
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def header_fields(raw):
    """The header section of stored bytes, unfolded: [(lower-case name, value)]."""
    head = raw.partition(b"\r\n\r\n")[0]
    unfolded = re.sub(rb"\r\n(?=[ \t])", b"", head)
    fields = []
    for line in unfolded.split(b"\r\n"):
        name, _, value = line.partition(b":")
        fields.append((name.decode("latin-1").strip().lower(), value.strip().decode("utf-8", "replace")))
    return fields


def body_of(raw):
    return raw.partition(b"\r\n\r\n")[2]


RECEIVED = re.compile(
    r"from (?P<helo>\S+) \(\[(?P<ip>[^\]]+)\]\) by (?P<host>\S+) \(Mailroom\) with ESMTPSA id (?P<id>[A-Za-z0-9]+); (?P<date>.+)")


def run_quietly(command, **kwargs):
    return subprocess.run(command, stdin=kwargs.pop("stdin", subprocess.DEVNULL), capture_output=True,
                          timeout=kwargs.pop("timeout", 120), **kwargs)


def make_data_dir(directory, database_args=()):
    """`mailroomctl init` in directory/data, with PASSWORDS' accounts;
    database_args: TestDatabase.args(), nothing for the SQLite file."""
    data = str(pathlib.Path(directory) / "data")
    result = run_quietly([CTL, "--data-dir", data, "--hostname", HOSTNAME, "--pbkdf2-iterations", ITERATIONS,
                          *database_args, "init"])
    if result.returncode != 0:
        raise AssertionError(f"mailroomctl init: expected exit code 0, got {result.returncode}: {result.stderr!r}")
    for name, password in PASSWORDS.items():
        result = run_quietly([CTL, "--data-dir", data, "--pbkdf2-iterations", ITERATIONS, *database_args,
                              "add-user", name],
                             stdin=None, input=(password + "\n").encode())
        if result.returncode != 0:
            raise AssertionError(f"mailroomctl add-user {name}: expected exit code 0, got {result.returncode}: "
                                 f"{result.stderr!r}")
    return data


class Server:
    """One mailroom-smtpd process with its own data directory."""

    def __init__(self, extra_args=()):
        self.directory = tempfile.mkdtemp(prefix="mailroom-smtp-external-")
        self.extra_args = list(extra_args)
        self.data = str(pathlib.Path(self.directory) / "data")
        self.cert = str(pathlib.Path(self.data) / "tls" / "cert.pem")
        self.database = str(pathlib.Path(self.data) / "mailroom.db")
        self.daemon = None
        self._foreign_cert = None
        self.db = None

    def start(self):
        self.db = TestDatabase(self.data)  # the SQLite file, or a PostgreSQL database of its own
        make_data_dir(self.directory, self.db.args())
        self.daemon = Daemon("mailroom-smtpd", [
            SMTPD, "--data-dir", self.data, "--hostname", HOSTNAME, "--pbkdf2-iterations", ITERATIONS,
            *self.db.args(), "--listen", "127.0.0.1:0", "--listen-tls", "127.0.0.1:0"] + self.extra_args, 2)
        self.port = self.daemon.port
        self.tls_port = self.daemon.tls_port

    def log_text(self):
        return self.daemon.log_text(40)

    def stop(self):
        """SIGTERM; returns the exit code."""
        if self.daemon is None:
            return None
        code = self.daemon.stop(timeout=60)
        if code is None:
            raise AssertionError("mailroom-smtpd did not stop within 60 s of SIGTERM; log: " + self.log_text())
        return code

    def cleanup(self):
        if self.daemon is not None:
            self.daemon.kill()
        if self.db is not None:
            self.db.drop()
        shutil.rmtree(self.directory, ignore_errors=True)

    # TLS

    def context(self, cafile=None):
        """A verifying client context (certificate chain and host name)."""
        context = ssl.create_default_context(cafile=cafile or self.cert)
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        return context

    def foreign_cert(self):
        """Another data directory's self-signed certificate: verifies nothing here."""
        if self._foreign_cert is None:
            other = pathlib.Path(self.directory) / "other"
            other.mkdir()
            result = run_quietly([CTL, "--data-dir", str(other / "data"), "--hostname", HOSTNAME,
                                  "--pbkdf2-iterations", ITERATIONS, "init"])
            if result.returncode != 0:
                raise AssertionError(f"mailroomctl init (foreign certificate): exit code {result.returncode}: "
                                     f"{result.stderr!r}")
            self._foreign_cert = str(other / "data" / "tls" / "cert.pem")
        return self._foreign_cert

    # The database, read-only

    def query(self, sql, params=()):
        return self.db.query(sql, params)

    def messages_with_subject(self, subject):
        """[(id, raw bytes, from_address)] of stored messages with this subject."""
        return [(row[0], bytes(row[1]), row[2]) for row in
                self.query("SELECT id, raw, from_address FROM messages WHERE subject = ? ORDER BY id", (subject,))]

    def entries(self, message_id):
        """Sorted [(username, folder, seen)] of a message's mailbox entries."""
        return sorted(self.query(
            "SELECT a.username, f.role, e.seen FROM mailbox_entries e JOIN accounts a ON a.id = e.owner_id"
            " JOIN folders f ON f.id = e.folder_id WHERE e.message_id = ?", (message_id,)))

    def account_id(self, username):
        rows = self.query("SELECT id FROM accounts WHERE username = ?", (username,))
        return rows[0][0] if rows else None


class ServerTestCase(unittest.TestCase):
    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.server = Server(cls.server_args)
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        if code != 0:
            raise AssertionError(f"mailroom-smtpd after SIGTERM: expected exit code 0, got {code}; "
                                 f"log: {cls.server.log_text()}")

    # Clients

    def plain(self):
        """A connection before TLS, after the greeting (not yet EHLO)."""
        return smtplib.SMTP("127.0.0.1", self.server.port, local_hostname=CLIENT_NAME, timeout=TIMEOUT)

    def session(self, user=None, password=None):
        """STARTTLS, EHLO, and AUTH (PLAIN, smtplib's choice) when user is given."""
        client = self.plain()
        try:
            client.ehlo()
            client.starttls(context=self.server.context())
            client.ehlo()
            if user is not None:
                client.login(user, password if password is not None else PASSWORDS[user.split("@")[0]])
        except BaseException:
            client.close()
            raise
        return client

    # Checks

    def assertReply(self, reply, code, text_start):
        """reply: (code, bytes) as smtplib returns it."""
        self.assertEqual((reply[0], reply[1][:len(text_start)]), (code, text_start.encode()),
                         f"expected the reply {code} {text_start}..., got {reply[0]} {reply[1]!r}")

    def assertSmtpError(self, exception, code, text_start):
        self.assertReply((exception.smtp_code, exception.smtp_error), code, text_start)

    def assertStoredOnce(self, subject):
        """The one stored message with this subject: (id, raw, from_address)."""
        rows = self.server.messages_with_subject(subject)
        self.assertEqual(len(rows), 1, f"expected exactly one stored message with subject {subject!r}, "
                                       f"found {len(rows)}; server log: {self.server.log_text()}")
        return rows[0]

    def assertNothingStored(self, subject):
        rows = self.server.messages_with_subject(subject)
        self.assertEqual(rows, [], f"expected no stored message with subject {subject!r}")

    def assertDelivered(self, subject, sender, recipients):
        """Stored once, in each recipient's inbox (unseen) and the sender's sent folder (seen)."""
        message_id, raw, from_address = self.assertStoredOnce(subject)
        expected = sorted([(sender, "sent", 1)] + [(name, "inbox", 0) for name in recipients])
        self.assertEqual(self.server.entries(message_id), expected,
                         "expected mailbox entries (owner, folder, seen): one inbox entry per recipient, "
                         "one seen sent entry for the sender")
        return raw

    def assertReceivedHeader(self, raw, helo=CLIENT_NAME, queue_id=None, sender=ALICE):
        """docs/protocol/smtp.md §8: `Return-Path: <envelope sender>` (RFC 5321 §4.4), then
        `Received: from <helo> ([<ip>]) by <hostname> (Mailroom) with ESMTPSA id <id>; <date>`, on top."""
        expected_start = f"Return-Path: <{sender}>\r\nReceived: from ".encode()
        self.assertTrue(raw.startswith(expected_start),
                        f"expected the stored message to begin with {expected_start!r}, got {raw[:80]!r}")
        fields = header_fields(raw)
        self.assertEqual(fields[0], ("return-path", f"<{sender}>"))
        self.assertEqual([name for name, _ in fields].count("return-path"), 1,
                         "expected exactly one Return-Path: field (the server's)")
        self.assertEqual(fields[1][0], "received")
        self.assertEqual([name for name, _ in fields].count("received"), 1,
                         "expected exactly one Received: field (the server's)")
        match = RECEIVED.fullmatch(fields[1][1])
        self.assertIsNotNone(match, "expected 'Received: from <helo> ([<ip>]) by <hostname> (Mailroom) with "
                                    f"ESMTPSA id <id>; <date>', got {fields[1][1]!r}")
        if helo is not None:
            self.assertEqual(match.group("helo"), helo, "expected the client's EHLO name in Received:")
        self.assertEqual(match.group("ip"), "127.0.0.1", "expected the client address in Received:")
        self.assertEqual(match.group("host"), HOSTNAME, "expected the server's --hostname in Received:")
        if queue_id is not None:
            self.assertEqual(match.group("id"), queue_id, "expected the id of the 250 reply in Received:")
        self.assertRecentDate(match.group("date"), "Received:")
        return match

    def assertBodyStartsWith(self, raw, expected, message):
        self.assertEqual(body_of(raw)[:len(expected)], expected, message)

    def assertRecentDate(self, text, where):
        try:
            date = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            date = None
        self.assertIsNotNone(date, f"expected an RFC 5322 date in {where}, got {text!r}")
        self.assertIsNotNone(date.tzinfo, f"expected a zone in the date of {where}, got {text!r}")
        self.assertLess(abs(datetime.now(timezone.utc) - date), timedelta(minutes=10),
                        f"expected the date in {where} to be now, got {text!r}")

    def assertHasMessageIdAndDate(self, raw):
        fields = header_fields(raw)
        message_ids = [value for name, value in fields if name == "message-id"]
        dates = [value for name, value in fields if name == "date"]
        self.assertEqual(len(message_ids), 1, f"expected one Message-ID: field, got {message_ids}")
        self.assertRegex(message_ids[0], r"^<[^<>@\s]+@[^<>@\s]+>$", "expected Message-ID: <left@right>")
        self.assertEqual(len(dates), 1, f"expected one Date: field, got {dates}")
        self.assertRecentDate(dates[0], "Date:")


class SmtplibTests(ServerTestCase):
    """Python's smtplib, over STARTTLS and implicit TLS."""

    def test_greeting_and_ehlo_before_and_after_starttls(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=TIMEOUT) as raw:
            greeting = raw.makefile("rb").readline()
            raw.sendall(b"QUIT\r\n")
        self.assertEqual(greeting, f"220 {HOSTNAME} ESMTP Mailroom\r\n".encode(),
                         "expected the greeting of docs/protocol/smtp.md §1")
        with self.plain() as client:
            client.ehlo()
            for extension in ("pipelining", "size", "8bitmime", "enhancedstatuscodes", "starttls"):
                self.assertTrue(client.has_extn(extension), f"expected {extension.upper()} in EHLO before TLS")
            self.assertFalse(client.has_extn("auth"), "expected no AUTH in EHLO before TLS")
            self.assertReply(client.starttls(context=self.server.context()), 220, "2.0.0 Ready to start TLS")
            client.ehlo()
            self.assertFalse(client.has_extn("starttls"), "expected no STARTTLS in EHLO after STARTTLS")
            self.assertEqual(sorted(client.esmtp_features.get("auth", "").upper().split()), ["LOGIN", "PLAIN"],
                             "expected 'AUTH PLAIN LOGIN' in EHLO after STARTTLS")
            self.assertReply(client.docmd("STARTTLS"), 503, "5.5.1")

    def test_certificate_of_another_server_is_not_trusted(self):
        # The verifying context really verifies: another self-signed certificate fails.
        with self.plain() as client:
            client.ehlo()
            with self.assertRaises(ssl.SSLCertVerificationError):
                client.starttls(context=self.server.context(cafile=self.server.foreign_cert()))

    def test_login_with_username(self):
        with self.session() as client:
            self.assertReply(client.login("alice", PASSWORDS["alice"]), 235, "2.7.0 Authentication successful")

    def test_login_with_full_address(self):
        with self.session() as client:
            self.assertReply(client.login(ALICE, PASSWORDS["alice"]), 235, "2.7.0 Authentication successful")
            subject = unique_subject("after login with the address")
            self.assertEqual(client.sendmail(ALICE, [BOB], make_message(subject)), {})
        self.assertDelivered(subject, "alice", ["bob"])

    def test_login_with_auth_login_mechanism(self):
        with self.session() as client:
            client.user, client.password = "carol", PASSWORDS["carol"]
            self.assertReply(client.auth("LOGIN", client.auth_login), 235, "2.7.0 Authentication successful")

    def test_login_with_wrong_password_is_refused(self):
        with self.session() as client:
            with self.assertRaises(smtplib.SMTPAuthenticationError) as caught:
                client.login("alice", "not-the-password")
            self.assertSmtpError(caught.exception, 535, "5.7.8")
            self.assertReply(client.mail(ALICE), 530, "5.7.0 Authentication required")

    def test_auth_before_starttls_is_refused(self):
        with self.plain() as client:
            client.ehlo()
            response = base64.b64encode(f"\0alice\0{PASSWORDS['alice']}".encode()).decode()
            self.assertReply(client.docmd("AUTH", "PLAIN " + response), 538, "5.7.11")

    def test_mail_before_login_is_refused(self):
        with self.plain() as client:
            client.ehlo()
            self.assertReply(client.mail(ALICE), 530, "5.7.0 Must issue a STARTTLS command first")
        with self.session() as client:
            subject = unique_subject("without login")
            with self.assertRaises(smtplib.SMTPSenderRefused) as caught:
                client.sendmail(ALICE, [BOB], make_message(subject))
            self.assertSmtpError(caught.exception, 530, "5.7.0 Authentication required")
        self.assertNothingStored(subject)

    def test_sendmail_to_two_recipients(self):
        subject = unique_subject("to bob and carol")
        with self.session("alice") as client:
            refused = client.sendmail(ALICE, [BOB, CAROL], make_message(subject, to=(BOB, CAROL)))
        self.assertEqual(refused, {}, "expected both recipients accepted")
        raw = self.assertDelivered(subject, "alice", ["bob", "carol"])
        self.assertReceivedHeader(raw)
        self.assertHasMessageIdAndDate(raw)
        self.assertIn(f"From: {ALICE}\r\n".encode(), raw)
        self.assertBodyStartsWith(raw, b"Hello from the tests.\r\n", "expected the body as sent")

    def test_queue_id_of_reply_is_in_received_header(self):
        subject = unique_subject("queue id")
        with self.session("alice") as client:
            self.assertReply(client.mail(ALICE), 250, "2.1.0")
            self.assertReply(client.rcpt(BOB), 250, "2.1.5")
            code, text = client.data(make_message(subject))
        match = re.fullmatch(rb"2\.0\.0 OK: queued as (\S+)", text)
        self.assertTrue(code == 250 and match, f"expected '250 2.0.0 OK: queued as <id>', got {code} {text!r}")
        raw = self.assertDelivered(subject, "alice", ["bob"])
        self.assertReceivedHeader(raw, queue_id=match.group(1).decode())

    def test_message_id_and_date_of_the_sender_are_kept(self):
        subject = unique_subject("own message id")
        own_id = f"<{uuid.uuid4().hex}@client.example>"
        own_date = "Mon, 02 Nov 2026 10:00:00 +0100"
        with self.session("alice") as client:
            client.sendmail(ALICE, [BOB], make_message(subject, extra=(f"Message-ID: {own_id}", f"Date: {own_date}")))
        fields = header_fields(self.assertDelivered(subject, "alice", ["bob"]))
        self.assertEqual([v for n, v in fields if n == "message-id"], [own_id], "expected the client's Message-ID only")
        self.assertEqual([v for n, v in fields if n == "date"], [own_date], "expected the client's Date only")

    def test_message_without_from_gets_the_account_address(self):
        subject = unique_subject("no from header")
        with self.session("alice") as client:
            client.sendmail(ALICE, [BOB], make_message(subject, with_from=False))
        message_id, raw, from_address = self.assertStoredOnce(subject)
        fields = header_fields(raw)
        self.assertEqual([v for n, v in fields if n == "from"], [ALICE],
                         f"expected one 'From: {ALICE}' field added by the server")
        self.assertIn(f"\r\nFrom: {ALICE}\r\n".encode(), raw.partition(b"\r\n\r\n")[0] + b"\r\n")
        self.assertEqual(from_address, ALICE, "expected messages.from_address to be the account's address")
        self.assertHasMessageIdAndDate(raw)

    def test_sending_as_another_address_is_refused(self):
        subject = unique_subject("as bob")
        with self.session("alice") as client:
            with self.assertRaises(smtplib.SMTPSenderRefused) as caught:
                client.sendmail(BOB, [CAROL], make_message(subject, sender=BOB, to=(CAROL,)))
            self.assertSmtpError(caught.exception, 553, "5.7.1")
        self.assertNothingStored(subject)

    def test_from_header_of_another_address_is_refused(self):
        subject = unique_subject("from header bob")
        with self.session("alice") as client:
            with self.assertRaises(smtplib.SMTPDataError) as caught:
                client.sendmail(ALICE, [CAROL], make_message(subject, sender=BOB, to=(CAROL,)))
            self.assertSmtpError(caught.exception, 550, "5.7.1")
        self.assertNothingStored(subject)

    def test_recipient_in_another_domain_is_refused(self):
        subject = unique_subject("relay")
        with self.session("alice") as client:
            self.assertReply(client.mail(ALICE), 250, "2.1.0")
            self.assertReply(client.rcpt("someone@example.org"), 550,
                             "5.7.1 no such recipient exists (relaying denied)")
            self.assertReply(client.rcpt("bob@project.com.example.org"), 550, "5.7.1")
            client.rset()
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as caught:
                client.sendmail(ALICE, ["someone@example.org"], make_message(subject, to=("someone@example.org",)))
            self.assertEqual(list(caught.exception.recipients), ["someone@example.org"])
            self.assertReply(caught.exception.recipients["someone@example.org"], 550, "5.7.1")
        self.assertNothingStored(subject)

    def test_unknown_local_recipient_is_refused(self):
        subject = unique_subject("partly unknown")
        nobody = "nobody@project.com"
        with self.session("alice") as client:
            self.assertReply(client.mail(ALICE), 250, "2.1.0")
            self.assertReply(client.rcpt(nobody), 550, "5.1.1 No such user here")
            client.rset()
            refused = client.sendmail(ALICE, [nobody, BOB], make_message(subject, to=(nobody, BOB)))
        self.assertEqual(list(refused), [nobody], "expected only the unknown recipient refused")
        self.assertReply(refused[nobody], 550, "5.1.1")
        self.assertDelivered(subject, "alice", ["bob"])

    def test_smtp_ssl_on_implicit_tls_port(self):
        subject = unique_subject("implicit tls")
        with smtplib.SMTP_SSL("127.0.0.1", self.server.tls_port, local_hostname=CLIENT_NAME,
                              context=self.server.context(), timeout=TIMEOUT) as client:
            client.ehlo()
            self.assertTrue(client.has_extn("auth"), "expected AUTH in EHLO on the implicit-TLS port")
            self.assertFalse(client.has_extn("starttls"), "expected no STARTTLS in EHLO on the implicit-TLS port")
            self.assertReply(client.docmd("STARTTLS"), 503, "5.5.1")
            self.assertReply(client.login("bob", PASSWORDS["bob"]), 235, "2.7.0")
            self.assertEqual(client.sendmail(BOB, [ALICE, CAROL], make_message(subject, sender=BOB, to=(ALICE, CAROL))),
                             {})
        raw = self.assertDelivered(subject, "bob", ["alice", "carol"])
        self.assertReceivedHeader(raw, sender=BOB)

    def test_reg_creates_an_account_that_can_log_in(self):
        name, password = "newcomer", "newcomer-secret-4"
        with self.session() as client:
            argument = base64.b64encode(f"{name}\0{password}".encode()).decode()
            self.assertReply(client.docmd("REG", argument), 250, f"2.0.0 Account {name}@{DOMAIN} created")
            taken = base64.b64encode(b"Alice\0some-other-password").decode()
            self.assertReply(client.docmd("REG", taken), 550, "5.1.0")
        self.assertIsNotNone(self.server.account_id(name), f"expected the account {name} in the database")
        hashes = self.server.query("SELECT password_hash FROM accounts WHERE username = ?", (name,))
        self.assertTrue(hashes[0][0].startswith("pbkdf2-sha256$"), "expected a PBKDF2 hash, never the password")
        subject = unique_subject("from the new account")
        with self.session(name, password) as client:
            client.sendmail(f"{name}@{DOMAIN}", [ALICE], make_message(subject, sender=f"{name}@{DOMAIN}", to=(ALICE,)))
        self.assertDelivered(subject, name, ["alice"])

    def test_reg_before_starttls_is_refused(self):
        with self.plain() as client:
            client.ehlo()
            argument = base64.b64encode(b"plaintextuser\0plaintext-secret").decode()
            self.assertReply(client.docmd("REG", argument), 538, "5.7.11")
        self.assertIsNone(self.server.account_id("plaintextuser"))

    def test_getuser(self):
        with self.session() as client:
            self.assertReply(client.docmd("GETUSER", "bob"), 530, "5.7.0 Authentication required")
            client.login("alice", PASSWORDS["alice"])
            bob_id = self.server.account_id("bob")
            self.assertReply(client.docmd("GETUSER", "bob"), 250, f"2.1.5 {bob_id} {BOB}")
            self.assertReply(client.docmd("GETUSER", "Bob@Project.com"), 250, f"2.1.5 {bob_id} {BOB}")
            self.assertReply(client.docmd("GETUSER", "nobody"), 550, "5.1.1")

    def test_ping(self):
        with self.plain() as client:
            self.assertReply(client.docmd("PING"), 250, "2.0.0 PONG")
        with self.session("carol") as client:
            self.assertReply(client.docmd("PING"), 250, "2.0.0 PONG")


class MessageSizeTests(ServerTestCase):
    """A server started with --max-message-size 64K."""

    server_args = ("--max-message-size", "64K")

    @staticmethod
    def message_of_size(subject, size):
        line = "x" * 76 + "\r\n"
        return make_message(subject, body=line * (size // len(line)))

    def test_ehlo_advertises_the_limit(self):
        with self.plain() as client:
            client.ehlo()
            self.assertEqual(client.esmtp_features.get("size"), "65536", "expected 'SIZE 65536' in EHLO")

    def test_message_over_the_limit_is_refused_at_data(self):
        subject = unique_subject("too big")
        with self.session("alice") as client:
            self.assertReply(client.mail(ALICE), 250, "2.1.0")  # no SIZE= declared
            self.assertReply(client.rcpt(BOB), 250, "2.1.5")
            self.assertReply(client.data(self.message_of_size(subject, 100 * 1024)), 552, "5.3.4")
            after = unique_subject("after the big one")
            self.assertEqual(client.sendmail(ALICE, [BOB], make_message(after)), {},
                             "expected the session to go on after 552")
        self.assertNothingStored(subject)
        self.assertDelivered(after, "alice", ["bob"])

    def test_declared_size_over_the_limit_is_refused_at_mail(self):
        subject = unique_subject("too big declared")
        with self.session("alice") as client:
            with self.assertRaises(smtplib.SMTPSenderRefused) as caught:
                client.sendmail(ALICE, [BOB], self.message_of_size(subject, 100 * 1024))  # smtplib sends SIZE=
            self.assertSmtpError(caught.exception, 552, "5.3.4")
        self.assertNothingStored(subject)

    def test_message_under_the_limit_is_accepted(self):
        subject = unique_subject("just fits")
        message = self.message_of_size(subject, 60 * 1024)
        with self.session("alice") as client:
            self.assertEqual(client.sendmail(ALICE, [BOB], message), {})
        raw = self.assertDelivered(subject, "alice", ["bob"])
        self.assertTrue(raw.endswith(body_of(message)), "expected the body stored unchanged")


@unittest.skipUnless(CURL, "curl is not installed")
class CurlTests(ServerTestCase):
    """curl uploading a file (-T) over STARTTLS (--ssl-reqd) and implicit TLS (smtps://)."""

    def curl(self, url, file_text, cafile=None):
        path = pathlib.Path(self.server.directory) / f"upload-{uuid.uuid4().hex[:8]}.txt"
        path.write_bytes(file_text)
        return run_quietly([CURL, "--silent", "--show-error", "--max-time", "60", "--ssl-reqd",
                            "--cacert", cafile or self.server.cert, url,
                            "--mail-from", ALICE, "--mail-rcpt", BOB,
                            "--user", f"alice:{PASSWORDS['alice']}", "-T", str(path)])

    def assertCurlSucceeded(self, result):
        self.assertEqual(result.returncode, 0, f"expected curl to exit with 0; stderr: {result.stderr!r}; "
                                               f"server log: {self.server.log_text()}")

    @staticmethod
    def unix_file(subject, body_lines):
        return ("\n".join([f"From: {ALICE}", f"To: {BOB}", f"Subject: {subject}", ""] + body_lines) + "\n").encode()

    def test_unix_text_file_is_stored_with_crlf(self):
        subject = unique_subject("curl unix file")
        body_lines = ["first line", "", "third line after an empty one", "last line"]
        self.assertCurlSucceeded(self.curl(f"smtp://127.0.0.1:{self.server.port}",
                                           self.unix_file(subject, body_lines)))
        raw = self.assertDelivered(subject, "alice", ["bob"])
        self.assertNotRegex(raw, rb"[^\r]\n", "expected every line of the stored message to end in CRLF")
        self.assertBodyStartsWith(raw, "\r\n".join(body_lines).encode() + b"\r\n",
                                  "expected the body lines as in the file, with CRLF")
        self.assertReceivedHeader(raw, helo=None)  # curl's EHLO name is the URL's path
        self.assertHasMessageIdAndDate(raw)

    def test_line_starting_with_a_dot_is_kept(self):
        # curl dot-stuffs only after CRLF, so a Unix file's lines reach the
        # server as written. docs/protocol/smtp.md §7: a bare LF is a line end
        # (as Postfix does, so `curl -T` of a Unix text file works); the content
        # must arrive intact.
        subject = unique_subject("curl dot line")
        body_lines = ["first line", ".dot line", "..two dots", ".", "last line"]
        self.assertCurlSucceeded(self.curl(f"smtp://127.0.0.1:{self.server.port}",
                                           self.unix_file(subject, body_lines)))
        raw = self.assertDelivered(subject, "alice", ["bob"])
        self.assertNotRegex(raw, rb"[^\r]\n", "expected every line of the stored message to end in CRLF")
        self.assertBodyStartsWith(raw, "\r\n".join(body_lines).encode() + b"\r\n",
                                  "expected the body lines exactly as in the file (no dot removed), with CRLF")

    def test_implicit_tls(self):
        subject = unique_subject("curl smtps")
        self.assertCurlSucceeded(self.curl(f"smtps://127.0.0.1:{self.server.tls_port}",
                                           self.unix_file(subject, ["over implicit TLS"])))
        self.assertDelivered(subject, "alice", ["bob"])

    def test_certificate_of_another_server_is_not_trusted(self):
        subject = unique_subject("curl foreign ca")
        result = self.curl(f"smtp://127.0.0.1:{self.server.port}", self.unix_file(subject, ["never"]),
                           cafile=self.server.foreign_cert())
        self.assertEqual(result.returncode, 60,
                         f"expected curl to fail verification (exit code 60), got {result.returncode}: "
                         f"{result.stderr!r}")
        self.assertNothingStored(subject)


@unittest.skipUnless(SWAKS, "swaks is not installed")
class SwaksTests(ServerTestCase):
    """swaks with --tls (STARTTLS) or --tls-on-connect, verifying the certificate."""

    def swaks(self, subject, port, tls_option, auth, user, cafile=None):
        return run_quietly([SWAKS, "--server", f"127.0.0.1:{port}", tls_option,
                            "--tls-verify", "--tls-ca-path", cafile or self.server.cert,
                            "--auth", auth, "--auth-user", user, "--auth-password", PASSWORDS["alice"],
                            "--from", ALICE, "--to", BOB, "--helo", "swaks.example",
                            "--header", f"Subject: {subject}", "--body", "Sent by swaks.", "--timeout", "60"])

    def assertSwaksSucceeded(self, result):
        output = result.stdout.decode("utf-8", "replace")
        self.assertEqual(result.returncode, 0, f"expected swaks to exit with 0, got {result.returncode}; "
                                               f"output: {output[-2000:]}{result.stderr!r}")
        self.assertRegex(output, r"<~ +250 2\.0\.0 OK: queued as ", "expected '250 2.0.0 OK: queued as' after DATA")

    def test_starttls_auth_plain(self):
        subject = unique_subject("swaks starttls")
        self.assertSwaksSucceeded(self.swaks(subject, self.server.port, "--tls", "PLAIN", "alice"))
        raw = self.assertDelivered(subject, "alice", ["bob"])
        self.assertReceivedHeader(raw, helo="swaks.example")
        self.assertHasMessageIdAndDate(raw)  # swaks's own, kept and not doubled
        self.assertIn(b"Sent by swaks.", body_of(raw))

    def test_implicit_tls_auth_login_with_full_address(self):
        subject = unique_subject("swaks implicit tls")
        self.assertSwaksSucceeded(self.swaks(subject, self.server.tls_port, "--tls-on-connect", "LOGIN", ALICE))
        self.assertDelivered(subject, "alice", ["bob"])

    def test_certificate_of_another_server_is_not_trusted(self):
        subject = unique_subject("swaks foreign ca")
        result = self.swaks(subject, self.server.port, "--tls", "PLAIN", "alice", cafile=self.server.foreign_cert())
        self.assertNotEqual(result.returncode, 0, "expected swaks to fail certificate verification")
        self.assertIn(b"certificate verify failed", result.stdout + result.stderr,
                      "expected swaks to report 'certificate verify failed'")
        self.assertNothingStored(subject)


def main():
    global SMTPD, CTL
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smtpd", required=True, help="the mailroom-smtpd binary")
    parser.add_argument("--ctl", required=True, help="the mailroomctl binary")
    arguments, rest = parser.parse_known_args()
    SMTPD, CTL = arguments.smtpd, arguments.ctl
    unittest.main(argv=[sys.argv[0]] + rest)


if __name__ == "__main__":
    main()
