"""The OpenAPI 3.1 document for ``/api/v1`` and ``/open311/v2``, served with a plain docs page.

Operations are written by hand below, keyed by path template and method. The document is built
from the app's own routes: each registered route under the two prefixes gets its written
operation (path parameters come from the route itself, so names never drift), and a route with
none gets a stub marked ``x-undocumented`` that ``tests/api/test_openapi.py`` refuses. Open311
routes ending in ``.<fmt>`` appear twice, as ``.json`` and ``.xml``.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, render_template_string, request
from markupsafe import Markup, escape
from werkzeug.routing import Rule

from geo311 import __version__

__all__ = [
    "api_error",
    "query_param",
    "blueprint",
    "init_app",
    "build_openapi",
    "undocumented_routes",
    "expand_formats",
    "formats_of",
    "PREFIXES",
    "OPERATIONS",
    "SCHEMAS",
]

PREFIXES = ("/api/v1/", "/open311/v2/")
_FORMAT_TYPES = {"json": "application/json", "xml": "text/xml"}
_CONVERTER_SCHEMAS = {"int": {"type": "integer"}, "float": {"type": "number"}}
_RULE_ARG = re.compile(r"<(?:(?P<conv>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")

blueprint = Blueprint("openapi", __name__)


def init_app(app: Flask) -> None:
    """Serve the document at ``/api/v1/openapi.json`` and the docs page at ``/api/v1/docs``."""
    app.register_blueprint(blueprint, url_prefix="/api/v1")


@blueprint.get("/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI 3.1 document of this server."""
    from flask import current_app

    doc = build_openapi(current_app, server_url=request.url_root.rstrip("/"))
    return jsonify(doc)


@blueprint.get("/docs")
def docs() -> str:
    """A plain HTML page listing every operation with its parameters and responses."""
    from flask import current_app

    doc = build_openapi(current_app, server_url=request.url_root.rstrip("/"))
    operations = [
        {"path": path, "method": method.upper(), **op}
        for path, item in doc["paths"].items()
        for method, op in item.items()
    ]
    return render_template_string(_DOCS_PAGE, doc=doc, operations=operations, md=_inline_code)


def _inline_code(text: str | None) -> Markup:
    """Escape ``text`` and show its `backticked` spans as ``<code>``.

    >>> str(_inline_code("errors are `{'ok': false}` <b>"))
    'errors are <code>{&#39;ok&#39;: false}</code> &lt;b&gt;'
    """
    escaped = str(escape(text or ""))
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped))


def build_openapi(app: Flask, server_url: str | None = None) -> dict[str, Any]:
    """Build the document from the app's routes and the written operations.

    :param app: the application whose ``url_map`` is described.
    :param server_url: the ``servers[0].url`` (the request's root when served).
    :returns: an OpenAPI 3.1 document as a dict.
    """
    paths: dict[str, dict[str, Any]] = {}
    for rule in _routes(app):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):  # type: ignore[operator]
            written = OPERATIONS.get((template_key(rule.rule), method.lower()))
            formats = (written or {}).get("formats", _FORMAT_TYPES)
            for path, fmt in expand_formats(rule.rule, formats):
                op = _operation(app, rule, method, written, fmt, formats)
                paths.setdefault(path, {})[method.lower()] = op
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "geo311",
            "version": __version__,
            "summary": "Los Angeles 311 location engine and request store",
            "description": (
                "`/api/v1` is geo311's own JSON/GeoJSON API; its errors are "
                "`{\"ok\": false, \"error\", \"status\"}`. `/open311/v2` is Open311 GeoReport v2 "
                "(http://wiki.open311.org/GeoReport_v2) in JSON and XML; its errors are "
                "`[{\"code\", \"description\"}]` (`<errors><error>` in XML). Times are W3C/ISO "
                "8601 with an offset."
            ),
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": copy.deepcopy(SCHEMAS),
            "securitySchemes": {
                "open311ApiKey": {
                    "type": "apiKey", "in": "query", "name": "api_key",
                    "description": "Open311 key, sent as the `api_key` form field of a POST.",
                },
            },
        },
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc


