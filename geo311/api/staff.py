"""Staff login, the caller's own identity, and the audit log (admins; JSON or CSV)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from geo311.audit import events_csv, list_events, record_event
from geo311.auth import check_password, current_principal, issue_token, require_role
from geo311.db import get_conn, get_engine
from geo311.errors import BadRequest, Unauthorized
from geo311.models import STAFF_ROLES
from geo311.openapi import api_error

__all__ = ["blueprint", "OPENAPI_OPERATIONS"]

blueprint = Blueprint("staff", __name__)


@blueprint.post("/auth/login")
def login() -> Response:
    """Exchange a staff name and password for a new API token (every attempt is audited)."""
    body = request.get_json(silent=True) or {}
    name, password = body.get("name"), body.get("password")
    if not isinstance(name, str) or not isinstance(password, str):
        raise BadRequest("send JSON with name and password")
    with get_engine().begin() as conn:
        principal = check_password(conn, name, password)
        if principal is not None:
            token = issue_token(conn, principal.user_id)
            record_event(principal, "login", target=name, detail={"method": "password"},
                         conn=conn)
    if principal is None:
        record_event(None, "login", outcome="failed", target=name[:64],
                     detail={"method": "password"})
        raise Unauthorized("wrong name or password")
    return jsonify({"ok": True, "token": token, "name": principal.name, "role": principal.role,
                    "department": principal.department})


@blueprint.get("/auth/whoami")
@require_role(*STAFF_ROLES)
def whoami() -> Response:
    """The caller's name, role, department and council district."""
    principal = current_principal()
    assert principal is not None
    return jsonify({"name": principal.name, "role": principal.role,
                    "department": principal.department,
                    "council_district": principal.council_district})


@blueprint.get("/audit")
@require_role("admin")
def audit() -> Response:
    """The audit log, newest first (``format=csv`` for a CSV download)."""
    args = request.args
    try:
        limit = min(int(args.get("limit", 1000)), int(current_app.config["PAGE_LIMIT"]))
    except ValueError:
        raise BadRequest("limit must be an integer") from None
    rows = list_events(get_conn(), limit=limit, actor=args.get("actor") or None,
                       action=args.get("action") or None,
                       since=_moment(args.get("since")))
    if args.get("format") == "csv":
        return Response(events_csv(rows), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=audit.csv"})
    return jsonify({"events": [r.as_dict() for r in rows]})


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest("since must be an ISO 8601 date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_STAFF_ERRORS = {"401": api_error("No, unknown or revoked token"),
                 "403": api_error("Role or department not allowed")}

#: Written OpenAPI operations of this blueprint (merged into geo311.openapi.OPERATIONS).
OPENAPI_OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("/api/v1/auth/login", "post"): {
        "summary": "Exchange a staff name and password (JSON) for a new API token.",
        "responses": {"200": {"description": "The token"},
                      "400": api_error("Body is not JSON with name and password"),
                      "401": api_error("Wrong name or password")},
    },
    ("/api/v1/auth/whoami", "get"): {
        "summary": "The calling staff member's role and scope.",
        "responses": {"200": {"description": "Name, role, department, district"},
                      **_STAFF_ERRORS},
    },
    ("/api/v1/audit", "get"): {
        "summary": "The audit log of staff actions and logins (admins); `format=csv` for CSV.",
        "parameters": [
            {"name": n, "in": "query", "required": False, "description": d,
             "schema": {"type": "string"}}
            for n, d in (("format", "`csv` for a CSV file."), ("actor", "Only this user."),
                         ("action", "Only this action."), ("since", "ISO 8601 start."),
                         ("limit", "Most rows (default 1000)."))
        ],
        "responses": {"200": {"description": "Events, newest first"}, **_STAFF_ERRORS},
    },
}
