#!/usr/bin/env python3
"""A full disk (docs/PROTOCOL.md §8: DATA answered `452 4.3.1` when the disk is full,
nothing stored; a 250 means committed durably).

The data directory lives on a small tmpfs the test mounts (root only:
skipped, saying so, where mounting is not allowed). Mail is acknowledged,
then a file fills the filesystem to the last byte: mailroom-smtpd must
answer 452 4.3.1 and lose nothing acknowledged, mailroom-webd and
mailroom-pop3d must go on serving reads, and once the file is removed the
same smtpd process takes mail again without a restart."""

import errno
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from mailroom_harness import DOMAIN, Deployment, Https, Pop3Client, SmtpClient, binaries_from_argv  # noqa: E402

BINARIES = None
USERS = {"alice": "alice-disk-pw", "bob": "bob-disk-pw"}
FILESYSTEM_MB = 24


def say(text):
    print(text, file=sys.stderr, flush=True)


def mount_small_filesystem(mountpoint):
    """None when mounted; else why it could not be."""
    if os.geteuid() != 0:
        return "mounting a size-limited tmpfs needs root, and this runs as uid %d" % os.geteuid()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={FILESYSTEM_MB}m,mode=0700", "tmpfs", mountpoint],
                            capture_output=True, text=True)
    if result.returncode != 0:
        return "mount -t tmpfs failed (%s): mounting is not allowed here" % result.stderr.strip()
    return None


def fill(path):
    """Writes until the filesystem is full; the bytes written."""
    written = 0
    chunk = b"\0" * 65536
    with open(path, "wb", buffering=0) as filler:
        while True:
            try:
                written += filler.write(chunk)
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
                break
        # The last partial chunk too: not one byte left.
        for size in (4096, 512, 1):
            while True:
                try:
                    written += filler.write(chunk[:size])
                except OSError as error:
                    if error.errno != errno.ENOSPC:
                        raise
                    break
    return written


