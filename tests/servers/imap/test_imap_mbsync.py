#!/usr/bin/env python3
"""mailroom-imapd against mbsync (isync): a two-way sync of every folder of
an account into a Maildir, changes on each side, a second sync that must
carry each change across, a third that must change nothing. Once over
implicit TLS (SSLType IMAPS), once over STARTTLS; the certificate is verified
against the data directory's own. Then offlineimap3 the same way (class
OfflineImap), over implicit TLS. Mail arrives through the real
mailroom-smtpd (smtplib); folders and flags are set and read with imaplib.
With MAILROOM_TEST_POSTGRES set, the same runs on a PostgreSQL database of
its own.

    test_imap_mbsync.py --imapd PATH --smtpd PATH --ctl PATH [--mbsync-debug] [unittest options, e.g. -v]

--mbsync-debug prints every mbsync (and offlineimap) run's output (the IMAP exchange, -Dn) as
it goes; a failing check prints the run's output anyway.

One data directory serves the whole run, one mailroom-smtpd and one
mailroom-imapd on ports the system picks; each transport syncs an account
of its own. Every server is stopped with SIGTERM (exit code 0 expected) and
no password may appear in any log, mbsync's output included."""

import argparse
import email.utils
import imaplib
import os
import re
import shutil
import smtplib
import subprocess
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from mailroom_harness import HOST, HOSTNAME, Deployment  # noqa: E402

IMAPD = SMTPD = CTL = None
DEBUG = False
TIMEOUT = 15
MBSYNC_TIMEOUT = 60
MBSYNC = shutil.which("mbsync")
DOMAIN = "project.com"

FIXTURE = None

# The user folder and its sub-folder. The space makes the server quote the
# name in LIST and mbsync quote it in its commands.
WORK = "Work Files"
SUB = WORK + "/Sub"

# mbsync's Maildir flag letters and the IMAP flags they stand for (isync
# 1.4: P is $Forwarded). Other keywords are not synced by mbsync, so they
# are left out of every comparison.
MAILDIR_FLAGS = {"D": "\\Draft", "F": "\\Flagged", "P": "$Forwarded", "R": "\\Answered", "S": "\\Seen",
                 "T": "\\Deleted"}
SYNCED_FLAGS = {flag.lower(): flag for flag in MAILDIR_FLAGS.values()}

# The IMAP commands that change something on the server: none may be sent
# by a sync that has nothing to do.
WRITING_COMMANDS = re.compile(r"^(?:\(\d+ in progress\) )?>>> \d+ (?:UID )?"
                              r"(APPEND|STORE|EXPUNGE|CREATE|DELETE|RENAME|MOVE|COPY)\b", re.MULTILINE)


def unique(what):
    return f"{what} {uuid.uuid4().hex[:12]}"


def make_message(subject, sender, recipient, body="Hello from the mbsync test.\r\n", newline="\r\n"):
    head = [f"From: {sender}", f"To: {recipient}", f"Subject: {subject}",
            f"Date: {email.utils.formatdate(localtime=True)}", f"Message-ID: <{uuid.uuid4().hex}@client.example>"]
    return (newline.join(head) + newline + newline + body.replace("\r\n", newline)).encode()


def subject_of(message):
    match = re.search(rb"(?im)^Subject: (.*?)\r?$", message.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0])
    return match.group(1).decode() if match else None


def without_tuid(message):
    """message without mbsync's X-TUID header line. mbsync (isync 1.4.4)
    writes one into every copy it makes, in either direction, to find the
    copy again should it be interrupted before noting its UID; one at most,
    and only in the header."""
    newline = b"\r\n" if b"\r\n" in message else b"\n"
    head, separator, body = message.partition(newline + newline)
    lines = head.split(newline)
    kept = [line for line in lines if not line.lower().startswith(b"x-tuid:")]
    assert len(lines) - len(kept) <= 1, f"more than one X-TUID in {message[:500]!r}"
    return newline.join(kept) + separator + body


