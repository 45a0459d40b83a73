"""Pure geometry and parameter helpers: SRIDs, coordinate and date parsing, make-valid, bbox."""

from __future__ import annotations

import math
from datetime import date

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo311.errors import BadRequest

__all__ = [
    "WGS84",
    "CA_SP5_FT",
    "parse_lon_lat",
    "parse_coordinate",
    "parse_date",
    "parse_bbox",
    "to_multipolygon",
]

WGS84 = 4326
#: NAD83 / California zone 5 (US feet): the City's engineering coordinates.
CA_SP5_FT = 2229


def parse_coordinate(value: object, name: str, low: float, high: float) -> float:
    """Parse one coordinate parameter, naming it in the error.

    >>> parse_coordinate("-118.25", "lon", -180, 180)
    -118.25

    :param value: the raw value (string or number).
    :param name: parameter name for the message.
    :param low: smallest legal value.
    :param high: largest legal value.
    :raises BadRequest: missing, not a number, NaN/inf or out of range.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise BadRequest(f"parameter '{name}' is required")
    if isinstance(value, bool):
        raise BadRequest(f"parameter '{name}' must be a number")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BadRequest(f"parameter '{name}' must be a number, got {str(value)[:40]!r}") from None
    if not math.isfinite(number):
        raise BadRequest(f"parameter '{name}' must be a finite number")
    if not low <= number <= high:
        raise BadRequest(f"parameter '{name}' must be between {low} and {high}, got {number}")
    return number


def parse_lon_lat(lon: object, lat: object) -> tuple[float, float]:
    """Parse a longitude/latitude pair in WGS84 degrees.

    >>> parse_lon_lat("-118.2437", "34.0522")
    (-118.2437, 34.0522)

    :raises BadRequest: naming ``lon`` or ``lat``.
    """
    return parse_coordinate(lon, "lon", -180.0, 180.0), parse_coordinate(lat, "lat", -90.0, 90.0)


def parse_date(value: str | None, name: str = "date") -> date | None:
    """Parse an ISO ``YYYY-MM-DD`` date parameter; empty means None.

    >>> parse_date("2018-12-31")
    datetime.date(2018, 12, 31)

    :raises BadRequest: naming the parameter.
    """
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise BadRequest(
            f"parameter '{name}' must be a date as YYYY-MM-DD, got {value[:40]!r}"
        ) from None


def parse_bbox(value: str | None, name: str = "bbox") -> tuple[float, float, float, float] | None:
    """Parse ``min_lon,min_lat,max_lon,max_lat``.

    >>> parse_bbox("-118.3,34.0,-118.2,34.1")
    (-118.3, 34.0, -118.2, 34.1)

    :raises BadRequest: wrong count, not numbers, or min greater than max.
    """
    if value is None or not value.strip():
        return None
    parts = value.split(",")
    if len(parts) != 4:
        raise BadRequest(f"parameter '{name}' must be min_lon,min_lat,max_lon,max_lat")
    west = parse_coordinate(parts[0], name, -180, 180)
    south = parse_coordinate(parts[1], name, -90, 90)
    east = parse_coordinate(parts[2], name, -180, 180)
    north = parse_coordinate(parts[3], name, -90, 90)
    if west > east or south > north:
        raise BadRequest(f"parameter '{name}' has its minimum above its maximum")
    return west, south, east, north


def to_multipolygon(geom: BaseGeometry | None) -> MultiPolygon | None:
    """Make a geometry valid and keep only its polygonal part, as a 2D MultiPolygon.

    >>> bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    >>> to_multipolygon(bowtie).is_valid
    True

    :returns: None when nothing polygonal is left (empty, lines, points).
    """
    if geom is None or geom.is_empty:
        return None
    geom = shapely.force_2d(geom)
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    polygons: list[Polygon] = []
    for part in getattr(geom, "geoms", [geom]):
        if isinstance(part, Polygon) and not part.is_empty:
            polygons.append(part)
        elif isinstance(part, MultiPolygon):
            polygons.extend(p for p in part.geoms if not p.is_empty)
        elif hasattr(part, "geoms"):  # a collection inside the collection
            inner = to_multipolygon(part)
            if inner is not None:
                polygons.extend(inner.geoms)
    if not polygons:
        return None
    return MultiPolygon(polygons)
