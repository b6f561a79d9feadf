#!/usr/bin/env python3
"""Memory of mailroom-smtpd (docs/PROTOCOL.md §5: memory per connection stays
bounded whatever a client sends; docs/protocol/smtp.md §7: work per message is
bounded and memory returns near its baseline after a large message):

- a client streams 1 GiB of DATA (limit 25 MiB): the server reads it all,
  answers 552 5.3.4, stores nothing, and its memory stays flat;
- a legal 24 MiB message with 5,000 addresses in To: is stored, twice: the
  peak stays within a few times the message, and afterwards the memory is
  back near its baseline (found: 1.15 GB still held after a huge message);
- the probe's message, 2.6 million short addresses in a 25 MB To:, is read
  and refused cheaply (552 5.3.4 Header section too large).

Figures go to stderr (the ctest log)."""

import argparse
import base64
import os
import re
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from mailroom_harness import huge_to_message  # noqa: E402

SMTPD = CTL = None
GIB = 1 << 30
MIB = 1 << 20
# Under the sanitizers (the MAILROOM_SANITIZE build sets MAILROOM_SANITIZED=1)
# ASan keeps freed blocks in a 256 MiB quarantine before reusing them, with
# redzones and shadow memory on top: RSS climbs by ~300 MiB under any
# steady traffic, leak or not. Memory bounds allow for that there only.
ASAN_RSS_ALLOWANCE_KIB = 384 * 1024 if os.environ.get("MAILROOM_SANITIZED") == "1" else 0


def cpu_seconds(pid):
    """User plus system CPU time the process has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settled_rss_kib(pid, seconds=5.0):
    """RSS once it stops falling (what is freed after the reply is freed on
    the delivery thread a moment later), at most `seconds` from now."""
    deadline = time.monotonic() + seconds
    last = rss_kib(pid)
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = rss_kib(pid)
        if now >= last - 256:
            return min(now, last)
        last = now
    return last


class RssSampler:
    """The process's RSS every 20 ms on a thread of its own, while in a with block."""

    def __init__(self, pid):
        self.pid, self.samples, self.done = pid, [], threading.Event()

    def __enter__(self):
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        return self

    def run(self):
        while not self.done.is_set():
            self.samples.append(rss_kib(self.pid))
            self.done.wait(0.02)

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()
        self.samples.append(rss_kib(self.pid))

    @property
    def peak(self):
        return max(self.samples)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


class Client:
    def __init__(self, port, cafile):
        raw = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.file = raw.makefile("rb")
        self.sock = raw
        self.reply()
        self.command("EHLO memory.test")
        self.cafile = cafile
        self.command("STARTTLS", expect=220)
        context = ssl.create_default_context(cafile=cafile)
        self.sock = context.wrap_socket(raw, server_hostname="localhost")
        self.file = self.sock.makefile("rb")

    def reply(self):
        lines = []
        while True:
            line = self.file.readline().decode()
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), "".join(lines)

    def command(self, text, expect=None):
        self.sock.sendall(text.encode() + b"\r\n")
        code, reply = self.reply()
        if expect is not None and code != expect:
            raise AssertionError(f"{text!r}: expected {expect}, got {reply!r}")
        return code, reply

    def login(self):
        self.command("EHLO memory.test", expect=250)
        plain = base64.b64encode(b"\0alice\0secret-pass-1").decode()
        self.command("AUTH PLAIN " + plain, expect=235)

    def send(self, data):
        """One transaction, alice to alice; data is dot-stuffed already: the final reply (code, text)."""
        self.command("MAIL FROM:<alice@project.com>", expect=250)
        self.command("RCPT TO:<alice@project.com>", expect=250)
        self.command("DATA", expect=354)
        self.sock.sendall(data + b".\r\n")
        return self.reply()


