#!/usr/bin/env python3
"""A slow request holds up only its own connection (docs/protocol/web.md
§5): while mailroom-webd builds the largest answer the limits allow, on
several connections at once, /healthz and another account's listing on the
same mailroom-webd are answered meanwhile; and while a login waits for the
database's write lock to store its token.

The heaviest request webd has: GET /api/v1/messages/ID of a message as
large as smtpd accepts (25 MiB, a header section near its 256 KiB limit,
an HTML body to turn into text), on HEAVY connections at once. webd runs
with --threads 1: every connection, heavy or light, shares one network
thread, so only the request workers (the store work of a request runs on
one, never on the network thread) keep the light connection answered.
Asserted: every light answer is complete before the first heavy answer
begins (its head comes once it is built); no timing threshold (were the
store work done on the network thread, the light requests would queue
behind the heavy ones, whatever the machine's speed).

    test_webd_slow_request.py --smtpd P --webd P --pop3d P --ctl P"""

import os
import sqlite3
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))

from mailroom_harness import DOMAIN, Deployment, Https, SmtpClient, binaries_from_argv  # noqa: E402

HEAVY = 3  # fewer than the request workers (at least 4), so one stays free
MIB = 1024 * 1024
GENEROUS = 60  # seconds: a bound for the light answers only a hung server exceeds
BINARIES = None


