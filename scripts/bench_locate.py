#!/usr/bin/env python3
"""Benchmark locate through gunicorn against a bare Flask endpoint on the same workers (by hand).

Starts gunicorn on a free 127.0.0.1 port with the database of `make run` (or DATABASE_URL), then for
each endpoint sends requests from concurrent keep-alive clients for a fixed time and prints requests
per second and the ratio to the bare endpoint (/api/v1/ping, no database) measured in the same run.
By default there is one client per worker thread (workers x threads), so every request slot of the
server is busy and none queues. Rates are counted over the measured time, until the last client's
last answer. Also prints in-process milliseconds per call. Target: locate at least 50% of the bare
endpoint.

Usage: .venv/bin/python scripts/bench_locate.py [--seconds 10] [--workers 3] [--threads 4]
       [--clients N]
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

from geo311 import create_app
from geo311.autocomplete import autocomplete
from geo311.db import database_url, get_engine
from geo311.locate import locate_point, locate_text

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ["356 S Berendo St, 90020", "3033 W 6th St", "16815 W Vanowen St, 91406",
         "6125 E Mesa Ave 90042", "Wilshire Blvd & Vermont Ave", "1310 Glenavon Ave, Venice",
         "132 S Westmoreland Ave", "8209 N Kester Ave, 91402"]
PINS = [(-118.294017712, 34.0676390557), (-118.4994716, 34.19402846), (-118.2877979, 34.07243977),
        (-118.4566531, 34.0091016), (-118.190311778, 34.1162764252), (-118.3, 34.06)]
PREFIXES = ["bere", "wilsh", "356 s ber", "vermont & wil", "biblioteca", "6th"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def hammer(port: int, paths: list[str], seconds: float, clients: int) -> float:
    counts = [0] * clients
    errors = [0] * clients
    started = time.monotonic()
    deadline = started + seconds

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        rng = random.Random(index)
        while time.monotonic() < deadline:
            conn.request("GET", rng.choice(paths))
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                counts[index] += 1
            else:
                errors[index] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started  # answers after the deadline count, so does their time
    if sum(errors):
        print(f"  ({sum(errors)} non-200 answers)")
    return sum(counts) / elapsed


def in_process_ms() -> dict[str, float]:
    app = create_app()
    out = {}
    with app.app_context(), get_engine().connect() as conn:
        for name, calls in (
            ("forward", [lambda t=t: locate_text(conn, t) for t in TEXTS]),
            ("reverse", [lambda p=p: locate_point(conn, *p) for p in PINS]),
            ("autocomplete", [lambda q=q: autocomplete(conn, q) for q in PREFIXES]),
        ):
            for call in calls:
                call()
            started = time.perf_counter()
            rounds = 5
            for _ in range(rounds):
                for call in calls:
                    call()
            out[name] = (time.perf_counter() - started) * 1000 / (rounds * len(calls))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clients", type=int, default=None,
                        help="concurrent keep-alive clients (default: workers x threads)")
    args = parser.parse_args()
    args.clients = args.clients or args.workers * args.threads

    app = create_app()
    env = dict(os.environ, DATABASE_URL=database_url(app.config))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers",
         str(args.workers), "--worker-class", "gthread", "--threads", str(args.threads),
         "--log-level", "warning",
         "geo311:create_app()"], cwd=ROOT, env=env)
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/api/v1/ping")
                break
            except OSError:
                time.sleep(0.1)
        suites = {
            "bare /api/v1/ping": ["/api/v1/ping"],
            "forward locate": [f"/api/v1/locate?q={quote(t)}" for t in TEXTS],
            "reverse locate": [f"/api/v1/locate?lon={lon}&lat={lat}" for lon, lat in PINS],
            "autocomplete": [f"/api/v1/autocomplete?q={quote(q)}" for q in PREFIXES],
        }
        for paths in suites.values():  # warm every worker's pool and plans
            hammer(port, paths, 1.0, args.clients)
        rates = {name: hammer(port, paths, args.seconds, args.clients) for name, paths in suites.items()}
    finally:
        server.terminate()
        server.wait(10)
    bare = rates["bare /api/v1/ping"]
    print(f"through gunicorn ({args.workers} gthread workers x {args.threads} threads, "
          f"{args.clients} clients, {args.seconds:.0f}s each)")
    for name, rate in rates.items():
        print(f"  {name:<20} {rate:8.0f} req/s   ratio to bare {rate / bare:6.1%}"
              + ("   (target >= 50%)" if "locate" in name else ""))
    print("in-process ms per call")
    for name, ms in in_process_ms().items():
        print(f"  {name:<20} {ms:8.1f} ms")


if __name__ == "__main__":
    main()
