#!/usr/bin/env python3
"""Many open event streams held by one mailroom-webd (docs/protocol/web.md
§6): the server's memory per stream, and whether it still serves.

Starts mailroom-webd and mailroom-smtpd on port 0 over a fresh data
directory, with the connection limits raised for the run (the defaults
stay: 1,024 connections, 64 per address) and the open-file limit raised to
its hard limit. Makes ceil(STREAMS / 16) accounts (16 streams per account is
the server's limit), logs each in, and opens STREAMS `GET /api/v1/events`
streams over TLS with asyncio, each read until its `retry:` line. Prints:

- the time to open them all;
- webd's VmRSS before and with them open, and KiB per stream;
- with all of them open: /healthz round trips, and the time from smtpd's
  250 for a message to one account until each of that account's 16
  streams has its `message` event;
- VmRSS after they are closed; then ROUNDS - 1 more rounds of opening
  and closing as many, with VmRSS each time (memory reused, not added to).

    bench/bench_streams.py [--bin-dir build/bin] [--streams 10000] [--rounds 2]

A benchmark, not a test: it prints figures. Standard library only.
"""
import argparse
import asyncio
import http.client
import json
import os
import resource
import shutil
import smtplib
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_events import start  # noqa: E402  (a server started on port 0, and its port)

PER_ACCOUNT = 16
PASSWORD = "bench-password-1"


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def login(port, tls, name):
    web = http.client.HTTPSConnection("127.0.0.1", port, context=tls)
    web.request("POST", "/api/v1/session", json.dumps({"username": name, "password": PASSWORD}),
                {"Content-Type": "application/json"})
    answer = web.getresponse()
    body = answer.read()
    web.close()
    if answer.status != 200:
        raise SystemExit("login of %s: %d %r" % (name, answer.status, body[:200]))
    return json.loads(body)["token"]


class Stream:
    def __init__(self, account):
        self.account = account
        self.reader = None
        self.writer = None
        self.messages = asyncio.Queue()

    async def open(self, port, tls, token):
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port, ssl=tls,
                                                                 server_hostname="localhost")
        self.writer.write(("GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n"
                           "Authorization: Bearer %s\r\n\r\n" % token).encode())
        await self.writer.drain()
        status = await self.reader.readline()
        if b" 200 " not in status:
            raise RuntimeError("stream refused: %r" % status)
        while not (await self.reader.readline()).startswith(b"retry:"):
            pass

    async def follow(self):
        event = None
        try:
            while True:
                line = (await self.reader.readline()).decode()
                if not line:
                    return
                if line.startswith("event: "):
                    event = line[len("event: "):].strip()
                elif line.startswith("data: ") and event == "message":
                    self.messages.put_nowait((time.monotonic(), json.loads(line[len("data: "):])["subject"]))
        except (ConnectionError, asyncio.CancelledError, ssl.SSLError):
            return


