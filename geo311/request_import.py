"""``geo311 load requests``: stream MyLA311 exports into the request store, upserting by SRNumber.

Reading (:mod:`geo311.myla311`) runs on the calling thread while the previous batch is written
by a worker thread (``COPY`` into a temp table, then one set-based upsert that also resolves the
districts as of each record's date), so Python parsing and PostgreSQL work overlap on two cores.
Memory stays flat: one batch in flight plus one being read.
"""

from __future__ import annotations

import csv
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO

import click
from flask.cli import with_appcontext
from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.engine import Connection

from geo311.area_index import area_index_for
from geo311.boundaries import AreaHit, areas_at_points
from geo311.catalogue import myla311_name_map, owner_department_map
from geo311.db import driver_cursor, load_sql
from geo311.events import record_import
from geo311.import_indexes import (
    drop_secondary,
    estimate_rows,
    rebuild_secondary,
    should_rebuild,
)
from geo311.ingest import progress
from geo311.models import RequestImport, ServiceType
from geo311.myla311 import LA_TZ, MyLA311Record, RejectedRow, iter_records

__all__ = [
    "BATCH_ROWS",
    "DEFAULT_AREA_TYPES",
    "ImportReport",
    "import_requests",
    "run_import",
    "snapshot_date",
    "map_status",
    "map_channel",
    "load_requests_command",
]

#: Records per COPY + upsert statement (one district join per batch, one batch in flight).
BATCH_ROWS = 5000
#: Boundary types stored in an imported record's ``areas`` unless told otherwise: the districts
#: the City labels its records with. Every type costs a point-in-polygon test per record, and
#: the history runs to millions of rows; ``--area-types all`` stores every loaded type.
DEFAULT_AREA_TYPES = ("CD", "NC")
#: Rejects kept in memory for the printed report (all of them go to ``--rejects``).
_REJECTS_KEPT = 1000
_SNAPSHOT_NAME = re.compile(r"(20\d\d)[_-](\d\d)(?:[_-](\d\d))?")
_JSON_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_STATUS = {
    "closed": ("closed", "resolved"),
    "cancelled": ("closed", "cancelled"),
    "canceled": ("closed", "cancelled"),
    "referred out": ("closed", "referred"),
    "open": ("open", None),
    "pending": ("open", None),
    "forward": ("in_progress", None),
    "in progress": ("in_progress", None),
    "assigned": ("assigned", None),
}
_CHANNEL = {
    "call": "phone", "phone call": "phone", "voicemail": "phone", "mobile app": "mobile",
    "self service": "web", "website": "web", "email": "email", "letter": "letter",
    "driver self report": "crew", "work crew": "crew", "council's office": "council",
    "social": "social",
}  # fmt: skip
# The stage holds what the upsert compares and writes; the City's labels that only go into
# ``external`` arrive as one JSON text (built here: jsonb_build_object of 19 pairs per record was
# a tenth of the database's time).
_STAGE_COLUMNS = (
    "seq", "external_id", "service_code", "status", "close_reason", "lon", "lat", "address",
    "zip", "department", "agency", "channel", "requested_at", "updated_at", "closed_at",
    "anonymous", "estimated", "owner", "city_cd", "city_nc", "assign_to", "action_taken",
    "request_source", "service_date", "ext", "areas",
)  # fmt: skip
# The stage rows go in as CSV text (see _batches): ``FORMAT csv`` reads an unquoted empty field
# as NULL.
_COPY_STAGE = "COPY request_stage ({}) FROM STDIN (FORMAT csv)".format(", ".join(_STAGE_COLUMNS))
_STAGE_DDL = """
CREATE TEMP TABLE IF NOT EXISTS request_stage (
    seq integer, external_id text, service_code text, status text, close_reason text,
    lon float8, lat float8, address text, zip text, department text, agency text, channel text,
    requested_at timestamptz, updated_at timestamptz, closed_at timestamptz, anonymous boolean,
    estimated boolean, owner text, city_cd text, city_nc text, assign_to text, action_taken text,
    request_source text, service_date timestamptz, ext text, areas text,
    g geometry(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED
)
"""


