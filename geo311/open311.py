"""The Open311 GeoReport v2 blueprint at ``/open311/v2``: discovery, services, requests, tokens.

Handlers parse (``open311_params``), call the request store and the catalogue tables, and
serialise (``open311_render``); errors are rendered by ``geo311.errors`` in the spec's
``[{"code", "description"}]`` shape (XML for ``.xml`` paths).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request, url_for
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Connection

from geo311.apikeys import check_api_key
from geo311.db import get_conn, get_engine
from geo311.errors import BadRequest, Conflict, Forbidden, NotFound
from geo311.models import (
    REQUEST_STATUSES,
    AddressPoint,
    Department,
    RequestStatusHistory,
    ServiceRequest,
    ServiceType,
)
from geo311.open311_params import RequestQuery, Submission, parse_request_query, parse_submission
from geo311.open311_render import FORMATS, clean_text, format_w3, render
from geo311.request_query import RequestFilter, filter_clauses, public_select
from geo311.service_requests import NewRequest, Unprocessable, create_request

__all__ = ["blueprint", "init_app", "SPECIFICATION", "CHANGESET"]

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
#: When this endpoint's behaviour last changed (discovery ``changeset``).
CHANGESET = "2026-11-25T00:00:00Z"
_CONTACT = (
    "City of Los Angeles 311: dial 3-1-1 in the City or (213) 473-3231; "
    "for this API open an issue in the geo311 repository"
)
_KEY_SERVICE = (
    "Reading needs no key. To POST requests ask the City's 311 team for an API key "
    "(issued with `geo311 apikeys create NAME`)."
)

#: Spec limit on one answer ("first 1000 requests"); PAGE_LIMIT may lower it.
SPEC_MAX_RESULTS = 1000
_OPEN_STATUSES = tuple(s for s in REQUEST_STATUSES if s != "closed")
# status_notes for a closure recorded without a public note, so no request is ever closed
# "without explanation" (issue 7).
_CLOSE_REASON_NOTES = {
    "resolved": "Resolved.",
    "duplicate": "Closed as a duplicate of request {duplicate_of}.",
    "referred": "Referred to another agency.",
    "not_found": "Closed: the crew did not find the problem at this location.",
    "not_city": "Closed: this location is not City of Los Angeles jurisdiction.",
    "cancelled": "Cancelled by the reporter.",
}

blueprint = Blueprint("open311", __name__)


def init_app(app: Flask) -> None:
    """Mount the GeoReport v2 blueprint at ``/open311/v2``."""
    app.register_blueprint(blueprint, url_prefix="/open311/v2")


@blueprint.url_value_preprocessor
def _check_format_and_jurisdiction(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    fmt = (values or {}).get("fmt")
    if fmt is not None and fmt not in FORMATS:
        raise NotFound(f"format {fmt[:10]!r} is not supported; use .json or .xml")
    jurisdiction = (request.values.get("jurisdiction_id") or "").strip()
    expected = current_app.config["OPEN311_JURISDICTION"]
    if jurisdiction and jurisdiction.lower() != expected.lower():
        raise NotFound(f"jurisdiction_id {jurisdiction[:60]!r} was not found; this is {expected}")


@blueprint.get("/discovery.<fmt>")
def discovery(fmt: str) -> Response:
    """Service discovery: where the GeoReport v2 endpoint is and what it speaks."""
    doc = {
        "changeset": CHANGESET,
        "contact": _CONTACT,
        "key_service": _KEY_SERVICE,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url_for("open311.discovery", fmt=fmt, _external=True).rsplit("/", 1)[0],
                "changeset": CHANGESET,
                "type": "production",
                "formats": list(FORMATS.values()),
            }
        ],
    }
    return render(doc, fmt, "discovery")


@blueprint.get("/services.<fmt>")
def services(fmt: str) -> Response:
    """GET Service List: every request type with its group and keywords."""
    return render([_service_json(row) for row in _service_rows(get_conn())], fmt, "services")


@blueprint.get("/services/<code>.<fmt>")
def service_definition(code: str, fmt: str) -> Response:
    """GET Service Definition: the attributes a request of this type asks for."""
    rows = _service_rows(get_conn(), code)
    if not rows:
        raise NotFound(f"service_code {code[:64]!r} was not found")
    attributes = sorted((_attribute_json(a) for a in rows[0].attributes or []),
                        key=lambda a: a["order"])
    return render({"service_code": code, "attributes": attributes}, fmt, "service_definition")


def _service_rows(conn: Connection, code: str | None = None) -> list[Any]:
    query = select(
        ServiceType.code,
        ServiceType.name_en,
        ServiceType.description_en,
        ServiceType.group,
        ServiceType.keywords_en,
        ServiceType.attributes,
    ).order_by(ServiceType.group, ServiceType.code)
    if code is not None:
        query = query.where(ServiceType.code == code)
    return list(conn.execute(query))


def _service_json(row: Any) -> dict[str, Any]:
    return {
        "service_code": row.code,
        "service_name": row.name_en,
        "description": row.description_en or None,
        "metadata": bool(row.attributes),
        "type": "realtime",
        "keywords": ", ".join(row.keywords_en or []) or None,
        "group": row.group or None,
    }


def _attribute_json(raw: dict[str, Any]) -> dict[str, Any]:
    """One stored catalogue attribute as a spec attribute (English texts)."""
    values = [
        {"key": v["key"], "name": v.get("name_en") or v.get("name")}
        for v in raw.get("values") or []
    ]
    attribute = {
        "variable": bool(raw.get("variable", True)),
        "code": raw["code"],
        "datatype": raw["datatype"],
        "required": bool(raw.get("required", False)),
        "datatype_description": raw.get("datatype_description") or None,
        "order": int(raw["order"]),
        "description": raw.get("description_en") or raw.get("description"),
    }
    if values:
        attribute["values"] = values
    return attribute


@blueprint.get("/requests.<fmt>")
def service_requests(fmt: str) -> Response:
    """GET Service Requests: the spec filters plus page/page_size, bbox, lat/long/radius..."""
    limit = min(int(current_app.config["PAGE_LIMIT"]), SPEC_MAX_RESULTS)
    query = parse_request_query(request.args, now=datetime.now(UTC), page_limit=limit)
    rows = find_open311_requests(get_conn(), query)
    return render([request_json(r, extensions=query.extensions) for r in rows], fmt,
                  "service_requests")


@blueprint.get("/requests/<service_request_id>.<fmt>")
def service_request(service_request_id: str, fmt: str) -> Response:
    """GET Service Request: one request, as a list of one (spec)."""
    extensions = parse_request_query(request.args, now=datetime.now(UTC),
                                     page_limit=1).extensions
    rows = find_open311_requests(get_conn(), RequestQuery(ids=(service_request_id,)))
    if not rows:
        raise NotFound(f"service_request_id {service_request_id[:64]!r} was not found")
    return render([request_json(rows[0], extensions=extensions)], fmt, "service_requests")


@blueprint.post("/requests.<fmt>")
def create_service_request(fmt: str) -> Response:
    """POST Service Request: form-encoded fields as in the spec; needs ``api_key``.

    The service type is checked first (404 when unknown, as the spec says), then the store
    validates the rest, locates the place and stores it with the contact fields kept private.
    A repeated ``Idempotency-Key`` header (or ``token`` field) returns the same request.
    """
    form = request.form
    caller = check_api_key(get_conn(), form.get("api_key"))
    if caller is None:
        raise Forbidden("api_key was not provided or is not valid")
    submission = parse_submission(form)
    key = (request.headers.get("Idempotency-Key") or form.get("token") or "").strip() or None
    with get_engine().begin() as conn:
        if conn.execute(select(ServiceType.code).where(
                ServiceType.code == submission.service_code)).first() is None:
            raise NotFound(f"service_code {submission.service_code!r} was not found")
        new = _new_request(conn, submission)
        try:
            stored, created = create_request(conn, new, idempotency_key=key)
        except Unprocessable as exc:  # the spec knows only 400 for a request it cannot take
            raise BadRequest(exc.message) from None
        except Conflict as exc:
            raise BadRequest(exc.message) from None
        if created and submission.address_id:
            conn.execute(update(ServiceRequest).where(ServiceRequest.id == stored.id)
                         .values(address_id=submission.address_id))
        department = stored.department and conn.execute(
            select(Department.name_en).where(Department.code == stored.department)).scalar()
    notice = f"Received. {department} will handle this request." if department else "Received."
    body = [{"service_request_id": str(stored.id), "service_notice": notice, "account_id": None}]
    return render(body, fmt, "service_requests")


@blueprint.get("/tokens/<token>.<fmt>")
def token(token: str, fmt: str) -> Response:
    """GET service_request_id from a token: the token is the POST's Idempotency-Key."""
    request_id = get_conn().execute(
        select(ServiceRequest.id).where(ServiceRequest.idempotency_key == token)
    ).scalar_one_or_none()
    if request_id is None:
        raise NotFound(f"token {token[:64]!r} was not found")
    return render([{"service_request_id": str(request_id), "token": token}], fmt,
                  "service_requests")


