#!/usr/bin/python3
"""What idle organisations cost one `agendasync serve` node (issue 16, a node of many
customers): N organisations without users or traffic, the daemon started over them, then its
CPU over a window, its resident memory, SQLite reader connections' file descriptors and
threads, per organisation. Prints one JSON object.

    bench/service/idle_organisations.py --agendasync build/bench/src/cli/agendasync \
        [--organisations 200,1000] [--window 20]

Every organisation is created by the CLI (`agendasync orgs add`) before the daemon starts, so
the daemon opens them all at start-up; nothing else runs against them. CPU is read from
/proc/PID/stat (user + system) over the window after a settling pause."""
import argparse
import json
import os
import re
import socket
import subprocess
import tempfile
import time


def ticks(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def count_fds(pid, pattern):
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if re.search(pattern, os.readlink(f"/proc/{pid}/fd/{fd}")):
                count += 1
        except OSError:
            pass
    return count


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(agendasync, organisations, window, settle):
    hz = os.sysconf("SC_CLK_TCK")
    with tempfile.TemporaryDirectory(prefix="agendasync-idle-orgs-") as work:
        run = lambda *args: subprocess.run([agendasync, *args], cwd=work, check=True,
                                           stdout=subprocess.DEVNULL)
        run("init", "--mail-domain", "example.com")
        started = time.monotonic()
        for i in range(organisations):
            run("orgs", "add", f"org{i}")
        create_seconds = time.monotonic() - started
        port = free_port()
        with open(os.path.join(work, "serve.log"), "w") as log:
            serve = subprocess.Popen([agendasync, "serve", "--listen", f"127.0.0.1:{port}"],
                                     cwd=work, stdout=log, stderr=subprocess.STDOUT)
        try:
            time.sleep(settle)
            if serve.poll() is not None:
                raise SystemExit(f"serve ended early; see {work}/serve.log")
            before = ticks(serve.pid)
            time.sleep(window)
            after = ticks(serve.pid)
            cpu_ms_per_s = (after - before) * 1000.0 / hz / window
            rss = rss_kb(serve.pid)
            threads = len(os.listdir(f"/proc/{serve.pid}/task"))
            fds = count_fds(serve.pid, r"/organisations/org\d+/agenda\.db$")
        finally:
            serve.terminate()
            serve.wait(timeout=60)
    return {
        "organisations": organisations,
        "create_seconds": round(create_seconds, 1),
        "window_seconds": window,
        "idle_cpu_ms_per_s": round(cpu_ms_per_s, 2),
        "idle_cpu_us_per_s_per_organisation": round(cpu_ms_per_s * 1000 / organisations, 1),
        "rss_kb": rss,
        "rss_kb_per_organisation": round(rss / organisations, 1),
        "organisation_db_fds": fds,
        "organisation_db_fds_per_organisation": round(fds / organisations, 2),
        "threads": threads,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--agendasync", required=True)
    parser.add_argument("--organisations", default="200,1000")
    parser.add_argument("--window", type=float, default=20)
    parser.add_argument("--settle", type=float, default=10)
    args = parser.parse_args()
    rows = [measure(os.path.abspath(args.agendasync), int(n), args.window, args.settle)
            for n in args.organisations.split(",")]
    print(json.dumps({"scenario": "idle_organisations", "load_average": os.getloadavg()[0],
                      "runs": rows}))


if __name__ == "__main__":
    main()
