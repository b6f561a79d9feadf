#!/usr/bin/env python3
"""Hostile clients against mailroom-smtpd: regression tests for the SMTP
review's findings (each test names the defect it guards; each failed on the
code before the fix).

  1. parallel wrong passwords from one address were all checked;
  2. parallel REGs from one address all passed the hourly limit;
  3. the per-address connection limit was per listener, not per server;
  4. a client that never reads kept its connection forever after a timeout;
  5. a non-reading flooder made the server hold ~1.65 MB of replies each;
  6. after SIGTERM, transactions pipelined behind the one in flight were
     still delivered.

Standard library only: --smtpd PATH --ctl PATH."""

import argparse
import base64
import os
import re
import signal
import socket
import sqlite3
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

SMTPD = CTL = None
PASSWORD = b"password-pw1"  # the minimum is 8 characters, so not just "pw"
HOST = "127.0.0.1"
# Under the sanitizers (the MAILROOM_SANITIZE build sets MAILROOM_SANITIZED=1)
# ASan keeps freed blocks in a 256 MiB quarantine before reusing them, with
# redzones and shadow memory on top: RSS climbs by ~300 MiB under any
# steady traffic, leak or not. Memory bounds allow for that there only.
ASAN_RSS_ALLOWANCE_KIB = 384 * 1024 if os.environ.get("MAILROOM_SANITIZED") == "1" else 0


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def tcp_state(sock):
    """The kernel's TCP state of our end (1 ESTABLISHED, 7 CLOSE ...)."""
    return struct.unpack("B", sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1))[0]


