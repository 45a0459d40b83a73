"""Bulk exports of requests (CSV, GeoJSON, GeoParquet) streamed from a server-side cursor.

Rows are read in chunks and written out as they arrive, so memory does not grow with the
export. The columns are public ones only (``contact`` is never selected). The CSV follows the
GeoReport v2 bulk layout (``service_request_id``, ``requested_datetime``, ``lat``, ``long``...)
plus geo311's own columns; GeoParquet 1.0 stores the point as WKB (CRS84, lon/lat order).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import pyarrow as pa
import pyarrow.parquet as pq
from flask import Response, stream_with_context
from flask.cli import with_appcontext
from sqlalchemy import Engine, func, literal_column
from sqlalchemy.engine import Connection

from geo311.catalogue import check_filter_codes
from geo311.models import ServiceRequest, ServiceType
from geo311.request_query import (
    RequestFilter,
    feature_json,
    filter_clauses,
    parse_request_filter,
    public_select,
)

__all__ = [
    "EXPORT_FORMATS",
    "CSV_COLUMNS",
    "iter_export",
    "export_response",
    "write_export",
    "export_command",
]

EXPORT_FORMATS = ("csv", "geojson", "parquet")
#: GeoReport v2 bulk columns first, then geo311's.
CSV_COLUMNS = (
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "closed_datetime", "address", "address_id",
    "zipcode", "lat", "long", "media_url", "department", "close_reason", "channel",
    "external_id", "council_district", "neighborhood_council", "version",
)  # fmt: skip
_MEDIA_TYPES = {"csv": "text/csv", "geojson": "application/geo+json",
                "parquet": "application/vnd.apache.parquet"}
_CHUNK_ROWS = 5000
_SR = ServiceRequest.__table__
_ST = ServiceType.__table__


def iter_export(engine: Engine, filters: RequestFilter, fmt: str,
                chunk_rows: int = _CHUNK_ROWS) -> Iterator[bytes]:
    """Yield the export as byte chunks, reading the rows with a server-side cursor.

    :param engine: where to read (a connection of its own is held while iterating).
    :param filters: the same filters as the list endpoint.
    :param fmt: one of :data:`EXPORT_FORMATS`.
    :raises ValueError: unknown format.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(EXPORT_FORMATS)}")
    with engine.connect() as conn:
        if fmt == "geojson":
            yield from _geojson(conn, filters, chunk_rows)
        elif fmt == "csv":
            yield from _csv(conn, filters, chunk_rows)
        else:
            yield from _parquet(conn, filters, chunk_rows)


def export_response(engine: Engine, filters: RequestFilter, fmt: str) -> Response:
    """A streamed HTTP response with a download file name."""
    stamp = datetime.now().strftime("%Y%m%d")
    response = Response(stream_with_context(iter_export(engine, filters, fmt)),
                        mimetype=_MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = (
        f'attachment; filename="geo311_requests_{stamp}.{fmt}"')
    return response


def write_export(engine: Engine, filters: RequestFilter, fmt: str, path: str | Path) -> int:
    """Write an export to a file.

    :returns: the number of bytes written.
    """
    size = 0
    with open(path, "wb") as handle:
        for chunk in iter_export(engine, filters, fmt):
            handle.write(chunk)
            size += len(chunk)
    return size


@click.command("export")
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default=None,
              help="Output format (default: from OUT's extension).")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE",
              help="A list filter, e.g. service_code=graffiti, start=2020-01-01, "
                   "area_type=CD, area_code=10, bbox=... (repeatable).")
@with_appcontext
def export_command(out: str, fmt: str | None, filters: tuple[str, ...]) -> None:
    """Export requests to a CSV, GeoJSON or GeoParquet file (public columns only)."""
    from geo311.db import get_engine
    from geo311.errors import BadRequest

    chosen = fmt or Path(out).suffix.lstrip(".").lower()
    if chosen not in EXPORT_FORMATS:
        raise click.BadParameter(f"give --format {'|'.join(EXPORT_FORMATS)} or an OUT "
                                 "file ending in one of them", param_hint="--format")
    args: dict[str, str] = {}
    for item in filters:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--filter")
        args[key.strip()] = value.strip()
    try:
        parsed = parse_request_filter(args)
        with get_engine().connect() as conn:
            check_filter_codes(conn, parsed.service_codes, parsed.departments)
    except BadRequest as exc:
        raise click.ClickException(exc.message) from None
    size = write_export(get_engine(), parsed, chosen, out)
    click.echo(f"wrote {out} ({size:,} bytes, {chosen})")


# ---------------------------------------------------------------- formats
def _rows(conn: Connection, query: Any, filters: RequestFilter, chunk_rows: int) -> Iterator[Any]:
    query = query.where(*filter_clauses(filters)).order_by(_SR.c.requested_at, _SR.c.id)
    result = conn.execution_options(stream_results=True, max_row_buffer=chunk_rows).execute(query)
    yield from result.partitions(chunk_rows)


