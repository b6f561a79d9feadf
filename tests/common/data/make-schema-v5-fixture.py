#!/usr/bin/env python3
"""Makes tests/common/data/schema-v5.db: a database written by Mailroom
before the mailbox model of version 2 (schema 5, commit cd03ffd), through its
own servers, as an installation has it: accounts, mail with attachments,
Bcc, seen flags, sent copies, a deleted entry (so the id counter is past the
largest id) and a session. tst_store's upgradeKeepsEverything opens a copy
of it with today's code. Never run again for the same file: it stands for
databases that exist.

    tests/common/data/make-schema-v5-fixture.py BIN_DIR_OF_CD03FFD OUT.db
"""
import email.message
import json
import os
import shutil
import smtplib
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port):
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def main(bin_dir, out):
    data = tempfile.mkdtemp()
    common = ["--data-dir", data, "--pbkdf2-iterations", "1000", "--hostname", "mail.project.com"]
    subprocess.run([f"{bin_dir}/mailroomctl", *common, "init"], check=True)
    for name in ("alice", "bob", "carol"):
        subprocess.run([f"{bin_dir}/mailroomctl", *common, "add-user", name], input=f"{name}-password\n",
                       text=True, check=True)
    smtp_port, web_port = free_port(), free_port()
    servers = [subprocess.Popen([f"{bin_dir}/mailroom-smtpd", *common, "--listen", f"127.0.0.1:{smtp_port}"]),
               subprocess.Popen([f"{bin_dir}/mailroom-webd", *common, "--listen", f"127.0.0.1:{web_port}"])]
    try:
        wait_for(smtp_port)
        wait_for(web_port)
        tls = ssl.create_default_context()
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE

        def send(sender, recipients, message):
            with smtplib.SMTP("127.0.0.1", smtp_port) as smtp:
                smtp.starttls(context=tls)
                smtp.login(sender, f"{sender}-password")
                smtp.send_message(message, from_addr=f"{sender}@project.com",
                                  to_addrs=[f"{r}@project.com" for r in recipients])

        def message(sender, to, subject, body, cc=None):
            m = email.message.EmailMessage()
            m["From"] = f"{sender.capitalize()} <{sender}@project.com>"
            m["To"] = ", ".join(f"{r}@project.com" for r in to)
            if cc:
                m["Cc"] = ", ".join(f"{r}@project.com" for r in cc)
            m["Subject"] = subject
            m["Date"] = "Mon, 30 Nov 2026 09:15:00 +0100"
            m["Message-ID"] = f"<{subject.encode().hex()[:16]}@project.com>"
            m.set_content(body)
            return m

        send("alice", ["bob"], message("alice", ["bob"], "Plain hello", "Hello Bob.\n"))
        report = message("alice", ["bob"], "Quarterly report", "The figures are attached.\n", cc=["carol"])
        report.add_attachment(bytes(range(256)) * 40, maintype="application", subtype="pdf",
                              filename="r\u00e9sum\u00e9 Q4.pdf")
        report.add_attachment("a,b\n1,2\n", subtype="csv", filename="numbers.csv")
        send("alice", ["bob", "carol"], report)
        # Carol in Bcc: in no header.
        send("bob", ["alice", "carol"], message("bob", ["alice"], "Lunch? \u00e0 midi", "Shall we?\n"))
        send("carol", ["alice"], message("carol", ["alice"], "Deleted later", "Gone soon.\n"))
        html = message("carol", ["bob"], "Newsletter", "Text part.\n")
        html.add_alternative("<p>HTML <b>part</b></p>", subtype="html")
        send("carol", ["bob"], html)

        def api(method, path, token=None, body=None):
            request = urllib.request.Request(f"https://127.0.0.1:{web_port}{path}", method=method,
                                             data=json.dumps(body).encode() if body is not None else None)
            request.add_header("Content-Type", "application/json")
            if token:
                request.add_header("Authorization", f"Bearer {token}")
            with urllib.request.urlopen(request, context=tls) as response:
                text = response.read()
                return json.loads(text) if text else None

        tokens = {name: api("POST", "/api/v1/session", body={"username": name, "password": f"{name}-password"})["token"]
                  for name in ("alice", "bob", "carol")}
        bob_inbox = api("GET", "/api/v1/mailboxes/inbox/messages", tokens["bob"])["messages"]
        for entry in bob_inbox:
            if entry["subject"] in ("Plain hello", "Newsletter"):
                api("PATCH", f"/api/v1/messages/{entry['id']}", tokens["bob"], {"seen": True})
        alice_inbox = api("GET", "/api/v1/mailboxes/inbox/messages", tokens["alice"])["messages"]
        for entry in alice_inbox:
            if entry["subject"] == "Deleted later":
                api("DELETE", f"/api/v1/messages/{entry['id']}", tokens["alice"])
        # The newest entry deleted: the id counter is past the largest id.
        carol_sent = api("GET", "/api/v1/mailboxes/sent/messages", tokens["carol"])["messages"]
        api("DELETE", f"/api/v1/messages/{carol_sent[0]['id']}", tokens["carol"])
    finally:
        for server in servers:
            server.terminate()
            server.wait()
    db = sqlite3.connect(f"{data}/mailroom.db")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("PRAGMA journal_mode=DELETE")
    db.close()
    shutil.copyfile(f"{data}/mailroom.db", out)
    shutil.rmtree(data)


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]), sys.argv[2])
