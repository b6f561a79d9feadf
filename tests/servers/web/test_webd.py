#!/usr/bin/env python3
"""Black-box tests of mailroom-webd (docs/protocol/web.md) over real TLS.

Each test class starts its own mailroom-webd (and mailroom-smtpd, which
shares the database) on a fresh data directory, talks to them with Python's
standard library (http.client, ssl, smtplib, email) and curl, and stops them
with SIGTERM, expecting exit status 0. The database is the data directory's
SQLite file or, in a postgres run (MAILROOM_TEST_POSTGRES set), a PostgreSQL
database of the class's own on the suite's throw-away server
(tests/support/mailroom_harness.py, TestDatabase).

    test_webd.py --webd PATH --smtpd PATH --ctl PATH [unittest options]
"""

import argparse
import base64
import datetime
import email.message
import email.policy
import email.utils
import http.client
import json
import queue
import os
import re
import secrets
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from mailroom_harness import TestDatabase  # noqa: E402

WEBD = SMTPD = CTL = None
ITERATIONS = "1000"
DOMAIN = "project.com"
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
JSON_TYPE = "application/json; charset=utf-8"
HSTS = "max-age=31536000"  # RFC 6797; docs/protocol/web.md §4: on every response


def parse_iso(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


class Server:
    """One server process whose stderr is captured, with its port."""

    def __init__(self, argv, pattern, env):
        self.lines = []
        self.lock = threading.Lock()
        self.port = None
        self.ready = threading.Event()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=env)
        self.pattern = re.compile(pattern)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        if not self.ready.wait(30) or self.port is None:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("server did not start: %s\n%s" % (argv, self.log()))

    def _read(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace")
            with self.lock:
                self.lines.append(line)
            m = self.pattern.search(line)
            if m and self.port is None:
                self.port = int(m.group(1))
                self.ready.set()
        self.ready.set()

    def log(self):
        with self.lock:
            return "".join(self.lines)

    def stop(self):
        """SIGTERM; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(40)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "killed after SIGTERM timeout"
        self.reader.join(5)
        return rc


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # http.client.HTTPMessage
        self.body = body

    def header(self, name):
        return self.headers.get(name)

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:300])


class WebdTestCase(unittest.TestCase):
    """Base: a data directory with accounts, a webd and (optionally) an smtpd."""

    WEBD_ARGS = []
    WITH_SMTPD = True
    USERS = {"alice": "alice-pass-1", "bob": "bob-pass-22"}

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mailroom-webd-test-")
        cls.data = os.path.join(cls.tmp, "data")
        cls.secrets = set()  # tokens and passwords that must never reach a log
        cls.database = TestDatabase(cls.data)  # the SQLite file, or a PostgreSQL database of the class's own
        cls.addClassCleanup(cls.database.drop)  # after tearDownClass, also when setUpClass failed
        common = ["--data-dir", cls.data, "--hostname", "localhost", "--pbkdf2-iterations", ITERATIONS,
                  *cls.database.args()]
        subprocess.run([CTL, *common, "init"], check=True, capture_output=True, timeout=120)
        cls.users = dict(cls.USERS)
        for name, password in cls.users.items():
            cls.add_user(name, password)
        cls.cafile = os.path.join(cls.data, "tls", "cert.pem")
        assert os.path.exists(cls.cafile), "mailroomctl init made no tls/cert.pem"
        cls.ctx = ssl.create_default_context(cafile=cls.cafile)
        env = dict(os.environ)
        env["QT_LOGGING_RULES"] = "mailroom.*.info=true"
        cls.servers = []
        try:
            cls.webd = Server([WEBD, *common, "--listen", "127.0.0.1:0", *cls.WEBD_ARGS],
                              r"mailroom\.web: listening on 127\.0\.0\.1:(\d+) \(HTTPS\)", env)
            cls.servers.append(cls.webd)
            cls.port = cls.webd.port
            cls.smtpd = None
            if cls.WITH_SMTPD:
                cls.smtpd = Server([SMTPD, *common, "--listen", "127.0.0.1:0"],
                                   r"mailroom\.smtp: listening on 127\.0\.0\.1:(\d+) \(STARTTLS\)", env)
                cls.servers.append(cls.smtpd)
        except Exception:
            cls._stop_all()
            raise

    @classmethod
    def add_user(cls, name, password):
        subprocess.run([CTL, "--data-dir", cls.data, "--pbkdf2-iterations", ITERATIONS, *cls.database.args(),
                        "add-user", name],
                       input=(password + "\n").encode(), check=True, capture_output=True, timeout=60)
        cls.secrets.add(password)

    @classmethod
    def _stop_all(cls):
        codes = []
        for server in getattr(cls, "servers", []):
            codes.append((server.proc.args[0], server.stop()))
        return codes

    @classmethod
    def tearDownClass(cls):
        codes = cls._stop_all()
        logs = [server.log() for server in cls.servers]
        shutil.rmtree(cls.tmp, ignore_errors=True)
        bad = [(prog, rc) for prog, rc in codes if rc != 0]
        if bad:
            raise AssertionError("servers did not exit 0 on SIGTERM: %r" % bad)
        for log in logs:
            for secret in cls.secrets:
                if secret and secret in log:
                    raise AssertionError("a secret (%s...) appears in a server log" % secret[:6])

    # ---- HTTP helpers -------------------------------------------------------

    def connect(self, timeout=15):
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=timeout)

    def request(self, method, path, body=None, token=None, headers=None, raw=None, conn=None):
        """body: a JSON-able value; raw: bytes sent as they are."""
        own = conn is None
        conn = conn or self.connect()
        hdrs = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if token is not None:
            hdrs["Authorization"] = "Bearer " + token
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            payload = resp.read()
            return Response(resp.status, resp.headers, payload)
        finally:
            if own:
                conn.close()

    def login(self, username, password=None, expect=200):
        if password is None:
            password = self.users[username.split("@")[0]]
        r = self.request("POST", "/api/v1/session", {"username": username, "password": password})
        self.assertEqual(r.status, expect, r)
        if r.status == 200:
            token = r.json()["token"]
            type(self).secrets.add(token)
            return token, r.json()
        return None, r

    def assertError(self, r, status, code):
        self.assertEqual(r.status, status, r)
        self.assertTrue((r.header("Content-Type") or "").startswith("application/json"), r.header("Content-Type"))
        obj = r.json()
        self.assertEqual(set(obj.keys()), {"error"}, obj)
        self.assertEqual(obj["error"]["code"], code, obj)
        self.assertIsInstance(obj["error"]["message"], str)
        self.assertTrue(obj["error"]["message"])
        return obj

    def assertUnauthorized(self, r):
        self.assertError(r, 401, "unauthorized")
        self.assertTrue((r.header("WWW-Authenticate") or "").startswith("Bearer"), r.header("WWW-Authenticate"))

    def listing(self, token, folder="inbox", query=""):
        r = self.request("GET", "/api/v1/mailboxes/%s/messages%s" % (folder, query), token=token)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def find(self, token, folder, subject):
        """The entry of the caller's folder with this subject (the newest)."""
        for m in self.listing(token, folder, "?limit=500")["messages"]:
            if m["subject"] == subject:
                return m
        self.fail("no message %r in %s" % (subject, folder))

    # ---- SMTP helpers -------------------------------------------------------

    def send(self, msg, user="alice"):
        with smtplib.SMTP("127.0.0.1", self.smtpd.port, local_hostname="client.test", timeout=30) as s:
            s.starttls(context=ssl.create_default_context(cafile=self.cafile))
            s.login(user, self.users[user])
            s.send_message(msg)

    def send_text(self, subject, to=("bob",), sender="alice", body="Hello.\n", **extra):
        msg = email.message.EmailMessage()
        msg["From"] = "%s@%s" % (sender, DOMAIN)
        msg["To"] = ", ".join("%s@%s" % (t, DOMAIN) for t in to)
        msg["Subject"] = subject
        for name, value in extra.items():
            msg[name.replace("_", "-")] = value
        msg.set_content(body)
        self.send(msg, sender)
        return msg

    def query(self, sql, params=()):
        """Rows of one query on the database, read-only (SQLite or PostgreSQL)."""
        return self.database.query(sql, params)

    def stored_raw(self, entry_id):
        rows = self.query("SELECT m.raw FROM mailbox_entries e JOIN messages m ON m.id = e.message_id"
                          " WHERE e.id = ?", (entry_id,))
        self.assertTrue(rows, "entry %d not in the database" % entry_id)
        return bytes(rows[0][0])


# =============================================================================


class ApiRowsTest(WebdTestCase):
    """Every row of the route table, docs/protocol/web.md §1."""

    USERS = {"alice": "alice-pass-1", "bob": "bob-pass-22", "carol": "carol-pass-333",
             "dave": "dave-pass-4444", "pager": "pager-pass-55555", "erin": "erin-pass-666666"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = None

    def setUp(self):
        self.alice_token, _ = self.login("alice")
        self.bob_token, _ = self.login("bob")

    def test_healthz(self):
        r = self.request("GET", "/healthz")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Content-Type"), JSON_TYPE)
        self.assertEqual(r.json(), {"status": "ok"})

    def _check_login(self, name):
        before = datetime.datetime.now(datetime.timezone.utc)
        token, obj = self.login(name)
        self.assertEqual(set(obj.keys()), {"token", "expiresAt", "account"}, obj)
        # 32 random bytes as base64url (no padding)
        self.assertRegex(token, r"^[A-Za-z0-9_-]{43}$")
        self.assertEqual(len(base64.urlsafe_b64decode(token + "=")), 32)
        self.assertRegex(obj["expiresAt"], ISO_Z)
        expires = parse_iso(obj["expiresAt"])
        delta = (expires - before).total_seconds()
        self.assertAlmostEqual(delta, 86400, delta=120)
        account_id = self.query("SELECT id FROM accounts WHERE username = 'alice'")[0][0]
        self.assertEqual(obj["account"], {"id": account_id, "username": "alice", "address": "alice@" + DOMAIN})
        # the token works
        r = self.request("GET", "/api/v1/account", token=token)
        self.assertEqual(r.status, 200, r)
        return token

    def test_login_by_username(self):
        self._check_login("alice")

    def test_login_by_address(self):
        self._check_login("alice@" + DOMAIN)

    def test_login_tokens_differ(self):
        a, _ = self.login("alice")
        b, _ = self.login("alice")
        self.assertNotEqual(a, b)

    def test_login_bad_credentials(self):
        r = self.request("POST", "/api/v1/session", {"username": "alice", "password": "wrong-password"})
        self.assertUnauthorized(r)
        self.assertNotIn("token", r.body.decode())
        r = self.request("POST", "/api/v1/session", {"username": "nosuchuser", "password": "wrong-password"})
        self.assertUnauthorized(r)

    def test_login_missing_fields(self):
        r = self.request("POST", "/api/v1/session", {"username": "alice"})
        self.assertError(r, 400, "bad_request")

    def test_logout(self):
        token, _ = self.login("alice")
        r = self.request("DELETE", "/api/v1/session", token=token)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, b"")
        r = self.request("GET", "/api/v1/account", token=token)
        self.assertUnauthorized(r)
        # the other session of alice is unaffected
        r = self.request("GET", "/api/v1/account", token=self.alice_token)
        self.assertEqual(r.status, 200, r)

    def test_display_name_and_directory(self):
        erin, _ = self.login("carol")
        me = self.request("GET", "/api/v1/account", token=erin).json()["username"]
        r = self.request("PATCH", "/api/v1/account", {"displayName": "Zo\u00eb Quell"}, token=erin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["displayName"], "Zo\u00eb Quell")
        self.assertEqual(self.request("GET", "/api/v1/account", token=erin).json()["displayName"], "Zo\u00eb Quell")
        # found by a prefix of the display name, case and accents aside, or of the name
        for q in ("zoe%20q", "ZO%C3%8B", me[:2]):
            with self.subTest(q=q):
                r = self.request("GET", "/api/v1/directory?q=" + q, token=self.alice_token)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.header("Content-Type"), JSON_TYPE)
                found = {e["username"]: e for e in r.json()}
                self.assertIn(me, found)
                self.assertEqual(found[me], {"username": me, "address": me + "@" + DOMAIN,
                                             "displayName": "Zo\u00eb Quell"})
        self.assertLessEqual(len(self.request("GET", "/api/v1/directory", token=self.alice_token).json()), 20)
        self.assertError(self.request("PATCH", "/api/v1/account", {"displayName": "x" * 101}, token=erin),
                         400, "bad_request")
        self.assertError(self.request("PATCH", "/api/v1/account", {"displayName": "a\u0007b"}, token=erin),
                         400, "bad_request")
        self.assertError(self.request("GET", "/api/v1/directory?q=a&x=1", token=erin), 400, "bad_request")
        self.request("PATCH", "/api/v1/account", {"displayName": ""}, token=erin)

    def test_folders_moves_and_changes(self):
        """Version 2's mailbox routes from outside, mail sent through smtpd:
        a folder made, a message flagged and filed there, a copy, and the
        change feed telling of each."""
        erin, _ = self.login("erin")
        start = self.request("GET", "/api/v1/folders", token=erin)
        self.assertEqual(start.status, 200, start)
        folders = start.json()["folders"]
        self.assertEqual([f["role"] for f in folders][:6], ["inbox", "drafts", "sent", "archive", "trash", "junk"])
        since = start.json()["modseq"]
        self.send_text("file me", to=("erin",))
        entry = self.listing(erin)["messages"][0]
        self.assertEqual(entry["subject"], "file me")
        self.assertEqual(entry["folderId"], folders[0]["id"])
        self.assertEqual(entry["flags"], {"seen": False, "answered": False, "flagged": False, "draft": False})
        made = self.request("POST", "/api/v1/folders", {"name": "Projects/\u00c9t\u00e9 2027"}, token=erin)
        self.assertEqual(made.status, 201, made)
        folder = made.json()
        self.assertEqual(folder["name"], "Projects/\u00c9t\u00e9 2027")
        self.assertError(self.request("POST", "/api/v1/folders", {"name": "Projects/\u00c9t\u00e9 2027"}, token=erin),
                         409, "conflict")
        self.assertError(self.request("POST", "/api/v1/folders", {"name": "a//b"}, token=erin), 400, "bad_request")
        moved = self.request("PATCH", "/api/v1/messages/%d" % entry["id"],
                             {"flagged": True, "keywords": ["$Work"], "folderId": folder["id"]}, token=erin)
        self.assertEqual(moved.status, 200, moved)
        self.assertEqual((moved.json()["id"], moved.json()["folderId"]), (entry["id"], folder["id"]))
        copy = self.request("POST", "/api/v1/messages/%d/copy" % entry["id"], {"folderId": folders[3]["id"]}, token=erin)
        self.assertEqual(copy.status, 201, copy)
        listed = self.request("GET", "/api/v1/folders/%d/messages" % folder["id"], token=erin).json()["messages"]
        self.assertEqual([m["id"] for m in listed], [entry["id"]])
        # The stored row agrees.
        self.assertEqual(self.query("SELECT e.folder_id, e.flagged, e.keywords FROM mailbox_entries e WHERE e.id = ?",
                                    (entry["id"],)), [(folder["id"], 1, "$Work")])
        changes = self.request("GET", "/api/v1/changes?since=%d" % since, token=erin)
        self.assertEqual(changes.status, 200, changes)
        body = changes.json()
        self.assertEqual(sorted(c["id"] for c in body["created"]), sorted([entry["id"], copy.json()["id"]]))
        created = {c["id"]: c for c in body["created"]}
        self.assertEqual(created[entry["id"]]["folderId"], folder["id"])
        self.assertEqual(created[entry["id"]]["keywords"], ["$Work"])
        self.assertIn(folder["id"], [f["id"] for f in body["folders"]])
        self.assertEqual((body["removed"], body["more"], body["reset"]), ([], False, False))
        later = self.request("GET", "/api/v1/changes?since=%d" % body["modseq"], token=erin).json()
        self.assertEqual((later["created"], later["updated"], later["removed"]), ([], [], []))
        self.assertEqual(self.request("DELETE", "/api/v1/folders/%d" % folder["id"], token=erin).status, 204)
        gone = self.request("GET", "/api/v1/changes?since=%d" % body["modseq"], token=erin).json()
        self.assertEqual((gone["removed"], gone["foldersRemoved"]), ([entry["id"]], [folder["id"]]))
        self.assertError(self.request("GET", "/api/v1/changes?since=%d" % (gone["modseq"] + 1), token=erin),
                         400, "bad_request")

    def test_account_with_folder_counts(self):
        dave, _ = self.login("dave")
        r = self.request("GET", "/api/v1/account", token=dave)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Content-Type"), JSON_TYPE)
        self.assertEqual(r.json()["folders"], {"inbox": {"total": 0, "unseen": 0}, "sent": {"total": 0, "unseen": 0}})
        for i in range(3):
            self.send_text("counts %d" % i, to=("dave",))
        self.send_text("from dave", to=("bob",), sender="dave")
        first = self.listing(dave)["messages"][-1]
        r = self.request("PATCH", "/api/v1/messages/%d" % first["id"], {"seen": True}, token=dave)
        self.assertEqual(r.status, 200, r)
        obj = self.request("GET", "/api/v1/account", token=dave).json()
        account_id = self.query("SELECT id FROM accounts WHERE username = 'dave'")[0][0]
        self.assertEqual(obj["id"], account_id)
        self.assertEqual(obj["username"], "dave")
        self.assertEqual(obj["address"], "dave@" + DOMAIN)
        self.assertEqual(obj["folders"]["inbox"], {"total": 3, "unseen": 2})
        sent = self.listing(dave, "sent")["messages"]
        self.assertEqual(len(sent), 1)
        self.assertEqual(obj["folders"]["sent"], {"total": 1, "unseen": 0 if sent[0]["seen"] else 1})

    def test_listing_newest_first_and_paging(self):
        pager, _ = self.login("pager")
        for i in range(5):
            self.send_text("page %d" % i, to=("pager",))
        full = self.listing(pager)
        ids = [m["id"] for m in full["messages"]]
        self.assertEqual(len(ids), 5)
        self.assertEqual(ids, sorted(ids, reverse=True))
        self.assertEqual([m["subject"] for m in full["messages"]], ["page %d" % i for i in range(4, -1, -1)])
        self.assertIsNone(full["nextBefore"])
        for m in full["messages"]:
            self.assertEqual(set(m.keys()) >= {"id", "from", "to", "cc", "subject", "date", "size", "seen",
                                                "preview"}, True, m)
            self.assertEqual(m["from"], {"name": "", "address": "alice@" + DOMAIN})
            self.assertEqual(m["to"], [{"name": "", "address": "pager@" + DOMAIN}])
            self.assertEqual(m["cc"], [])
            self.assertIs(m["seen"], False)
            self.assertRegex(m["date"], ISO_Z)
        p1 = self.listing(pager, query="?limit=2")
        self.assertEqual([m["id"] for m in p1["messages"]], ids[:2])
        self.assertEqual(p1["nextBefore"], ids[1])
        p2 = self.listing(pager, query="?limit=2&before=%d" % p1["nextBefore"])
        self.assertEqual([m["id"] for m in p2["messages"]], ids[2:4])  # before is exclusive
        self.assertEqual(p2["nextBefore"], ids[3])
        p3 = self.listing(pager, query="?limit=2&before=%d" % p2["nextBefore"])
        self.assertEqual([m["id"] for m in p3["messages"]], ids[4:])
        self.assertIsNone(p3["nextBefore"])
        # a page that ends exactly at the oldest message: nothing older → null
        p = self.listing(pager, query="?limit=4&before=%d" % ids[0])
        self.assertEqual([m["id"] for m in p["messages"]], ids[1:])
        self.assertIsNone(p["nextBefore"])
        p = self.listing(pager, query="?before=%d" % ids[-1])
        self.assertEqual(p, {"messages": [], "nextBefore": None})
        self.assertEqual(len(self.listing(pager, query="?limit=500")["messages"]), 5)
        self.assertEqual(len(self.listing(pager, query="?limit=1")["messages"]), 1)
        # alice's sent folder, newest first
        sent = [m for m in self.listing(self.alice_token, "sent", "?limit=500")["messages"]
                if m["subject"].startswith("page ")]
        self.assertEqual([m["subject"] for m in sent], ["page %d" % i for i in range(4, -1, -1)])

    def test_listing_bad_parameters(self):
        for q in ("?limit=0", "?limit=501", "?limit=abc", "?limit=-1", "?limit=", "?before=abc", "?before=-5",
                  "?limit=10&before=1x", "?q=invoice", "?limit=5&limit=5", "?limit=5&page=2"):
            with self.subTest(q=q):
                r = self.request("GET", "/api/v1/mailboxes/inbox/messages" + q, token=self.bob_token)
                self.assertError(r, 400, "bad_request")

    def test_listing_unknown_folder(self):
        r = self.request("GET", "/api/v1/mailboxes/drafts/messages", token=self.bob_token)
        self.assertError(r, 404, "not_found")

    def test_message_detail(self):
        msg = email.message.EmailMessage()
        msg["From"] = "Alice Example <alice@%s>" % DOMAIN
        msg["To"] = "Bob B <bob@%s>" % DOMAIN
        msg["Cc"] = "carol@%s" % DOMAIN
        msg["Subject"] = "detail test"
        msg["Date"] = "Sun, 22 Nov 2026 14:05:00 +0100"
        msg["X-Note"] = "Grüße aus Köln"
        body = "First line of the body.\n\nSecond   paragraph\twith  spaces.\n"
        msg.set_content(body)
        self.send(msg)
        entry = self.find(self.bob_token, "inbox", "detail test")
        r = self.request("GET", "/api/v1/messages/%d" % entry["id"], token=self.bob_token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Content-Type"), JSON_TYPE)
        d = r.json()
        for key in ("id", "from", "to", "cc", "subject", "date", "size", "seen", "preview"):
            self.assertEqual(d[key], entry[key], key)
        self.assertEqual(d["from"], {"name": "Alice Example", "address": "alice@" + DOMAIN})
        self.assertEqual(d["to"], [{"name": "Bob B", "address": "bob@" + DOMAIN}])
        self.assertEqual(d["cc"], [{"name": "", "address": "carol@" + DOMAIN}])
        self.assertEqual(d["date"], "2026-11-22T13:05:00Z")
        self.assertRegex(d["receivedAt"], ISO_Z)
        self.assertLess(abs((parse_iso(d["receivedAt"]) - datetime.datetime.now(datetime.timezone.utc))
                            .total_seconds()), 300)
        raw = self.stored_raw(entry["id"])
        self.assertEqual(d["size"], len(raw))
        self.assertEqual(d["preview"], "First line of the body. Second paragraph with spaces.")
        self.assertEqual(d["text"].replace("\r\n", "\n").strip(), body.strip())
        self.assertEqual(d["attachments"], [])
        headers = d["headers"]
        self.assertTrue(all(isinstance(h, list) and len(h) == 2 for h in headers), headers)
        names = [h[0].lower() for h in headers]
        self.assertEqual(names[:2], ["return-path", "received"])  # prepended by smtpd (RFC 5321 §4.4)
        self.assertEqual(headers[0][1], "<alice@" + DOMAIN + ">")
        ours = [n for n in names if n in ("from", "to", "cc", "subject", "date", "x-note")]
        self.assertEqual(ours, ["from", "to", "cc", "subject", "date", "x-note"])
        values = {h[0].lower(): h[1] for h in headers}
        self.assertEqual(values["x-note"], "Grüße aus Köln")  # decoded RFC 2047
        self.assertEqual(values["subject"], "detail test")
        self.assertIn("message-id", names)
        # stored headers are in the raw message in the same order
        raw_names = [line.split(b":", 1)[0].decode().lower()
                     for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
                     if line and line[:1] not in (b" ", b"\t")]
        self.assertEqual(names, raw_names)
        self.assertIn(b"=?utf-8?", raw.lower())  # the header was encoded on the wire

    def test_message_not_found(self):
        for path in ("/api/v1/messages/999999", "/api/v1/messages/999999/raw",
                     "/api/v1/messages/999999/attachments/0"):
            r = self.request("GET", path, token=self.bob_token)
            self.assertError(r, 404, "not_found")

    def test_raw_is_stored_bytes(self):
        self.send_text("raw test", body="Line one\nLine .two\n.\n..dots\n" + "x" * 900 + "\n")
        entry = self.find(self.bob_token, "inbox", "raw test")
        r = self.request("GET", "/api/v1/messages/%d/raw" % entry["id"], token=self.bob_token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Content-Type"), "message/rfc822")
        self.assertEqual(r.body, self.stored_raw(entry["id"]))
        self.assertEqual(int(r.header("Content-Length")), len(r.body))
        # alice's sent copy is the same message
        sent = self.find(self.alice_token, "sent", "raw test")
        r2 = self.request("GET", "/api/v1/messages/%d/raw" % sent["id"], token=self.alice_token)
        self.assertEqual(r2.status, 200, r2)
        self.assertEqual(r2.body, r.body)

    def test_multipart_alternative_with_attachment(self):
        payload = bytes(range(256)) * 40 + b"\x00\r\n\x89PNG end"
        msg = email.message.EmailMessage()
        msg["From"] = "alice@" + DOMAIN
        msg["To"] = "bob@" + DOMAIN
        msg["Subject"] = "with attachment"
        msg.set_content("The plain text part.\nSecond line.\n")
        msg.add_alternative("<html><body><p>The <b>HTML</b> part.</p></body></html>\n", subtype="html")
        msg.add_attachment(payload, maintype="application", subtype="pdf", filename="report.pdf")
        msg.add_attachment("ä text file\n".encode("utf-8"), maintype="text", subtype="plain",
                           filename="Grüße.txt")
        self.send(msg)
        entry = self.find(self.bob_token, "inbox", "with attachment")
        d = self.request("GET", "/api/v1/messages/%d" % entry["id"], token=self.bob_token).json()
        self.assertEqual(d["text"].replace("\r\n", "\n").strip(), "The plain text part.\nSecond line.")
        self.assertNotIn("<b>", d["text"])
        self.assertEqual(len(d["attachments"]), 2, d["attachments"])
        a0 = d["attachments"][0]
        self.assertEqual(a0, {"index": 0, "filename": "report.pdf", "contentType": "application/pdf",
                              "size": len(payload)})
        self.assertEqual(d["attachments"][1]["filename"], "Grüße.txt")
        r = self.request("GET", "/api/v1/messages/%d/attachments/0" % entry["id"], token=self.bob_token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, payload)
        self.assertEqual(r.header("Content-Type"), "application/pdf")
        cd = r.header("Content-Disposition") or ""
        self.assertTrue(cd.startswith("attachment"), cd)
        self.assertIn('filename="report.pdf"', cd)
        r = self.request("GET", "/api/v1/messages/%d/attachments/1" % entry["id"], token=self.bob_token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, "ä text file\n".encode("utf-8"))
        self.assertTrue((r.header("Content-Type") or "").startswith("text/plain"), r.header("Content-Type"))
        cd = r.header("Content-Disposition") or ""
        self.assertTrue(cd.startswith("attachment"), cd)
        self.assertIn("filename*=UTF-8''Gr%C3%BC%C3%9Fe.txt", cd)
        r = self.request("GET", "/api/v1/messages/%d/attachments/2" % entry["id"], token=self.bob_token)
        self.assertError(r, 404, "not_found")

    def test_seen_patch_and_reading_does_not_mark_seen(self):
        self.send_text("seen test")
        entry = self.find(self.bob_token, "inbox", "seen test")
        path = "/api/v1/messages/%d" % entry["id"]
        self.assertIs(entry["seen"], False)
        self.assertEqual(self.request("GET", path, token=self.bob_token).status, 200)
        self.assertEqual(self.request("GET", path + "/raw", token=self.bob_token).status, 200)
        self.assertIs(self.request("GET", path, token=self.bob_token).json()["seen"], False)
        self.assertIs(self.find(self.bob_token, "inbox", "seen test")["seen"], False)
        r = self.request("PATCH", path, {"seen": True}, token=self.bob_token)
        self.assertEqual(r.status, 200, r)
        s = r.json()
        self.assertEqual(s["id"], entry["id"])
        self.assertIs(s["seen"], True)
        self.assertEqual(s["subject"], "seen test")
        for key in ("from", "to", "cc", "date", "size", "preview"):
            self.assertEqual(s[key], entry[key], key)
        self.assertNotIn("text", s)
        self.assertIs(self.find(self.bob_token, "inbox", "seen test")["seen"], True)
        self.assertIs(self.request("GET", path, token=self.bob_token).json()["seen"], True)
        r = self.request("PATCH", path, {"seen": False}, token=self.bob_token)
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json()["seen"], False)
        self.assertIs(self.find(self.bob_token, "inbox", "seen test")["seen"], False)
        # bob's flag is not alice's
        self.assertEqual(self.request("PATCH", path, {"seen": True}, token=self.bob_token).status, 200)
        sent = self.find(self.alice_token, "sent", "seen test")
        r = self.request("PATCH", "/api/v1/messages/%d" % sent["id"], {"seen": False}, token=self.alice_token)
        self.assertIs(r.json()["seen"], False)
        self.assertIs(self.find(self.bob_token, "inbox", "seen test")["seen"], True)
        for bad in ({"seen": "yes"}, {}, {"seen": 1}, [True]):
            with self.subTest(body=bad):
                self.assertError(self.request("PATCH", path, bad, token=self.bob_token), 400, "bad_request")

    def test_delete_only_from_callers_view(self):
        self.send_text("delete test")
        entry = self.find(self.bob_token, "inbox", "delete test")
        path = "/api/v1/messages/%d" % entry["id"]
        r = self.request("DELETE", path, token=self.bob_token)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, b"")
        self.assertError(self.request("GET", path, token=self.bob_token), 404, "not_found")
        self.assertError(self.request("GET", path + "/raw", token=self.bob_token), 404, "not_found")
        self.assertError(self.request("DELETE", path, token=self.bob_token), 404, "not_found")
        self.assertError(self.request("PATCH", path, {"seen": True}, token=self.bob_token), 404, "not_found")
        subjects = [m["subject"] for m in self.listing(self.bob_token, query="?limit=500")["messages"]]
        self.assertNotIn("delete test", subjects)
        sent = self.find(self.alice_token, "sent", "delete test")
        r = self.request("GET", "/api/v1/messages/%d" % sent["id"], token=self.alice_token)
        self.assertEqual(r.status, 200, r)
        r = self.request("GET", "/api/v1/messages/%d/raw" % sent["id"], token=self.alice_token)
        self.assertEqual(r.status, 200, r)
        self.assertIn(b"Subject: delete test", r.body)

    def test_password_change(self):
        old = self.users["carol"]
        a, _ = self.login("carol")
        b, _ = self.login("carol")
        path = "/api/v1/account/password"
        r = self.request("PUT", path, {"current": "not-carols-password", "new": "carol-new-pass-1"}, token=a)
        self.assertUnauthorized(r)
        self.assertEqual(self.request("GET", "/api/v1/account", token=a).status, 200)  # a 401 here ends nothing
        r = self.request("PUT", path, {"current": old, "new": "short"}, token=a)
        self.assertError(r, 400, "bad_request")
        r = self.request("PUT", path, {"current": old, "new": "x" * 129}, token=a)
        self.assertError(r, 400, "bad_request")
        r = self.request("PUT", path, {"current": old}, token=a)
        self.assertError(r, 400, "bad_request")
        self.assertEqual(self.request("GET", "/api/v1/account", token=b).status, 200)  # nothing changed yet
        new = "carol-new-pass-1"
        type(self).secrets.add(new)
        r = self.request("PUT", path, {"current": old, "new": new}, token=a)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, b"")
        self.assertUnauthorized(self.request("GET", "/api/v1/account", token=b))
        self.assertEqual(self.request("GET", "/api/v1/account", token=a).status, 200)
        self.login("carol", old, expect=401)
        self.users["carol"] = new
        c, _ = self.login("carol", new)
        self.assertEqual(self.request("GET", "/api/v1/account", token=c).status, 200)
        # other accounts' tokens are untouched
        self.assertEqual(self.request("GET", "/api/v1/account", token=self.bob_token).status, 200)

    def test_password_change_needs_token(self):
        r = self.request("PUT", "/api/v1/account/password", {"current": "a", "new": "bbbbbbbbbbbb"})
        self.assertUnauthorized(r)

    def test_utf8_subject_end_to_end(self):
        msg = self.send_text("Grüße", body="Viele Grüße aus Köln\n")
        self.assertIn("=?utf-8?", msg.as_string().lower())  # encoded on the wire by the email package
        inbox = self.find(self.bob_token, "inbox", "Grüße")
        sent = self.find(self.alice_token, "sent", "Grüße")
        self.assertNotEqual(inbox["id"], sent["id"])
        self.assertEqual(inbox["preview"], "Viele Grüße aus Köln")
        d = self.request("GET", "/api/v1/messages/%d" % inbox["id"], token=self.bob_token).json()
        self.assertEqual(d["subject"], "Grüße")
        self.assertIn(["Subject", "Grüße"], d["headers"])
        self.assertIn(b"=?utf-8?", self.stored_raw(inbox["id"]).lower())

    def test_many_recipients_listed_bounded(self):
        # docs/protocol/web.md §2: a To of 5,000 addresses (RCPT to bob only)
        # through mailroom-smtpd; listings and the message carry the first
        # 50 and count all, the headers list and the raw message keep all.
        others = ["p%d@example.org" % i for i in range(1, 5000)]
        raw = ("From: alice@%s\r\nTo: bob@%s,\r\n %s\r\nSubject: Everyone\r\n\r\nHello all.\r\n"
               % (DOMAIN, DOMAIN, ",\r\n ".join(others))).encode()
        with smtplib.SMTP("127.0.0.1", self.smtpd.port, local_hostname="client.test", timeout=30) as s:
            s.starttls(context=ssl.create_default_context(cafile=self.cafile))
            s.login("alice", self.users["alice"])
            s.sendmail("alice@%s" % DOMAIN, ["bob@%s" % DOMAIN], raw)
        started = time.monotonic()
        r = self.request("GET", "/api/v1/mailboxes/inbox/messages?limit=500", token=self.bob_token)
        listing_ms = (time.monotonic() - started) * 1000
        self.assertEqual(r.status, 200, r)
        entry = next(m for m in r.json()["messages"] if m["subject"] == "Everyone")
        expected = [{"name": "", "address": a} for a in ["bob@%s" % DOMAIN] + others[:49]]
        self.assertEqual(entry["to"], expected)
        self.assertEqual(entry["toCount"], 5000)
        self.assertEqual((entry["cc"], entry["ccCount"]), ([], 0))
        d = self.request("GET", "/api/v1/messages/%d" % entry["id"], token=self.bob_token).json()
        self.assertEqual((d["to"], d["toCount"]), (expected, 5000))
        to_header = [value for name, value in d["headers"] if name == "To"]
        self.assertEqual(len(to_header), 1)
        self.assertEqual(to_header[0].count("@"), 5000)
        self.assertIn(raw[raw.index(b"To: "):raw.index(b"\r\nSubject")], self.stored_raw(entry["id"]))
        print("\n  listing with a 5,000-address message: %d bytes in %.0f ms" % (len(r.body), listing_ms),
              file=sys.stderr)

    def test_curl_as_outside_client(self):
        if shutil.which("curl") is None:
            self.skipTest("curl not installed")
        base = "https://localhost:%d" % self.port
        out = subprocess.run(["curl", "-sS", "--cacert", self.cafile, base + "/api/v1/session",
                              "-H", "Content-Type: application/json",
                              "-d", json.dumps({"username": "bob@" + DOMAIN, "password": self.users["bob"]})],
                             capture_output=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        obj = json.loads(out.stdout)
        token = obj["token"]
        type(self).secrets.add(token)
        self.assertEqual(obj["account"]["username"], "bob")
        out = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", "--cacert", self.cafile,
                              base + "/api/v1/mailboxes/inbox/messages?limit=3",
                              "-H", "Authorization: Bearer " + token], capture_output=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        body, _, code = out.stdout.rpartition(b"\n")
        self.assertEqual(code, b"200")
        listing = json.loads(body)
        self.assertIn("messages", listing)
        self.assertLessEqual(len(listing["messages"]), 3)
        self.assertEqual(listing["messages"], self.listing(token, query="?limit=3")["messages"])

    def test_events_stream_with_curl(self):
        """GET /api/v1/events read by curl -N as a user would: mail sent
        through smtpd arrives as a message event and a change event."""
        if shutil.which("curl") is None:
            self.skipTest("curl not installed")
        token, _ = self.login("erin")
        base = "https://localhost:%d" % self.port
        curl = subprocess.Popen(["curl", "-sS", "-N", "--cacert", self.cafile, base + "/api/v1/events",
                                 "-H", "Accept: text/event-stream", "-H", "Authorization: Bearer " + token],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            lines = queue.Queue()
            threading.Thread(target=lambda: [lines.put(line) for line in curl.stdout], daemon=True).start()

            def read_until(prefix, deadline):
                seen = []
                while time.monotonic() < deadline:
                    try:
                        line = lines.get(timeout=max(0.01, deadline - time.monotonic())).decode().rstrip("\n")
                    except queue.Empty:
                        break
                    seen.append(line)
                    if line.startswith(prefix):
                        return seen
                self.fail("no %r line within the time; read %r" % (prefix, seen))

            read_until("retry:", time.monotonic() + 10)
            started = time.monotonic()
            self.send_text("stream me", to=("erin",))
            seen = read_until("event: message", time.monotonic() + 10)
            seen += read_until("data:", time.monotonic() + 5)
            summary = json.loads(seen[-1][len("data: "):])
            self.assertEqual(summary["subject"], "stream me")
            seen = read_until("event: change", time.monotonic() + 10)
            seen += read_until("data:", time.monotonic() + 5)
            change = json.loads(seen[-1][len("data: "):])
            print("\n  smtpd delivery to the SSE event in curl: %.0f ms" % ((time.monotonic() - started) * 1000),
                  file=sys.stderr)
            self.assertEqual(change["folders"], [summary["folderId"]])
            self.assertEqual(change["modseq"], self.request("GET", "/api/v1/folders", token=token).json()["modseq"])
            # Logout ends it: curl exits.
            self.assertEqual(self.request("DELETE", "/api/v1/session", token=token).status, 204)
            curl.wait(timeout=10)
        finally:
            if curl.poll() is None:
                curl.kill()
            curl.wait()

    def test_search_with_curl(self):
        """GET /api/v1/search from curl, on mail sent through smtpd: words of
        the text and the headers, accents and case aside, a file name, a
        phrase, and a malformed query's 400 with its position."""
        if shutil.which("curl") is None:
            self.skipTest("curl not installed")
        token, _ = self.login("carol")
        msg = email.message.EmailMessage()
        msg["From"] = "alice@" + DOMAIN
        msg["To"] = "carol@" + DOMAIN
        msg["Subject"] = "Rechnung f\u00fcr M\u00e4rz"
        msg.set_content("Die \u00dcberweisung ist erledigt.\n")
        msg.add_attachment(b"%PDF-1.4\n", maintype="application", subtype="pdf", filename="Factura-2026.pdf")
        self.send(msg, "alice")
        self.send_text("Unrelated", to=("carol",), body="Nothing to see.\n")
        base = "https://localhost:%d" % self.port

        def search(query):
            out = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", "--cacert", self.cafile, "--get",
                                  "--data-urlencode", "q=" + query, base + "/api/v1/search",
                                  "-H", "Authorization: Bearer " + token], capture_output=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            body, _, code = out.stdout.rpartition(b"\n")
            return int(code), json.loads(body)

        for query in ("\u00dcBERWEISUNG", "uberweisung", "filename:factura", "from:alice rechnung",
                      '"fur marz"', "has:attachment is:unread"):
            code, body = search(query)
            self.assertEqual(code, 200, body)
            self.assertEqual([m["subject"] for m in body["messages"]],
                             ["Rechnung f\u00fcr M\u00e4rz"], query)
            self.assertIsNone(body["nextBefore"])
        code, body = search("-rechnung unrelated")
        self.assertEqual((code, [m["subject"] for m in body["messages"]]), (200, ["Unrelated"]))
        code, body = search("rechnung -filename:factura")
        self.assertEqual((code, body["messages"]), (200, []))
        code, body = search("from: rechnung")
        self.assertEqual(code, 400, body)
        self.assertEqual((body["error"]["code"], body["error"]["position"]), ("bad_request", 5))

    def test_zz_log_has_no_secrets(self):
        # runs last in this class (alphabetical order): every token and password used so far
        time.sleep(0.3)
        log = self.webd.log() + self.smtpd.log()
        self.assertIn("listening on", log)
        self.assertGreater(len(type(self).secrets), 5)
        for secret in type(self).secrets:
            self.assertNotIn(secret, log)


