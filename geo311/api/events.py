"""GET /api/v1/events: the live change feed as Server-Sent Events, resumable with Last-Event-ID."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request
from sqlalchemy import Engine

from geo311.db import database_url
from geo311.errors import BIGINT_MAX, BadRequest
from geo311.events import (
    MAX_TIMEOUT_S,
    STREAM_TIMEOUT_S,
    parse_event_filter,
    stream_engine,
    stream_events,
)
from geo311.openapi import api_error, query_param

__all__ = ["blueprint", "OPENAPI_OPERATIONS"]

blueprint = Blueprint("events", __name__)


@blueprint.get("/events")
def events() -> Response:
    """Stream request events (created, updated, closed, merged, located...) as they commit."""
    event_filter = parse_event_filter(request.args)
    after = _position(request.headers.get("Last-Event-ID"), "Last-Event-ID")
    if after is None:
        after = _position(request.args.get("after"), "after")
    timeout_s = _timeout(request.args.get("timeout"))
    body = stream_events(_engine(), after=after, event_filter=event_filter, timeout_s=timeout_s)
    return Response(body, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _engine() -> Engine:
    engine = current_app.extensions.get("geo311_events_engine")
    if engine is None:
        engine = stream_engine(database_url(current_app.config))
        current_app.extensions["geo311_events_engine"] = engine
    return engine


def _position(value: str | None, name: str) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        position = int(value.strip())
    except ValueError:
        raise BadRequest(f"{name} must be an event id (a whole number)") from None
    if position < 0:
        raise BadRequest(f"{name} must not be negative")
    if position > BIGINT_MAX:  # beyond bigint: the stream's query failed as "database unavailable"
        raise BadRequest(f"{name} is not an event id of this feed (too large)")
    return position


def _timeout(value: str | None) -> float:
    if value is None or not value.strip():
        return STREAM_TIMEOUT_S
    try:
        seconds = float(value)
    except ValueError:
        raise BadRequest("timeout must be a number of seconds") from None
    if not 0 <= seconds <= MAX_TIMEOUT_S:
        raise BadRequest(f"timeout must be between 0 and {MAX_TIMEOUT_S:.0f} seconds")
    return seconds


#: Written OpenAPI operation of this blueprint (merged into geo311.openapi.OPERATIONS).
OPENAPI_OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("/api/v1/events", "get"): {
        "summary": "Live change feed (Server-Sent Events): `id:` is the event id, `event:` the "
                   "kind (created, updated, closed, merged, located, imported), `data:` JSON "
                   "with the request's public fields. Reconnect with `Last-Event-ID` (or "
                   "`after`) to resume with no gap and no repeat; without either the stream "
                   "starts at the newest event.",
        "parameters": [
            {"name": "Last-Event-ID", "in": "header", "required": False,
             "description": "The last event id received; the stream resumes after it.",
             "schema": {"type": "string"}},
            query_param("after", "Start after this event id (0: from the first event)."),
            query_param("service_code", "Only these types (comma list)."),
            query_param("department", "Only these departments (comma list)."),
            query_param("status", "Only events leaving a request in these statuses (comma list)."),
            query_param("kind", "Only these event kinds (comma list)."),
            query_param("area_type", "With area_code: only requests in this area (e.g. CD)."),
            query_param("area_code", "With area_type: the area's code (e.g. 1)."),
            query_param("timeout", f"Seconds before the server ends the stream (default "
                          f"{STREAM_TIMEOUT_S:.0f}, at most {MAX_TIMEOUT_S:.0f}; 0 sends the "
                          "backlog and ends)."),
        ],
        "responses": {
            "200": {"description": "An event stream",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}}},
            "400": api_error("A bad filter, position or timeout"),
        },
    },
}
