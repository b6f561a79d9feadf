#!/usr/bin/env python3
"""mailroom-imapd against real outside clients: Python's imaplib (both
dialects: IMAP4rev1, and IMAP4rev2 after ENABLE), curl's imap:// and
imaps://, and a raw socket for what a library hides (IDLE, literals, bad
input). Mail arrives through the real mailroom-smtpd (smtplib); TLS is
verified against the data directory's own certificate. With
MAILROOM_TEST_POSTGRES set, the same runs on a PostgreSQL database of its own.

    test_imap_external.py --imapd PATH --smtpd PATH --ctl PATH [unittest options, e.g. -v]

One data directory (alice and bob) serves the whole run, one mailroom-smtpd
and one mailroom-imapd on ports the system picks. Tests that count
messages use an account of their own. Every server is stopped with SIGTERM
(exit code 0 expected) and no password may appear in any log."""

import argparse
import email.utils
import imaplib
import os
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from mailroom_harness import HOST, HOSTNAME, Daemon, Deployment  # noqa: E402

IMAPD = SMTPD = CTL = None
TIMEOUT = 15
CURL = shutil.which("curl")
DOMAIN = "project.com"

FIXTURE = None


def unique(what):
    return f"{what} {uuid.uuid4().hex[:12]}"


def make_message(subject, sender, recipient, body="Hello from the IMAP tests.\r\n", extra=()):
    head = [f"From: {sender}", f"To: {recipient}", f"Subject: {subject}",
            f"Date: {email.utils.formatdate(localtime=True)}", f"Message-ID: <{uuid.uuid4().hex}@client.example>",
            *extra]
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode()


class Fixture:
    def __init__(self):
        self.deployment = Deployment({"smtpd": SMTPD, "imapd": IMAPD, "ctl": CTL},
                                     {"alice": "alice-secret-1", "bob": "bob-secret-22"}, prefix="mailroom-imap-")
        self.smtpd = self.imapd = None

    def start(self):
        self.smtpd = self.deployment.start("smtpd")
        # Its own message size limit, below smtpd's default: APPENDLIMIT says it.
        self.imapd = self.deployment.start("imapd", "--max-message-size", "4M")

    def new_account(self):
        name = "u" + uuid.uuid4().hex[:10]
        password = "pw-" + uuid.uuid4().hex[:16]
        self.deployment.add_user(name, password)
        return name, password

    def context(self):
        return self.deployment.context()

    def deliver(self, recipient, subject, body="Hello from the IMAP tests.\r\n", sender="alice"):
        with smtplib.SMTP(HOST, self.smtpd.port, local_hostname="client.example", timeout=TIMEOUT) as smtp:
            smtp.starttls(context=self.context())
            smtp.login(sender, self.deployment.passwords[sender])
            smtp.sendmail(f"{sender}@{DOMAIN}", [f"{recipient}@{DOMAIN}"],
                          make_message(subject, f"{sender}@{DOMAIN}", f"{recipient}@{DOMAIN}", body))

    def login(self, name, password=None, implicit=True):
        if implicit:
            client = imaplib.IMAP4_SSL(HOSTNAME, self.imapd.tls_port, ssl_context=self.context(), timeout=TIMEOUT)
        else:
            client = imaplib.IMAP4(HOSTNAME, self.imapd.port, timeout=TIMEOUT)
            client.starttls(ssl_context=self.context())
        client.login(name, password or self.deployment.passwords[name])
        return client

    def cleanup(self):
        self.deployment.cleanup()


def setUpModule():
    global FIXTURE
    FIXTURE = Fixture()
    unittest.addModuleCleanup(FIXTURE.cleanup)  # kills every server even when one failed to start
    FIXTURE.start()


def tearDownModule():
    problems = []
    for server in FIXTURE.deployment.servers:
        code = server.stop()
        if code != 0:
            problems.append(f"{server.name} after SIGTERM: expected exit code 0, got {code}")
        log = server.log_text()
        for secret in FIXTURE.deployment.passwords.values():
            if secret in log:
                problems.append(f"a password ({secret[:6]}...) appears in the log of {server.name}")
    if problems:
        raise AssertionError("; ".join(problems))


