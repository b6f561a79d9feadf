#!/usr/bin/env python3
"""Several servers on one PostgreSQL database (docs/protocol/messages.md §4: what a 250 to
DATA acknowledged is committed with all its mailbox entries; nothing
half-stored is ever visible).

Two mailroom-smtpd and two mailroom-webd processes share one database on
the suite's throw-away PostgreSQL server. For DURATION seconds, sender
threads spread over both smtpd processes submit mail (STARTTLS, AUTH PLAIN,
1 to 3 recipients, a unique subject each) while reader threads, one per
account, use both webd processes with one token: list a folder on one,
read an entry on the other, mark it seen, delete some entries (and check
that the other process no longer serves them). Halfway through, one smtpd
is stopped with SIGTERM and started again. Afterwards, in the database and
through both webd processes:

- acknowledged (250): stored once; one entry in each recipient's inbox and
  one in the sender's sent folder, except the entries whose DELETE was
  acknowledged (204), which are gone;
- refused (any other reply) or cut off before the final dot was sent:
  nowhere;
- cut off after the final dot, before the reply: all of its entries or none;
- no entry twice (owner, folder, subject), no message without entries, no
  message stored twice, entry ids unique, seen flags set where PATCH said so,
  both webd processes list the same.

PostgreSQL only: refuses to run without MAILROOM_TEST_POSTGRES (ctest's
test_shared_database_postgres sets it). The random choices come from a seed
printed at the start (MAILROOM_SEED=N repeats them).

    test_shared_database.py --smtpd PATH --webd PATH --pop3d PATH --ctl PATH"""

import collections
import os
import random
import re
import signal
import ssl
import sys
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
import mailroom_harness as harness  # noqa: E402

BINARIES = None
USERS = {f"user{number}": f"user{number}-shared-pw" for number in range(6)}
DURATION = 12.0            # seconds of traffic
RESTART_AT = 0.4           # of DURATION: SIGTERM to the second smtpd, then start it again
SENDERS_PER_SMTPD = 2
MESSAGES_PER_CONNECTION = 5
DELETE_CHANCE = 0.15
SEED = int(os.environ.get("MAILROOM_SEED", str(int(time.time()))))
NETWORK_ERRORS = (OSError, ssl.SSLError, EOFError)
REFUSAL = "MAILROOM_TEST_POSTGRES is not set: test_shared_database runs only against PostgreSQL " \
          "(ctest -R test_shared_database_postgres, or start tests/support/throwaway_postgres.py " \
          "start STATE_DIR and set MAILROOM_TEST_POSTGRES=STATE_DIR)"


def say(text):
    print(text, file=sys.stderr, flush=True)


def address(name):
    return f"{name}@{harness.DOMAIN}"


class Smtpd:
    """One of the two smtpd slots: the process in it changes at the restart."""

    def __init__(self, label, daemon):
        self.label = label
        self.lock = threading.Lock()
        self.daemon = daemon
        self.generation = 0
        self.stopping = False   # SIGTERM sent to this generation; refusals from it are fine
        self.acknowledged = collections.Counter()  # generation -> 250s

    def current(self):
        with self.lock:
            return self.daemon, self.generation, self.stopping


class Ledger:
    """What each SMTP transaction was told, and what each webd reader did."""

    ACKED, REFUSED, NOT_SENT, UNKNOWN = "acknowledged", "refused", "not sent", "unknown"

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = {}       # subject -> dict(sender, recipients, outcome, reply, smtpd, excused)
        self.deleted = set()     # (owner, folder, subject) whose DELETE got 204
        self.marked_seen = set()  # (owner, folder, subject) whose PATCH seen=true got 200
        self.requests = collections.Counter()  # webd label -> requests
        self.problems = []

    def record(self, subject, **fields):
        with self.lock:
            self.messages[subject] = fields

    def count(self, label):
        with self.lock:
            self.requests[label] += 1

    def problem(self, text):
        with self.lock:
            if len(self.problems) < 200:
                self.problems.append(text)


