"""Streaming reader for MyLA311 service-request exports (CSV or JSON, plain or gzipped).

Four layouts are recognised by their header (never by file name):

- ``myla311_2016``: data.lacity.org CSV with CamelCase display names (``SRNumber``,
  ``CreatedDate`` as ``01/01/2018 12:00:09 AM``), used by the 2016-2019 exports.
- ``myla311_2020``: the same fields under lower-case API names (``srnumber``, ``createddate`` as
  ``2020-01-01 00:05:00``), used by the 2020+ exports and by Socrata JSON.
- ``hfla_api``: Hack for LA 311-data API extracts (``typeName``, ``agencyName``, ``councilId``).
- ``open_requests_json``: ``{srnumber, requesttype, latitude, longitude}`` snapshots.

Column order and extra columns do not matter. Every timestamp in these files is LA local time
without an offset, so naive values get ``America/Los_Angeles`` attached.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import math
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from types import MappingProxyType
from typing import IO
from zoneinfo import ZoneInfo

__all__ = [
    "FORMATS",
    "LA_COUNTY_BBOX",
    "LA_TZ",
    "REQUEST_TYPES",
    "MyLA311Record",
    "RejectedRow",
    "detect_format",
    "iter_records",
]

LA_TZ = ZoneInfo("America/Los_Angeles")
#: Generous LA County box (min_lon, min_lat, max_lon, max_lat): anything outside is a bad geocode.
LA_COUNTY_BBOX = (-119.0, 33.6, -117.6, 34.9)
FORMATS = ("myla311_2016", "myla311_2020", "hfla_api", "open_requests_json")
#: The City's RequestType values (every MyLA311 export 2016-2025 uses these twelve).
REQUEST_TYPES = (
    "Bulky Items", "Dead Animal Removal", "Electronic Waste", "Feedback", "Graffiti Removal",
    "Homeless Encampment", "Illegal Dumping Pickup", "Metal/Household Appliances",
    "Multiple Streetlight Issue", "Other", "Report Water Waste", "Single Streetlight Issue",
)  # fmt: skip

_JSON_CHUNK = 1 << 16
_MAX_JSON_ELEMENT = 1 << 22  # give up on an element that is still unparseable after 4 MiB
_RAW_SNIPPET = 60

# Hack for LA shortened the City's type names; map back so one catalogue serves all files.
_HFLA_TYPES = {
    "Graffiti": "Graffiti Removal", "Illegal Dumping": "Illegal Dumping Pickup",
    "Metal/Appliances": "Metal/Household Appliances", "Animal Remains": "Dead Animal Removal",
    "Multiple Streetlights": "Multiple Streetlight Issue",
    "Single Streetlight": "Single Streetlight Issue", "Water Waste": "Report Water Waste",
}  # fmt: skip
# MyLA311 Owner codes -> the agency names Hack for LA uses, so `agency` is one vocabulary.
_OWNER_AGENCY = {
    "BOS": "Sanitation Bureau", "LASAN": "Sanitation Bureau",
    "OCB": "Office of Community Beautification", "BSL": "Street Lighting Bureau",
    "ITA": "Information Technology Agency", "LADWP": "Department of Water & Power",
    "BSS": "Bureau of Street Services",
}  # fmt: skip
# HfLA ``councilId`` is Hack for LA's own alphabetical id (Boyle Heights = 5), not the City's
# NC_ID (Boyle Heights = 50), so map the council *name* to the City id used by the NC layer.
_HFLA_COUNCIL_NC = {
    "arleta": "6", "arroyo seco": "42", "atwater village": "37", "bel air-beverly crest": "64",
    "boyle heights": "50", "canndu": "86", "canoga park": "13", "central alameda": "110",
    "central hollywood": "32", "central san pedro": "95", "chatsworth": "99",
    "coastal san pedro": "96", "del rey": "70", "downtown los angeles": "52", "eagle rock": "40",
    "east hollywood": "34", "echo park": "44", "elysian valley riverside": "43",
    "empowerment congress central": "81", "empowerment congress north": "77",
    "empowerment congress southeast": "87", "empowerment congress southwest": "84",
    "empowerment congress west": "79", "encino": "18", "foothill trails district": "9",
    "glassell park": "39", "granada hills north": "4", "granada hills south": "118",
    "greater cypress park": "102", "greater toluca lake": "28", "greater valley glen": "21",
    "greater wilshire": "119", "harbor city": "92", "harbor gateway north": "90",
    "harbor gateway south": "91", "hermon": "126", "historic cultural": "46",
    "historic cultural north": "128", "historic highland park": "41", "hollywood hills west": "29",
    "hollywood studio district": "33", "hollywood united": "30", "la-32": "48",
    "lake balboa": "19", "lincoln heights": "47", "los feliz": "36", "macarthur park": "54",
    "mar vista": "67", "mid city": "73", "mid city west": "58", "mission hills": "101",
    "noho": "24", "noho west": "22", "north hills east": "112", "north hills west": "111",
    "north hollywood northeast": "23", "north westwood": "127", "northridge east": "120",
    "northridge south": "124", "northridge west": "113", "northwest san pedro": "94",
    "olympic park": "104", "p.i.c.o.": "60", "pacoima": "7", "palms": "115",
    "panorama city": "100", "park mesa heights": "80", "pico union": "76", "porter ranch": "114",
    "rampart village": "53", "reseda": "15", "sherman oaks": "26", "silver lake": "38",
    "south central": "78", "south robertson": "61", "studio city": "27", "sun valley area": "8",
    "sunland-tujunga": "10", "sylmar": "5", "tarzana": "17", "unnc": "74", "valley village": "25",
    "van nuys": "20", "venice": "68", "voices": "109", "watts": "88", "west adams": "75",
    "west hills": "11", "west los angeles": "66", "westchester/playa": "71",
    "westlake north": "97", "westlake south": "121", "westside": "62", "westwood": "63",
    "wilmington": "93", "wilshire center - koreatown": "55", "winnetka": "14",
    "woodland hills-warner center": "16", "zapata king": "125",
}  # fmt: skip

_US_DATETIME = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([AaPp][Mm])?)?"
)
_NUMBER = r"([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)"
_WKT_POINT = re.compile(rf"POINT\s*\(\s*{_NUMBER}\s+{_NUMBER}\s*\)", re.IGNORECASE)  # lon lat
_LAT_LON_PAIR = re.compile(rf"\(\s*{_NUMBER}\s*,\s*{_NUMBER}\s*\)")  # Socrata "(lat, lon)"
_TRAILING_ZIP = re.compile(r",\s*(\d{5})\s*$")
_ZIP = re.compile(r"\d{5}(?:-\d{4})?")
_NON_ALNUM = re.compile(r"[^a-z0-9]")
_WHITESPACE = re.compile(r"\s*")
_TRUE, _FALSE = frozenset({"y", "yes", "true", "t", "1"}), frozenset({"n", "no", "false", "f", "0"})


@dataclass(frozen=True)
class MyLA311Record:
    """One service request, normalised across export formats.

    Times are aware (``America/Los_Angeles``); codes (``cd``, ``nc``) are integer strings;
    ``lon``/``lat`` are ``None`` when missing, zero or outside :data:`LA_COUNTY_BBOX`.
    """

    line_no: int
    sr_number: str
    request_type: str | None
    created_at: datetime | None
    updated_at: datetime | None
    closed_at: datetime | None
    service_date: datetime | None
    status: str | None
    owner: str | None
    source: str | None
    action_taken: str | None
    mobile_os: str | None
    assign_to: str | None
    anonymous: bool | None
    address_verified: bool | None
    approximate_address: bool | None
    address: str | None
    house_number: str | None
    direction: str | None
    street_name: str | None
    suffix: str | None
    zip: str | None
    lon: float | None
    lat: float | None
    cd: str | None
    cd_member: str | None
    nc: str | None
    nc_name: str | None
    apc: str | None
    police_precinct: str | None
    agency: str | None
    notes: tuple[str, ...]
    raw: Mapping[str, str] = field(hash=False, repr=False)


@dataclass(frozen=True)
class RejectedRow:
    """A row that cannot become a record; ``raw`` is its original text."""

    line_no: int
    reason: str
    raw: str


def detect_format(header: Sequence[str]) -> str:
    """Name the export layout from its column names (CSV header or JSON object keys).

    :param header: column names in any order; extra columns are ignored.
    :returns: one of :data:`FORMATS`.
    :raises ValueError: if the columns match no known layout (the message lists them).

    >>> detect_format(["Status", "CreatedDate", "SRNumber", "RequestType", "Extra"])
    'myla311_2016'
    >>> detect_format(["srnumber", "requesttype", "latitude", "longitude"])
    'open_requests_json'
    """
    names = {_canon(name): name for name in header}
    if {"srnumber", "typename", "createddate"} <= names.keys():
        return "hfla_api"
    if {"srnumber", "createddate", "requesttype"} <= names.keys():
        return "myla311_2020" if names["srnumber"].islower() else "myla311_2016"
    if {"srnumber", "requesttype", "latitude", "longitude"} <= names.keys():
        return "open_requests_json"
    raise ValueError(
        f"unrecognised MyLA311 header {list(header)[:40]!r}: expected SRNumber with CreatedDate "
        "and RequestType (City export), typeName (Hack for LA API) or RequestType with "
        "Latitude/Longitude (open requests)"
    )


def iter_records(path: str | os.PathLike[str]) -> Iterator[MyLA311Record | RejectedRow]:
    """Stream the records of one export file, in file order, in constant memory.

    Compression (gzip) and container (CSV or JSON array / JSON lines) are sniffed from the
    content. Bad rows come back as :class:`RejectedRow`; they never stop the stream.

    :param path: a ``.csv``, ``.csv.gz``, ``.json`` or ``.json.gz`` file.
    :returns: an iterator of :class:`MyLA311Record` and :class:`RejectedRow`.
    :raises ValueError: if the file is empty or its header matches no known layout (raised on
        the first ``next()``, as the file is only opened then).
    :raises OSError: if the file cannot be read.
    """
    with contextlib.ExitStack() as stack:
        binary: io.BufferedReader | gzip.GzipFile = stack.enter_context(open(path, "rb"))
        if binary.peek(2)[:2] == b"\x1f\x8b":
            binary = stack.enter_context(gzip.GzipFile(fileobj=binary))
        head = binary.peek(4096).removeprefix(b"\xef\xbb\xbf").lstrip()
        text = stack.enter_context(
            io.TextIOWrapper(binary, encoding="utf-8-sig", errors="replace", newline="")
        )
        if head[:1] in (b"[", b"{"):
            yield from _iter_json(text)
        else:
            yield from _iter_csv(text)


def _iter_csv(text: IO[str]) -> Iterator[MyLA311Record | RejectedRow]:
    """Yield records from CSV text, numbering each row by its first physical line."""
    pending: list[str] = []  # physical lines of the row being parsed, kept for RejectedRow.raw

    def lines() -> Iterator[str]:
        for line in text:
            pending.append(line)
            yield line

    reader = csv.reader(lines())
    try:
        header = next(reader)
    except StopIteration:
        raise ValueError("empty file: no header row") from None
    except csv.Error as exc:
        raise ValueError(f"unreadable CSV header: {exc}") from exc
    fmt = detect_format(header)
    keys = [_canon(name) for name in header]
    pending.clear()
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row, reason = [], f"malformed CSV: {exc}"
        else:
            reason = ""
        raw_text = "".join(pending).rstrip("\r\n")
        pending.clear()
        line_no, start = start, reader.line_num + 1
        if not reason and not row:
            continue  # blank line
        if not reason and len(row) != len(header):
            reason = f"wrong number of fields (expected {len(header)}, got {len(row)})"
        result = reason or _build(
            fmt, line_no, dict(zip(keys, map(str.strip, row), strict=True)),
            dict(zip(header, row, strict=True)),
        )
        yield RejectedRow(line_no, result, raw_text) if isinstance(result, str) else result


def _iter_json(text: IO[str]) -> Iterator[MyLA311Record | RejectedRow]:
    """Yield records from a JSON array (or JSON lines), numbered by element index + 1."""
    fmt = ""
    for index, item in enumerate(_json_values(text), start=1):
        if isinstance(item, RejectedRow):
            yield RejectedRow(index, item.reason, item.raw)
            return  # cannot resynchronise inside broken JSON
        if not isinstance(item, dict):
            yield RejectedRow(index, "JSON element is not an object", _dumps(item))
            continue
        fmt = fmt or detect_format(list(item))
        raw = {str(key): _json_text(value) for key, value in item.items()}
        result = _build(fmt, index, {_canon(key): value.strip() for key, value in raw.items()},
                        raw)
        yield RejectedRow(index, result, _dumps(item)) if isinstance(result, str) else result


def _json_values(text: IO[str]) -> Iterator[object]:
    """Decode top-level array elements (or concatenated values) chunk by chunk."""
    decoder = json.JSONDecoder()
    buf, pos, eof, in_array = "", 0, False, None
    while True:
        pos = _WHITESPACE.match(buf, pos).end()  # type: ignore[union-attr]
        if pos >= len(buf):
            if eof:
                return
            buf, pos, eof = _refill(text, buf, pos)
            continue
        char = buf[pos]
        if in_array is None:
            in_array = char == "["
            pos += in_array
            continue
        if in_array and char in ",]":
            if char == "]":
                return
            pos += 1
            continue
        try:
            value, end = decoder.raw_decode(buf, pos)
            complete = end < len(buf) or eof  # a number cut at the chunk edge looks valid
        except json.JSONDecodeError as exc:
            if eof or len(buf) - pos > _MAX_JSON_ELEMENT:
                yield RejectedRow(0, f"invalid JSON: {exc.msg}", buf[pos : pos + 200])
                return
            complete = False
        if complete:
            yield value
            pos = end
        else:
            buf, pos, eof = _refill(text, buf, pos)


def _refill(text: IO[str], buf: str, pos: int) -> tuple[str, int, bool]:
    """Drop consumed text and append the next chunk; report end of file."""
    chunk = text.read(_JSON_CHUNK)
    return buf[pos:] + chunk, 0, not chunk


def _build(fmt: str, line_no: int, row: dict[str, str], raw: dict[str, str]) -> MyLA311Record | str:
    """Turn one row (keys canonicalised, cells stripped) into a record, or return the reason to
    reject it. An empty cell is None: ``row.get(key) or None`` (one strip per cell up front, not
    a helper call per field: a tenth of the reader's time)."""
    notes: list[str] = []
    if fmt == "hfla_api":
        row = _from_hfla(row, notes)
    sr_number = row.get("srnumber") or None
    if sr_number is None:
        return "missing SRNumber"
    created_at = None
    if fmt != "open_requests_json":
        created_text = row.get("createddate") or None
        if created_text is None:
            return "missing CreatedDate"
        created_at = _parse_datetime(created_text)
        if created_at is None:
            return f"unparseable CreatedDate {created_text[:_RAW_SNIPPET]!r}"
    closed_at = _datetime_field(row, "closeddate", "ClosedDate", notes)
    if closed_at is not None and created_at is not None and closed_at < created_at:
        notes.append("ClosedDate before CreatedDate")
    lon, lat = _point(row, notes)
    owner = row.get("owner") or None
    return _record(
        line_no=line_no,
        sr_number=sr_number,
        request_type=row.get("requesttype") or None,
        created_at=created_at,
        updated_at=_datetime_field(row, "updateddate", "UpdatedDate", notes),
        closed_at=closed_at,
        service_date=_datetime_field(row, "servicedate", "ServiceDate", notes),
        status=row.get("status") or None,
        owner=owner,
        source=row.get("requestsource") or None,
        action_taken=row.get("actiontaken") or None,
        mobile_os=row.get("mobileos") or None,
        assign_to=row.get("assignto") or None,
        anonymous=_flag(row, "anonymous", "Anonymous", notes),
        address_verified=_flag(row, "addressverified", "AddressVerified", notes),
        approximate_address=_flag(row, "approximateaddress", "ApproximateAddress", notes),
        address=row.get("address") or None,
        house_number=row.get("housenumber") or None,
        direction=row.get("direction") or None,
        street_name=row.get("streetname") or None,
        suffix=row.get("suffix") or None,
        zip=_zip(row, notes),
        lon=lon,
        lat=lat,
        cd=_code(row.get("cd"), "CD", notes),
        cd_member=row.get("cdmember") or None,
        nc=_code(row.get("nc"), "NC", notes),
        nc_name=row.get("ncname") or None,
        apc=row.get("apc") or None,
        police_precinct=row.get("policeprecinct") or None,
        agency=row.get("agencyname") or _OWNER_AGENCY.get((owner or "").upper()),
        notes=tuple(notes),
        raw=MappingProxyType(raw),
    )


def _record(**values: object) -> MyLA311Record:
    """A record made without the frozen dataclass's ``__init__``, which sets each of the 33
    fields through ``object.__setattr__`` (a fifth of the reader's time); filling ``__dict__`` at
    once gives an equal object. Every field must be passed: no default applies
    (``tests/unit/test_myla311.py`` checks the reader's records have exactly the fields)."""
    record = object.__new__(MyLA311Record)
    record.__dict__.update(values)
    return record


def _from_hfla(row: dict[str, str], notes: list[str]) -> dict[str, str]:
    """Rename Hack for LA API fields to the City's names and codes."""
    out = dict(row)
    type_name = row.get("typename") or None
    if type_name is not None:
        out["requesttype"] = _HFLA_TYPES.get(type_name, type_name)
        if out["requesttype"] not in REQUEST_TYPES:
            notes.append(f"unmapped typeName {type_name!r}")
    out["requestsource"] = row.get("sourcename", "")
    council = row.get("councilname") or None
    council_id = row.get("councilid") or None
    if council_id in ("0", "0.0") or (council or "").lower() == "no council":
        out["nc"] = out["ncname"] = ""
        notes.append("no neighborhood council (councilId 0)")
    elif council is not None:
        out["ncname"] = council
        out["nc"] = _HFLA_COUNCIL_NC.get(council.lower(), "")
        if not out["nc"]:
            notes.append(f"unknown councilName {council!r} (councilId {council_id})")
    return out


def _datetime_field(
    row: Mapping[str, str], key: str, label: str, notes: list[str]
) -> datetime | None:
    """Parse an optional timestamp column, noting (not rejecting) bad values."""
    value = row.get(key) or None
    if value is None:
        return None
    parsed = _parse_datetime(value)
    if parsed is None:
        notes.append(f"unparseable {label} {value[:_RAW_SNIPPET]!r}")
    return parsed


@lru_cache(maxsize=1 << 16)
def _parse_datetime(value: str) -> datetime | None:
    """Parse ``MM/DD/YYYY hh:mm:ss AM`` or ISO 8601 text as an aware LA time, else ``None``.

    Cached (datetimes are immutable): a record's UpdatedDate, ClosedDate and ServiceDate often
    repeat each other and the dates of neighbouring records.
    """
    try:
        match = _US_DATETIME.fullmatch(value)
        if match:
            month, day, year, hour, minute, second, half = match.groups()
            hours = int(hour or 0)
            if half:
                if not 1 <= hours <= 12:
                    return None
                hours = hours % 12 + (12 if half.upper() == "PM" else 0)
            parsed = datetime(
                int(year), int(month), int(day), hours, int(minute or 0), int(second or 0)
            )
        else:
            parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=LA_TZ)
    return parsed.astimezone(LA_TZ)


