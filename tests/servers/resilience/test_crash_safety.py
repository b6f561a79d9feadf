#!/usr/bin/env python3
"""Crash safety (docs/protocol/messages.md §4: a 250 to DATA means committed
durably; nothing half-stored is ever visible; docs/PROTOCOL.md §7: SIGTERM
finishes or refuses open transactions with 421).

Mail is pushed over STARTTLS + AUTH from several connections while
mailroom-smtpd is killed at random moments and started again; the same
while mailroom-webd serves reads, seen flags and deletions and is killed;
then both again with SIGTERM instead of SIGKILL. Afterwards every message
is looked for through mailroom-webd, in every recipient's inbox and the
sender's sent folder:

- acknowledged (250): there, once, whole, everywhere;
- refused (any other reply) or cut off before its final dot was sent: nowhere;
- cut off after the final dot, before the reply: everywhere whole, or nowhere.

The random moments come from a seed printed at the start (MAILROOM_SEED=N
repeats a run)."""

import os
import random
import signal
import ssl
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from mailroom_harness import DOMAIN, Deployment, Https, SmtpClient, binaries_from_argv  # noqa: E402

BINARIES = None
USERS = {"alice": "alice-crash-pw", "bob": "bob-crash-pw", "carol": "carol-crash-pw"}
SENDERS_PER_ROUND = 6
KILL_ROUNDS = 6
SEED = int(os.environ.get("MAILROOM_SEED", str(int(time.time()))))
NETWORK_ERRORS = (OSError, ssl.SSLError, EOFError)


class Refused(Exception):
    """The server said no: this connection's work ends."""


def say(text):
    print(text, file=sys.stderr, flush=True)


class Ledger:
    """What each SMTP transaction was told, by subject."""

    ACKED, REFUSED, NOT_SENT, UNKNOWN = "acknowledged", "refused", "not sent", "unknown"

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = {}  # subject -> dict(sender, recipients, body, outcome, reply)

    def record(self, subject, sender, recipients, body, outcome, reply=""):
        with self.lock:
            self.messages[subject] = dict(sender=sender, recipients=recipients, body=body, outcome=outcome,
                                          reply=reply)

    def count(self, outcome):
        with self.lock:
            return sum(1 for message in self.messages.values() if message["outcome"] == outcome)

    def replies(self, prefix):
        with self.lock:
            return sum(1 for message in self.messages.values() if message["reply"].startswith(prefix))


def message_bytes(sender, recipients, subject, body):
    head = (f"From: {sender}@{DOMAIN}\r\nTo: " + ", ".join(f"{name}@{DOMAIN}" for name in recipients)
            + f"\r\nSubject: {subject}\r\n\r\n")
    return head.encode() + body


def body_of(rng, subject):
    """A small body mostly, sometimes a few hundred KB so that kills land inside DATA too."""
    line = f"{subject} line of the body, nothing to see here 0123456789\r\n".encode()
    lines = rng.choice([3, 3, 3, 20, 1500, 4000])
    return line * lines


class Sender(threading.Thread):
    """One SMTP connection sending message after message until told to stop or cut off."""

    def __init__(self, deployment, port, name, ledger, stop, seed):
        super().__init__(daemon=True)
        self.deployment = deployment
        self.port = port
        self.tag = name
        self.ledger = ledger
        self.stop = stop
        self.rng = random.Random(seed)
        self.sender = self.rng.choice(sorted(USERS))
        self.recipients = [user for user in sorted(USERS) if user != self.sender]
        self.sent = 0

    def run(self):
        try:
            client = SmtpClient(self.port, timeout=20)
            client.hello(self.deployment.context())
            code, reply = client.auth_plain(self.sender, USERS[self.sender])
            if code != 235:
                raise AssertionError(f"AUTH as {self.sender}: {reply}")
        except NETWORK_ERRORS:
            return  # killed before this connection got going
        try:
            while not self.stop.is_set():
                self.transaction(client, f"{self.tag}-{self.sent}")
                self.sent += 1
        except (*NETWORK_ERRORS, Refused):
            pass
        finally:
            client.close()

    def transaction(self, client, subject):
        body = body_of(self.rng, subject)
        outcome = Ledger.NOT_SENT
        try:
            for command in [f"MAIL FROM:<{self.sender}@{DOMAIN}>"] + [
                    f"RCPT TO:<{name}@{DOMAIN}>" for name in self.recipients]:
                code, reply = client.command(command)
                if code != 250:
                    self.ledger.record(subject, self.sender, self.recipients, body, Ledger.REFUSED, reply)
                    raise Refused(reply)
            code, reply = client.command("DATA")
            if code != 354:
                self.ledger.record(subject, self.sender, self.recipients, body, Ledger.REFUSED, reply)
                raise Refused(reply)
            data = message_bytes(self.sender, self.recipients, subject, body)
            client.send(data)
            outcome = Ledger.UNKNOWN  # from the final dot on, the server may have it
            client.send(b".\r\n")
            code, reply = client.reply()
            if code is None:
                raise EOFError("no reply to the final dot")
            self.ledger.record(subject, self.sender, self.recipients, body,
                               Ledger.ACKED if code == 250 else Ledger.REFUSED, reply)
            if code != 250:
                raise Refused(reply)
        except NETWORK_ERRORS:
            self.ledger.record(subject, self.sender, self.recipients, body, outcome)
            raise


