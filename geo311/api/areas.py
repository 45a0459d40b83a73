"""GET /api/v1/areas (point to areas) and /api/v1/boundaries (types, vintages, one area)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from geo311.api.params import date_arg, lon_lat_args
from geo311.boundaries import areas_at_point, get_area_feature, known_types, list_boundary_sets
from geo311.db import get_conn
from geo311.errors import BadRequest
from geo311.geometry import parse_date

__all__ = ["blueprint"]

blueprint = Blueprint("areas", __name__)


@blueprint.get("/areas")
def areas() -> Response:
    """Every area covering ``lon``/``lat`` as of ``date`` (default today); ``type`` filters."""
    lon, lat = lon_lat_args()
    on = date_arg()
    conn = get_conn()
    types = _type_args(conn)
    hits = areas_at_point(conn, lon, lat, on=on, types=types)
    return jsonify(
        {"lon": lon, "lat": lat, "date": on.isoformat(), "areas": [h.as_dict() for h in hits]}
    )


@blueprint.get("/boundaries")
def boundaries() -> Response:
    """The loaded boundary types and their vintages with dates and sources."""
    sets = list_boundary_sets(get_conn())
    by_type: dict[str, list[dict]] = {}
    for s in sets:
        by_type.setdefault(s.type, []).append(
            {
                "vintage": s.vintage,
                "title": s.title,
                "valid_from": s.valid_from.isoformat() if s.valid_from else None,
                "valid_to": s.valid_to.isoformat() if s.valid_to else None,
                "source": s.source,
                "licence": s.licence,
                "areas": s.area_count,
            }
        )
    return jsonify({"types": [{"type": t, "vintages": v} for t, v in by_type.items()]})


@blueprint.get("/boundaries/<type_code>/<code>")
def boundary(type_code: str, code: str) -> Response:
    """One area as a GeoJSON Feature (``?vintage=``, or ``?date=`` to pick the one in force)."""
    on = parse_date(request.args.get("date"))
    feature = get_area_feature(
        get_conn(), type_code.upper(), code, vintage=request.args.get("vintage") or None, on=on
    )
    response = jsonify(feature)
    response.mimetype = "application/geo+json"
    return response


def _type_args(conn) -> list[str] | None:
    raw = request.args.getlist("type")
    if not raw:
        return None
    wanted = [t.strip().upper() for item in raw for t in item.split(",") if t.strip()]
    unknown = sorted(set(wanted) - known_types(conn))
    if unknown:
        raise BadRequest(f"parameter 'type': unknown boundary type(s) {', '.join(unknown)}")
    return wanted
