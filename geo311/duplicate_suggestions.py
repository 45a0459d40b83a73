"""Before-report duplicate suggestions: open requests of a type near a pin about to be reported.

The rule is the type's own (``service_type.duplicate_radius_m`` and ``duplicate_window_days``),
as for staff duplicates of a stored request (:mod:`geo311.duplicates`), plus the street block:
an open request located on the same street segment as the point is suggested even beyond the
radius (a long block with one pothole reported from either end). Only public fields leave here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from geo311.db import load_sql
from geo311.errors import BadRequest
from geo311.models import ServiceType
from geo311.snap import snap_to_street

__all__ = ["DuplicateSuggestion", "SuggestionRule", "MAX_RADIUS_M", "MAX_DAYS", "SEGMENT_BOX_M",
           "suggest_duplicates", "suggestion_rule"]

#: Largest ``radius_m`` a caller may ask for (a few blocks).
MAX_RADIUS_M = 1000.0
#: Longest ``days`` window a caller may ask for.
MAX_DAYS = 365
#: A same-block match is suggested up to this far away (LA blocks are shorter than this).
SEGMENT_BOX_M = 300.0
#: The point must be this close to a street for the block rule to apply.
_SNAP_MAX_M = 60.0


@dataclass(frozen=True)
class SuggestionRule:
    """The radius and window used for one search (the type's, or the caller's override)."""

    service_code: str
    radius_m: float
    days: int

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"service_code": self.service_code, "radius_m": self.radius_m, "days": self.days}


@dataclass(frozen=True)
class DuplicateSuggestion:
    """An open request that may already report what the resident sees (public fields only)."""

    id: int
    service_code: str
    status: str
    address: str | None
    requested_at: datetime
    distance_m: float
    age_days: float
    same_segment: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON form (distance to 0.1 m, age to 0.01 day)."""
        return {"id": self.id, "service_code": self.service_code, "status": self.status,
                "address": self.address, "requested_at": self.requested_at.isoformat(),
                "distance_m": round(self.distance_m, 1), "age_days": round(self.age_days, 2),
                "same_segment": self.same_segment}


def suggestion_rule(conn: Connection, service_code: str, *, radius_m: float | None = None,
                    days: int | None = None) -> SuggestionRule:
    """The type's duplicate radius and window, with the caller's overrides checked.

    :param service_code: a catalogue code.
    :param radius_m: override of the type's radius, 1 to :data:`MAX_RADIUS_M`.
    :param days: override of the type's window, 1 to :data:`MAX_DAYS`.
    :raises BadRequest: unknown type or an override out of range.
    """
    row = conn.execute(
        select(ServiceType.duplicate_radius_m, ServiceType.duplicate_window_days)
        .where(ServiceType.code == service_code)).first()
    if row is None:
        raise BadRequest(f"unknown service_code {service_code[:64]!r}")
    if radius_m is not None and not 1.0 <= radius_m <= MAX_RADIUS_M:
        raise BadRequest(f"parameter 'radius_m' must be from 1 to {MAX_RADIUS_M:g}")
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise BadRequest(f"parameter 'days' must be a whole number from 1 to {MAX_DAYS}")
    return SuggestionRule(service_code,
                          float(row.duplicate_radius_m if radius_m is None else radius_m),
                          int(row.duplicate_window_days if days is None else days))


def suggest_duplicates(conn: Connection, rule: SuggestionRule, lon: float, lat: float, *,
                       limit: int = 20) -> list[DuplicateSuggestion]:
    """Open requests of ``rule``'s type within its radius, or on the point's block, nearest first.

    :param rule: from :func:`suggestion_rule`.
    :param lon: the pin's longitude (WGS84).
    :param lat: the pin's latitude.
    :param limit: most suggestions returned.
    :returns: suggestions with distance (m) and age (days), nearest first.
    """
    snaps = snap_to_street(conn, lon, lat, max_distance_m=_SNAP_MAX_M, k=4)
    segment_id = str(snaps[0].segment_id) if snaps else None
    rows = conn.execute(load_sql("duplicates_near_point"), {
        "service_code": rule.service_code, "lon": lon, "lat": lat, "radius_m": rule.radius_m,
        "days": rule.days, "segment_id": segment_id, "segment_box_m": SEGMENT_BOX_M,
        "limit": limit})
    return [DuplicateSuggestion(*row) for row in rows]
