"""Load street centerlines (BOE, Vision Zero HIN, OSM) and BOE intersections (reference tables).

Every loader reads the whole file with pyogrio, normalizes names with :mod:`geo311.address_parse`,
and checks geometry in vectorised shapely/pyproj calls, so the full City layer (~70,000 segments)
loads in seconds. Loading is a dry run unless ``commit`` is true; a committed load replaces every
row of the same ``source`` inside the caller's transaction (COPY, no per-row SQL), then derives
each segment's cross streets with ``sql/derive_cross_streets.sql``.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod, Transformer
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, text
from sqlalchemy.engine import Connection

from geo311.address_parse import (
    StreetRef,
    normalize_direction,
    normalize_street_name,
    normalize_suffix,
    street_key,
)
from geo311.address_words import LA_MINOR_SUFFIXES, LA_STREET_SUFFIXES
from geo311.db import load_sql
from geo311.geometry import CA_SP5_FT, WGS84
from geo311.ingest import LoadReport, clean_int, clean_text, copy_rows, ewkb_hex, read_features
from geo311.models import Intersection, StreetSegment

__all__ = [
    "STREET_FORMATS",
    "LA_BOUNDS",
    "load_streets",
    "load_intersections",
    "detect_street_format",
    "split_street_name",
    "street_parts",
    "geodesic_lengths_m",
    "source_name",
    "read_vector",
    "Columns",
]

STREET_FORMATS = ("boe", "hin", "osm")
#: West, south, east, north of a generous box around LA County; outside it is a bad coordinate.
LA_BOUNDS = (-119.0, 32.7, -117.4, 35.0)
#: Segment ends closer than this (metres) to another street count as touching it.
CROSS_STREET_TOLERANCE_M = 2.0
#: Lines shorter than this (metres) are digitizing slips, not streets.
MIN_LENGTH_M = 0.05

_GEOD = Geod(ellps="WGS84")
# OSM lines in the UCLA extract that are not streets (HVDC power lines, the Getty tram).
_NOT_A_STREET = re.compile(r"\b(KV|INTERTIE|ELECTRODE LINE|TRAM)\b")
_DEAD_END = re.compile(r"^(D/?E|DEAD END)$")
_SEGMENT_COLUMNS = [
    "source", "source_id", "pre_dir", "name", "suffix", "post_dir", "full_name", "street_key",
    "alt_name", "l_from", "l_to", "r_from", "r_to", "l_zip", "r_zip", "from_node", "to_node",
    "from_street", "to_street", "street_class", "length_m", "attrs", "geom",
]


class Columns:
    """Case-insensitive, vectorised access to a frame's columns as plain Python lists."""

    def __init__(self, frame: Any) -> None:
        self.frame = frame
        self.names = {str(c).upper(): c for c in frame.columns if c != "geometry"}
        self.length = len(frame)

    def has(self, *names: str) -> bool:
        """Whether every named column is present."""
        return all(name.upper() in self.names for name in names)

    def first(self, *names: str) -> str | None:
        """The first of the names that is a column (the real spelling), or None."""
        for name in names:
            if name.upper() in self.names:
                return str(self.names[name.upper()])
        return None

    def get(self, *names: str) -> list[Any]:
        """Raw values of the first present column, or Nones."""
        column = self.first(*names)
        if column is None:
            return [None] * self.length
        return self.frame[column].tolist()

    def text(self, *names: str) -> list[str | None]:
        """Stripped text of the first present column; blanks, NaN and 'None'/'nan' become None."""
        column = self.first(*names)
        if column is None:
            return [None] * self.length
        series = self.frame[column]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            return [None if v is None else str(v) for v in self.values(column)]
        return self.values(column)

    def ints(self, *names: str, keep_zero: bool = False) -> list[int | None]:
        """Integers of the first present column ('12.0' -> 12); junk, and 0 unless kept, -> None."""
        column = self.first(*names)
        if column is None:
            return [None] * self.length
        numbers = pd.to_numeric(self.frame[column], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan)
        whole = np.isfinite(numbers) & (numbers == np.round(numbers))
        if not keep_zero:
            whole &= numbers != 0
        return [int(v) if ok else None for v, ok in zip(numbers.tolist(), whole.tolist(),
                                                         strict=True)]

    def values(self, *names: str) -> list[Any]:
        """JSON-ready values of the first present column (numbers stay numbers)."""
        column = self.first(*names)
        if column is None:
            return [None] * self.length
        series = self.frame[column]
        if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
            cleaned = series.astype("string").str.strip()
            cleaned = cleaned.mask(cleaned.isin(["", "None", "nan", "NaN", "NULL"]))
            return [None if v is pd.NA else v for v in cleaned.astype(object).tolist()]
        numbers = series.to_numpy(dtype=float, na_value=np.nan).tolist()
        return [None if v != v else int(v) if v.is_integer() else v for v in numbers]


