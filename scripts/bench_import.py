"""Benchmark `geo311 load requests` vs plain COPY and geopandas `to_postgis`: same rows, same run.

Makes a scratch database in the configured PostgreSQL server (``geo311_bench``; dropped at the
end unless ``--keep``), loads the boundaries and the catalogue with the CLI, writes a big MyLA311
file by repeating a shipped sample with new SRNumbers, then times on that file:

1. plain COPY: the file's bytes streamed into a table of text columns (``COPY ... FROM STDIN
   (FORMAT csv)``: PostgreSQL parses, nothing else happens);
2. read + COPY: the same rows read with ``geo311.myla311`` and COPYed, no districts, no upsert
   (what the Python reader alone costs);
3. geopandas: ``pandas.read_csv`` + ``points_from_xy`` + ``GeoDataFrame.to_postgis``;
4. ``geo311 load requests FILE --commit`` as a subprocess (reader, COPY, districts as of each
   record's date, upsert, history), twice the size too, to show its peak memory stays flat.
   Both loads are at least as large as the table they go into, so both take the index-rebuild
   path (``geo311.import_indexes``);
5. an incremental load (a fifth of the size, new SRNumbers) into the table the two loads made,
   with its indexes kept (``--indexes keep``): what a daily or monthly update costs per row.

Each load's CPU is reported too, split between the CLI process and its PostgreSQL backend (read
from ``/proc``, so it needs the server on this machine): on a shared machine the wall-clock rate
moves with the other work, the CPU per row much less.

Usage: ``.venv/bin/python scripts/bench_import.py [--rows 100000] [--keep]``; the server is
``GEO311_DATABASE_URL`` / ``DATABASE_URL`` or the private cluster (``geo311 db up``).
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from scratch_database import scratch_database

ROOT = Path(__file__).resolve().parents[1]
GEO311 = str(ROOT / ".venv" / "bin" / "geo311")
SAMPLE = ROOT / "data" / "la" / "myla311" / "myla311_2020_sample_10k.csv"
BENCH_DB = "geo311_bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the big file")
    parser.add_argument("--sample", type=Path, default=SAMPLE, help="MyLA311 CSV to repeat")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    with scratch_database(BENCH_DB, keep=args.keep) as scratch:
        url, env = scratch.url, scratch.env
        print(f"scratch database {BENCH_DB}: schema, boundaries, catalogue ...", flush=True)
        scratch.run_cli(["db", "init"], ["load", "boundaries", "--commit"], ["catalogue", "sync"])
        with tempfile.TemporaryDirectory() as tmp:
            big = Path(tmp) / f"myla311_{args.rows}.csv"
            double = Path(tmp) / f"myla311_{2 * args.rows}.csv"
            small = Path(tmp) / f"myla311_{args.rows // 5}.csv"
            _repeat(args.sample, big, args.rows)
            _repeat(args.sample, double, 2 * args.rows, offset=50)
            _repeat(args.sample, small, args.rows // 5, offset=5000)
            print(f"file: {args.rows:,} rows ({big.stat().st_size / 1e6:.0f} MB), "
                  f"repeating {args.sample.name} with new SRNumbers\n", flush=True)
            results = {
                "plain COPY (file bytes -> text columns)": _plain_copy(url, big),
                "read with geo311.myla311 + COPY (no districts)": _read_and_copy(url, big),
                "geopandas read_csv + to_postgis": _to_postgis(url, big),
            }
            ours, rss = _geo311(env, big)
            results["geo311 load requests --commit"] = ours
            _, rss_double = _geo311(env, double)
            incremental, _ = _geo311(env, small, "--indexes", "keep")
    width = max(map(len, results))
    print(f"{'method':<{width}}  {'rows/s':>9}")
    for name, rate in results.items():
        print(f"{name:<{width}}  {rate:>9,.0f}")
    plain = results["plain COPY (file bytes -> text columns)"]
    reader = results["read with geo311.myla311 + COPY (no districts)"]
    gpd_rate = results["geopandas read_csv + to_postgis"]
    print(f"\ngeo311 / plain COPY:            {ours / plain:6.1%}   (target >= 50%)")
    print(f"geo311 / read + COPY:           {ours / reader:6.1%}")
    print(f"geo311 / geopandas to_postgis:  {ours / gpd_rate:6.2f}x  (target >= 10x)")
    print(f"incremental load, indexes kept: {incremental:,.0f} rows/s "
          f"({args.rows // 5:,} new rows into {3 * args.rows:,})")
    print(f"peak memory of the load: {rss / 1024:,.0f} MB at {args.rows:,} rows, "
          f"{rss_double / 1024:,.0f} MB at {2 * args.rows:,} rows")


def _connect(url: str):
    import psycopg
    from sqlalchemy.engine import make_url

    return psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(
        hide_password=False))


def _repeat(sample: Path, out: Path, rows: int, offset: int = 0) -> None:
    """Write ``rows`` records by cycling ``sample``; each copy gets new SRNumbers."""
    with sample.open(newline="", encoding="utf-8") as src:
        reader = csv.reader(src)
        header = next(reader)
        body = list(reader)
    key = [c.lower() for c in header].index("srnumber")
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for n in range(rows):
            row = list(body[n % len(body)])
            row[key] = f"{row[key]}-{offset + n // len(body)}"
            writer.writerow(row)


def _plain_copy(url: str, path: Path) -> float:
    with path.open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    columns = ", ".join(f'"{c}" text' for c in header)
    with _connect(url) as conn:
        conn.execute(f"DROP TABLE IF EXISTS bench_copy; CREATE TABLE bench_copy ({columns})")
        started = time.perf_counter()
        with path.open("rb") as handle, conn.cursor().copy(
                "COPY bench_copy FROM STDIN (FORMAT csv, HEADER true)") as copy:
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        seconds = time.perf_counter() - started
        rows = conn.execute("SELECT count(*) FROM bench_copy").fetchone()[0]
        conn.execute("DROP TABLE bench_copy")
        conn.commit()
    return rows / seconds


def _read_and_copy(url: str, path: Path) -> float:
    from geo311.myla311 import MyLA311Record, iter_records

    with _connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_parsed; CREATE TABLE bench_parsed ("
                     "sr text, type text, status text, created timestamptz, updated timestamptz,"
                     " closed timestamptz, owner text, address text, zip text, lon float8, "
                     "lat float8, cd text, nc text)")
        started = time.perf_counter()
        rows = 0
        with conn.cursor().copy("COPY bench_parsed FROM STDIN") as copy:
            for r in iter_records(path):
                if isinstance(r, MyLA311Record):
                    copy.write_row((r.sr_number, r.request_type, r.status, r.created_at,
                                    r.updated_at, r.closed_at, r.owner, r.address, r.zip, r.lon,
                                    r.lat, r.cd, r.nc))
                    rows += 1
        conn.commit()
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE bench_parsed")
        conn.commit()
    return rows / seconds


def _to_postgis(url: str, path: Path) -> float:
    import geopandas
    import pandas
    from sqlalchemy import create_engine

    engine = create_engine(url)
    started = time.perf_counter()
    frame = pandas.read_csv(path, dtype=str, keep_default_na=False)
    lon = pandas.to_numeric(frame["longitude"], errors="coerce")
    lat = pandas.to_numeric(frame["latitude"], errors="coerce")
    gdf = geopandas.GeoDataFrame(frame, geometry=geopandas.points_from_xy(lon, lat), crs=4326)
    gdf.to_postgis("bench_gpd", engine, if_exists="replace")
    seconds = time.perf_counter() - started
    engine.dispose()
    return len(frame) / seconds


def _geo311(env: dict[str, str], path: Path, *options: str) -> tuple[float, int]:
    """Run the CLI; returns (rows/s as it reports, peak RSS in KiB of that process).

    The peak is the process's own high-water mark (``VmHWM``), sampled while it runs: the
    ``ru_maxrss`` of a child counts the memory of this script at fork time (geopandas and the
    whole file read by the to_postgis baseline), whatever the load itself used.
    """
    backends_before = _backend_cpu()
    process = subprocess.Popen([GEO311, "load", "requests", str(path), "--commit", *options],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    peak = [0]
    backends: dict[int, float] = {}
    done = threading.Event()
    sampler = threading.Thread(target=_sample_peak_rss, args=(process, peak, backends, done),
                               daemon=True)
    sampler.start()
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)  # its own CPU, not this script's
    process.returncode = status = os.waitstatus_to_exitcode(status)
    done.set()
    sampler.join()
    # The last reading of each backend, taken at most 0.1 s before it ended (the CLI's backend
    # exits with it, so it cannot be read after the wait).
    backend_seconds = sum(seconds - backends_before.get(pid, 0.0)
                          for pid, seconds in backends.items())
    if status != 0:
        sys.exit(f"geo311 load requests failed:\n{output}")
    lines = [line for line in output.splitlines() if line.startswith(("requests:", "  "))]
    first = lines[0]
    print("  " + "\n  ".join(lines[:3]), flush=True)
    read = int(re.search(r"read ([\d,]+) rows", first)[1].replace(",", ""))  # type: ignore[index]
    cpu = usage.ru_utime + usage.ru_stime
    print(f"  CPU per row: CLI {cpu / read * 1e6:,.0f} us, PostgreSQL backend "
          f"{backend_seconds / read * 1e6:,.0f} us", flush=True)
    rate = float(re.search(r"\(([\d,]+) rows/s\)", first)[1].replace(",", ""))  # type: ignore[index]
    return rate, peak[0]


def _backend_cpu() -> dict[int, float]:
    """CPU seconds of each of the server's backends connected to the bench database
    (``postgres: ... geo311_bench``), by pid, from ``/proc``."""
    now: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            cmdline = (stat.parent / "cmdline").read_bytes()
            # "postgres: USER DATABASE HOST STATE": the database word exactly (another
            # session's geo311_bench_tiles must not count); autovacuum workers are left out.
            words = cmdline.split(b"\0")[0].split()
            if words[:1] != [b"postgres:"] or words[2:3] != [BENCH_DB.encode()]:
                continue
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        now[int(stat.parent.name)] = (int(fields[11]) + int(fields[12])) / tick
    return now


def _sample_peak_rss(process: subprocess.Popen, peak: list[int], backends: dict[int, float],
                     done: threading.Event) -> None:
    """Keep the largest ``VmHWM`` (KiB) of a running process in ``peak[0]``, and the latest CPU
    seconds of each bench-database backend in ``backends``, until ``done``."""
    status = Path(f"/proc/{process.pid}/status")
    while not done.is_set():
        try:
            text = status.read_text()
        except OSError:
            break
        match = re.search(r"^VmHWM:\s+(\d+) kB", text, re.MULTILINE)
        if match:
            peak[0] = max(peak[0], int(match[1]))
        backends.update(_backend_cpu())
        done.wait(0.1)


if __name__ == "__main__":
    main()
