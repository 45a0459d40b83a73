"""Shared loading: read any OGR source with pyogrio, reproject to WGS84, report rejects, COPY."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Connection
from tqdm import tqdm

from geo311.geometry import WGS84

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "Rejected",
    "LoadReport",
    "read_features",
    "ogr_path",
    "ewkb_hex",
    "copy_rows",
    "progress",
    "clean_text",
    "clean_int",
]


@dataclass(frozen=True)
class Rejected:
    """A feature or row that was not loaded, with the reason."""

    row: int
    reason: str
    key: str = ""

    def __str__(self) -> str:
        key = f" ({self.key})" if self.key else ""
        return f"row {self.row}{key}: {self.reason}"


@dataclass
class LoadReport:
    """What a load read, wrote (or would write) and rejected."""

    name: str
    read: int = 0
    loaded: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    committed: bool = False
    seconds: float = 0.0

    def reject(self, row: int, reason: str, key: str = "") -> None:
        """Record one rejected row."""
        self.rejected.append(Rejected(row, reason, key))

    def summary(self) -> str:
        """One line for the CLI."""
        verb = "loaded" if self.committed else "would load (dry run; add --commit to write)"
        return (
            f"{self.name}: read {self.read}, {verb} {self.loaded}, rejected {len(self.rejected)}"
            f" in {self.seconds:.1f}s"
        )


def ogr_path(path: str | Path) -> str:
    """The path GDAL should open: gzip files go through ``/vsigzip/``.

    >>> ogr_path("streets.geojson.gz")
    '/vsigzip/streets.geojson.gz'
    """
    text = str(path)
    if text.endswith(".gz") and not text.startswith("/vsi"):
        return "/vsigzip/" + text
    return text


def read_features(path: str | Path, layer: str | None = None,
                  assume_crs: int | None = None) -> gpd.GeoDataFrame:
    """Read a vector file (GeoJSON, Shapefile, GeoPackage, FileGDB, gzip of those) in WGS84.

    :param path: the file.
    :param layer: layer name for multi-layer sources.
    :param assume_crs: EPSG code to assume when the file declares none.
    :returns: a GeoDataFrame in EPSG:4326, one row per feature, original columns kept.
    :raises ValueError: when the file has no CRS and none was given.
    """
    import pyogrio  # heavy (GDAL, pandas): only loaders need it, not the web workers

    frame = pyogrio.read_dataframe(ogr_path(path), layer=layer)
    if frame.crs is None:
        if assume_crs is None:
            raise ValueError(f"{path}: the file declares no coordinate system")
        frame = frame.set_crs(assume_crs)
    if frame.crs.to_epsg() != WGS84:
        frame = frame.to_crs(WGS84)
    return frame


def ewkb_hex(geom: BaseGeometry, srid: int = WGS84) -> str:
    """Hex EWKB with the SRID, the fastest text form PostGIS accepts in COPY."""
    return shapely.to_wkb(shapely.set_srid(geom, srid), hex=True, include_srid=True)


def copy_rows(conn: Connection, table: str, columns: Sequence[str],
              rows: Iterable[Sequence[Any]]) -> int:
    """Bulk-write rows with psycopg 3 ``COPY`` inside the connection's transaction.

    :param conn: SQLAlchemy connection (its psycopg connection is used).
    :param table: table name from the schema (never user input).
    :param columns: column names in row order.
    :param rows: tuples; dicts are written as JSON.
    :returns: the number of rows written.
    """
    from psycopg import sql

    raw = conn.connection.driver_connection
    assert raw is not None, "the connection is closed"
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    count = 0
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([json.dumps(v) if isinstance(v, dict) else v for v in row])
            count += 1
    return count


def progress(iterable: Iterable[Any], total: int | None, desc: str) -> Iterator[Any]:
    """Wrap an iterable in a progress bar with counts and rate (to stderr, quiet when not a tty
    unless there is a lot to do)."""
    disable = not sys.stderr.isatty() and (total or 0) < 50_000
    yield from tqdm(iterable, total=total, desc=desc, unit=" rows", disable=disable,
                    mininterval=0.5, dynamic_ncols=True)


def clean_text(value: Any) -> str | None:
    """Strip a cell; empty, NaN and the strings 'None'/'nan' become None.

    >>> clean_text("  BERENDO ") , clean_text(float("nan")), clean_text(" ")
    ('BERENDO', None, None)
    """
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    text = str(value).strip()
    if not text or text in {"None", "nan", "NaN", "NULL"}:
        return None
    return text


def clean_int(value: Any) -> int | None:
    """An integer cell: '23.0' -> 23; blanks and junk -> None.

    >>> clean_int("23.0"), clean_int(""), clean_int("12A")
    (23, None, None)
    """
    text = clean_text(value)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number) or number != int(number):
        return None
    return int(number)