@dataclass(frozen=True)
class _Segment:
    """The attribute part of one segment row, before geometry."""

    source_id: str
    street: StreetRef
    alt_name: str | None = None
    l_from: int | None = None
    l_to: int | None = None
    r_from: int | None = None
    r_to: int | None = None
    l_zip: str | None = None
    r_zip: str | None = None
    from_node: str | None = None
    to_node: str | None = None
    from_street: str | None = None
    to_street: str | None = None
    street_class: str | None = None
    attrs: dict[str, Any] | None = None


def load_streets(conn: Connection, path: str | Path, *, fmt: str = "auto",
                 source: str | None = None, commit: bool = False) -> LoadReport:
    """Read, check and (with ``commit``) write one street centerline file.

    :param conn: connection; the caller owns the transaction.
    :param path: a GeoJSON/Shapefile/GeoPackage (``.gz`` allowed) in any CRS it declares.
    :param fmt: ``boe``, ``hin``, ``osm`` or ``auto`` (detected from the fields).
    :param source: name stored on every row; defaults to the file name without extensions.
    :param commit: write (replacing the rows of ``source``) and derive cross streets.
    :returns: the report, each reject with its row number and reason.
    :raises ValueError: unknown format, or ``auto`` cannot tell.
    """
    started = time.monotonic()
    path = Path(path)
    source = source_name(path, source)
    frame = read_vector(path)
    columns = Columns(frame)
    if fmt == "auto":
        fmt = detect_street_format(list(columns.names))
    if fmt not in _READERS:
        raise ValueError(f"unknown street format {fmt!r}; use one of {', '.join(STREET_FORMATS)}")
    report = LoadReport(name=f"{path.name} (streets, {fmt}, source {source})", read=len(frame))
    segments = _READERS[fmt](columns)
    rows = list(_segment_rows(source, segments, frame.geometry.to_numpy(), report))
    report.rejected.sort(key=lambda rejected: rejected.row)  # geometry checks run after names
    report.loaded = len(rows)
    if commit:
        conn.execute(delete(StreetSegment).where(StreetSegment.source == source))
        copy_rows(conn, "street_segment", _SEGMENT_COLUMNS, rows)
        conn.execute(text("ANALYZE street_segment"))  # fresh statistics: the join plans on them
        derived = conn.execute(load_sql("derive_cross_streets"),
                               {"source": source, "tolerance_m": CROSS_STREET_TOLERANCE_M})
        report.notes.append(f"cross streets derived for {derived.rowcount} segment(s)")
        report.committed = True
    report.seconds = time.monotonic() - started
    return report