def undocumented_routes(app: Flask) -> list[str]:
    """``METHOD /path`` of every route under the prefixes that has no written operation."""
    missing = []
    for rule in _routes(app):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):  # type: ignore[operator]
            if (template_key(rule.rule), method.lower()) not in OPERATIONS:
                missing.append(f"{method} {rule.rule}")
    return missing


def formats_of(rule: str, method: str) -> dict[str, str]:
    """The formats (extension -> media type) a ``.<fmt>`` route is documented with."""
    written = OPERATIONS.get((template_key(rule), method.lower())) or {}
    return dict(written.get("formats", _FORMAT_TYPES))


def template_key(rule: str) -> str:
    """The key of a route in ``OPERATIONS``: its rule with every variable shown as ``{}``.

    >>> template_key("/open311/v2/services/<code>.<fmt>")
    '/open311/v2/services/{}.<fmt>'
    >>> template_key("/api/v1/requests/<int:request_id>")
    '/api/v1/requests/{}'
    """
    return _RULE_ARG.sub(lambda m: "<fmt>" if m["name"] == "fmt" else "{}", rule)


def _routes(app: Flask) -> list[Rule]:
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith(PREFIXES)]
    return sorted(rules, key=lambda r: r.rule)


def expand_formats(rule: str, formats: dict[str, str] | None = None
                   ) -> list[tuple[str, str | None]]:
    """The OpenAPI paths of a route: a ``.<fmt>`` route gives one path per format.

    >>> expand_formats("/open311/v2/services/<code>.<fmt>")[0]
    ('/open311/v2/services/{code}.json', 'json')

    :param formats: extension -> media type; default Open311's ``xml`` and ``json``.
    """
    path = _RULE_ARG.sub(lambda m: m["name"] if m["name"] == "fmt" else "{" + m["name"] + "}",
                         rule)
    if path.endswith(".fmt"):
        return [(path[: -len("fmt")] + fmt, fmt) for fmt in (formats or _FORMAT_TYPES)]
    return [(path, None)]


def _operation(
    app: Flask, rule: Rule, method: str, written: dict[str, Any] | None, fmt: str | None,
    formats: dict[str, str],
) -> dict[str, Any]:
    op = copy.deepcopy(written) if written else _stub(app, rule)
    op.pop("formats", None)
    suffix = f"_{fmt}" if fmt else ""
    op["operationId"] = f"{rule.endpoint.replace('.', '_')}_{method.lower()}{suffix}"
    descriptions = op.pop("path_params", {})
    params = [
        {
            "name": m["name"],
            "in": "path",
            "required": True,
            "description": descriptions.get(m["name"], ""),
            "schema": dict(_CONVERTER_SCHEMAS.get(m["conv"] or "", {"type": "string"})),
        }
        for m in _RULE_ARG.finditer(rule.rule)
        if m["name"] != "fmt"
    ]
    op["parameters"] = params + op.get("parameters", [])
    if fmt is not None:
        errors_too = formats is _FORMAT_TYPES  # Open311 errors follow the path's format
        op["responses"] = _for_format(op["responses"], formats[fmt], errors_too)
    return op


def _for_format(responses: dict[str, Any], media: str, errors_too: bool) -> dict[str, Any]:
    """Keep only the media type of this path's format (on errors too, for Open311)."""
    out = {}
    for status, response in responses.items():
        response = dict(response)
        content = response.get("content")
        if content and (errors_too or status.startswith("2")):
            schema = next(iter(content.values()))["schema"]
            response["content"] = {media: {"schema": schema}}
        out[status] = response
    return out


def _stub(app: Flask, rule: Rule) -> dict[str, Any]:
    view = app.view_functions.get(rule.endpoint)
    doc = (view.__doc__ or "").strip() if view else ""
    return {
        "summary": doc.splitlines()[0] if doc else rule.endpoint,
        "x-undocumented": True,
        "responses": {"200": {"description": "See the source; not yet described here."}},
    }


