"""Load the declarative boundary definitions in ``boundaries/*.toml`` into boundary sets and areas.

Each definition names a file, the fields holding the code and name, optional filters, a code
lookup table and the vintage's dates (the ``mapit_import`` options). Loading is a dry run unless
``commit`` is true; a committed load replaces the set of the same type and vintage in one
transaction, so re-running never duplicates.
"""

from __future__ import annotations

import csv
import re
import time
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process
from shapely.geometry import MultiPolygon
from sqlalchemy import delete, insert, text
from sqlalchemy.engine import Connection

from geo311.geometry import to_multipolygon
from geo311.ingest import LoadReport, clean_text, copy_rows, ewkb_hex, progress, read_features
from geo311.models import BoundarySet

__all__ = ["BoundaryDefinition", "read_definitions", "load_boundary", "slugify"]

_SUBDIVIDE_SQL = text(
    """
    INSERT INTO area_part (area_id, set_id, geom)
    SELECT a.id, a.set_id, ST_Subdivide(a.geom, :max_vertices)
    FROM area a WHERE a.set_id = :set_id
    """
)


@dataclass(frozen=True)
class BoundaryDefinition:
    """One boundary dataset: where it is and how to read codes, names and dates from it."""

    name: str
    type_code: str
    vintage: str
    title: str
    file: str
    source: str
    licence: str | None = None
    layer: str | None = None
    code_field: str | None = None
    code_value: str | None = None
    code_format: str = "text"  # text | slug
    code_strip_suffix: str | None = None
    code_lookup: Mapping[str, str] | None = None
    code_aliases: Mapping[str, str] = field(default_factory=dict)
    name_field: str | None = None
    name_value: str | None = None
    name_template: str | None = None
    name_case: str | None = None  # title
    attrs: Mapping[str, str] = field(default_factory=dict)
    include: Mapping[str, Any] | None = None
    exclude: Mapping[str, Any] | None = None
    valid_from: date | None = None
    valid_to: date | None = None


def read_definitions(directory: Path, names: list[str] | None = None) -> list[BoundaryDefinition]:
    """Read boundary definitions, all of them or the named ones (file stems).

    :raises ValueError: for an unknown name or a definition with a bad key.
    """
    available = {path.stem: path for path in sorted(directory.glob("*.toml"))}
    wanted = names or list(available)
    unknown = [name for name in wanted if name not in available]
    if unknown:
        raise ValueError(
            f"unknown boundary definition(s): {', '.join(unknown)}; "
            f"known: {', '.join(available)}"
        )
    definitions = []
    for name in wanted:
        data = tomllib.loads(available[name].read_text(encoding="utf-8"))
        data["type_code"] = data.pop("type")
        try:
            definitions.append(BoundaryDefinition(name=name, **data))
        except TypeError as exc:
            raise ValueError(f"boundaries/{name}.toml: {exc}") from None
    return definitions


def load_boundary(conn: Connection, definition: BoundaryDefinition, data_dir: Path,
                  *, commit: bool = False, max_vertices: int = 128) -> LoadReport:
    """Read, validate and (with ``commit``) write one boundary set.

    :param conn: connection; the caller owns the transaction.
    :param definition: what to load.
    :param data_dir: folder the definition's ``file`` is relative to.
    :param commit: write; otherwise only count and report.
    :param max_vertices: ST_Subdivide limit for the lookup parts.
    :returns: the report with every rejected feature and its reason.
    """
    started = time.monotonic()
    report = LoadReport(name=f"{definition.name} ({definition.type_code} {definition.vintage})")
    frame = read_features(data_dir / definition.file, layer=definition.layer)
    lookup = _read_code_lookup(data_dir, definition.code_lookup)
    rows: list[tuple[str, str, dict, MultiPolygon]] = []
    seen: dict[str, int] = {}
    records = frame.to_dict("records")
    for index, record in enumerate(progress(records, len(records), definition.name), start=1):
        report.read += 1
        if not _passes_filters(record, definition):
            continue
        code = _code_for(record, definition, lookup)
        if code is None:
            report.reject(index, _why_no_code(record, definition),
                          _name_for(record, definition, ""))
            continue
        geom = to_multipolygon(record.get("geometry"))
        if geom is None:
            report.reject(index, "no polygon geometry (empty, or not a polygon)", code)
            continue
        if code in seen:
            # Two features with one code are one area in several pieces (MapIt merges them too).
            prior = rows[seen[code]]
            merged = to_multipolygon(_union(prior[3], geom))
            if merged is None:
                report.reject(index, f"could not merge with the earlier area of code {code}", code)
                continue
            rows[seen[code]] = (prior[0], prior[1], prior[2], merged)
            report.notes.append(f"row {index}: merged into earlier area with code {code}")
            continue
        attrs = {key: _jsonable(_field(record, source)) for key, source in definition.attrs.items()}
        seen[code] = len(rows)
        rows.append((code, _name_for(record, definition, code), attrs, geom))
    report.loaded = len(rows)
    if commit:
        _write_set(conn, definition, rows, max_vertices)
        report.committed = True
    report.seconds = time.monotonic() - started
    return report