def load_intersections(conn: Connection, path: str | Path, *, source: str | None = None,
                       commit: bool = False) -> LoadReport:
    """Read, check and (with ``commit``) write the BOE intersections layer.

    :param conn: connection; the caller owns the transaction.
    :param path: points with ``CL_NODE_ID``, ``FROM_ST``, ``TO_ST`` (``TOOLTIP``, ``ZIP_CODE``,
        ``LON``/``LAT`` or ``X``/``Y`` in EPSG:2229 feet are used when present).
    :param source: defaults to the file name without extensions.
    :param commit: write, replacing the intersections of ``source``.
    :returns: the report.
    :raises ValueError: when the file has no street name fields.
    """
    started = time.monotonic()
    path = Path(path)
    source = source_name(path, source)
    frame = read_vector(path)
    cols = Columns(frame)
    if not cols.has("FROM_ST", "TO_ST"):
        raise ValueError(f"{path.name}: not an intersections layer (no FROM_ST and TO_ST fields)")
    report = LoadReport(name=f"{path.name} (intersections, source {source})", read=len(frame))
    points = _points_with_fallback(frame.geometry.to_numpy(), cols)
    ids = cols.text("CL_NODE_ID", "NODE_ID", "ASSETID", "OBJECTID")
    rows: list[tuple[Any, ...]] = []
    seen: set[str] = set()
    for index, (node, first, second, tooltip, zip_code, point) in enumerate(zip(
            ids, cols.text("FROM_ST"), cols.text("TO_ST"), cols.text("TOOLTIP"),
            cols.text("ZIP_CODE", "ZIP"), points, strict=True), start=1):
        node_id = (node or str(index))[:64]
        names = [_street_label(value) for value in (first, second)]
        streets = [name for name in names if name]
        if not streets:
            report.reject(index, "no street names (FROM_ST and TO_ST empty)", node_id)
        elif point is None:
            report.reject(index, "no point in LA (geometry, LON/LAT and X/Y missing or outside)",
                          node_id)
        elif node_id in seen:
            report.reject(index, "duplicate CL_NODE_ID", node_id)
        else:
            seen.add(node_id)
            label = tooltip or " at ".join(v for v in (first, second) if v)
            rows.append((source, node_id, streets, label, _zip_text(zip_code),
                         ewkb_hex(shapely.Point(point))))
    report.loaded = len(rows)
    if commit:
        conn.execute(delete(Intersection).where(Intersection.source == source))
        copy_rows(conn, "intersection", ["source", "source_id", "streets", "label", "zip", "geom"],
                  rows)
        report.committed = True
    report.seconds = time.monotonic() - started
    return report


def detect_street_format(fields: Sequence[str]) -> str:
    """Tell the street schema from the field names.

    >>> detect_street_format(["ASSETID", "TDIR", "STNAME", "STSFX", "ADLF"])
    'boe'
    >>> detect_street_format(["street", "from_stree", "to_street"])
    'hin'
    >>> detect_street_format(["seg_id", "name"])
    'osm'

    :raises ValueError: when no schema matches.
    """
    upper = {str(f).upper() for f in fields}
    if {"STNAME", "STSFX"} <= upper and upper & {"TDIR", "ADLF", "INT_ID_FROM", "ASSETID"}:
        return "boe"
    if ({"STNAME", "FROM_", "TO_"} <= upper) or ({"STREET", "FROM_STREE", "TO_STREET"} <= upper):
        return "hin"
    if "NAME" in upper:
        return "osm"
    raise ValueError(
        "cannot tell the street file format from its fields "
        f"({', '.join(sorted(upper)[:12])}); pass --format boe|hin|osm"
    )


@lru_cache(maxsize=65536)
def split_street_name(text: str | None) -> StreetRef | None:
    """Split a whole street name as datasets print it into direction, name, suffix, direction.

    Dataset names are known to be streets, so LA's minor types (``PLZ``, ``MALL``) count as
    suffixes; other USPS words stay in the name (``MANDEVILLE CANYON``), as do ``WEST BLVD``
    and ``AVENUE 50``.

    >>> split_street_name("South Beverly Glen Boulevard").label()
    'S BEVERLY GLEN BLVD'
    >>> split_street_name("Charles E Young Drive North").label()
    'CHARLES E YOUNG DR N'
    >>> split_street_name("West Blvd").label()
    'WEST BLVD'
    >>> split_street_name("W AVE 59").label(), split_street_name("SUNSET BL").label()
    ('W AVENUE 59', 'SUNSET BLVD')
    """
    cleaned = clean_text(text)
    if cleaned is None:
        return None
    return _split_words(tuple(re.sub(r"[^A-Za-z0-9/' -]+", " ", cleaned).upper().split()))


def street_parts(pre_dir: Any, name: Any, suffix: Any, post_dir: Any) -> StreetRef | None:
    """Normalize a street stored in separate fields (BOE ``TDIR, STNAME, STSFX, SFXDIR``).

    >>> street_parts("S", "Berendo", "Street", " ").label()
    'S BERENDO ST'
    """
    return _parts(clean_text(pre_dir), clean_text(name), clean_text(suffix), clean_text(post_dir))


