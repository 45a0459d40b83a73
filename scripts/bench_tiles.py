#!/usr/bin/env python3
"""Benchmark request vector tiles at z10-z15: geo311 vs GeoJSON of the same bbox vs tipg (by hand).

Everything runs in a throwaway PostgreSQL cluster in a temp dir (fsync off, listening on a free
127.0.0.1 port besides its socket, so tipg can reach it), removed at the end, even on Ctrl-C:

1. schema (``geo311.schema.init_schema``), the City boundary, the 2021 council districts and the
   certified neighborhood councils (``boundaries/*.toml``), and the service catalogue;
2. a synthetic year of ``--requests`` requests (default 2,500,000) spread like the MyLA311 samples
   in ``data/la/myla311``: each row copies a random sample record's position (the City's own
   geocode, plus ~30 m gaussian jitter), type, department and address; ``requested_at`` uniform
   over the last year; ~10% open, the rest closed. Written with psycopg COPY (indexes dropped
   during the COPY and rebuilt after, from their own definitions; triggers off, so the request
   cell summary of the clustered tiles is rebuilt after), then VACUUM ANALYZE;
3. gunicorn serving ``geo311:create_app()`` (gthread workers) and tipg (uvicorn, installed into
   its own venv under /tmp, restricted to ``public.service_request``), each on a free loopback
   port; a sampler records each server's peak RSS (master + workers, /proc VmRSS);
4. per zoom, tiles picked by taking random request points and their tile (so dense places are
   picked more often, as on a real map), then for each tile, round-robin (who goes first
   rotates from tile to tile, so no method always meets the cold cache), one timed GET of:
   ``/tiles/requests/{z}/{x}/{y}.mvt`` (no If-None-Match; up to z12,
   ``geo311.tiles.CLUSTER_MAX_ZOOM``, the tile holds grid clusters counting every request in
   it, summed from the request cell summary; from z13 the newest ``REQUESTS_PER_TILE`` = 5,000
   points); the GeoJSON of the same bbox,
   ``/api/v1/requests?bbox=...&limit=5000`` (one page of the newest 5,000: the points a z13+
   tile carries, and what a client clustering in the browser would fetch); and tipg's
   ``/collections/public.service_request/tiles/WebMercatorQuad/{z}/{x}/{y}`` (also capped at
   5,000 features, with the same five public properties). Each zoom stops after ``--tiles``
   tiles or ``--zoom-seconds``, whichever comes first. Then the full export of every point in
   the bbox, ``/api/v1/requests.geojson?bbox=...`` (streamed, not paged), on the first
   ``--export-tiles`` of those tiles within ``--export-seconds`` (at z10 one export is
   hundreds of MB), compared with the tile p50 of the same tiles.

Targets (issue 8): tile p95 no worse than tipg's at every zoom; at least 5x faster than the
GeoJSON of the same bbox at z10-z12.

Usage: ``.venv/bin/python scripts/bench_tiles.py [--requests 2500000] [--tiles 200]
[--zoom-seconds 45] [--export-tiles 5] [--export-seconds 45] [--workers 3]``. About 15 minutes
at the default size on 2 cores; a quick run: ``--requests 200000 --zoom-seconds 20``.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import pwd
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DB = "geo311_bench_tiles"
TIPG_VENV = Path(tempfile.gettempdir()) / "tipg-venv"
BOUNDARIES = ["city", "cd_2021", "nc_certified_2022"]
ZOOMS = range(10, 16)
PER_TILE = 5000  # geo311.tiles.REQUESTS_PER_TILE
TIPG_PROPERTIES = "service_code,status,department,address,requested_at"
JITTER_M = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2_500_000)
    parser.add_argument("--tiles", type=int, default=200, help="most tiles per zoom")
    parser.add_argument("--zoom-seconds", type=float, default=45.0,
                        help="time budget per zoom (all three methods)")
    parser.add_argument("--export-tiles", type=int, default=5,
                        help="most tiles per zoom for the full GeoJSON export (every point)")
    parser.add_argument("--export-seconds", type=float, default=45.0,
                        help="time budget per zoom for the full export")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--seed", type=int, default=311)
    args = parser.parse_args()

    from geo311.cluster import Cluster, ensure_postgis_installed

    ensure_postgis_installed()
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="geo311_bench_tiles_"))
    cluster = Cluster(workdir / "pg", port=free_port(), fast=True)
    servers: list[subprocess.Popen] = []
    # Ctrl-C and SIGTERM both unwind through the finally below.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        cluster.init()
        with open(cluster.datadir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("listen_addresses = '127.0.0.1'\n")  # loopback only, for tipg
        cluster.start()
        cluster.create_database(DB)
        user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        tcp_url = f"postgresql://{user}@127.0.0.1:{cluster.port}/{DB}"
        lons, lats = _build(cluster.url(DB), args.requests, args.seed)
        print(f"database ready in {time.monotonic() - started:.0f} s", flush=True)

        env = {**os.environ, "DATABASE_URL": tcp_url, "GEO311_DATABASE_URL": tcp_url,
               "GEO311_PAGE_LIMIT": str(PER_TILE)}
        ours_port = free_port()
        ours = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{ours_port}", "--workers",
             str(args.workers), "--worker-class", "gthread", "--threads", "4",
             "--log-level", "warning", "geo311:create_app()"], cwd=ROOT, env=env)
        servers.append(ours)
        tipg = _start_tipg(tcp_url)
        if tipg is not None:
            servers.append(tipg[0])
        _wait(ours_port, "/api/v1/ping")
        peaks = {"geo311 (gunicorn)": PeakRss(ours.pid)}
        if tipg is not None:
            peaks["tipg (uvicorn)"] = PeakRss(tipg[0].pid)
        results = _measure(ours_port, tipg[1] if tipg else None, lons, lats, args)
        for peak in peaks.values():
            peak.stop()
        _report(results, peaks, args, time.monotonic() - started)
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
        try:
            cluster.stop("immediate")
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


# --- data -------------------------------------------------------------------------------------

def _build(url: str, count: int, seed: int):
    """Schema, boundaries, catalogue, ``count`` synthetic requests; returns their lon/lat arrays."""
    from sqlalchemy import create_engine

    from geo311.boundary_loader import load_boundary, read_definitions
    from geo311.catalogue import sync_catalogue
    from geo311.schema import init_schema

    engine = create_engine(url)
    init_schema(engine)
    with engine.begin() as conn:
        for definition in read_definitions(ROOT / "boundaries", BOUNDARIES):
            report = load_boundary(conn, definition, ROOT / "data", commit=True)
            print(f"  boundaries {definition.name}: {report.loaded} areas", flush=True)
        print("  " + sync_catalogue(conn, directory=ROOT / "data" / "catalogue").summary(),
              flush=True)
    with engine.connect() as conn:
        samples = _samples(conn)
    engine.dispose()
    print(f"  {len(samples):,} sample records with a position, type and department", flush=True)
    return _copy_requests(url, samples, count, seed)


def _samples(conn) -> list[tuple[float, float, str, str | None, str | None]]:
    """(lon, lat, service_code, department, address) of every usable MyLA311 sample record."""
    from sqlalchemy import text

    from geo311.catalogue import myla311_name_map, owner_department_map
    from geo311.myla311 import MyLA311Record, iter_records

    names, owners = myla311_name_map(conn), owner_department_map(conn)
    defaults = dict(conn.execute(text("SELECT code, default_department FROM service_type")).all())
    fold = lambda value: " ".join((value or "").split()).casefold()  # noqa: E731
    out = []
    for path in sorted((ROOT / "data" / "la" / "myla311").glob("*")):
        for record in iter_records(path):
            if not isinstance(record, MyLA311Record) or record.lon is None or record.lat is None:
                continue
            code = names.get(fold(record.request_type))
            if code is None:
                continue
            department = owners.get(fold(record.owner)) or owners.get(fold(record.agency)) \
                or defaults.get(code)
            out.append((record.lon, record.lat, code, department, record.address))
    if not out:
        raise SystemExit("no usable MyLA311 sample records in data/la/myla311")
    return out


def _copy_requests(url: str, samples: list, count: int, seed: int):
    import numpy as np
    import psycopg
    from sqlalchemy.engine import make_url
    from tqdm import tqdm

    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(samples), count)
    base_lon = np.array([s[0] for s in samples])[pick]
    base_lat = np.array([s[1] for s in samples])[pick]
    lats = base_lat + rng.normal(0, JITTER_M / 111_320, count)
    lons = base_lon + rng.normal(0, JITTER_M / (111_320 * math.cos(math.radians(34.05))), count)
    now = datetime.now(UTC).replace(microsecond=0)
    year_s = 365 * 86400
    ages = rng.uniform(0, year_s, count)
    is_open = rng.random(count) < 0.10
    close_after = np.minimum(rng.exponential(5 * 86400, count), ages)
    codes = [s[2] for s in samples]
    departments = [s[3] for s in samples]
    addresses = [s[4] for s in samples]

    parsed = make_url(url)
    conninfo = {"host": parsed.query["host"], "port": int(parsed.query["port"]),
                "user": parsed.username, "dbname": parsed.database}
    columns = ("service_code, status, close_reason, pin_lon, pin_lat, pin_source, location, "
               "address, department, areas, locate, attributes, external, channel, "
               "requested_at, updated_at, closed_at")
    with psycopg.connect(**conninfo) as conn:
        indexes = conn.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = 'service_request'::regclass AND NOT x.indisprimary "
            "AND NOT x.indisunique").fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        # Rows only name catalogue codes, so skip per-row FK triggers (superuser, this DB only).
        conn.execute("SET session_replication_role = replica")
        started = time.monotonic()
        with conn.cursor().copy(f"COPY service_request ({columns}) FROM STDIN") as copy, \
                tqdm(total=count, unit="rows", unit_scale=True, desc="COPY requests") as bar:
            for i in range(count):
                j = pick[i]
                requested = now - timedelta(seconds=float(ages[i]))
                closed = (None if is_open[i]
                          else requested + timedelta(seconds=float(close_after[i])))
                lon, lat = float(lons[i]), float(lats[i])
                copy.write_row((
                    codes[j], "open" if is_open[i] else "closed",
                    None if is_open[i] else "resolved", lon, lat, "import",
                    f"SRID=4326;POINT({lon:.7f} {lat:.7f})", addresses[j], departments[j],
                    "[]", "{}", "{}", "{}", "crew", requested, closed or requested, closed))
                if i % 20_000 == 19_999:
                    bar.update(20_000)
            bar.update(count - bar.n)
        seconds = time.monotonic() - started
        print(f"  COPY {count:,} rows in {seconds:.0f} s ({count / seconds:,.0f} rows/s)",
              flush=True)
        started = time.monotonic()
        conn.execute("SET maintenance_work_mem = '1GB'")
        for _, definition in indexes:
            conn.execute(definition)
        conn.commit()
        print(f"  {len(indexes)} indexes rebuilt in {time.monotonic() - started:.0f} s",
              flush=True)
        # The COPY ran with triggers off, so the clustered tiles' cell summary is filled once
        # here, as geo311.tiles.rebuild_request_cells does (an import fills it as it writes).
        started = time.monotonic()
        groups = conn.execute("SELECT request_cells_rebuild()").fetchone()[0]
        conn.commit()
        print(f"  request cell summary: {groups:,} rows in {time.monotonic() - started:.0f} s",
              flush=True)
        started = time.monotonic()
        conn.autocommit = True
        # VACUUM as well as ANALYZE: the steady state of a table that has been live for a while
        # (autovacuum would otherwise start on the fresh rows in the middle of the timings,
        # slowing whichever method it overlaps).
        conn.execute("VACUUM (ANALYZE) service_request")
        conn.execute("VACUUM (ANALYZE) request_cell")
        print(f"  VACUUM ANALYZE in {time.monotonic() - started:.0f} s", flush=True)
    return lons, lats


# --- servers ----------------------------------------------------------------------------------

def _start_tipg(url: str) -> tuple[subprocess.Popen, int] | None:
    """tipg in its own venv; None (after saying why) when it cannot be installed or started."""
    python = TIPG_VENV / "bin" / "python"
    try:
        if not python.exists():
            print(f"installing tipg into {TIPG_VENV} ...", flush=True)
            subprocess.run([sys.executable, "-m", "venv", str(TIPG_VENV)], check=True)
        if subprocess.run([str(python), "-c", "import tipg, uvicorn"],
                          capture_output=True).returncode != 0:
            subprocess.run([str(python), "-m", "pip", "install", "-q", "tipg", "uvicorn"],
                           check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        print(f"tipg could not be installed, so it is not compared: "
              f"{(exc.stderr or str(exc)).strip().splitlines()[-1:]}")
        return None
    port = free_port()
    # Table names are schema-qualified; an empty function list hides PostGIS functions.
    env = {**os.environ, "DATABASE_URL": url, "TIPG_DB_SCHEMAS": '["public"]',
           "TIPG_DB_TABLES": '["public.service_request"]', "TIPG_DB_FUNCTIONS": "[]",
           "TIPG_MAX_FEATURES_PER_TILE": str(PER_TILE), "TIPG_TILE_BUFFER": "64",
           "TIPG_DB_MAX_CONN_SIZE": "10"}
    process = subprocess.Popen(
        [str(python), "-m", "uvicorn", "tipg.main:app", "--host", "127.0.0.1", "--port",
         str(port), "--log-level", "warning"], env=env, cwd=tempfile.gettempdir())
    try:
        _wait(port, "/collections/public.service_request", process=process)
    except RuntimeError as exc:
        process.kill()
        print(f"tipg did not start, so it is not compared: {exc}")
        return None
    return process, port


def _wait(port: int, path: str, timeout_s: float = 90.0, process=None) -> None:
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"exited with code {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                return
            last = f"HTTP {response.status}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.3)
    raise RuntimeError(f"{path} on port {port} not ready after {timeout_s:.0f} s ({last})")


class PeakRss:
    """Samples the summed VmRSS of a process and its descendants every 0.1 s until stopped."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, sum(_rss_kb(p) for p in _tree(self.pid)))

    @property
    def mb(self) -> float:
        return self.peak / 1024