# ---------------------------------------------------------------- written operations
def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def query_param(name: str, description: str, schema: dict[str, Any] | None = None,
                required: bool = False) -> dict[str, Any]:
    """An OpenAPI query parameter (a string unless ``schema`` says otherwise)."""
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema or {"type": "string"}}


def _ok(description: str, schema: dict[str, Any], media: str = "application/json") -> dict:
    return {"description": description, "content": {media: {"schema": schema}}}


def api_error(description: str) -> dict[str, Any]:
    """An OpenAPI response whose body is the API's JSON error (``ApiError``)."""
    return _ok(description, _ref("ApiError"))


def _o311_error(description: str) -> dict[str, Any]:
    return _ok(description, _ref("Open311Errors"))


_NULLABLE_STR = {"type": ["string", "null"]}
_W3 = {"type": "string", "format": "date-time"}
_JURISDICTION = query_param("jurisdiction_id", "Optional: `lacity.org`; any other value gets 404.")
_O311_JURISDICTION_404 = _o311_error("jurisdiction_id (or the thing asked for) was not found")

SCHEMAS: dict[str, Any] = {
    "ApiError": {
        "type": "object", "required": ["ok", "error", "status"],
        "properties": {"ok": {"const": False}, "error": {"type": "string"},
                       "status": {"type": "integer"}},
    },
    "Area": {
        "type": "object",
        "properties": {"type": {"type": "string"}, "code": {"type": "string"},
                       "name": {"type": "string"}, "vintage": {"type": "string"}},
    },
    "GeoJSONFeature": {
        "type": "object", "required": ["type", "geometry", "properties"],
        "properties": {"type": {"const": "Feature"}, "id": {},
                       "geometry": {"type": ["object", "null"]},
                       "properties": {"type": "object"}},
    },
    "GeoJSONFeatureCollection": {
        "type": "object", "required": ["type", "features"],
        "properties": {"type": {"const": "FeatureCollection"},
                       "features": {"type": "array", "items": _ref("GeoJSONFeature")}},
    },
    "LocateResult": {
        "type": "object",
        "properties": {
            "query": _NULLABLE_STR, "pin": {"type": ["object", "null"]},
            "location": {"type": ["object", "null"], "properties": {
                "lon": {"type": "number"}, "lat": {"type": "number"}}},
            "precision": {"type": "string"}, "score": {"type": "integer"},
            "reasons": {"type": "array", "items": {"type": "string"}},
            "address": {"type": ["object", "null"]}, "segment": {"type": ["object", "null"]},
            "areas": {"type": "array", "items": _ref("Area")},
            "jurisdiction": {"type": ["object", "null"]},
            "ambiguities": {"type": "array", "items": {"type": "object"}},
            "candidates": {"type": "array", "items": {"type": "object"}},
            "date": {"type": "string"}, "department": {"type": ["object", "null"]},
            "description": {"type": "string"},
        },
    },
    "NewRequest": {
        "type": "object", "required": ["service_code"],
        "properties": {
            "service_code": {"type": "string"}, "lon": {"type": "number"},
            "lat": {"type": "number"}, "address": {"type": "string"},
            "accuracy_m": {"type": "number", "minimum": 0},
            "pin_source": {"enum": ["gps", "map", "typed"]},
            "description": {"type": "string", "maxLength": 4000},
            "attributes": {"type": "object"}, "media_url": {"type": "string", "format": "uri"},
            "contact": {"type": "object", "properties": {
                "name": {"type": "string"}, "email": {"type": "string"},
                "phone": {"type": "string"}}},
            "anonymous": {"type": "boolean"}, "channel": {"type": "string"},
        },
        "additionalProperties": False,
    },
    "Open311Errors": {
        "type": "array", "xml": {"name": "errors", "wrapped": True},
        "items": {
            "type": "object", "xml": {"name": "error"}, "required": ["code", "description"],
            "properties": {"code": {"type": "integer", "description": "the HTTP status"},
                           "description": {"type": "string"}},
        },
    },
    "Open311Discovery": {
        "type": "object", "xml": {"name": "discovery"},
        "properties": {
            "changeset": _W3, "contact": {"type": "string"}, "key_service": {"type": "string"},
            "endpoints": {
                "type": "array", "xml": {"wrapped": True},
                "items": {
                    "type": "object", "xml": {"name": "endpoint"},
                    "properties": {
                        "specification": {"type": "string"}, "url": {"type": "string"},
                        "changeset": _W3, "type": {"enum": ["production", "test"]},
                        "formats": {"type": "array", "xml": {"wrapped": True},
                                    "items": {"type": "string", "xml": {"name": "format"}}},
                    },
                },
            },
        },
    },
    "Open311Services": {
        "type": "array", "xml": {"name": "services", "wrapped": True},
        "items": {
            "type": "object", "xml": {"name": "service"},
            "required": ["service_code", "service_name", "metadata", "type"],
            "properties": {
                "service_code": {"type": "string"}, "service_name": {"type": "string"},
                "description": _NULLABLE_STR,
                "metadata": {"type": "boolean",
                             "description": "true: GET services/{code} lists attributes"},
                "type": {"enum": ["realtime", "batch", "blackbox"]},
                "keywords": {**_NULLABLE_STR, "description": "comma separated"},
                "group": _NULLABLE_STR,
            },
        },
    },
    "Open311ServiceDefinition": {
        "type": "object", "xml": {"name": "service_definition"},
        "properties": {
            "service_code": {"type": "string"},
            "attributes": {
                "type": "array", "xml": {"wrapped": True},
                "items": {
                    "type": "object", "xml": {"name": "attribute"},
                    "properties": {
                        "variable": {"type": "boolean"}, "code": {"type": "string"},
                        "datatype": {"enum": ["string", "number", "datetime", "text",
                                              "singlevaluelist", "multivaluelist"]},
                        "required": {"type": "boolean"},
                        "datatype_description": _NULLABLE_STR,
                        "order": {"type": "integer", "minimum": 1},
                        "description": {"type": "string"},
                        "values": {
                            "type": "array", "xml": {"wrapped": True},
                            "items": {"type": "object", "xml": {"name": "value"},
                                      "properties": {"key": {"type": "string"},
                                                     "name": {"type": "string"}}},
                        },
                    },
                },
            },
        },
    },
    "Open311Requests": {
        "type": "array", "xml": {"name": "service_requests", "wrapped": True},
        "items": {
            "type": "object", "xml": {"name": "request"},
            "properties": {
                "service_request_id": {"type": "string"},
                "status": {"enum": ["open", "closed"]},
                "status_notes": _NULLABLE_STR, "service_name": {"type": "string"},
                "service_code": {"type": "string"}, "description": _NULLABLE_STR,
                "agency_responsible": _NULLABLE_STR, "service_notice": _NULLABLE_STR,
                "requested_datetime": _W3, "updated_datetime": _W3,
                "expected_datetime": {"type": ["string", "null"], "format": "date-time"},
                "address": _NULLABLE_STR, "address_id": _NULLABLE_STR, "zipcode": _NULLABLE_STR,
                "lat": {"type": ["number", "null"]}, "long": {"type": ["number", "null"]},
                "media_url": _NULLABLE_STR,
                "extended_attributes": {
                    "type": "object",
                    "description": "Only with extensions=true: the stored locate answer "
                                   "(snapped address, segment, side, areas, score, department).",
                },
            },
        },
    },
    "Open311PostResult": {
        "type": "array", "xml": {"name": "service_requests", "wrapped": True},
        "items": {
            "type": "object", "xml": {"name": "request"},
            "properties": {"service_request_id": {"type": "string"},
                           "service_notice": _NULLABLE_STR, "account_id": _NULLABLE_STR,
                           "token": {"type": "string"}},
        },
    },
    "Open311Token": {
        "type": "array", "xml": {"name": "service_requests", "wrapped": True},
        "items": {
            "type": "object", "xml": {"name": "request"},
            "properties": {"service_request_id": {"type": "string"}, "token": {"type": "string"}},
        },
    },
}