def legal_message(addresses, size):
    """From alice, a To: of `addresses` addresses (one a line), then lines of
    1000 octets up to about `size` octets: under 25 MiB and 256 KiB of header."""
    to = b"To: " + b",\r\n ".join(b"user%d@example.org" % i for i in range(addresses)) + b"\r\n"
    head = b"From: alice@project.com\r\n" + to + b"Subject: large and legal\r\n\r\n"
    line = b"z" * 998 + b"\r\n"
    return head + line * ((size - len(head)) // len(line))


class HugeData(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.TemporaryDirectory()
        self.data = os.path.join(self.directory.name, "data")
        options = ["--data-dir", self.data, "--hostname", "localhost", "--pbkdf2-iterations", "1000"]
        subprocess.run([CTL] + options + ["init"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([CTL] + options + ["add-user", "alice"], input=b"secret-pass-1\n", check=True,
                       stdout=subprocess.DEVNULL)
        self.server = subprocess.Popen([SMTPD] + options + ["--listen", "127.0.0.1:0"],
                                       stderr=subprocess.PIPE, text=True)
        for line in self.server.stderr:
            found = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
            if found:
                self.port = int(found.group(1))
                break
        threading.Thread(target=lambda: [None for _ in self.server.stderr], daemon=True).start()

    def tearDown(self):
        self.server.send_signal(signal.SIGTERM)
        self.assertEqual(self.server.wait(timeout=60), 0)
        self.server.stderr.close()
        self.directory.cleanup()

    def test_one_gibibyte_is_read_and_refused_in_flat_memory(self):
        client = Client(self.port, os.path.join(self.data, "tls", "cert.pem"))
        client.command("EHLO memory.test", expect=250)
        plain = base64.b64encode(b"\0alice\0secret-pass-1").decode()
        client.command("AUTH PLAIN " + plain, expect=235)
        client.command("MAIL FROM:<alice@project.com>", expect=250)
        client.command("RCPT TO:<alice@project.com>", expect=250)
        client.command("DATA", expect=354)
        before = rss_kib(self.server.pid)
        peak = before
        line = b"x" * 998 + b"\r\n"
        chunk = line * 1024  # 1 MiB
        sent = 0
        started = time.monotonic()
        while sent < GIB:
            client.sock.sendall(chunk)
            sent += len(chunk)
            if sent % (64 * len(chunk)) == 0:
                peak = max(peak, rss_kib(self.server.pid))
        client.sock.sendall(b".\r\n")
        code, reply = client.reply()
        elapsed = time.monotonic() - started
        peak = max(peak, rss_kib(self.server.pid))
        print(f"\n1 GiB streamed in {elapsed:.1f} s; server RSS {before} KiB before, peak {peak} KiB",
              file=sys.stderr)
        self.assertEqual(code, 552, reply)
        self.assertIn("5.3.4", reply)
        self.assertLess(peak - before, 64 * 1024 + ASAN_RSS_ALLOWANCE_KIB, "the server's memory grew with the data")
        # The connection goes on working, and nothing was stored.
        client.command("NOOP", expect=250)
        client.command("QUIT", expect=221)
        self.assertEqual(self.stored(), 0)

    def stored(self):
        with sqlite3.connect(f"file:{self.data}/mailroom.db?mode=ro", uri=True) as db:
            return db.execute("SELECT count(*) FROM messages").fetchone()[0]

    def logged_in_client(self):
        client = Client(self.port, os.path.join(self.data, "tls", "cert.pem"))
        client.login()
        # A first small message: what every delivery sets up once (the
        # delivery thread's store, prepared statements) is in the baseline.
        code, reply = client.send(b"Subject: warm-up\r\n\r\nhello\r\n")
        self.assertEqual(code, 250, reply)
        return client

    def test_large_legal_message_memory_returns_near_baseline(self):
        """24 MiB with 5,000 addresses, stored twice (the second time is the one
        glibc's moving mmap threshold served from its heap, and kept: 58 MiB
        held; the cached insert statement kept the last message: 24 MiB more).
        Bounds: the peak within 6 times the message (measured about 4 times:
        the buffer as it arrives, the stored copy, the parse), and afterwards
        within 16 MiB of the baseline (measured 2 to 4 MiB)."""
        client = self.logged_in_client()
        message = legal_message(5000, 24 * MIB)
        self.assertLess(message.index(b"\r\n\r\n"), 256 * 1024)
        baseline = settled_rss_kib(self.server.pid)
        for attempt in (1, 2):
            cpu_before = cpu_seconds(self.server.pid)
            started = time.monotonic()
            with RssSampler(self.server.pid) as sampler:
                code, reply = client.send(message)
            elapsed = time.monotonic() - started
            after = settled_rss_kib(self.server.pid)
            print(f"\n{len(message) / MIB:.1f} MiB with 5,000 addresses (#{attempt}): {code} in {elapsed:.1f} s, "
                  f"{cpu_seconds(self.server.pid) - cpu_before:.1f} s CPU; RSS baseline {baseline} KiB, "
                  f"peak +{(sampler.peak - baseline) // 1024} MiB, after +{(after - baseline) // 1024} MiB",
                  file=sys.stderr)
            self.assertEqual(code, 250, reply)
            self.assertLess(sampler.peak - baseline, 6 * len(message) // 1024 + ASAN_RSS_ALLOWANCE_KIB,
                            "smtpd's peak memory for one large message")
            self.assertLess(after - baseline, 16 * 1024 + ASAN_RSS_ALLOWANCE_KIB,
                            "smtpd's memory did not return near its baseline after a large message")
        self.assertEqual(self.stored(), 3)
        client.command("QUIT", expect=221)
        client.sock.close()

    def test_huge_header_is_refused_cheaply(self):
        """The probe's 25 MB To: of 2.6 million addresses: read to the end,
        552 5.3.4, nothing stored, the session goes on; memory stays within
        32 MiB of the baseline (found: +1.09 GB and 29 s of CPU)."""
        client = self.logged_in_client()
        message, count = huge_to_message(25 * 1000 * 1000, "huge header")
        self.assertGreater(count, 2_600_000)
        self.assertLess(len(message), 25 * MIB)
        baseline = settled_rss_kib(self.server.pid)
        cpu_before = cpu_seconds(self.server.pid)
        started = time.monotonic()
        with RssSampler(self.server.pid) as sampler:
            code, reply = client.send(message)
        elapsed = time.monotonic() - started
        cpu = cpu_seconds(self.server.pid) - cpu_before
        print(f"\n{len(message) / MIB:.1f} MiB header, {count} addresses: {reply.strip()!r} in {elapsed:.1f} s, "
              f"{cpu:.1f} s CPU; RSS baseline {baseline} KiB, peak +{(sampler.peak - baseline) // 1024} MiB",
              file=sys.stderr)
        self.assertEqual((code, reply), (552, "552 5.3.4 Header section too large\r\n"))
        self.assertLess(sampler.peak - baseline, 32 * 1024 + ASAN_RSS_ALLOWANCE_KIB)
        client.command("NOOP", expect=250)
        code, reply = client.send(b"Subject: after the huge header\r\n\r\nhello\r\n")
        self.assertEqual(code, 250, reply)
        self.assertEqual(self.stored(), 2)  # the warm-up and this one
        client.command("QUIT", expect=221)
        client.sock.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--smtpd", required=True)
    parser.add_argument("--ctl", required=True)
    options, rest = parser.parse_known_args()
    SMTPD, CTL = options.smtpd, options.ctl
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
