"""Mapbox Vector Tiles (ST_AsMVT) for streets, boundaries, facilities and requests; z/x/y checks.

Each layer is one hand-tuned statement in ``geo311/sql/tile_<layer>.sql`` (requests: points, and
grid clusters up to :data:`CLUSTER_MAX_ZOOM` from ``tile_request_clusters.sql``, which read the
request cell summary of ``request_cells.sql`` unless an area or age filter asks for a live count;
both request statements take their filters from ``tile_request_filter.sql``). Tiles are plain
(not gzipped) protobuf; the HTTP layer adds an ETag made from the bytes, the layer, the address and
the filters, so a client revalidates cheaply and a tile changes only when a feature inside it (or
within its buffer) changed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from functools import cache

from sqlalchemy import text
from sqlalchemy.engine import Connection

from geo311.boundaries import today_in_la
from geo311.db import driver_cursor, load_driver_sql, load_sql, sql_source
from geo311.errors import BadRequest, NotFound
from geo311.geometry import parse_date
from geo311.request_query import checked_statuses, parse_area

__all__ = [
    "LAYERS",
    "MAX_ZOOM",
    "EXTENT",
    "BUFFER",
    "CACHE_SECONDS",
    "MEDIA_TYPE",
    "MAX_AGE_DAYS",
    "CLUSTER_MAX_ZOOM",
    "CLUSTER_CELLS",
    "CELL_ZOOM",
    "TileFilters",
    "parse_tile_address",
    "parse_tile_filters",
    "check_layer",
    "render_tile",
    "request_statement",
    "rebuild_request_cells",
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
#: Most request points in one tile, newest first (zooms above :data:`CLUSTER_MAX_ZOOM`).
REQUESTS_PER_TILE = 5000
#: Deepest zoom whose request tiles hold server-side grid clusters (``sql/tile_request_clusters``)
#: instead of points: a z12 tile of the city can hold tens of thousands of requests.
CLUSTER_MAX_ZOOM = 12
#: Grid cells per side of a clustered request tile: 4 cells of 64 px across a 256 px tile.
CLUSTER_CELLS = 4
#: Zoom of the request cells summed in ``request_cell`` (``sql/request_cells.sql``): a z14 tile is
#: one 64 px cluster cell at z12 and nests exactly in the cluster cells of every shallower zoom.
CELL_ZOOM = CLUSTER_MAX_ZOOM + CLUSTER_CELLS.bit_length() - 1
#: Browser cache lifetime per layer: reference layers change on reload, requests at any moment.
CACHE_SECONDS = {"streets": 3600, "boundaries": 3600, "facilities": 3600, "requests": 0,
                 "hotspots": 0}
MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
#: Largest request age (days) the ``min_age_days``/``max_age_days`` filters take.
MAX_AGE_DAYS = 3660
#: Longest comma-separated filter list accepted.
MAX_FILTER_VALUES = 50
_TABLES_SEEN: set[tuple[str, str]] = set()
#: Where a request statement takes the lines of ``sql/tile_request_filter.sql`` (an include line,
#: expanded by :func:`geo311.db.with_includes`).
_FILTER_SLOT = "/* tile_request_filter.sql */"
#: Before a summary read: fold this transaction's own uncommitted request changes into
#: ``request_cell`` now (they are otherwise folded at COMMIT), so a writer sees its own writes.
_FLUSH_OWN_CHANGES = ("SET CONSTRAINTS request_cell_flush_at_commit IMMEDIATE;"
                      " SET CONSTRAINTS request_cell_flush_at_commit DEFERRED")
_AREA_TYPE = re.compile(r"[A-Z][A-Z0-9_]{0,15}")
_AREA_CODE = re.compile(r"[\w.\- ]{1,40}")


@dataclass(frozen=True)
class TileFilters:
    """Optional filters; an empty tuple or ``None`` means no filter.

    ``area`` is ``(area_type, code)`` as stored in a request's ``areas`` (e.g. ``("CD", "10")``);
    ``min_age_days``/``max_age_days`` keep requests at least / at most that many whole days old.
    """

    types: tuple[str, ...] = ()
    vintage: str | None = None
    on: date | None = None
    service_codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    area: tuple[str, str] | None = None
    min_age_days: int | None = None
    max_age_days: int | None = None

    def cache_key(self) -> str:
        """A canonical text of the set filters (part of the tile's ETag).

        >>> TileFilters(statuses=("open",), area=("CD", "10")).cache_key()
        'statuses=open;area=CD,10'
        """
        parts = []
        for field in fields(self):
            value = getattr(self, field.name)
            if value in (None, ()):
                continue
            text_value = ",".join(value) if isinstance(value, tuple) else str(value)
            parts.append(f"{field.name}={text_value}")
        return ";".join(parts)


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


def parse_tile_filters(args: Mapping[str, str]) -> TileFilters:
    """Read the tile query parameters; each problem is a 400 naming the parameter.

    ``type``, ``vintage``, ``date`` (boundaries); ``type`` (facilities); for requests and
    hotspots ``service_code``, ``status``, ``department`` (comma lists), ``area_type`` +
    ``area_code`` (e.g. ``CD`` + ``10``, ``NC`` + ``52``) and ``min_age_days`` /
    ``max_age_days`` (whole days since the request was made).

    >>> parse_tile_filters({"status": "open,assigned", "min_age_days": "30"}).min_age_days
    30

    :param args: the query string (``request.args``) or any mapping of strings.
    :raises BadRequest: an unknown status, a bad area or age, or too many values.
    """
    statuses = checked_statuses(_list(args, "status"))
    area = parse_area(args)
    if area and not _AREA_TYPE.fullmatch(area[0]):
        raise BadRequest(f"parameter 'area_type' must be an area type code such as CD or NC, "
                         f"got {area[0][:40]!r}")
    if area and not _AREA_CODE.fullmatch(area[1]):
        raise BadRequest(f"parameter 'area_code' is not an area code: {area[1][:40]!r}")
    min_age, max_age = _age(args, "min_age_days"), _age(args, "max_age_days")
    if min_age is not None and max_age is not None and min_age > max_age:
        raise BadRequest("parameter 'min_age_days' is more than 'max_age_days'")
    return TileFilters(
        types=_list(args, "type"),
        vintage=(args.get("vintage") or "").strip() or None,
        on=parse_date(args.get("date"), "date"),
        service_codes=_list(args, "service_code"),
        statuses=statuses,
        departments=tuple(d.upper() for d in _list(args, "department")),
        area=area,
        min_age_days=min_age,
        max_age_days=max_age,
    )


def render_tile(conn: Connection, layer: str, z: int, x: int, y: int,
                filters: TileFilters | None = None) -> bytes:
    """Build one tile of one layer.

    :param conn: database connection.
    :param layer: one of :data:`LAYERS` (checked).
    :param z: zoom, checked by :func:`parse_tile_address`.
    :param x: column.
    :param y: row.
    :param filters: layer filters; ignored where they do not apply.
    :returns: the protobuf bytes, ``b""`` for an empty tile (or no request table yet). Request
        tiles up to :data:`CLUSTER_MAX_ZOOM` hold grid clusters (``count``, ``oldest_days``,
        ``newest_days``, ``service_code``, ``cluster``), deeper ones request points.
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
                                      filters.statuses, filters.departments, filters.area),
                      min_age_days=filters.min_age_days, max_age_days=filters.max_age_days)
    else:
        # The request store arrives with its own migration; a database without it has no requests.
        if not _table_exists(conn, "service_request"):
            return b""
        params.update(service_codes=_array(filters.service_codes),
                      statuses=_array(filters.statuses), departments=_array(filters.departments),
                      area=_area_json(filters.area), min_age_days=filters.min_age_days,
                      max_age_days=filters.max_age_days)
        if z <= CLUSTER_MAX_ZOOM:
            # The summary keys type, status and department only: an area or age filter counts
            # the matching requests live.
            from_cells = (filters.area is None and filters.min_age_days is None
                          and filters.max_age_days is None
                          and _table_exists(conn, "request_cell"))
            # Request cells are the cluster cells of CLUSTER_MAX_ZOOM (CELL_ZOOM); each zoom
            # out from it doubles a cluster cell's side.
            params.update(cells=CLUSTER_CELLS, from_cells=from_cells,
                          cell_shift=CLUSTER_MAX_ZOOM - z)
        else:
            from_cells = False
            params["limit"] = REQUESTS_PER_TILE
    if layer == "requests":
        # One-shot plan: psycopg would otherwise prepare the statement after a few calls, and
        # PostgreSQL could settle on a generic plan that does not see the tile's envelope.
        with driver_cursor(conn) as cursor:
            # No parallel workers: starting them costs more than they save on a tile's few
            # thousand rows (and the tail latency under load); SET LOCAL ends with the request.
            setup = "SET LOCAL max_parallel_workers_per_gather = 0"
            cursor.execute(f"{setup}; {_FLUSH_OWN_CHANGES}" if from_cells else setup)
            statement = "tile_request_clusters" if z <= CLUSTER_MAX_ZOOM else "tile_requests"
            row = cursor.execute(request_statement(statement), params, prepare=False).fetchone()
        value = row[0] if row else None
    else:
        value = conn.execute(load_sql(f"tile_{layer}"), params).scalar()
    return bytes(value) if value else b""