@dataclass
class ImportReport:
    """What an import read, wrote (or would write), rejected, and how our districts agreed."""

    files: list[str] = field(default_factory=list)
    read: int = 0
    staged: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    history: int = 0
    rejected: int = 0
    rejects: list[tuple[str, int, str]] = field(default_factory=list)
    notes: Counter[str] = field(default_factory=Counter)
    cd_total: int = 0
    cd_agree: int = 0
    nc_total: int = 0
    nc_agree: int = 0
    committed: bool = False
    seconds: float = 0.0
    #: Wall time of the COPY + upsert statements (on the worker thread, overlapping the reading).
    database_seconds: float = 0.0
    #: Whether the secondary indexes and foreign keys were dropped and rebuilt around the load
    #: (:mod:`geo311.import_indexes`), and the seconds the drop and rebuild took.
    rebuilt_indexes: bool = False
    index_seconds: float = 0.0
    import_id: int | None = None

    def reject(self, file: str, line: int, reason: str) -> None:
        """Count one bad row; keep the first ones for the printed report."""
        self.rejected += 1
        if len(self.rejects) < _REJECTS_KEPT:
            self.rejects.append((file, line, reason))

    @property
    def rows_per_s(self) -> float:
        """Rows read per second of wall time."""
        return self.read / self.seconds if self.seconds else 0.0

    def agreement(self) -> dict[str, Any]:
        """Share of records whose City CD/NC label is among the areas we resolved."""
        return {
            "cd_total": self.cd_total, "cd_agree": self.cd_agree,
            "cd_share": self.cd_agree / self.cd_total if self.cd_total else None,
            "nc_total": self.nc_total, "nc_agree": self.nc_agree,
            "nc_share": self.nc_agree / self.nc_total if self.nc_total else None,
        }  # fmt: skip

    def lines(self) -> list[str]:
        """The report as printed by the CLI."""
        verb = "wrote" if self.committed else "would write (dry run; add --commit to write)"
        out = [
            f"requests: read {self.read:,} rows from {len(self.files)} file(s) in "
            f"{self.seconds:.1f}s ({self.rows_per_s:,.0f} rows/s); {verb}: "
            f"{self.inserted:,} new, {self.updated:,} updated, {self.unchanged:,} unchanged; "
            f"{self.history:,} history rows; rejected {self.rejected:,}",
        ]
        if self.seconds:
            out.append(f"  database work (COPY, districts, upsert) {self.database_seconds:.1f}s, "
                       "overlapping the reading"
                       + (f"; secondary indexes and foreign keys dropped and rebuilt in "
                          f"{self.index_seconds:.1f}s (load as large as the table)"
                          if self.rebuilt_indexes else ""))
        share = self.agreement()
        if self.cd_total:
            out.append(f"  districts at each record's date vs the City's labels: CD "
                       f"{share['cd_share']:.2%} of {self.cd_total:,}"
                       + (f", NC {share['nc_share']:.2%} of {self.nc_total:,}"
                          if self.nc_total else ""))
        for note, count in self.notes.most_common(15):
            out.append(f"  note: {count:,} x {note}")
        for file, line, reason in self.rejects:
            out.append(f"  rejected {file} line {line}: {reason}")
        if self.rejected > len(self.rejects):
            out.append(f"  ... and {self.rejected - len(self.rejects):,} more rejected "
                       "(write them all with --rejects FILE)")
        return out


def snapshot_date(path: str | Path) -> date | None:
    """The date a snapshot file's name carries (``open_requests_2020_07`` -> 2020-07-01).

    >>> snapshot_date("open_requests_2020_07.json.gz")
    datetime.date(2020, 7, 1)
    """
    match = _SNAPSHOT_NAME.search(Path(path).name)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3] or 1))
    except ValueError:
        return None


def map_status(status: str | None, closed_at: datetime | None) -> tuple[str, str | None]:
    """A MyLA311 status as ours: ``(status, close_reason)``.

    >>> map_status("Referred Out", None), map_status(None, None)
    (('closed', 'referred'), ('open', None))
    """
    if status:
        mapped = _STATUS.get(status.strip().lower())
        if mapped:
            return mapped
    return ("closed", "resolved") if closed_at is not None else ("open", None)


def map_channel(source: str | None) -> str:
    """A MyLA311 RequestSource as our channel code (``import`` when unknown).

    >>> map_channel("Mobile App"), map_channel(None)
    ('mobile', 'import')
    """
    return _CHANNEL.get((source or "").strip().lower(), "import")


