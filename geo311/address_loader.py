"""Load address points: the County/City address layers (CAMS) and LADOT meter block faces.

Files are read in batches (pyogrio Arrow batches for vector files, pandas chunks for CSV), so the
City's ~1M-point layer streams through the same code as the Venice sample. Rows are normalized
with :mod:`geo311.address_parse`; rows for one number, street and point (units of a building)
collapse into one point listing its units. Loading is a dry run unless ``commit``; a committed load
replaces every row of the same ``source`` with one ``COPY`` in the caller's transaction.
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
from sqlalchemy import delete
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


@dataclass
class _Point:
    """One address point being built; rows that collapse into it add units."""

    row: tuple[Any, ...]
    units: list[str] = field(default_factory=list)
    rows: int = 1


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
    rows = _cams_rows(source, stream, report) if fmt == "cams" else _meter_rows(
        source, stream, report)
    report.loaded = len(rows)
    if commit:
        conn.execute(delete(AddressPoint).where(AddressPoint.source == source))
        copy_rows(conn, "address_point", _ADDRESS_COLUMNS, rows)
        report.committed = True
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


def _cams_rows(source: str, batches: Iterator[Batch], report: LoadReport) -> list[tuple[Any, ...]]:
    points: dict[tuple[Any, ...], _Point] = {}
    for batch in batches:
        cols = batch.columns
        get = {part: cols.text(*names) for part, names in _CAMS.items()}
        numbers = cols.ints(*_CAMS["number"])
        leading = [cols.text(name) for name in _CAMS_NAME_PARTS if cols.has(name)]
        extra = [(name.lower(), cols.values(name)) for name in _CAMS_ATTRS if cols.has(name)]
        cities = [cols.text(name) for name in ("PCITY1", "PCITY2", "PCITY3") if cols.has(name)]
        for i in range(cols.length):
            row_number = batch.first_row + i
            key_text = get["id"][i] or ""
            name_words = [part[i] or "" for part in leading] + [get["name"][i] or ""]
            street = street_parts(get["pre_dir"][i], " ".join(name_words).strip(),
                                  get["suffix"][i], get["post_dir"][i])
            number = numbers[i]
            if number is None:
                report.reject(row_number, "no house number", key_text)
                continue
            if street is None:
                report.reject(row_number, "no street name", key_text)
                continue
            if batch.problems[i]:
                report.reject(row_number, batch.problems[i] or "", key_text)
                continue
            fraction = get["fraction"][i]
            lon, lat = float(batch.lon[i]), float(batch.lat[i])
            unit = " ".join(p for p in (get["unit_type"][i], get["unit"][i]) if p) or None
            key = (number, fraction, street, lon, lat)  # units of a building share its point
            point = points.get(key)
            if point is not None:
                point.rows += 1
                if unit:
                    point.units.append(unit)
                continue
            attrs = {name: values[i] for name, values in extra if values[i] is not None}
            postal = [c[i] for c in cities if c[i]]
            if postal:
                attrs["postal_cities"] = postal
            row = _address_row(source, key_text or str(row_number), "address", number, fraction,
                               street, unit, get["zip"][i], get["community"][i], 1.0, attrs,
                               lon, lat)
            points[key] = _Point(row=row, units=[unit] if unit else [])
    return [_with_units(point) for point in points.values()]


def _with_units(point: _Point) -> tuple[Any, ...]:
    if point.rows == 1:
        return point.row
    row = list(point.row)
    attrs = dict(row[16])
    attrs["rows"] = point.rows
    if point.units:
        attrs["units"] = sorted(set(point.units), key=_natural)
    row[9] = None  # a collapsed point is the building; its units are listed in attrs
    row[16] = attrs
    return tuple(row)


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


@lru_cache(maxsize=65536)
def _key(street: StreetRef) -> str:
    return street_key(street.name, street.suffix)


@lru_cache(maxsize=65536)
def _label(street: StreetRef) -> str:
    return street.label()


def _zip(value: str | None) -> str | None:
    if not value:
        return None
    digits = value.split(".")[0].split("-")[0].strip()
    return digits.zfill(5)[:10] if digits.isdigit() and int(digits) else None


def _natural(text: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))
