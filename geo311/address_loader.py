"""Load address points: the County/City address layers (CAMS) and LADOT meter block faces.

Files are read in batches (pyogrio Arrow batches for vector files, pandas chunks for CSV), so the
City's ~1M-point layer streams through the same code as the Venice sample: each batch of address
rows is COPYed to a temporary stage, and one INSERT collapses the rows of one number, street and
point (units of a building) into one point listing its units. Meter block faces (a few thousand)
are aggregated in memory. Loading is a dry run unless ``commit``; a committed load replaces every
row of the same ``source`` in the caller's transaction.
"""

from __future__ import annotations

import math
import re
import statistics
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer
from sqlalchemy import delete, text
from sqlalchemy.engine import Connection

from geo311.address_parse import StreetRef, street_key
from geo311.geometry import CA_SP5_FT, WGS84
from geo311.ingest import LoadReport, copy_rows, ogr_path
from geo311.models import AddressPoint
from geo311.street_loader import LA_BOUNDS, Columns, source_name, split_street_name, street_parts

__all__ = [
    "ADDRESS_FORMATS",
    "COORDINATE_COLUMNS",
    "load_addresses",
    "detect_address_format",
    "to_lon_lat",
    "find_coordinate_columns",
    "read_batches",
    "Batch",
]

ADDRESS_FORMATS = ("cams", "meters")
#: Coordinate column pairs tried in order (case-insensitive); values may be degrees or 2229 feet.
COORDINATE_COLUMNS = (
    ("lon", "lat"), ("longitude", "latitude"), ("x", "y"), ("X_COORD_NBR", "Y_COORD_NBR"),
    ("POINT_X", "POINT_Y"),
)
#: Meters of one block face farther apart than this are two different block faces.
BLOCKFACE_SPLIT_M = 400.0
BATCH_ROWS = 100_000

_TO_WGS84_FROM_FEET = Transformer.from_crs(CA_SP5_FT, WGS84, always_xy=True)
_LATLNG_TEXT = re.compile(r"\(\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)")
_BLOCKFACE = re.compile(r"^\s*(\d{1,6})\s+(.+?)\s*(?:\((\w)\))?\s*$")
_ADDRESS_COLUMNS = [
    "source", "source_id", "kind", "house_number", "number_suffix", "pre_dir", "name", "suffix",
    "post_dir", "unit", "zip", "community", "full_address", "street_key", "confidence",
    "observations", "attrs", "geom",
]
# CAMS (County) and City Addresses layer spellings of each part, first match wins.
_CAMS = {
    "number": ("Number", "HSE_NBR"),
    "fraction": ("NumSuffix", "HSE_FRAC_NBR"),
    "pre_dir": ("PreDir", "HSE_DIR_CD"),
    "name": ("StreetName", "STR_NM"),
    "suffix": ("PostType", "STR_SFX_CD"),
    "post_dir": ("PostDir", "STR_SFX_DIR_CD"),
    "unit_type": ("UnitType",),
    "unit": ("UnitName", "UNIT_RANGE"),
    "zip": ("ZipCode", "ZIP_CD"),
    "community": ("LegalComm",),
    "id": ("OBJECTID", "HSE_ID", "SourceID"),
}
_CAMS_NAME_PARTS = ("PreMod", "PreType", "StArticle")  # "OLD", "VIA", "DEL" before StreetName
_CAMS_ATTRS = ("AIN", "Source", "SourceID", "MADRank", "NumPrefix", "PostMod", "Zip4", "HSE_ID",
               "PIN", "PIND", "HSE_NBR_SFX", "ASGN_STTS_IND", "ENG_DIST", "CNCL_DIST")