def _tree(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(parents.get(current, []))
    return out


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# --- measuring --------------------------------------------------------------------------------

def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    rad = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(rad)) / math.pi) / 2.0 * n)
    return x, y


def _tile_bbox(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    n = 1 << z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360.0 - 180.0, lat(y + 1), (x + 1) / n * 360.0 - 180.0, lat(y)


class Client:
    """One keep-alive HTTP connection; ``get`` returns (ms, bytes) and checks for 200."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def get(self, path: str) -> tuple[float, int]:
        try:
            return self._get(path)
        except (OSError, http.client.HTTPException):
            # gunicorn closes a keep-alive connection idle for 2 s (e.g. during a long export):
            # reconnect and time the request again.
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
            return self._get(path)

    def _get(self, path: str) -> tuple[float, int]:
        started = time.perf_counter()
        self.conn.request("GET", path)
        response = self.conn.getresponse()
        size, body = 0, b""
        while chunk := response.read(1 << 20):  # big exports are read, never kept
            size += len(chunk)
            body = body or chunk[:300]
        ms = (time.perf_counter() - started) * 1000
        if response.status not in (200, 204):
            raise RuntimeError(f"GET {path} -> HTTP {response.status}: {body[:300]!r}")
        return ms, size


def _measure(ours_port: int, tipg_port: int | None, lons, lats, args) -> dict:
    rng = random.Random(args.seed)
    methods = {
        "tile": (Client(ours_port), lambda z, x, y: f"/tiles/requests/{z}/{x}/{y}.mvt"),
        "geojson": (Client(ours_port), lambda z, x, y: "/api/v1/requests?bbox="
                    + ",".join(f"{v:.7f}" for v in _tile_bbox(z, x, y)) + f"&limit={PER_TILE}"),
    }
    if tipg_port is not None:
        methods["tipg"] = (Client(tipg_port), lambda z, x, y: (
            f"/collections/public.service_request/tiles/WebMercatorQuad/{z}/{x}/{y}"
            f"?properties={TIPG_PROPERTIES}"))
    exporter = Client(ours_port)
    # Warm-up: every method on a few tiles (pools, plans, tipg's catalogue).
    for _ in range(3):
        i = rng.randrange(len(lons))
        for client, path in methods.values():
            client.get(path(12, *_tile_of(float(lons[i]), float(lats[i]), 12)))
    results: dict[int, dict] = {}
    for z in ZOOMS:
        times: dict[str, list[float]] = {name: [] for name in methods}
        sizes: dict[str, list[int]] = {name: [] for name in methods}
        deadline = time.monotonic() + args.zoom_seconds
        picked: list[tuple[int, int]] = []
        while len(times["tile"]) < args.tiles and time.monotonic() < deadline:
            i = rng.randrange(len(lons))
            x, y = _tile_of(float(lons[i]), float(lats[i]), z)
            picked.append((x, y))
            # Rotate who goes first: the first GET of a tile reads cold pages that the others
            # then find in the cache.
            order = list(methods.items())
            shift = len(picked) % len(order)
            for name, (client, path) in order[shift:] + order[:shift]:
                ms, size = client.get(path(z, x, y))
                times[name].append(ms)
                sizes[name].append(size)
        # Every point in the bbox (the streamed export): far slower at low zoom, so measured
        # on the first few tiles of the same sample only.
        export, export_kb = [], []
        deadline = time.monotonic() + args.export_seconds
        for x, y in picked[:args.export_tiles]:
            if export and time.monotonic() > deadline:
                break
            ms, size = exporter.get("/api/v1/requests.geojson?bbox="
                                    + ",".join(f"{v:.7f}" for v in _tile_bbox(z, x, y)))
            export.append(ms)
            export_kb.append(size / 1024)
        results[z] = {name: (_pct(v, 50), _pct(v, 95), statistics.mean(sizes[name]) / 1024)
                      for name, v in times.items()}
        # The same tiles' own timings, for a like-for-like ratio to the export.
        results[z]["export"] = (_pct(export, 50), _pct(export, 95), statistics.mean(export_kb))
        results[z]["export_n"] = len(export)
        results[z]["tile_same"] = _pct(times["tile"][:len(export)], 50)
        results[z]["n"] = len(times["tile"])
        row = results[z]
        print(f"  z{z}: {row['n']} tiles; tile p95 {row['tile'][1]:.1f} ms, GeoJSON p95 "
              f"{row['geojson'][1]:.1f} ms" + (f", tipg p95 {row['tipg'][1]:.1f} ms"
                                             if "tipg" in row else "")
              + f"; full export p50 {row['export'][0]:.0f} ms ({row['export_n']} tiles)",
              flush=True)
    return results


def _pct(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)]


def _report(results: dict, peaks: dict, args, seconds: float) -> None:
    from geo311.tiles import CLUSTER_MAX_ZOOM

    has_tipg = all("tipg" in row for row in results.values())
    print(f"\nms per tile, {args.requests:,} requests, {args.workers} gthread workers, one client "
          f"(no If-None-Match). Ours: z{min(ZOOMS)}-z{CLUSTER_MAX_ZOOM} tiles hold server-side "
          "grid clusters (count of every matching request), deeper tiles the newest 5,000 points. "
          "GeoJSON page = /api/v1/requests?bbox=<tile>&limit=5000, the newest 5,000 points "
          "(one page, next not followed); full export = "
          "/api/v1/requests.geojson?bbox=<tile>, every point, on the first tiles only, its ratio "
          "against the tile p50 of those same tiles.")
    head = (f"{'zoom':>4} {'tiles':>5} | {'ours p50':>8} {'p95':>7} {'KB':>5} | "
            f"{'page p50':>8} {'p95':>7} {'KB':>5} {'x p95':>6} | "
            f"{'export p50':>10} {'KB':>7} {'n':>2} {'x p50':>6}")
    if has_tipg:
        head += f" | {'tipg p50':>8} {'p95':>7} {'KB':>5} {'tipg/ours p95':>13}"
    print(head + "  targets")
    for z, row in results.items():
        t50, t95, tkb = row["tile"]
        kind = "clusters" if z <= CLUSTER_MAX_ZOOM else "points"
        g50, g95, gkb = row["geojson"]
        e50, _, ekb = row["export"]
        same = row["tile_same"]
        line = (f"{z:>4} {row['n']:>5} | {t50:8.1f} {t95:7.1f} {tkb:5.0f} | "
                f"{g50:8.1f} {g95:7.1f} {gkb:5.0f} {g95 / t95:5.1f}x | "
                f"{e50:10.0f} {ekb:7.0f} {row['export_n']:>2} {e50 / same:5.1f}x")
        checks = []
        if z <= 12:
            checks.append("5x page " + ("met" if g95 / t95 >= 5 else "MISSED")
                          + ", 5x export " + ("met" if e50 / same >= 5 else "MISSED"))
        if has_tipg:
            p50, p95, kb = row["tipg"]
            line += f" | {p50:8.1f} {p95:7.1f} {kb:5.0f} {p95 / t95:12.2f}x"
            checks.append("<= tipg " + ("met" if t95 <= p95 else "MISSED"))
        print(line + f"  ({kind}) " + "; ".join(checks))
    if not has_tipg:
        print("tipg: not compared (see the message above)")
    for name, peak in peaks.items():
        print(f"peak RSS {name}: {peak.mb:,.0f} MB (server and its workers; PostgreSQL not "
              "counted)")
    print(f"whole run {seconds / 60:.1f} min")

if __name__ == "__main__":
    main()
