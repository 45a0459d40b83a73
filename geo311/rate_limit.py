"""Rate limits on public writes: a token bucket per Open311 API key or client address.

``RATE_LIMIT`` (``GEO311_RATE_LIMIT``) is ``N/second``, ``N/minute`` or ``N/hour``; empty or
``0`` turns limits off. POST/PUT/PATCH/DELETE under ``/api/v1`` and ``/open311`` are counted;
callers with a valid staff token are not. Buckets live in this process: with several workers
(gunicorn ``-w 4``) each worker keeps its own, so the effective limit is per worker.
Under ``TESTING`` the default is not applied (many tests post from one address); a test that
checks limits sets ``RATE_LIMIT`` itself.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass

from flask import Flask, current_app, request

from geo311.errors import BadRequest, TooManyRequests

__all__ = ["init_app", "parse_rate", "RateBuckets"]

_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_PREFIXES = ("/api/v1/", "/open311/")
_PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour)\s*$")
_MAX_BUCKETS = 100_000


def parse_rate(setting: object) -> tuple[int, float] | None:
    """``"30/minute"`` -> ``(30, 60.0)``; empty or ``0`` -> ``None`` (no limit).

    >>> parse_rate("30/minute")
    (30, 60.0)
    >>> parse_rate("") is None
    True

    :raises BadRequest: for a value that is not N/second|minute|hour.
    """
    if setting in (None, "", 0, "0"):
        return None
    match = _RATE.match(str(setting))
    if not match:
        raise BadRequest(f"RATE_LIMIT must look like 30/minute, got {setting!r}")
    count = int(match.group(1))
    return (count, _PERIODS[match.group(2)]) if count else None


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateBuckets:
    """Token buckets keyed by caller; thread-safe within one process."""

    def __init__(self) -> None:
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str, count: int, period_s: float, now: float | None = None) -> float:
        """Take one token for ``key``.

        :returns: 0 when allowed, else the seconds until a token is back.
        """
        now = time.monotonic() if now is None else now
        rate = count / period_s
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= _MAX_BUCKETS:
                    self._buckets.clear()  # crude bound on memory; a reset only forgives
                bucket = self._buckets[key] = _Bucket(float(count), now)
            bucket.tokens = min(float(count), bucket.tokens + (now - bucket.stamp) * rate)
            bucket.stamp = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / rate


def init_app(app: Flask) -> None:
    """Check the limit before every public write."""
    app.extensions["geo311_rate_buckets"] = RateBuckets()
    app.before_request(_limit_writes)


def _limit_writes() -> None:
    if request.method not in _WRITE_METHODS or not request.path.startswith(_PREFIXES):
        return
    from geo311.config import Defaults

    setting = current_app.config.get("RATE_LIMIT")
    if current_app.testing and setting == Defaults.RATE_LIMIT:
        return
    rate = parse_rate(setting)
    if rate is None or _is_staff():
        return
    api_key = request.headers.get("X-API-Key") or request.args.get("api_key") or (
        request.form.get("api_key") if request.mimetype.startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")) else None)
    key = f"key:{api_key}" if api_key else f"addr:{request.remote_addr}"
    wait_s = current_app.extensions["geo311_rate_buckets"].take(key, *rate)
    if wait_s > 0:
        raise TooManyRequests("too many requests; slow down",
                              headers={"Retry-After": str(max(1, math.ceil(wait_s)))})


def _is_staff() -> bool:
    from geo311.auth import bearer_token, find_principal
    from geo311.db import get_engine

    token = bearer_token()
    if token is None:
        return False
    with get_engine().connect() as conn:
        return find_principal(conn, token) is not None