# The stage holds one file's rows for the transaction; the collapse keeps each key's first row,
# listing the units of its rows. A session-private temp table, so concurrent loads never meet.
_STAGE_COLUMNS = ["seq", "collapse_key", *_ADDRESS_COLUMNS]
_STAGE_DROP = text("DROP TABLE IF EXISTS pg_temp.address_stage")
_STAGE_CREATE = text(
    """
    CREATE TEMP TABLE address_stage (
        seq bigint, collapse_key text, source text, source_id text, kind text,
        house_number integer, number_suffix text, pre_dir text, name text, suffix text,
        post_dir text, unit text, zip text, community text, full_address text, street_key text,
        confidence double precision, observations integer, attrs jsonb,
        geom geometry(Point, 4326)
    ) ON COMMIT DROP
    """
)
_STAGE_COLLAPSE = text(
    """
    INSERT INTO address_point (source, source_id, kind, house_number, number_suffix, pre_dir,
        name, suffix, post_dir, unit, zip, community, full_address, street_key, confidence,
        observations, attrs, geom)
    SELECT f.source, f.source_id, f.kind, f.house_number, f.number_suffix, f.pre_dir, f.name,
           f.suffix, f.post_dir, CASE WHEN g.n = 1 THEN f.unit END, f.zip, f.community,
           f.full_address, f.street_key, f.confidence, f.observations,
           CASE WHEN g.n = 1 THEN f.attrs
                ELSE f.attrs || jsonb_build_object('rows', g.n)
                     || CASE WHEN g.units IS NULL THEN '{}'::jsonb
                             ELSE jsonb_build_object('units', to_jsonb(g.units)) END
           END,
           f.geom
    FROM (SELECT collapse_key, count(*) AS n, min(seq) AS first_seq,
                 array_agg(DISTINCT unit ORDER BY unit) FILTER (WHERE unit IS NOT NULL) AS units
          FROM address_stage GROUP BY collapse_key) AS g
    JOIN address_stage AS f ON f.seq = g.first_seq
    ORDER BY g.first_seq
    """
)


@dataclass
class Batch:
    """A batch of rows: columns, each row's lon/lat (NaN when unusable), first row number."""

    columns: Columns
    lon: np.ndarray
    lat: np.ndarray
    first_row: int
    problems: list[str | None] = field(default_factory=list)


@dataclass(frozen=True)
class _Meter:
    """One parking meter of a block face."""

    lon: float
    lat: float
    row: int
    meta: dict[str, Any]


def load_addresses(conn: Connection, path: str | Path, *, fmt: str = "auto",
                   source: str | None = None, commit: bool = False) -> LoadReport:
    """Read, check and (with ``commit``) write one address file.

    :param conn: connection; the caller owns the transaction.
    :param path: GeoJSON/Shapefile/GeoPackage (``.gz`` allowed) or CSV (``.csv``, ``.csv.gz``).
    :param fmt: ``cams`` (County CAMS or City Addresses layer), ``meters`` (LADOT block faces) or
        ``auto`` (detected from the fields).
    :param source: stored on every row; defaults to the file name without extensions.
    :param commit: write, replacing the rows of ``source``.
    :returns: the report; CSV rejects carry the file line number (header is line 1).
    :raises ValueError: unknown format, or ``auto`` cannot tell.
    """
    started = time.monotonic()
    path = Path(path)
    source = source_name(path, source)
    batches = read_batches(path)
    first = next(batches, None)
    fields = list(first.columns.names) if first else []
    if fmt == "auto":
        fmt = detect_address_format(fields)
    if fmt not in ADDRESS_FORMATS:
        raise ValueError(f"unknown address format {fmt!r}; use one of {', '.join(ADDRESS_FORMATS)}")
    report = LoadReport(name=f"{path.name} (addresses, {fmt}, source {source})")
    stream = _counted(_chain(first, batches), report)
    if fmt == "cams":
        _load_cams(conn, source, stream, report, commit)
    else:
        rows = _meter_rows(source, stream, report)
        report.loaded = len(rows)
        if commit:
            conn.execute(delete(AddressPoint).where(AddressPoint.source == source))
            copy_rows(conn, "address_point", _ADDRESS_COLUMNS, rows)
    report.committed = commit
    report.seconds = time.monotonic() - started
    return report


