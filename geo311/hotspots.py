"""Hotspots over 311 requests: DBSCAN clusters per type, Getis-Ord Gi* on a grid, persistence.

Two statistics, each from one hand-tuned statement:

- ``sql/find_hotspots.sql``: ``ST_ClusterDBSCAN`` per service type (a pothole cluster and a
  graffiti cluster are different problems, and each type has its own distance), with the number
  of distinct weeks a cluster had requests in the last ``weeks`` weeks ("recurring on this block
  for 6 weeks") and its requests per street-km (street length inside the cluster's zone).
- ``sql/find_hotspots_grid.sql``: counts on square cells and their 3x3 neighbourhood sums;
  :func:`gi_star` turns them into z-scores. A high positive z is a cell whose neighbourhood has
  many more requests than the study grid's average; a negative z, fewer.

Both count the same requests: each includes ``sql/hotspot_requests.sql`` (the filters) as its
first CTE, ``pts`` (an include line, :func:`geo311.db.with_includes`), so the filters are written
once.

Distances are metres in NAD83 / UTM zone 11N (EPSG:26911), true within a fraction of a percent
across Los Angeles (Web Mercator would stretch them by ~21% at this latitude).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from geo311.boundaries import LA_TIME
from geo311.db import load_sql
from geo311.errors import BadRequest
from geo311.request_query import RequestFilter

__all__ = [
    "UTM11_M",
    "HotspotParams",
    "Hotspot",
    "GridCell",
    "HotspotResult",
    "eps_by_type",
    "params_from_config",
    "gi_star",
    "find_hotspots",
    "hotspot_sql_params",
    "tile_sql_params",
]

#: NAD83 / UTM zone 11N, metres: the projection every hotspot distance and cell is measured in.
UTM11_M = 26911
#: Bounds on the explicit parameters (a 1 m cell over the City would be 1.3 billion cells).
_EPS_RANGE_M = (1.0, 5000.0)
_CELL_RANGE_M = (25.0, 5000.0)
_WEEKS_RANGE = (1, 520)
#: Most request points clustered for one hotspot tile (newest first).
TILE_POINT_LIMIT = 20000


@dataclass(frozen=True)
class HotspotParams:
    """Explicit hotspot parameters (defaults come from the ``HOTSPOT_*`` settings).

    ``eps_m`` applies to every type without an entry in ``eps_by_type_m``; ``weeks`` is the
    persistence window, ending at ``filters.end`` or now.
    """

    filters: RequestFilter = field(default_factory=RequestFilter)
    eps_m: float = 50.0
    eps_by_type_m: Mapping[str, float] = field(default_factory=dict)
    min_points: int = 5
    cell_m: float = 250.0
    weeks: int = 8
    min_z: float = 1.96
    limit: int = 100


@dataclass(frozen=True)
class Hotspot:
    """One density cluster of one service type."""

    service_code: str
    count: int
    open_count: int
    lon: float
    lat: float
    radius_m: float
    eps_m: float
    first_requested: str
    last_requested: str
    weeks_active: int
    weeks_window: int
    street_m: float | None
    per_street_km: float | None
    gi_z: float | None
    zone: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """The public JSON shape (the zone is a GeoJSON geometry)."""
        return asdict(self)


@dataclass(frozen=True)
class GridCell:
    """One grid cell with its count, neighbourhood sum and Gi* z-score."""

    i: int
    j: int
    count: int
    local_sum: int
    gi_z: float
    cell: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """The public JSON shape (the cell is a GeoJSON polygon)."""
        return asdict(self)


@dataclass(frozen=True)
class HotspotResult:
    """Clusters, significant cells and the size of the study grid."""

    hotspots: list[Hotspot]
    cells: list[GridCell]
    n_cells: int
    total: int


def eps_by_type(value: Any) -> dict[str, float]:
    """Read ``HOTSPOT_EPS_BY_TYPE``: a mapping, or text ``code:metres,code:metres``.

    >>> eps_by_type("graffiti:30, bulky_items:80")
    {'graffiti': 30.0, 'bulky_items': 80.0}
    >>> eps_by_type({"pothole": 25})
    {'pothole': 25.0}

    :raises BadRequest: an entry that is not ``code:number``.
    """
    if not value:
        return {}
    if isinstance(value, Mapping):
        pairs = list(value.items())
    else:
        pairs = []
        for item in str(value).split(","):
            if item.strip():
                code, sep, metres = item.partition(":")
                if not sep:
                    raise BadRequest(f"HOTSPOT_EPS_BY_TYPE entry {item.strip()!r} is not "
                                     "code:metres")
                pairs.append((code, metres))
    try:
        return {str(code).strip(): float(metres) for code, metres in pairs}
    except (TypeError, ValueError):
        raise BadRequest("HOTSPOT_EPS_BY_TYPE values must be numbers of metres") from None


def params_from_config(config: Mapping[str, Any], filters: RequestFilter | None = None,
                       **overrides: Any) -> HotspotParams:
    """Hotspot parameters from the app settings, with explicit overrides checked.

    :param config: the app config (``HOTSPOT_EPS_M``, ``HOTSPOT_EPS_BY_TYPE``,
        ``HOTSPOT_MIN_POINTS``, ``HOTSPOT_CELL_M``, ``HOTSPOT_WEEKS``).
    :param filters: request filters; none by default.
    :param overrides: ``eps_m`` (applies to every type, replacing per-type entries),
        ``min_points``, ``cell_m``, ``weeks``, ``min_z``, ``limit``; ``None`` values are ignored.
    :raises BadRequest: a value out of range, naming it.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    per_type = {} if "eps_m" in given else eps_by_type(config.get("HOTSPOT_EPS_BY_TYPE"))
    params = HotspotParams(
        filters=filters or RequestFilter(),
        eps_m=float(given.get("eps_m", config.get("HOTSPOT_EPS_M", 50.0))),
        eps_by_type_m=per_type,
        min_points=int(given.get("min_points", config.get("HOTSPOT_MIN_POINTS", 5))),
        cell_m=float(given.get("cell_m", config.get("HOTSPOT_CELL_M", 250.0))),
        weeks=int(given.get("weeks", config.get("HOTSPOT_WEEKS", 8))),
        min_z=float(given.get("min_z", 1.96)),
        limit=int(given.get("limit", 100)),
    )
    _check_range("eps_m", params.eps_m, _EPS_RANGE_M)
    for code, metres in params.eps_by_type_m.items():
        _check_range(f"eps for {code}", metres, _EPS_RANGE_M)
    _check_range("min_points", params.min_points, (2, 10000))
    _check_range("cell_m", params.cell_m, _CELL_RANGE_M)
    _check_range("weeks", params.weeks, _WEEKS_RANGE)
    _check_range("limit", params.limit, (1, 1000))
    return params