def import_requests(conn: Connection, paths: Sequence[str | Path], *,
                    as_of: date | None = None, rejects_out: TextIO | None = None,
                    batch_rows: int = BATCH_ROWS,
                    area_types: Sequence[str] | None = DEFAULT_AREA_TYPES,
                    show_progress: bool = True,
                    rebuild_indexes: bool | None = None) -> ImportReport:
    """Import MyLA311 export files inside the caller's transaction (the caller commits or not).

    :param conn: connection in a transaction; the catalogue must be synced.
    :param paths: files in any MyLA311 format (CSV/JSON, gzip or not).
    :param as_of: the date of snapshot files that carry no CreatedDate (default: from the file
        name, e.g. ``..._2020_07`` is 2020-07-01); their records count as requested then.
    :param rejects_out: where to write every rejected row as CSV (file, line, reason, raw).
    :param batch_rows: records per statement.
    :param area_types: boundary types stored in ``areas`` (default :data:`DEFAULT_AREA_TYPES`;
        None for every loaded type).
    :param rebuild_indexes: drop the request tables' secondary indexes and foreign keys for
        the load and rebuild them after (True), keep them (False), or decide by
        :func:`geo311.import_indexes.should_rebuild` (None: a load at least as large as the
        table, 20,000 rows or more). Rebuilding locks the request tables until the end of
        the transaction.
    :returns: the report (counts as written inside the transaction).
    :raises ValueError: a file whose header is no MyLA311 layout.
    """
    started = time.perf_counter()
    report = ImportReport(files=[str(p) for p in paths])
    import_id = conn.execute(
        insert(RequestImport).values(files=report.files).returning(
            RequestImport.id)).scalar_one()
    report.import_id = import_id
    if rebuild_indexes is None:
        rebuild_indexes = should_rebuild(conn, estimate_rows(paths))
    dropped = drop_secondary(conn) if rebuild_indexes else None
    conn.execute(text(_STAGE_DDL))
    statement = load_sql("import_upsert_requests")
    writer = csv.writer(rejects_out) if rejects_out is not None else None
    if writer:
        writer.writerow(["file", "line", "reason", "raw"])
    rows = _staged_rows(conn, paths, report, as_of, writer, show_progress)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="geo311-import") as pool:
        # Build the in-memory district index while the first batch is read (0.7 s on a cold
        # process, mostly PostgreSQL sending the parts), not after.
        pending: Future[Any] = pool.submit(area_index_for, conn)
        for batch in _batches(rows, batch_rows):
            pending.result()
            pending = pool.submit(_write_batch, conn, statement, batch, import_id, area_types,
                                  report)
        pending.result()
    if dropped is not None:
        report.rebuilt_indexes = True
        report.index_seconds = dropped.seconds_dropping + rebuild_secondary(conn, dropped)
    report.unchanged = report.staged - report.inserted - report.updated
    report.seconds = time.perf_counter() - started
    conn.execute(
        update(RequestImport).where(RequestImport.id == import_id).values(
            finished_at=func.now(), read=report.read, inserted=report.inserted,
            updated=report.updated, rejected=report.rejected,
            summary={**report.agreement(), "unchanged": report.unchanged,
                     "history": report.history, "seconds": round(report.seconds, 2)}))
    record_import(conn, import_id, inserted=report.inserted, updated=report.updated)
    return report


def run_import(engine: Engine, paths: Sequence[str | Path], *, commit: bool,
               as_of: date | None = None, rejects_path: str | Path | None = None,
               echo: Callable[[str], None] = print, show_progress: bool = True,
               area_types: Sequence[str] | None = DEFAULT_AREA_TYPES,
               rebuild_indexes: bool | None = None) -> ImportReport:
    """Run one import in its own transaction, commit only with ``commit``, print the report.

    ``rebuild_indexes`` is passed to :func:`import_requests` (None: decided by the load's size).

    :raises ValueError: the catalogue is not in the database, or a file is not MyLA311.
    """
    handle = open(rejects_path, "w", newline="", encoding="utf-8") if rejects_path else None
    try:
        with engine.connect() as conn:
            with conn.begin() as transaction:
                if not conn.execute(select(func.count()).select_from(ServiceType)).scalar_one():
                    raise ValueError("the service catalogue is empty: run `geo311 catalogue "
                                     "sync` first")
                report = import_requests(conn, paths, as_of=as_of, rejects_out=handle,
                                         show_progress=show_progress, area_types=area_types,
                                         rebuild_indexes=rebuild_indexes)
                if commit:
                    report.committed = True
                else:
                    transaction.rollback()
    finally:
        if handle is not None:
            handle.close()
    for line in report.lines():
        echo(line)
    return report