def geodesic_lengths_m(lines: np.ndarray) -> np.ndarray:
    """Length in metres on the WGS84 ellipsoid of each lon/lat line, in one vectorised pass.

    >>> line = shapely.LineString([(-118.3, 34.0), (-118.3, 34.001)])
    >>> round(float(geodesic_lengths_m(np.array([line]))[0]), 1)
    110.9
    """
    coords, index = shapely.get_coordinates(lines, return_index=True)
    if len(coords) < 2:
        return np.zeros(len(lines))
    same = index[1:] == index[:-1]
    start, end = coords[:-1][same], coords[1:][same]
    _, _, distance = _GEOD.inv(start[:, 0], start[:, 1], end[:, 0], end[:, 1])
    return np.bincount(index[1:][same], weights=distance, minlength=len(lines))


def source_name(path: Path, source: str | None) -> str:
    """The ``source`` stored with rows: the given one, else the file name without extensions.

    >>> source_name(Path("la/koreatown_boe_street_centerline_2026.geojson.gz"), None)
    'koreatown_boe_street_centerline_2026'

    :raises ValueError: longer than the 64 characters the tables hold.
    """
    name = source or path.name.split(".")[0]
    if not name or len(name) > 64:
        raise ValueError(f"source name must be 1 to 64 characters, got {name!r}")
    return name


def read_vector(path: Path) -> gpd.GeoDataFrame:
    """Read a vector file in WGS84; mixed-type GeoJSON columns stay text without a warning."""
    with warnings.catch_warnings():
        # pyogrio warns when a GeoJSON property mixes numbers and text ("battalion": 1, "S/D").
        warnings.filterwarnings("ignore", message="Could not parse column", category=UserWarning)
        return read_features(path)


# ---------------------------------------------------------------- format readers


def _boe_segments(cols: Columns) -> Iterator[_Segment | str]:
    keep = ["SECT_ID", "STNUM", "MAPSHEET", "STATUS", "BSS_ST_CLASS", "Street_Designation",
            "OLD_STREET_DESIGNATION", "DEDRQ_DESC", "REMARKS", "ST_SUBTYPE", "TYPE"]
    kept = [(name.lower(), cols.values(name)) for name in keep if cols.has(name)]
    ids = cols.text("ASSETID", "OBJECTID")
    for i, (asset, tdir, stname, stsfx, sfxdir, alt, alt_sfx, adlf, adlt, adrf, adrt, zip_l, zip_r,
            node_from, node_to, designation, bss) in enumerate(zip(
            ids, cols.text("TDIR"), cols.text("STNAME"), cols.text("STSFX"),
            cols.text("SFXDIR"), cols.text("STNAME_A"), cols.text("STSFX_A"), cols.ints("ADLF"),
            cols.ints("ADLT"), cols.ints("ADRF"), cols.ints("ADRT"), cols.ints("ZIP_L"),
            cols.ints("ZIP_R"), cols.text("INT_ID_FROM"), cols.text("INT_ID_TO"),
            cols.text("Street_Designation"), cols.text("BSS_ST_CLASS"), strict=True)):
        street = _parts(tdir, stname, stsfx, sfxdir)
        if street is None:
            yield "no street name (STNAME empty)"
            continue
        alt_street = _parts(None, alt, alt_sfx, None)
        attrs = {key: values[i] for key, values in kept if values[i] is not None}
        yield _Segment(
            source_id=(asset or str(i + 1))[:64], street=street,
            alt_name=alt_street.label() if alt_street else None,
            l_from=adlf, l_to=adlt, r_from=adrf, r_to=adrt,  # BOE writes 0 for "no range"
            l_zip=_zip_text(zip_l), r_zip=_zip_text(zip_r),
            from_node=_node(node_from), to_node=_node(node_to),
            street_class=designation or bss, attrs=attrs,
        )


def _hin_segments(cols: Columns) -> Iterator[_Segment | str]:
    for i, (oid, name, start, end, global_id) in enumerate(zip(
            cols.text("OBJECTID", "hin_id"), cols.text("STNAME", "street"),
            cols.text("FROM_", "from_stree"), cols.text("TO_", "to_street"),
            cols.text("GlobalID"), strict=True)):
        street = split_street_name(_first_line(name))
        if street is None:
            yield "no street name"
            continue
        limits = {"hin_from": _first_line(start), "hin_to": _first_line(end),
                  "global_id": global_id, "high_injury_network": True}
        yield _Segment(source_id=(oid or str(i + 1))[:64], street=street,
                       from_street=_street_label(_first_line(start)),
                       to_street=_street_label(_first_line(end)),
                       attrs={k: v for k, v in limits.items() if v is not None})


