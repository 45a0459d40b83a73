"""Completions while a resident types: addresses, streets, intersections and places (EN/ES keywords)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection

from geo311.address_parse import normalize_street_name
from geo311.db import driver_cursor, load_driver_sql

__all__ = ["Completion", "autocomplete", "PLACE_KEYWORDS"]

#: Words (English and Spanish, accents folded) that ask for a kind of facility.
PLACE_KEYWORDS = {
    "LIBRARY": "library", "BIBLIOTECA": "library",
    "POLICE": "police_station", "POLICIA": "police_station", "LAPD": "police_station",
    "COMISARIA": "police_station", "FIRE": "fire_station", "BOMBEROS": "fire_station",
    "ESTACION DE BOMBEROS": "fire_station", "SHERIFF": "sheriff_police_station",
}

_STREETS = text(
    """
    SELECT street_key, pre_dirs, weight FROM street_name
    WHERE street_key LIKE :prefix ORDER BY weight DESC, street_key LIMIT :limit
    """
)
_ADDRESSES = text(
    """
    SELECT DISTINCT ON (full_address) full_address, ST_X(geom) AS lon, ST_Y(geom) AS lat, kind
    FROM address_point
    WHERE house_number = :number AND street_key LIKE :prefix AND kind IN ('address', 'observed')
    ORDER BY full_address LIMIT :limit
    """
)
_CROSS = text(
    """
    SELECT DISTINCT b.full_name AS cross_name FROM street_segment a
    JOIN street_segment b ON ST_DWithin(a.geom, b.geom, 0.00003) AND b.street_key <> a.street_key
    WHERE a.street_key = ANY(CAST(:keys AS text[])) AND b.street_key LIKE :prefix
    LIMIT :limit
    """
)
@dataclass(frozen=True)
class Completion:
    """One suggestion: what to show, what it is, and where (when known)."""

    text: str
    kind: str  # address | street | intersection | place | area
    lon: float | None = None
    lat: float | None = None

    def as_dict(self) -> dict:
        """JSON form."""
        return {"text": self.text, "kind": self.kind, "lon": self.lon, "lat": self.lat}


def autocomplete(conn: Connection, query: str, limit: int = 10) -> list[Completion]:
    """The best ``limit`` completions for a partial query.

    :param conn: database connection.
    :param query: what the user has typed so far.
    :param limit: at most this many (10 by default).
    :returns: completions, most useful first.
    """
    typed = _fold(query).strip()
    if len(typed) < 2:
        return []
    out: list[Completion] = []
    cross = re.split(r"\s+(?:&|AND|Y|AT|/)\s+|\s*[&/]\s*", typed, maxsplit=1)
    number = re.match(r"^(\d{1,6})\s+(.+)$", typed)
    if len(cross) == 2 and cross[1]:
        out += _intersections(conn, cross[0], cross[1], limit)
        out += _by_name(conn, typed, None, limit)
    elif number:
        prefix = normalize_street_name(_strip_dir(number.group(2))) or number.group(2)
        for row in conn.execute(_ADDRESSES, {"number": int(number.group(1)), "prefix": f"{prefix}%",
                                             "limit": limit}):
            out.append(Completion(row.full_address, "address", row.lon, row.lat))
    else:
        street_prefix = normalize_street_name(_strip_dir(typed)) or typed
        out += _by_name(conn, typed, street_prefix, limit)
    seen: set[str] = set()
    unique = []
    for item in out:
        if item.text not in seen:
            seen.add(item.text)
            unique.append(item)
    return unique[:limit]


def _intersections(conn: Connection, first: str, second: str, limit: int) -> list[Completion]:
    first_name = normalize_street_name(_strip_dir(first))
    keys = [r.street_key for r in conn.execute(_STREETS, {"prefix": f"{first_name}%", "limit": 3})]
    if not keys:
        return []
    prefix = normalize_street_name(_strip_dir(second)) or second
    rows = conn.execute(_CROSS, {"keys": keys, "prefix": f"{prefix}%", "limit": limit})
    return [Completion(f"{keys[0]} & {r.cross_name}", "intersection") for r in rows]


def _by_name(conn: Connection, typed: str, street_prefix: str | None,
             limit: int) -> list[Completion]:
    """Streets starting with ``street_prefix`` (when given), then places and areas named like the
    text, in one statement (``complete_names.sql``; not prepared by force, see
    :func:`geo311.locate._read_point`)."""
    facility_type = next((t for word, t in PLACE_KEYWORDS.items() if typed.startswith(word)), None)
    params = {"with_streets": street_prefix is not None, "prefix": f"{street_prefix or ''}%",
              "contains": f"%{typed}%", "starts": f"{typed}%", "ftype": facility_type,
              "limit": limit}
    with driver_cursor(conn) as cursor:
        cursor.execute(load_driver_sql("complete_names"), params)
        rows = cursor.fetchall()
    return [Completion(text_, kind, lon, lat) for kind, text_, lon, lat in rows]


def _fold(value: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", ascii_text.upper())


def _strip_dir(value: str) -> str:
    return re.sub(r"^(N|S|E|W|NORTH|SOUTH|EAST|WEST)\.?\s+", "", value.strip())