class SharedDatabase(unittest.TestCase):
    def setUp(self):
        if harness.engine() != "postgresql":
            self.fail(REFUSAL)
        self.deployment = harness.Deployment(BINARIES, USERS, prefix="mailroom-shared-db-")
        self.addCleanup(self.deployment.cleanup)
        self.context = self.deployment.context()
        self.ledger = Ledger()
        self.rng = random.Random(SEED)

    # ------------------------------------------------------------ senders

    def transaction(self, client, sender, recipients, subject, body):
        """One MAIL/RCPT/DATA: (outcome, reply text)."""
        code, reply = client.command(f"MAIL FROM:<{address(sender)}>")
        if code != 250:
            return (Ledger.NOT_SENT if code is None else Ledger.REFUSED), reply
        for name in recipients:
            code, reply = client.command(f"RCPT TO:<{address(name)}>")
            if code != 250:
                return (Ledger.NOT_SENT if code is None else Ledger.REFUSED), reply
        code, reply = client.command("DATA")
        if code != 354:
            return (Ledger.NOT_SENT if code is None else Ledger.REFUSED), reply
        message = harness.plain_message(address(sender), [address(name) for name in recipients], subject, body)
        client.send(message + b".\r\n")  # the plain messages hold no line starting with a dot
        code, reply = client.reply()
        if code == 250:
            return Ledger.ACKED, reply
        return (Ledger.UNKNOWN if code is None else Ledger.REFUSED), reply

    def sender(self, number, slot, deadline):
        rng = random.Random(SEED * 1000 + number)
        names = sorted(USERS)
        user = names[number % len(names)]
        client, generation, sent_here, count = None, None, 0, 0
        while time.monotonic() < deadline:
            if client is None:
                daemon, generation, stopping = slot.current()
                if stopping or not daemon.running():
                    time.sleep(0.1)
                    continue
                try:
                    client = harness.SmtpClient(daemon.port, timeout=60).hello(self.context)
                    code, reply = client.auth_plain(user, USERS[user])
                    if code != 235:
                        raise AssertionError(f"AUTH PLAIN {user}: {reply!r}")
                except (AssertionError, *NETWORK_ERRORS) as error:
                    if client is not None:
                        client.close()
                    client = None
                    if not slot.current()[2] and slot.current()[1] == generation:
                        self.ledger.problem(f"sender {number} on {slot.label}#{generation}: "
                                            f"connecting failed on a running server: {error!r}")
                    time.sleep(0.2)
                    continue
                sent_here = 0
            count += 1
            subject = f"shared {number}.{count} {uuid.uuid4().hex[:10]}"
            recipients = rng.sample(names, rng.randint(1, 3))
            body = f"Message {count} of sender {number} to {', '.join(recipients)}.\r\n"
            try:
                outcome, reply = self.transaction(client, user, recipients, subject, body)
            except NETWORK_ERRORS as error:
                # The final dot may or may not have gone out: all or nothing.
                outcome, reply = Ledger.UNKNOWN, repr(error)
            _, now_generation, stopping = slot.current()
            excused = stopping or now_generation != generation  # the restart was under way
            self.ledger.record(subject, sender=user, recipients=recipients, outcome=outcome, reply=reply,
                               smtpd=f"{slot.label}#{generation}", excused=excused)
            if outcome == Ledger.ACKED:
                with slot.lock:
                    slot.acknowledged[generation] += 1
            elif not excused:
                self.ledger.problem(f"sender {number} on {slot.label}#{generation}, no restart under way: "
                                    f"{outcome}: {reply!r}")
            sent_here += 1
            if outcome != Ledger.ACKED or sent_here >= MESSAGES_PER_CONNECTION:
                try:
                    if outcome == Ledger.ACKED:
                        client.command("QUIT")
                except NETWORK_ERRORS:
                    pass
                client.close()
                client = None
        if client is not None:
            try:
                client.command("QUIT")
            except NETWORK_ERRORS:
                pass
            client.close()

    # ------------------------------------------------------------ readers

    def reader(self, number, webds, stop):
        """One account on both webd processes, with the token of one login."""
        rng = random.Random(SEED * 1000 + 500 + number)
        user = sorted(USERS)[number]
        https = [harness.Https(daemon.port, self.context, timeout=60) for _, daemon in webds]
        labels = [label for label, _ in webds]
        try:
            status, token = https[number % 2].login(user, USERS[user])
            self.ledger.count(labels[number % 2])
            if status != 200:
                self.ledger.problem(f"reader {user}: login on {labels[number % 2]}: {status}")
                return
            turn = number
            while not stop.is_set():
                turn += 1
                here, there = turn % 2, (turn + 1) % 2
                folder = "inbox" if rng.random() < 0.8 else "sent"
                path = f"/api/v1/mailboxes/{folder}/messages?limit=20"
                status, page = https[here].json("GET", path, token=token)
                self.ledger.count(labels[here])
                if status != 200:
                    self.ledger.problem(f"reader {user}: GET {path} on {labels[here]}: {status} {page}")
                    continue
                ids = [entry["id"] for entry in page["messages"]]
                if ids != sorted(set(ids), reverse=True):
                    self.ledger.problem(f"reader {user}: {folder} on {labels[here]} not newest first: {ids}")
                if not page["messages"]:
                    time.sleep(0.05)
                    continue
                entry = rng.choice(page["messages"])
                item = f"/api/v1/messages/{entry['id']}"
                status, full = https[there].json("GET", item, token=token)
                self.ledger.count(labels[there])
                if status != 200 or full["subject"] != entry["subject"]:
                    self.ledger.problem(f"reader {user}: GET {item} on {labels[there]} after listing it on "
                                        f"{labels[here]}: {status} {full}")
                    continue
                key = (user, folder, entry["subject"])
                if not entry["seen"] and rng.random() < 0.5:
                    status, summary = https[here].json("PATCH", item, {"seen": True}, token=token)
                    self.ledger.count(labels[here])
                    if status == 200 and summary.get("seen") is True:
                        with self.ledger.lock:
                            self.ledger.marked_seen.add(key)
                    else:
                        self.ledger.problem(f"reader {user}: PATCH {item} on {labels[here]}: {status} {summary}")
                if rng.random() < DELETE_CHANCE:
                    status, _, payload = https[here].request("DELETE", item, token=token)
                    self.ledger.count(labels[here])
                    if status != 204:
                        self.ledger.problem(f"reader {user}: DELETE {item} on {labels[here]}: {status} {payload!r}")
                        continue
                    with self.ledger.lock:
                        self.ledger.deleted.add(key)
                    # The other process reads the same database: gone there too, at once.
                    status, answer = https[there].json("GET", item, token=token)
                    self.ledger.count(labels[there])
                    if status != 404:
                        self.ledger.problem(f"reader {user}: GET {item} on {labels[there]} after its DELETE on "
                                            f"{labels[here]}: {status} {answer}")
        except NETWORK_ERRORS as error:
            self.ledger.problem(f"reader {user}: {error!r}")
        finally:
            for connection in https:
                connection.close()

    # ------------------------------------------------------------ the test

    def test_two_smtpd_two_webd_one_database(self):
        say(f"seed {SEED}; database {self.deployment.db.name}; {len(USERS)} accounts")
        deployment = self.deployment
        slots = [Smtpd("smtpd-A", deployment.start("smtpd")), Smtpd("smtpd-B", deployment.start("smtpd"))]
        webds = [("webd-A", deployment.start("webd")), ("webd-B", deployment.start("webd"))]
        started = time.monotonic()
        deadline = started + DURATION
        stop_readers = threading.Event()
        senders = [threading.Thread(target=self.sender, args=(number, slots[number % 2], deadline),
                                    name=f"sender-{number}", daemon=True)
                   for number in range(2 * SENDERS_PER_SMTPD)]
        readers = [threading.Thread(target=self.reader, args=(number, webds, stop_readers),
                                    name=f"reader-{number}", daemon=True)
                   for number in range(len(USERS))]
        for thread in senders + readers:
            thread.start()

        # Halfway: SIGTERM to smtpd-B under load, and a new smtpd-B.
        time.sleep(max(0.0, started + RESTART_AT * DURATION - time.monotonic()))
        slot = slots[1]
        with slot.lock:
            slot.stopping = True
        stop_began = time.monotonic()
        code = slot.daemon.stop(timeout=60)
        stopped_in = time.monotonic() - stop_began
        self.assertEqual(code, 0, f"smtpd-B#0 after SIGTERM under load: exit code {code}; log:\n"
                                  f"{slot.daemon.log_text(30)}")
        replacement = deployment.start("smtpd")
        with slot.lock:
            slot.daemon, slot.generation, slot.stopping = replacement, slot.generation + 1, False
        say(f"smtpd-B stopped with SIGTERM in {stopped_in:.1f} s (exit code 0) and started again "
            f"at {time.monotonic() - started:.1f} s")

        for thread in senders:
            thread.join(DURATION + 120)
            self.assertFalse(thread.is_alive(), f"{thread.name} still running")
        stop_readers.set()
        for thread in readers:
            thread.join(120)
            self.assertFalse(thread.is_alive(), f"{thread.name} still running")
        traffic = time.monotonic() - started
        for current in slots:
            code = current.daemon.stop(timeout=60)
            self.assertEqual(code, 0, f"{current.label} after SIGTERM: exit code {code}; log:\n"
                                      f"{current.daemon.log_text(30)}")

        ledger = self.ledger
        outcomes = collections.Counter(entry["outcome"] for entry in ledger.messages.values())
        say(f"traffic {traffic:.1f} s: {len(ledger.messages)} transactions: "
            + ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items())))
        for current in slots:
            say(f"  {current.label}: " + ", ".join(f"#{generation} {count} acknowledged"
                                                   for generation, count in sorted(current.acknowledged.items())))
        say("  API requests: " + ", ".join(f"{label} {ledger.requests[label]}" for label, _ in webds)
            + f"; {len(ledger.marked_seen)} marked seen, {len(ledger.deleted)} deleted")
        for subject, record in sorted(ledger.messages.items()):
            if record["outcome"] != Ledger.ACKED:
                say(f"  {record['outcome']} on {record['smtpd']}"
                    f"{' (restart under way)' if record['excused'] else ''}: {record['reply']!r}")
        self.assertEqual(ledger.problems, [], "problems during the traffic")
        self.assertGreater(outcomes[Ledger.ACKED], 0, "no message was acknowledged at all")
        for label, _ in webds:
            self.assertGreater(ledger.requests[label], 0, f"{label} served no request")

        checking = time.monotonic()
        expected = self.check_database()
        self.check_listings(webds, expected)
        for label, daemon in webds:
            code = daemon.stop(timeout=60)
            self.assertEqual(code, 0, f"{label} after SIGTERM: exit code {code}; log:\n{daemon.log_text(30)}")
        say(f"checks {time.monotonic() - checking:.1f} s; whole test {time.monotonic() - started:.1f} s")
        for daemon in self.deployment.servers:
            complaints = [line for line in daemon.lines if re.search(r"(?i)warning|critical|fatal|error", line)]
            if complaints:
                say(f"  {daemon.name} (pid {daemon.pid}) logged {len(complaints)} warnings or errors, e.g.: "
                    + " | ".join(complaints[:3]))

    # ------------------------------------------------------------ checks

    def check_database(self):
        """The database against the ledger; returns {(owner, folder): {subject}} as it must be."""
        ledger = self.ledger
        rows = self.deployment.query(
            "SELECT e.id, a.username, f.role, e.seen, m.id, m.subject FROM mailbox_entries e"
            " JOIN accounts a ON a.id = e.owner_id JOIN messages m ON m.id = e.message_id"
            " JOIN folders f ON f.id = e.folder_id ORDER BY e.id")
        entries = collections.defaultdict(list)  # (owner, folder, subject) -> [(entry id, seen, message id)]
        for entry_id, owner, folder, seen, message_id, subject in rows:
            entries[(owner, folder, subject)].append((entry_id, seen, message_id))
        entry_ids = [row[0] for row in rows]
        self.assertEqual(len(entry_ids), len(set(entry_ids)), "an entry id appears twice")
        twice = {key: found for key, found in entries.items() if len(found) > 1}
        self.assertEqual(twice, {}, "mailbox entries stored twice (owner, folder, subject)")

        messages = self.deployment.query("SELECT id, subject FROM messages ORDER BY id")
        by_subject = collections.Counter(subject for _, subject in messages)
        self.assertEqual({s: n for s, n in by_subject.items() if n > 1}, {}, "messages stored more than once")
        orphans = self.deployment.query(
            "SELECT m.id, m.subject FROM messages m"
            " WHERE NOT EXISTS (SELECT 1 FROM mailbox_entries e WHERE e.message_id = m.id)")
        self.assertEqual(orphans, [], "messages without any mailbox entry")
        dangling = self.deployment.query(
            "SELECT count(*) FROM mailbox_entries e LEFT JOIN messages m ON m.id = e.message_id WHERE m.id IS NULL")
        self.assertEqual(dangling, [(0,)], "mailbox entries without their message")
        self.assertEqual(self.deployment.integrity_check(), [("ok",)])
        unknown = set(by_subject) - set(ledger.messages)
        self.assertEqual(unknown, set(), "messages stored that no sender submitted")

        expected = collections.defaultdict(set)
        problems = []
        counts = collections.Counter()
        for subject, record in sorted(ledger.messages.items()):
            wanted = [(name, "inbox") for name in record["recipients"]] + [(record["sender"], "sent")]
            present = [(owner, folder) for owner, folder in wanted if (owner, folder, subject) in entries]
            deleted = [(owner, folder) for owner, folder in wanted if (owner, folder, subject) in ledger.deleted]
            outcome = record["outcome"]
            if outcome in (Ledger.REFUSED, Ledger.NOT_SENT):
                if subject in by_subject:
                    problems.append(f"{outcome} ({record['reply']!r} from {record['smtpd']}) but stored: {subject}")
                continue
            if outcome == Ledger.UNKNOWN and subject not in by_subject:
                counts["unknown, not stored"] += 1
                continue
            counts["acknowledged" if outcome == Ledger.ACKED else "unknown, stored"] += 1
            # Stored: every entry there, but those the readers deleted.
            for owner, folder in wanted:
                key = (owner, folder, subject)
                if key in ledger.deleted:
                    if key in entries:
                        problems.append(f"DELETE acknowledged, entry still there: {key}")
                    continue
                if key not in entries:
                    problems.append(f"{outcome} from {record['smtpd']}, entry missing: {key}")
                    continue
                expected[(owner, folder)].add(subject)
                seen = entries[key][0][1]
                if folder == "sent" and seen != 1:
                    problems.append(f"sent entry not seen: {key}")
                if key in ledger.marked_seen and seen != 1:
                    problems.append(f"PATCH seen acknowledged, entry unseen: {key}")
            if not present and len(deleted) < len(wanted):
                problems.append(f"{outcome} from {record['smtpd']} but stored without entries: {subject}")
        self.assertEqual(problems[:50], [], f"{len(problems)} problems in the database")
        must = sum(len(subjects) for subjects in expected.values())
        self.assertEqual(len(rows), must, "the number of mailbox entries")
        say(f"database: {len(messages)} messages, {len(rows)} entries; "
            + ", ".join(f"{count} {what}" for what, count in sorted(counts.items())))
        return expected

    def check_listings(self, webds, expected):
        """Both webd processes list for each account what the database holds, each entry once."""
        seen_ids = {}
        for name in sorted(USERS):
            views = []
            for label, daemon in webds:
                https = harness.Https(daemon.port, self.context, timeout=60)
                try:
                    status, token = https.login(name, USERS[name])
                    self.assertEqual(status, 200, f"login of {name} on {label}")
                    view = {folder: https.listing(token, folder) for folder in ("inbox", "sent")}
                finally:
                    https.close()
                for folder, listed in view.items():
                    ids = [entry["id"] for entry in listed]
                    self.assertEqual(ids, sorted(set(ids), reverse=True),
                                     f"{label}: {name}'s {folder} not newest first, or an id twice")
                    subjects = [entry["subject"] for entry in listed]
                    self.assertEqual(len(subjects), len(set(subjects)), f"{label}: {name}'s {folder}: a subject twice")
                    self.assertEqual(set(subjects), expected.get((name, folder), set()),
                                     f"{label}: {name}'s {folder} against the database")
                    for entry_id in ids:
                        owner = seen_ids.setdefault(entry_id, (name, folder))
                        self.assertEqual(owner, (name, folder), f"entry id {entry_id} in two folders")
                views.append(view)
            self.assertEqual(views[0], views[1], f"{name}: the two webd processes list differently")
        say(f"listings: {len(seen_ids)} entries, the same through both webd processes")


def main():
    global BINARIES
    BINARIES, rest = harness.binaries_from_argv(sys.argv)
    if harness.engine() != "postgresql":
        say(f"test_shared_database: {REFUSAL}")
        return 1
    say(f"seed {SEED}")
    program = unittest.main(argv=rest, verbosity=2, exit=False)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