def _staged_rows(conn: Connection, paths: Sequence[str | Path], report: ImportReport,
                 as_of: date | None, writer: Any, show_progress: bool) -> Iterator[tuple]:
    """Every good record as a stage row; bad ones go to the report (and the rejects CSV)."""
    names = myla311_name_map(conn)
    owners = owner_department_map(conn)
    defaults = dict(conn.execute(select(ServiceType.code, ServiceType.default_department)).all())
    type_cache: dict[str | None, str | None] = {}
    owner_cache: dict[tuple[str | None, str | None], str | None] = {}
    for path in paths:
        name = Path(path).name
        snapshot = as_of or snapshot_date(path)
        records: Iterable[MyLA311Record | RejectedRow] = iter_records(path)
        fmt = ""
        if show_progress:
            records = progress(records, None, name)
        for record in records:
            report.read += 1
            if isinstance(record, RejectedRow):
                _reject(report, writer, name, record.line_no, record.reason, record.raw)
                continue
            if record.request_type not in type_cache:
                key = " ".join((record.request_type or "").split()).casefold()
                type_cache[record.request_type] = names.get(key)
            code = type_cache[record.request_type]
            if code is None:
                _reject(report, writer, name, record.line_no,
                        f"unknown RequestType {record.request_type!r} (not in the catalogue)",
                        _raw(record))
                continue
            estimated = record.created_at is None
            requested_at = record.created_at
            if requested_at is None:
                if snapshot is None:
                    _reject(report, writer, name, record.line_no,
                            "no CreatedDate and no snapshot date (pass --as-of)", _raw(record))
                    continue
                requested_at = datetime(snapshot.year, snapshot.month, snapshot.day, tzinfo=LA_TZ)
            fmt = fmt or _format_name(record)
            owner_key = (record.owner, record.agency)
            if owner_key not in owner_cache:
                owner_cache[owner_key] = owners.get(_fold(record.owner)) or owners.get(
                    _fold(record.agency))
            department = owner_cache[owner_key] or defaults.get(code)
            status, reason = map_status(record.status, record.closed_at)
            for note in record.notes:
                report.notes[note.split(" '")[0].split(" (")[0]] += 1
            if record.lon is None:
                report.notes["no usable location (stored without a point)"] += 1
            yield (
                record.sr_number, code, status, reason, record.lon, record.lat,
                record.address, record.zip, department, record.agency,
                map_channel(record.source), requested_at,
                record.updated_at or record.closed_at or requested_at, record.closed_at,
                record.anonymous, estimated, record.owner, record.cd, record.nc,
                record.assign_to, record.action_taken, record.source, record.service_date,
                _external_json(record, fmt, estimated),
            )  # fmt: skip


@dataclass
class _Batch:
    """One batch as the worker thread needs it: the stage rows already encoded as CSV (without
    the ``areas`` column), and each record's point and date for the district lookup."""

    lines: list[str]
    lons: list[float | None]
    lats: list[float | None]
    days: list[date]


def _write_batch(conn: Connection, statement: Any, batch: _Batch, import_id: int,
                 area_types: Sequence[str] | None, report: ImportReport) -> None:
    """COPY one batch into the stage table and upsert it (runs on the worker thread).

    The rows arrive encoded and go to PostgreSQL as one buffer: a ``write_row`` per record here
    held the GIL against the reading thread (and waited up to a switch interval for it at every
    flush), so the two threads took turns instead of overlapping.
    """
    started = time.perf_counter()
    # Districts as of each record's own date, from the vectorised in-memory lookup.
    areas = areas_at_points(conn, list(zip(batch.lons, batch.lats, strict=True)), batch.days,
                            area_types)
    payload = "".join([f"{line},{_areas_csv(tuple(hits))}\n"
                       for line, hits in zip(batch.lines, areas, strict=True)])
    with driver_cursor(conn) as cursor:
        cursor.execute("TRUNCATE request_stage")
        with cursor.copy(_COPY_STAGE) as copy:
            copy.write(payload)
    counts = conn.execute(statement, {"import_id": import_id}).one()
    report.staged += counts.distinct_rows
    report.inserted += counts.inserted
    report.updated += counts.updated
    report.history += counts.history
    report.cd_total += counts.cd_total
    report.cd_agree += counts.cd_agree
    report.nc_total += counts.nc_total
    report.nc_agree += counts.nc_agree
    report.database_seconds += time.perf_counter() - started


@lru_cache(maxsize=8192)
def _areas_csv(hits: tuple[AreaHit, ...]) -> str:
    """The stored ``areas`` list (one object per area, in (type, code) order) as a quoted CSV
    field.

    Cached: a city has a few thousand CD x NC x vintage combinations, and building the JSON of
    each record anew was a fifth of the Python work of an import.
    """
    text = json.dumps([hit.as_dict() for hit in hits], ensure_ascii=False)
    return '"' + text.replace('"', '""') + '"'