class Server:
    """mailroom-smtpd on port 0 with both listeners, in a data directory of its own."""

    def __init__(self, extra=()):
        self.directory = tempfile.TemporaryDirectory(prefix="smtp-hostile-")
        self.data = os.path.join(self.directory.name, "data")
        common = ["--data-dir", self.data, "--hostname", "localhost", "--pbkdf2-iterations", "1000"]
        subprocess.run([CTL] + common + ["init"], check=True, stdout=subprocess.DEVNULL)
        for name in ("alice", "bob"):
            subprocess.run([CTL] + common + ["add-user", name], input=PASSWORD + b"\n", check=True,
                           stdout=subprocess.DEVNULL)
        self.database = os.path.join(self.data, "mailroom.db")
        self.cafile = os.path.join(self.data, "tls", "cert.pem")
        env = dict(os.environ, QT_LOGGING_RULES="mailroom.*.info=true")
        self.process = subprocess.Popen(
            [SMTPD] + common + ["--listen", f"{HOST}:0", "--listen-tls", f"{HOST}:0"] + list(extra),
            stderr=subprocess.PIPE, text=True, env=env)
        self.log = []
        self.port = self.tls_port = None
        deadline = time.monotonic() + 30
        for line in self.process.stderr:
            self.log.append(line)
            found = re.search(r"listening on 127\.0\.0\.1:(\d+) \((STARTTLS|implicit TLS)\)", line)
            if found:
                if found.group(2) == "STARTTLS":
                    self.port = int(found.group(1))
                else:
                    self.tls_port = int(found.group(1))
            if (self.port and self.tls_port) or time.monotonic() > deadline:
                break
        if not (self.port and self.tls_port):
            self.process.kill()
            raise AssertionError("the server did not say where it listens:\n" + "".join(self.log))
        self.reader = threading.Thread(target=self._read_log, daemon=True)
        self.reader.start()

    def _read_log(self):
        for line in self.process.stderr:
            self.log.append(line)

    def log_text(self):
        return "".join(self.log)

    def wait_for_log(self, pattern, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.log_text()):
                return True
            time.sleep(0.05)
        return False

    def context(self):
        return ssl.create_default_context(cafile=self.cafile)

    def count(self, table):
        db = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)
        try:
            return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        finally:
            db.close()

    def stop(self):
        """SIGTERM; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            code = "still running 30 s after SIGTERM"
        self.reader.join(timeout=5)
        self.process.stderr.close()
        return code

    def cleanup(self):
        self.directory.cleanup()


class Client:
    """A line-oriented SMTP client over a plain or TLS socket."""

    def __init__(self, server, implicit=False, timeout=15):
        self.server = server
        raw = socket.create_connection((HOST, server.tls_port if implicit else server.port), timeout=timeout)
        self.sock = server.context().wrap_socket(raw, server_hostname="localhost") if implicit else raw
        self.buffer = b""

    def line(self):
        while b"\n" not in self.buffer:
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buffer += data
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode() + "\n"

    def reply(self):
        """(code, text), or (None, text so far) at end of stream."""
        lines = []
        while True:
            line = self.line()
            if line is None:
                return None, "".join(lines)
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), "".join(lines)

    def command(self, text, expect=None):
        self.sock.sendall(text.encode() + b"\r\n")
        code, reply = self.reply()
        if expect is not None and code != expect:
            raise AssertionError(f"{text!r}: expected {expect}, got {reply!r}")
        return code, reply

    def starttls(self):
        """Greeting, EHLO, STARTTLS, EHLO."""
        code, reply = self.reply()
        if code != 220:
            raise AssertionError(f"greeting: {reply!r}")
        self.command("EHLO hostile.test", expect=250)
        self.command("STARTTLS", expect=220)
        self.sock = self.server.context().wrap_socket(self.sock, server_hostname="localhost")
        self.command("EHLO hostile.test", expect=250)
        return self

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def send_together(clients, lines):
    """Sends lines[i] on clients[i] as nearly at the same moment as possible:
    every line but its final newline first, so that the server holds them
    all, then the final newlines back to back from one thread (a few hundred
    microseconds for 40 TLS records: tighter than threads released by a
    barrier, which wake one by one on the GIL)."""
    for client, line in zip(clients, lines):
        client.sock.sendall(line[:-1])
    time.sleep(0.3)  # the server has read every partial line
    for client, line in zip(clients, lines):
        client.sock.sendall(line[-1:])


def gather_replies(clients):
    codes = []
    for client in clients:
        try:
            code, reply = client.reply()
        except (OSError, ssl.SSLError):
            code, reply = None, ""
        codes.append((code, reply))
    return codes


class ServerTestCase(unittest.TestCase):
    extra = ()

    @classmethod
    def setUpClass(cls):
        cls.server = Server(cls.extra)

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        log = cls.server.log_text()
        cls.server.cleanup()
        if code != 0:
            raise AssertionError(f"mailroom-smtpd exited with {code}:\n{log[-3000:]}")


class ParallelFailedLogins(ServerTestCase):
    # Defect: the per-address failure limit only counted finished checks, so
    # 40 wrong passwords sent at once were all checked (all 40 got 535).
    # Fixed by counting logins still being checked (LoginThrottle::attemptStarted).
    def test_forty_parallel_wrong_passwords_are_mostly_refused_unchecked(self):
        clients = [Client(self.server).starttls() for _ in range(40)]
        try:
            lines = [b"AUTH PLAIN " + base64.b64encode(b"\0bob\0wrong-password-%d" % i) + b"\r\n"
                     for i in range(len(clients))]
            send_together(clients, lines)
            replies = gather_replies(clients)
        finally:
            for client in clients:
                client.close()
        codes = [code for code, _ in replies]
        checked, throttled = codes.count(535), codes.count(454)
        print(f"\n40 parallel wrong passwords: {checked} answered 535, {throttled} answered 454",
              file=sys.stderr)
        self.assertEqual(checked + throttled, 40, replies)
        self.assertLessEqual(checked, 9, "more wrong passwords were checked than the limit allows")
        for code, reply in replies:
            if code == 454:
                self.assertIn("4.7.0", reply)


class ParallelRegistrations(ServerTestCase):
    # Defect: REG's hourly limit (5 per address) only counted finished
    # registrations, so 20 REGs sent at once all created accounts.
    # Fixed by counting registrations in flight (m_registrationsInFlight).
    def test_twenty_parallel_registrations_create_at_most_five_accounts(self):
        before = self.server.count("accounts")
        clients = [Client(self.server).starttls() for _ in range(20)]
        try:
            lines = [b"REG " + base64.b64encode(b"newcomer%d\0" % i + PASSWORD) + b"\r\n"
                     for i in range(len(clients))]
            send_together(clients, lines)
            replies = gather_replies(clients)
        finally:
            for client in clients:
                client.close()
        codes = [code for code, _ in replies]
        created = self.server.count("accounts") - before
        print(f"\n20 parallel REGs: {codes.count(250)} answered 250, {codes.count(450)} answered 450; "
              f"{created} accounts created", file=sys.stderr)
        self.assertEqual(codes.count(250) + codes.count(450), 20, replies)
        self.assertLessEqual(codes.count(250), 5)
        for code, reply in replies:
            if code == 450:
                self.assertIn("4.7.1", reply)
        self.assertLessEqual(created, 5)
        self.assertEqual(created, codes.count(250))


class ConnectionLimitAcrossListeners(ServerTestCase):
    # Defect: each listener kept its own per-address count, so a client at
    # the limit on the STARTTLS port could open as many again on the
    # implicit-TLS port. Fixed by one ConnectionLimiter shared by both.
    extra = ("--max-connections-per-address", "3")

    def implicit_greeting(self):
        """The implicit-TLS port's greeting code, or the failure."""
        try:
            client = Client(self.server, implicit=True, timeout=5)
        except (OSError, ssl.SSLError) as error:
            return f"handshake failed: {error!r}"
        try:
            code, reply = client.reply()
            return code if code is not None else "closed without a greeting"
        except (OSError, ssl.SSLError) as error:
            return f"no greeting: {error!r}"
        finally:
            client.close()

    def test_limit_counts_both_listeners(self):
        held = []
        try:
            for _ in range(3):
                client = Client(self.server)
                self.assertEqual(client.reply()[0], 220)
                held.append(client)
            # The STARTTLS port refuses the 4th with 421 ...
            extra = Client(self.server)
            code, reply = extra.reply()
            extra.close()
            self.assertEqual(code, 421, reply)
            # ... and the implicit-TLS port, with no way to say so, closes it.
            outcome = self.implicit_greeting()
            print(f"\n4th connection on the implicit-TLS port: {outcome}", file=sys.stderr)
            self.assertNotEqual(outcome, 220, "the implicit-TLS port let a 4th connection in")
            self.assertIsInstance(outcome, str)
            # One connection less: the implicit-TLS port takes one again.
            leaving = held.pop()
            leaving.command("QUIT", expect=221)
            leaving.close()
            deadline = time.monotonic() + 5
            while (outcome := self.implicit_greeting()) != 220 and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertEqual(outcome, 220)
        finally:
            for client in held:
                client.close()


