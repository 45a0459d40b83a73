"""Reading 311 requests: filters, keyset cursors and public GeoJSON built in SQL.

Every public read (``/api/v1/requests``, exports, Open311) goes through :func:`public_select`
or :func:`feature_json`, which name their columns one by one: ``contact``,
``idempotency_key`` and ``import_hash`` are never selected for public output.
"""

from __future__ import annotations

import base64
import binascii
import json
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, Text, cast, func, literal, or_, select, tuple_
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection

from geo311.boundaries import LA_TIME
from geo311.errors import BIGINT_MAX, BadRequest
from geo311.geometry import WGS84, parse_bbox
from geo311.models import REQUEST_STATUSES, ServiceRequest, ServiceType

__all__ = [
    "SORTS",
    "RequestFilter",
    "FeaturePage",
    "parse_request_filter",
    "checked_statuses",
    "parse_area",
    "parse_moment",
    "filter_clauses",
    "feature_json",
    "public_select",
    "query_features",
    "encode_cursor",
    "decode_cursor",
]

#: Orders a list can take; each pairs with ``id`` for a stable keyset cursor.
SORTS = ("-requested_at", "requested_at", "updated_at")
_SR = typing.cast(Table, ServiceRequest.__table__)
_ST = typing.cast(Table, ServiceType.__table__)
_MAX_LIST = 50