def detect_address_format(fields: Sequence[str]) -> str:
    """Tell the address schema from the field names.

    >>> detect_address_format(["Number", "StreetName", "PostType"])
    'cams'
    >>> detect_address_format(["HSE_NBR", "STR_NM", "ZIP_CD"])
    'cams'
    >>> detect_address_format(["SpaceID", "BlockFace", "lat", "lon"])
    'meters'

    :raises ValueError: when no schema matches.
    """
    upper = {str(f).upper() for f in fields}
    if "BLOCKFACE" in upper or "BLOCK_STREET" in upper:
        return "meters"
    if {"NUMBER", "STREETNAME"} <= upper or {"HSE_NBR", "STR_NM"} <= upper:
        return "cams"
    raise ValueError(
        f"cannot tell the address file format from its fields ({', '.join(sorted(upper)[:12])}); "
        "pass --format cams|meters"
    )


def to_lon_lat(first: Any, second: Any) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lon/lat from a pair of coordinate columns, telling degrees from EPSG:2229 feet by size.

    LA files mislabel both: the parking citations put state-plane feet in ``latitude`` (x, ~6.4
    million) and ``longitude`` (y, ~1.8 million). Degrees are recognised in either order (LA's
    longitude is the negative one); feet when both values exceed 100,000 (the larger is x).
    Anything else, including the 99999 sentinel, becomes NaN.

    >>> first, second = [34.05, -118.25, 6474486.82, 99999], [-118.25, 34.05, 1845002.31, 99999]
    >>> lon, lat = to_lon_lat(first, second)
    >>> lon.round(4).tolist()[:3], lat.round(4).tolist()[:3], bool(np.isnan(lon[3]))
    ([-118.25, -118.25, -118.2878], [34.05, 34.05, 34.0618], True)

    :param first: first column (any numbers or numeric text).
    :param second: second column.
    :returns: (lon, lat) float arrays.
    """
    a = pd.to_numeric(pd.Series(first, dtype=object), errors="coerce").to_numpy(dtype=float)
    b = pd.to_numeric(pd.Series(second, dtype=object), errors="coerce").to_numpy(dtype=float)
    lon = np.full(a.shape, np.nan)
    lat = np.full(a.shape, np.nan)
    degrees = (np.abs(a) <= 180) & (np.abs(b) <= 180) & ((a < 0) ^ (b < 0))
    lon[degrees] = np.where(a[degrees] < 0, a[degrees], b[degrees])
    lat[degrees] = np.where(a[degrees] < 0, b[degrees], a[degrees])
    feet = (a > 100_000) & (b > 100_000) & np.isfinite(a) & np.isfinite(b)
    if feet.any():
        x, y = np.maximum(a[feet], b[feet]), np.minimum(a[feet], b[feet])
        lon[feet], lat[feet] = _TO_WGS84_FROM_FEET.transform(x, y)
    return lon, lat


def find_coordinate_columns(columns: Columns) -> tuple[str, str] | None:
    """The first coordinate column pair of :data:`COORDINATE_COLUMNS` present in the file."""
    for one, two in COORDINATE_COLUMNS:
        if columns.has(one, two):
            return columns.first(one) or one, columns.first(two) or two
    return None


def read_batches(path: Path, batch_rows: int = BATCH_ROWS) -> Iterator[Batch]:
    """Stream a CSV or vector file as batches with WGS84 lon/lat per row.

    Points come from the geometry, else from a coordinate column pair (degrees or 2229 feet),
    else from a ``LatLng``/``Location`` text holding ``(lat, lon)``.
    """
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz", ".txt", ".txt.gz")):
        yield from _csv_batches(path, batch_rows)
    else:
        yield from _vector_batches(path, batch_rows)


# ---------------------------------------------------------------- readers


def _csv_batches(path: Path, batch_rows: int) -> Iterator[Batch]:
    row = 2  # line 1 is the header
    with pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=batch_rows,
                     encoding="utf-8-sig") as chunks:
        for chunk in chunks:
            columns = Columns(chunk.reset_index(drop=True))
            lon, lat, problems = _points_from_columns(columns, None)
            yield Batch(columns, lon, lat, row, problems)
            row += len(chunk)


def _vector_batches(path: Path, batch_rows: int) -> Iterator[Batch]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Could not parse column", category=UserWarning)
        with pyogrio.open_arrow(ogr_path(path), batch_size=batch_rows, use_pyarrow=True) as (
                meta, reader):
            crs = CRS.from_user_input(meta["crs"]) if meta.get("crs") else CRS.from_epsg(WGS84)
            transform = None if crs.to_epsg() == WGS84 else Transformer.from_crs(
                crs, WGS84, always_xy=True)
            geometry_name = meta.get("geometry_name") or "wkb_geometry"
            row = 1
            for record_batch in reader:
                frame = record_batch.to_pandas()
                wkb = frame.pop(geometry_name).to_numpy() if geometry_name in frame else None
                columns = Columns(frame)
                geoms = shapely.from_wkb(wkb) if wkb is not None else None
                lon, lat, problems = _points_from_columns(columns, geoms, transform)
                yield Batch(columns, lon, lat, row, problems)
                row += len(frame)


def _points_from_columns(columns: Columns, geoms: np.ndarray | None,
                         transform: Transformer | None = None
                         ) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    size = columns.length
    lon = np.full(size, np.nan)
    lat = np.full(size, np.nan)
    if geoms is not None:
        points = shapely.get_type_id(geoms) == 0
        points &= ~shapely.is_empty(geoms)
        if points.any():
            lon[points] = shapely.get_x(geoms[points])
            lat[points] = shapely.get_y(geoms[points])
            if transform is not None:
                lon[points], lat[points] = transform.transform(lon[points], lat[points])
    missing = ~np.isfinite(lon) | ~np.isfinite(lat)
    for one, two in COORDINATE_COLUMNS:  # the City layer has LAT/LON and X/Y feet, either empty
        if missing.any() and columns.has(one, two):
            x, y = to_lon_lat(columns.get(one), columns.get(two))
            lon[missing], lat[missing] = x[missing], y[missing]
            missing = ~np.isfinite(lon) | ~np.isfinite(lat)
    text_column = columns.first("LatLng", "Location", "Location 1")
    if missing.any() and text_column:
        texts = columns.text(text_column)
        for i in np.flatnonzero(missing):
            match = _LATLNG_TEXT.search(texts[i] or "")
            if match:
                lon[i], lat[i] = float(match.group(2)), float(match.group(1))
    missing = ~np.isfinite(lon) | ~np.isfinite(lat)
    inside = (lon >= LA_BOUNDS[0]) & (lon <= LA_BOUNDS[2]) & (lat >= LA_BOUNDS[1]) & (
        lat <= LA_BOUNDS[3])
    problems: list[str | None] = [
        "missing or unparseable coordinates" if gone else
        None if ok else f"coordinates outside Los Angeles ({x:.5f}, {y:.5f})"
        for gone, ok, x, y in zip(missing.tolist(), inside.tolist(), lon.tolist(), lat.tolist(),
                                  strict=True)
    ]
    return lon, lat, problems


def _counted(batches: Iterator[Batch], report: LoadReport) -> Iterator[Batch]:
    for batch in batches:
        report.read += batch.columns.length
        yield batch


def _chain(first: Batch | None, rest: Iterator[Batch]) -> Iterator[Batch]:
    if first is not None:
        yield first
        yield from rest


# ---------------------------------------------------------------- CAMS / City addresses


def _load_cams(conn: Connection, source: str, batches: Iterator[Batch], report: LoadReport,
               commit: bool) -> None:
    """Stream CAMS rows: each batch is COPYed to a temporary stage, then one INSERT collapses
    the rows of one number, street and point (a building's units) into one address point."""
    seen: set[int] = set()  # hashes of collapse keys: counts points without holding the rows
    if commit:
        conn.execute(_STAGE_DROP)
        conn.execute(_STAGE_CREATE)
    for rows in _cams_batches(source, batches, report):
        seen.update(hash(row[1]) for row in rows)
        if commit:
            copy_rows(conn, "address_stage", _STAGE_COLUMNS, rows)
    report.loaded = len(seen)
    if commit:
        conn.execute(delete(AddressPoint).where(AddressPoint.source == source))
        report.loaded = conn.execute(_STAGE_COLLAPSE).rowcount
        conn.execute(_STAGE_DROP)


def _cams_batches(source: str, batches: Iterator[Batch], report: LoadReport
                  ) -> Iterator[list[tuple[Any, ...]]]:
    """Stage rows (seq, collapse key, address_point columns...) for each batch of the file."""
    seq = 0
    for batch in batches:
        cols = batch.columns
        texts = {part: cols.text(*names) for part, names in _CAMS.items()}
        names = texts["name"]
        leading = [cols.text(name) for name in _CAMS_NAME_PARTS if cols.has(name)]
        if leading:  # CAMS splits "VIA DOLCE", "DEL REY" into PreType/StArticle + StreetName
            names = [" ".join(p for p in parts if p) for parts in zip(*leading, names, strict=True)]
        extra = [(name.lower(), cols.values(name)) for name in _CAMS_ATTRS if cols.has(name)]
        keys = [key for key, _ in extra]
        extras = zip(*(values for _, values in extra), strict=True) if extra else None
        cities = [cols.text(name) for name in ("PCITY1", "PCITY2", "PCITY3") if cols.has(name)]
        postal = zip(*cities, strict=True) if cities else None
        rows: list[tuple[Any, ...]] = []
        for i, (number, fraction, pre, name, suffix, post, unit_type, unit, zip_code, community,
                ident, lon, lat, problem) in enumerate(zip(
                cols.ints(*_CAMS["number"]), texts["fraction"], texts["pre_dir"], names,
                texts["suffix"], texts["post_dir"], texts["unit_type"], texts["unit"],
                texts["zip"], texts["community"], texts["id"], batch.lon.tolist(),
                batch.lat.tolist(), batch.problems, strict=True)):
            row_extra = next(extras) if extras is not None else ()
            row_postal = next(postal) if postal is not None else ()
            row_number = batch.first_row + i
            street = _street_fields(pre, name, suffix, post)
            if number is None:
                report.reject(row_number, "no house number", ident or "")
            elif street is None:
                report.reject(row_number, "no street name", ident or "")
            elif problem:
                report.reject(row_number, problem, ident or "")
            else:
                attrs = {k: v for k, v in zip(keys, row_extra, strict=True) if v is not None}
                cities_here = [c for c in row_postal if c]
                if cities_here:
                    attrs["postal_cities"] = cities_here
                house = f"{number} {fraction}" if fraction else str(number)
                full = f"{house} {street[4]}"
                seq += 1
                rows.append((
                    seq, f"{full}|{lon!r}|{lat!r}",  # units of a building share its point
                    source, (ident or str(row_number))[:64], "address", number,
                    fraction[:16] if fraction else None, *street[:4],
                    (f"{unit_type} {unit}" if unit_type and unit else unit or unit_type),
                    _zip(zip_code), community, full, street[5], 1.0, 1, attrs,
                    f"SRID={WGS84};POINT({lon!r} {lat!r})",
                ))
        yield rows


# ---------------------------------------------------------------- LADOT meter block faces


def _meter_rows(source: str, batches: Iterator[Batch], report: LoadReport) -> list[tuple[Any, ...]]:
    faces: dict[str, list[_Meter]] = {}
    for batch in batches:
        cols = batch.columns
        texts = cols.text("BlockFace", "block_face")
        numbers = cols.ints("block_number")
        streets = cols.text("block_street")
        ids = cols.text("SpaceID", "space_id", "meter_id")
        kinds = cols.text("MeterType")
        limits = cols.text("MeteredTimeLimit")
        rates = cols.text("RateRange")
        for i in range(cols.length):
            row_number = batch.first_row + i
            face = (texts[i] or "").upper()
            if not _BLOCKFACE.match(face) and numbers[i] and streets[i]:
                face = f"{numbers[i]} {streets[i]}".upper()
            key = ids[i] or face
            if not face:
                report.reject(row_number, "no block face", key)
            elif not _BLOCKFACE.match(face):
                report.reject(row_number, f"block face {face[:40]!r} has no hundred-block number",
                              key)
            elif batch.problems[i]:
                report.reject(row_number, batch.problems[i] or "", key)
            else:
                meta = {"type": kinds[i], "limit": limits[i], "rate": rates[i]}
                faces.setdefault(face, []).append(
                    _Meter(float(batch.lon[i]), float(batch.lat[i]), row_number, meta))
    rows: list[tuple[Any, ...]] = []
    for face, meters in faces.items():
        match = _BLOCKFACE.match(face)
        assert match is not None  # checked when the meter was read
        number, street_text, side = int(match.group(1)), match.group(2), match.group(3)
        street = split_street_name(street_text)
        if street is None:
            for meter in meters:
                report.reject(meter.row, f"block face {face[:40]!r} has no street name", face)
            continue
        groups = _split_far_apart(meters)
        if len(groups) > 1:
            report.notes.append(f"block face {face!r} is in {len(groups)} places: one point each")
        for n, group in enumerate(groups, start=1):
            lon = statistics.median(m.lon for m in group)
            lat = statistics.median(m.lat for m in group)
            attrs: dict[str, Any] = {"block_face": face, "meters": len(group)}
            if side:
                attrs["side"] = side
            for name in ("type", "limit", "rate"):
                values = sorted({m.meta[name] for m in group if m.meta[name]})
                if values:
                    attrs[f"meter_{name}s"] = values[:8]
            source_id = (face if len(groups) == 1 else f"{face} #{n}")[:64]
            rows.append(_address_row(source, source_id, "blockface", number, None, street, None,
                                     None, None, 0.5, attrs, lon, lat, observations=len(group)))
    return rows


def _split_far_apart(meters: list[_Meter]) -> list[list[_Meter]]:
    """Split one block face's meters into places more than BLOCKFACE_SPLIT_M apart.

    LADOT block faces carry no N/S/E/W, so "1401 S MAIN ST" and "1401 SIERRA BONITA AV" each
    name two blocks kilometres apart.
    """
    groups: list[list[_Meter]] = []
    for meter in meters:
        for group in groups:
            seed = group[0]
            dx = (meter.lon - seed.lon) * 111_320 * math.cos(math.radians(seed.lat))
            dy = (meter.lat - seed.lat) * 110_574
            if math.hypot(dx, dy) <= BLOCKFACE_SPLIT_M:
                group.append(meter)
                break
        else:
            groups.append([meter])
    return groups


# ---------------------------------------------------------------- rows


def _address_row(source: str, source_id: str, kind: str, number: int, fraction: str | None,
                 street: StreetRef, unit: str | None, zip_code: str | None,
                 community: str | None, confidence: float, attrs: dict[str, Any],
                 lon: float, lat: float, observations: int = 1) -> tuple[Any, ...]:
    house = f"{number} {fraction}" if fraction else str(number)
    point = f"SRID={WGS84};POINT({lon!r} {lat!r})"
    return (
        source, source_id[:64], kind, number, fraction[:16] if fraction else None, street.pre_dir,
        street.name, street.suffix, street.post_dir, unit, _zip(zip_code), community,
        f"{house} {_label(street)}", _key(street), confidence, observations, attrs, point,
    )


@lru_cache(maxsize=131072)
def _street_fields(pre: str | None, name: str | None, suffix: str | None, post: str | None
                   ) -> tuple[str | None, str, str | None, str | None, str, str] | None:
    """(pre_dir, name, suffix, post_dir, label, street_key) of a street given in parts."""
    street = street_parts(pre, name, suffix, post)
    if street is None:
        return None
    return (street.pre_dir, street.name, street.suffix, street.post_dir, _label(street),
            _key(street))


@lru_cache(maxsize=65536)
def _key(street: StreetRef) -> str:
    return street_key(street.name, street.suffix)


@lru_cache(maxsize=65536)
def _label(street: StreetRef) -> str:
    return street.label()


@lru_cache(maxsize=4096)
def _zip(value: str | None) -> str | None:
    if not value:
        return None
    digits = value.split(".")[0].split("-")[0].strip()
    return digits.zfill(5)[:10] if digits.isdigit() and int(digits) else None
