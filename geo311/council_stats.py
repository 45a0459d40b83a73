"""Council-district figures: open requests by type and age, weekly trends, NCs, close times, oldest.

Each figure is one statement in ``geo311/sql/council_*.sql``. Everything is counted "as of" one
moment: the end of the LA day of the district's newest request (or now, if that is earlier), so a
district whose data stops in 2020 (the shipped MyLA311 samples) still shows its last weeks
rather than empty tables. Public output carries open-data fields only; :func:`district_stats`
adds contact details and internal notes only when asked with ``staff=True``, which the page
does for a council user of that district.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import cast, func, literal, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection

from geo311.boundaries import LA_TIME, get_area_feature, today_in_la
from geo311.db import load_sql
from geo311.models import Area, BoundarySet, ServiceRequest

__all__ = [
    "TREND_WEEKS",
    "CLOSE_WINDOW_DAYS",
    "District",
    "TypeAge",
    "WeekCount",
    "NcCount",
    "CloseTime",
    "OldRequest",
    "DistrictStats",
    "get_district",
    "district_as_of",
    "district_stats",
    "open_points",
    "district_ncs",
    "district_facilities",
]

#: Weeks of trend shown (and of the NC window).
TREND_WEEKS = 12
#: Close times are measured over requests closed in this many days before "as of".
CLOSE_WINDOW_DAYS = 365
#: An NC belongs to a district when at least this share of its area lies inside it.
NC_MIN_SHARE = 0.2


@dataclass(frozen=True)
class District:
    """An area (a council district): code, name, vintage, ``area.id`` and its GeoJSON feature."""

    code: str
    name: str
    vintage: str
    area_id: int
    feature: dict[str, Any]
    #: ``CD``; a pack of one neighborhood council uses the same shape with ``NC``.
    type_code: str = "CD"


@dataclass(frozen=True)
class TypeAge:
    """Open requests of one type by age band (days)."""

    service_code: str
    name_en: str
    name_es: str
    open: int
    age_0_7: int
    age_7_30: int
    age_30_90: int
    age_90_plus: int


@dataclass(frozen=True)
class WeekCount:
    """Requests of one type received in one week (Monday, LA)."""

    week: date
    service_code: str
    count: int


@dataclass(frozen=True)
class NcCount:
    """Requests per neighborhood council: received in the trend window, open on "as of"."""

    code: str | None
    name: str | None
    received: int
    open: int


@dataclass(frozen=True)
class CloseTime:
    """Median and 90th-percentile days to close; ``service_code`` None is all types."""

    service_code: str | None
    closed: int
    median_days: float
    p90_days: float


@dataclass(frozen=True)
class OldRequest:
    """One long-open request; ``contact`` and ``internal_note`` only for the district's staff."""

    id: int
    external_id: str | None
    service_code: str
    name_en: str
    name_es: str
    status: str
    address: str | None
    requested: date
    age_days: int
    nc_name: str | None
    lon: float | None
    lat: float | None
    contact: dict[str, Any] | None = None
    internal_note: str | None = None


@dataclass(frozen=True)
class DistrictStats:
    """Every figure of one district page, as of one moment."""

    district: District
    as_of: datetime
    staff: bool
    open_by_type: list[TypeAge] = field(default_factory=list)
    weekly: list[WeekCount] = field(default_factory=list)
    by_nc: list[NcCount] = field(default_factory=list)
    close_times: list[CloseTime] = field(default_factory=list)
    oldest_open: list[OldRequest] = field(default_factory=list)

    @property
    def weeks(self) -> list[date]:
        """The Mondays of the trend window, oldest first."""
        last = (self.as_of - timedelta(microseconds=1)).astimezone(LA_TIME).date()
        monday = last - timedelta(days=last.weekday())
        return [monday - timedelta(weeks=k) for k in range(TREND_WEEKS - 1, -1, -1)]

    def weekly_table(self) -> list[tuple[str, list[int], int]]:
        """Rows ``(service_code, count per week of :attr:`weeks`, total)``, largest total first."""
        index = {week: k for k, week in enumerate(self.weeks)}
        rows: dict[str, list[int]] = {}
        for item in self.weekly:
            if item.week in index:
                rows.setdefault(item.service_code, [0] * len(index))[index[item.week]] += item.count
        return sorted(((code, counts, sum(counts)) for code, counts in rows.items()),
                      key=lambda row: (-row[2], row[0]))


def get_district(conn: Connection, code: str, on: date | None = None) -> District:
    """The council district ``code`` in the vintage in force on ``on`` (today).

    :raises NotFound: no such district (also for a malformed code).
    """
    feature = get_area_feature(conn, "CD", code.strip(), on=on or today_in_la())
    props = feature["properties"]
    area_id = conn.execute(
        select(Area.id).join(BoundarySet, BoundarySet.id == Area.set_id)
        .where(BoundarySet.type_code == "CD", BoundarySet.vintage == props["vintage"],
               Area.code == props["code"])).scalar_one()
    return District(props["code"], props["name"], props["vintage"], area_id, feature)


