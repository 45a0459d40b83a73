"""Point to nearest street segment and address points (KNN), side of street, interpolated number."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import LineString, Point
from sqlalchemy.engine import Connection

from geo311.db import load_sql

__all__ = [
    "SnapResult",
    "NearbyAddress",
    "snap_to_street",
    "nearest_addresses",
    "snaps_from_rows",
    "snap_from_row",
    "rank_by_distance",
    "addresses_from_rows",
    "local_xy",
    "number_at_fraction",
    "point_at_number",
    "point_at_fraction",
]

_M_PER_DEG_LAT = 110_574.0


@dataclass(frozen=True)
class SnapResult:
    """The nearest segment, where on it the pin projects, and which side the pin is on."""

    segment_id: int
    source: str
    street: str
    street_key: str
    pre_dir: str | None
    from_street: str | None
    to_street: str | None
    distance_m: float
    fraction: float  # 0..1 along the digitised direction
    side: str | None  # left | right; None when the pin is on the centreline
    side_compass: str | None
    snapped_lon: float
    snapped_lat: float
    house_number: int | None  # interpolated from the side's address range, parity kept
    zip: str | None
    has_ranges: bool
    line: LineString  # the segment itself (WGS84), for stepping to its sides


@dataclass(frozen=True)
class NearbyAddress:
    """An address point near the pin."""

    id: int
    kind: str
    source: str
    house_number: int | None
    number_suffix: str | None
    street: str
    street_key: str
    pre_dir: str | None
    zip: str | None
    text: str
    lon: float
    lat: float
    distance_m: float
    confidence: float


def local_xy(lon: float, lat: float, origin_lat: float) -> tuple[float, float]:
    """Metres east/north on a local equirectangular plane (exact enough within a few km).

    >>> x, y = local_xy(-118.0, 34.0, 34.0)
    >>> round(y / 1000), round(x / 1000)
    (3760, -10879)
    """
    return (
        lon * _M_PER_DEG_LAT * 1.00336 * math.cos(math.radians(origin_lat)),
        lat * _M_PER_DEG_LAT,
    )


def snap_to_street(conn: Connection, lon: float, lat: float,
                   max_distance_m: float = 250.0, k: int = 6) -> list[SnapResult]:
    """The nearest street segments to a pin, nearest first, within ``max_distance_m``.

    :param conn: database connection.
    :param lon: pin longitude.
    :param lat: pin latitude.
    :param max_distance_m: give up beyond this distance.
    :param k: how many KNN candidates to consider.
    :returns: snap results, nearest first (empty when no street is near).
    """
    rows = conn.execute(load_sql("snap_segments"), {"lon": lon, "lat": lat, "k": k}).mappings()
    return snaps_from_rows(rows, lon, lat, max_distance_m)


def nearest_addresses(conn: Connection, lon: float, lat: float, k: int = 4,
                      max_distance_m: float = 150.0) -> list[NearbyAddress]:
    """The nearest address points (reference and observed) to a pin, nearest first."""
    rows = conn.execute(load_sql("nearest_addresses"), {"lon": lon, "lat": lat, "k": k}).mappings()
    return addresses_from_rows(rows, max_distance_m)


def snaps_from_rows(rows: Iterable[Mapping[Any, Any]], lon: float, lat: float,
                    max_distance_m: float) -> list[SnapResult]:
    """Snap results from KNN segment rows (the columns of ``snap_segments.sql``; ``wkb`` as bytes
    or hex), nearest first, dropping those beyond ``max_distance_m``.

    :param rows: segment rows in KNN order.
    :param lon: pin longitude.
    :param lat: pin latitude.
    :param max_distance_m: give up beyond this distance.
    :returns: snap results, nearest first.
    """
    return [snap_from_row(row, lon, lat) for row in rank_by_distance(rows, max_distance_m)]


def rank_by_distance(rows: Iterable[Mapping[Any, Any]],
                     max_distance_m: float) -> list[Mapping[Any, Any]]:
    """KNN rows (nearest by bounding box) re-ranked by their true ``distance_m``, nearest first
    (ties by id, so one pin always gets one answer), dropping those beyond ``max_distance_m``."""
    return [row for row in sorted(rows, key=lambda r: (r["distance_m"], r["id"]))
            if row["distance_m"] <= max_distance_m]


def addresses_from_rows(rows: Iterable[Mapping[Any, Any]],
                        max_distance_m: float) -> list[NearbyAddress]:
    """Nearby addresses from KNN address rows (the columns of ``nearest_addresses.sql``).

    :param rows: address rows in KNN order.
    :param max_distance_m: drop those farther than this.
    :returns: addresses, nearest first; ties (one spot under two names) in the order of their
        text, so one pin always gets one answer whatever order the index returned them in.
    """
    return [
        NearbyAddress(
            id=r["id"], kind=r["kind"], source=r["source"], house_number=r["house_number"],
            number_suffix=r["number_suffix"],
            street=_street_label(r["pre_dir"], r["name"], r["suffix"], r["post_dir"]),
            street_key=r["street_key"], pre_dir=r["pre_dir"], zip=r["zip"], text=r["full_address"],
            lon=float(r["lon"]), lat=float(r["lat"]), distance_m=float(r["distance_m"]),
            confidence=float(r["confidence"]),
        )
        for r in sorted(rows, key=lambda r: (r["distance_m"], r["full_address"], r["id"]))
        if r["distance_m"] <= max_distance_m
    ]


def number_at_fraction(start: int | None, end: int | None, fraction: float) -> int | None:
    """House number at a fraction of a range, keeping the range's parity.

    >>> number_at_fraction(300, 398, 0.5), number_at_fraction(301, 399, 0.0)
    (350, 301)
    """
    if not start or not end:
        return None
    value = start + (end - start) * min(max(fraction, 0.0), 1.0)
    number = int(round(value))
    if (number - start) % 2:
        number += 1 if end >= start else -1
    low, high = min(start, end), max(start, end)
    return min(max(number, low), high)


def point_at_number(line: LineString, start: int, end: int, number: int,
                    side: str | None, offset_m: float = 8.0) -> tuple[float, float]:
    """Interpolate a house number along a segment and step off the centreline to its side.

    :param line: the segment in WGS84.
    :param start: the side's from-number (at the line's start).
    :param end: the side's to-number.
    :param number: the house number.
    :param side: ``left``/``right`` of the digitised direction, or None to stay on the line.
    :param offset_m: how far from the centreline a house front is.
    :returns: ``(lon, lat)``.
    """
    fraction = 0.5 if end == start else (number - start) / (end - start)
    return point_at_fraction(line, fraction, side, offset_m)


def point_at_fraction(line: LineString, fraction: float, side: str | None,
                      offset_m: float = 8.0) -> tuple[float, float]:
    """The point at ``fraction`` of a segment, stepped ``offset_m`` to its left or right side."""
    fraction = min(max(fraction, 0.02), 0.98)
    on_line = line.interpolate(fraction, normalized=True)
    if side is None:
        return on_line.x, on_line.y
    ahead = line.interpolate(min(fraction + 0.01, 1.0), normalized=True)
    behind = line.interpolate(max(fraction - 0.01, 0.0), normalized=True)
    ax, ay = local_xy(ahead.x, ahead.y, on_line.y)
    bx, by = local_xy(behind.x, behind.y, on_line.y)
    dx, dy = ax - bx, ay - by
    length = math.hypot(dx, dy) or 1.0
    nx, ny = (-dy / length, dx / length) if side == "left" else (dy / length, -dx / length)
    scale_lon = 1.0 / (_M_PER_DEG_LAT * 1.00336 * math.cos(math.radians(on_line.y)))
    return on_line.x + nx * offset_m * scale_lon, on_line.y + ny * offset_m / _M_PER_DEG_LAT


def snap_from_row(row: Mapping[Any, Any], lon: float, lat: float) -> SnapResult:
    """Project the pin on one segment row (the columns of ``snap_segments.sql``): where along it,
    which side, and the house number there.

    :param row: the segment row (``wkb`` as bytes or hex).
    :param lon: pin longitude.
    :param lat: pin latitude.
    :returns: the snap result.
    """
    line: LineString = shapely.from_wkb(row["wkb"])
    pin = Point(lon, lat)
    fraction = line.project(pin, normalized=True) if line.length > 0 else 0.0
    on_line = line.interpolate(fraction, normalized=True)
    side, compass = _side_of(line, fraction, on_line, lon, lat)
    start, end, zip_code = (row["l_from"], row["l_to"], row["l_zip"]) if side == "left" else (
        row["r_from"], row["r_to"], row["r_zip"])
    has_ranges = bool(row["l_from"] or row["r_from"])
    return SnapResult(
        segment_id=row["id"], source=row["source"], street=row["full_name"],
        street_key=row["street_key"], pre_dir=row["pre_dir"], from_street=row["from_street"],
        to_street=row["to_street"], distance_m=float(row["distance_m"]), fraction=fraction,
        side=side, side_compass=compass, snapped_lon=on_line.x, snapped_lat=on_line.y,
        house_number=number_at_fraction(start, end, fraction) if side else None,
        zip=zip_code or row["l_zip"] or row["r_zip"], has_ranges=has_ranges, line=line,
    )


def _side_of(line: LineString, fraction: float, on_line: Point, lon: float,
             lat: float) -> tuple[str | None, str | None]:
    """Left/right of the digitised direction (cross product) and the compass side."""
    ahead = line.interpolate(min(fraction + 0.001, 1.0), normalized=True)
    behind = line.interpolate(max(fraction - 0.001, 0.0), normalized=True)
    ax, ay = local_xy(ahead.x, ahead.y, lat)
    bx, by = local_xy(behind.x, behind.y, lat)
    px, py = local_xy(lon, lat, lat)
    ox, oy = local_xy(on_line.x, on_line.y, lat)
    vx, vy = px - ox, py - oy
    if math.hypot(vx, vy) < 0.5:
        return None, None
    cross = (ax - bx) * vy - (ay - by) * vx
    side = "left" if cross > 0 else "right"
    angle = math.degrees(math.atan2(vy, vx)) % 360
    compass = ("east", "north", "west", "south")[int(((angle + 45) % 360) // 90)]
    return side, compass


def _street_label(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)
