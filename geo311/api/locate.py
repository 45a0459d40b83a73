"""GET /api/v1/locate, POST /api/v1/locate/batch and GET /api/v1/autocomplete."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.engine import Connection

from geo311.api.params import date_arg
from geo311.autocomplete import autocomplete
from geo311.db import get_conn
from geo311.errors import BadRequest
from geo311.geometry import parse_coordinate, parse_date, parse_lon_lat
from geo311.locate import locate_point, locate_text

__all__ = ["blueprint", "BATCH_LIMIT"]

blueprint = Blueprint("locate", __name__)

#: Most queries one batch call may carry.
BATCH_LIMIT = 1000


@blueprint.get("/locate")
def locate() -> Response:
    """Locate ``q`` (text) or ``lon``/``lat`` (pin); optional ``accuracy_m``, ``date``, ``lang``,
    ``service_code``."""
    args = request.args
    on = date_arg()
    lang = _lang()
    service_code = args.get("service_code") or None
    conn = _reading_conn()
    if "q" in args:
        if "lon" in args or "lat" in args:
            raise BadRequest("give either 'q' (text) or 'lon' and 'lat' (pin), not both")
        result = locate_text(conn, args["q"], on=on, service_code=service_code, lang=lang)
    else:
        if "lon" not in args and "lat" not in args:
            raise BadRequest("parameter 'q' or parameters 'lon' and 'lat' are required")
        lon, lat = parse_lon_lat(args.get("lon"), args.get("lat"))
        accuracy = args.get("accuracy_m")
        accuracy_m = None if accuracy in (None, "") else parse_coordinate(
            accuracy, "accuracy_m", 0, 100_000)
        result = locate_point(conn, lon, lat, on=on, accuracy_m=accuracy_m,
                              service_code=service_code, lang=lang,
                              max_snap_m=float(current_app.config["SNAP_MAX_DISTANCE_M"]))
    return jsonify(result.as_dict())


@blueprint.post("/locate/batch")
def locate_batch() -> Response:
    """Up to 1,000 queries: ``{"queries": [{"q": ...} | {"lon": .., "lat": ..}, ...]}``."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("queries"), list):
        raise BadRequest('body must be JSON: {"queries": [{"q": "..."} or '
                         '{"lon": .., "lat": ..}]}')
    queries = body["queries"]
    if len(queries) > BATCH_LIMIT:
        raise BadRequest(f"'queries' has {len(queries)} items; the limit is {BATCH_LIMIT}")
    conn = _reading_conn()
    results = []
    for index, item in enumerate(queries):
        try:
            results.append(_one(conn, item))
        except BadRequest as exc:
            results.append({"ok": False, "error": f"queries[{index}]: {exc.message}",
                            "status": 400})
    return jsonify({"results": results})


@blueprint.get("/autocomplete")
def complete() -> Response:
    """The best 10 completions for ``q``."""
    query = request.args.get("q", "")
    if len(query) > 200:
        raise BadRequest("parameter 'q' is longer than 200 characters")
    items = autocomplete(_reading_conn(), query)
    return jsonify({"q": query, "results": [i.as_dict() for i in items]})


def _reading_conn() -> Connection:
    """The request's connection in autocommit, unless something already began a transaction on it.

    Locating and completing only read, one or two statements a call; wrapped in a transaction they
    would cost a ``BEGIN`` and a ``ROLLBACK`` round trip each (on a reverse locate, two of its five
    round trips), and psycopg drops its prepared statements at every rollback, so its automatic
    preparing of the hot statements could never take effect across requests. The pool puts the
    connection back to its default isolation when the request ends.
    """
    conn = get_conn()
    if not conn.in_transaction():
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
    return conn


def _one(conn, item) -> dict:
    if not isinstance(item, dict):
        raise BadRequest("each query must be an object")
    on = parse_date(item.get("date"), "date") if isinstance(item.get("date"), str) else None
    service_code = item.get("service_code")
    if "q" in item:
        if not isinstance(item["q"], str):
            raise BadRequest("'q' must be text")
        return locate_text(conn, item["q"], on=on, service_code=service_code).as_dict()
    lon, lat = parse_lon_lat(item.get("lon"), item.get("lat"))
    return locate_point(conn, lon, lat, on=on, service_code=service_code).as_dict()


def _lang() -> str:
    lang = request.args.get("lang")
    if lang:
        return "es" if lang.lower().startswith("es") else "en"
    best = request.accept_languages.best_match(["en", "es"])
    return best or "en"