_REQUEST_FILTERS = [
    query_param("service_code", "Service codes, comma separated."),
    query_param("status", "open, acknowledged, assigned, in_progress, closed; comma separated."),
    query_param("department", "Department codes, comma separated (e.g. LASAN)."),
    query_param("area_type", "With area_code: requests inside that area (e.g. CD)."),
    query_param("area_code", "With area_type, e.g. 10."),
    query_param("start", "Requested on or after: YYYY-MM-DD (an LA day) or an ISO date-time."),
    query_param("end", "Requested before the end of: YYYY-MM-DD or an ISO date-time."),
    query_param("bbox", "min_lon,min_lat,max_lon,max_lat (WGS84)."),
    query_param("updated_after", "Only requests changed after this ISO date-time.", _W3),
]
_OPEN311_REQUEST_FILTERS = [
    _JURISDICTION,
    query_param("service_request_id", "Comma-separated ids; overrides every other filter."),
    query_param("service_code", "Comma-separated service codes (repeatable)."),
    query_param("start_date", "Earliest requested_datetime, W3C format, e.g. 2010-01-01T00:00:00Z. "
                     "Without dates: the last 90 days.", _W3),
    query_param("end_date", "Latest requested_datetime, W3C format.", _W3),
    query_param("status", "open, closed or both, comma separated."),
    query_param("page", "Extension: page number, from 1.", {"type": "integer", "minimum": 1}),
    query_param("page_size", "Extension: results per page, at most 1000 (the default).",
       {"type": "integer", "minimum": 1, "maximum": 1000}),
    query_param("bbox", "Extension: min_lon,min_lat,max_lon,max_lat (WGS84)."),
    query_param("lat", "Extension: with long and radius, requests near a point.",
                {"type": "number"}),
    query_param("long", "Extension: see lat.", {"type": "number"}),
    query_param("radius", "Extension: metres around lat/long (default 500).", {"type": "number"}),
    query_param("updated_after", "Extension: only requests changed after this time.", _W3),
    query_param("agency_responsible", "Extension: department codes, comma separated (e.g. LASAN)."),
    query_param("extensions", "Extension: true adds extended_attributes (the locate answer).",
       {"type": "boolean"}),
]
_POST_FORM = {
    "type": "object",
    "required": ["api_key", "service_code"],
    "properties": {
        "api_key": {"type": "string"}, "jurisdiction_id": {"type": "string"},
        "service_code": {"type": "string"},
        "lat": {"type": "number"}, "long": {"type": "number"},
        "address_string": {"type": "string"}, "address_id": {"type": "string"},
        "email": {"type": "string"}, "device_id": {"type": "string"},
        "account_id": {"type": "string"}, "first_name": {"type": "string"},
        "last_name": {"type": "string"}, "phone": {"type": "string"},
        "description": {"type": "string", "maxLength": 4000},
        "media_url": {"type": "string", "format": "uri"},
    },
    "additionalProperties": {
        "type": "string",
        "description": "attribute[CODE]=value answers; attribute[CODE][]=v1&attribute[CODE][]=v2 "
                       "for a multivaluelist",
    },
}

