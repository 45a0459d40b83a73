"""311 requests: validate a new request against the catalogue, locate it, store it idempotently.

One create is one transaction (the caller's): the request row and its first history row are
written together, and a failure leaves nothing behind. The raw pin is stored as submitted and
never updated; the located point, the locate answer, the areas as of the request date and the
routed department are stored beside it. ``contact`` is private and never leaves this module.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from geo311.catalogue import find_service_type_row, route_department
from geo311.errors import BadRequest, Conflict, Geo311Error, NotFound
from geo311.events import record_event
from geo311.geometry import WGS84, parse_coordinate
from geo311.models import RequestStatusHistory
from geo311.models import ServiceRequest as RequestRow
from geo311.request_query import feature_json, public_select

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

DESCRIPTION_MAX_CHARS = 4000
MEDIA_URL_MAX_CHARS = 2000
#: Where a request came from; ``import`` is reserved for ``geo311 load requests``.
CHANNELS = ("api", "open311", "web", "mobile", "phone", "email", "crew", "council", "social")
_PIN_SOURCES = ("gps", "map", "typed")
_CONTACT_FIELDS = ("name", "first_name", "last_name", "email", "phone", "device_id",
                   "account_id")
_CONTACT_MAX_CHARS = 200
_STRING_MAX_CHARS = 500
_KEY_MAX_CHARS = 200
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SR = RequestRow.__table__


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
    statement = insert(_SR).values(**row).returning(_SR.c.id)
    if key is not None:
        statement = statement.on_conflict_do_nothing(index_elements=["idempotency_key"])
    request_id = conn.execute(statement).scalar_one_or_none()
    if request_id is None:  # a concurrent create with this key committed first
        existing = _find_by_key(conn, key)
        if existing is None:  # pragma: no cover - the conflicting row cannot vanish
            raise Conflict("the Idempotency-Key is in use by a request being created; retry")
        return _same_submission(existing, new), False
    conn.execute(RequestStatusHistory.__table__.insert().values(
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


def validate_attributes(definitions: list[dict[str, Any]], given: Mapping[str, Any],
                        service_code: str) -> dict[str, Any]:
    """Check attribute answers against a service's Open311 definitions.

    >>> defs = [{"code": "n", "datatype": "number", "required": True, "variable": True}]
    >>> validate_attributes(defs, {"n": "3"}, "x")
    {'n': 3}

    :param definitions: the stored ``service_type.attributes``.
    :param given: answers by attribute code (lists for multivaluelist).
    :returns: the answers, typed (numbers as numbers, lists as lists).
    :raises BadRequest: naming the attribute.
    """
    if not isinstance(given, Mapping):
        raise BadRequest("field 'attributes' must be an object of attribute code to value")
    by_code = {d["code"]: d for d in definitions}
    unknown = sorted(set(given) - set(by_code))
    if unknown:
        raise BadRequest(f"attribute '{str(unknown[0])[:64]}' is not asked for {service_code}; "
                         f"its attributes are: {', '.join(by_code) or 'none'}")
    clean: dict[str, Any] = {}
    for code, definition in by_code.items():
        value = given.get(code)
        empty = value is None or value == "" or value == []
        if not definition.get("variable", True):
            if not empty:
                raise BadRequest(f"attribute '{code}' is information only and takes no value")
            continue
        if empty:
            if definition.get("required"):
                raise BadRequest(f"attribute '{code}' is required for {service_code}")
            continue
        clean[code] = _attribute_value(definition, value)
    return clean


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
    if has_pin:
        lon = parse_coordinate(new.lon, "lon", -180.0, 180.0)
        lat = parse_coordinate(new.lat, "lat", -90.0, 90.0)
    elif isinstance(new.address, str) and new.address.strip():
        lon = lat = None
    else:
        raise BadRequest("a location is required: send 'lon' and 'lat', or 'address'")
    accuracy = None
    if new.accuracy_m is not None:
        accuracy = parse_coordinate(new.accuracy_m, "accuracy_m", 0.0, 100_000.0)
    pin_source = new.pin_source or ("map" if has_pin else "typed")
    if pin_source not in _PIN_SOURCES:
        raise BadRequest(f"field 'pin_source' must be one of {', '.join(_PIN_SOURCES)}")
    description = _optional_text(new.description, "description", DESCRIPTION_MAX_CHARS)
    media_url = _optional_text(new.media_url, "media_url", MEDIA_URL_MAX_CHARS)
    if media_url and not _URL.match(media_url):
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
        "contact": _contact(new.contact),
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
            f"{jurisdiction.responsible} is responsible. {jurisdiction.contact}".strip())
    return result


def _attribute_value(definition: dict[str, Any], value: Any) -> Any:
    code, datatype = definition["code"], definition.get("datatype", "string")
    keys = [v["key"] for v in definition.get("values") or []]
    if datatype == "number":
        if isinstance(value, bool):
            raise BadRequest(f"attribute '{code}' must be a number")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise BadRequest(f"attribute '{code}' must be a number, got {str(value)[:40]!r}") \
                from None
        if not math.isfinite(number):
            raise BadRequest(f"attribute '{code}' must be a finite number")
        return int(number) if number.is_integer() else number
    if datatype == "singlevaluelist":
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if not isinstance(value, str) or value not in keys:
            raise BadRequest(f"attribute '{code}' must be one of {', '.join(keys)}, "
                             f"got {str(value)[:40]!r}")
        return value
    if datatype == "multivaluelist":
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list) or not items:
            raise BadRequest(f"attribute '{code}' must be a list of {', '.join(keys)}")
        items = [str(i).strip() for i in items]
        wrong = [i for i in items if i not in keys]
        if wrong:
            raise BadRequest(f"attribute '{code}': {wrong[0][:40]!r} is not one of "
                             f"{', '.join(keys)}")
        return list(dict.fromkeys(items))
    if datatype == "datetime":
        try:
            return datetime.fromisoformat(str(value).replace("Z", "+00:00")).isoformat()
        except ValueError:
            raise BadRequest(f"attribute '{code}' must be an ISO date-time, "
                             f"got {str(value)[:40]!r}") from None
    limit = DESCRIPTION_MAX_CHARS if datatype == "text" else _STRING_MAX_CHARS
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise BadRequest(f"attribute '{code}' must be text")
    text_value = str(value).strip()
    if len(text_value) > limit:
        raise BadRequest(f"attribute '{code}' is limited to {limit} characters")
    return text_value


def _optional_text(value: Any, name: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"field '{name}' must be text")
    value = value.strip()
    if len(value) > limit:
        raise BadRequest(f"field '{name}' is limited to {limit:,} characters, got {len(value):,}")
    return value or None


def _contact(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise BadRequest("field 'contact' must be an object with name, email and phone")
    unknown = sorted(set(value) - set(_CONTACT_FIELDS))
    if unknown:
        raise BadRequest(f"field 'contact.{str(unknown[0])[:40]}' is not accepted; "
                         f"use {', '.join(_CONTACT_FIELDS)}")
    clean = {}
    for name in _CONTACT_FIELDS:
        item = value.get(name)
        if item is None or item == "":
            continue
        if not isinstance(item, str) or len(item) > _CONTACT_MAX_CHARS:
            raise BadRequest(f"field 'contact.{name}' must be text of at most "
                             f"{_CONTACT_MAX_CHARS} characters")
        clean[name] = item.strip()
    if "email" in clean and not _EMAIL.match(clean["email"]):
        raise BadRequest("field 'contact.email' is not an e-mail address")
    return clean or None


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