class ErrorsTest(WebdTestCase):
    """Error statuses and the JSON error shape."""

    WITH_SMTPD = False

    def setUp(self):
        self.token, _ = self.login("alice")

    def raw_exchange(self, data, read_timeout=10, chunks=None):
        """Sends bytes over a fresh TLS connection; returns everything read until close or timeout."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=read_timeout)
        tls = self.ctx.wrap_socket(sock, server_hostname="localhost")
        try:
            try:
                for part in (chunks or [data]):
                    tls.sendall(part)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass
            out = b""
            try:
                while True:
                    got = tls.recv(65536)
                    if not got:
                        break
                    out += got
                    if b"\r\n\r\n" in out:
                        head, _, rest = out.partition(b"\r\n\r\n")
                        m = re.search(rb"(?i)content-length:\s*(\d+)", head)
                        if m and len(rest) >= int(m.group(1)):
                            break
            except (socket.timeout, ConnectionResetError, ssl.SSLError):
                pass
            return out
        finally:
            tls.close()

    def parse(self, data):
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        return status, headers, body

    def assertRawError(self, data, statuses, codes):
        status, headers, body = self.parse(data)
        self.assertIn(status, statuses, data[:300])
        obj = json.loads(body[:int(headers.get("content-length", len(body)))])
        self.assertIn(obj["error"]["code"], codes, obj)
        return status, headers

    def test_two_host_headers_400(self):
        for name, head in (
                ("two values", b"Host: localhost\r\nHost: evil.example\r\n"),
                ("the same value twice", b"Host: localhost\r\nHost: localhost\r\n"),
                ("names in other cases", b"host: localhost\r\nHOST: evil.example\r\n"),
                ("apart", b"Host: localhost\r\nAccept: */*\r\nHost: evil.example\r\n"),
                ("one empty", b"Host: localhost\r\nHost:\r\n")):
            for version in (b"HTTP/1.1", b"HTTP/1.0"):
                with self.subTest(name=name, version=version):
                    out = self.raw_exchange(b"GET /healthz " + version + b"\r\n" + head + b"\r\n")
                    status, headers = self.assertRawError(out, {400}, {"bad_request"})
                    self.assertIn(b"More than one Host header", out)
                    self.assertEqual(headers.get("strict-transport-security"), HSTS)
                    self.assertEqual(headers.get("connection"), "close")

    def test_two_authorization_headers_400(self):
        # Found: answered 200, the first one counted. Whichever comes first, and valid or not: 400.
        bearer = ("Bearer " + self.token).encode()
        for name, head in (("valid, then junk", b"Authorization: " + bearer + b"\r\nAuthorization: Bearer x\r\n"),
                           ("junk, then valid", b"Authorization: Bearer x\r\nAuthorization: " + bearer + b"\r\n"),
                           ("valid twice", b"Authorization: " + bearer + b"\r\nauthorization: " + bearer + b"\r\n")):
            with self.subTest(name=name):
                out = self.raw_exchange(b"GET /api/v1/account HTTP/1.1\r\nHost: localhost\r\n" + head + b"\r\n")
                self.assertRawError(out, {400}, {"bad_request"})
                self.assertIn(b"More than one Authorization header", out)
                self.assertNotIn(b'"username"', out)
        # one is still fine
        self.assertEqual(self.request("GET", "/api/v1/account", token=self.token).status, 200)

    def test_duplicate_headers_with_curl(self):
        base = "https://localhost:%d" % self.port
        curl = ["curl", "-sS", "-v", "--cacert", self.cafile, "--resolve", "localhost:%d:127.0.0.1" % self.port,
                "-o", "-", "-w", "\n%{http_code}"]
        cases = [
            # curl sends its own Host unless told not to ("Host:" alone), then both given.
            ("Host", ["-H", "Host:", "-H", "Host: localhost", "-H", "Host: evil.example", base + "/healthz"]),
            ("Authorization", ["-H", "Authorization: Bearer " + self.token, "-H", "Authorization: Bearer x",
                               base + "/api/v1/account"]),
        ]
        for name, args in cases:
            with self.subTest(header=name):
                out = subprocess.run(curl + args, capture_output=True, timeout=60)
                self.assertEqual(out.returncode, 0, out.stderr)
                sent = [line for line in out.stderr.decode("latin-1").splitlines()
                        if line.lower().startswith("> " + name.lower() + ":")]
                self.assertEqual(len(sent), 2, out.stderr)  # both went out
                body, _, code = out.stdout.rpartition(b"\n")
                self.assertEqual(code, b"400", out.stdout)
                self.assertEqual(json.loads(body)["error"]["code"], "bad_request")
                self.assertIn("< strict-transport-security: " + HSTS, out.stderr.decode("latin-1").lower())

    def test_hsts_on_every_kind_of_answer(self):
        def check(status, headers, what):
            self.assertEqual(headers.get("strict-transport-security"), HSTS, "%s: %d" % (what, status))

        token, _ = self.login("alice")
        for method, path, kwargs, status in (
                ("GET", "/healthz", {}, 200),
                ("HEAD", "/healthz", {}, 200),
                ("GET", "/api/v1/account", {"token": token}, 200),
                ("DELETE", "/api/v1/session", {"token": token}, 204),
                ("GET", "/api/v1/account", {"token": token}, 401),  # ended just now
                ("GET", "/api/v1/account", {}, 401),
                ("GET", "/nope", {}, 404),
                ("POST", "/healthz", {"raw": b""}, 405),
                ("POST", "/api/v1/session", {"raw": b"{", "headers": {"Content-Type": "application/json"}}, 400),
                ("POST", "/api/v1/session", {"raw": b"{}", "headers": {"Content-Type": "text/plain"}}, 415)):
            with self.subTest(method=method, path=path, status=status):
                r = self.request(method, path, **kwargs)
                self.assertEqual(r.status, status, r)
                check(r.status, {k.lower(): v for k, v in r.headers.items()}, (method, path))
        big = b"x" * (64 * 1024 + 1)
        for name, data, status in (
                ("parser: garbage", b"\x00\x01 nonsense\r\n\r\n", 400),
                ("parser: two Host headers", b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
                ("411", b"POST /api/v1/session HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n", 411),
                ("413", b"POST /api/v1/session HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n"
                 % len(big) + big, 413),
                ("414", b"GET /" + b"a" * (17 * 1024) + b" HTTP/1.1\r\nHost: localhost\r\n\r\n", 414),
                ("431", b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Pad: " + b"a" * (17 * 1024) + b"\r\n\r\n", 431),
                ("505", b"GET /healthz HTTP/2.0\r\nHost: localhost\r\n\r\n", 505)):
            with self.subTest(name=name):
                status_seen, headers, _ = self.parse(self.raw_exchange(data))
                self.assertEqual(status_seen, status)
                check(status_seen, headers, name)

    def test_unknown_paths_404(self):
        for path in ("/", "/nope", "/api", "/api/v1", "/api/v1/nope", "/api/v2/account", "/api/v1/messages/abc",
                     "/api/v1/messages/0", "/api/v1/messages/-1", "/api/v1/messages/1/nope",
                     "/healthz/x", "/api/v1/messages/1/attachments/x"):
            with self.subTest(path=path):
                r = self.request("GET", path, token=self.token)
                self.assertError(r, 404, "not_found")
                self.assertEqual(r.header("Content-Type"), JSON_TYPE)

    def test_wrong_method_405(self):
        cases = [("POST", "/healthz", {"GET", "HEAD"}),
                 ("GET", "/api/v1/session", {"POST", "DELETE"}),
                 ("POST", "/api/v1/account", {"GET", "PATCH"}),
                 ("GET", "/api/v1/account/password", {"PUT"}),
                 ("DELETE", "/api/v1/mailboxes/inbox/messages", {"GET"}),
                 ("PUT", "/api/v1/messages/1", {"GET", "PATCH", "DELETE"}),
                 ("DELETE", "/api/v1/messages/1/raw", {"GET"})]
        for method, path, allowed in cases:
            with self.subTest(method=method, path=path):
                r = self.request(method, path, token=self.token, raw=b"" if method in ("POST", "PUT") else None)
                self.assertError(r, 405, "method_not_allowed")
                allow = {m.strip() for m in (r.header("Allow") or "").split(",")}
                self.assertEqual(allow, allowed)

    def test_head_healthz(self):
        r = self.request("HEAD", "/healthz")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"")

    def test_not_json_415(self):
        body = json.dumps({"username": "alice", "password": "x"}).encode()
        for ctype in ("text/plain", "application/x-www-form-urlencoded", None):
            with self.subTest(ctype=ctype):
                headers = {"Content-Type": ctype} if ctype else {}
                r = self.request("POST", "/api/v1/session", raw=body, headers=headers)
                self.assertError(r, 415, "unsupported_media_type")
        r = self.request("PATCH", "/api/v1/messages/1", raw=b'{"seen":true}',
                         headers={"Content-Type": "text/json"}, token=self.token)
        self.assertError(r, 415, "unsupported_media_type")

    def test_json_with_charset_accepted(self):
        r = self.request("POST", "/api/v1/session",
                         raw=json.dumps({"username": "alice", "password": self.users["alice"]}).encode(),
                         headers={"Content-Type": "application/json; charset=utf-8"})
        self.assertEqual(r.status, 200, r)
        type(self).secrets.add(r.json()["token"])

    def test_invalid_json_400(self):
        for raw in (b"{", b"not json", b"", b'{"username": "alice", "password": }', b"[1,2]", b"\xff\xfe"):
            with self.subTest(raw=raw):
                r = self.request("POST", "/api/v1/session", raw=raw, headers={"Content-Type": "application/json"})
                self.assertError(r, 400, "bad_request")

    def test_body_over_64k_413(self):
        body = b'{"username": 1, "password": 2}' + b" " * (64 * 1024 + 1)
        head = ("POST /api/v1/session HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                "Content-Length: %d\r\n\r\n" % len(body)).encode()
        out = self.raw_exchange(None, chunks=[head, body])
        self.assertRawError(out, {413}, {"too_large"})

    def test_body_of_exactly_64k_accepted(self):
        obj = b'{"username": 1, "password": 2}'
        body = obj + b" " * (64 * 1024 - len(obj))
        self.assertEqual(len(body), 65536)
        r = self.request("POST", "/api/v1/session", raw=body, headers={"Content-Type": "application/json"})
        self.assertError(r, 400, "bad_request")  # parsed: wrong field types, not 413

    def test_chunked_body_411(self):
        data = (b"POST /api/v1/session HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n0\r\n\r\n")
        out = self.raw_exchange(data)
        self.assertRawError(out, {411}, {"length_required"})

    def test_head_over_16k_431(self):
        data = (b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Pad: " + b"a" * (17 * 1024) + b"\r\n\r\n")
        out = self.raw_exchange(data)
        self.assertRawError(out, {431}, {"headers_too_large"})
        many = b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 100) for i in range(200))
        out = self.raw_exchange(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n" + many + b"\r\n")
        self.assertRawError(out, {431}, {"headers_too_large"})

    def test_long_request_line_414(self):
        data = b"GET /" + b"a" * (17 * 1024) + b" HTTP/1.1\r\nHost: localhost\r\n\r\n"
        out = self.raw_exchange(data)
        self.assertRawError(out, {414, 431}, {"uri_too_long", "headers_too_large"})

    def test_head_under_16k_accepted(self):
        r = self.request("GET", "/healthz", headers={"X-Pad": "a" * (15 * 1024)})
        self.assertEqual(r.status, 200, r)

    def test_missing_token_401(self):
        for method, path in (("GET", "/api/v1/account"), ("GET", "/api/v1/mailboxes/inbox/messages"),
                             ("GET", "/api/v1/messages/1"), ("DELETE", "/api/v1/session"),
                             ("GET", "/api/v1/messages/1/raw")):
            with self.subTest(path=path):
                r = self.request(method, path)
                self.assertUnauthorized(r)
                self.assertEqual(r.header("WWW-Authenticate"), "Bearer")

    def test_malformed_token_401(self):
        for value in ("Bearer", "Bearer ", "Bearer !!!!", "Bearer " + "A" * 10, "Basic YWxpY2U6cHc=",
                      "Bearer " + self.token + "AA", "Token " + self.token, self.token):
            with self.subTest(value=value[:20]):
                r = self.request("GET", "/api/v1/account", headers={"Authorization": value})
                self.assertUnauthorized(r)

    def test_unknown_token_401(self):
        fake = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
        self.assertUnauthorized(self.request("GET", "/api/v1/account", token=fake))

    def test_logged_out_token_401(self):
        token, _ = self.login("alice")
        self.assertEqual(self.request("DELETE", "/api/v1/session", token=token).status, 204)
        for method, path in (("GET", "/api/v1/account"), ("DELETE", "/api/v1/session"),
                             ("GET", "/api/v1/mailboxes/sent/messages")):
            self.assertUnauthorized(self.request(method, path, token=token))

    def test_expired_token_401(self):
        token, _ = self.login("alice")
        self.assertEqual(self.request("GET", "/api/v1/account", token=token).status, 200)
        # Make the stored expiry lie in the past (whatever its unit), as time would.
        digest = __import__("hashlib").sha256(base64.urlsafe_b64decode(token + "=")).digest()
        n = self.database.execute("UPDATE api_tokens SET expires_at = 1 WHERE token_hash = ?", (digest,))
        self.assertEqual(n, 1, "the token is not stored as its SHA-256")
        self.assertUnauthorized(self.request("GET", "/api/v1/account", token=token))
        self.assertEqual(self.request("GET", "/api/v1/account", token=self.token).status, 200)


class TokenLifetimeTest(WebdTestCase):
    WITH_SMTPD = False
    WEBD_ARGS = ["--token-lifetime", "60"]

    def test_expires_at_follows_option(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        token, obj = self.login("alice")
        self.assertAlmostEqual((parse_iso(obj["expiresAt"]) - now).total_seconds(), 60, delta=5)
        if os.environ.get("MAILROOM_SLOW_TESTS"):
            time.sleep(62)
            self.assertUnauthorized(self.request("GET", "/api/v1/account", token=token))


class IsolationTest(WebdTestCase):
    """Another account's entry ids are 404 for every operation, and stay unchanged."""

    def test_bob_cannot_touch_alices_entries(self):
        alice, _ = self.login("alice")
        bob, _ = self.login("bob")
        msg = email.message.EmailMessage()
        msg["From"] = "alice@" + DOMAIN
        msg["To"] = "alice@" + DOMAIN  # alice to herself: inbox and sent entries, none of bob's
        msg["Subject"] = "private"
        msg.set_content("secret text\n")
        msg.add_attachment(b"secret bytes", maintype="application", subtype="octet-stream", filename="s.bin")
        self.send(msg)
        self.send_text("for bob")  # so bob has an entry of his own
        entries = [self.find(alice, "inbox", "private"), self.find(alice, "sent", "private"),
                   self.find(alice, "sent", "for bob")]
        bob_entry = self.find(bob, "inbox", "for bob")
        none = 10 ** 9
        ref = self.request("GET", "/api/v1/messages/%d" % none, token=bob)
        self.assertError(ref, 404, "not_found")
        before = {e["id"]: self.request("GET", "/api/v1/messages/%d" % e["id"], token=alice).json()
                  for e in entries}
        for e in entries:
            base = "/api/v1/messages/%d" % e["id"]
            for method, path, body in (("GET", base, None), ("GET", base + "/raw", None),
                                       ("GET", base + "/attachments/0", None),
                                       ("PATCH", base, {"seen": True}), ("PATCH", base, {"seen": False}),
                                       ("DELETE", base, None)):
                with self.subTest(id=e["id"], method=method, path=path):
                    r = self.request(method, path, body, token=bob)
                    self.assertError(r, 404, "not_found")
                    self.assertEqual(r.json(), ref.json())  # no hint that it exists
                    self.assertNotIn(b"secret", r.body)
        # alice's entries are unchanged
        for e in entries:
            r = self.request("GET", "/api/v1/messages/%d" % e["id"], token=alice)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json(), before[e["id"]])
            self.assertIs(r.json()["seen"], e["seen"])
        self.assertEqual(self.request("GET", "/api/v1/messages/%d/attachments/0" % entries[0]["id"],
                                      token=alice).body, b"secret bytes")
        # and the other way round
        for method, path, body in (("GET", "", None), ("GET", "/raw", None), ("PATCH", "", {"seen": True}),
                                   ("DELETE", "", None)):
            r = self.request(method, "/api/v1/messages/%d%s" % (bob_entry["id"], path), body, token=alice)
            self.assertError(r, 404, "not_found")
        self.assertEqual(self.request("GET", "/api/v1/messages/%d" % bob_entry["id"], token=bob).status, 200)
        # bob's listings never show alice's entries
        ids = {m["id"] for f in ("inbox", "sent") for m in self.listing(bob, f, "?limit=500")["messages"]}
        self.assertFalse(ids & {e["id"] for e in entries})