#: Written operations keyed by (route with variables as ``{}``, method). A blueprint may add
#: its own with ``OPERATIONS.update(...)`` when it is registered (see geo311/api/staff.py).
OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    # ---- geo311's own API
    ("/api/v1/ping", "get"): {
        "summary": "Liveness only: answers without touching the database.",
        "responses": {"200": _ok("Alive", {"type": "object"})},
    },
    ("/api/v1/health", "get"): {
        "summary": "Database reachability and the loaded areas per type and vintage.",
        "responses": {"200": _ok("Healthy", {"type": "object"}),
                      "503": _ok("Database unreachable", {"type": "object"})},
    },
    ("/api/v1/areas", "get"): {
        "summary": "Every area (council district, neighborhood council...) covering a point.",
        "parameters": [
            query_param("lon", "Longitude, WGS84.", {"type": "number"}, required=True),
            query_param("lat", "Latitude, WGS84.", {"type": "number"}, required=True),
            query_param("date", "YYYY-MM-DD: areas in force that day (default today in LA).",
               {"type": "string", "format": "date"}),
            query_param("type", "Boundary type codes, comma separated (CD, NC, ...)."),
        ],
        "responses": {
            "200": _ok("The areas", {"type": "object", "properties": {
                "lon": {"type": "number"}, "lat": {"type": "number"}, "date": {"type": "string"},
                "areas": {"type": "array", "items": _ref("Area")}}}),
            "400": api_error("A parameter is missing or invalid (named in the error)"),
        },
    },
    ("/api/v1/boundaries", "get"): {
        "summary": "The loaded boundary types and their vintages with dates and sources.",
        "responses": {"200": _ok("Types and vintages", {"type": "object"})},
    },
    ("/api/v1/boundaries/{}/{}", "get"): {
        "summary": "One area as a GeoJSON Feature.",
        "path_params": {"type_code": "Boundary type, e.g. CD.", "code": "The area's code."},
        "parameters": [
            query_param("vintage", "A vintage of the type (default: the one in force)."),
            query_param("date", "YYYY-MM-DD: the vintage in force that day.",
               {"type": "string", "format": "date"}),
        ],
        "responses": {
            "200": _ok("The area", _ref("GeoJSONFeature"), "application/geo+json"),
            "400": api_error("Unknown type or vintage"),
            "404": api_error("No such area"),
        },
    },
    ("/api/v1/locate", "get"): {
        "summary": "Locate text (`q`) or a pin (`lon`/`lat`): address, street segment and side, "
                   "areas, jurisdiction, and the routed department with `service_code`.",
        "parameters": [
            query_param("q", "What a resident typed: an address, intersection, block or place."),
            query_param("lon", "Pin longitude (with lat, instead of q).", {"type": "number"}),
            query_param("lat", "Pin latitude.", {"type": "number"}),
            query_param("accuracy_m", "Device accuracy of the pin, metres.", {"type": "number"}),
            query_param("date", "YYYY-MM-DD: areas in force that day (default today).",
               {"type": "string", "format": "date"}),
            query_param("lang", "en or es (default from Accept-Language)."),
            query_param("service_code", "Adds the department that handles this type here."),
        ],
        "responses": {"200": _ok("The locate answer", _ref("LocateResult")),
                      "400": api_error("q and lon/lat both or neither, or a bad value")},
    },
    ("/api/v1/locate/batch", "post"): {
        "summary": "Locate up to 1,000 queries in one call; a bad item gets its own error.",
        "requestBody": {
            "required": True,
            "description": '{"queries": [{"q": "..."} or {"lon": .., "lat": ..}, ...]}, each '
                           "with optional date and service_code.",
            "content": {"application/json": {"schema": {
                "type": "object", "required": ["queries"],
                "properties": {"queries": {"type": "array", "maxItems": 1000,
                                           "items": {"type": "object"}}}}}},
        },
        "responses": {
            "200": _ok("One result per query, in order", {"type": "object", "properties": {
                "results": {"type": "array", "items": {
                    "oneOf": [_ref("LocateResult"), _ref("ApiError")]}}}}),
            "400": api_error("The body is not a list of queries, or too long"),
        },
    },
    ("/api/v1/autocomplete", "get"): {
        "summary": "The best 10 completions (addresses, streets, places) for what was typed.",
        "parameters": [query_param("q", "The text typed so far (at most 200 characters).")],
        "responses": {"200": _ok("Completions", {"type": "object", "properties": {
            "q": {"type": "string"}, "results": {"type": "array", "items": {"type": "object"}}}}),
                      "400": api_error("q too long")},
    },
    ("/api/v1/requests", "get"): {
        "summary": "Requests as a GeoJSON FeatureCollection, newest first, with a `next` link.",
        "parameters": _REQUEST_FILTERS + [
            query_param("limit", "Features per page (default 100, at most PAGE_LIMIT).",
               {"type": "integer", "minimum": 1}),
            query_param("cursor", "The opaque cursor of the `next` link."),
            query_param("sort", "-requested_at (default), requested_at or updated_at.",
               {"enum": ["-requested_at", "requested_at", "updated_at"]}),
        ],
        "responses": {
            "200": _ok("Features, numberReturned, next, links",
                       _ref("GeoJSONFeatureCollection"), "application/geo+json"),
            "400": api_error("A filter, limit, sort or cursor is invalid"),
        },
    },
    ("/api/v1/requests", "post"): {
        "summary": "Create a request from JSON; a repeated Idempotency-Key returns the same one.",
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                        "description": "Client key making retries safe.",
                        "schema": {"type": "string", "maxLength": 200}}],
        "requestBody": {
            "required": True,
            "description": "service_code with lon/lat or address; the contact is kept private.",
            "content": {"application/json": {"schema": _ref("NewRequest")}},
        },
        "responses": {
            "201": _ok("Created: the stored Feature (Location and ETag headers)",
                       _ref("GeoJSONFeature"), "application/geo+json"),
            "200": _ok("The request already created with this Idempotency-Key",
                       _ref("GeoJSONFeature"), "application/geo+json"),
            "400": api_error("A field is missing or invalid (named in the error)"),
            "409": api_error("The Idempotency-Key was used for another request"),
            "413": api_error("The body is too large"),
            "422": api_error("The place is outside the City (naming who is responsible) "
                              "or cannot be located"),
        },
    },
    ("/api/v1/requests.<fmt>", "get"): {
        "summary": "Every request matching the filters, streamed (CSV in GeoReport bulk-style "
                   "columns, GeoJSON, GeoParquet).",
        "formats": {"csv": "text/csv", "geojson": "application/geo+json",
                    "parquet": "application/vnd.apache.parquet"},
        "parameters": _REQUEST_FILTERS,
        "responses": {"200": _ok("The export", {"type": "string"}),
                      "400": api_error("A filter is invalid")},
    },
    ("/api/v1/requests/{}", "get"): {
        "summary": "One request as a GeoJSON Feature with its stored locate answer; ETag header.",
        "path_params": {"request_id": "The request id."},
        "parameters": [{"name": "If-None-Match", "in": "header", "required": False,
                        "description": "An ETag: 304 when unchanged.",
                        "schema": {"type": "string"}}],
        "responses": {
            "200": _ok("The request", _ref("GeoJSONFeature"), "application/geo+json"),
            "304": {"description": "Not modified since that ETag"},
            "404": api_error("No such request"),
        },
    },
    ("/api/v1/openapi.json", "get"): {
        "summary": "This OpenAPI 3.1 document.",
        "responses": {"200": _ok("The document", {"type": "object"})},
    },
    ("/api/v1/docs", "get"): {
        "summary": "A plain HTML page listing every operation of this document.",
        "responses": {"200": _ok("HTML", {"type": "string"}, "text/html")},
    },
    # ---- Open311 GeoReport v2
    ("/open311/v2/discovery.<fmt>", "get"): {
        "summary": "Service discovery: the GeoReport v2 endpoint, its formats and contacts.",
        "responses": {"200": _ok("Discovery", _ref("Open311Discovery"))},
    },
    ("/open311/v2/services.<fmt>", "get"): {
        "summary": "GET Service List: the request types.",
        "parameters": [_JURISDICTION],
        "responses": {"200": _ok("Services", _ref("Open311Services")),
                      "404": _O311_JURISDICTION_404},
    },
    ("/open311/v2/services/{}.<fmt>", "get"): {
        "summary": "GET Service Definition: the attributes a request type asks for.",
        "path_params": {"code": "A service_code from the service list."},
        "parameters": [_JURISDICTION],
        "responses": {"200": _ok("Definition", _ref("Open311ServiceDefinition")),
                      "404": _o311_error("service_code or jurisdiction_id not found")},
    },
    ("/open311/v2/requests.<fmt>", "get"): {
        "summary": "GET Service Requests: newest first, 90 days and 1,000 results by default.",
        "parameters": _OPEN311_REQUEST_FILTERS,
        "responses": {"200": _ok("Requests", _ref("Open311Requests")),
                      "400": _o311_error("A filter is invalid (named in the description)"),
                      "404": _O311_JURISDICTION_404},
    },
    ("/open311/v2/requests.<fmt>", "post"): {
        "summary": "POST Service Request: create a request (needs an API key).",
        "description": "Contact fields are stored privately and never returned. A retry with "
                       "the same Idempotency-Key header returns the same request.",
        "security": [{"open311ApiKey": []}],
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                        "description": "Client key making retries safe; also the token.",
                        "schema": {"type": "string", "maxLength": 200}}],
        "requestBody": {
            "required": True,
            "description": "Form fields as in the spec; one location: lat & long, or "
                           "address_string, or address_id.",
            "content": {"application/x-www-form-urlencoded": {"schema": _POST_FORM}},
        },
        "responses": {
            "200": _ok("Created (or the same request again for a repeated key)",
                       _ref("Open311PostResult")),
            "400": _o311_error("A field is missing or invalid, or the place is not in the City"),
            "403": _o311_error("api_key missing or invalid"),
            "404": _o311_error("service_code or jurisdiction_id not found"),
        },
    },
    ("/open311/v2/requests/{}.<fmt>", "get"): {
        "summary": "GET Service Request: one request (a list of one, as in the spec).",
        "path_params": {"service_request_id": "The request's id."},
        "parameters": [_JURISDICTION,
                       query_param("extensions", "true adds extended_attributes.",
                                   {"type": "boolean"})],
        "responses": {"200": _ok("The request", _ref("Open311Requests")),
                      "404": _o311_error("No such request, or jurisdiction_id not found")},
    },
    ("/open311/v2/tokens/{}.<fmt>", "get"): {
        "summary": "GET service_request_id from a token (the POST's Idempotency-Key).",
        "path_params": {"token": "The token."},
        "parameters": [_JURISDICTION],
        "responses": {"200": _ok("The id", _ref("Open311Token")),
                      "404": _o311_error("No request has this token")},
    },
}


_DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ doc.info.title }} API {{ doc.info.version }}</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem; }
h2 { border-top: 1px solid #ccc; padding-top: 1rem; font-size: 1.1rem; }
code, .path { font-family: ui-monospace, monospace; }
.method { display: inline-block; min-width: 4rem; font-weight: bold; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }
nav li { list-style: none; }
</style>
</head>
<body>
<h1>{{ doc.info.title }} API <small>{{ doc.info.version }}</small></h1>
<p>{{ doc.info.summary }}. {{ md(doc.info.description) }}</p>
<p>Machine-readable: <a href="openapi.json">openapi.json</a> (OpenAPI {{ doc.openapi }}).</p>
<nav aria-label="Operations"><ul>
{% for op in operations %}
<li><a href="#{{ op.operationId }}"><span class="method">{{ op.method }}</span>
<span class="path">{{ op.path }}</span></a> {{ md(op.summary) }}</li>
{% endfor %}
</ul></nav>
<main>
{% for op in operations %}
<section id="{{ op.operationId }}">
<h2><span class="method">{{ op.method }}</span> <span class="path">{{ op.path }}</span></h2>
<p>{{ md(op.summary) }}</p>
{% if op.description %}<p>{{ md(op.description) }}</p>{% endif %}
{% if op.parameters %}
<table><caption>Parameters</caption>
<tr><th scope="col">Name</th><th scope="col">In</th><th scope="col">Required</th>
<th scope="col">Description</th></tr>
{% for p in op.parameters %}
<tr><td><code>{{ p.name }}</code></td><td>{{ p.in }}</td>
<td>{{ "yes" if p.required else "no" }}</td><td>{{ md(p.description) }}</td></tr>
{% endfor %}
</table>
{% endif %}
{% if op.requestBody %}
<p>Body: {% for ct in op.requestBody.content %}<code>{{ ct }}</code> {% endfor %}
{{ md(op.requestBody.description) }}</p>
{% endif %}
<table><caption>Responses</caption>
<tr><th scope="col">Status</th><th scope="col">Meaning</th></tr>
{% for status, r in op.responses.items() %}
<tr><td>{{ status }}</td><td>{{ md(r.description) }}</td></tr>
{% endfor %}
</table>
</section>
{% endfor %}
</main>
</body>
</html>
"""
