"""Mapbox Vector Tiles (ST_AsMVT) for streets, boundaries, facilities and requests; z/x/y checks.

Each layer is one hand-tuned statement in ``geo311/sql/tile_<layer>.sql``. Tiles are plain
(not gzipped) protobuf; the HTTP layer adds an ETag made from the bytes, so a client revalidates
cheaply and a tile changes only when a feature inside it (or within its buffer) changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.engine import Connection

from geo311.boundaries import today_in_la
from geo311.db import load_sql
from geo311.errors import BadRequest, NotFound

__all__ = [
    "LAYERS",
    "MAX_ZOOM",
    "EXTENT",
    "BUFFER",
    "CACHE_SECONDS",
    "MEDIA_TYPE",
    "TileFilters",
    "parse_tile_address",
    "check_layer",
    "render_tile",
    "tile_etag",
]

#: Layers served under /tiles/<layer>/..., each backed by ``sql/tile_<layer>.sql``.
LAYERS = ("streets", "boundaries", "facilities", "requests", "hotspots")
#: Deepest zoom accepted (street-level detail ends well before this).
MAX_ZOOM = 22
#: Tile coordinate space and the buffer around it, in tile units (the PostGIS defaults).
EXTENT = 4096
BUFFER = 64
#: Below this zoom the streets layer carries arterials only (a z12 tile of every local street is
#: large and unreadable).
STREETS_LOCAL_MIN_ZOOM = 14
#: Most request points in one tile, newest first; the dispatcher clusters them client-side.
REQUESTS_PER_TILE = 5000
#: Browser cache lifetime per layer: reference layers change on reload, requests at any moment.
CACHE_SECONDS = {"streets": 3600, "boundaries": 3600, "facilities": 3600, "requests": 0,
                 "hotspots": 0}
MEDIA_TYPE = "application/vnd.mapbox-vector-tile"


@dataclass(frozen=True)
class TileFilters:
    """Optional filters; an empty tuple means no filter."""

    types: tuple[str, ...] = ()
    vintage: str | None = None
    on: date | None = None
    service_codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()


def check_layer(layer: str) -> str:
    """Return ``layer`` when it is served.

    :param layer: layer name from the URL.
    :raises NotFound: not one of :data:`LAYERS`.
    """
    if layer not in LAYERS:
        raise NotFound(f"unknown tile layer '{layer}'; layers are {', '.join(LAYERS)}")
    return layer


def parse_tile_address(z: str, x: str, y: str) -> tuple[int, int, int]:
    """Check a tile address: integers with ``0 <= z <= 22`` and ``0 <= x, y < 2**z``.

    >>> parse_tile_address("15", "5616", "13082")
    (15, 5616, 13082)

    :param z: zoom as text.
    :param x: column as text.
    :param y: row as text (XYZ scheme, north at 0).
    :returns: ``(z, x, y)``.
    :raises BadRequest: naming the bad part.
    """
    zoom = _as_int(z, "z")
    if not 0 <= zoom <= MAX_ZOOM:
        raise BadRequest(f"z must be between 0 and {MAX_ZOOM}, got {zoom}")
    size = 1 << zoom
    col, row = _as_int(x, "x"), _as_int(y, "y")
    for name, value in (("x", col), ("y", row)):
        if not 0 <= value < size:
            raise BadRequest(f"{name} must be between 0 and {size - 1} at zoom {zoom}, got {value}")
    return zoom, col, row


def render_tile(conn: Connection, layer: str, z: int, x: int, y: int,
                filters: TileFilters | None = None) -> bytes:
    """Build one tile of one layer.

    :param conn: database connection.
    :param layer: one of :data:`LAYERS` (checked).
    :param z: zoom, checked by :func:`parse_tile_address`.
    :param x: column.
    :param y: row.
    :param filters: layer filters; ignored where they do not apply.
    :returns: the protobuf bytes, ``b""`` for an empty tile (or no request table yet).
    :raises NotFound: unknown layer.
    """
    check_layer(layer)
    filters = filters or TileFilters()
    params: dict[str, object] = {"z": z, "x": x, "y": y, "extent": EXTENT, "buffer": BUFFER}
    if layer == "streets":
        params["min_zoom_local"] = STREETS_LOCAL_MIN_ZOOM
    elif layer == "facilities":
        params["types"] = _array(filters.types)
    elif layer == "boundaries":
        params.update(types=_array(filters.types), vintage=filters.vintage,
                      on=filters.on or today_in_la())
    elif layer == "hotspots":
        if not _table_exists(conn, "service_request"):
            return b""
        from flask import current_app

        from geo311.hotspots import tile_sql_params

        params.update(tile_sql_params(current_app.config, filters.service_codes,
                                      filters.statuses, filters.departments))
    else:
        # The request store arrives with its own migration; a database without it has no requests.
        if not _table_exists(conn, "service_request"):
            return b""
        params.update(service_codes=_array(filters.service_codes),
                      statuses=_array(filters.statuses), departments=_array(filters.departments),
                      limit=REQUESTS_PER_TILE)
    value = conn.execute(load_sql(f"tile_{layer}"), params).scalar()
    return bytes(value) if value else b""


def tile_etag(data: bytes) -> str:
    """A strong ETag value for tile bytes (SHA-256, shortened).

    >>> tile_etag(b"")
    'e3b0c44298fc1c149afbf4c8996fb924'
    """
    return hashlib.sha256(data).hexdigest()[:32]


def _as_int(value: str, name: str) -> int:
    try:
        return int(value, 10)
    except (TypeError, ValueError):
        raise BadRequest(f"{name} must be an integer, got '{value}'") from None


def _array(values: Sequence[str]) -> list[str] | None:
    return list(values) if values else None


def _table_exists(conn: Connection, name: str) -> bool:
    found = conn.execute(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": name}).scalar()
    return found is True
