"""Staff updates to a request: status and closure rules, versions, history, pin corrections, merges.

One update is one transaction: the request row is locked (``FOR UPDATE``), its ``version`` is
compared with the one the client saw, the row and ``version`` change together with a new
``request_status_history`` row (append-only: a trigger refuses UPDATE/DELETE), and closing a
request that others were linked to as duplicates closes those too. Two crews sending the same
version are serialised by the lock: the second sees the new version and gets a 409.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from geo311.audit import record_event
from geo311.auth import Principal, check_department
from geo311.errors import BadRequest, Conflict, Forbidden, Geo311Error, NotFound
from geo311.events import record_update
from geo311.models import (
    CLOSE_REASONS,
    REQUEST_STATUSES,
    RequestLocationCorrection,
    RequestStatusHistory,
    RequestUpdateDetail,
    ServiceRequest,
)

__all__ = [
    "UPDATE_ROLES",
    "MERGE_ROLES",
    "UpdateInput",
    "RequestState",
    "HistoryEntry",
    "StaleVersion",
    "PreconditionRequired",
    "parse_update",
    "parse_if_match",
    "get_request_state",
    "apply_update",
    "request_history",
]

#: Roles that may update requests (crew and dept_admin only in their department).
UPDATE_ROLES = ("agent", "dispatcher", "crew", "dept_admin", "admin")
#: Roles that may link or close a request as a duplicate, or reopen a closed one.
MERGE_ROLES = ("dispatcher", "dept_admin", "admin")
_SR = ServiceRequest.__table__
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')
_TEXT_LIMIT = 4000


class StaleVersion(Conflict):
    """The client's version is not the current one; ``current`` is the state it should see."""

    def __init__(self, current: RequestState):
        super().__init__(f"request {current.id} changed: it is at version {current.version}")
        self.current = current


class PreconditionRequired(Geo311Error):
    """An update came without ``If-Match``."""

    status = 428


