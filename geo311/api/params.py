"""Shared query-parameter parsing for the /api/v1 handlers."""

from __future__ import annotations

from datetime import date

from flask import request

from geo311.boundaries import today_in_la
from geo311.geometry import parse_date, parse_lon_lat

__all__ = ["lon_lat_args", "date_arg"]


def lon_lat_args() -> tuple[float, float]:
    """``lon`` and ``lat`` from the query string, validated (400 names the parameter)."""
    return parse_lon_lat(request.args.get("lon"), request.args.get("lat"))


def date_arg(name: str = "date") -> date:
    """An optional ``YYYY-MM-DD`` date parameter; today in LA when absent."""
    return parse_date(request.args.get(name), name) or today_in_la()