def _new_request(conn: Connection, s: Submission) -> NewRequest:
    """The store's submission: a pin from lat/long or from ``address_id``, else the text."""
    lon, lat, address, pin_source = s.lon, s.lat, None, "map"
    if lon is None and s.address_id:
        point = conn.execute(
            select(func.ST_X(AddressPoint.geom), func.ST_Y(AddressPoint.geom))
            .where(AddressPoint.source_id == s.address_id, AddressPoint.kind == "address")
            .order_by(AddressPoint.confidence.desc(), AddressPoint.id)
            .limit(1)
        ).first()
        if point is None:
            raise BadRequest(f"address_id {s.address_id!r} was not found")
        lon, lat, pin_source = point[0], point[1], "typed"
    elif lon is None:
        address, pin_source = s.address_string, "typed"
    return NewRequest(
        service_code=s.service_code, lon=lon, lat=lat, address=address, pin_source=pin_source,
        description=s.description, attributes=s.attributes, media_url=s.media_url,
        contact=s.contact or None, channel="open311",
    )


def find_open311_requests(conn: Connection, query: RequestQuery) -> list[Any]:
    """The rows of one page of public requests, newest first (no private column is read).

    ``service_request_id`` values are our numeric ids or MyLA311 SR numbers (``external_id``).

    :param conn: database connection.
    :param query: parsed filters.
    :returns: rows for :func:`request_json`.
    """
    c = ServiceRequest.__table__.c
    statuses: tuple[str, ...] = ()
    if query.statuses and set(query.statuses) != {"open", "closed"}:
        statuses = ("closed",) if query.statuses == ("closed",) else _OPEN_STATUSES
    f = RequestFilter(
        service_codes=query.service_codes, statuses=statuses, start=query.start,
        bbox=query.bbox, updated_after=query.updated_after, near=query.near,
        agencies=query.agencies,
    )
    clauses = filter_clauses(f)
    if query.end is not None:  # the spec's end_date is inclusive: "latest datetime to include"
        clauses.append(c.requested_at <= query.end)
    if query.ids:
        numeric = [int(i) for i in query.ids if i.isdigit() and len(i) < 19]
        clauses.append(or_(c.id.in_(numeric), c.external_id.in_(query.ids)))
    latest = (
        select(RequestStatusHistory.note)
        .where(RequestStatusHistory.request_id == c.id, RequestStatusHistory.public)
        .order_by(RequestStatusHistory.at.desc(), RequestStatusHistory.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    department_name = (
        select(Department.name_en).where(Department.code == c.department).scalar_subquery()
    )
    columns = [
        c.id, c.external_id, c.service_code, ServiceType.name_en.label("service_name"),
        c.status, c.close_reason, c.duplicate_of, latest.label("status_notes"),
        c.description, func.coalesce(department_name, c.agency_responsible).label("agency"),
        c.department, c.requested_at, c.updated_at, c.address, c.address_id, c.zip,
        func.coalesce(func.ST_Y(c.location), c.pin_lat).label("lat"),
        func.coalesce(func.ST_X(c.location), c.pin_lon).label("lon"),
        c.media_url, c.channel, c.areas, c.locate,
    ]
    statement = (
        public_select(*columns)
        .where(and_(*clauses))
        .order_by(c.requested_at.desc(), c.id.desc())
        .limit(query.page_size)
        .offset(query.offset)
    )
    return list(conn.execute(statement))


def request_json(row: Any, *, extensions: bool = False) -> dict[str, Any]:
    """One request in the spec's field order; contact fields are never part of it."""
    public_status = "closed" if row.status == "closed" else "open"
    notes = row.status_notes
    if not notes and public_status == "closed" and row.close_reason in _CLOSE_REASON_NOTES:
        notes = _CLOSE_REASON_NOTES[row.close_reason].format(duplicate_of=row.duplicate_of)
    data: dict[str, Any] = {
        "service_request_id": str(row.id),
        "status": public_status,
        "status_notes": clean_text(notes),
        "service_name": row.service_name,
        "service_code": row.service_code,
        "description": clean_text(row.description),
        "agency_responsible": row.agency or None,
        "service_notice": None,
        "requested_datetime": format_w3(row.requested_at),
        "updated_datetime": format_w3(row.updated_at),
        "expected_datetime": None,
        "address": clean_text(row.address),
        "address_id": row.address_id or None,
        "zipcode": row.zip or None,
        "lat": None if row.lat is None else round(row.lat, 7),
        "long": None if row.lon is None else round(row.lon, 7),
        "media_url": row.media_url or None,
    }
    if extensions:
        data["extended_attributes"] = _extended_attributes(row)
    return data


def _extended_attributes(row: Any) -> dict[str, Any]:
    """The stored locate answer, flattened enough to read the same in XML."""
    locate = row.locate or {}
    address = locate.get("address") or {}
    segment = locate.get("segment")
    return {
        "external_id": row.external_id,
        "channel": row.channel,
        "department": row.department,
        "snapped_address": address.get("text"),
        "precision": locate.get("precision"),
        "score": locate.get("score"),
        "side": (segment or {}).get("side_compass") or (segment or {}).get("side"),
        "segment": None if not segment else {
            k: segment.get(k) for k in ("id", "street", "from_street", "to_street", "side",
                                        "side_compass", "distance_m")
        },
        "areas": [
            {k: a.get(k) for k in ("type", "code", "name", "vintage") if k in a}
            for a in (row.areas or [])
        ],
    }

