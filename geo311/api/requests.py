"""/api/v1/requests: list (GeoJSON, cursor paging), one request (ETag), create, bulk exports."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, request, url_for

from geo311.catalogue import check_filter_codes
from geo311.db import get_conn, get_engine
from geo311.errors import BadRequest, PayloadTooLarge
from geo311.exports import EXPORT_FORMATS, export_response
from geo311.request_query import SORTS, parse_request_filter, query_features
from geo311.service_requests import NewRequest, create_request, etag_for, get_request_feature

__all__ = ["blueprint"]

blueprint = Blueprint("requests", __name__)
_GEOJSON = "application/geo+json"
_DEFAULT_LIMIT = 100
_FIELDS = {"service_code", "lon", "lat", "address", "accuracy_m", "pin_source", "description",
           "attributes", "media_url", "contact", "anonymous", "channel"}


@blueprint.get("/requests")
def list_requests() -> Response:
    """A GeoJSON FeatureCollection of requests, newest first, with a ``next`` link."""
    filters = parse_request_filter(request.args)
    check_filter_codes(get_conn(), filters.service_codes, filters.departments)
    limit = _limit()
    sort = request.args.get("sort") or SORTS[0]
    page = query_features(get_conn(), filters, limit=limit, cursor=request.args.get("cursor"),
                          sort=sort)
    links = []
    next_url = None
    if page.next_cursor:
        args = {k: v for k, v in request.args.items(multi=False) if k != "cursor"}
        next_url = url_for("requests.list_requests", _external=True, **args,
                           cursor=page.next_cursor)
        links.append({"rel": "next", "href": next_url, "type": _GEOJSON})
    body = (
        '{"type":"FeatureCollection","features":[' + ",".join(page.features) + "]"
        f',"numberReturned":{len(page.features)}'
        + (',"next":' + json.dumps(next_url) if next_url else ',"next":null')
        + ',"links":' + json.dumps(links) + "}"
    )
    return Response(body, mimetype=_GEOJSON)


@blueprint.get("/requests/<int:request_id>")
def get_one(request_id: int) -> Response:
    """One request as a GeoJSON Feature (with its stored locate answer) and its ETag."""
    feature, version = get_request_feature(get_conn(), request_id)
    response = Response(feature, mimetype=_GEOJSON)
    response.headers["ETag"] = etag_for(version)
    if request.if_none_match and request.if_none_match.contains(str(version)):
        return Response(status=304, headers={"ETag": etag_for(version)})
    return response


@blueprint.post("/requests")
def create() -> Response:
    """Create a request from JSON; 201 with the Feature, or 200 when the Idempotency-Key repeats."""
    limit = int(current_app.config["REQUEST_BODY_MAX_BYTES"])
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"the body is larger than {limit:,} bytes")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object such as "
                         '{"service_code": "graffiti", "lon": -118.25, "lat": 34.05}')
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise BadRequest(f"field '{str(unknown[0])[:40]}' is not accepted; "
                         f"fields are: {', '.join(sorted(_FIELDS))}")
    new = NewRequest(
        service_code=body.get("service_code"),  # type: ignore[arg-type]
        lon=body.get("lon"), lat=body.get("lat"), address=body.get("address"),
        accuracy_m=body.get("accuracy_m"), pin_source=body.get("pin_source"),
        description=body.get("description"), attributes=body.get("attributes") or {},
        media_url=body.get("media_url"), contact=body.get("contact"),
        anonymous=body.get("anonymous", False), channel=body.get("channel") or "api",
    )
    conn = get_conn()
    if conn.in_transaction():
        conn.commit()
    with conn.begin():
        stored, created = create_request(conn, new,
                                         idempotency_key=request.headers.get("Idempotency-Key"))
    feature, version = get_request_feature(conn, stored.id)
    conn.rollback()
    response = Response(feature, status=201 if created else 200, mimetype=_GEOJSON)
    response.headers["ETag"] = etag_for(version)
    response.headers["Location"] = url_for("requests.get_one", request_id=stored.id,
                                           _external=True)
    return response


@blueprint.get("/requests.<fmt>")
def export(fmt: str) -> Response:
    """Every request matching the filters, streamed as CSV, GeoJSON or GeoParquet."""
    if fmt not in EXPORT_FORMATS:
        raise BadRequest(f"export format must be one of {', '.join(EXPORT_FORMATS)}")
    filters = parse_request_filter(request.args)
    check_filter_codes(get_conn(), filters.service_codes, filters.departments)
    return export_response(get_engine(), filters, fmt)


def _limit() -> int:
    raw = request.args.get("limit")
    most = int(current_app.config["PAGE_LIMIT"])
    if raw is None or raw == "":
        return min(_DEFAULT_LIMIT, most)
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        raise BadRequest(f"parameter 'limit' must be a whole number from 1 to {most}")
    return int(raw)