class NonReaderIsCut(ServerTestCase):
    # Defect: when the idle timeout closed a client that never reads, the
    # close waited for the replies to be written, i.e. forever: the
    # connection (and its per-address slot) was held for good. Fixed by
    # aborting 5 s after closeSoon() (CloseGraceMs).
    extra = ("--idle-timeout", "2", "--max-connections-per-address", "1")

    def test_flooder_that_never_reads_is_disconnected(self):
        sock = socket.create_connection((HOST, self.server.port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        payload = b"HELP\r\n" * ((2 << 20) // 6)  # 2 MB
        sent = 0
        deadline = time.monotonic() + 4
        while sent < len(payload) and time.monotonic() < deadline:
            try:
                sent += sock.send(payload[sent:])
            except BlockingIOError:
                time.sleep(0.02)
        stopped = time.monotonic()
        print(f"\nnon-reader sent {sent} bytes of HELP", file=sys.stderr)
        self.assertGreater(sent, 256 * 1024)
        try:
            # Within idle timeout + grace + slack, the slot is free again: a
            # new connection from this address is greeted instead of 421.
            outcome = None
            while time.monotonic() < stopped + 2 + 5 + 5:
                probe = socket.create_connection((HOST, self.server.port), timeout=5)
                try:
                    line = probe.makefile("rb").readline()
                finally:
                    probe.close()
                outcome = line[:3]
                if outcome == b"220":
                    break
                time.sleep(0.5)
            waited = time.monotonic() - stopped
            state = tcp_state(sock)
            print(f"new connection after {waited:.1f} s: {outcome!r}; "
                  f"the non-reader's TCP state {state} (1 = established)", file=sys.stderr)
            self.assertEqual(outcome, b"220", "the non-reading client still holds its connection")
            self.assertNotEqual(state, 1, "the non-reader's connection is still established")
            self.assertRegex(self.server.log_text(), r"127\.0\.0\.1 timed out")
        finally:
            sock.close()


class OutputBacklogBounded(ServerTestCase):
    # Defect: a session answered a whole 64 KiB read of pipelined commands
    # before the write backlog was looked at, so a flooder that never reads
    # made the server hold ~1.65 MB of replies per connection. Fixed: the
    # session stops taking commands while 64 KiB of replies wait.
    # 32 connections x 1 MB: ~1.8 MB each before the fix (~57 MB in all).
    CONNECTIONS = 32
    BOUND_KIB = 40 * 1024

    def test_memory_of_non_reading_flooders_stays_bounded(self):
        pid = self.server.process.pid
        before = rss_kib(pid)
        socks = []
        try:
            for _ in range(self.CONNECTIONS):
                sock = socket.create_connection((HOST, self.server.port))
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock.setblocking(False)
                socks.append(sock)
            payload = b"HELP\r\n" * ((1 << 20) // 6)  # 1 MB each
            sent = [0] * len(socks)
            peak = before
            deadline = time.monotonic() + 4
            while time.monotonic() < deadline and any(n < len(payload) for n in sent):
                for i, sock in enumerate(socks):
                    if sent[i] < len(payload):
                        try:
                            sent[i] += sock.send(payload[sent[i]:])
                        except BlockingIOError:
                            pass
                peak = max(peak, rss_kib(pid))
                time.sleep(0.02)
            for _ in range(10):  # the server catches up with what it has read
                time.sleep(0.1)
                peak = max(peak, rss_kib(pid))
            growth = peak - before
            print(f"\n{len(socks)} non-reading flooders sent {sum(sent) / (1 << 20):.1f} MiB; server RSS "
                  f"{before} KiB before, peak {peak} KiB: +{growth / 1024:.1f} MiB "
                  f"({growth / len(socks):.0f} KiB per connection)", file=sys.stderr)
            self.assertLess(growth, self.BOUND_KIB + ASAN_RSS_ALLOWANCE_KIB, "the server holds an unbounded reply backlog")
        finally:
            for sock in socks:
                sock.close()


class LastReplyIsNotReset(ServerTestCase):
    # Defect: the server closed with the client's input unread, so the kernel
    # answered with a reset instead of an orderly close; a client still
    # writing got "connection reset" and never read the 421 (10 of 10
    # connections). Fixed: the server reads and drops what still comes until
    # the client closes or is quiet for a second, then closes.
    def test_client_flooding_errors_reads_the_421(self):
        flood = b"BOGUS\r\n" * 300000  # 2.1 MB: far more than the server reads before it gives up
        for attempt in range(5):
            client = Client(self.server)
            try:
                self.assertEqual(client.reply()[0], 220)
                client.sock.sendall(flood)
                time.sleep(0.3)  # the server has given up by now; its close must not be a reset
                replies = []
                while True:
                    code, reply = client.reply()
                    if code is None:
                        break
                    replies.append(code)
            finally:
                client.close()
            self.assertEqual(replies, [500] * 10 + [421], f"attempt {attempt + 1}")


class ShutdownWithPipelinedTransactions(unittest.TestCase):
    # Defect: after SIGTERM, transactions pipelined behind the one in flight
    # were still read and delivered (3 messages stored, three 250s). Fixed:
    # they get 421 4.3.2 and only the transaction in flight completes.
    # (docs/PROTOCOL.md says the 421 comes right after the answer to the
    # delivery in flight; HEAD still answers the next transaction's MAIL,
    # RCPT and DATA with 250/250/354 before refusing its message with 421,
    # which this test tolerates: nothing after the first is delivered.)
    # Its own server per test: the test stops it.
    def setUp(self):
        self.server = Server()

    def tearDown(self):
        self.server.stop()
        self.server.cleanup()

    def test_pipelined_transactions_after_sigterm_are_refused(self):
        client = Client(self.server).starttls()
        client.command("AUTH PLAIN " + base64.b64encode(b"\0alice\0" + PASSWORD).decode(), expect=235)
        before = self.server.count("messages")
        lock = sqlite3.connect(self.server.database, isolation_level=None, timeout=5)
        lock.execute("BEGIN IMMEDIATE")  # another writer: the first delivery waits
        locked = True
        try:
            transaction = (b"MAIL FROM:<alice@project.com>\r\nRCPT TO:<bob@project.com>\r\nDATA\r\n"
                           b"Subject: pipelined %d\r\n\r\nbody %d\r\n.\r\n")
            client.sock.sendall(b"".join(transaction % (i, i) for i in range(3)))
            replies = [client.reply() for _ in range(3)]  # MAIL, RCPT, DATA of the first
            self.assertEqual([code for code, _ in replies], [250, 250, 354], replies)
            time.sleep(0.3)  # the first message is being delivered, held by the lock
            self.server.process.send_signal(signal.SIGTERM)
            self.assertTrue(self.server.wait_for_log(r"shutting down", 5), self.server.log_text())
            time.sleep(0.3)
            lock.execute("COMMIT")
            locked = False
            while True:
                try:
                    code, reply = client.reply()
                except (OSError, ssl.SSLError) as error:
                    replies.append((None, repr(error)))
                    break
                if code is None:
                    break
                replies.append((code, reply))
        finally:
            if locked:
                lock.execute("ROLLBACK")
            lock.close()
            client.close()
        summary = [(code, reply.strip()) for code, reply in replies]
        print(f"\nreplies after SIGTERM: {summary[3:]}", file=sys.stderr)
        # The transaction in flight is committed and answered ...
        self.assertEqual(replies[3][0], 250, summary)
        self.assertIn("queued", replies[3][1], summary)
        # ... the ones pipelined behind it are not delivered: no other
        # "queued" 250, and the connection ends with 421 4.3.2.
        queued = [reply for code, reply in replies if code == 250 and "queued" in reply]
        self.assertEqual(len(queued), 1, summary)
        self.assertEqual(replies[-1][0], 421, summary)
        self.assertIn("4.3.2", replies[-1][1])
        self.assertEqual(self.server.process.wait(timeout=30), 0)
        self.assertEqual(self.server.count("messages") - before, 1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--smtpd", required=True)
    parser.add_argument("--ctl", required=True)
    options, rest = parser.parse_known_args()
    SMTPD, CTL = options.smtpd, options.ctl
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
