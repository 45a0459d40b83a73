"""GET /api/v1/hotspots: density clusters, Gi* cells and persistence for the filters given."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from geo311.catalogue import check_filter_codes
from geo311.db import get_conn
from geo311.errors import BadRequest
from geo311.hotspots import find_hotspots, params_from_config
from geo311.openapi import api_error, query_param
from geo311.request_query import parse_request_filter

__all__ = ["blueprint", "PARAMETERS", "OPENAPI_OPERATIONS"]

blueprint = Blueprint("hotspots", __name__)

#: Query parameters beyond the request filters, with their type (documented in README "Maps").
PARAMETERS = {"eps_m": float, "min_points": int, "cell_m": float, "weeks": int, "min_z": float,
              "limit": int}


@blueprint.get("/hotspots")
def hotspots() -> Response:
    """Hotspots of the requests matching ``service_code``, ``status``, ``department``,
    ``area_type``+``area_code``, ``start``, ``end``; tuned by ``eps_m``, ``min_points``,
    ``cell_m``, ``weeks``, ``min_z`` and ``limit`` (defaults from the ``HOTSPOT_*`` settings)."""
    filters = parse_request_filter(request.args)
    check_filter_codes(get_conn(), filters.service_codes, filters.departments)
    overrides = {name: _number(name, kind) for name, kind in PARAMETERS.items()}
    params = params_from_config(current_app.config, filters, **overrides)
    result = find_hotspots(get_conn(), params)
    return jsonify({
        "parameters": {
            "eps_m": params.eps_m, "eps_by_type_m": dict(params.eps_by_type_m),
            "min_points": params.min_points, "cell_m": params.cell_m, "weeks": params.weeks,
            "min_z": params.min_z, "limit": params.limit, "srid": 26911,
        },
        "hotspots": [h.as_dict() for h in result.hotspots],
        "grid": {"cell_m": params.cell_m, "n_cells": result.n_cells, "requests": result.total,
                 "cells": [c.as_dict() for c in result.cells]},
    })


def _number(name: str, kind: type) -> Any:
    raw = request.args.get(name)
    if raw is None or not raw.strip():
        return None
    try:
        return kind(raw)
    except ValueError:
        raise BadRequest(f"parameter '{name}' must be a number, got {raw[:40]!r}") from None


_FILTERS = [
    query_param("service_code", "Request types, comma separated."),
    query_param("status", "Statuses, comma separated (default: any)."),
    query_param("department", "Department codes, comma separated."),
    query_param("area_type", "Boundary type of an area filter (with area_code), e.g. CD."),
    query_param("area_code", "Code of the area, e.g. 10."),
    query_param("start", "First day (YYYY-MM-DD, LA) or ISO date-time."),
    query_param("end", "Last day (inclusive) or ISO date-time; also ends the persistence window."),
]
_TUNING = [
    query_param("eps_m", "DBSCAN distance in metres for every type (default HOTSPOT_EPS_M and the "
                "per-type HOTSPOT_EPS_BY_TYPE).", {"type": "number"}),
    query_param("min_points", "Fewest requests in a cluster (default HOTSPOT_MIN_POINTS).",
                {"type": "integer"}),
    query_param("cell_m", "Gi* grid cell side in metres (default HOTSPOT_CELL_M).",
                {"type": "number"}),
    query_param("weeks", "Persistence window in weeks (default HOTSPOT_WEEKS).",
                {"type": "integer"}),
    query_param("min_z", "Smallest Gi* z-score of a listed cell (default 1.96).",
                {"type": "number"}),
    query_param("limit", "Most clusters and cells listed (default 100).", {"type": "integer"}),
]

#: Written OpenAPI operation of this blueprint (merged into geo311.openapi.OPERATIONS).
OPENAPI_OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("/api/v1/hotspots", "get"): {
        "summary": "Hotspots: DBSCAN clusters per request type with persistence (distinct active "
                   "weeks) and requests per street-km, plus Getis-Ord Gi* z-scores on a grid.",
        "parameters": _FILTERS + _TUNING,
        "responses": {
            "200": {"description": "Parameters used, clusters and significant cells",
                    "content": {"application/json": {"schema": {"type": "object"}}}},
            "400": api_error("A parameter is invalid (named in the error)"),
        },
    },
}
