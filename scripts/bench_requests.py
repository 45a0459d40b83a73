"""Benchmark GeoJSON for a bbox holding 10,000 requests: geo311 vs naive Python vs pygeoapi.

Makes a scratch database (``geo311_bench_requests``, dropped at the end unless ``--keep``) in the
configured PostgreSQL server, syncs the catalogue with the CLI and inserts ``--rows`` synthetic
requests, ``--inside`` of them in the benchmark bbox. Then, in the same run, it times
(median of ``--repeat`` rounds after one warm-up; each round runs every method once, so all
see the same load when the machine is shared):

1. ``GET /api/v1/requests?bbox=...&limit=10000`` through the Flask test client (features built by
   PostgreSQL: ST_AsGeoJSON + json_build_object, joined as text);
2. ``GET /api/v1/requests.geojson?bbox=...`` (the streamed export, same features);
3. a naive per-row serialisation: the same rows fetched as columns, one dict per row, json.dumps;
4. pygeoapi's PostgreSQL provider (``pygeoapi.provider.postgresql.PostgreSQLProvider.query``
   with the same bbox, limit and public properties, then json.dumps), installed by this script
   into its own virtualenv under /tmp (never the project's). If it cannot be installed the
   script says why and reports the others.

Usage: ``.venv/bin/python scripts/bench_requests.py [--rows 30000] [--inside 10000]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from scratch_database import scratch_database

BENCH_DB = "geo311_bench_requests"
PYGEOAPI_VENV = Path(tempfile.gettempdir()) / "geo311_pygeoapi_venv"
BBOX = (-118.30, 34.00, -118.20, 34.10)
PUBLIC = ["external_id", "service_code", "status", "close_reason", "requested_at", "updated_at",
          "closed_at", "address", "zip", "department", "agency_responsible", "channel",
          "description", "media_url", "attributes", "areas", "duplicate_of", "version"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--inside", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    with scratch_database(BENCH_DB, keep=args.keep) as scratch:
        scratch.run_cli(["db", "init"], ["catalogue", "sync"])
        _fill(scratch.url, args.rows, args.inside)
        pygeoapi = _pygeoapi(scratch.server.set(database=BENCH_DB), args.inside)
        results = _measure(scratch.url, args.repeat, args.inside,
                           pygeoapi[0] if pygeoapi else None)
        if pygeoapi is not None:
            pygeoapi[1].kill()
    width = max(map(len, results))
    print(f"\nGeoJSON for a bbox with {args.inside:,} requests (of {args.rows:,}); "
          f"median of {args.repeat}")
    for name, (ms, size) in results.items():
        print(f"{name:<{width}}  {ms:8.1f} ms  {size / 1e6:6.1f} MB")
    ours = results["geo311 GET /api/v1/requests (SQL-built features)"][0]
    naive = results["naive per-row Python serialisation"][0]
    print(f"\ngeo311 is {naive / ours:.1f}x faster than naive per-row Python")
    name = "pygeoapi PostgreSQLProvider.query + json.dumps"
    if name in results:
        print(f"geo311 is {results[name][0] / ours:.1f}x faster than pygeoapi (target >= 5x)")


def _fill(url: str, rows: int, inside: int) -> None:
    """Synthetic requests: ``inside`` of them in BBOX, the rest east of it."""
    from sqlalchemy import create_engine, text

    west, south, east, north = BBOX
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO service_request (service_code, status, close_reason, pin_lon, pin_lat,
                pin_source, location, address, zip, department, agency_responsible, areas,
                attributes, description, channel, requested_at, updated_at, closed_at, version,
                contact)
            SELECT codes[1 + n % array_length(codes, 1)],
                   CASE WHEN n % 3 = 0 THEN 'closed' ELSE 'open' END,
                   CASE WHEN n % 3 = 0 THEN 'resolved' END,
                   lon, lat, 'import', ST_SetSRID(ST_MakePoint(lon, lat), 4326),
                   (100 + n % 9000) || ' W TEST ST', '900' || (10 + n % 80), 'LASAN',
                   'LA Sanitation and Environment',
                   jsonb_build_array(
                       jsonb_build_object('type', 'CD', 'code', (1 + n % 15)::text,
                                          'name', 'Council District ' || (1 + n % 15),
                                          'vintage', '2021'),
                       jsonb_build_object('type', 'NC', 'code', (n % 99)::text,
                                          'name', 'Neighborhood Council ' || (n % 99),
                                          'vintage', '2022')),
                   jsonb_build_object('items', jsonb_build_array('sofa'), 'item_count', 2),
                   'synthetic request ' || n, 'import',
                   now() - make_interval(mins => n), now() - make_interval(mins => n),
                   CASE WHEN n % 3 = 0 THEN now() END, 1,
                   jsonb_build_object('email', 'bench' || n || '@example.org')
            FROM (SELECT n, ARRAY(SELECT code FROM service_type ORDER BY code) AS codes,
                         CASE WHEN n < :inside THEN :west + random() * (:east - :west)
                              ELSE :east + 0.01 + random() * 0.1 END AS lon,
                         :south + random() * (:north - :south) AS lat
                  FROM generate_series(0, :rows - 1) AS n) AS g
        """), {"rows": rows, "inside": inside, "west": west, "east": east, "south": south,
               "north": north})
        conn.execute(text("ANALYZE service_request"))
    engine.dispose()