def _geojson(conn: Connection, filters: RequestFilter, chunk_rows: int) -> Iterator[bytes]:
    yield b'{"type":"FeatureCollection","features":['
    first = True
    for part in _rows(conn, public_select(feature_json().label("f")), filters, chunk_rows):
        text = ",".join(row.f for row in part)
        yield (text if first else "," + text).encode()
        first = False
    yield b"]}"


def _columns() -> Any:
    def area_code(kind: str) -> Any:
        # kind is one of our fixed type codes, never user input.
        return literal_column(
            f"jsonb_path_query_first(service_request.areas, "
            f"'$[*] ? (@.type == \"{kind}\").code') #>> '{{}}'")

    return public_select(
        _SR.c.id, _SR.c.status, _ST.c.name_en, _SR.c.service_code, _SR.c.description,
        _SR.c.agency_responsible, _SR.c.requested_at, _SR.c.updated_at, _SR.c.closed_at,
        _SR.c.address, _SR.c.address_id, _SR.c.zip, func.ST_Y(_SR.c.location).label("lat"),
        func.ST_X(_SR.c.location).label("lon"), _SR.c.media_url, _SR.c.department,
        _SR.c.close_reason, _SR.c.channel, _SR.c.external_id,
        area_code("CD").label("cd"), area_code("NC").label("nc"), _SR.c.version,
        func.ST_AsBinary(_SR.c.location).label("wkb"),
    )


def _csv_row(r: Any) -> list[Any]:
    return [
        r.id, r.status, None, r.name_en, r.service_code, r.description, r.agency_responsible,
        None, _iso(r.requested_at), _iso(r.updated_at), None, _iso(r.closed_at), r.address,
        r.address_id, r.zip, r.lat, r.lon, r.media_url, r.department, r.close_reason,
        r.channel, r.external_id, r.cd, r.nc, r.version,
    ]


def _csv(conn: Connection, filters: RequestFilter, chunk_rows: int) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for part in _rows(conn, _columns(), filters, chunk_rows):
        writer.writerows(_csv_row(r) for r in part)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


_PARQUET_SCHEMA = pa.schema([
    ("service_request_id", pa.int64()), ("status", pa.string()), ("service_name", pa.string()),
    ("service_code", pa.string()), ("description", pa.string()),
    ("agency_responsible", pa.string()), ("requested_datetime", pa.timestamp("us", tz="UTC")),
    ("updated_datetime", pa.timestamp("us", tz="UTC")),
    ("closed_datetime", pa.timestamp("us", tz="UTC")), ("address", pa.string()),
    ("address_id", pa.string()), ("zipcode", pa.string()), ("lat", pa.float64()),
    ("long", pa.float64()), ("media_url", pa.string()), ("department", pa.string()),
    ("close_reason", pa.string()), ("channel", pa.string()), ("external_id", pa.string()),
    ("council_district", pa.string()), ("neighborhood_council", pa.string()),
    ("version", pa.int32()), ("geometry", pa.binary()),
])  # fmt: skip
_GEO_METADATA = {
    "version": "1.0.0",
    "primary_column": "geometry",
    # No "crs": GeoParquet then means OGC:CRS84, WGS84 in lon/lat order, which is what we store.
    "columns": {"geometry": {"encoding": "WKB", "geometry_types": ["Point"]}},
}


def _parquet(conn: Connection, filters: RequestFilter, chunk_rows: int) -> Iterator[bytes]:
    schema = _PARQUET_SCHEMA.with_metadata({b"geo": json.dumps(_GEO_METADATA).encode()})
    sink = _Drain()
    writer = pq.ParquetWriter(sink, schema, compression="zstd")
    for part in _rows(conn, _columns(), filters, chunk_rows):
        columns = list(zip(*[_parquet_row(r) for r in part], strict=True))
        table = pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in
                                      zip(columns, _PARQUET_SCHEMA, strict=True)],
                                     schema=schema)
        writer.write_table(table)
        yield sink.take()
    writer.close()
    yield sink.take()


def _parquet_row(r: Any) -> tuple[Any, ...]:
    return (
        r.id, r.status, r.name_en, r.service_code, r.description, r.agency_responsible,
        r.requested_at, r.updated_at, r.closed_at, r.address, r.address_id, r.zip, r.lat,
        r.lon, r.media_url, r.department, r.close_reason, r.channel, r.external_id, r.cd,
        r.nc, r.version, bytes(r.wkb) if r.wkb is not None else None,
    )


class _Drain(io.RawIOBase):
    """A write-only sink whose written bytes are taken out after each row group."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None

