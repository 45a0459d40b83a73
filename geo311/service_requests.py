"""311 requests: validate a new request against the catalogue, locate it, store it idempotently.

One create is one transaction (the caller's): the request row and its first history row are
written together, and a failure leaves nothing behind. The raw pin is stored as submitted and
never updated; the located point, the locate answer, the areas as of the request date and the
routed department are stored beside it. ``contact`` is private and never leaves this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from geo311.catalogue import find_service_type_row, route_department
from geo311.errors import BadRequest, Conflict, Geo311Error, NotFound
from geo311.events import record_event
from geo311.geometry import WGS84, parse_coordinate
from geo311.models import RequestStatusHistory
from geo311.models import ServiceRequest as RequestRow
from geo311.request_query import feature_json, public_select
from geo311.request_validation import (
    DESCRIPTION_MAX_CHARS,
    MEDIA_URL_MAX_CHARS,
    clean_contact,
    clean_text,
    is_url,
    validate_attributes,
)

__all__ = [
    "CHANNELS",
    "DESCRIPTION_MAX_CHARS",
    "NewRequest",
    "ServiceRequest",
    "Unprocessable",
    "validate_attributes",
    "create_request",
    "get_request",
    "get_request_feature",
    "etag_for",
]

#: Where a request came from; ``import`` is reserved for ``geo311 load requests``.
CHANNELS = ("api", "open311", "web", "mobile", "phone", "email", "crew", "council", "social")
_PIN_SOURCES = ("gps", "map", "typed")
_KEY_MAX_CHARS = 200
_SR = cast(Table, RequestRow.__table__)
_HISTORY = cast(Table, RequestStatusHistory.__table__)


class Unprocessable(Geo311Error):
    """Well-formed but not acceptable as a City request (outside the City, not locatable)."""

    status = 422


@dataclass(frozen=True)
class NewRequest:
    """What a resident, app or agent submits. Give ``lon``/``lat``, or ``address``."""

    service_code: str
    lon: float | None = None
    lat: float | None = None
    address: str | None = None
    accuracy_m: float | None = None
    pin_source: str | None = None
    description: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    media_url: str | None = None
    contact: Mapping[str, Any] | None = None
    anonymous: bool = False
    channel: str = "api"


@dataclass(frozen=True)
class ServiceRequest:
    """A stored request as the public may see it (no contact details)."""

    id: int
    external_id: str | None
    service_code: str
    status: str
    close_reason: str | None
    requested_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    version: int
    department: str | None
    agency_responsible: str | None
    address: str | None
    zip: str | None
    lon: float | None
    lat: float | None
    pin_lon: float | None
    pin_lat: float | None
    pin_accuracy_m: float | None
    pin_source: str | None
    areas: tuple[dict[str, Any], ...]
    locate: dict[str, Any] | None
    attributes: dict[str, Any]
    description: str | None
    media_url: str | None
    channel: str

    @property
    def etag(self) -> str:
        """The strong ETag of this version (``If-Match`` for updates, issue 7)."""
        return etag_for(self.version)


def etag_for(version: int) -> str:
    """The ETag of a request version.

    >>> etag_for(3)
    '"3"'
    """
    return f'"{version}"'


def create_request(conn: Connection, new: NewRequest, *,
                   idempotency_key: str | None = None) -> tuple[ServiceRequest, bool]:
    """Validate, locate and store a request with its first history row.

    With ``idempotency_key``, a retry (even a concurrent one) returns the request the first
    call stored, and ``created`` is False; the unique index on the key decides the race.

    :param conn: connection inside the caller's transaction (commit after this returns).
    :param new: the submission.
    :param idempotency_key: the client's ``Idempotency-Key`` (or Open311 token).
    :returns: ``(request, created)``.
    :raises BadRequest: a field is missing or wrong (the message names it).
    :raises Unprocessable: the place is outside the City (naming who is responsible) or
        cannot be located.
    :raises Conflict: the key was used for a different request.
    """
    key = _idempotency_key(idempotency_key)
    if key is not None:
        existing = _find_by_key(conn, key)
        if existing is not None:
            return _same_submission(existing, new), False
    values = _validated(conn, new)
    result = _locate(conn, new, values)
    answer = result.as_dict()
    areas = list(answer.get("areas") or [])
    department = (answer.get("department") or {}).get("code") or route_department(
        conn, values["service_code"], areas)
    address = answer.get("address") or {}
    now = datetime.now(UTC)
    row = {
        **values,
        "status": "open",
        "location": f"SRID={WGS84};POINT({result.lon} {result.lat})",
        "address": address.get("text") or new.address,
        "zip": address.get("zip"),
        "department": department,
        "agency_responsible": department,
        "areas": areas,
        "locate": answer,
        "requested_at": now,
        "updated_at": now,
        "version": 1,
        "idempotency_key": key,
    }
    statement = insert(_SR).values(**row)
    if key is not None:
        statement = statement.on_conflict_do_nothing(index_elements=["idempotency_key"])
    request_id = conn.execute(statement.returning(_SR.c.id)).scalar_one_or_none()
    if request_id is None:  # a concurrent create with this key committed first
        assert key is not None  # without a key there is no conflict to lose
        existing = _find_by_key(conn, key)
        if existing is None:  # pragma: no cover - the conflicting row cannot vanish
            raise Conflict("the Idempotency-Key is in use by a request being created; retry")
        return _same_submission(existing, new), False
    conn.execute(insert(_HISTORY).values(
        request_id=request_id, at=now, actor=values["channel"], from_status=None,
        to_status="open", reason=None, note="request received", public=True))
    record_event(conn, request_id, "created")
    return get_request(conn, request_id), True


def get_request(conn: Connection, request_id: int) -> ServiceRequest:
    """The public view of one request.

    :raises NotFound: no such request.
    """
    row = conn.execute(
        select(*_PUBLIC_COLUMNS, func.ST_X(_SR.c.location).label("lon"),
               func.ST_Y(_SR.c.location).label("lat")).where(_SR.c.id == request_id)
    ).first()
    if row is None:
        raise NotFound(f"no request with id {request_id}")
    data = row._asdict()
    data["areas"] = tuple(data["areas"] or ())
    data["attributes"] = data["attributes"] or {}
    return ServiceRequest(**data)


def get_request_feature(conn: Connection, request_id: int) -> tuple[str, int]:
    """One request as a GeoJSON Feature (JSON text, with ``locate``) and its version.

    :raises NotFound: no such request.
    """
    row = conn.execute(
        public_select(feature_json(detail=True).label("feature"), _SR.c.version)
        .where(_SR.c.id == request_id)
    ).first()
    if row is None:
        raise NotFound(f"no request with id {request_id}")
    return row.feature, row.version


# ---------------------------------------------------------------- helpers
_PUBLIC_COLUMNS = (
    _SR.c.id, _SR.c.external_id, _SR.c.service_code, _SR.c.status, _SR.c.close_reason,
    _SR.c.requested_at, _SR.c.updated_at, _SR.c.closed_at, _SR.c.version, _SR.c.department,
    _SR.c.agency_responsible, _SR.c.address, _SR.c.zip, _SR.c.pin_lon, _SR.c.pin_lat,
    _SR.c.pin_accuracy_m, _SR.c.pin_source, _SR.c.areas, _SR.c.locate, _SR.c.attributes,
    _SR.c.description, _SR.c.media_url, _SR.c.channel,
)  # fmt: skip


def _validated(conn: Connection, new: NewRequest) -> dict[str, Any]:
    """Every submitted field checked; returns the columns to store."""
    code = (new.service_code or "").strip() if isinstance(new.service_code, str) else ""
    if not code:
        raise BadRequest("field 'service_code' is required")
    service = find_service_type_row(conn, code)
    if service is None:
        raise BadRequest(f"unknown service_code {code[:64]!r}")
    attributes = validate_attributes(list(service.attributes or []), new.attributes or {}, code)
    has_pin = new.lon is not None or new.lat is not None
    lon: float | None = None
    lat: float | None = None
    if has_pin:
        lon = parse_coordinate(new.lon, "lon", -180.0, 180.0)
        lat = parse_coordinate(new.lat, "lat", -90.0, 90.0)
    elif not (isinstance(new.address, str) and new.address.strip()):
        raise BadRequest("a location is required: send 'lon' and 'lat', or 'address'")
    accuracy = None
    if new.accuracy_m is not None:
        accuracy = parse_coordinate(new.accuracy_m, "accuracy_m", 0.0, 100_000.0)
    pin_source = new.pin_source or ("map" if has_pin else "typed")
    if pin_source not in _PIN_SOURCES:
        raise BadRequest(f"field 'pin_source' must be one of {', '.join(_PIN_SOURCES)}")
    description = clean_text(new.description, "description", DESCRIPTION_MAX_CHARS)
    media_url = clean_text(new.media_url, "media_url", MEDIA_URL_MAX_CHARS)
    if media_url and not is_url(media_url):
        raise BadRequest("field 'media_url' must be an http or https URL")
    if new.channel not in CHANNELS:
        raise BadRequest(f"field 'channel' must be one of {', '.join(CHANNELS)}")
    if not isinstance(new.anonymous, bool):
        raise BadRequest("field 'anonymous' must be true or false")
    return {
        "service_code": code,
        "pin_lon": lon,
        "pin_lat": lat,
        "pin_accuracy_m": accuracy,
        "pin_source": pin_source,
        "attributes": attributes,
        "description": description,
        "media_url": media_url,
        "channel": new.channel,
        "contact": clean_contact(new.contact),
        "anonymous": new.anonymous,
    }


def _locate(conn: Connection, new: NewRequest, values: dict[str, Any]) -> Any:
    from geo311.locate import locate_point, locate_text

    if values["pin_lon"] is not None:
        result = locate_point(conn, values["pin_lon"], values["pin_lat"],
                              accuracy_m=values["pin_accuracy_m"],
                              service_code=values["service_code"])
        where = f"the point {values['pin_lon']:.6f}, {values['pin_lat']:.6f}"
    else:
        result = locate_text(conn, str(new.address), service_code=values["service_code"])
        where = f"the address {str(new.address)[:80]!r}"
        if result.found:  # the resident typed it: the pin is the located point
            values["pin_lon"], values["pin_lat"] = result.lon, result.lat
    if not result.found:
        raise Unprocessable(f"{where} could not be located in Los Angeles: it is outside any "
                            "known place; check the address or move the pin")
    jurisdiction = result.jurisdiction
    if jurisdiction is not None and not jurisdiction.inside_city:
        raise Unprocessable(
            f"{where} is not in the City of Los Angeles ({jurisdiction.name}): "
            f"{jurisdiction.responsible} is responsible. Contact: {jurisdiction.contact}.")
    return result


def _idempotency_key(key: str | None) -> str | None:
    if key is None or not key.strip():
        return None
    key = key.strip()
    if len(key) > _KEY_MAX_CHARS or not key.isprintable():
        raise BadRequest(f"header 'Idempotency-Key' must be printable text of at most "
                         f"{_KEY_MAX_CHARS} characters")
    return key


def _find_by_key(conn: Connection, key: str) -> ServiceRequest | None:
    request_id = conn.execute(
        select(_SR.c.id).where(_SR.c.idempotency_key == key)).scalar_one_or_none()
    return None if request_id is None else get_request(conn, request_id)


def _same_submission(existing: ServiceRequest, new: NewRequest) -> ServiceRequest:
    """A retry must be the same submission; another one under the same key is a 409."""
    if existing.service_code != (new.service_code or "").strip():
        raise Conflict("this Idempotency-Key was already used for a request of type "
                       f"{existing.service_code!r}; use a new key for a new request")
    return existing

