"""The PostgreSQL server goes down under running Mailroom servers and comes
back (issue 12): smtpd, webd and pop3d keep running, what arrives meanwhile
gets a temporary refusal (SMTP 451/454, HTTP 503 with Retry-After, POP3
-ERR [SYS/TEMP]) and is not stored, every message acknowledged before and
after is stored once, and within seconds of the database's return everyone
is served again, on the connections and login tokens from before.

Runs on a PostgreSQL server of its own (tests/support/throwaway_postgres.py),
since it stops and starts it: the suite's shared one must stay up."""

import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
import mailroom_harness as harness  # noqa: E402
import throwaway_postgres  # noqa: E402

BINARIES = {}
RECOVERY_SECONDS = 30  # the store's back-off tops out at 5 s; pg_ctl start takes 1-3 s here


def subject_count(deployment, subject):
    rows = deployment.query("SELECT count(*) FROM messages WHERE subject = ?", (subject,))
    return int(rows[0][0])


class DatabaseRestart(unittest.TestCase):
    def setUp(self):
        self.state = tempfile.mkdtemp(prefix="mailroom-pg-restart-")
        print(throwaway_postgres.start(self.state), flush=True)
        self.addCleanup(throwaway_postgres.stop, self.state)
        # The harness makes the deployment's database on this server.
        previous = os.environ.get("MAILROOM_TEST_POSTGRES")
        os.environ["MAILROOM_TEST_POSTGRES"] = self.state
        self.addCleanup(lambda: os.environ.pop("MAILROOM_TEST_POSTGRES") if previous is None
                        else os.environ.__setitem__("MAILROOM_TEST_POSTGRES", previous))
        self.deployment = harness.Deployment(BINARIES, {"alice": "alice-password-1", "bob": "bob-password-1"},
                                             prefix="mailroom-restart-")
        self.addCleanup(self.deployment.cleanup)
        self.context = self.deployment.context()

    def smtp_session(self, smtpd, user="alice"):
        client = harness.SmtpClient(smtpd.ports["STARTTLS"]).hello(self.context)
        code, reply = client.auth_plain(user, self.deployment.passwords[user])
        self.assertEqual(code, 235, reply)
        return client

    def test_restart_under_load(self):
        servers = [self.deployment.start(kind) for kind in ("smtpd", "webd", "pop3d")]
        try:
            self.restart_under_load(*servers)
        except AssertionError:
            for server in servers:
                print(f"--- {server.name} log:\n{server.log_text()}", flush=True)
            raise

    def restart_under_load(self, smtpd, webd, pop3d):
        alice, bob = "alice@project.com", "bob@project.com"
        acknowledged = []

        def send(client, subject):
            code, reply = client.send_message(alice, [bob], harness.plain_message(alice, [bob], subject))
            if code == 250:
                acknowledged.append(subject)
            return code, reply

        first = self.smtp_session(smtpd)
        self.assertEqual(send(first, "before")[0], 250)
        https = harness.Https(webd.ports["HTTPS"], self.context)
        status, token = https.login("bob", "bob-password-1")
        self.assertEqual(status, 200)
        self.assertEqual(len(https.listing(token)), 1)
        # Two sessions waiting when the database goes: one inside a
        # transaction (recipient accepted), one logged in.
        inside = self.smtp_session(smtpd)
        inside.command(f"MAIL FROM:<{alice}>", expect=250)
        inside.command(f"RCPT TO:<{bob}>", expect=250)
        waiting = self.smtp_session(smtpd)

        throwaway_postgres.halt(self.state)
        halted = time.monotonic()

        # The transaction that was open: its DATA is read and refused, temporarily.
        inside.command("DATA", expect=354)
        inside.send(harness.plain_message(alice, [bob], "during, in DATA") + b".\r\n")
        code, reply = inside.reply()
        self.assertEqual(code, 451, reply)
        self.assertIn("4.3.0", reply)
        # A recipient cannot be looked up: 451, never "no such user".
        code, reply = waiting.send_message(alice, [bob], harness.plain_message(alice, [bob], "during, at RCPT"))
        self.assertEqual(code, 451, reply)
        self.assertIn("4.3.0", reply)
        waiting.command("RSET", expect=250)  # MAIL was accepted: the client gives up this transaction
        # A new login cannot be checked: 454, never "credentials invalid".
        fresh = harness.SmtpClient(smtpd.ports["STARTTLS"]).hello(self.context)
        code, reply = fresh.auth_plain("alice", "alice-password-1")
        self.assertEqual(code, 454, reply)
        fresh.close()
        # webd: 503 with Retry-After for a token and for a login.
        status, headers, _ = https.request("GET", "/api/v1/mailboxes/inbox/messages", token=token)
        self.assertEqual(status, 503)
        self.assertTrue(headers.get("Retry-After"))
        status, _ = https.login("bob", "bob-password-1")
        self.assertEqual(status, 503)
        # pop3d: a temporary error, not "invalid credentials".
        pop3 = harness.Pop3Client(pop3d.ports["STARTTLS"])
        self.assertTrue(pop3.line().startswith("+OK"))
        self.assertTrue(pop3.command("STLS").startswith("+OK"))
        pop3.start_tls(self.context)
        self.assertTrue(pop3.command("USER bob").startswith("+OK"))
        answer = pop3.command("PASS bob-password-1")
        self.assertTrue(answer.startswith("-ERR [SYS/TEMP]"), answer)
        pop3.close()
        for server in (smtpd, webd, pop3d):
            self.assertTrue(server.running(), f"{server.name} exited while the database was down")

        time.sleep(2)  # down for a while, as in a real restart
        throwaway_postgres.resume(self.state)
        resumed = time.monotonic()
        print(f"database down for {resumed - halted:.1f} s", flush=True)

        # The same sessions go on: the refused transactions are sent again.
        deadline = time.monotonic() + RECOVERY_SECONDS
        attempts = 0
        while True:
            attempts += 1
            code, reply = send(waiting, "after, same session")
            if code == 250:
                break
            self.assertEqual(code, 451, reply)
            self.assertLess(time.monotonic(), deadline, f"smtpd still refuses {RECOVERY_SECONDS} s after: {reply}")
            waiting.command("RSET", expect=250)
            time.sleep(0.2)
        served = time.monotonic()
        print(f"smtpd stored again {served - resumed:.1f} s after the database was back ({attempts} attempts)",
              flush=True)
        self.assertEqual(send(inside, "after, the session that was in DATA")[0], 250)
        self.assertEqual(send(first, "after, first session")[0], 250)
        self.assertEqual(send(self.smtp_session(smtpd), "after, new session")[0], 250)

        # webd: the token from before serves again; logins work.
        deadline = time.monotonic() + RECOVERY_SECONDS
        while True:
            status, headers, _ = https.request("GET", "/api/v1/mailboxes/inbox/messages", token=token)
            if status == 200:
                break
            self.assertEqual(status, 503)
            self.assertLess(time.monotonic(), deadline, "webd still answers 503")
            time.sleep(0.2)
        self.assertEqual(https.login("bob", "bob-password-1")[0], 200)
        subjects = sorted(entry["subject"] for entry in https.listing(token))
        self.assertEqual(subjects, sorted(acknowledged))
        https.close()
        # pop3d: logs in, and sees every message.
        deadline = time.monotonic() + RECOVERY_SECONDS
        while True:
            pop3 = harness.Pop3Client(pop3d.ports["STARTTLS"])
            pop3.line()
            pop3.command("STLS")
            pop3.start_tls(self.context)
            pop3.command("USER bob")
            answer = pop3.command("PASS bob-password-1")
            if answer.startswith("+OK"):
                break
            pop3.close()
            self.assertLess(time.monotonic(), deadline, f"pop3d still refuses: {answer}")
            time.sleep(0.2)
        self.assertEqual(pop3.command("STAT").split()[1], str(len(acknowledged)))
        pop3.command("QUIT")
        pop3.close()

        # Each acknowledged message once, each refused one not at all.
        for subject in acknowledged:
            self.assertEqual(subject_count(self.deployment, subject), 1, subject)
        for subject in ("during, in DATA", "during, at RCPT"):
            self.assertEqual(subject_count(self.deployment, subject), 0, subject)
        self.assertEqual(int(self.deployment.query("SELECT count(*) FROM messages")[0][0]), len(acknowledged))
        for server in (smtpd, webd, pop3d):
            self.assertTrue(server.running(), f"{server.name} exited")
        for client in (first, inside, waiting):
            client.command("QUIT")
            client.close()
        print(f"{len(acknowledged)} messages acknowledged, each stored once; 2 refused with 451, none stored",
              flush=True)


if __name__ == "__main__":
    BINARIES, argv = harness.binaries_from_argv(sys.argv)
    unittest.main(argv=argv, verbosity=2)
