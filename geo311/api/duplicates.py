"""Before reporting: /api/v1/service-types (the bilingual type chooser) and /api/v1/duplicates."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from geo311.api.params import lon_lat_args
from geo311.db import get_conn
from geo311.duplicate_suggestions import (
    MAX_DAYS,
    MAX_RADIUS_M,
    suggest_duplicates,
    suggestion_rule,
)
from geo311.errors import BadRequest
from geo311.openapi import api_error, query_param
from geo311.type_chooser import choose_types

__all__ = ["blueprint", "OPENAPI_OPERATIONS"]

blueprint = Blueprint("duplicates", __name__)
_LIMIT_MAX = 50


@blueprint.get("/service-types")
def get_service_types() -> Response:
    """Request types with their questions in ``lang`` (en, es), filtered by ``q`` in both."""
    lang = (request.args.get("lang") or "en").lower()
    found = choose_types(get_conn(), lang, request.args.get("q"))
    return jsonify({"lang": lang, "service_types": [t.as_dict() for t in found]})


@blueprint.get("/duplicates")
def get_suggestions() -> Response:
    """Open requests of the type within its radius and window or on the block, nearest first."""
    code = (request.args.get("service_code") or "").strip()
    if not code:
        raise BadRequest("parameter 'service_code' is required")
    lon, lat = lon_lat_args()
    rule = suggestion_rule(get_conn(), code, radius_m=_number("radius_m"), days=_whole("days"))
    limit = _whole("limit")
    limit = 20 if limit is None else limit
    if not 1 <= limit <= _LIMIT_MAX:
        raise BadRequest(f"parameter 'limit' must be a whole number from 1 to {_LIMIT_MAX}")
    found = suggest_duplicates(get_conn(), rule, lon, lat, limit=limit)
    return jsonify({"lon": lon, "lat": lat, **rule.as_dict(),
                    "duplicates": [d.as_dict() for d in found]})


def _number(name: str) -> float | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"parameter '{name}' must be a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise BadRequest(f"parameter '{name}' must be a finite number")
    return value


def _whole(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise BadRequest(f"parameter '{name}' must be a whole number")
    return int(raw)


#: Written OpenAPI operations of this blueprint (merged into geo311.openapi.OPERATIONS).
OPENAPI_OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("/api/v1/service-types", "get"): {
        "summary": "Request types for the report page, with names, questions and choices in "
                   "one language, optionally filtered by what was typed (either language).",
        "parameters": [
            query_param("lang", "en or es (default en).", {"type": "string", "enum": ["en", "es"]}),
            query_param("q", "Words typed, e.g. bache or bulky (accents ignored).",
                        {"type": "string"}),
        ],
        "responses": {"200": {"description": "The matching types, best first"},
                      "400": api_error("Unknown lang or over-long q")},
    },
    ("/api/v1/duplicates", "get"): {
        "summary": "Before reporting: open requests of the same type within the type's "
                   "duplicate radius and window, or on the same street block, nearest first, "
                   "with distance_m and age_days (public fields only).",
        "parameters": [
            query_param("service_code", "The type about to be reported.", {"type": "string"}, True),
            query_param("lon", "Longitude, WGS84.", {"type": "number"}, True),
            query_param("lat", "Latitude, WGS84.", {"type": "number"}, True),
            query_param("radius_m", f"Override the type's radius (1 to {MAX_RADIUS_M:g} m).",
               {"type": "number"}),
            query_param("days", f"Override the type's window (1 to {MAX_DAYS} days).",
               {"type": "integer"}),
            query_param("limit", f"Most suggestions (1 to {_LIMIT_MAX}, default 20).",
               {"type": "integer"}),
        ],
        "responses": {"200": {"description": "The rule used and the suggestions"},
                      "400": api_error(
                          "A parameter is missing or invalid, or the type is unknown")},
    },
}
