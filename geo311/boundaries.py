"""Point to areas by type and vintage; one area by code; the list of types and vintages (MapIt)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from geo311.area_index import area_index_for, vintage_rank
from geo311.errors import BadRequest, NotFound
from geo311.models import Area, BoundarySet

__all__ = [
    "AreaHit",
    "BoundarySetInfo",
    "LA_TIME",
    "today_in_la",
    "areas_at_point",
    "areas_at_points",
    "list_boundary_sets",
    "known_types",
    "get_area_feature",
    "group_by_type",
]

LA_TIME = ZoneInfo("America/Los_Angeles")


@dataclass(frozen=True)
class AreaHit:
    """One area covering a point."""

    type: str
    code: str
    name: str
    vintage: str

    def as_dict(self) -> dict[str, str]:
        """The public JSON shape: ``{"type", "code", "name", "vintage"}``."""
        return {"type": self.type, "code": self.code, "name": self.name, "vintage": self.vintage}


@dataclass(frozen=True)
class BoundarySetInfo:
    """One loaded vintage of one type."""

    type: str
    vintage: str
    title: str
    valid_from: date | None
    valid_to: date | None
    source: str
    licence: str | None
    area_count: int


def today_in_la() -> date:
    """Today's date in Los Angeles (the default 'as of' date)."""
    return datetime.now(LA_TIME).date()


def areas_at_point(conn: Connection, lon: float, lat: float, on: date | None = None,
                   types: Sequence[str] | None = None) -> list[AreaHit]:
    """Every area covering the point, per type in the vintage in force on ``on``.

    A point on an edge shared by two areas reports both (``ST_Covers`` semantics). Answered from
    the in-memory index of the subdivided parts (geo311.area_index), checked against the
    database's boundary token on every call.

    :param conn: database connection.
    :param lon: longitude (WGS84).
    :param lat: latitude (WGS84).
    :param on: the date whose vintages apply; default today in LA.
    :param types: restrict to these type codes.
    :returns: hits ordered by type and code.
    """
    return area_index_for(conn).lookup(lon, lat, on or today_in_la(), types)


def areas_at_points(conn: Connection, points: Sequence[tuple[float | None, float | None]],
                    dates: Sequence[date | None] | date | None = None,
                    types: Sequence[str] | None = None) -> list[list[AreaHit]]:
    """Set-based lookup for many points in one call (imports, batch geocoding), vectorised.

    :param points: ``(lon, lat)`` pairs; a None coordinate gives an empty list.
    :param dates: one date for all, or one per point (None means today).
    :param types: restrict to these type codes.
    :returns: one list of hits per input point, in input order.
    """
    today = today_in_la()
    if dates is None or isinstance(dates, date):
        day_list = [dates or today] * len(points)
    else:
        if len(dates) != len(points):
            raise ValueError("dates must have one entry per point")
        day_list = [d or today for d in dates]
    index = area_index_for(conn)
    return index.lookup_many([p[0] for p in points], [p[1] for p in points], day_list, types)


def list_boundary_sets(conn: Connection) -> list[BoundarySetInfo]:
    """Every loaded type and vintage, with dates, source and area count."""
    counts = (
        select(Area.set_id, func.count().label("n")).group_by(Area.set_id).subquery()
    )
    rows = conn.execute(
        select(BoundarySet, func.coalesce(counts.c.n, 0).label("n"))
        .outerjoin(counts, counts.c.set_id == BoundarySet.id)
        .order_by(BoundarySet.type_code, BoundarySet.valid_from.nulls_first(), BoundarySet.vintage)
    )
    return [
        BoundarySetInfo(
            r.type_code, r.vintage, r.title, r.valid_from, r.valid_to, r.source, r.licence, r.n
        )
        for r in rows
    ]


def known_types(conn: Connection) -> set[str]:
    """The type codes that have at least one loaded set."""
    return set(conn.execute(select(BoundarySet.type_code).distinct()).scalars())


def get_area_feature(conn: Connection, type_code: str, code: str,
                     vintage: str | None = None, on: date | None = None) -> dict:
    """One area as a GeoJSON Feature.

    :param type_code: e.g. ``CD``.
    :param code: the City's identifier, e.g. ``"10"``.
    :param vintage: a specific vintage; default the one in force on ``on`` (today).
    :raises BadRequest: unknown type or vintage.
    :raises NotFound: no such area in that vintage.
    """
    sets = [s for s in list_boundary_sets(conn) if s.type == type_code]
    if not sets:
        raise BadRequest(f"unknown boundary type '{type_code}'")
    if vintage is not None:
        if vintage not in {s.vintage for s in sets}:
            raise BadRequest(
                f"unknown vintage '{vintage}' for {type_code}; known: "
                + ", ".join(s.vintage for s in sets)
            )
        chosen = vintage
    else:
        chosen = _vintage_in_force(sets, on or today_in_la())
    row = conn.execute(
        select(
            Area.code, Area.name, Area.attrs, BoundarySet.vintage, BoundarySet.valid_from,
            BoundarySet.valid_to,
            # RFC 7946 3.1.6: exterior rings counterclockwise, holes clockwise (stored as loaded)
            func.ST_AsGeoJSON(func.ST_ForcePolygonCCW(Area.geom), 6).label("geojson"),
        )
        .join(BoundarySet, BoundarySet.id == Area.set_id)
        .where(BoundarySet.type_code == type_code, BoundarySet.vintage == chosen, Area.code == code)
    ).first()
    if row is None:
        raise NotFound(f"no {type_code} area with code '{code}' in vintage {chosen}")
    return {
        "type": "Feature",
        "id": f"{type_code}/{row.code}",
        "geometry": json.loads(row.geojson),
        "properties": {
            "type": type_code,
            "code": row.code,
            "name": row.name,
            "vintage": row.vintage,
            "valid_from": row.valid_from.isoformat() if row.valid_from else None,
            "valid_to": row.valid_to.isoformat() if row.valid_to else None,
            **{k: v for k, v in (row.attrs or {}).items() if k not in {"type", "code", "name"}},
        },
    }


def group_by_type(hits: Sequence[AreaHit]) -> dict[str, list[AreaHit]]:
    """Hits keyed by type code (a shared edge gives two hits of one type)."""
    grouped: dict[str, list[AreaHit]] = defaultdict(list)
    for hit in hits:
        grouped[hit.type].append(hit)
    return dict(grouped)


def _vintage_in_force(sets: Sequence[BoundarySetInfo], on: date) -> str:
    return min(sets, key=lambda s: vintage_rank(s.valid_from, s.valid_to, on)).vintage
