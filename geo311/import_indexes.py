"""Large request loads into a small table: drop secondary indexes and foreign keys, load, rebuild.

This is how ``pg_restore`` and ``osm2pgsql`` load: building an index once over the loaded rows
is far cheaper than updating ten indexes (two GiST, one GIN) and checking four foreign keys row
by row. It pays when the load is at least as large as the table it goes into (a first load, a
City's full yearly export); into a big table the rebuild would cost more than it saves, so
:func:`should_rebuild` decides. Everything happens inside the import's own transaction under an
``ACCESS EXCLUSIVE`` lock on the request tables: readers wait for the load (as they would for a
restore), and a failure rolls the dropped indexes back with the rows. Triggers are never touched,
so row and statement triggers on ``service_request`` (the tile cell summary) see every write.
Unique indexes (the primary key, ``external_id`` that the upsert relies on, the idempotency
key) stay, as do indexes that back a constraint.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection

from geo311.db import driver_cursor

__all__ = [
    "MIN_ROWS",
    "BYTES_PER_ROW",
    "TABLES",
    "DroppedDdl",
    "estimate_rows",
    "should_rebuild",
    "drop_secondary",
    "rebuild_secondary",
]

#: Smallest load that takes the rebuild path: below it the lock is not worth a few seconds.
MIN_ROWS = 20_000
#: Bytes per record used to estimate a file's rows before reading it; the largest of the shipped
#: layouts (2020 CSV 366, 2018 CSV 349, HfLA CSV 187, snapshot JSON 143), rounded up, so the
#: estimate errs towards keeping the indexes.
BYTES_PER_ROW = 400
#: The tables an import writes row by row (requests and their status history).
TABLES = ("service_request", "request_status_history")

_SECONDARY_INDEXES = """
SELECT c.relname AS name, pg_get_indexdef(x.indexrelid) AS ddl
FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
WHERE x.indrelid = ANY(CAST(:tables AS regclass[]))
  AND NOT x.indisunique AND NOT x.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
ORDER BY c.relname
"""
_FOREIGN_KEYS = """
SELECT CAST(conrelid AS regclass)::text AS table_name, conname AS name,
       pg_get_constraintdef(oid) AS ddl
FROM pg_constraint
WHERE contype = 'f' AND conrelid = ANY(CAST(:tables AS regclass[]))
ORDER BY conrelid, conname
"""


@dataclass(frozen=True)
class DroppedDdl:
    """What :func:`drop_secondary` dropped, as the definitions to recreate it."""

    indexes: tuple[tuple[str, str], ...]
    foreign_keys: tuple[tuple[str, str, str], ...]
    seconds_dropping: float


def estimate_rows(paths: Sequence[str | os.PathLike[str]]) -> int:
    """Rows a set of MyLA311 files holds, estimated from their uncompressed size.

    A gzip file's size is read from its trailer (the uncompressed size modulo 4 GiB).

    :param paths: the files to load.
    :returns: uncompressed bytes divided by :data:`BYTES_PER_ROW`.
    """
    total = 0
    for path in paths:
        size = Path(path).stat().st_size
        with open(path, "rb") as handle:
            if handle.read(2) == b"\x1f\x8b" and size >= 4:
                handle.seek(-4, os.SEEK_END)
                size = int.from_bytes(handle.read(4), "little")
        total += size
    return total // BYTES_PER_ROW


def should_rebuild(conn: Connection, incoming_rows: int) -> bool:
    """Whether a load of ``incoming_rows`` should drop and rebuild the secondary indexes.

    The rule: at least :data:`MIN_ROWS` rows, into a ``service_request`` that holds no more rows
    than the load. Measured at 50,000 rows, maintaining the indexes and foreign keys cost 45-60
    us of backend CPU per loaded row, and rebuilding them 12-38 us per row of the final table
    (50,000 to 300,000 rows, growing with the table's size), so the rebuild wins while the table
    is up to about as large as the load.

    :param conn: connection in the import's transaction.
    :param incoming_rows: the load's size (:func:`estimate_rows`).
    :returns: True to take the rebuild path.
    """
    if incoming_rows < MIN_ROWS:
        return False
    # Counting stops at the load's size: the answer needs no full scan of a big table.
    existing = conn.execute(
        text("SELECT count(*) FROM (SELECT 1 FROM service_request LIMIT :n) AS s"),
        {"n": incoming_rows + 1}).scalar_one()
    return bool(existing <= incoming_rows)


def drop_secondary(conn: Connection) -> DroppedDdl:
    """Lock the request tables and drop their secondary indexes and foreign keys.

    :param conn: connection in the import's transaction (the drop commits or rolls back with it).
    :returns: the definitions for :func:`rebuild_secondary`.
    """
    started = time.perf_counter()
    conn.execute(text("LOCK TABLE service_request, request_status_history "
                      "IN ACCESS EXCLUSIVE MODE"))
    tables = list(TABLES)
    indexes = tuple((r.name, r.ddl) for r in conn.execute(
        text(_SECONDARY_INDEXES), {"tables": tables}))
    foreign_keys = tuple((r.table_name, r.name, r.ddl) for r in conn.execute(
        text(_FOREIGN_KEYS), {"tables": tables}))
    from psycopg import sql

    with driver_cursor(conn) as cursor:
        for table, name, _ in foreign_keys:
            cursor.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(table), sql.Identifier(name)))
        for name, _ in indexes:
            cursor.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    return DroppedDdl(indexes, foreign_keys, time.perf_counter() - started)


def rebuild_secondary(conn: Connection, dropped: DroppedDdl) -> float:
    """Recreate what :func:`drop_secondary` dropped and check the foreign keys.

    Each foreign key is added back validated: one set-based check over the table instead of a
    trigger call per row. No ``ANALYZE`` here: it took 1.3 s whatever the load's size (it
    samples 30,000 rows, and the JSON columns are costly to sample), nothing later in the
    transaction needs fresh statistics, and autovacuum analyzes the table after the commit.

    :param conn: the same connection and transaction as the drop.
    :param dropped: what was dropped.
    :returns: seconds spent.
    :raises psycopg.errors.ForeignKeyViolation: a loaded row breaks a foreign key (the
        transaction then rolls back whole).
    """
    started = time.perf_counter()
    from psycopg import sql

    with driver_cursor(conn) as cursor:
        # Index builds sort in memory up to this (the default 64 MB spills 2.5M-row sorts).
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _, ddl in dropped.indexes:
            cursor.execute(ddl)  # pg_get_indexdef output: the catalogue's own definition
        for table, name, ddl in dropped.foreign_keys:
            cursor.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
                sql.Identifier(table), sql.Identifier(name)) + sql.SQL(ddl))
    return time.perf_counter() - started