@cache
def request_statement(name: str) -> str:
    """A request tile statement (``sql/<name>.sql``) for psycopg, with its filter lines in place.

    The filters live once, in ``sql/tile_request_filter.sql``; each request statement marks
    where they go with the comment line ``/* tile_request_filter.sql */``.

    :param name: ``tile_requests`` or ``tile_request_clusters``.
    :returns: the statement with ``%(name)s`` binds (:func:`geo311.db.load_driver_sql`).
    :raises ValueError: the statement has no filter slot.
    """
    if sql_source(name).count(_FILTER_SLOT) != 1:
        raise ValueError(f"sql/{name}.sql must hold the line {_FILTER_SLOT} once")
    return load_driver_sql(name)


def rebuild_request_cells(conn: Connection) -> int:
    """Recompute the request cell summary from ``service_request`` (``request_cells_rebuild()``).

    Only needed after writing requests with triggers off (``session_replication_role =
    replica``, as ``scripts/bench_tiles.py`` loads); every other write keeps it exact.

    :param conn: connection in a transaction; the caller commits.
    :returns: the number of summary rows (cell, type, status, department).
    """
    return int(conn.execute(text("SELECT request_cells_rebuild()")).scalar_one())


def tile_etag(data: bytes, key: str = "") -> str:
    """A strong ETag value for tile bytes and what they were asked for (SHA-256, shortened).

    The key (layer, address and :meth:`TileFilters.cache_key`) keeps two filtered views that
    happen to hold the same bytes (e.g. two empty tiles) from sharing a validator.

    >>> tile_etag(b"")
    'e3b0c44298fc1c149afbf4c8996fb924'
    >>> tile_etag(b"", "requests/10/175/408?status=open") != tile_etag(b"")
    True
    """
    digest = hashlib.sha256(key.encode() + b"\0" + data if key else data)
    return digest.hexdigest()[:32]


