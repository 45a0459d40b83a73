"""GET /tiles/<layer>/<z>/<x>/<y>.mvt: vector tiles with ETag, Cache-Control and 304s."""

from __future__ import annotations

from flask import Blueprint, Response, request

from geo311.db import get_conn
from geo311.tiles import (
    CACHE_SECONDS,
    CLUSTER_MAX_ZOOM,
    MEDIA_TYPE,
    check_layer,
    parse_tile_address,
    parse_tile_filters,
    render_tile,
    tile_etag,
)

__all__ = ["blueprint"]

blueprint = Blueprint("tiles", __name__)


@blueprint.app_context_processor
def tile_settings() -> dict[str, dict[str, int]]:
    """What page scripts must know of the tiles, as ``tile_settings`` in every template: the
    deepest zoom whose request tiles hold clusters (:data:`geo311.tiles.CLUSTER_MAX_ZOOM`)."""
    return {"tile_settings": {"clusterMaxZoom": CLUSTER_MAX_ZOOM}}


@blueprint.get("/<layer>/<z>/<x>/<y>.mvt")
def tile(layer: str, z: str, x: str, y: str) -> Response:
    """One tile. Filters: ``type``, ``vintage``, ``date`` (boundaries); ``type`` (facilities);
    ``service_code``, ``status``, ``department``, ``area_type`` + ``area_code``,
    ``min_age_days``, ``max_age_days`` (requests); lists comma separated
    (:func:`geo311.tiles.parse_tile_filters`). Request tiles up to z12
    (:data:`geo311.tiles.CLUSTER_MAX_ZOOM`) hold grid clusters of the same filtered requests."""
    check_layer(layer)
    zoom, col, row = parse_tile_address(z, x, y)
    filters = parse_tile_filters(request.args)
    data = render_tile(get_conn(), layer, zoom, col, row, filters)
    response = Response(data, mimetype=MEDIA_TYPE)
    response.set_etag(tile_etag(data, f"{layer}/{zoom}/{col}/{row}?{filters.cache_key()}"))
    seconds = CACHE_SECONDS[layer]
    response.headers["Cache-Control"] = (
        f"public, max-age={seconds}" if seconds else "public, no-cache")
    # In place (a 304 drops the body); returning the werkzeug type it gives would widen ours.
    response.make_conditional(request)
    return response

