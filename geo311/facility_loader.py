"""Load facility points (police, fire, libraries, places) of one type, choosing fields by detection.

Each file's name, address, id and extra attributes are found from its field names, not its file
name, so a newer export with the same fields loads unchanged: ``name``/``Branch Name``/``DIVISION``
/``station_number`` for the name, ``address``/``addrln1``/``LOCATION``/``Location``/``on_street``
for the address. Loading is a dry run unless ``commit``; a committed load replaces the facilities
of the same type and source in the caller's transaction.
"""

from __future__ import annotations

import re
import string
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlalchemy.engine import Connection

from geo311.address_loader import find_coordinate_columns, read_batches
from geo311.geometry import WGS84
from geo311.ingest import LoadReport, copy_rows
from geo311.models import Facility
from geo311.street_loader import Columns, source_name

__all__ = ["load_facilities", "facility_fields", "FacilityFields"]

_NAME_FIELDS = ("name", "Branch Name", "facility_name", "FacilityName", "station_name",
                "DIVISION", "station_number")
_ADDRESS_FIELDS = ("address", "addrln1", "Address", "street_address", "LOCATION", "on_street")
_ID_FIELDS = ("ext_id", "post_id", "PREC", "station_number", "CL_NODE_ID", "id", "OBJECTID")
_UNIT_FIELDS = ("engine", "truck", "ems", "pumper", "command", "special")
# Fields that are bookkeeping or coordinates, never worth keeping in attrs.
_NOISE = {"objectid", "objectid_1", "shape_leng", "shape_area", "point_x", "point_y", "latitude",
          "longitude", "lat", "lon", "x", "y", "latlng", "nameurlfriendly", "use_type",
          "dis_status", "user_updated", "info1", "info2", "tags", "allcats", "cat1", "cat2",
          "cat3", "isCounty".lower(), "globalid"}
_LATLNG_LINE = re.compile(r"^\(\s*-?\d+(\.\d+)?\s*,\s*-?\d+(\.\d+)?\s*\)$")


class FacilityFields:
    """The fields of one facility file that hold its name, address parts and id."""

    def __init__(self, columns: Columns) -> None:
        self.name = columns.first(*_NAME_FIELDS)
        self.address = columns.first(*_ADDRESS_FIELDS)  # LOCATION also matches LAPL "Location"
        self.line2 = columns.first("addrln2")
        self.city = columns.first("city")
        self.state = columns.first("state")
        self.zip = columns.first("zip", "zip_code", "ZIP_CD")
        self.id = columns.first(*_ID_FIELDS)
        self.units = [c for c in (columns.first(u) for u in _UNIT_FIELDS) if c]
        pair = find_coordinate_columns(columns)
        used = {self.name, self.address, self.line2, self.city, self.state, self.zip, self.id,
                *self.units, *(pair or ())}
        self.extra = [c for c in columns.names.values()
                      if c not in used and _attr_key(str(c)) not in _NOISE]


def facility_fields(fields: Sequence[str]) -> FacilityFields:
    """Which fields a file with these names would use (for checks and docs).

    >>> chosen = facility_fields(["DIVISION", "LOCATION", "PREC"])
    >>> chosen.name, chosen.address, chosen.id
    ('DIVISION', 'LOCATION', 'PREC')
    """
    import pandas as pd

    return FacilityFields(Columns(pd.DataFrame(columns=list(fields))))


