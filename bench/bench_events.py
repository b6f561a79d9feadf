#!/usr/bin/env python3
"""The change feed's latency end to end: mail submitted to mailroom-smtpd,
the server-sent event in mailroom-webd (docs/protocol/web.md §6). Starts
both servers on port 0 over a fresh data directory (SQLite) or a database
of a throw-away PostgreSQL (--postgresql), opens GET /api/v1/events,
submits COUNT messages one at a time with smtplib, and prints the time from
each submission's 250 to its `message` event: median, p90, p99, max.

    bench/bench_events.py [--bin-dir build/bin] [--count 200] [--gap-ms 50] [--postgresql]

A benchmark, not a test: it prints figures and asserts nothing but that
every event came. Standard library only.
"""
import argparse
import http.client
import json
import os
import queue
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "support"))
import throwaway_postgres  # noqa: E402


def start(command, log):
    process = subprocess.Popen(command, stderr=open(log, "w"))
    for _ in range(200):
        with open(log) as f:
            for line in f:
                if "listening on 127.0.0.1:" in line:
                    return process, int(line.split("listening on 127.0.0.1:")[1].split()[0])
        time.sleep(0.05)
    raise SystemExit("%s did not start: see %s" % (command[0], log))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default=os.path.join(HERE, "..", "build", "bin"))
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--gap-ms", type=int, default=50)
    parser.add_argument("--postgresql", action="store_true")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="bench-events-")
    data = os.path.join(work, "data")
    common = ["--data-dir", data, "--pbkdf2-iterations", "1000", "--hostname", "localhost"]
    state = None
    try:
        if args.postgresql:
            state = os.path.join(work, "postgres")
            throwaway_postgres.start(state)
            throwaway_postgres.createdb(state, "bench")
            url = throwaway_postgres.read_url(state).rsplit("/", 1)[0] + "/bench"
            common += ["--database", url, "--database-password-file", os.path.join(state, "password")]
        ctl = os.path.join(args.bin_dir, "mailroomctl")
        subprocess.run([ctl, *common, "init"], check=True, capture_output=True)
        subprocess.run([ctl, *common, "add-user", "bench"], input=b"bench-password-1\n", check=True, capture_output=True)
        smtpd, smtp_port = start([os.path.join(args.bin_dir, "mailroom-smtpd"), *common, "--listen", "127.0.0.1:0"],
                                 os.path.join(work, "smtpd.log"))
        webd, web_port = start([os.path.join(args.bin_dir, "mailroom-webd"), *common, "--listen", "127.0.0.1:0"],
                               os.path.join(work, "webd.log"))
        try:
            tls = ssl.create_default_context(cafile=os.path.join(data, "tls", "cert.pem"))
            tls.check_hostname = False
            web = http.client.HTTPSConnection("127.0.0.1", web_port, context=tls)
            web.request("POST", "/api/v1/session", json.dumps({"username": "bench", "password": "bench-password-1"}),
                        {"Content-Type": "application/json"})
            token = json.loads(web.getresponse().read())["token"]
            stream = http.client.HTTPSConnection("127.0.0.1", web_port, context=tls)
            stream.request("GET", "/api/v1/events", headers={"Authorization": "Bearer " + token,
                                                              "Accept": "text/event-stream"})
            response = stream.getresponse()
            assert response.status == 200, response.status
            arrivals = queue.Queue()

            def read_events():
                event = None
                for raw in response:
                    line = raw.decode().rstrip("\n")
                    if line.startswith("event: "):
                        event = line[len("event: "):]
                    elif line.startswith("data: ") and event == "message":
                        arrivals.put((time.monotonic(), json.loads(line[len("data: "):])["subject"]))

            threading.Thread(target=read_events, daemon=True).start()
            smtp = smtplib.SMTP("127.0.0.1", smtp_port)
            smtp.starttls(context=tls)
            smtp.login("bench", "bench-password-1")
            latencies = []
            for i in range(args.count):
                subject = "event %d" % i
                message = "From: bench@project.com\r\nTo: bench@project.com\r\nSubject: %s\r\n\r\nHi.\r\n" % subject
                smtp.sendmail("bench@project.com", ["bench@project.com"], message)
                submitted = time.monotonic()
                while True:
                    arrived, got = arrivals.get(timeout=10)
                    if got == subject:
                        latencies.append((arrived - submitted) * 1000)
                        break
                time.sleep(args.gap_ms / 1000)
            smtp.quit()
        finally:
            for process in (smtpd, webd):
                process.terminate()
                process.wait()
        latencies.sort()

        def at(fraction):
            return latencies[min(len(latencies) - 1, int(fraction * len(latencies)))]

        engine = "PostgreSQL" if args.postgresql else "SQLite"
        print("%s, %d messages %d ms apart, smtpd's 250 to webd's message event: median %.1f ms, p90 %.1f ms,"
              " p99 %.1f ms, max %.1f ms" % (engine, len(latencies), args.gap_ms, at(0.5), at(0.9), at(0.99),
                                            latencies[-1]))
    finally:
        if state:
            throwaway_postgres.stop(state)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
