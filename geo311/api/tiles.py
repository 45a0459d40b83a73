"""GET /tiles/<layer>/<z>/<x>/<y>.mvt: vector tiles with ETag, Cache-Control and 304s."""

from __future__ import annotations

from flask import Blueprint, Response, request

from geo311.db import get_conn
from geo311.errors import BadRequest
from geo311.geometry import parse_date
from geo311.tiles import (
    CACHE_SECONDS,
    MEDIA_TYPE,
    TileFilters,
    check_layer,
    parse_tile_address,
    render_tile,
    tile_etag,
)

__all__ = ["blueprint"]

blueprint = Blueprint("tiles", __name__)

#: Longest comma-separated filter list accepted.
_MAX_FILTER_VALUES = 50


@blueprint.get("/<layer>/<z>/<x>/<y>.mvt")
def tile(layer: str, z: str, x: str, y: str) -> Response:
    """One tile. Filters: ``type``, ``vintage``, ``date`` (boundaries); ``type`` (facilities);
    ``service_code``, ``status``, ``department`` (requests); each comma separated."""
    check_layer(layer)
    zoom, col, row = parse_tile_address(z, x, y)
    filters = TileFilters(
        types=_list("type"),
        vintage=request.args.get("vintage") or None,
        on=parse_date(request.args.get("date"), "date"),
        service_codes=_list("service_code"),
        statuses=_list("status"),
        departments=_list("department"),
    )
    data = render_tile(get_conn(), layer, zoom, col, row, filters)
    response = Response(data, mimetype=MEDIA_TYPE)
    response.set_etag(tile_etag(data))
    seconds = CACHE_SECONDS[layer]
    response.headers["Cache-Control"] = (
        f"public, max-age={seconds}" if seconds else "public, no-cache")
    return response.make_conditional(request)


def _list(name: str) -> tuple[str, ...]:
    values = tuple(v.strip() for v in request.args.get(name, "").split(",") if v.strip())
    if len(values) > _MAX_FILTER_VALUES:
        raise BadRequest(f"parameter '{name}' has more than {_MAX_FILTER_VALUES} values")
    return values