def gi_star(local_sum: float, n_cells: int, total: float, sum_sq: float,
            weight_sum: int = 9) -> float:
    """Getis-Ord Gi* z-score of one cell with binary weights (the cell and its neighbours).

    ``Gi* = (sum_j w_ij x_j - mean * W) / (S * sqrt((n * W - W^2) / (n - 1)))`` with
    ``W = sum_j w_ij`` (``sum_j w_ij^2 = W`` for 0/1 weights), ``mean`` and ``S`` over all ``n``
    cells of the study grid, empty ones included.

    >>> round(gi_star(local_sum=20, n_cells=100, total=25, sum_sq=405), 2)
    3.09
    >>> gi_star(local_sum=1, n_cells=100, total=25, sum_sq=405) < 0
    True

    :param local_sum: requests in the cell's neighbourhood.
    :param n_cells: cells in the study grid.
    :param total: requests over the grid.
    :param sum_sq: sum of squared cell counts.
    :param weight_sum: neighbourhood size (9 for a 3x3 queen neighbourhood).
    :returns: the z-score; 0.0 when the grid has no variance or is a single neighbourhood.
    """
    n = n_cells
    if n < 2:
        return 0.0
    mean = total / n
    variance = sum_sq / n - mean * mean
    if variance <= 0:
        return 0.0
    spread = (n * weight_sum - weight_sum**2) / (n - 1)
    if spread <= 0:  # every cell is in every neighbourhood (a 3x3 grid): nothing to compare
        return 0.0
    denominator = math.sqrt(variance) * math.sqrt(spread)
    return (local_sum - mean * weight_sum) / denominator


