"""GET /api/v1/health: is the database reachable, and what is loaded."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy.exc import SQLAlchemyError

from geo311 import __version__
from geo311.boundaries import list_boundary_sets
from geo311.db import get_conn

__all__ = ["blueprint"]

blueprint = Blueprint("health", __name__)


@blueprint.get("/ping")
def ping() -> Response:
    """Liveness only: answers without touching the database (load balancers, benchmarks)."""
    return jsonify({"ok": True, "version": __version__})


@blueprint.get("/health")
def health() -> Response | tuple[Response, int]:
    """Database reachability and the count of loaded areas per type and vintage."""
    try:
        conn = get_conn()
        sets = list_boundary_sets(conn)
    except SQLAlchemyError as exc:
        return jsonify({"ok": False, "database": "unreachable",
                        "error": str(exc.__class__.__name__),
                        "status": 503, "version": __version__}), 503
    return jsonify(
        {
            "ok": True,
            "database": "ok",
            "version": __version__,
            "areas": [
                {"type": s.type, "vintage": s.vintage, "count": s.area_count} for s in sets
            ],
        }
    )
