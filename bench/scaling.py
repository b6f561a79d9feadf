#!/usr/bin/env python3
"""Throughput of one and of two mailroom-smtpd processes on one PostgreSQL
server (docs/scaling.md), beside one smtpd on the SQLite file for scale.

    bench/scaling.py [--bin-dir build/bin] [--seconds-per-run N] [--runs N]
                     [--connections C] [--size BYTES]

Starts a throw-away PostgreSQL 15 (tests/support/throwaway_postgres.py, with
fsync and synchronous commits on, as a real server has them), makes a data
directory and a database with mailroomctl, then for each setup starts the
smtpd processes and drives each with its own mailroom-load (STARTTLS, AUTH
PLAIN, pipelining, C connections split over the processes). Prints a
markdown table of the medians (messages/s summed over the processes, CPU of
the servers, of PostgreSQL and of the generators) and the JSON lines.

Everything runs on this one machine: the load generators, PostgreSQL and the
servers share its cores. The "cores busy" column says how close to the
machine's limit a run was; with two smtpd processes on a 2-core machine
they mostly compete for the same cores, so the figure to read for several
machines is the database's share per message, not the sum."""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import mailroom_harness as harness  # noqa: E402
import throwaway_postgres  # noqa: E402

PASSWORD = "bench-password-1"
USERS = 4


def cpu_seconds(pids):
    """utime + stime of these processes and their children so far (clock ticks to seconds)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += sum(int(value) for value in fields[11:15])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def postgres_pids():
    result = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True)
    return [int(pid) for pid in result.stdout.split()]


def run_load(bin_dir, smtpds, connections, seconds, size, cafile, label):
    """One run: every smtpd gets its own mailroom-load; the JSON lines and the CPU used."""
    per_server = max(1, connections // len(smtpds))
    # Messages per connection sized so a run lasts about `seconds` at ~1,000 msg/s in all.
    per_connection = max(5, int(seconds * 1000 / connections))
    generators = []
    pg_before = cpu_seconds(postgres_pids())
    servers_before = cpu_seconds([daemon.process.pid for daemon in smtpds])
    started = time.monotonic()
    for index, daemon in enumerate(smtpds):
        user = f"user{index % USERS}"
        generators.append(subprocess.Popen(
            [os.path.join(bin_dir, "mailroom-load"), "smtp", "--port", str(daemon.ports["STARTTLS"]),
             "--starttls", "--pipelining", "--auth", f"{user}:{PASSWORD}", "--connections", str(per_server),
             "--messages", str(per_connection), "--size", str(size), "--ca-cert", cafile,
             "--server-pid", str(daemon.process.pid), "--label", label, "--note", f"smtpd {index + 1}"],
            stdout=subprocess.PIPE, text=True))
    lines = []
    for generator in generators:
        out, _ = generator.communicate(timeout=600)
        lines.append(json.loads(out.strip().splitlines()[-1]))
    wall = time.monotonic() - started
    pg_cpu = cpu_seconds(postgres_pids()) - pg_before
    servers_cpu = cpu_seconds([daemon.process.pid for daemon in smtpds]) - servers_before
    return lines, wall, pg_cpu, servers_cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bin"))
    parser.add_argument("--seconds-per-run", type=float, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", type=int, default=40)
    parser.add_argument("--size", type=int, default=1024)
    arguments = parser.parse_args()
    binaries = {kind: os.path.join(arguments.bin_dir, name) for kind, name in
                (("smtpd", "mailroom-smtpd"), ("webd", "mailroom-webd"), ("pop3d", "mailroom-pop3d"),
                 ("ctl", "mailroomctl"))}

    state = tempfile.mkdtemp(prefix="mailroom-scaling-pg-")
    results = []
    try:
        print(throwaway_postgres.start(state, durable=True), file=sys.stderr, flush=True)
        setups = [("SQLite file, 1 smtpd", None, 1), ("PostgreSQL, 1 smtpd", state, 1),
                  ("PostgreSQL, 2 smtpd", state, 2)]
        for label, postgres, processes in setups:
            if postgres:
                os.environ["MAILROOM_TEST_POSTGRES"] = postgres
            else:
                os.environ.pop("MAILROOM_TEST_POSTGRES", None)
            deployment = harness.Deployment(binaries, {f"user{i}": PASSWORD for i in range(USERS)},
                                            prefix="mailroom-scaling-")
            try:
                smtpds = [deployment.start("smtpd") for _ in range(processes)]
                for run in range(arguments.runs):
                    lines, wall, pg_cpu, servers_cpu = run_load(
                        arguments.bin_dir, smtpds, arguments.connections, arguments.seconds_per_run,
                        arguments.size, deployment.cafile, label)
                    messages = sum(line["messages"] for line in lines)
                    errors = sum(line.get("errors", 0) for line in lines)
                    generators = sum(line.get("generator_cpu", 0) * line["seconds"] for line in lines)
                    result = {"setup": label, "run": run + 1, "messages": messages, "errors": errors,
                              "seconds": round(wall, 2), "rate": round(messages / wall, 1),
                              "smtpd_cpu_per_msg_ms": round(1000 * servers_cpu / max(messages, 1), 3),
                              "postgres_cpu_per_msg_ms": round(1000 * pg_cpu / max(messages, 1), 3),
                              "cores_busy": round((servers_cpu + pg_cpu + generators) / wall, 2),
                              "lines": lines}
                    results.append(result)
                    print(f"{label} run {run + 1}: {messages} messages in {wall:.1f} s = {result['rate']} msg/s,"
                          f" errors {errors}, cores busy {result['cores_busy']}", file=sys.stderr, flush=True)
            finally:
                deployment.cleanup()
    finally:
        throwaway_postgres.stop(state)
        shutil.rmtree(state, ignore_errors=True)

    print(f"| setup ({arguments.connections} connections, {arguments.size} B, STARTTLS + AUTH + pipelining) "
          "| msg/s | smtpd CPU ms/msg | PostgreSQL CPU ms/msg | cores busy |")
    print("|---|---|---|---|---|")
    for label in dict.fromkeys(result["setup"] for result in results):
        runs = [result for result in results if result["setup"] == label]

        def median(key):
            return statistics.median(result[key] for result in runs)
        print(f"| {label} | {median('rate'):,.0f} | {median('smtpd_cpu_per_msg_ms'):.3f} "
              f"| {median('postgres_cpu_per_msg_ms'):.3f} | {median('cores_busy'):.2f} |")
    print()
    for result in results:
        print(json.dumps(result))
    return 1 if any(result["errors"] for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