def find_hotspots(conn: Connection, params: HotspotParams,
                  now: datetime | None = None) -> HotspotResult:
    """Density clusters and Gi* cells for the requests matching ``params.filters``.

    :param conn: database connection.
    :param params: explicit parameters (see :func:`params_from_config`).
    :param now: the end of the persistence window when the filters set no ``end``.
    :returns: clusters (largest first, with the Gi* z of the cell under each centroid) and the
        cells whose z is at least ``params.min_z``, highest first.
    """
    binds = hotspot_sql_params(params, now)
    grid_rows = conn.execute(load_sql("find_hotspots_grid"), binds).all()
    z_by_cell: dict[tuple[int, int], float] = {}
    cells: list[GridCell] = []
    n_cells = total = 0
    for row in grid_rows:
        n_cells, total = int(row.n_cells), int(row.total)
        z = gi_star(float(row.local_sum), n_cells, total, float(row.sum_sq))
        z_by_cell[(row.i, row.j)] = z
        if z >= params.min_z:
            cells.append(GridCell(row.i, row.j, int(row.n), int(row.local_sum), round(z, 3),
                                  json.loads(row.cell_geojson)))
    cells.sort(key=lambda c: -c.gi_z)
    hotspots = []
    for row in conn.execute(load_sql("find_hotspots"), binds):
        street_m = float(row.street_m) if row.street_m else None
        cell = (math.floor(row.x_m / params.cell_m), math.floor(row.y_m / params.cell_m))
        z_here = z_by_cell.get(cell)
        hotspots.append(Hotspot(
            service_code=row.service_code, count=int(row.n), open_count=int(row.open_n),
            lon=round(row.lon, 6), lat=round(row.lat, 6), radius_m=round(row.radius_m, 1),
            eps_m=float(row.eps_m),
            first_requested=row.first_at.astimezone(LA_TIME).date().isoformat(),
            last_requested=row.last_at.astimezone(LA_TIME).date().isoformat(),
            weeks_active=int(row.weeks_active), weeks_window=params.weeks,
            street_m=round(street_m, 1) if street_m else None,
            per_street_km=round(row.n / (street_m / 1000), 2) if street_m else None,
            gi_z=round(z_here, 3) if z_here is not None else None,
            zone=json.loads(row.zone_geojson),
        ))
    return HotspotResult(hotspots, cells[: params.limit], n_cells, total)


def hotspot_sql_params(params: HotspotParams, now: datetime | None = None) -> dict[str, Any]:
    """The named binds of ``find_hotspots*.sql`` with ``hotspot_requests.sql`` (and of
    ``tile_hotspots.sql``) for ``params``."""
    f = params.filters
    # The persistence window is whole weeks (Monday to Sunday, LA): the week holding the end and
    # the weeks - 1 before it, so "6 of the last 8 weeks" means calendar weeks.
    last = (f.end - timedelta(microseconds=1)) if f.end else (now or datetime.now(LA_TIME))
    monday = last.astimezone(LA_TIME).date()
    monday -= timedelta(days=monday.weekday() + 7 * (params.weeks - 1))
    area = json.dumps([{"type": f.area[0], "code": f.area[1]}]) if f.area else None
    codes = sorted(params.eps_by_type_m)
    return {
        "service_codes": list(f.service_codes) or None,
        "statuses": list(f.statuses) or None,
        "departments": list(f.departments) or None,
        "area": area,
        "start": f.start,
        "end": f.end,
        "eps_codes": codes,
        "eps_values": [float(params.eps_by_type_m[c]) for c in codes],
        "default_eps_m": params.eps_m,
        "min_points": params.min_points,
        "weeks_since": datetime.combine(monday, time(), LA_TIME),
        "cell_m": params.cell_m,
        "limit": params.limit,
    }


def tile_sql_params(config: Mapping[str, Any], service_codes: Sequence[str],
                    statuses: Sequence[str], departments: Sequence[str],
                    area: tuple[str, str] | None = None) -> dict[str, Any]:
    """The named binds of ``tile_hotspots.sql`` beyond the tile address and the age filter
    (settings' defaults).

    :param config: the app config (``HOTSPOT_*``).
    :param service_codes: request types to keep (empty: all).
    :param statuses: statuses to keep (empty: all).
    :param departments: departments to keep (empty: all).
    :param area: ``(area_type, code)`` the requests must be in, or None for anywhere.
    """
    filters = RequestFilter(service_codes=tuple(service_codes), statuses=tuple(statuses),
                            departments=tuple(departments), area=area)
    params = params_from_config(config, filters)
    binds = hotspot_sql_params(params)
    widest = max([params.eps_m, *params.eps_by_type_m.values()])
    return {key: binds[key] for key in ("service_codes", "statuses", "departments", "area",
                                        "eps_codes", "eps_values", "default_eps_m", "min_points",
                                        "weeks_since")} | {
        "margin_m": 2 * widest, "limit": TILE_POINT_LIMIT}


def _check_range(name: str, value: float, bounds: tuple[float, float]) -> None:
    low, high = bounds
    if not (low <= value <= high) or (isinstance(value, float) and math.isnan(value)):
        raise BadRequest(f"parameter '{name}' must be between {low:g} and {high:g}, got {value}")