class ThrottleTest(WebdTestCase):
    WITH_SMTPD = False
    WEBD_ARGS = ["--login-window", "2"]

    def test_tenth_attempt_429_then_window_passes(self):
        for i in range(9):
            r = self.request("POST", "/api/v1/session", {"username": "alice", "password": "wrong-%d" % i})
            self.assertUnauthorized(r)
        # the 10th attempt is refused unchecked, even with the right password
        r = self.request("POST", "/api/v1/session", {"username": "alice", "password": self.users["alice"]})
        self.assertError(r, 429, "too_many_requests")
        self.assertEqual(r.header("Strict-Transport-Security"), HSTS)
        retry = r.header("Retry-After")
        self.assertIsNotNone(retry)
        self.assertTrue(retry.isdigit() and int(retry) >= 1, retry)
        self.assertNotIn("token", r.json())
        time.sleep(2.5)
        token, _ = self.login("alice")
        self.assertEqual(self.request("GET", "/api/v1/account", token=token).status, 200)


class ConnectionTest(WebdTestCase):
    WITH_SMTPD = False
    WEBD_ARGS = ["--handshake-timeout", "2", "--keepalive-timeout", "2"]

    def exchange(self, data, timeout=10):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        tls = self.ctx.wrap_socket(sock, server_hostname="localhost")
        out = b""
        try:
            tls.sendall(data)
            while True:
                got = tls.recv(65536)
                if not got:
                    break
                out += got
        finally:
            tls.close()
        return out

    def test_unfinished_request_408_after_keepalive_timeout(self):
        start = time.monotonic()
        data = self.exchange(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\nGET /heal")
        elapsed = time.monotonic() - start
        statuses = [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)]
        self.assertEqual(statuses, [200, 408], data)
        self.assertIn(b'"code":"timeout"', data)
        self.assertEqual(data.count(b"\r\nStrict-Transport-Security: " + HSTS.encode() + b"\r\n"), 2, data)
        self.assertGreater(elapsed, 1.5)
        self.assertLess(elapsed, 8)

    def test_idle_keep_alive_connection_closed(self):
        start = time.monotonic()
        data = self.exchange(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        elapsed = time.monotonic() - start
        self.assertEqual([int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)], [200], data)
        self.assertGreater(elapsed, 1.5)
        self.assertLess(elapsed, 8)

    def test_smuggling_shapes_refused(self):
        # Content-Length together with Transfer-Encoding: never trusted
        data = self.exchange(b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                             b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual([int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)], [411], data)
        # two different Content-Lengths
        data = self.exchange(b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 2\r\nContent-Length: 5\r\n\r\n{}GET /healthz HTTP/1.1\r\n\r\n")
        self.assertEqual([int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)], [400], data)
        self.assertIn(b'"code":"bad_request"', data)

    def test_keep_alive(self):
        conn = self.connect()
        try:
            r1 = self.request("GET", "/healthz", conn=conn)
            sock = conn.sock
            self.assertIsNotNone(sock, "the server closed the connection after one request")
            r2 = self.request("POST", "/api/v1/session", {"username": "bob", "password": self.users["bob"]},
                              conn=conn)
            self.assertIs(conn.sock, sock)
            r3 = self.request("GET", "/api/v1/account", token=r2.json()["token"], conn=conn)
            type(self).secrets.add(r2.json()["token"])
            self.assertIs(conn.sock, sock)
            self.assertEqual((r1.status, r2.status, r3.status), (200, 200, 200))
            r4 = self.request("GET", "/nope", conn=conn)  # an error keeps the connection too
            self.assertEqual(r4.status, 404)
            self.assertIs(conn.sock, sock)
        finally:
            conn.close()

    def test_pipelining(self):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        tls = self.ctx.wrap_socket(sock, server_hostname="localhost")
        try:
            tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
                        b"GET /api/v1/nope HTTP/1.1\r\nHost: localhost\r\n\r\n"
                        b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                got = tls.recv(65536)
                if not got:
                    break
                data += got
        finally:
            tls.close()
        statuses = [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)]
        self.assertEqual(statuses, [200, 404, 200], data)
        self.assertEqual(data.count(b'{"status":"ok"}'), 2, data)

    def test_stalled_handshakes_do_not_block(self):
        idle = []
        try:
            for _ in range(50):
                s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
                idle.append(s)
            time.sleep(0.2)
            start = time.monotonic()
            conn = self.connect(timeout=5)
            try:
                r = self.request("GET", "/healthz", conn=conn)
            finally:
                conn.close()
            elapsed = time.monotonic() - start
            print("\nhealthz with 50 stalled handshakes: %.3f s" % elapsed, file=sys.stderr)
            self.assertEqual(r.status, 200)
            self.assertLess(elapsed, 5)
            # the server drops the stalled ones after --handshake-timeout 2
            time.sleep(3.5)
            closed = 0
            for s in idle:
                s.settimeout(2)
                try:
                    if s.recv(1) == b"":
                        closed += 1
                except (ConnectionResetError, socket.timeout, OSError):
                    closed += 1
            self.assertEqual(closed, 50)
        finally:
            for s in idle:
                s.close()

    def test_plain_http_is_refused(self):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            try:
                data = sock.recv(4096)
            except (ConnectionResetError, socket.timeout):
                data = b""
            self.assertNotIn(b'{"status":"ok"}', data)
        finally:
            sock.close()


def main():
    global WEBD, SMTPD, CTL
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--webd", required=True)
    parser.add_argument("--smtpd", required=True)
    parser.add_argument("--ctl", required=True)
    args, rest = parser.parse_known_args()
    WEBD, SMTPD, CTL = (os.path.abspath(p) for p in (args.webd, args.smtpd, args.ctl))
    unittest.main(argv=[sys.argv[0], *rest])


if __name__ == "__main__":
    main()