class Fixture:
    def __init__(self):
        self.deployment = Deployment({"smtpd": SMTPD, "imapd": IMAPD, "ctl": CTL},
                                     {"alice": "alice-secret-1"}, prefix="mailroom-mbsync-")
        try:
            self.smtpd = self.deployment.start("smtpd")
            self.imapd = self.deployment.start("imapd")
        except BaseException:
            # setUpModule failed: no module cleanup is registered yet.
            self.deployment.cleanup()
            raise

    def new_account(self):
        name = "u" + uuid.uuid4().hex[:10]
        password = "pw-" + uuid.uuid4().hex[:16]
        self.deployment.add_user(name, password)
        return name, password

    def context(self):
        return self.deployment.context()

    def deliver(self, recipient, subject):
        with smtplib.SMTP(HOST, self.smtpd.port, local_hostname="client.example", timeout=TIMEOUT) as smtp:
            smtp.starttls(context=self.context())
            smtp.login("alice", self.deployment.passwords["alice"])
            smtp.sendmail(f"alice@{DOMAIN}", [f"{recipient}@{DOMAIN}"],
                          make_message(subject, f"alice@{DOMAIN}", f"{recipient}@{DOMAIN}"))

    def login(self, name, password):
        client = imaplib.IMAP4_SSL(HOSTNAME, self.imapd.tls_port, ssl_context=self.context(), timeout=TIMEOUT)
        client.login(name, password)
        return client

    def cleanup(self):
        self.deployment.cleanup()


def setUpModule():
    global FIXTURE
    FIXTURE = Fixture()
    unittest.addModuleCleanup(FIXTURE.cleanup)


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


# ------------------------------------------------------------ the two sides

def parse_fetch(data):
    """imaplib's FETCH answer as {uid: (flags, literal)}: each message is a
    tuple (text before the literal, literal) and the text after it, which
    may hold items the server sent after the literal."""
    messages = {}
    i = 0
    while i < len(data):
        item = data[i]
        if isinstance(item, tuple):
            meta, literal = item[0], item[1]
            if i + 1 < len(data) and isinstance(data[i + 1], bytes):
                meta += data[i + 1]
                i += 1
            uid = int(re.search(rb"\bUID (\d+)", meta).group(1))
            flags = re.search(rb"\bFLAGS \(([^)]*)\)", meta).group(1).decode().split()
            messages[uid] = (flags, literal)
        i += 1
    return messages


def server_folders(client):
    """Every selectable folder's name."""
    typ, data = client.list('""', "*")
    assert typ == "OK", (typ, data)
    names = []
    for line in data:
        match = re.fullmatch(rb'\(([^)]*)\) (?:"."|NIL) (.+)', line)
        assert match, line
        name = match.group(2)
        if name.startswith(b'"'):
            name = name[1:-1].replace(b'\\"', b'"').replace(b"\\\\", b"\\")
        if b"\\noselect" not in match.group(1).lower():
            names.append(name.decode())
    return names


def server_state(client):
    """{folder: {uid: (synced flags, message)}} of every selectable folder,
    read without changing anything (EXAMINE, BODY.PEEK)."""
    state = {}
    for folder in server_folders(client):
        typ, data = client.select(f'"{folder}"', readonly=True)
        assert typ == "OK", (folder, typ, data)
        exists = int(data[0])
        messages = {}
        if exists > 0:
            typ, data = client.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
            assert typ == "OK", (folder, typ, data)
            messages = {uid: (frozenset(SYNCED_FLAGS[f.lower()] for f in flags if f.lower() in SYNCED_FLAGS), body)
                        for uid, (flags, body) in parse_fetch(data).items()}
        assert len(messages) == exists, f"{folder}: {exists} EXISTS, {len(messages)} messages fetched"
        state[folder] = messages
        typ, data = client.unselect()
        assert typ == "OK", (folder, typ, data)
    return state