class HalfwaySender:
    """A transaction left in the middle of its DATA, to be finished on request."""

    def __init__(self, deployment, port, subject):
        self.subject = subject
        self.body = b"x" * 998 + b"\r\n"
        self.body *= 2000
        self.client = SmtpClient(port)
        self.client.hello(deployment.context())
        self.client.auth_plain("alice", USERS["alice"])
        for command in ("MAIL FROM:<alice@project.com>", "RCPT TO:<bob@project.com>", "DATA"):
            self.client.command(command)
        data = message_bytes("alice", ["bob"], subject, self.body)
        self.rest = data[len(data) // 2:] + b".\r\n"
        self.client.send(data[:len(data) // 2])
        self.reply = ""

    def finish(self):
        """After the SIGTERM: the server says 421 on its own once its shutdown
        reaches this connection. Only then the rest of the message goes out
        (and is dropped): sent at once, it could arrive before the shutdown
        reached the connection's thread, and the message would be whole and
        rightly stored."""
        try:
            self.client.sock.settimeout(10)
            self.reply = self.client.reply()[1]
        except TimeoutError:
            self.reply = ""
        except NETWORK_ERRORS as error:
            self.reply = f"no reply: {error!r}"
        try:
            self.client.send(self.rest)
            if not self.reply:
                self.reply = self.client.reply()[1]
        except NETWORK_ERRORS as error:
            self.reply = self.reply or f"no reply: {error!r}"
        self.client.close()


def start_senders(deployment, port, ledger, round_name, rng):
    stop = threading.Event()
    senders = [Sender(deployment, port, f"{round_name}-c{index}", ledger, stop, rng.random())
               for index in range(SENDERS_PER_ROUND)]
    for sender in senders:
        sender.start()
    return stop, senders


def wait_until(predicate, timeout=30):
    """Traffic first, then the random moment: a loaded machine must not make a round prove nothing."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("no traffic within %d s" % timeout)
        time.sleep(0.02)


def join_all(threads, timeout=60):
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.1, deadline - time.monotonic()))
        if thread.is_alive():
            raise AssertionError(f"{thread.name} still busy {timeout} s after its server went away")


class Mailboxes:
    """Every user's inbox and sent folder as webd lists them, with the raw bytes."""

    def __init__(self, webd_port, deployment, tokens):
        self.entries = {}  # (user, folder) -> {subject: [entry, ...]}
        self.tokens = tokens
        self.apis = {user: Https(webd_port, deployment.context()) for user in USERS}
        for user, api in self.apis.items():
            for folder in ("inbox", "sent"):
                by_subject = {}
                for entry in api.listing(tokens[user], folder):
                    by_subject.setdefault(entry["subject"], []).append(entry)
                self.entries[(user, folder)] = by_subject

    def close(self):
        for api in self.apis.values():
            api.close()

    def places(self, subject, message):
        """(user, folder) where a message must be."""
        return [(name, "inbox") for name in message["recipients"]] + [(message["sender"], "sent")]

    def found(self, user, folder, subject):
        return self.entries[(user, folder)].get(subject, [])

    def check_whole(self, user, entry, message, subject):
        raw = self.apis[user].raw(self.tokens[user], entry["id"])
        problems = []
        if not raw.endswith(b"\r\n\r\n" + message["body"]):
            problems.append(f"{subject} in {user}'s view (entry {entry['id']}) does not end with the body sent")
        if f"Subject: {subject}\r\n".encode() not in raw:
            problems.append(f"{subject} in {user}'s view has no Subject line")
        if entry["size"] != len(raw):
            problems.append(f"{subject}: listed size {entry['size']} but {len(raw)} raw bytes")
        return problems


def verify(ledger, mailboxes, whole_checks=None):
    """Problems found: lost, duplicated, half-stored or unasked-for messages. And the counts."""
    problems = []
    present_unknown = 0
    checked = 0
    with ledger.lock:
        messages = dict(ledger.messages)
    for subject, message in messages.items():
        places = mailboxes.places(subject, message)
        counts = [len(mailboxes.found(user, folder, subject)) for user, folder in places]
        if message["outcome"] == Ledger.ACKED:
            if counts != [1] * len(places):
                problems.append(f"acknowledged {subject}: found {counts} times in {places}")
        elif message["outcome"] == Ledger.UNKNOWN:
            if counts not in ([0] * len(places), [1] * len(places)):
                problems.append(f"{subject} (cut off before its reply): partly there {counts} in {places}")
            present_unknown += counts[0] == 1
        elif any(counts):
            problems.append(f"{subject} ({message['outcome']}, {message['reply']!r}) is there: {counts}")
        if any(counts) and (whole_checks is None or checked < whole_checks or message["outcome"] != Ledger.ACKED
                            or len(message["body"]) > 10000):
            checked += 1
            for user, folder in places:
                for entry in mailboxes.found(user, folder, subject):
                    problems += mailboxes.check_whole(user, entry, message, subject)
    for (user, folder), by_subject in mailboxes.entries.items():
        for subject in by_subject:
            if subject not in messages and not subject.startswith("fodder-"):
                problems.append(f"{user}'s {folder} has {subject!r}, which no one sent")
    return problems, present_unknown


def login_all(webd_port, deployment):
    tokens = {}
    for user, password in USERS.items():
        api = Https(webd_port, deployment.context())
        status, token = api.login(user, password)
        api.close()
        if status != 200:
            raise AssertionError(f"login of {user}: {status}")
        tokens[user] = token
    return tokens


class CrashSafety(unittest.TestCase):
    def setUp(self):
        self.deployment = Deployment(BINARIES, USERS, prefix="mailroom-crash-")
        self.addCleanup(self.deployment.cleanup)
        self.rng = random.Random(SEED + hash(self._testMethodName) % 1000)

    def serve_once_more(self, smtpd):
        """A message sent and acknowledged through a server just (re)started."""
        ledger = Ledger()
        stop = threading.Event()
        sender = Sender(self.deployment, smtpd.port, "after-restart", ledger, stop, 1)
        stop.set()  # one transaction, then stop
        client = SmtpClient(smtpd.port)
        client.hello(self.deployment.context())
        self.assertEqual(client.auth_plain(sender.sender, USERS[sender.sender])[0], 235)
        sender.transaction(client, f"after-restart-{time.monotonic_ns()}")
        client.command("QUIT")
        client.close()
        return ledger

    def test_smtpd_killed_while_receiving(self):
        """SIGKILL at random moments, KILL_ROUNDS times: nothing acknowledged lost, nothing half there."""
        deployment = self.deployment
        webd = deployment.start("webd")
        ledger = Ledger()
        smtpd = deployment.start("smtpd")
        for round_number in range(KILL_ROUNDS):
            before = ledger.count(Ledger.ACKED)
            stop, senders = start_senders(deployment, smtpd.port, ledger, f"kill{round_number}", self.rng)
            wait_until(lambda: ledger.count(Ledger.ACKED) >= before + 10)
            time.sleep(self.rng.uniform(0, 1.5))
            smtpd.kill()
            stop.set()
            join_all(senders)
            smtpd = deployment.start("smtpd")  # the restart must serve again
            acknowledged = ledger.count(Ledger.ACKED)
            say(f"round {round_number + 1}: {sum(s.sent for s in senders)} transactions finished on "
                f"{len(senders)} connections; {acknowledged} acknowledged so far")
        restarted = self.serve_once_more(smtpd)
        self.assertEqual(restarted.count(Ledger.ACKED), 1, "the last restart did not take mail")
        ledger.messages.update(restarted.messages)
        self.assertEqual(deployment.query("PRAGMA integrity_check"), [("ok",)])
        mailboxes = Mailboxes(webd.port, deployment, login_all(webd.port, deployment))
        problems, present_unknown = verify(ledger, mailboxes)
        mailboxes.close()
        say(f"SIGKILL x{KILL_ROUNDS} (seed {SEED}): {ledger.count(Ledger.ACKED)} acknowledged, all found whole "
            f"= {not problems}; {ledger.count(Ledger.UNKNOWN)} cut off between final dot and reply "
            f"({present_unknown} of them stored whole, the rest not at all); "
            f"{ledger.count(Ledger.NOT_SENT)} cut off before the final dot")
        self.assertEqual(problems, [])
        self.assertGreater(ledger.count(Ledger.NOT_SENT) + ledger.count(Ledger.UNKNOWN), 0,
                           "no kill landed inside a transaction")
        self.assertEqual([(server.name, server.stop()) for server in (smtpd, webd)],
                         [("mailroom-smtpd", 0), ("mailroom-webd", 0)])

    def test_smtpd_sigterm_finishes_or_refuses(self):
        """SIGTERM while mail flows: exit 0, each open transaction 250 or 421, nothing half stored."""
        deployment = self.deployment
        webd = deployment.start("webd")
        ledger = Ledger()
        for round_number in range(3):
            smtpd = deployment.start("smtpd")
            stop, senders = start_senders(deployment, smtpd.port, ledger, f"term{round_number}", self.rng)
            halfway = HalfwaySender(deployment, smtpd.port, f"term{round_number}-halfway")
            time.sleep(self.rng.uniform(0.5, 1.5))
            smtpd.signal(signal.SIGTERM)
            started = time.monotonic()
            halfway.finish()  # the rest of its message arrives after the SIGTERM
            code = smtpd.stop(timeout=30)
            stop.set()
            join_all(senders)
            self.assertRegex(halfway.reply, r"^421 4\.3\.2 ", "a message half sent at SIGTERM")
            ledger.record(halfway.subject, "alice", ["bob"], halfway.body, Ledger.REFUSED, halfway.reply)
            self.assertEqual(code, 0, f"round {round_number + 1}: exit code after SIGTERM\n{smtpd.log_text(30)}")
            say(f"SIGTERM round {round_number + 1}: stopped in {time.monotonic() - started:.2f} s")
        mailboxes = Mailboxes(webd.port, deployment, login_all(webd.port, deployment))
        problems, present_unknown = verify(ledger, mailboxes)
        mailboxes.close()
        refused = ledger.replies("421")
        say(f"SIGTERM x3: {ledger.count(Ledger.ACKED)} acknowledged, {refused} refused with 421, "
            f"{ledger.count(Ledger.UNKNOWN)} without a reply to the final dot ({present_unknown} stored)")
        self.assertEqual(problems, [])
        self.assertGreater(refused, 0, "no transaction was open at a SIGTERM: the test proved nothing")
        # A clean stop answers every transaction it has taken the final dot of.
        self.assertEqual(ledger.count(Ledger.UNKNOWN), 0)
        for message in ledger.messages.values():
            if message["outcome"] == Ledger.REFUSED:
                self.assertRegex(message["reply"], r"^421 4\.3\.2 ", message["reply"])
        self.assertEqual(webd.stop(), 0)

    def test_webd_killed_while_serving(self):
        """SIGKILL of webd in the middle of reads, PATCHes and DELETEs, mail still arriving:
        after each restart the same tokens serve, every write acknowledged stays, none is half done."""
        self.webd_rounds(kill=True, rounds=5)

    def test_webd_sigterm_while_serving(self):
        self.webd_rounds(kill=False, rounds=2)

    def webd_rounds(self, kill, rounds):
        deployment = self.deployment
        smtpd = deployment.start("smtpd")
        ledger = Ledger()
        fodder = {}
        for user in USERS:  # entries to delete: fodder-<user>-<n> in each inbox
            for index in range(8):
                subject = f"fodder-{user}-{index}"
                self.deliver(smtpd, user, subject, fodder)
        webd = deployment.start("webd")
        tokens = login_all(webd.port, deployment)
        api = Https(webd.port, deployment.context())
        fodder_ids = {user: [entry["id"] for entry in api.listing(tokens[user]) if entry["subject"].startswith(
            "fodder-")] for user in USERS}
        api.close()
        possible_seen = {}  # entry id -> values it may have
        deleted = {}  # entry id -> "acknowledged" or "unknown"
        for round_number in range(rounds):
            stop = threading.Event()
            workers = [WebWorker(webd.port, deployment, user, tokens[user], stop, possible_seen, deleted,
                                 fodder_ids[user], random.Random(self.rng.random())) for user in USERS]
            stop_mail, senders = start_senders(deployment, smtpd.port, ledger, f"web{round_number}", self.rng)
            for worker in workers:
                worker.start()
            wait_until(lambda: all(worker.requests >= 5 for worker in workers))
            time.sleep(self.rng.uniform(0, 1.0))
            if kill:
                webd.kill()
            else:
                webd.signal(signal.SIGTERM)
                self.assertEqual(webd.stop(timeout=30), 0, "webd after SIGTERM")
            stop.set()
            join_all(workers)
            for worker in workers:
                self.assertEqual(worker.unexpected, [], f"round {round_number + 1}")
            say(f"webd {'SIGKILL' if kill else 'SIGTERM'} round {round_number + 1}: "
                f"{sum(worker.requests for worker in workers)} requests answered before it")
            webd = deployment.start("webd")
            stop_mail.set()
            join_all(senders)
        self.assertEqual(deployment.query("PRAGMA integrity_check"), [("ok",)])
        mailboxes = Mailboxes(webd.port, deployment, tokens)  # the tokens of before the kills
        problems, _ = verify(ledger, mailboxes, whole_checks=50)
        state = {}
        for user in USERS:
            for entry in mailboxes.apis[user].listing(tokens[user]):
                state[entry["id"]] = entry["seen"]
        mailboxes.close()
        for entry_id, values in possible_seen.items():
            if entry_id in state and state[entry_id] not in values:
                problems.append(f"entry {entry_id}: seen is {state[entry_id]}, but the requests made it {values}")
        for entry_id, outcome in deleted.items():
            if outcome == "acknowledged" and entry_id in state:
                problems.append(f"entry {entry_id} was deleted (204) but is listed")
        for user in USERS:
            for entry_id in fodder_ids[user]:
                if entry_id not in deleted and entry_id not in state:
                    problems.append(f"entry {entry_id} of {user} is gone, but no one deleted it")
        say(f"webd {'SIGKILL' if kill else 'SIGTERM'} x{rounds}: {len(possible_seen)} entries flagged, "
            f"{sum(1 for outcome in deleted.values() if outcome == 'acknowledged')} deletions acknowledged, "
            f"{ledger.count(Ledger.ACKED)} messages acknowledged meanwhile; problems: {len(problems)}")
        self.assertEqual(problems, [])
        self.assertGreater(len(possible_seen), 0)
        self.assertEqual([server.stop() for server in (smtpd, webd)], [0, 0])

    def deliver(self, smtpd, user, subject, record):
        client = SmtpClient(smtpd.port)
        client.hello(self.deployment.context())
        sender = "alice" if user != "alice" else "bob"
        self.assertEqual(client.auth_plain(sender, USERS[sender])[0], 235)
        code, reply = client.send_message(f"{sender}@{DOMAIN}", [f"{user}@{DOMAIN}"],
                                          message_bytes(sender, [user], subject, b"fodder\r\n"))
        self.assertEqual(code, 250, reply)
        client.close()
        record[subject] = user


class WebWorker(threading.Thread):
    """One user's reads, seen flags and deletions over one kept-alive connection, until cut off."""

    def __init__(self, port, deployment, user, token, stop, possible_seen, deleted, fodder_ids, rng):
        super().__init__(daemon=True)
        self.api = Https(port, deployment.context(), timeout=20)
        self.user = user
        self.token = token
        self.stop = stop
        self.possible_seen = possible_seen
        self.deleted = deleted
        self.fodder_ids = [entry for entry in fodder_ids if entry not in deleted]
        self.rng = rng
        self.requests = 0
        self.unexpected = []

    def expect(self, what, status, wanted):
        self.requests += 1
        if status != wanted:
            self.unexpected.append(f"{self.user}: {what}: {status}, expected {wanted}")
            raise EOFError

    def run(self):
        try:
            while not self.stop.is_set():
                status, page = self.api.json("GET", "/api/v1/mailboxes/inbox/messages?limit=20", token=self.token)
                self.expect("listing", status, 200)
                entries = [entry for entry in page["messages"] if not entry["subject"].startswith("fodder-")]
                if entries:
                    entry = self.rng.choice(entries)
                    status, _ = self.api.json("GET", f"/api/v1/messages/{entry['id']}", token=self.token)
                    self.expect("message", status, 200)
                    value = self.rng.choice([True, False])
                    possible = self.possible_seen.setdefault(entry["id"], {entry["seen"]})
                    possible.add(value)
                    status, _ = self.api.json("PATCH", f"/api/v1/messages/{entry['id']}", {"seen": value},
                                              token=self.token)
                    self.expect("PATCH", status, 200)
                    self.possible_seen[entry["id"]] = {value}
                if self.fodder_ids and self.rng.random() < 0.3:
                    entry_id = self.fodder_ids.pop()
                    self.deleted[entry_id] = "unknown"
                    status, _, _ = self.api.request("DELETE", f"/api/v1/messages/{entry_id}", token=self.token)
                    self.expect("DELETE", status, 204)
                    self.deleted[entry_id] = "acknowledged"
        except (*NETWORK_ERRORS, ValueError):
            pass
        finally:
            self.api.close()


if __name__ == "__main__":
    BINARIES, rest = binaries_from_argv(sys.argv)
    say(f"seed {SEED}")
    unittest.main(argv=rest, verbosity=2)