def _osm_segments(cols: Columns) -> Iterator[_Segment | str]:
    ids, names = cols.text("seg_id", "osm_id", "id"), cols.text("name")
    for i, (seg_id, osm_name) in enumerate(zip(ids, names, strict=True)):
        if osm_name is None:
            yield "no street name"
            continue
        if _NOT_A_STREET.search(osm_name.upper()):
            yield f"not a street ({osm_name[:40]})"
            continue
        street = split_street_name(osm_name)
        if street is None:
            yield "no street name"
            continue
        yield _Segment(source_id=(seg_id or str(i + 1))[:64], street=street,
                       attrs={"osm_name": osm_name})


_READERS: dict[str, Callable[[Columns], Iterator[_Segment | str]]] = {
    "boe": _boe_segments, "hin": _hin_segments, "osm": _osm_segments,
}


# ---------------------------------------------------------------- geometry and rows


def _segment_rows(source: str, segments: Iterator[_Segment | str], geoms: np.ndarray,
                  report: LoadReport) -> Iterator[tuple[Any, ...]]:
    """Explode multi-lines, check geometry in bulk, and yield COPY rows in file order."""
    kinds = shapely.get_type_id(geoms)  # -1 for missing, 1 LineString, 5 MultiLineString
    parts: list[tuple[int, str, _Segment, BaseGeometry]] = []
    rows = zip(segments, geoms, kinds, strict=True)
    for index, (segment, geom, kind) in enumerate(rows, start=1):
        if isinstance(segment, str):
            report.reject(index, segment)
            continue
        if kind == 1:
            parts.append((index, segment.source_id, segment, geom))
            continue
        lines, problem = _line_parts(geom)
        if problem:
            report.reject(index, problem, segment.source_id)
            continue
        for number, line in enumerate(lines, start=1):
            part_id = segment.source_id if len(lines) == 1 else f"{segment.source_id}-{number}"
            parts.append((index, part_id, segment, line))
    if not parts:
        return
    lines_array = shapely.force_2d(np.array([part[3] for part in parts], dtype=object))
    lengths = geodesic_lengths_m(lines_array)
    bounds = shapely.bounds(lines_array)
    inside = ((bounds[:, 0] >= LA_BOUNDS[0]) & (bounds[:, 1] >= LA_BOUNDS[1])
              & (bounds[:, 2] <= LA_BOUNDS[2]) & (bounds[:, 3] <= LA_BOUNDS[3]))
    hexes = shapely.to_wkb(shapely.set_srid(lines_array, WGS84), hex=True, include_srid=True)
    seen: set[str] = set()
    for (index, part_id, seg, _line), length, ok, wkb in zip(parts, lengths, inside, hexes,
                                                             strict=True):
        if not ok:
            report.reject(index, "line outside the Los Angeles area (wrong CRS?)", part_id)
        elif length < MIN_LENGTH_M:
            report.reject(index, f"zero-length line ({length:.3f} m)", part_id)
        elif part_id in seen:
            report.reject(index, "duplicate source id", part_id)
        else:
            seen.add(part_id)
            street = seg.street
            yield (source, part_id, street.pre_dir, street.name, street.suffix, street.post_dir,
                   street.label(), _street_key(street.name, street.suffix), seg.alt_name,
                   seg.l_from, seg.l_to, seg.r_from, seg.r_to, seg.l_zip, seg.r_zip,
                   seg.from_node, seg.to_node, seg.from_street, seg.to_street,
                   (seg.street_class or None) and seg.street_class[:32], round(float(length), 2),
                   seg.attrs or {}, wkb)


def _line_parts(geom: BaseGeometry | None) -> tuple[list[BaseGeometry], str | None]:
    """The LineStrings of a line geometry (touching parts of a multi-line merged first)."""
    if geom is None or geom.is_empty:
        return [], "no geometry"
    kind = geom.geom_type
    if kind == "LineString":
        return [geom], None
    if kind != "MultiLineString":
        return [], f"not a line geometry ({kind})"
    lines = [part for part in shapely.get_parts(shapely.line_merge(geom)) if not part.is_empty]
    return lines, None if lines else "no geometry"