def _measure(url: str, repeat: int, inside: int,
             pygeoapi: Any = None) -> dict[str, tuple[float, int]]:
    from sqlalchemy import create_engine, text

    from geo311 import create_app

    app = create_app({"DATABASE_URL": url, "PAGE_LIMIT": inside})
    client = app.test_client()
    bbox = ",".join(map(str, BBOX))
    results = {}

    def ours() -> bytes:
        response = client.get(f"/api/v1/requests?bbox={bbox}&limit={inside}")
        assert response.status_code == 200, response.data[:300]
        return response.data

    for check in (ours(), client.get(f"/api/v1/requests.geojson?bbox={bbox}").data):
        assert len(json.loads(check)["features"]) == inside  # checked once, outside the timing

    def export() -> bytes:
        return client.get(f"/api/v1/requests.geojson?bbox={bbox}").data

    engine = create_engine(url)

    def naive() -> bytes:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT r.id, ST_X(r.location) AS lon, ST_Y(r.location) AS lat, t.name_en, "
                + ", ".join(f"r.{c}" for c in PUBLIC) +
                " FROM service_request r JOIN service_type t ON t.code = r.service_code "
                "WHERE r.location && ST_MakeEnvelope(:w, :s, :e, :n, 4326) "
                "ORDER BY r.requested_at DESC, r.id DESC LIMIT :limit"),
                {"w": BBOX[0], "s": BBOX[1], "e": BBOX[2], "n": BBOX[3], "limit": inside})
            features = []
            for row in rows:
                props = {c: getattr(row, c) for c in PUBLIC}
                props["service_name"] = row.name_en
                for key in ("requested_at", "updated_at", "closed_at"):
                    props[key] = props[key].isoformat() if props[key] else None
                features.append({"type": "Feature", "id": row.id, "properties": props,
                                 "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]}})
        return json.dumps({"type": "FeatureCollection", "features": features}).encode()

    methods = {"geo311 GET /api/v1/requests (SQL-built features)": ours,
               "geo311 GET /api/v1/requests.geojson (streamed export)": export,
               "naive per-row Python serialisation": naive}
    sizes = {name: len(work()) for name, work in methods.items()}  # warm-up
    times: dict[str, list[float]] = {name: [] for name in methods}
    if pygeoapi is not None:
        times["pygeoapi PostgreSQLProvider.query + json.dumps"] = []
    # Round-robin, so every method sees the same machine load (the box may be shared).
    for _ in range(repeat):
        for name, work in methods.items():
            started = time.perf_counter()
            work()
            times[name].append((time.perf_counter() - started) * 1000)
        if pygeoapi is not None:
            ms, size = pygeoapi()
            times["pygeoapi PostgreSQLProvider.query + json.dumps"].append(ms)
            sizes["pygeoapi PostgreSQLProvider.query + json.dumps"] = size
    for name, values in times.items():
        results[name] = (statistics.median(values), sizes[name])
    engine.dispose()
    return results


_PYGEOAPI_RUNNER = r'''
import json, sys, time
try:  # pygeoapi >= 0.20 keeps it in provider.sql
    from pygeoapi.provider.sql import PostgreSQLProvider
except ImportError:
    from pygeoapi.provider.postgresql import PostgreSQLProvider
cfg = json.loads(sys.argv[1])
provider = PostgreSQLProvider({
    "name": "PostgreSQL", "type": "feature", "data": cfg["data"], "id_field": "id",
    "table": "service_request", "geom_field": "location", "properties": cfg["properties"],
})
for _line in sys.stdin:  # one timed query per line received
    t = time.perf_counter()
    result = provider.query(bbox=cfg["bbox"], limit=cfg["limit"])
    body = json.dumps(result, default=str).encode()
    ms = (time.perf_counter() - t) * 1000
    assert len(result["features"]) == cfg["limit"], len(result["features"])
    print(json.dumps({"ms": ms, "size": len(body)}), flush=True)
'''


def _pygeoapi(url, inside: int) -> Any:
    python = PYGEOAPI_VENV / "bin" / "python"
    try:
        if not python.exists():
            print(f"installing pygeoapi into {PYGEOAPI_VENV} ...", flush=True)
            subprocess.run([sys.executable, "-m", "venv", str(PYGEOAPI_VENV)], check=True)
        probe = subprocess.run([str(python), "-c", "import pygeoapi, psycopg2, geoalchemy2"],
                               capture_output=True)
        if probe.returncode != 0:
            subprocess.run([str(python), "-m", "pip", "install", "-q", "pygeoapi",
                            "psycopg2-binary", "geoalchemy2", "sqlalchemy", "pygeofilter"],
                           check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        print(f"pygeoapi could not be installed, so it is not compared: "
              f"{(exc.stderr or str(exc)).strip().splitlines()[-1:]}")
        return None
    query = dict(url.query)
    config = {
        "data": {"host": query.get("host", url.host or "localhost"),
                 "port": int(query.get("port", url.port or 5432)), "dbname": url.database,
                 "user": url.username or "postgres", "password": url.password or "",
                 "search_path": ["public"]},
        "properties": PUBLIC, "bbox": list(BBOX), "limit": inside,
    }
    process = subprocess.Popen([str(python), "-c", _PYGEOAPI_RUNNER, json.dumps(config)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def one() -> tuple[float, int]:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write("go\n")
        process.stdin.flush()
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the pygeoapi runner stopped (see its error above)")
        answer = json.loads(line)
        return answer["ms"], answer["size"]

    try:
        one()  # warm-up (and a check that it works)
    except (RuntimeError, ValueError) as exc:
        process.kill()
        print(f"pygeoapi run failed, so it is not compared: {exc}")
        return None
    return one, process

if __name__ == "__main__":
    main()