class _LineSink:
    """A file-like ``write`` that keeps each CSV line the writer produces."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, line: str) -> None:
        self.lines.append(line)


def _batches(rows: Iterable[tuple], size: int) -> Iterator[_Batch]:
    """Group stage rows into batches, encoded as CSV on this (the reading) thread.

    ``csv.writer`` writes None as an empty unquoted field, which PostgreSQL's CSV COPY reads as
    NULL; no stage value is an empty string (the reader makes empty cells None), so nothing
    else reads as NULL; the last value (``ext``) is never None. Datetimes go as ISO text with
    their offset, booleans as True/False, floats by ``repr`` (exact).
    """
    sink = _LineSink()
    writer = csv.writer(sink, lineterminator="")
    batch = _Batch(sink.lines, [], [], [])
    for row in rows:
        # The last value, the labels' JSON, is quoted here: the writer's per-character quoting
        # of a 400-character JSON text full of quotes was a quarter of the encoding time.
        writer.writerow((len(batch.lons) + 1, *row[:-1]))
        sink.lines[-1] += ',"' + row[-1].replace('"', '""') + '"'
        batch.lons.append(row[4])
        batch.lats.append(row[5])
        batch.days.append(row[11].date())
        if len(batch.lons) >= size:
            yield batch
            sink.lines = []
            batch = _Batch(sink.lines, [], [], [])
    if batch.lons:
        yield batch


def _reject(report: ImportReport, writer: Any, file: str, line: int, reason: str,
            raw: str) -> None:
    report.reject(file, line, reason)
    if writer is not None:
        writer.writerow([file, line, reason, raw[:2000]])


def _raw(record: MyLA311Record) -> str:
    return ",".join(f"{k}={v}" for k, v in record.raw.items() if v)[:2000]


def _fold(value: str | None) -> str:
    return " ".join((value or "").split()).casefold()


def _external_json(record: MyLA311Record, fmt: str, estimated: bool) -> str:
    """The record's ``external`` labels as JSON text, without nulls (``service_date`` is added
    in SQL so its text is PostgreSQL's own)."""
    labels = {
        "source": "myla311", "format": fmt, "owner": record.owner, "cd": record.cd,
        "nc": record.nc, "nc_name": record.nc_name, "cd_member": record.cd_member,
        "apc": record.apc, "police_precinct": record.police_precinct,
        "assign_to": record.assign_to, "action_taken": record.action_taken,
        "request_source": record.source, "request_type": record.request_type,
        "mobile_os": record.mobile_os, "address_verified": record.address_verified,
        "approximate_address": record.approximate_address,
        "requested_at_estimated": True if estimated else None,
    }  # fmt: skip
    return _JSON_DUMPS({key: value for key, value in labels.items() if value is not None})


def _format_name(record: MyLA311Record) -> str:
    keys = record.raw.keys()
    if "typeName" in keys:
        return "hfla_api"
    if "SRNumber" in keys:
        return "myla311_2016"
    return "myla311_2020" if "createddate" in keys else "open_requests_json"



@click.command("requests")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--commit", is_flag=True, help="Write to the database (default: dry run).")
@click.option("--as-of", "as_of", default=None,
              help="Date (YYYY-MM-DD) of snapshot files without CreatedDate "
                   "(default: from the file name, e.g. _2020_07).")
@click.option("--rejects", "rejects_path", type=click.Path(dir_okay=False), default=None,
              help="Write every rejected row (file, line, reason, raw) to this CSV file.")
@click.option("--area-types", default=",".join(DEFAULT_AREA_TYPES), show_default=True,
              help="Boundary types to store in each record's areas, comma separated, or 'all'.")
@click.option("--indexes", "indexes", type=click.Choice(["auto", "rebuild", "keep"]),
              default="auto", show_default=True,
              help="Drop the request tables' secondary indexes and foreign keys for the load and "
                   "rebuild them after (locks the tables until the load commits); auto: when "
                   "the load is at least as large as the table and 20,000 rows or more.")
@with_appcontext
def load_requests_command(files: tuple[str, ...], commit: bool, as_of: str | None,
                          rejects_path: str | None, area_types: str, indexes: str) -> None:
    """Import MyLA311 request exports (every City/HfLA format), upserting by SRNumber."""
    from geo311.db import get_engine

    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise click.BadParameter("must be a date as YYYY-MM-DD", param_hint="--as-of") from None
    try:
        types = None if area_types.strip().lower() == "all" else [
            t.strip().upper() for t in area_types.split(",") if t.strip()]
        run_import(get_engine(), files, commit=commit, as_of=day, rejects_path=rejects_path,
                   echo=click.echo, area_types=types,
                   rebuild_indexes={"auto": None, "rebuild": True, "keep": False}[indexes])
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