@dataclass(frozen=True)
class RequestFilter:
    """Filters shared by the list, the exports and Open311. Empty tuples mean "any"."""

    service_codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    area: tuple[str, str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    bbox: tuple[float, float, float, float] | None = None
    updated_after: datetime | None = None
    ids: tuple[int, ...] = ()
    external_ids: tuple[str, ...] = ()
    near: tuple[float, float, float] | None = None  # lon, lat, radius_m
    agencies: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeaturePage:
    """One page of GeoJSON features (each a JSON text) and the cursor of the next page."""

    features: list[str]
    next_cursor: str | None


def parse_request_filter(args: Mapping[str, Any]) -> RequestFilter:
    """Read the list/export query parameters; each problem is a 400 naming the parameter.

    ``service_code``, ``status`` and ``department`` take comma lists; ``area_type`` and
    ``area_code`` go together; ``start``/``end`` are dates (``YYYY-MM-DD``, LA days, both
    inclusive) or ISO date-times; ``bbox`` is ``min_lon,min_lat,max_lon,max_lat``.

    :param args: the query string (``request.args``) or any mapping of strings.
    :raises BadRequest: naming the parameter.
    """
    statuses = checked_statuses(_list(args, "status"))
    start = parse_moment(args.get("start"), "start")
    end = parse_moment(args.get("end"), "end", end_of_day=True)
    if start and end and start >= end:
        raise BadRequest("parameter 'start' is after 'end'")
    return RequestFilter(
        service_codes=_list(args, "service_code"),
        statuses=statuses,
        departments=tuple(d.upper() for d in _list(args, "department")),
        area=parse_area(args),
        start=start,
        end=end,
        bbox=parse_bbox(args.get("bbox")),
        updated_after=parse_moment(args.get("updated_after"), "updated_after"),
    )


def checked_statuses(statuses: tuple[str, ...]) -> tuple[str, ...]:
    """The ``status`` values, each one of :data:`REQUEST_STATUSES` (else a 400 naming it)."""
    wrong = [s for s in statuses if s not in REQUEST_STATUSES]
    if wrong:
        raise BadRequest(f"parameter 'status' must be one of {', '.join(REQUEST_STATUSES)}, "
                         f"got {wrong[0][:40]!r}")
    return statuses


def parse_area(args: Mapping[str, Any]) -> tuple[str, str] | None:
    """``area_type`` (upper-cased) and ``area_code`` as a pair, or None; one without the other
    is a 400."""
    area_type = (args.get("area_type") or "").strip().upper()
    area_code = (args.get("area_code") or "").strip()
    if bool(area_type) != bool(area_code):
        raise BadRequest("parameters 'area_type' and 'area_code' go together "
                         "(e.g. area_type=CD&area_code=10)")
    return (area_type, area_code) if area_type else None


def parse_moment(value: str | None, name: str, *, end_of_day: bool = False) -> datetime | None:
    """A date (an LA day) or an ISO date-time; naive times are LA time.

    >>> parse_moment("2020-01-02", "end", end_of_day=True).isoformat()
    '2020-01-03T00:00:00-08:00'

    :param end_of_day: for a bare date, return the start of the next day (an exclusive end).
    :raises BadRequest: naming the parameter.
    """
    if value is None or not str(value).strip():
        return None
    raw = str(value).strip()
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            if end_of_day:
                day += timedelta(days=1)
            return datetime.combine(day, time(), LA_TIME)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"parameter '{name}' must be a date (YYYY-MM-DD) or an ISO date-time, "
                         f"got {raw[:40]!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LA_TIME)


def filter_clauses(f: RequestFilter, table: Table = _SR) -> list[ColumnElement[bool]]:
    """SQL conditions for a filter (only the ones it sets, so each query plans well).

    :param table: ``service_request``, or a table that copies some of its columns under the same
        names (the event outbox copies ``service_code``, ``department``, ``status`` and
        ``areas``) for a filter that sets only those.
    """
    c = table.c
    clauses: list[ColumnElement[bool]] = []
    if f.ids:
        clauses.append(c.id.in_(f.ids))
    if f.external_ids:
        clauses.append(c.external_id.in_(f.external_ids))
    if f.service_codes:
        clauses.append(c.service_code.in_(f.service_codes))
    if f.statuses:
        clauses.append(c.status.in_(f.statuses))
    if f.departments:
        clauses.append(c.department.in_(f.departments))
    if f.agencies:
        clauses.append(or_(c.department.in_(f.agencies),
                           func.upper(c.agency_responsible).in_(f.agencies)))
    if f.area:
        wanted = [{"type": f.area[0], "code": f.area[1]}]
        clauses.append(c.areas.op("@>")(cast(literal(json.dumps(wanted)), JSONB)))
    if f.start:
        clauses.append(c.requested_at >= f.start)
    if f.end:
        clauses.append(c.requested_at < f.end)
    if f.updated_after:
        clauses.append(c.updated_at > f.updated_after)
    if f.bbox:
        clauses.append(c.location.op("&&")(func.ST_MakeEnvelope(*f.bbox, WGS84)))
    if f.near:
        lon, lat, radius_m = f.near
        point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), WGS84)
        clauses.append(func.ST_DWithin(func.Geography(c.location), func.Geography(point),
                                       radius_m))
    return clauses


def feature_json(*, detail: bool = False) -> ColumnElement[str]:
    """A GeoJSON Feature of one request as JSON text, built by PostgreSQL.

    :param detail: add the stored ``locate`` answer, the raw ``pin`` and the source labels.
    """
    c = _SR.c
    pairs: list[Any] = [
        "external_id", c.external_id,
        "service_code", c.service_code,
        "service_name", _ST.c.name_en,
        "status", c.status,
        "close_reason", c.close_reason,
        "requested_at", c.requested_at,
        "updated_at", c.updated_at,
        "closed_at", c.closed_at,
        "address", c.address,
        "address_id", c.address_id,
        "zip", c.zip,
        "department", c.department,
        "agency_responsible", c.agency_responsible,
        "channel", c.channel,
        "description", c.description,
        "media_url", c.media_url,
        "attributes", c.attributes,
        "areas", c.areas,
        "duplicate_of", c.duplicate_of,
        "version", c.version,
    ]  # fmt: skip
    if detail:
        pin = func.json_build_object(
            "lon", c.pin_lon, "lat", c.pin_lat, "accuracy_m", c.pin_accuracy_m,
            "source", c.pin_source,
        )
        pairs += ["locate", c.locate, "pin", pin, "external", c.external]
    properties = func.json_build_object(*pairs)
    geometry = func.ST_AsGeoJSON(c.location, 6)
    return func.concat(
        '{"type":"Feature","id":', cast(c.id, Text),
        ',"geometry":', func.coalesce(geometry, "null"),
        ',"properties":', cast(properties, Text), "}",
    )


