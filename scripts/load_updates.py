"""Load test of staff updates on loopback: crews x If-Match updates plus resident creates, exact
accounting of every acknowledged write, then ``kill -9`` of the PostgreSQL postmaster mid-run and
recovery without restarting the app.

Everything is throwaway and local: a PostgreSQL cluster in a temp dir (geo311.cluster.Cluster,
durable settings: fsync and synchronous_commit on, so a crash keeps every acknowledged commit),
the hand-made fixture boundaries and the catalogue, staff tokens made with ``geo311 users add``,
and gunicorn (``--worker-class gthread``) bound to 127.0.0.1. The run is bounded in count and
time (``--deadline``) and cleans up after itself.

Accounting: every update attempt carries a unique token in its note. An acknowledged (200)
attempt must appear exactly once in ``request_status_history``; an attempt that failed with an
error may or may not have landed (the answer was lost), and is counted apart. Resident creates
send an ``Idempotency-Key`` and retry with it, so none is lost or duplicated. A follower reads
``/api/v1/events`` throughout (reconnecting with Last-Event-ID) and must see every event once.

    .venv/bin/python scripts/load_updates.py            # 20 crews x 200 updates, then the outage
    .venv/bin/python scripts/load_updates.py --crews 4 --updates 20 --outage-updates 10
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from geo311.cluster import Cluster, ClusterError

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
FIXTURES = ROOT / "tests" / "fixtures"
STATUSES = ("acknowledged", "assigned", "in_progress")
GRAFFITI = {"service_code": "graffiti", "attributes": {"surface": "wall", "is_offensive": "no"}}
ERROR_PAUSE_S = 0.2
MAX_CONFLICT_RETRIES = 100


# ---------------------------------------------------------------- HTTP on loopback
class Client:
    """One keep-alive HTTP/1.1 connection to the app (one per thread)."""

    def __init__(self, port: int, timeout_s: float = 30.0):
        self.port, self.timeout_s = port, timeout_s
        self.conn: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, body: Any = None,
             headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:
        """Send one request; returns (status, headers, parsed JSON or None); raises on I/O."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout_s)
        data = json.dumps(body).encode() if body is not None else None
        sent = {"Content-Type": "application/json", **(headers or {})} if data else headers or {}
        try:
            self.conn.request(method, path, body=data, headers=sent)
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return response.status, response.headers, parsed

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# ---------------------------------------------------------------- workers
@dataclass
class Tally:
    """What one worker saw (merged after the phase)."""

    acked: list[tuple[str, int]] = field(default_factory=list)  # (attempt token, request id)
    unsure: list[str] = field(default_factory=list)  # attempts that ended in an error
    creates: dict[str, int] = field(default_factory=dict)  # idempotency key -> id
    unsure_keys: list[str] = field(default_factory=list)
    conflicts: int = 0
    errors: list[float] = field(default_factory=list)  # monotonic times of errors
    successes: list[float] = field(default_factory=list)  # monotonic times of 2xx writes
    gave_up: int = 0


def crew_worker(number: int, token: str, port: int, ids: list[int], updates: int,
                deadline: float, tally: Tally, tag: str) -> None:
    """Send ``updates`` acknowledged updates to random requests of the pool, If-Match each."""
    rng = random.Random(f"{tag}{number}")
    client = Client(port)
    etags: dict[int, str] = {}
    auth = {"Authorization": f"Bearer {token}"}
    sequence = 0
    done = 0
    while done < updates and time.monotonic() < deadline:
        rid = rng.choice(ids)
        status = rng.choice(STATUSES)
        conflicts = 0
        while time.monotonic() < deadline:
            etag = etags.get(rid)
            if etag is None:
                try:
                    code, headers, _ = client.call("GET", f"/api/v1/requests/{rid}")
                except (OSError, http.client.HTTPException):
                    code, headers = 0, {}
                if code != 200:
                    tally.errors.append(time.monotonic())
                    time.sleep(ERROR_PAUSE_S)
                    continue
                etag = etags[rid] = headers["ETag"]
            sequence += 1
            attempt = f"{tag}c{number}-{sequence}"
            body = {"status": status, "note": f"load {attempt}"}
            try:
                code, headers, payload = client.call(
                    "POST", f"/api/v1/requests/{rid}/updates", body, {**auth, "If-Match": etag})
            except (OSError, http.client.HTTPException):
                code, headers, payload = 0, {}, None
            if code == 200:
                tally.acked.append((attempt, rid))
                tally.successes.append(time.monotonic())
                etags[rid] = headers["ETag"]
                done += 1
                break
            if code == 409:
                tally.conflicts += 1
                etags[rid] = headers.get("ETag") or payload["current"]["etag"]
                conflicts += 1
                if conflicts >= MAX_CONFLICT_RETRIES:
                    tally.gave_up += 1
                    done += 1
                    break
                continue
            tally.unsure.append(attempt)  # the write may or may not have committed
            tally.errors.append(time.monotonic())
            etags.pop(rid, None)
            time.sleep(ERROR_PAUSE_S)
    client.close()