class RawImap:
    """An IMAP connection at the byte level."""

    def __init__(self, port, context=None, timeout=TIMEOUT):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        if context is not None:
            self.sock = context.wrap_socket(self.sock, server_hostname=HOSTNAME)
        self.buffer = b""

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def line(self):
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed; unread: {self.buffer!r}")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def until_tagged(self, tag):
        """The lines up to and with the tagged completion."""
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if line.startswith(tag.encode() + b" "):
                return lines

    def command(self, tag, text):
        self.send(f"{tag} {text}\r\n")
        return self.until_tagged(tag)

    def responses_until_tagged(self, tag):
        """Whole responses (literals read by their count) up to and with the tagged completion."""
        responses = []
        while True:
            response = self.line()
            while (match := re.search(rb"\{(\d+)\}$", response)):
                size = int(match.group(1))
                while len(self.buffer) < size:
                    chunk = self.sock.recv(1 << 20)
                    if not chunk:
                        raise EOFError("connection closed inside a literal")
                    self.buffer += chunk
                response += b"\r\n" + self.buffer[:size]
                self.buffer = self.buffer[size:]
                response += self.line()
            responses.append(response)
            if response.startswith(tag.encode() + b" "):
                return responses

    def start_tls(self, context):
        self.sock = context.wrap_socket(self.sock, server_hostname=HOSTNAME)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def logged_in_raw(name, password):
    raw = RawImap(FIXTURE.imapd.tls_port, FIXTURE.context())
    raw.line()  # greeting
    lines = raw.command("L1", f"LOGIN {name} {password}")
    assert lines[-1].startswith(b"L1 OK"), lines
    return raw


class BeforeLogin(unittest.TestCase):
    def test_greeting_and_capabilities_before_tls(self):
        raw = RawImap(FIXTURE.imapd.port)
        try:
            greeting = raw.line()
            self.assertTrue(greeting.startswith(b"* OK [CAPABILITY "), greeting)
            self.assertTrue(greeting.endswith(b"] Mailroom IMAP ready"), greeting)
            capabilities = greeting[len(b"* OK [CAPABILITY "):greeting.index(b"]")].split()
            for word in (b"IMAP4rev1", b"IMAP4rev2", b"STARTTLS", b"LOGINDISABLED"):
                self.assertIn(word, capabilities)
            self.assertNotIn(b"AUTH=PLAIN", greeting)
            lines = raw.command("a1", "LOGIN alice alice-secret-1")
            self.assertTrue(lines[-1].startswith(b"a1 NO [PRIVACYREQUIRED]"), lines)
            lines = raw.command("a2", "AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlLXNlY3JldC0x")
            self.assertTrue(lines[-1].startswith(b"a2 NO [PRIVACYREQUIRED]"), lines)
            lines = raw.command("a3", "SELECT INBOX")
            self.assertTrue(lines[-1].startswith(b"a3 BAD"), lines)
        finally:
            raw.close()

    def test_starttls_then_login_with_imaplib(self):
        client = FIXTURE.login("alice", implicit=False)
        try:
            typ, data = client.capability()
            self.assertEqual(typ, "OK")
            caps = data[0].split()
            for word in (b"IDLE", b"UIDPLUS", b"MOVE", b"CONDSTORE", b"QRESYNC", b"SPECIAL-USE", b"ESEARCH",
                         b"LITERAL+", b"MULTIAPPEND", b"SORT", b"THREAD=REFERENCES", b"BINARY"):
                self.assertIn(word, caps)
            self.assertIn(b"APPENDLIMIT=4194304", caps)
        finally:
            client.logout()

    def test_wrong_password_is_authenticationfailed(self):
        client = imaplib.IMAP4_SSL(HOSTNAME, FIXTURE.imapd.tls_port, ssl_context=FIXTURE.context(), timeout=TIMEOUT)
        try:
            with self.assertRaises(imaplib.IMAP4.error) as caught:
                client.login("alice", "wrong-password-1")
            self.assertIn("AUTHENTICATIONFAILED", str(caught.exception))
        finally:
            client.shutdown()

    def test_authenticate_plain_with_initial_response(self):
        raw = RawImap(FIXTURE.imapd.tls_port, FIXTURE.context())
        try:
            raw.line()
            import base64
            token = base64.b64encode(b"\0alice\0alice-secret-1").decode()
            lines = raw.command("p1", f"AUTHENTICATE PLAIN {token}")
            self.assertTrue(lines[-1].startswith(b"p1 OK [CAPABILITY"), lines)
        finally:
            raw.close()

    def test_authenticate_plain_with_continuation(self):
        client = imaplib.IMAP4_SSL(HOSTNAME, FIXTURE.imapd.tls_port, ssl_context=FIXTURE.context(), timeout=TIMEOUT)
        try:
            typ, _ = client.authenticate("PLAIN", lambda _: b"\0bob\0bob-secret-22")
            self.assertEqual(typ, "OK")
        finally:
            client.logout()