async def run(args, web_port, smtp_port, webd, tls, tokens):
    streams = [Stream(i // PER_ACCOUNT) for i in range(args.streams)]
    gate = asyncio.Semaphore(args.concurrency)

    async def open_one(stream):
        async with gate:
            await stream.open(web_port, tls, tokens[stream.account])

    before = rss_kib(webd.pid)
    started = time.monotonic()
    await asyncio.gather(*(open_one(s) for s in streams))
    opened = time.monotonic() - started
    followers = [asyncio.create_task(s.follow()) for s in streams]
    await asyncio.sleep(2)
    held = rss_kib(webd.pid)
    print("%d streams of %d accounts open in %.1f s (%.0f per second)"
          % (len(streams), len(tokens), opened, len(streams) / opened))
    print("webd VmRSS: %d KiB before, %d KiB with the streams open: %.1f KiB per stream"
          % (before, held, (held - before) / len(streams)))

    # Still serving: /healthz round trips on a connection of its own.
    loop = asyncio.get_running_loop()

    def healthz_times():
        web = http.client.HTTPSConnection("127.0.0.1", web_port, context=tls)
        times = []
        for _ in range(50):
            t = time.monotonic()
            web.request("GET", "/healthz")
            web.getresponse().read()
            times.append((time.monotonic() - t) * 1000)
        web.close()
        return sorted(times)

    times = await loop.run_in_executor(None, healthz_times)
    print("with them open, GET /healthz: median %.1f ms, max %.1f ms" % (times[len(times) // 2], times[-1]))

    # A message to one account: each of its 16 streams hears of it.
    def submit(subject):
        smtp = smtplib.SMTP("127.0.0.1", smtp_port)
        smtp.starttls(context=tls)
        smtp.login("bench0", PASSWORD)
        smtp.sendmail("bench0@project.com", ["bench0@project.com"],
                      "From: bench0@project.com\r\nTo: bench0@project.com\r\nSubject: %s\r\n\r\nHi.\r\n" % subject)
        done = time.monotonic()
        smtp.quit()
        return done

    ours = [s for s in streams if s.account == 0]
    latencies = []
    for i in range(5):
        subject = "fan-out %d" % i
        submitted = await loop.run_in_executor(None, submit, subject)
        slowest = 0.0
        for stream in ours:
            while True:
                arrived, got = await asyncio.wait_for(stream.messages.get(), 10)
                if got == subject:
                    slowest = max(slowest, arrived - submitted)
                    break
        latencies.append(slowest * 1000)
    print("with them open, smtpd's 250 to the message event on all %d streams of the account: %s ms"
          % (len(ours), ", ".join("%.0f" % x for x in latencies)))

    await close(streams, followers)
    print("webd VmRSS after they closed: %d KiB" % rss_kib(webd.pid))
    # Memory the first round's streams held is used again, not added to:
    # the same number opened and closed once more.
    for round_ in range(2, args.rounds + 1):
        streams = [Stream(i // PER_ACCOUNT) for i in range(args.streams)]
        await asyncio.gather(*(open_one(s) for s in streams))
        await asyncio.sleep(2)
        held = rss_kib(webd.pid)
        await close(streams, [])
        print("round %d: webd VmRSS %d KiB with %d streams open, %d KiB after they closed"
              % (round_, held, len(streams), rss_kib(webd.pid)))


async def close(streams, followers):
    # At once, as a client that goes away does (asyncio's close() would
    # wait up to 30 s for each TLS shutdown).
    for stream in streams:
        stream.writer.transport.abort()
    for task in followers:
        task.cancel()
    await asyncio.gather(*followers, return_exceptions=True)
    await asyncio.sleep(3)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default=os.path.join(HERE, "..", "build", "bin"))
    parser.add_argument("--streams", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < args.streams + 512:
        raise SystemExit("the open-file hard limit (%d) is below %d streams and some room" % (hard, args.streams))
    # Raised for this process and the servers it starts; the defaults of
    # the servers' own limits stay as they are outside this run.
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    accounts = (args.streams + PER_ACCOUNT - 1) // PER_ACCOUNT
    work = tempfile.mkdtemp(prefix="bench-streams-")
    data = os.path.join(work, "data")
    common = ["--data-dir", data, "--pbkdf2-iterations", "1000", "--hostname", "project.com"]
    limits = ["--max-connections", str(args.streams + 200), "--max-connections-per-address", str(args.streams + 200)]
    try:
        ctl = os.path.join(args.bin_dir, "mailroomctl")
        subprocess.run([ctl, *common, "init"], check=True, capture_output=True)
        for i in range(accounts):
            subprocess.run([ctl, *common, "add-user", "bench%d" % i], input=(PASSWORD + "\n").encode(), check=True,
                           capture_output=True)
        smtpd, smtp_port = start([os.path.join(args.bin_dir, "mailroom-smtpd"), *common, "--listen", "127.0.0.1:0"],
                                 os.path.join(work, "smtpd.log"))
        webd, web_port = start([os.path.join(args.bin_dir, "mailroom-webd"), *common, *limits,
                                "--listen", "127.0.0.1:0"], os.path.join(work, "webd.log"))
        try:
            tls = ssl.create_default_context(cafile=os.path.join(data, "tls", "cert.pem"))
            tls.check_hostname = False
            tokens = [login(web_port, tls, "bench%d" % i) for i in range(accounts)]
            asyncio.run(run(args, web_port, smtp_port, webd, tls, tokens))
        finally:
            for process in (smtpd, webd):
                process.terminate()
                process.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
