"""Geo311Error hierarchy and the handlers that render every error as JSON.

``/api`` and other paths answer ``{"ok": false, "error": "...", "status": N}``; ``/open311`` answers
the GeoReport v2 shape ``[{"code": N, "description": "..."}]`` (XML when the path ends in ``.xml``).
"""

from __future__ import annotations

import logging
from typing import Any
from xml.sax.saxutils import escape

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, Map

__all__ = [
    "Geo311Error",
    "BadRequest",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "Conflict",
    "PayloadTooLarge",
    "UriTooLong",
    "TooManyRequests",
    "ServiceUnavailable",
    "init_app",
    "error_response",
    "refuse_nul_characters",
    "refuse_long_urls",
    "MAX_URL_BYTES",
    "BigintConverter",
    "BIGINT_MAX",
]

log = logging.getLogger(__name__)


class Geo311Error(Exception):
    """Base error: ``status`` is the HTTP status, ``message`` is safe to show to the public.

    :param message: public message.
    :param detail: extra text for the log only.
    """

    status = 500

    def __init__(self, message: str, *, detail: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.headers = headers or {}


class BadRequest(Geo311Error, ValueError):
    """The caller sent something we cannot use; the message names the parameter."""

    status = 400


class Unauthorized(Geo311Error):
    """No or bad credentials."""

    status = 401


class Forbidden(Geo311Error, PermissionError):
    """Credentials are fine but not allowed to do this."""

    status = 403


class NotFound(Geo311Error, LookupError):
    """The thing asked for does not exist."""

    status = 404


class Conflict(Geo311Error):
    """The request conflicts with the current state (stale version, duplicate key)."""

    status = 409


class PayloadTooLarge(Geo311Error):
    """The body is over the configured limit."""

    status = 413


class UriTooLong(Geo311Error):
    """The URL is over :data:`MAX_URL_BYTES`."""

    status = 414


class TooManyRequests(Geo311Error):
    """Rate limit exceeded; ``headers`` carries ``Retry-After``."""

    status = 429


class ServiceUnavailable(Geo311Error):
    """The database is unreachable or a dependency is down."""

    status = 503


def error_response(status: int, message: str, headers: dict | None = None) -> Response:
    """Render one error in the shape the request's path expects.

    :param status: HTTP status.
    :param message: public message.
    :param headers: extra headers (e.g. ``Retry-After``).
    """
    if request.path.startswith("/open311"):
        if request.path.endswith(".xml"):
            body = (
                '<?xml version="1.0" encoding="utf-8"?>\n<errors><error>'
                f"<code>{status}</code><description>{escape(message)}</description>"
                "</error></errors>"
            )
            response = Response(body, status=status, mimetype="text/xml")
        else:
            response = jsonify([{"code": status, "description": message}])
            response.status_code = status
    else:
        response = jsonify({"ok": False, "error": message, "status": status})
        response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


#: Longest URL (path and query string, as sent) the app reads: gunicorn lets any length through
#: (``geo311.gunicorn_conf``) so that a long typed text gets a JSON answer, this one included.
MAX_URL_BYTES = 65_536


def refuse_long_urls() -> None:
    """Refuse a URL longer than :data:`MAX_URL_BYTES` with a JSON 414, before it is parsed.

    :raises UriTooLong: when the path and query string together are too long.
    """
    length = len(request.environ.get("PATH_INFO", "")) + len(
        request.environ.get("QUERY_STRING", ""))
    if length > MAX_URL_BYTES:
        raise UriTooLong(f"the URL is {length:,} bytes long; the limit is {MAX_URL_BYTES:,}")


def refuse_nul_characters() -> None:
    """Refuse a request whose path, query, form or JSON text holds a NUL character (U+0000).

    PostgreSQL text cannot hold NUL, so such a value would fail in the driver as a 500 wherever
    it reached SQL (a filter, a service code, a description); here it is a 400 naming the
    parameter, before any handler has done anything.

    :raises BadRequest: naming the first parameter or JSON field with a NUL.
    """
    if "\x00" in request.path:
        raise BadRequest("the path must not contain NUL (0x00) characters")
    sources = [request.args]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sources.append(request.form)
    for source in sources:
        for name, values in source.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                raise BadRequest(f"parameter {name.replace(chr(0), '')[:64]!r} must not contain "
                                 "NUL (0x00) characters")
    if request.is_json:
        where = _nul_in_json(request.get_json(silent=True), "body")
        if where:
            field_name = where.removeprefix("body.")[:100]
            raise BadRequest(f"field {field_name!r} must not contain NUL (0x00) characters")


def _nul_in_json(value: object, where: str) -> str | None:
    """The path (``body.attributes.items[0]``) of the first string or key holding a NUL."""
    if isinstance(value, str):
        return where if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{where}.{str(key).replace(chr(0), '')}"
            if "\x00" in str(key):
                return name
            found = _nul_in_json(item, name)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_in_json(item, f"{where}[{index}]")
            if found:
                return found
    return None


#: Largest value of PostgreSQL's bigint, the type of every id: a larger one would fail in the
#: database as a 500.
BIGINT_MAX = 2**63 - 1


class BigintConverter(IntegerConverter):
    """``<int:...>`` bounded to PostgreSQL's bigint (the type of every id in routes): a larger
    number matches no route, a 404, instead of failing in the database as a 500.

    At most 19 digits in the pattern itself, so a longer number matches no rule at all (a value
    refused only by ``max`` lets werkzeug answer 405 where another method's rule has the same
    path); ``max`` covers the 19-digit numbers above 2**63 - 1.
    """

    regex = r"\d{1,19}"

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", BIGINT_MAX)
        super().__init__(url_map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Register JSON handlers for Geo311Error, HTTP errors and anything unexpected, the checks
    that refuse an over-long URL (:func:`refuse_long_urls`) and NUL characters in any input
    (:func:`refuse_nul_characters`) and the bounded
    ``int`` route converter (:class:`BigintConverter`; before any blueprint adds its routes)."""
    app.url_map.converters["int"] = BigintConverter
    app.before_request(refuse_long_urls)
    app.before_request(refuse_nul_characters)

    @app.errorhandler(Geo311Error)
    def _geo311_error(exc: Geo311Error) -> Response:
        if exc.detail:
            log.info("%s: %s (%s)", type(exc).__name__, exc.message, exc.detail)
        return error_response(exc.status, exc.message, exc.headers)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        headers = {}
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return error_response(exc.code or 500, exc.description or exc.name, headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        from sqlalchemy.exc import OperationalError

        if isinstance(exc, OperationalError):
            log.warning("database unavailable: %s", exc)
            return error_response(503, "the database is unavailable; try again shortly",
                                  {"Retry-After": "5"})
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal error")