def resident_worker(number: int, port: int, creates: int, deadline: float, tally: Tally,
                    tag: str, stop: threading.Event | None = None) -> None:
    """File ``creates`` requests, each retried with its Idempotency-Key until acknowledged."""
    rng = random.Random(f"{tag}r{number}")
    client = Client(port)
    for k in range(creates):
        if stop is not None and stop.is_set():
            break
        key = f"load-{tag}-{number}-{k}"
        body = {**GRAFFITI, "lon": round(rng.uniform(-118.23, -118.21), 6),
                "lat": round(rng.uniform(34.01, 34.03), 6), "description": "load test",
                "contact": {"email": f"resident{number}@example.org"}}
        while time.monotonic() < deadline:
            try:
                code, _, payload = client.call("POST", "/api/v1/requests", body,
                                               {"Idempotency-Key": key})
            except (OSError, http.client.HTTPException):
                code, payload = 0, None
            if code in (200, 201):
                tally.creates[key] = payload["id"]
                tally.successes.append(time.monotonic())
                break
            tally.errors.append(time.monotonic())
            time.sleep(ERROR_PAUSE_S)
        else:
            tally.unsure_keys.append(key)
    client.close()


class Follower(threading.Thread):
    """Reads /api/v1/events from the start, reconnecting with Last-Event-ID whenever it ends."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port = port
        self.ids: list[int] = []
        self.reconnects = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            headers = {"Last-Event-ID": str(self.ids[-1] if self.ids else 0)}
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
            try:
                conn.request("GET", "/api/v1/events?timeout=30", headers=headers)
                response = conn.getresponse()
                while not self.stop.is_set():
                    line = response.readline()
                    if not line:
                        break
                    if line.startswith(b"id: "):
                        self.ids.append(int(line[4:]))
            except (OSError, http.client.HTTPException, ValueError):
                pass
            finally:
                conn.close()
            self.reconnects += 1
            self.stop.wait(0.5)  # as an EventSource waits its retry interval


# ---------------------------------------------------------------- setup and teardown
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([str(VENV_BIN / "geo311"), *args], env=env, capture_output=True,
                            text=True, timeout=300)
    if result.returncode != 0:
        raise SystemExit(f"geo311 {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def wait_ready(port: int, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if Client(port, 2).call("GET", "/api/v1/ping")[0] == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not answer /api/v1/ping")


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def kill_postmaster(cluster: Cluster) -> int:
    """``kill -9`` the postmaster we started; its backends then exit by themselves."""
    pid = int((cluster.datadir / "postmaster.pid").read_text().split()[0])
    backends = children_of(pid)
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in backends):
        time.sleep(0.1)
    for leftover in backends:  # only our own server's processes, by id
        if Path(f"/proc/{leftover}").exists():
            os.kill(leftover, signal.SIGKILL)
    return pid


def restart(cluster: Cluster) -> None:
    for _ in range(20):
        try:
            cluster.start()
            return
        except ClusterError:
            time.sleep(0.5)
    cluster.start()


# ---------------------------------------------------------------- checks
def run_phase(port: int, tokens: list[str], ids: list[int], *, updates: int, residents: int,
              creates: int, deadline: float, tag: str,
              during: Any = None) -> tuple[Tally, float]:
    tallies = [Tally() for _ in range(len(tokens) + residents)]
    threads = [threading.Thread(target=crew_worker, args=(i, t, port, ids, updates, deadline,
                                                          tallies[i], tag))
               for i, t in enumerate(tokens)]
    threads += [threading.Thread(target=resident_worker,
                                 args=(j, port, creates, deadline, tallies[len(tokens) + j], tag))
                for j in range(residents)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    if during is not None:
        during()
    for thread in threads:
        thread.join(max(1.0, deadline - time.monotonic() + 5))
    seconds = time.monotonic() - started
    merged = Tally()
    for tally in tallies:
        merged.acked += tally.acked
        merged.unsure += tally.unsure
        merged.creates.update(tally.creates)
        merged.unsure_keys += tally.unsure_keys
        merged.conflicts += tally.conflicts
        merged.errors += tally.errors
        merged.successes += tally.successes
        merged.gave_up += tally.gave_up
    return merged, seconds


def account(dsn: str, acked: list[str], unsure: list[str], creates: dict[str, int],
            unsure_keys: list[str]) -> dict[str, Any]:
    """Compare what clients were told with what the database holds."""
    with psycopg.connect(dsn) as conn:
        notes = Counter(row[0].removeprefix("load ") for row in conn.execute(
            "SELECT note FROM request_status_history WHERE note LIKE 'load %'"))
        stored = dict(conn.execute(
            "SELECT idempotency_key, id FROM service_request WHERE idempotency_key LIKE 'load-%'"
        ).fetchall())
        versions = conn.execute(
            "SELECT coalesce(sum(version - 1), 0) FROM service_request").fetchone()[0]
        events = dict(conn.execute("SELECT kind, count(*) FROM request_event GROUP BY kind"))
        requests = conn.execute("SELECT count(*) FROM service_request").fetchone()[0]
    missing = [a for a in acked if notes.get(a, 0) != 1]
    known = set(acked) | set(unsure)
    phantom = [a for a in notes if a not in known]
    landed_unsure = sum(1 for a in unsure if notes.get(a))
    lost_creates = [k for k, i in creates.items() if stored.get(k) != i]
    extra_creates = [k for k in stored if k not in creates and k not in unsure_keys]
    return {"history_rows": sum(notes.values()), "acked": len(acked), "missing": len(missing),
            "phantom": len(phantom), "landed_unsure": landed_unsure,
            "repeated": sum(1 for n in notes.values() if n > 1),
            "creates_acked": len(creates), "creates_stored": len(stored),
            "creates_lost": len(lost_creates), "creates_extra": len(extra_creates),
            "version_sum": versions, "events": events, "requests": requests}


# ---------------------------------------------------------------- main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crews", type=int, default=20)
    parser.add_argument("--updates", type=int, default=200, help="acknowledged updates per crew")
    parser.add_argument("--residents", type=int, default=4)
    parser.add_argument("--creates", type=int, default=50, help="creates per resident")
    parser.add_argument("--pool", type=int, default=60, help="requests the crews work on")
    parser.add_argument("--outage-updates", type=int, default=60,
                        help="updates per crew in the outage phase")
    parser.add_argument("--kill-after", type=float, default=2.0,
                        help="seconds into the outage phase before kill -9")
    parser.add_argument("--down", type=float, default=3.0, help="seconds PostgreSQL stays down")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=12)
    parser.add_argument("--deadline", type=float, default=900.0, help="whole run, seconds")
    args = parser.parse_args()
    run_deadline = time.monotonic() + args.deadline

    work = Path(tempfile.mkdtemp(prefix="geo311_load_"))
    cluster = Cluster(root=work / "pg", port=free_port())
    gunicorn: subprocess.Popen[bytes] | None = None
    try:
        t0 = time.monotonic()
        cluster.start()
        cluster.create_database("geo311")
        url = cluster.url("geo311")
        user = url.split("://", 1)[1].split("@", 1)[0]
        dsn = f"host={cluster.socket_dir} port={cluster.port} user={user} dbname=geo311"
        port = free_port()
        env = {**os.environ, "GEO311_DATABASE_URL": url, "GEO311_RATE_LIMIT": "0",
               "GEO311_SECRET_KEY": "load-" + os.urandom(16).hex(),
               "GEO311_DATA_DIR": str(FIXTURES),
               "GEO311_BOUNDARIES_DIR": str(FIXTURES / "boundaries")}
        env.pop("DATABASE_URL", None)
        cli(env, "db", "init")
        cli(env, "load", "boundaries", "--commit")
        cli(env, "catalogue", "sync", "--dir", str(ROOT / "data" / "catalogue"))
        log = open(work / "gunicorn.log", "wb")
        gunicorn = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "--worker-class", "gthread", "--workers",
             str(args.workers), "--threads", str(args.threads), "--bind", f"127.0.0.1:{port}",
             "--timeout", "60", "geo311:create_app()"],
            env=env, cwd=str(ROOT), stdout=log, stderr=subprocess.STDOUT)
        wait_ready(port)
        workers_before = sorted(children_of(gunicorn.pid))
        print(f"setup: cluster, fixture boundaries, catalogue, gunicorn {args.workers}x"
              f"{args.threads} gthread on 127.0.0.1:{port} in {time.monotonic() - t0:.1f}s")

        seed = Tally()
        resident_worker(999, port, args.pool, run_deadline, seed, "seed")
        ids = sorted(seed.creates.values())
        if len(ids) != args.pool:
            raise SystemExit("could not create the request pool")
        department = Client(port).call("GET", f"/api/v1/requests/{ids[0]}")[2]["properties"][
            "department"]

        def add_crew(i: int) -> str:
            out = cli(env, "users", "add", f"crew{i:02d}", "--role", "crew",
                      "--department", department)
            return out.strip().splitlines()[-1]

        with ThreadPoolExecutor(max_workers=8) as pool:
            tokens = list(pool.map(add_crew, range(args.crews)))
        print(f"pool: {len(ids)} requests of department {department}; {len(tokens)} crew "
              "tokens from `geo311 users add`")

        follower = Follower(port)
        follower.start()

        # ---- phase 1: steady load
        phase1, seconds = run_phase(port, tokens, ids, updates=args.updates,
                                    residents=args.residents, creates=args.creates,
                                    deadline=min(run_deadline, time.monotonic() + 600),
                                    tag="a")
        check1 = account(dsn, [a for a, _ in phase1.acked], phase1.unsure,
                         {**seed.creates, **phase1.creates}, phase1.unsure_keys)
        print(f"\nphase 1: {args.crews} crews x {args.updates} updates + {args.residents} "
              f"residents x {args.creates} creates in {seconds:.1f}s")
        print(f"  acknowledged updates {len(phase1.acked)} ({len(phase1.acked) / seconds:.0f}/s),"
              f" 409 conflicts retried {phase1.conflicts}, gave up {phase1.gave_up}, "
              f"errors {len(phase1.errors)}")
        print(f"  history rows {check1['history_rows']} = acknowledged {check1['acked']}: "
              f"{'EXACT' if check1['history_rows'] == check1['acked'] else 'MISMATCH'}; "
              f"missing {check1['missing']}, repeated {check1['repeated']}, "
              f"phantom {check1['phantom']}")
        print(f"  sum of (version - 1) over requests {check1['version_sum']} "
              f"(= history rows: {check1['version_sum'] == check1['history_rows']})")
        print(f"  creates acknowledged {check1['creates_acked']}, "
              f"stored {check1['creates_stored']}, lost {check1['creates_lost']}, "
              f"duplicated/extra {check1['creates_extra']}")
        print(f"  outbox events {check1['events']} for {check1['requests']} requests")

        # ---- phase 2: the same load with kill -9 of the postmaster in the middle
        marks: dict[str, float] = {}

        def outage() -> None:
            time.sleep(args.kill_after)
            marks["kill"] = time.monotonic()
            marks["pid"] = kill_postmaster(cluster)
            time.sleep(args.down)
            marks["restart"] = time.monotonic()
            restart(cluster)
            marks["up"] = time.monotonic()

        phase2, seconds2 = run_phase(port, tokens, ids, updates=args.outage_updates,
                                     residents=args.residents, creates=args.creates // 2,
                                     deadline=min(run_deadline, time.monotonic() + 300),
                                     tag="b", during=outage)
        acked = [a for a, _ in phase1.acked + phase2.acked]
        check2 = account(dsn, acked, phase1.unsure + phase2.unsure,
                         {**seed.creates, **phase1.creates, **phase2.creates},
                         phase1.unsure_keys + phase2.unsure_keys)
        exact2 = check2["history_rows"] == check2["acked"] + check2["landed_unsure"]
        after_up = [t for t in phase2.successes if t > marks["up"]]
        first_ok = min(after_up) if after_up else float("nan")
        window = [t for t in phase2.errors if marks["kill"] <= t <= first_ok]
        workers_after = sorted(children_of(gunicorn.pid))
        print(f"\nphase 2: {args.crews} crews x {args.outage_updates} updates + residents, "
              f"kill -9 of postmaster pid {marks['pid']} at +{args.kill_after:.0f}s, down "
              f"{args.down:.0f}s, restarted with Cluster.start() "
              f"({marks['up'] - marks['restart']:.1f}s incl. crash recovery); {seconds2:.1f}s")
        print(f"  acknowledged updates {len(phase2.acked)}, 409s {phase2.conflicts}, errors "
              f"{len(phase2.errors)} (in the outage window {len(window)}), "
              f"creates {len(phase2.creates)}")
        print(f"  recovery: first acknowledged write {first_ok - marks['up']:.2f}s after the "
              f"database was back ({first_ok - marks['kill']:.2f}s after the kill); gunicorn "
              f"master {gunicorn.pid} never restarted, workers "
              f"{'unchanged' if workers_before == workers_after else 'CHANGED'} "
              f"{workers_after}")
        print(f"  history rows {check2['history_rows']} = acknowledged {check2['acked']} + "
              f"errored attempts that had committed {check2['landed_unsure']} "
              f"(of {len(phase1.unsure) + len(phase2.unsure)} errored): "
              f"{'EXACT' if exact2 else 'MISMATCH'}")
        print(f"  acknowledged updates missing {check2['missing']}, repeated "
              f"{check2['repeated']}, phantom {check2['phantom']}; creates acknowledged "
              f"{check2['creates_acked']}, stored {check2['creates_stored']}, lost "
              f"{check2['creates_lost']}, extra {check2['creates_extra']}")

        # ---- the change feed seen by one follower across both phases and the outage
        with psycopg.connect(dsn) as conn:
            event_ids = [r[0] for r in conn.execute("SELECT id FROM request_event ORDER BY id")]
        wait_until = time.monotonic() + 30
        while time.monotonic() < wait_until and (not follower.ids
                                                 or follower.ids[-1] < event_ids[-1]):
            time.sleep(0.2)
        follower.stop.set()
        seen = list(follower.ids)
        print(f"\nfeed: follower received {len(seen)} events over {follower.reconnects} "
              f"reconnects (Last-Event-ID); outbox holds {len(event_ids)}: "
              f"{'same ids, same order, no gap, no repeat' if seen == event_ids else 'DIFFERENT'}")
        ok = (check1["history_rows"] == check1["acked"] and check1["missing"] == 0
              and check2["missing"] == 0 and check2["phantom"] == 0
              and check2["creates_lost"] == 0 and check2["creates_extra"] == 0
              and check2["history_rows"] == check2["acked"] + check2["landed_unsure"]
              and seen == event_ids and bool(after_up))
        print(f"\nresult: {'OK' if ok else 'FAILED'} in {time.monotonic() - t0:.0f}s")
        return 0 if ok else 1
    finally:
        if gunicorn is not None:
            gunicorn.send_signal(signal.SIGTERM)
            try:
                gunicorn.wait(timeout=20)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
        try:
            cluster.stop("immediate")
        except ClusterError:
            pass
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