def server_status(client, folders):
    """STATUS of each folder: what a sync that changes nothing leaves alone,
    HIGHESTMODSEQ (CONDSTORE) moving at any flag change among it."""
    status = {}
    for folder in folders:
        typ, data = client.status(f'"{folder}"', "(MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ)")
        assert typ == "OK", (folder, typ, data)
        status[folder] = data[0]
    return status


def maildir_flags(filename):
    """The flag letters of a Maildir file name (after ':2,')."""
    _, _, info = filename.partition(":2,")
    return info


def maildir_state(root):
    """{folder: {path: (flags, message)}} of every Maildir folder under root
    (SubFolders Verbatim: Work/Sub is root/Work/Sub; INBOX is root/INBOX)."""
    state = {}
    for directory, subdirectories, _ in os.walk(root):
        if not all(os.path.isdir(os.path.join(directory, part)) for part in ("cur", "new", "tmp")):
            continue
        folder = os.path.relpath(directory, root).replace(os.sep, "/")
        messages = {}
        for part in ("cur", "new"):
            for filename in os.listdir(os.path.join(directory, part)):
                path = os.path.join(directory, part, filename)
                with open(path, "rb") as file:
                    messages[path] = (frozenset(MAILDIR_FLAGS[letter] for letter in maildir_flags(filename)),
                                      file.read())
        state[folder] = messages
        subdirectories[:] = [d for d in subdirectories if d not in ("cur", "new", "tmp")]
    return state


def by_subject(messages):
    """{subject: (flags, message)} of one folder of either side."""
    keyed = {}
    for flags, message in messages.values():
        subject = subject_of(message)
        assert subject not in keyed, f"two messages with the subject {subject!r}"
        keyed[subject] = (flags, message)
    return keyed


def find(messages, subject):
    """The uid or path of the message with that subject."""
    found = [key for key, (_, message) in messages.items() if subject_of(message) == subject]
    assert len(found) == 1, f"{len(found)} messages with the subject {subject!r}"
    return found[0]


# ------------------------------------------------------------ the test