@dataclass(frozen=True)
class UpdateInput:
    """A parsed update body."""

    status: str | None = None
    reason: str | None = None
    note: str | None = None
    duplicate_of: int | None = None
    referred_to: str | None = None
    lon: float | None = None
    lat: float | None = None
    media_url: str | None = None
    assigned_to: str | None = None
    #: False marks this history row staff-only: the public timeline and Open311 status_notes skip it.
    note_public: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        """The fields that were sent (for the audit log)."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class RequestState:
    """The current state of a request as staff see it."""

    id: int
    service_code: str
    status: str
    close_reason: str | None
    department: str | None
    duplicate_of: int | None
    agency_responsible: str | None
    version: int
    updated_at: datetime
    closed_at: datetime | None
    areas: list[dict[str, Any]]

    @property
    def etag(self) -> str:
        """The strong ETag of this version."""
        return f'"{self.version}"'

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        out = dict(self.__dict__)
        out["updated_at"] = self.updated_at.isoformat()
        out["closed_at"] = self.closed_at.isoformat() if self.closed_at else None
        out["etag"] = self.etag
        return out


@dataclass(frozen=True)
class HistoryEntry:
    """One history row with the details the update carried."""

    id: int
    at: datetime
    actor: str
    from_status: str | None
    to_status: str
    reason: str | None
    note: str | None
    public: bool
    details: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {**self.__dict__, "at": self.at.isoformat()}


def parse_if_match(header: str | None) -> int:
    """The version in an ``If-Match`` header (``"3"``, ``W/"3"`` or ``3``).

    >>> parse_if_match('"7"')
    7

    :raises PreconditionRequired: when the header is missing.
    :raises BadRequest: when it is not a version this server issued.
    """
    if header is None or not header.strip():
        raise PreconditionRequired("send If-Match with the request's ETag (its version)")
    match = _ETAG.match(header)
    if not match:
        raise BadRequest("If-Match must be the request's ETag, e.g. \"3\"")
    return int(match.group(1))


def parse_update(body: Any) -> UpdateInput:
    """Validate an update's JSON body.

    :raises BadRequest: naming the field.
    """
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object")
    unknown = set(body) - set(UpdateInput.__dataclass_fields__)
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(sorted(unknown))}")
    status, reason = _text(body, "status"), _text(body, "reason")
    if status is not None and status not in REQUEST_STATUSES:
        raise BadRequest(f"status must be one of {', '.join(REQUEST_STATUSES)}")
    if status == "closed" and reason not in CLOSE_REASONS:
        raise BadRequest(f"closing needs a reason: one of {', '.join(CLOSE_REASONS)}")
    if reason is not None and status != "closed":
        raise BadRequest("reason is only for status closed")
    duplicate_of = body.get("duplicate_of")
    if duplicate_of is not None and (not isinstance(duplicate_of, int)
                                     or isinstance(duplicate_of, bool)):
        raise BadRequest("duplicate_of must be a request id")
    if reason == "duplicate" and duplicate_of is None:
        raise BadRequest("reason duplicate needs duplicate_of (the surviving request)")
    referred_to = _text(body, "referred_to")
    if reason == "referred" and not referred_to:
        raise BadRequest("reason referred needs referred_to (the agency)")
    lon, lat = _number(body, "lon"), _number(body, "lat")
    if (lon is None) != (lat is None):
        raise BadRequest("send lon and lat together")
    if lon is not None and lat is not None and not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise BadRequest("lon/lat out of range")
    media_url = _text(body, "media_url")
    if media_url and not media_url.startswith(("https://", "http://")):
        raise BadRequest("media_url must be an http(s) URL")
    note_public = body.get("note_public")
    if note_public is not None and not isinstance(note_public, bool):
        raise BadRequest("'note_public' must be true or false")
    parsed = UpdateInput(status=status, reason=reason, note=_text(body, "note"),
                         duplicate_of=duplicate_of, referred_to=referred_to, lon=lon, lat=lat,
                         media_url=media_url, assigned_to=_text(body, "assigned_to"),
                         note_public=note_public)
    if not parsed.as_dict():
        raise BadRequest("nothing to update: send status, note, lon/lat, media_url...")
    return parsed


def get_request_state(conn: Connection, request_id: int, *, lock: bool = False) -> RequestState:
    """The current state of one request.

    :param lock: take a row lock (``FOR UPDATE``) until the transaction ends.
    :raises NotFound: for an unknown id.
    """
    query = select(_SR.c.id, _SR.c.service_code, _SR.c.status, _SR.c.close_reason,
                   _SR.c.department, _SR.c.duplicate_of, _SR.c.agency_responsible,
                   _SR.c.version, _SR.c.updated_at, _SR.c.closed_at, _SR.c.areas
                   ).where(_SR.c.id == request_id)
    row = conn.execute(query.with_for_update() if lock else query).one_or_none()
    if row is None:
        raise NotFound(f"no request with id {request_id}")
    return RequestState(**{**row._mapping, "areas": list(row.areas or [])})


def apply_update(conn: Connection, request_id: int, expected_version: int, change: UpdateInput,
                 principal: Principal) -> RequestState:
    """Apply one staff update inside the caller's transaction.

    :param conn: a connection in a transaction (the caller commits; any error rolls back).
    :param expected_version: the version from ``If-Match``.
    :returns: the new state.
    :raises NotFound: unknown request or ``duplicate_of``.
    :raises Forbidden: wrong department, or a merge/reopen by a role that may not.
    :raises StaleVersion: the version changed since the client read it.
    :raises BadRequest: a transition the rules refuse.
    """
    current = get_request_state(conn, request_id, lock=True)
    check_department(principal, current.department)
    if current.version != expected_version:
        raise StaleVersion(current)
    new_status = change.status or current.status
    reopening = current.status == "closed" and new_status != "closed"
    if (change.duplicate_of is not None or reopening) and principal.role not in MERGE_ROLES:
        raise Forbidden(f"role {principal.role} may not merge duplicates or reopen requests")
    if current.status == "closed" and change.status == "closed":
        raise BadRequest(f"request {request_id} is already closed; reopen it first")
    if change.duplicate_of is not None:
        _check_survivor(conn, request_id, change.duplicate_of)
    values: dict[str, Any] = {"status": new_status, "version": _SR.c.version + 1,
                              "updated_at": func.now()}
    if change.status == "closed":
        values.update(close_reason=change.reason, closed_at=func.now())
    elif reopening:
        values.update(close_reason=None, closed_at=None)
    if change.duplicate_of is not None:
        values["duplicate_of"] = change.duplicate_of
    if change.referred_to and change.reason == "referred":
        values["agency_responsible"] = change.referred_to
    correction_id = None
    if change.lon is not None and change.lat is not None:
        correction_id = _correct_location(conn, current, change.lon, change.lat, principal,
                                          values)
    conn.execute(update(ServiceRequest).where(ServiceRequest.id == request_id).values(**values))
    _append_history(conn, request_id, principal.name, current.status, new_status,
                    change.reason, change.note, change, correction_id)
    cascaded: list[int] = []
    if change.status == "closed" and change.reason != "duplicate":
        cascaded = _close_duplicates(conn, request_id, change.reason or "", change.note,
                                     principal)
    record_event(principal, "request.update", target=f"request/{request_id}", conn=conn,
                 detail={**change.as_dict(), "from": current.status, "cascaded": cascaded})
    record_update(conn, request_id, change, cascaded)
    return get_request_state(conn, request_id)


def request_history(conn: Connection, request_id: int) -> list[HistoryEntry]:
    """Every history row of a request, oldest first, with what each update carried."""
    h, d = RequestStatusHistory, RequestUpdateDetail
    rows = conn.execute(
        select(h.id, h.at, h.actor, h.from_status, h.to_status, h.reason, h.note, h.public,
               d.assigned_to, d.referred_to, d.duplicate_of, d.media_url, d.correction_id)
        .outerjoin(d, d.history_id == h.id)
        .where(h.request_id == request_id).order_by(h.at, h.id))
    return [HistoryEntry(*row[:8], details={
        k: v for k, v in zip(("assigned_to", "referred_to", "duplicate_of", "media_url",
                              "correction_id"), row[8:], strict=True) if v is not None})
        for row in rows]


# ---------------------------------------------------------------- private helpers
def _check_survivor(conn: Connection, request_id: int, survivor_id: int) -> None:
    if survivor_id == request_id:
        raise BadRequest("a request cannot be a duplicate of itself")
    row = conn.execute(select(_SR.c.id, _SR.c.duplicate_of)
                       .where(_SR.c.id == survivor_id)).one_or_none()
    if row is None:
        raise NotFound(f"duplicate_of: no request with id {survivor_id}")
    if row.duplicate_of == request_id:
        raise BadRequest(f"request {survivor_id} is already a duplicate of {request_id}")


def _correct_location(conn: Connection, current: RequestState, lon: float, lat: float,
                      principal: Principal, values: dict[str, Any]) -> int:
    """Locate the crew's pin, store it beside the resident's (``pin_lon``/``pin_lat`` untouched)."""
    from geo311.locate import locate_point

    result = locate_point(conn, lon, lat, service_code=current.service_code)
    answer = json.loads(json.dumps(result.as_dict(), default=str))
    located = (result.lon, result.lat) if result.found else (lon, lat)
    point = func.ST_SetSRID(func.ST_MakePoint(*located), 4326)
    correction_id = conn.execute(insert(RequestLocationCorrection).values(
        request_id=current.id, actor=principal.name, lon=lon, lat=lat, locate=answer,
        geom=func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326),
    ).returning(RequestLocationCorrection.id)).scalar_one()
    values.update(location=point, locate=answer)
    if result.areas:
        values["areas"] = [dict(a) for a in result.areas]
    return correction_id


def _append_history(conn: Connection, request_id: int, actor: str, from_status: str | None,
                    to_status: str, reason: str | None, note: str | None,
                    change: UpdateInput | None = None, correction_id: int | None = None) -> None:
    public = change is None or change.note_public is not False
    history_id = conn.execute(insert(RequestStatusHistory).values(
        request_id=request_id, actor=actor, from_status=from_status, to_status=to_status,
        reason=reason, note=note, public=public).returning(RequestStatusHistory.id)).scalar_one()
    if change is not None and (change.assigned_to or change.referred_to or change.media_url
                               or change.duplicate_of or correction_id):
        conn.execute(insert(RequestUpdateDetail).values(
            history_id=history_id, assigned_to=change.assigned_to,
            referred_to=change.referred_to, duplicate_of=change.duplicate_of,
            media_url=change.media_url, correction_id=correction_id))


def _close_duplicates(conn: Connection, survivor_id: int, reason: str, note: str | None,
                      principal: Principal) -> list[int]:
    """Close the open requests linked to ``survivor_id`` with its resolution (same transaction)."""
    linked = conn.execute(select(_SR.c.id, _SR.c.status).where(
        _SR.c.duplicate_of == survivor_id, _SR.c.status != "closed")
        .order_by(_SR.c.id).with_for_update()).all()
    text = f"closed with request {survivor_id} ({reason})" + (f": {note}" if note else "")
    for row in linked:
        conn.execute(update(ServiceRequest).where(ServiceRequest.id == row.id).values(
            status="closed", close_reason=reason, closed_at=func.now(), updated_at=func.now(),
            version=_SR.c.version + 1))
        _append_history(conn, row.id, principal.name, row.status, "closed", reason, text)
    return [row.id for row in linked]


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be text")
    value = value.strip()
    if len(value) > _TEXT_LIMIT:
        raise BadRequest(f"{name} is longer than {_TEXT_LIMIT} characters")
    return value or None


def _number(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f"{name} must be a number")
    return float(value)