def _point(row: Mapping[str, str], notes: list[str]) -> tuple[float | None, float | None]:
    """Return ``(lon, lat)`` from Latitude/Longitude or Location, or Nones with a note."""
    lat_text, lon_text = (row.get("latitude") or None), (row.get("longitude") or None)
    try:
        if lat_text is not None and lon_text is not None:
            lon, lat = float(lon_text), float(lat_text)
        else:
            location = row.get("location") or None
            if location is None:
                return None, None
            parsed = _parse_location(location)
            if parsed is None:
                notes.append(f"unparseable Location {location[:_RAW_SNIPPET]!r}")
                return None, None
            lon, lat = parsed
    except ValueError:
        notes.append(f"unparseable Latitude/Longitude {lat_text!r}, {lon_text!r}")
        return None, None
    if lon == 0 and lat == 0:
        notes.append("zero coordinates (0, 0)")
        return None, None
    min_lon, min_lat, max_lon, max_lat = LA_COUNTY_BBOX
    if min_lon <= lon <= max_lon and min_lat <= lat <= max_lat:
        return lon, lat
    swapped = min_lon <= lat <= max_lon and min_lat <= lon <= max_lat
    notes.append(
        f"point outside LA County box (lon={lon}, lat={lat})"
        + (": looks swapped" if swapped else "")
    )
    return None, None