class Sync:
    """The scenario; a subclass says how mbsync reaches the server."""

    ssl_type = None

    def port(self):
        raise NotImplementedError

    def setUp(self):
        self.name, self.password = FIXTURE.new_account()
        self.work = os.path.join(FIXTURE.deployment.directory, f"mbsync-{self.ssl_type.lower()}")
        self.root = os.path.join(self.work, "mail")
        os.makedirs(self.root)
        self.rc = os.path.join(self.work, "mbsyncrc")
        self.client = FIXTURE.login(self.name, self.password)
        self.runs = []

    def tearDown(self):
        try:
            self.client.logout()
        except Exception:
            pass

    def write_rc(self):
        # The password goes in a file of its own, read by PassCmd on the
        # STARTTLS run and written out with Pass on the other: both ways
        # users configure it.
        if self.ssl_type == "STARTTLS":
            secret = os.path.join(self.work, "password")
            with open(os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
                file.write(self.password + "\n")
            password = f'PassCmd "cat {secret}"'
        else:
            password = f"Pass {self.password}"
        with open(self.rc, "w") as file:
            file.write(f"""IMAPAccount mailroom
Host {HOSTNAME}
Port {self.port()}
User {self.name}
{password}
SSLType {self.ssl_type}
CertificateFile {FIXTURE.deployment.cafile}
SystemCertificates no
Timeout {TIMEOUT}

IMAPStore server
Account mailroom

MaildirStore maildir
Path {self.root}/
Inbox {self.root}/INBOX
SubFolders Verbatim

Channel everything
Far :server:
Near :maildir:
Patterns *
Create Both
Expunge Both
SyncState *
Sync All
""")

    def mbsync(self):
        """One non-interactive `mbsync -a`, -Dn for the IMAP exchange: its output."""
        started = time.monotonic()
        # HOME points at the test's directory: mbsync reads and writes
        # nothing of the user running the test.
        environment = dict(os.environ, HOME=self.work)
        try:
            result = subprocess.run([MBSYNC, "-c", self.rc, "-a", "-Dn"], stdin=subprocess.DEVNULL,
                                    capture_output=True, timeout=MBSYNC_TIMEOUT, env=environment)
        except subprocess.TimeoutExpired as expired:
            # Where it hung is the last command it sent.
            output = ((expired.stdout or b"") + (expired.stderr or b"")).decode("utf-8", "replace")
            self.fail(f"mbsync still running after {MBSYNC_TIMEOUT} s:\n{output}")
        output = (result.stdout + result.stderr).decode("utf-8", "replace")
        elapsed = time.monotonic() - started
        self.runs.append((elapsed, output))
        if DEBUG:
            print(f"\n----- mbsync run {len(self.runs)} ({self.ssl_type}), {elapsed:.2f} s, exit code "
                  f"{result.returncode}\n{output}", file=sys.stderr)
        self.assertNotIn(self.password, output, "mbsync's output holds the password")
        self.assertEqual(result.returncode, 0, f"mbsync exit code {result.returncode}:\n{output}")
        return output

    def assertInAgreement(self, output, expected=None):
        """Each server folder has a Maildir folder and the other way round,
        each with the same messages: the same bytes but for what mbsync
        changes (LF line ends in the Maildir, CRLF on the wire; its X-TUID in
        the copies it writes) and the same flags. expected:
        {folder: {subject: flags}} that both sides must show."""
        server = server_state(self.client)
        maildir = maildir_state(self.root)
        where = f"\nmbsync's output:\n{output}"
        self.assertEqual(sorted(server), sorted(maildir), "the folders of the two sides" + where)
        for folder in server:
            near = by_subject(maildir[folder])
            far = by_subject(server[folder])
            self.assertEqual(sorted(far), sorted(near), f"the messages of {folder}" + where)
            for subject, (flags, message) in far.items():
                near_flags, near_message = near[subject]
                # The server adds no X-TUID of its own: only what mbsync
                # uploaded may carry one there.
                if subject not in self.uploaded:
                    self.assertNotIn(b"\r\nx-tuid:", message.lower(), f"X-TUID on the server's {subject!r}")
                self.assertEqual(without_tuid(message).replace(b"\r\n", b"\n"), without_tuid(near_message),
                                 f"the bytes of {subject!r} in {folder}" + where)
                self.assertEqual(flags, near_flags, f"the flags of {subject!r} in {folder}" + where)
        if expected is not None:
            for folder in server:
                got = {subject: set(flags) for subject, (flags, _) in by_subject(server[folder]).items()}
                self.assertEqual(got, {s: set(f) for s, f in expected.get(folder, {}).items()},
                                 f"what {folder} holds" + where)
        return server

    def test_two_way_sync(self):
        started = time.monotonic()
        self.uploaded = set()
        client = self.client
        # 1. The server side: mail in INBOX, a folder with a sub-folder, a
        # message appended, flags.
        inbox = [unique(f"inbox {i}") for i in range(1, 5)]
        for subject in inbox:
            FIXTURE.deliver(self.name, subject)
        for folder in (WORK, SUB):
            typ, data = client.create(f'"{folder}"')
            self.assertEqual(typ, "OK", data)
        appended = [unique("appended 1"), unique("appended 2")]
        for subject, flags in zip(appended, ("(\\Seen)", None)):
            typ, data = client.append(f'"{SUB}"', flags, '"01-Dec-2026 10:00:00 +0100"',
                                      make_message(subject, "me@example.org", f"{self.name}@{DOMAIN}"))
            self.assertEqual(typ, "OK", data)
        typ, data = client.select("INBOX")
        self.assertEqual((typ, data), ("OK", [b"4"]))
        uids = {subject: find(server_state(client)["INBOX"], subject) for subject in inbox}
        client.select("INBOX")
        for subject, flags in ((inbox[0], "(\\Flagged)"), (inbox[1], "(\\Seen \\Answered $Forwarded)")):
            typ, data = client.uid("STORE", str(uids[subject]), "+FLAGS", flags)
            self.assertEqual(typ, "OK", data)
        client.unselect()

        # 2. The first sync: everything comes down.
        self.write_rc()
        output = self.mbsync()
        empty = {folder: {} for folder in ("Drafts", "Sent", "Archive", "Trash", "Junk", WORK)}
        self.assertInAgreement(output, {
            **empty,
            "INBOX": {inbox[0]: {"\\Flagged"}, inbox[1]: {"\\Seen", "\\Answered", "$Forwarded"},
                      inbox[2]: set(), inbox[3]: set()},
            SUB: {appended[0]: {"\\Seen"}, appended[1]: set()},
        })

        # 3. Changes on the Maildir side: a message seen, one flagged T
        # (deleted: Expunge Both removes it from both sides), one removed,
        # new messages in an existing folder and in a new folder with a
        # sub-folder (Create Both makes them on the server).
        maildir = maildir_state(self.root)
        path = find(maildir["INBOX"], inbox[2])
        base = os.path.basename(path).partition(":2,")[0]
        os.rename(path, os.path.join(self.root, "INBOX", "cur", base + ":2,S"))
        path = find(maildir["INBOX"], inbox[1])
        os.rename(path, path.partition(":2,")[0] + ":2," + "".join(sorted(maildir_flags(path) + "T")))
        os.remove(find(maildir[SUB], appended[0]))
        for folder in ("Notes", "Notes/Ideas"):
            for part in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(self.root, *folder.split("/"), part))
        new = {WORK: unique("new in Work"), SUB: unique("new in Sub"),
               "Notes/Ideas": unique("new in Notes/Ideas")}
        files = {}
        for number, (folder, subject) in enumerate(new.items()):
            # A new message as a mail program leaves it: LF line ends, in
            # new/ without flags, or in cur/ with its flags.
            name = f"{int(time.time())}.M{number}P{os.getpid()}.client"
            place = os.path.join("new", name) if folder != SUB else os.path.join("cur", name + ":2,FS")
            files[subject] = make_message(subject, f"{self.name}@{DOMAIN}", "someone@example.org",
                                          body="Written in the Maildir.\n", newline="\n")
            with open(os.path.join(self.root, *folder.split("/"), place), "wb") as file:
                file.write(files[subject])
            self.uploaded.add(subject)

        # ... and on the server: a flag set, one taken away, a delivery, an
        # expunge.
        arrived = unique("inbox 5")
        FIXTURE.deliver(self.name, arrived)
        client.select("INBOX")
        typ, data = client.uid("STORE", str(uids[inbox[3]]), "+FLAGS", "(\\Flagged)")
        self.assertEqual(typ, "OK", data)
        typ, data = client.uid("STORE", str(uids[inbox[0]]), "-FLAGS", "(\\Flagged)")
        self.assertEqual(typ, "OK", data)
        client.unselect()
        uid = find(server_state(client)[SUB], appended[1])
        client.select(f'"{SUB}"')
        typ, data = client.uid("STORE", str(uid), "+FLAGS", "(\\Deleted)")
        self.assertEqual(typ, "OK", data)
        typ, data = client.expunge()
        self.assertEqual(typ, "OK", data)
        client.unselect()

        # 4. The second sync carries each change across.
        output = self.mbsync()
        # (Which also shows that step 5's look for writing commands can see them.)
        self.assertTrue({"APPEND", "STORE", "CREATE"} <= set(WRITING_COMMANDS.findall(output)), output)
        server = self.assertInAgreement(output, {
            **empty,
            "INBOX": {inbox[0]: set(), inbox[2]: {"\\Seen"}, inbox[3]: {"\\Flagged"}, arrived: set()},
            WORK: {new[WORK]: set()},
            SUB: {new[SUB]: {"\\Flagged", "\\Seen"}},
            "Notes": {},
            "Notes/Ideas": {new["Notes/Ideas"]: set()},
        })
        # What was written in the Maildir is on the server as it was written,
        # with CRLF line ends (and mbsync's X-TUID at most).
        for folder, subject in new.items():
            _, message = by_subject(server[folder])[subject]
            self.assertEqual(without_tuid(message), files[subject].replace(b"\n", b"\r\n"), subject)
        # The delivered message is in the Maildir as the server has it.
        _, message = by_subject(server["INBOX"])[arrived]
        _, near = by_subject(maildir_state(self.root)["INBOX"])[arrived]
        self.assertEqual(without_tuid(near), message.replace(b"\r\n", b"\n"))

        # 5. A third sync has nothing to do: it sends no command that
        # changes the server, and neither side changes.
        before_maildir = maildir_state(self.root)
        before_status = server_status(client, server)
        output = self.mbsync()
        self.assertEqual(WRITING_COMMANDS.findall(output), [], output)
        self.assertEqual(maildir_state(self.root), before_maildir, output)
        self.assertEqual(server_status(client, server), before_status, output)
        self.assertEqual(server_state(client), server, output)
        total = time.monotonic() - started
        print(f"\n{self.ssl_type}: mbsync runs " + ", ".join(f"{elapsed:.2f} s" for elapsed, _ in self.runs)
              + f"; the whole scenario {total:.2f} s", file=sys.stderr)