def public_select(*columns: Any) -> Select[Any]:
    """``SELECT columns FROM service_request JOIN service_type`` for public output."""
    return select(*columns).select_from(_SR.join(_ST, _ST.c.code == _SR.c.service_code))


def query_features(conn: Connection, f: RequestFilter, *, limit: int,
                   cursor: str | None = None, sort: str = "-requested_at") -> FeaturePage:
    """One page of public features in keyset order, with the cursor of the next page.

    :param limit: page size (1 or more).
    :param cursor: the opaque ``next_cursor`` of the previous page.
    :param sort: one of :data:`SORTS`.
    :raises BadRequest: bad sort or cursor.
    """
    if sort not in SORTS:
        raise BadRequest(f"parameter 'sort' must be one of {', '.join(SORTS)}")
    key = _SR.c.updated_at if sort == "updated_at" else _SR.c.requested_at
    descending = sort.startswith("-")
    clauses = filter_clauses(f)
    if cursor:
        moment, last_id = decode_cursor(cursor, sort)
        after = tuple_(key, _SR.c.id) < tuple_(literal(moment), literal(last_id)) if descending \
            else tuple_(key, _SR.c.id) > tuple_(literal(moment), literal(last_id))
        clauses.append(after)
    order = (key.desc(), _SR.c.id.desc()) if descending else (key.asc(), _SR.c.id.asc())
    # Order and cut a narrow (key, id) list first, then build the wide features for that page
    # only: sorting the features themselves would sort megabytes of text (and spill to disk).
    page = (
        select(_SR.c.id, key.label("k"), func.row_number().over(order_by=order).label("rn"))
        .where(*clauses).order_by(*order).limit(limit + 1).subquery()
    )
    rows = list(conn.execute(
        public_select(feature_json().label("feature"), page.c.k, page.c.id, page.c.rn)
        .join_from(_SR, page, page.c.id == _SR.c.id)
    ))
    rows.sort(key=lambda r: r.rn)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(sort, rows[-1].k, rows[-1].id) if more and rows else None
    return FeaturePage([r.feature for r in rows], next_cursor)


def encode_cursor(sort: str, moment: datetime, request_id: int) -> str:
    """An opaque cursor for keyset paging after ``(moment, request_id)``.

    >>> from datetime import timezone
    >>> c = encode_cursor("-requested_at", datetime(2020, 1, 1, tzinfo=timezone.utc), 7)
    >>> decode_cursor(c, "-requested_at")[1]
    7
    """
    raw = json.dumps([sort, moment.isoformat(), request_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[datetime, int]:
    """Read a cursor made by :func:`encode_cursor` for the same ``sort``.

    :raises BadRequest: a cursor that is malformed or was made for another order.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        made_for, moment, request_id = json.loads(base64.urlsafe_b64decode(padded))
        parsed = datetime.fromisoformat(moment)
        if made_for != sort or not isinstance(request_id, int) or parsed.tzinfo is None \
                or not 0 <= request_id <= BIGINT_MAX:
            raise ValueError(cursor)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("parameter 'cursor' is not a cursor from this list") from None
    return parsed, request_id


def _list(args: Mapping[str, Any], name: str) -> tuple[str, ...]:
    values = args.getlist(name) if hasattr(args, "getlist") else [args.get(name) or ""]
    items = tuple(v.strip() for raw in values for v in str(raw).split(",") if v.strip())
    if len(items) > _MAX_LIST:
        raise BadRequest(f"parameter '{name}' takes at most {_MAX_LIST} values")
    return items

