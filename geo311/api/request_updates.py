"""Staff endpoints on one request: updates (with If-Match), history and possible duplicates."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from geo311.auth import check_department, current_principal, require_role
from geo311.db import get_conn, get_engine
from geo311.duplicates import find_duplicates
from geo311.models import STAFF_ROLES
from geo311.openapi import api_error
from geo311.request_updates import (
    UPDATE_ROLES,
    StaleVersion,
    apply_update,
    get_request_state,
    parse_if_match,
    parse_update,
    request_history,
)

__all__ = ["blueprint", "OPENAPI_OPERATIONS"]

blueprint = Blueprint("request_updates", __name__)


@blueprint.errorhandler(StaleVersion)
def _stale(exc: StaleVersion) -> Response:
    response = jsonify({"ok": False, "error": exc.message, "status": 409,
                        "current": exc.current.as_dict()})
    response.status_code = 409
    response.headers["ETag"] = exc.current.etag
    return response


@blueprint.post("/requests/<int:request_id>/updates")
@require_role(*UPDATE_ROLES)
def post_update(request_id: int) -> Response:
    """Change status, close with a reason, note, assign, correct the pin or link a duplicate."""
    principal = current_principal()
    assert principal is not None
    version = parse_if_match(request.headers.get("If-Match"))
    change = parse_update(request.get_json(silent=True))
    with get_engine().begin() as conn:
        state = apply_update(conn, request_id, version, change, principal)
    response = jsonify({"ok": True, "request": state.as_dict()})
    response.headers["ETag"] = state.etag
    return response


@blueprint.get("/requests/<int:request_id>/history")
@require_role(*STAFF_ROLES)
def get_history(request_id: int) -> Response:
    """The request's current state and its full status history, oldest first."""
    state = _readable_state(request_id)
    history = request_history(get_conn(), request_id)
    response = jsonify({"request": state.as_dict(), "history": [h.as_dict() for h in history]})
    response.headers["ETag"] = state.etag
    return response


@blueprint.get("/requests/<int:request_id>/duplicates")
@require_role(*STAFF_ROLES)
def get_duplicates(request_id: int) -> Response:
    """Open requests of the same type within the type's radius and window, nearest first."""
    _readable_state(request_id)
    found = find_duplicates(get_conn(), request_id)
    return jsonify({"request_id": request_id, "duplicates": [d.as_dict() for d in found]})


def _readable_state(request_id: int) -> Any:
    """The state, once the caller's department (crew, dept_admin) or district (council) fits."""
    principal = current_principal()
    assert principal is not None
    state = get_request_state(get_conn(), request_id)
    check_department(principal, state.department, council_areas=state.areas)
    return state


_READ_ERRORS = {"401": api_error("No, unknown or revoked token"),
                "403": api_error("Outside the caller's department or council district"),
                "404": api_error("No such request")}
_ID = {"request_id": "The request's id."}

#: Written OpenAPI operations of this blueprint (merged into geo311.openapi.OPERATIONS).
OPENAPI_OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("/api/v1/requests/{}/updates", "post"): {
        "summary": "Staff update: status, closure (reason; duplicate_of; referred_to), note, "
                   "assignment, photo URL, corrected pin (lon/lat). Needs If-Match.",
        "path_params": _ID,
        "parameters": [{"name": "If-Match", "in": "header", "required": True,
                        "description": "The ETag (version) the client saw.",
                        "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The new state, with its ETag"},
                      "400": api_error("A field or transition the rules refuse"), **_READ_ERRORS,
                      "409": api_error("Stale version; the body's `current` is the state now"),
                      "428": api_error("If-Match missing")},
    },
    ("/api/v1/requests/{}/history", "get"): {
        "summary": "The request's state and append-only status history (staff).",
        "path_params": _ID,
        "responses": {"200": {"description": "State and history"}, **_READ_ERRORS},
    },
    ("/api/v1/requests/{}/duplicates", "get"): {
        "summary": "Open requests of the same type nearby (type radius and window), nearest "
                   "first, with distance_m and age_days (staff).",
        "path_params": _ID,
        "responses": {"200": {"description": "Candidates"}, **_READ_ERRORS},
    },
}