class Mailbox(unittest.TestCase):
    def setUp(self):
        self.name, self.password = FIXTURE.new_account()
        self.client = FIXTURE.login(self.name, self.password)

    def tearDown(self):
        try:
            self.client.logout()
        except Exception:
            pass

    def test_role_folders_are_listed_with_special_use(self):
        typ, data = self.client.list()
        self.assertEqual(typ, "OK")
        listing = b"\n".join(data)
        for name, use in ((b"INBOX", None), (b"Drafts", b"\\Drafts"), (b"Sent", b"\\Sent"),
                          (b"Archive", b"\\Archive"), (b"Trash", b"\\Trash"), (b"Junk", b"\\Junk")):
            line = next((l for l in data if l.endswith(b" " + name) or l.endswith(b'"' + name + b'"')), None)
            self.assertIsNotNone(line, f"{name} not listed: {listing!r}")
            if use:
                self.assertIn(use, line)
            self.assertIn(b'"/"', line)

    def test_delivered_mail_is_fetched_flagged_searched_and_expunged(self):
        subject = unique("fetch me")
        FIXTURE.deliver(self.name, subject, body="Line one\r\nLine two\r\n")
        typ, data = self.client.select("INBOX")
        self.assertEqual((typ, data), ("OK", [b"1"]))
        typ, data = self.client.fetch("1", "(UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(typ, "OK")
        head, fields = data[0]
        self.assertIn(b"FLAGS ()", head)
        self.assertIn(b"ENVELOPE (", head)
        self.assertEqual(fields, f"Subject: {subject}\r\n\r\n".encode())
        typ, data = self.client.fetch("1", "(BODY[])")
        raw = data[0][1]
        self.assertTrue(raw.startswith(b"Return-Path: <alice@project.com>\r\n"), raw[:80])
        self.assertIn(b"Line one\r\nLine two\r\n", raw)
        size = int(re.search(rb"RFC822\.SIZE (\d+)", self.client.fetch("1", "RFC822.SIZE")[1][0]).group(1))
        self.assertEqual(size, len(raw))
        # BODY[] without PEEK set \Seen.
        typ, data = self.client.fetch("1", "FLAGS")
        self.assertIn(b"\\Seen", data[0])
        typ, data = self.client.search(None, "SUBJECT", f'"{subject}"')
        self.assertEqual(data, [b"1"])
        typ, data = self.client.search(None, "UNSEEN")
        self.assertEqual(data, [b""])
        typ, data = self.client.store("1", "+FLAGS", "(\\Deleted $Important)")
        self.assertEqual(typ, "OK")
        self.assertIn(b"\\Deleted", data[0])
        self.assertIn(b"$Important", data[0])
        typ, data = self.client.expunge()
        self.assertEqual((typ, data), ("OK", [b"1"]))
        typ, data = self.client.select("INBOX")
        self.assertEqual(data, [b"0"])

    def extended_list(self, selection, pattern):
        """The LIST lines (after "* LIST ") of LIST with selection options."""
        typ, data = self.client._simple_command("LIST", selection, '""', pattern)
        self.assertEqual(typ, "OK")
        return [line for line in self.client._untagged_response(typ, data, "LIST")[1] if line is not None]

    def test_folders_create_rename_delete_subscribe(self):
        self.assertEqual(self.client.create("Projects/2027/")[0], "OK")
        typ, data = self.client.list('""', "Projects*")
        names = [l.rsplit(b" ", 1)[1] for l in data]
        self.assertEqual(sorted(names), [b"Projects", b"Projects/2027"])
        self.assertEqual(self.client.rename("Projects/2027", "Projects/2028")[0], "OK")
        self.assertEqual(self.client.subscribe("Projects/2028")[0], "OK")
        typ, data = self.client.lsub('""', "Projects/*")
        self.assertEqual(len(data), 1)
        self.assertTrue(data[0].endswith(b"Projects/2028"), data)
        # RFC 5258 §3.5: Projects is not subscribed, a folder below it is.
        data = self.extended_list("(SUBSCRIBED RECURSIVEMATCH)", "Projects")
        self.assertEqual(data, [b'(\\HasChildren) "/" Projects ("CHILDINFO" ("SUBSCRIBED"))'])
        self.assertEqual(self.extended_list("(SUBSCRIBED)", "Projects"), [])
        # A folder with children is emptied and kept as \Noselect.
        self.assertEqual(self.client.delete("Projects")[0], "OK")
        typ, data = self.client.list('""', "Projects")
        self.assertIn(b"\\Noselect", data[0])
        typ, data = self.client.select("Projects")
        self.assertEqual(typ, "NO")
        self.assertEqual(self.client.delete("Projects/2028")[0], "OK")
        # Deleting does not unsubscribe: the name is listed as gone.
        self.assertEqual(self.extended_list("(SUBSCRIBED)", "Projects/*"),
                         [b'(\\NonExistent \\Subscribed) "/" Projects/2028'])
        self.assertEqual(self.client.lsub('""', "Projects/*")[1], [b'(\\Noselect) "/" Projects/2028'])
        typ, data = self.client.create("INBOX")
        self.assertEqual(typ, "NO")
        self.assertEqual(self.client.delete("Sent")[0], "NO")

    def test_append_with_flags_and_date_then_uid_fetch(self):
        message = make_message(unique("appended"), "me@example.org", f"{self.name}@{DOMAIN}", body="Draft body\r\n")
        typ, data = self.client.append("Drafts", "(\\Draft \\Seen)", '"01-Dec-2026 10:00:00 +0100"', message)
        self.assertEqual(typ, "OK")
        match = re.search(rb"\[APPENDUID (\d+) (\d+)\]", data[0])
        self.assertIsNotNone(match, data)
        uid = match.group(2).decode()
        self.client.select("Drafts")
        typ, data = self.client.uid("FETCH", uid, "(FLAGS INTERNALDATE BODY.PEEK[])")
        self.assertEqual(data[0][1], message)
        self.assertIn(b"\\Draft", data[0][0])
        self.assertIn(b'INTERNALDATE "01-Dec-2026 09:00:00 +0000"', data[0][0])

    def test_copy_and_move_give_copyuid(self):
        for i in range(3):
            FIXTURE.deliver(self.name, unique(f"move {i}"))
        self.client.select("INBOX")
        typ, data = self.client.uid("COPY", "1:2", "Archive")
        self.assertEqual(typ, "OK")
        self.assertRegex(self.client.response("COPYUID")[1][0].decode(), r"^\d+ 1:2 1:2$")
        typ, data = self.client._simple_command("MOVE", "3", "Trash")
        self.assertEqual(typ, "OK")
        self.assertRegex(self.client.response("COPYUID")[1][0].decode(), r"^\d+ 3 1$")
        typ, data = self.client.status("INBOX", "(MESSAGES UIDNEXT UNSEEN)")
        self.assertIn(b"MESSAGES 2", data[0])
        typ, data = self.client.status("Archive", "(MESSAGES)")
        self.assertIn(b"MESSAGES 2", data[0])
        typ, data = self.client.status("Trash", "(MESSAGES)")
        self.assertIn(b"MESSAGES 1", data[0])

    def test_rev2_gets_esearch_and_utf8_names_rev1_gets_modified_utf7(self):
        self.assertEqual(self.client.create("&AMk-t&AOk-")[0], "OK")  # "Été" in modified UTF-7
        typ, data = self.client.list('""', "*t*")
        self.assertTrue(any(l.endswith(b"&AMk-t&AOk-") for l in data), data)
        FIXTURE.deliver(self.name, unique("esearch"))
        typ, data = self.client._simple_command("ENABLE", "IMAP4rev2")
        self.assertEqual(typ, "OK")
        self.assertEqual(self.client.untagged_responses.pop("ENABLED", None), [b"IMAP4REV2"])
        typ, data = self.client._simple_command("LIST", '""', '"*t*"')
        listing = self.client.untagged_responses.pop("LIST", [])
        self.assertTrue(any(l.endswith("Été".encode()) or l.endswith('"Été"'.encode()) for l in listing), listing)
        self.client.select("INBOX")
        typ, data = self.client._simple_command("SEARCH", "ALL")
        self.assertEqual(typ, "OK")
        esearch = self.client.untagged_responses.pop("ESEARCH", [])
        self.assertTrue(esearch and b"ALL 1" in esearch[0], esearch)

    def test_changes_of_another_session_are_seen_at_noop(self):
        FIXTURE.deliver(self.name, unique("shared"))
        other = FIXTURE.login(self.name, self.password)
        try:
            self.client.select("INBOX")
            other.select("INBOX")
            other.store("1", "+FLAGS", "\\Flagged")
            FIXTURE.deliver(self.name, unique("second"))
            deadline = time.monotonic() + 5
            seen_exists = seen_flags = False
            while time.monotonic() < deadline and not (seen_exists and seen_flags):
                self.client.noop()
                seen_exists = seen_exists or b"2" in self.client.untagged_responses.pop("EXISTS", [])
                fetches = self.client.untagged_responses.pop("FETCH", [])
                seen_flags = seen_flags or any(b"\\Flagged" in f for f in fetches)
                time.sleep(0.1)
            self.assertTrue(seen_exists, "expected * 2 EXISTS after a delivery")
            self.assertTrue(seen_flags, "expected * 1 FETCH (FLAGS (\\Flagged)) after the other session's STORE")
        finally:
            other.logout()

    def test_sort_and_thread(self):
        for subject in ("b topic", "a topic", "Re: b topic"):
            FIXTURE.deliver(self.name, subject)
        self.client.select("INBOX")
        typ, data = self.client.sort("(SUBJECT)", "UTF-8", "ALL")
        self.assertEqual(typ, "OK")
        self.assertEqual(data, [b"2 1 3"])
        typ, data = self.client.thread("ORDEREDSUBJECT", "UTF-8", "ALL")
        self.assertEqual(typ, "OK")
        self.assertEqual(data, [b"(1 3)(2)"])


class LongFetch(unittest.TestCase):
    def test_a_fetch_of_megabytes_comes_whole_before_what_was_pipelined_after_it(self):
        # 30 messages of 100 KB: over 3 MB of FETCH output, sent in steps
        # (docs/protocol/imap.md §3); the NOOP sent right behind the FETCH
        # is answered after all of it.
        name, password = FIXTURE.new_account()
        raw = logged_in_raw(name, password)
        try:
            body = ("x" * 998 + "\r\n") * 100
            messages = [make_message(f"big {i}", "me@example.org", f"{name}@{DOMAIN}", body=body) for i in range(30)]
            command = b"a1 APPEND INBOX"
            for message in messages:
                command += b" {%d+}\r\n" % len(message) + message
            raw.send(command + b"\r\n")
            self.assertTrue(raw.until_tagged("a1")[-1].startswith(b"a1 OK [APPENDUID"))
            raw.command("s1", "SELECT INBOX")
            raw.send("f1 FETCH 1:* (UID BODY.PEEK[])\r\nf2 NOOP\r\n")
            responses = raw.responses_until_tagged("f1")
            self.assertTrue(responses[-1].startswith(b"f1 OK"), responses[-1][:100])
            fetched = [r for r in responses if re.match(rb"\* \d+ FETCH", r)]
            self.assertEqual(len(fetched), 30)
            for i, response in enumerate(fetched):
                self.assertTrue(response.startswith(b"* %d FETCH (UID %d BODY[] {%d}\r\n" % (i + 1, i + 1, len(messages[i]))),
                                response[:80])
                self.assertIn(messages[i], response)
            self.assertTrue(raw.until_tagged("f2")[-1].startswith(b"f2 OK"))
        finally:
            raw.close()


class Idle(unittest.TestCase):
    def test_delivery_reaches_an_idle_session_at_once(self):
        name, password = FIXTURE.new_account()
        raw = logged_in_raw(name, password)
        try:
            raw.command("s1", "SELECT INBOX")
            raw.send("i1 IDLE\r\n")
            self.assertTrue(raw.line().startswith(b"+ "))
            started = time.monotonic()
            FIXTURE.deliver(name, unique("push"))
            line = raw.line()
            elapsed = time.monotonic() - started
            self.assertEqual(line, b"* 1 EXISTS")
            self.assertLess(elapsed, 3.0)
            raw.send("DONE\r\n")
            self.assertTrue(raw.line().startswith(b"i1 OK"))
        finally:
            raw.close()

    def test_an_idle_client_that_never_reads_is_let_go(self):
        """Updates for a client in IDLE that reads nothing pile up on the
        server only so far: past 256 KiB unsent it is closed with a log line,
        and the account's other sessions go on."""
        name, password = FIXTURE.new_account()
        writer = logged_in_raw(name, password)
        sleeper = None
        try:
            # 2,000 messages in one MULTIAPPEND with LITERAL+.
            message = b"Subject: s\r\n\r\nbody\r\n"
            writer.send(b"a1 APPEND INBOX" + b"".join(b" {%d+}\r\n%s" % (len(message), message)
                                                     for _ in range(2000)) + b"\r\n")
            self.assertTrue(writer.until_tagged("a1")[-1].startswith(b"a1 OK"))
            writer.command("s1", "SELECT INBOX")
            # A receive buffer of a few KiB that is never read: what the server
            # sends stays on its side.
            plain = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            plain.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            plain.settimeout(TIMEOUT)
            plain.connect((HOST, FIXTURE.imapd.tls_port))
            sleeper = RawImap.__new__(RawImap)
            sleeper.sock = FIXTURE.context().wrap_socket(plain, server_hostname=HOSTNAME)
            sleeper.buffer = b""
            sleeper.line()  # greeting
            self.assertTrue(sleeper.command("L1", f"LOGIN {name} {password}")[-1].startswith(b"L1 OK"))
            sleeper.command("s1", "SELECT INBOX")
            sleeper.send("i1 IDLE\r\n")
            self.assertTrue(sleeper.line().startswith(b"+ "))
            # Each STORE tells the sleeper 2,000 FETCH lines (some 90 KB); the
            # kernel's buffers take a few MB before the server's backlog grows.
            dropped = False
            for round_ in range(300):
                mode = "+" if round_ % 2 == 0 else "-"
                lines = writer.command(f"w{round_}", f"STORE 1:* {mode}FLAGS.SILENT (\\Flagged)")
                self.assertTrue(lines[-1].startswith(f"w{round_} OK".encode()), lines[-1])
                if "does not read its IDLE updates" in FIXTURE.imapd.log_text(last=200):
                    dropped = True
                    break
            self.assertTrue(dropped, "the server kept a client that never read its IDLE updates")
            # The account's other session, and new ones, are served.
            self.assertTrue(writer.command("n1", "NOOP")[-1].startswith(b"n1 OK"))
            other = logged_in_raw(name, password)
            self.assertTrue(other.command("n2", "STATUS INBOX (MESSAGES)")[0].endswith(b"(MESSAGES 2000)"))
            other.close()
        finally:
            writer.close()
            if sleeper is not None:
                sleeper.close()


class ReviewedCases(unittest.TestCase):
    """Exchanges that once went wrong."""

    def test_noop_or_empty_expunge_then_idle_is_quiet_and_done_is_answered(self):
        # The view's news was once counted from a modseq no change had: IDLE
        # then asked for updates forever and never read DONE.
        name, password = FIXTURE.new_account()
        raw = logged_in_raw(name, password)
        try:
            raw.command("s1", "SELECT INBOX")
            for tag, command in (("n1", "NOOP"), ("e1", "EXPUNGE")):
                raw.command(tag, command)
                raw.send(f"i{tag} IDLE\r\n")
                self.assertTrue(raw.line().startswith(b"+ "))
                time.sleep(0.3)
                raw.send("DONE\r\n")
                self.assertEqual(raw.until_tagged(f"i{tag}"), [f"i{tag} OK IDLE terminated".encode()])
        finally:
            raw.close()

    def test_partial_fetch(self):
        name, password = FIXTURE.new_account()
        FIXTURE.deliver(name, unique("partial"), body="0123456789abcdef\r\n")
        client = FIXTURE.login(name, password)
        try:
            client.select("INBOX")
            typ, data = client.fetch("1", "(BODY.PEEK[TEXT]<4.6>)")
            self.assertEqual(typ, "OK")
            self.assertIn(b"BODY[TEXT]<4>", data[0][0])
            self.assertEqual(data[0][1], b"456789")
        finally:
            client.logout()

    def test_selected_folder_deleted_elsewhere_ends_the_idle_session(self):
        name, password = FIXTURE.new_account()
        other = FIXTURE.login(name, password)
        raw = logged_in_raw(name, password)
        try:
            self.assertEqual(other.create("Doomed")[0], "OK")
            raw.command("s1", "SELECT Doomed")
            raw.send("i1 IDLE\r\n")
            self.assertTrue(raw.line().startswith(b"+ "))
            self.assertEqual(other.delete("Doomed")[0], "OK")
            self.assertEqual(raw.line(), b"* BYE The selected mailbox was deleted")
            with self.assertRaises(EOFError):
                raw.line()
        finally:
            raw.close()
            other.logout()

    def test_list_patterns_of_many_wildcards_are_quick(self):
        name, password = FIXTURE.new_account()
        client = FIXTURE.login(name, password)
        try:
            client.create("a" * 60)
            started = time.monotonic()
            typ, data = client.list('""', "*a" * 30 + "*b")
            self.assertEqual((typ, data), ("OK", [None]))
            typ, data = client.list('""', "%a" * 30 + "%")
            self.assertEqual(typ, "OK")
            self.assertEqual(len(data), 1)
            self.assertLess(time.monotonic() - started, 2.0)
        finally:
            client.logout()


class Qresync(unittest.TestCase):
    def test_select_with_qresync_tells_what_vanished_and_what_changed(self):
        name, password = FIXTURE.new_account()
        for i in range(4):
            FIXTURE.deliver(name, unique(f"q{i}"))
        client = FIXTURE.login(name, password)
        raw = None
        try:
            client.select("INBOX")
            validity = client.response("UIDVALIDITY")[1][0].decode()
            modseq = re.search(rb"\d+", client.response("HIGHESTMODSEQ")[1][0]).group(0).decode()
            client.store("2", "+FLAGS", "\\Deleted")
            client.expunge()
            client.store("3", "+FLAGS", "\\Flagged")  # uid 4, now message 3
            raw = logged_in_raw(name, password)
            raw.command("e1", "ENABLE QRESYNC")
            lines = raw.command("s1", f"SELECT INBOX (QRESYNC ({validity} {modseq} 1:4))")
            self.assertIn(b"* VANISHED (EARLIER) 2", lines)
            self.assertTrue(any(re.fullmatch(rb"\* 3 FETCH \(UID 4 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)", l) for l in lines), lines)
            lines = raw.command("f1", f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {modseq} VANISHED)")
            self.assertIn(b"* VANISHED (EARLIER) 2", lines)
        finally:
            if raw:
                raw.close()
            client.logout()


class SearchResults(unittest.TestCase):
    def test_saved_search_result_is_dollar(self):
        # SEARCHRES (RFC 5182), part of IMAP4rev2.
        name, password = FIXTURE.new_account()
        for subject in ("keep one", "drop", "keep two"):
            FIXTURE.deliver(name, unique(subject))
        raw = logged_in_raw(name, password)
        try:
            raw.command("s1", "SELECT INBOX")
            lines = raw.command("r1", "UID SEARCH RETURN (SAVE) SUBJECT keep")
            self.assertEqual(lines, [b"r1 OK UID SEARCH completed"])
            lines = raw.command("r2", "FETCH $ (UID)")
            self.assertEqual(lines[:-1], [b"* 1 FETCH (UID 1)", b"* 3 FETCH (UID 3)"])
            lines = raw.command("r3", "SEARCH RETURN (COUNT) NOT $")
            self.assertEqual(lines[0], b'* ESEARCH (TAG "r3") COUNT 1')
            lines = raw.command("r4", "UID STORE $ +FLAGS.SILENT (\\Flagged)")
            self.assertTrue(lines[-1].startswith(b"r4 OK"), lines)
            lines = raw.command("r5", "SEARCH FLAGGED")
            self.assertEqual(lines[0], b"* SEARCH 1 3")
        finally:
            raw.close()


class BadInput(unittest.TestCase):
    def test_protocol_garbage_gets_bad_and_others_are_served(self):
        raw = logged_in_raw("alice", "alice-secret-1")
        try:
            lines = raw.command("g1", "FROBNICATE")
            self.assertTrue(lines[-1].startswith(b"g1 BAD"))
            lines = raw.command("g2", "SEARCH " + "(" * 10000 + "ALL" + ")" * 10000)
            self.assertTrue(lines[-1].startswith(b"g2 BAD"), lines[-1][:100])
            raw.command("g3", "SELECT INBOX")
            lines = raw.command("g4", "FETCH " + ",".join(["1:*"] * 5000) + " FLAGS")
            self.assertTrue(lines[-1].startswith(b"g4 OK") or lines[-1].startswith(b"g4 BAD"), lines[-1][:100])
            lines = raw.command("g5", "UID FETCH 1:4294967296 FLAGS")
            self.assertTrue(lines[-1].startswith(b"g5 BAD"), lines)
            raw.send("b1 APPEND INBOX ~{14}\r\n")
            self.assertTrue(raw.line().startswith(b"+ "))
            raw.send(b"Subject: x\r\n\r\n\r\n")
            self.assertTrue(raw.until_tagged("b1")[-1].startswith(b"b1 OK [APPENDUID"))
            raw.send("g6 APPEND INBOX {999999999999}\r\n")
            line = raw.line()
            self.assertTrue(line.startswith(b"g6 NO [TOOBIG]"), line)
            raw.send("g9 APPEND INBOX {4194305}\r\n")  # one byte over --max-message-size 4M
            line = raw.line()
            self.assertTrue(line.startswith(b"g9 NO [TOOBIG]"), line)
            # A line over 64 KiB is not kept: its tag is not known, so the BAD is untagged.
            raw.send("g7 LOGIN " + "x" * 70000 + "\r\n")
            self.assertTrue(raw.line().startswith(b"* BAD"))
            lines = raw.command("g8", "SELECT &Jjo")
            self.assertTrue(lines[-1].startswith(b"g8 NO"), lines)
        finally:
            raw.close()
        # Everyone else is still served.
        client = FIXTURE.login("bob")
        client.logout()


class Curl(unittest.TestCase):
    @unittest.skipUnless(CURL, "curl is not installed")
    def test_curl_lists_and_fetches_over_imaps_and_starttls(self):
        name, password = FIXTURE.new_account()
        subject = unique("curl")
        FIXTURE.deliver(name, subject)
        base = ["curl", "--silent", "--show-error", "--cacert", FIXTURE.deployment.cafile, "--user",
                f"{name}:{password}", "--max-time", "20"]
        out = subprocess.run(base + [f"imaps://{HOSTNAME}:{FIXTURE.imapd.tls_port}/"], capture_output=True,
                             timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(b"INBOX", out.stdout)
        out = subprocess.run(base + ["--ssl-reqd", f"imap://{HOSTNAME}:{FIXTURE.imapd.port}/INBOX;UID=1"],
                             capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(f"Subject: {subject}".encode(), out.stdout)


def main():
    global IMAPD, SMTPD, CTL
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--imapd", required=True)
    parser.add_argument("--smtpd", required=True)
    parser.add_argument("--ctl", required=True)
    arguments, rest = parser.parse_known_args()
    IMAPD, SMTPD, CTL = arguments.imapd, arguments.smtpd, arguments.ctl
    unittest.main(argv=[sys.argv[0]] + rest)


if __name__ == "__main__":
    main()