def district_as_of(conn: Connection, code: str, now: datetime | None = None) -> datetime:
    """The end of the LA day of the district's newest request, or ``now`` if that is earlier."""
    now = now or datetime.now(LA_TIME)
    newest = conn.execute(
        select(func.max(ServiceRequest.requested_at))
        .where(ServiceRequest.areas.op("@>")(cast(literal(_area(code)), JSONB)),
               ServiceRequest.requested_at <= now)).scalar()
    if newest is None:
        return now
    day = newest.astimezone(LA_TIME).date() + timedelta(days=1)
    return min(now, datetime.combine(day, time(), LA_TIME))


def district_stats(conn: Connection, district: District, *, as_of: datetime,
                   staff: bool = False, oldest: int = 15) -> DistrictStats:
    """Every figure of the district page.

    :param district: from :func:`get_district`.
    :param as_of: the moment figures are counted at (see :func:`district_as_of`).
    :param staff: include contact details and internal notes of the oldest open requests.
    :param oldest: how many oldest open requests to list.
    """
    binds = {"area": _area(district.code), "as_of": as_of,
             "since": as_of - timedelta(weeks=TREND_WEEKS)}
    open_by_type = [TypeAge(**row._mapping) for row in
                    conn.execute(load_sql("council_open_by_type"), binds)]
    weekly = [WeekCount(row.week, row.service_code, int(row.n)) for row in
              conn.execute(load_sql("council_weekly"), binds)]
    by_nc = [NcCount(row.code, row.name, int(row.received), int(row.open)) for row in
             conn.execute(load_sql("council_by_nc"), binds)]
    close_binds = {**binds, "since": as_of - timedelta(days=CLOSE_WINDOW_DAYS)}
    close_times = [CloseTime(row.service_code, int(row.closed), round(row.median_days, 1),
                             round(row.p90_days, 1))
                   for row in conn.execute(load_sql("council_close_times"), close_binds)
                   if row.closed]  # the overall row exists even when nothing closed
    oldest_rows = conn.execute(load_sql("council_oldest_open"),
                               {**binds, "limit": oldest, "staff": staff})
    oldest_open = [OldRequest(
        id=row.id, external_id=row.external_id, service_code=row.service_code,
        name_en=row.name_en, name_es=row.name_es, status=row.status, address=row.address,
        requested=row.requested_at.astimezone(LA_TIME).date(), age_days=int(row.age_days),
        nc_name=row.nc_name, lon=row.lon, lat=row.lat,
        contact=row.contact if staff else None, internal_note=row.internal_note if staff else None,
    ) for row in oldest_rows]
    return DistrictStats(district, as_of, staff, open_by_type, weekly, by_nc, close_times,
                         oldest_open)


def open_points(conn: Connection, district: District, *, as_of: datetime,
                limit: int = 5000) -> list[dict[str, Any]]:
    """Open requests of the district as ``{id, service_code, status, address, requested, lon,
    lat}`` (public fields), newest first."""
    rows = conn.execute(load_sql("council_open_points"),
                        {"area": _area(district.code, district.type_code), "as_of": as_of,
                         "limit": limit})
    return [{"id": r.id, "service_code": r.service_code, "status": r.status,
             "address": r.address,
             "requested": r.requested_at.astimezone(LA_TIME).date().isoformat(),
             "lon": r.lon, "lat": r.lat} for r in rows]


def district_ncs(conn: Connection, district: District,
                 on: date | None = None) -> list[dict[str, Any]]:
    """The NCs of the district as GeoJSON Features (code, name, share of the NC inside)."""
    rows = conn.execute(load_sql("council_ncs"), {"district_id": district.area_id,
                                                 "on": on or today_in_la(),
                                                 "min_share": NC_MIN_SHARE})
    return [{"type": "Feature", "id": f"NC/{r.code}", "geometry": json.loads(r.geojson),
             "properties": {"code": r.code, "name": r.name, "share": round(r.share, 3)}}
            for r in rows]


def district_facilities(conn: Connection, district: District,
                        limit: int = 2000) -> list[dict[str, Any]]:
    """Facilities inside the district as ``{type, name, address, lon, lat}``."""
    rows = conn.execute(load_sql("council_facilities"),
                        {"district_id": district.area_id, "limit": limit})
    return [dict(r._mapping) for r in rows]


def _area(code: str, type_code: str = "CD") -> str:
    return json.dumps([{"type": type_code, "code": code}])