@unittest.skipUnless(MBSYNC, "mbsync (Debian's isync) is not installed")
class ImplicitTls(Sync, unittest.TestCase):
    ssl_type = "IMAPS"

    def port(self):
        return FIXTURE.imapd.tls_port


@unittest.skipUnless(MBSYNC, "mbsync (Debian's isync) is not installed")
class StartTls(Sync, unittest.TestCase):
    ssl_type = "STARTTLS"

    def port(self):
        return FIXTURE.imapd.port


OFFLINEIMAP = shutil.which("offlineimap")


@unittest.skipUnless(OFFLINEIMAP, "offlineimap (Debian's offlineimap3) is not installed")
class OfflineImap(unittest.TestCase):
    """offlineimap3 over implicit TLS, the certificate verified against the
    data directory's: every folder into a Maildir, then a flag and a new
    message on the Maildir side carried back, then a flag set on the
    server carried down."""

    def setUp(self):
        self.name, self.password = FIXTURE.new_account()
        self.work = os.path.join(FIXTURE.deployment.directory, "offlineimap")
        self.root = os.path.join(self.work, "mail")
        os.makedirs(self.root)
        self.rc = os.path.join(self.work, "offlineimaprc")
        with open(self.rc, "w") as file:
            file.write(f"""[general]
accounts = mailroom
metadata = {self.work}/metadata

[Account mailroom]
localrepository = near
remoterepository = far

[Repository near]
type = Maildir
localfolders = {self.root}

[Repository far]
type = IMAP
remotehost = {HOSTNAME}
remoteport = {FIXTURE.imapd.tls_port}
ssl = yes
sslcacertfile = {FIXTURE.deployment.cafile}
remoteuser = {self.name}
remotepass = {self.password}
timeout = {TIMEOUT}
""")
        self.client = FIXTURE.login(self.name, self.password)

    def tearDown(self):
        try:
            self.client.logout()
        except Exception:
            pass

    def offlineimap(self):
        environment = dict(os.environ, HOME=self.work)
        result = subprocess.run([OFFLINEIMAP, "-c", self.rc, "-o", "-u", "basic"], stdin=subprocess.DEVNULL,
                                capture_output=True, timeout=MBSYNC_TIMEOUT, env=environment)
        output = (result.stdout + result.stderr).decode("utf-8", "replace")
        if DEBUG:
            print(f"\n----- offlineimap, exit code {result.returncode}\n{output}", file=sys.stderr)
        self.assertNotIn(self.password, output, "offlineimap's output holds the password")
        self.assertEqual(result.returncode, 0, f"offlineimap exit code {result.returncode}:\n{output}")
        self.assertNotIn("ERROR", output, output)
        return output

    def maildir(self, folder):
        """{subject: the Maildir flag letters} of one local folder."""
        messages = {}
        for part in ("cur", "new"):
            directory = os.path.join(self.root, folder, part)
            for filename in os.listdir(directory):
                with open(os.path.join(directory, filename), "rb") as file:
                    subject = subject_of(file.read())
                messages[subject] = filename.split(":2,", 1)[1] if ":2," in filename else ""
        return messages

    def server_flags(self, folder):
        """{subject: the IMAP flags} of one server folder."""
        typ, _ = self.client.select(f'"{folder}"')
        self.assertEqual(typ, "OK")
        typ, data = self.client.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(typ, "OK")
        flags = {}
        for item in data:
            if isinstance(item, tuple):
                match = re.search(rb"FLAGS \(([^)]*)\)", item[0])
                flags[subject_of(item[1])] = set(match.group(1).decode().split())
        return flags

    def test_sync_both_ways(self):
        first, second = unique("offlineimap one"), unique("offlineimap two")
        FIXTURE.deliver(self.name, first)
        FIXTURE.deliver(self.name, second)
        self.assertEqual(self.client.create('"Projects"')[0], "OK")
        filed = unique("offlineimap filed")
        self.assertEqual(self.client.append('"Projects"', "(\\Seen)", None,
                                            make_message(filed, "a@example.org", "b@example.org"))[0], "OK")
        self.offlineimap()
        self.assertEqual(self.maildir("INBOX"), {first: "", second: ""})
        self.assertEqual(self.maildir("Projects"), {filed: "S"})
        for role in ("Sent", "Drafts", "Trash", "Junk", "Archive"):
            self.assertTrue(os.path.isdir(os.path.join(self.root, role, "cur")), role)

        # Near side: the first message read and flagged, a new message filed.
        directory = os.path.join(self.root, "INBOX")
        for part in ("cur", "new"):
            for filename in os.listdir(os.path.join(directory, part)):
                with open(os.path.join(directory, part, filename), "rb") as file:
                    if subject_of(file.read()) == first:
                        os.rename(os.path.join(directory, part, filename),
                                  os.path.join(directory, "cur", filename.split(":2,")[0] + ":2,FS"))
        written = unique("offlineimap written")
        with open(os.path.join(self.root, "Projects", "new", f"{uuid.uuid4().hex}.near"), "wb") as file:
            file.write(make_message(written, "a@example.org", "b@example.org", newline="\n"))
        # Far side: the second message answered.
        self.client.select("INBOX")
        typ, data = self.client.search(None, "SUBJECT", f'"{second.split()[-1]}"')
        self.assertEqual(self.client.store(data[0].decode(), "+FLAGS", "(\\Answered)")[0], "OK")

        self.offlineimap()
        self.assertEqual(self.server_flags("INBOX"), {first: {"\\Flagged", "\\Seen"}, second: {"\\Answered"}})
        self.assertEqual(set(self.server_flags("Projects")), {filed, written})
        self.assertEqual(self.maildir("INBOX"), {first: "FS", second: "R"})
        # A third run finds both sides in agreement and changes neither.
        before = (self.maildir("INBOX"), self.maildir("Projects"))
        self.offlineimap()
        self.assertEqual((self.maildir("INBOX"), self.maildir("Projects")), before)
        self.assertEqual(self.server_flags("INBOX"), {first: {"\\Flagged", "\\Seen"}, second: {"\\Answered"}})


def main():
    global IMAPD, SMTPD, CTL, DEBUG
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--imapd", required=True)
    parser.add_argument("--smtpd", required=True)
    parser.add_argument("--ctl", required=True)
    parser.add_argument("--mbsync-debug", action="store_true")
    arguments, rest = parser.parse_known_args()
    IMAPD, SMTPD, CTL, DEBUG = arguments.imapd, arguments.smtpd, arguments.ctl, arguments.mbsync_debug
    unittest.main(argv=[sys.argv[0]] + rest)


if __name__ == "__main__":
    main()