def _as_int(value: str, name: str) -> int:
    try:
        return int(value, 10)
    except (TypeError, ValueError):
        raise BadRequest(f"{name} must be an integer, got '{value}'") from None


def _list(args: Mapping[str, str], name: str) -> tuple[str, ...]:
    values = tuple(v.strip() for v in (args.get(name) or "").split(",") if v.strip())
    if len(values) > MAX_FILTER_VALUES:
        raise BadRequest(f"parameter '{name}' has more than {MAX_FILTER_VALUES} values")
    return values


def _age(args: Mapping[str, str], name: str) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_AGE_DAYS:
        raise BadRequest(f"parameter '{name}' must be a whole number of days from 0 to "
                         f"{MAX_AGE_DAYS}, got {raw[:40]!r}")
    return int(raw)


def _array(values: Sequence[str]) -> list[str] | None:
    return list(values) if values else None


def _area_json(area: tuple[str, str] | None) -> str | None:
    # The containment probe the request list uses too (GIN index on service_request.areas).
    return json.dumps([{"type": area[0], "code": area[1]}]) if area else None


def _table_exists(conn: Connection, name: str) -> bool:
    # Asked once per database: a table, once there, stays (saves a round trip per tile).
    key = (conn.engine.url.render_as_string(hide_password=True), name)
    if key in _TABLES_SEEN:
        return True
    found = conn.execute(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": name}).scalar()
    if found is True:
        _TABLES_SEEN.add(key)
    return found is True