def message(subject, size):
    line = f"{subject}: a line of the body that is as dull as can be 0123456789\r\n".encode()
    body = line * max(1, size // len(line))
    return (f"From: alice@{DOMAIN}\r\nTo: bob@{DOMAIN}\r\nSubject: {subject}\r\n\r\n").encode() + body, body


class DiskFull(unittest.TestCase):
    def setUp(self):
        self.mountpoint = tempfile.mkdtemp(prefix="mailroom-disk-full-")
        self.addCleanup(shutil.rmtree, self.mountpoint, True)
        why = mount_small_filesystem(self.mountpoint)
        if why:
            self.skipTest(why)
        self.addCleanup(subprocess.run, ["umount", "-l", self.mountpoint])
        self.deployment = Deployment(BINARIES, USERS, prefix="mailroom-disk-full-",
                                     data_dir=os.path.join(self.mountpoint, "data"))
        self.addCleanup(self.deployment.cleanup)

    def send(self, client, subject, size):
        data, body = message(subject, size)
        code, reply = client.send_message(f"alice@{DOMAIN}", [f"bob@{DOMAIN}"], data)
        return code, reply, body

    def test_full_disk_refuses_keeps_everything_and_recovers(self):
        deployment = self.deployment
        smtpd = deployment.start("smtpd")
        webd = deployment.start("webd")
        pop3d = deployment.start("pop3d")
        acknowledged = {}
        client = SmtpClient(smtpd.port)
        client.hello(deployment.context())
        self.assertEqual(client.auth_plain("alice", USERS["alice"])[0], 235)
        for index in range(20):
            code, reply, body = self.send(client, f"before-{index}", 20000)
            self.assertEqual(code, 250, reply)
            acknowledged[f"before-{index}"] = body
        api = Https(webd.port, deployment.context())
        status, token = api.login("bob", USERS["bob"])
        self.assertEqual(status, 200)

        filler = os.path.join(self.mountpoint, "filler")
        filled = fill(filler)
        say(f"filesystem of {FILESYSTEM_MB} MiB filled with {filled / 1048576:.1f} MiB")

        # SQLite may still have room in pages it owns: mail goes on until it has not.
        refusals = []
        for index in range(200):
            code, reply, body = self.send(client, f"full-{index}", 200000)
            if code == 250:
                acknowledged[f"full-{index}"] = body
                continue
            self.assertRegex(reply, r"^452 4\.3\.1 ", f"message {index} on a full disk")
            refusals.append(f"full-{index}")
            if len(refusals) == 3:
                break
        self.assertEqual(len(refusals), 3, "the disk never filled up")
        say(f"full disk: {len(acknowledged) - 20} more messages fitted into space SQLite had, "
            f"then 452 4.3.1 three times in a row")
        self.assertTrue(smtpd.running())
        # The connection goes on: a 452 ends one transaction, not the session.
        self.assertEqual(client.command("NOOP")[0], 250)

        # Reads go on: webd listings and raw bytes, POP3 login and RETR.
        entries = {entry["subject"]: entry for entry in api.listing(token)}
        self.assertEqual(sorted(entries), sorted(acknowledged))
        for subject, body in acknowledged.items():
            self.assertTrue(api.raw(token, entries[subject]["id"]).endswith(b"\r\n\r\n" + body), subject)
        status, answer = api.json("GET", "/api/v1/account", token=token)
        self.assertEqual((status, answer["folders"]["inbox"]["total"]), (200, len(acknowledged)))
        with Pop3Client(pop3d.tls_port, deployment.context()) as pop3:
            self.assertTrue(pop3.line().startswith("+OK"))
            self.assertTrue(pop3.command("USER bob").startswith("+OK"))
            self.assertTrue(pop3.command("PASS " + USERS["bob"]).startswith("+OK"))
            self.assertEqual(pop3.command("STAT").split()[:2], ["+OK", str(len(acknowledged))])
            self.assertTrue(pop3.command("RETR 1").startswith("+OK"))
            retrieved = "\r\n".join(pop3.multiline()).encode() + b"\r\n"
            self.assertTrue(retrieved.endswith(acknowledged["before-0"]), "RETR 1 on a full disk")
            pop3.command("QUIT")
        # A write through webd fails cleanly or succeeds; it never takes the server down.
        status, answer = api.json("PATCH", f"/api/v1/messages/{entries['before-1']['id']}", {"seen": True},
                                  token=token)
        say(f"PATCH on a full disk: {status} {answer}")
        self.assertIn(status, (200, 500, 503))
        if status != 200:
            self.assertIn("error", answer)
        other = Https(webd.port, deployment.context())
        status, _ = other.login("alice", USERS["alice"])  # a login stores a token: a write
        say(f"login on a full disk: {status}")
        self.assertIn(status, (200, 500, 503))
        other.close()
        self.assertTrue(webd.running() and pop3d.running())

        # Space comes back: the same process takes mail again, by itself.
        os.remove(filler)
        code, reply, body = self.send(client, "after", 200000)
        self.assertEqual(code, 250, f"after the disk had room again: {reply}")
        acknowledged["after"] = body
        status, answer = api.json("PATCH", f"/api/v1/messages/{entries['before-1']['id']}", {"seen": True},
                                  token=token)
        self.assertEqual((status, answer["seen"]), (200, True), "webd writes again")
        client.command("QUIT")
        client.close()

        # Nothing acknowledged lost, nothing refused stored, the database sound.
        entries = {entry["subject"]: entry for entry in api.listing(token)}
        self.assertEqual(sorted(entries), sorted(acknowledged))
        sent = {entry["subject"] for entry in self.alice_sent(webd)}
        self.assertEqual(sorted(sent), sorted(acknowledged))
        for subject in refusals:
            self.assertEqual(deployment.query("SELECT count(*) FROM messages WHERE subject = ?", (subject,)),
                             [(0,)])
        self.assertEqual(deployment.query("PRAGMA integrity_check"), [("ok",)])
        api.close()
        self.assertEqual([server.stop() for server in (smtpd, webd, pop3d)], [0, 0, 0])

    def alice_sent(self, webd):
        api = Https(webd.port, self.deployment.context())
        status, token = api.login("alice", USERS["alice"])
        self.assertEqual(status, 200)
        entries = api.listing(token, "sent")
        api.close()
        return entries


if __name__ == "__main__":
    BINARIES, rest = binaries_from_argv(sys.argv)
    unittest.main(argv=rest, verbosity=2)