def slugify(value: str) -> str:
    """Upper-snake code from a name.

    >>> slugify("Arts District Los Angeles"), slugify("La Cañada Flintridge")
    ('ARTS_DISTRICT_LOS_ANGELES', 'LA_CANADA_FLINTRIDGE')
    """
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z0-9]+", "_", ascii_text.upper()).strip("_")


def _write_set(conn: Connection, definition: BoundaryDefinition, rows: list,
               max_vertices: int) -> None:
    conn.execute(
        delete(BoundarySet).where(
            BoundarySet.type_code == definition.type_code, BoundarySet.vintage == definition.vintage
        )
    )
    set_id = conn.execute(
        insert(BoundarySet)
        .values(
            type_code=definition.type_code, vintage=definition.vintage, title=definition.title,
            valid_from=definition.valid_from, valid_to=definition.valid_to,
            source=definition.source, licence=definition.licence, definition=definition.name,
            feature_count=len(rows),
        )
        .returning(BoundarySet.id)
    ).scalar_one()
    copy_rows(
        conn, "area", ["set_id", "code", "name", "attrs", "geom"],
        ((set_id, code, name, attrs, ewkb_hex(geom)) for code, name, attrs, geom in rows),
    )
    conn.execute(_SUBDIVIDE_SQL, {"set_id": set_id, "max_vertices": max_vertices})
    # Parts arrive in one burst; a GiST index grown row by row answers point probes about half as
    # fast as a freshly built one (measured on the import's district lookup), so rebuild it.
    conn.execute(text("REINDEX TABLE area_part"))
    conn.execute(text("ANALYZE area_part"))


def _field(record: Mapping[str, Any], path: str) -> Any:
    """Read ``a.b`` dotted paths into dict-valued columns (LA Times ``metadata``)."""
    value: Any = record
    for part in path.split("."):
        if isinstance(value, str) and value.startswith("{"):
            import ast

            value = ast.literal_eval(value)
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _passes_filters(record: Mapping[str, Any], definition: BoundaryDefinition) -> bool:
    if definition.include:
        value = clean_text(_field(record, definition.include["field"]))
        if value not in definition.include.get("values", []):
            return False
    if definition.exclude:
        value = clean_text(_field(record, definition.exclude["field"])) or ""
        if value in definition.exclude.get("values", []):
            return False
        if any(value.startswith(prefix) for prefix in definition.exclude.get("prefixes", [])):
            return False
    return True


def _code_for(record: Mapping[str, Any], definition: BoundaryDefinition,
              lookup: Mapping[str, str] | None) -> str | None:
    if definition.code_value:
        return definition.code_value
    if lookup is not None:
        name = clean_text(_field(record, definition.name_field or "")) or ""
        return definition.code_aliases.get(name) or _lookup_code(name, lookup)
    raw = clean_text(_field(record, definition.code_field or ""))
    if raw is None:
        return None
    if definition.code_strip_suffix and raw.endswith(definition.code_strip_suffix):
        raw = raw[: -len(definition.code_strip_suffix)]
    if definition.code_format == "slug":
        return slugify(raw) or None
    if re.fullmatch(r"-?\d+\.0+", raw):
        raw = raw.split(".")[0]
    return raw


def _why_no_code(record: Mapping[str, Any], definition: BoundaryDefinition) -> str:
    if definition.code_lookup:
        name = clean_text(_field(record, definition.name_field or ""))
        return f"name {name!r} matches no entry of {definition.code_lookup['file']}"
    return f"missing code field {definition.code_field!r}"


def _name_for(record: Mapping[str, Any], definition: BoundaryDefinition, code: str) -> str:
    if definition.name_value:
        return definition.name_value
    if definition.name_template:
        return definition.name_template.format(code=code)
    name = clean_text(_field(record, definition.name_field or "")) or code
    if definition.name_case == "title":
        name = name.title()
    return name


def _read_code_lookup(data_dir: Path, spec: Mapping[str, str] | None) -> dict[str, str] | None:
    if not spec:
        return None
    with open(data_dir / spec["file"], newline="", encoding="utf-8-sig") as handle:
        return {
            _name_key(row[spec["key"]]): row[spec["value"]].strip()
            for row in csv.DictReader(handle)
            if row.get(spec["key"]) and row.get(spec["value"])
        }


def _name_key(name: str) -> str:
    """Compare NC names without the words that vary between layers ('NC', 'Neighborhood
    Council')."""
    words = re.sub(r"[^a-z0-9 ]+", " ", name.lower()).split()
    drop = {"nc", "neighborhood", "council", "the", "of"}
    return " ".join(word for word in words if word not in drop)


def _lookup_code(name: str, lookup: Mapping[str, str]) -> str | None:
    key = _name_key(name)
    if key in lookup:
        return lookup[key]
    match = process.extractOne(key, lookup.keys(), scorer=fuzz.token_set_ratio, score_cutoff=88)
    return lookup[match[0]] if match else None


def _union(first: Any, second: Any) -> Any:
    return first.union(second)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, float):
        return None if value != value else value
    return str(value)