def _points_with_fallback(geoms: np.ndarray, cols: Columns) -> list[tuple[float, float] | None]:
    """Each row's lon/lat: the geometry, else LON/LAT fields, else X/Y in EPSG:2229 feet."""
    lons, lats = cols.get("LON", "LONGITUDE"), cols.get("LAT", "LATITUDE")
    xs, ys = cols.get("X"), cols.get("Y")
    feet = Transformer.from_crs(CA_SP5_FT, WGS84, always_xy=True)
    points: list[tuple[float, float] | None] = []
    for geom, lon, lat, x, y in zip(geoms, lons, lats, xs, ys, strict=True):
        point: tuple[float | None, float | None] = (None, None)
        if geom is not None and not geom.is_empty and geom.geom_type == "Point":
            point = (geom.x, geom.y)
        if not _in_la(point):
            point = (_float(lon), _float(lat))
        if not _in_la(point) and _float(x) is not None and _float(y) is not None:
            point = feet.transform(_float(x), _float(y))
        points.append(point if _in_la(point) else None)  # type: ignore[arg-type]
    return points


# ---------------------------------------------------------------- small cleaners


@lru_cache(maxsize=65536)
def _street_key(name: str, suffix: str | None) -> str:
    return street_key(name, suffix)


@lru_cache(maxsize=65536)
def _parts(pre: str | None, name: str | None, suffix: str | None,
           post: str | None) -> StreetRef | None:
    core = normalize_street_name(name or "")
    if not core:
        return None
    return StreetRef(
        name=core,
        pre_dir=normalize_direction(pre) if pre else None,
        suffix=(normalize_suffix(suffix) or suffix.upper()) if suffix else None,
        post_dir=normalize_direction(post) if post else None,
    )


@lru_cache(maxsize=65536)
def _split_words(words: tuple[str, ...]) -> StreetRef | None:
    rest = list(words)
    pre = post = suffix = None
    if len(rest) >= 2 and normalize_direction(rest[0]):
        if len(rest) >= 3 or _suffix(rest[1]) is None:
            pre, rest = normalize_direction(rest[0]), rest[1:]  # "WEST BLVD" is a name
    if len(rest) >= 3 and normalize_direction(rest[-1]) and normalize_suffix(rest[-2]):
        post, rest = normalize_direction(rest[-1]), rest[:-1]
    numbered = len(rest) == 2 and rest[0] in {"AVE", "AV", "AVENUE", "TER", "TERRACE"} \
        and rest[1].isdigit()
    if len(rest) >= 2 and not numbered and _suffix(rest[-1]):
        suffix, rest = _suffix(rest[-1]), rest[:-1]
    name = normalize_street_name(" ".join(rest))
    if not name:
        return None
    return StreetRef(name=name, pre_dir=pre, suffix=suffix, post_dir=post)


def _suffix(word: str) -> str | None:
    standard = normalize_suffix(word)
    if standard in LA_STREET_SUFFIXES or standard in LA_MINOR_SUFFIXES:
        return standard
    return None


def _street_label(text: Any) -> str | None:
    value = clean_text(text)
    if value is None or _DEAD_END.match(value.upper()):
        return None
    street = split_street_name(value)
    return street.label() if street else None


def _first_line(value: Any) -> str | None:
    """HIN limits sometimes carry a second line ("GRAPE ST\\r\\nGRAPE"): keep the first."""
    text = clean_text(value)
    return clean_text(text.splitlines()[0]) if text else None


def _node(value: str | None) -> str | None:
    return None if value in (None, "0") else value


def _zip_text(value: Any) -> str | None:
    number = clean_int(value)
    if number is not None:
        return f"{number:05d}" if 0 < number < 100000 else None
    text = clean_text(value)
    return text[:10] if text else None


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _in_la(point: tuple[float | None, float | None]) -> bool:
    lon, lat = point
    if lon is None or lat is None:
        return False
    return LA_BOUNDS[0] <= lon <= LA_BOUNDS[2] and LA_BOUNDS[1] <= lat <= LA_BOUNDS[3]
