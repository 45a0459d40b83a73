"""Public tracking of one request: follow it instead of filing a duplicate; its public history."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, request

from geo311.db import get_conn
from geo311.openapi import api_error
from geo311.request_tracking import count_followers, follow_request, public_history
from geo311.service_requests import get_request, get_request_feature

__all__ = ["blueprint", "OPENAPI_OPERATIONS"]

blueprint = Blueprint("tracking", __name__)
_GEOJSON = "application/geo+json"


@blueprint.post("/requests/<int:request_id>/followers")
def follow(request_id: int) -> Response:
    """Follow a request; 201 with the public Feature and its ``followers`` count."""
    body = request.get_json(silent=True) if request.get_data() else None
    if request.get_data() and body is None:
        body = "not json"  # refused below with the body's expected shape
    conn = get_conn()
    if conn.in_transaction():
        conn.commit()
    with conn.begin():
        followers = follow_request(conn, request_id, body)
    feature, _version = get_request_feature(conn, request_id)
    conn.rollback()
    data = json.loads(feature)
    data["properties"]["followers"] = followers
    return Response(json.dumps(data), status=201, mimetype=_GEOJSON)


@blueprint.get("/requests/<int:request_id>/followers")
def followers(request_id: int) -> Response:
    """How many residents follow a request (contacts are never shown)."""
    conn = get_conn()
    get_request(conn, request_id)  # 404 for an unknown request
    return jsonify({"request_id": request_id, "followers": count_followers(conn, request_id)})


@blueprint.get("/requests/<int:request_id>/timeline")
def timeline(request_id: int) -> Response:
    """The request's public status history, oldest first (no actors, no private notes)."""
    conn = get_conn()
    state = get_request(conn, request_id)
    history = public_history(conn, request_id)
    return jsonify({"request_id": request_id, "status": state.status,
                    "close_reason": state.close_reason,
                    "followers": count_followers(conn, request_id),
                    "history": [h.as_dict() for h in history]})


_ID = {"request_id": "The request's id."}

#: Written OpenAPI operations of this blueprint (merged into geo311.openapi.OPERATIONS).
OPENAPI_OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("/api/v1/requests/{}/followers", "post"): {
        "summary": "Follow a request instead of filing a duplicate; optional body "
                   '{"contact": {"email" or "phone"}} stored privately.',
        "path_params": _ID,
        "responses": {"201": {"description": "The public Feature with properties.followers"},
                      "400": api_error("A field is not accepted or the contact is malformed"),
                      "404": api_error("No such request")},
    },
    ("/api/v1/requests/{}/followers", "get"): {
        "summary": "How many residents follow a request (never who).",
        "path_params": _ID,
        "responses": {"200": {"description": "The count"}, "404": api_error("No such request")},
    },
    ("/api/v1/requests/{}/timeline", "get"): {
        "summary": "Public status history of a request, oldest first: status changes, close "
                   "reasons, public notes, duplicate links (no staff names).",
        "path_params": _ID,
        "responses": {"200": {"description": "Status and history"},
                      "404": api_error("No such request")},
    },
}