def load_facilities(conn: Connection, path: str | Path, *, facility_type: str,
                    source: str | None = None, commit: bool = False) -> LoadReport:
    """Read, check and (with ``commit``) write the facilities of one type from one file.

    :param conn: connection; the caller owns the transaction.
    :param path: GeoJSON/Shapefile (points) or CSV with coordinates (lat/lon columns, feet x/y,
        or a ``Location`` text ending in ``(lat, lon)`` as in the LAPL branch list).
    :param facility_type: e.g. ``police_station``, ``fire_station``, ``library``, ``place``.
    :param source: defaults to the file name without extensions.
    :param commit: write, replacing the facilities of this type and source.
    :returns: the report; rejects name the row and why (no name, no coordinates).
    :raises ValueError: when no name field is found or the type is not a short code.
    """
    started = time.monotonic()
    path = Path(path)
    source = source_name(path, source)
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", facility_type):
        raise ValueError(f"facility type must be a short lower_snake code, got {facility_type!r}")
    report = LoadReport(name=f"{path.name} (facilities, {facility_type}, source {source})")
    rows: list[list[Any]] = []
    fields: FacilityFields | None = None
    for batch in read_batches(path):
        cols = batch.columns
        fields = fields or FacilityFields(cols)
        if fields.name is None:
            raise ValueError(f"{path.name}: no name field (looked for {', '.join(_NAME_FIELDS)})")
        names = cols.text(fields.name)
        ids = cols.text(fields.id) if fields.id else [None] * cols.length
        addresses = _addresses(cols, fields)
        units = [cols.text(u) for u in fields.units]
        extra = [(_attr_key(c), cols.values(c)) for c in fields.extra]
        for i in range(cols.length):
            row_number = batch.first_row + i
            report.read += 1
            name = _display_name(fields.name, names[i])
            if name is None:
                report.reject(row_number, "no name", ids[i] or "")
                continue
            if batch.problems[i]:
                report.reject(row_number, batch.problems[i] or "", name)
                continue
            attrs = {key: values[i] for key, values in extra if values[i] not in (None, "")}
            if name != names[i]:  # a templated name keeps the raw value ("HARBOR", "001")
                attrs[_attr_key(fields.name)] = names[i]
            crew = [u[i] for u in units if u[i]]
            if crew:
                attrs["units"] = crew
            point = f"SRID={WGS84};POINT({float(batch.lon[i])!r} {float(batch.lat[i])!r})"
            rows.append([facility_type, source, ids[i], name, addresses[i], attrs, point])
    _drop_ambiguous_ids(rows, report)
    report.loaded = len(rows)
    if commit:
        conn.execute(delete(Facility).where(Facility.type == facility_type,
                                            Facility.source == source))
        copy_rows(conn, "facility", ["type", "source", "source_id", "name", "address", "attrs",
                                     "geom"], rows)
        report.committed = True
    report.seconds = time.monotonic() - started
    return report


def _display_name(field_name: str, value: str | None) -> str | None:
    """The name shown for a facility: LAPD divisions and LAFD numbers get their usual titles."""
    if not value:
        return None
    key = field_name.upper()
    if key == "DIVISION":
        return f"{string.capwords(value.lower())} Community Police Station"
    if key == "STATION_NUMBER":
        number = value.lstrip("0") if value.isdigit() else value
        return f"Fire Station {number or value}"
    return value


def _addresses(cols: Columns, fields: FacilityFields) -> list[str | None]:
    if fields.address is None:
        return [None] * cols.length
    parts = [cols.text(fields.address)]
    parts += [cols.text(f) if f else [None] * cols.length for f in (fields.line2, fields.city)]
    states = cols.text(fields.state) if fields.state else [None] * cols.length
    zips = cols.text(fields.zip) if fields.zip else [None] * cols.length
    result: list[str | None] = []
    for line1, line2, city, state, zip_code in zip(*parts, states, zips, strict=True):
        lines = [ln.strip() for ln in (line1 or "").splitlines()]
        # LAPL "Location" is "street\ncity, CA zip\n(lat, lon)": keep the address lines only.
        words = [ln for ln in lines if ln and not _LATLNG_LINE.match(ln)]
        words += [p for p in (line2,) if p]
        tail = " ".join(p for p in ((state or "CA") if (city or zip_code) else None, zip_code) if p)
        if city:
            words.append(city)
        if tail:
            words.append(tail)
        result.append(", ".join(words) or None)
    return result


def _drop_ambiguous_ids(rows: list[list[Any]], report: LoadReport) -> None:
    """An id that repeats in the file identifies nothing: clear it rather than pick one."""
    counts: dict[Any, int] = {}
    for row in rows:
        counts[row[2]] = counts.get(row[2], 0) + 1
    repeated = {key for key, n in counts.items() if key is not None and n > 1}
    if repeated:
        report.notes.append(f"{len(repeated)} id value(s) repeat: those rows get no source_id")
        for row in rows:
            if row[2] in repeated:
                row[2] = None


def _attr_key(column: str) -> str:
    """``"Phone Number"`` -> ``"phone_number"``."""
    return re.sub(r"[^a-z0-9]+", "_", column.lower()).strip("_")