def _parse_location(text: str) -> tuple[float, float] | None:
    """Read ``POINT (lon lat)``, Socrata ``(lat, lon)`` or a JSON location object."""
    if match := _WKT_POINT.search(text):
        return float(match[1]), float(match[2])
    if match := _LAT_LON_PAIR.search(text):
        return float(match[2]), float(match[1])
    if text.startswith("{"):
        try:
            obj = json.loads(text)
            if isinstance(obj.get("coordinates"), list):  # GeoJSON Point
                return float(obj["coordinates"][0]), float(obj["coordinates"][1])
            return float(obj["longitude"]), float(obj["latitude"])
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            return None
    return None


def _code(value: str | None, label: str, notes: list[str]) -> str | None:
    """Normalise a numeric code (``10``, ``"10.0"``) to ``"10"``; 0 means missing."""
    text = _text(value)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        notes.append(f"non-numeric {label} {text!r}")
        return text
    if not (math.isfinite(number) and number.is_integer() and number >= 0):
        notes.append(f"non-integer {label} {text!r}")
        return text
    if number == 0:
        notes.append(f"{label} 0 treated as missing")
        return None
    return str(int(number))


def _zip(row: Mapping[str, str], notes: list[str]) -> str | None:
    """Return the 5-digit ZIP from ZipCode, or from the address tail (``..., 90020``)."""
    text = row.get("zipcode") or None
    if text is not None:
        text = text.removesuffix(".0")
        if text.strip("0"):
            if not _ZIP.fullmatch(text):
                notes.append(f"odd ZipCode {text!r}")
            return text
        notes.append(f"ZipCode {text!r} treated as missing")
    match = _TRAILING_ZIP.search(row.get("address") or "")
    return match[1] if match else None


def _flag(row: Mapping[str, str], key: str, label: str, notes: list[str]) -> bool | None:
    """Read a Y/N flag; anything else is ``None`` with a note."""
    text = row.get(key) or None
    if text is None:
        return None
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    notes.append(f"unrecognised {label} {text!r}")
    return None


def _text(value: str | None) -> str | None:
    """Strip a cell; empty means ``None``."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def _canon(name: str) -> str:
    """Fold a column name so ``SRNumber``, ``srnumber`` and ``sr_number`` compare equal."""
    return _NON_ALNUM.sub("", name.lower())


def _json_text(value: object) -> str:
    """Render a JSON value as the text a CSV cell would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value)
    return _dumps(value)


def _dumps(value: object) -> str:
    """Serialise a JSON element for ``RejectedRow.raw``."""
    return json.dumps(value, ensure_ascii=False)