def largest_message(subject):
    """Near smtpd's limits: many addresses in a header section under 256 KiB,
    then an HTML body up to about 24 MiB of short paragraphs."""
    addresses = ",\r\n ".join(f"user{n}@example.org" for n in range(9000))
    head = (f"From: bob@{DOMAIN}\r\nTo: alice@{DOMAIN},\r\n {addresses}\r\nSubject: {subject}\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n").encode()
    assert len(head) < 250 * 1024, len(head)
    paragraph = b"<p>Some <b>bold</b> &amp; <i>slanted</i> words, and a <a href=\"https://x.test/\">link</a>.</p>\r\n"
    return head + b"<html><body>\r\n" + paragraph * ((24 * MIB) // len(paragraph)) + b"</body></html>\r\n"


class SlowRequestTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Deployment(BINARIES, {"alice": "alice-password-1", "bob": "bob-password-22"},
                           prefix="mailroom-webd-slow-")
        try:
            smtpd = cls.d.start("smtpd")
            with SmtpClient(smtpd.port, timeout=120) as client:
                client.hello(cls.d.context())
                client.auth_plain("bob", "bob-password-22")
                code, reply = client.send_message(f"bob@{DOMAIN}", [f"alice@{DOMAIN}"], largest_message("largest"))
                assert code == 250, reply
                for n in range(20):
                    message = (f"From: bob@{DOMAIN}\r\nTo: bob@{DOMAIN}\r\nSubject: small {n}\r\n\r\n"
                               "Hello.\r\n").encode()
                    code, reply = client.send_message(f"bob@{DOMAIN}", [f"bob@{DOMAIN}"], message)
                    assert code == 250, reply
            assert smtpd.stop() == 0
            cls.webd = cls.d.start("webd", "--threads", "1")
        except BaseException:
            cls.d.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        code = cls.webd.stop()
        cls.d.cleanup()
        assert code == 0, f"mailroom-webd exited with {code}"

    def test_healthz_and_other_listings_answered_during_the_heaviest_requests(self):
        context = self.d.context()
        heavy = [Https(self.webd.port, context, timeout=300) for _ in range(HEAVY)]
        light = Https(self.webd.port, context, timeout=GENEROUS)
        # Logged in one after the other: all on the one network thread.
        tokens = []
        for connection in heavy:
            status, token = connection.login("alice", "alice-password-1")
            self.assertEqual(status, 200)
            tokens.append(token)
        status, bob = light.login("bob", "bob-password-22")
        self.assertEqual(status, 200)
        status, page = heavy[0].json("GET", "/api/v1/mailboxes/inbox/messages", token=tokens[0])
        self.assertEqual(status, 200)
        [largest] = [entry["id"] for entry in page["messages"] if entry["subject"] == "largest"]

        sent = [threading.Event() for _ in heavy]
        # (status, body size, when its head came): the head comes once the
        # answer is built, before its megabytes are written.
        finished = [None] * HEAVY

        def fetch(index):
            connection = heavy[index].connection
            connection.request("GET", f"/api/v1/messages/{largest}",
                               headers={"Authorization": "Bearer " + tokens[index]})
            sent[index].set()
            response = connection.getresponse()
            head = time.monotonic()
            finished[index] = (response.status, len(response.read()), head)

        workers = [threading.Thread(target=fetch, args=(i,), daemon=True) for i in range(HEAVY)]
        started = time.monotonic()
        for worker in workers:
            worker.start()
        for event in sent:
            self.assertTrue(event.wait(GENEROUS))
        time.sleep(0.3)  # the requests have reached webd and are being answered

        answers = []
        for _ in range(3):
            for path in ("/healthz", "/api/v1/mailboxes/inbox/messages?limit=500"):
                asked = time.monotonic()
                status, _, body = light.request("GET", path, token=None if path == "/healthz" else bob)
                answers.append((path, status, time.monotonic() - asked, time.monotonic(), body))
        for worker in workers:
            worker.join(300)
            self.assertFalse(worker.is_alive(), "a heavy request got no answer")
        first_heavy = min(head for _, _, head in finished)
        print("\nheavy answers: " + ", ".join(f"{status} {size // MIB} MiB, head after {head - started:.2f} s"
                                              for status, size, head in finished), file=sys.stderr)
        print("light answers: " + ", ".join(f"{path.split('?')[0]} {status} in {seconds * 1000:.0f} ms"
                                            for path, status, seconds, _, _ in answers), file=sys.stderr)
        for status, size, _ in finished:
            self.assertEqual(status, 200)
            self.assertGreater(size, 10 * MIB)
        for path, status, seconds, done, body in answers:
            with self.subTest(path=path):
                self.assertEqual(status, 200, body[:200])
                self.assertLess(seconds, GENEROUS)
                self.assertLess(done, first_heavy,
                                f"{path} was answered only {done - first_heavy:.2f} s after the first heavy answer began")
        self.assertIn(b'"subject":"small 19"', answers[1][4])
        light.close()
        for connection in heavy:
            connection.close()

    def test_logins_waiting_for_the_write_lock_hold_up_no_one(self):
        """A login stores its token, a write: while another process holds
        SQLite's write lock the login waits (up to the busy timeout), on a
        request worker. Asserted: /healthz and a listing on the same network
        thread are answered before that login is, and the login then
        succeeds; no timing threshold."""
        if self.d.engine == "postgresql":
            self.skipTest("SQLite's write lock")
        context = self.d.context()
        light = Https(self.webd.port, context, timeout=GENEROUS)
        status, bob = light.login("bob", "bob-password-22")
        self.assertEqual(status, 200)
        waiting = Https(self.webd.port, context, timeout=GENEROUS)
        locker = sqlite3.connect(self.d.database, isolation_level=None, timeout=30)
        locker.execute("BEGIN IMMEDIATE")
        login = {}

        def log_in():
            login["status"], _ = waiting.login("alice", "alice-password-1")
            login["done"] = time.monotonic()

        thread = threading.Thread(target=log_in, daemon=True)
        try:
            thread.start()
            time.sleep(1.0)  # the password is checked; the token's write waits for the lock
            answers = []
            for path in ("/healthz", "/api/v1/mailboxes/inbox/messages?limit=5") * 3:
                status, _, body = light.request("GET", path, token=None if path == "/healthz" else bob)
                answers.append((path, status, time.monotonic(), body))
            time.sleep(0.5)
            # Answered while the lock is still held: the token's write gave up
            # (busy timeout) while the light requests waited behind it.
            self.assertNotIn("done", login, f"the login was answered ({login.get('status')}) before the lock "
                                            "was released")
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        thread.join(GENEROUS)
        self.assertFalse(thread.is_alive(), "the login got no answer")
        self.assertEqual(login["status"], 200)
        for path, status, done, body in answers:
            with self.subTest(path=path):
                self.assertEqual(status, 200, body[:200])
                self.assertLess(done, login["done"])
        light.close()
        waiting.close()


if __name__ == "__main__":
    BINARIES, rest = binaries_from_argv(sys.argv)
    unittest.main(argv=rest, verbosity=2)
