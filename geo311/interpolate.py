"""Place a house number between (or just beyond) the known address points of its street.

The known points are the City's and County's address points and the observed points the reference
build derives from 311 records. Numbers on one side of an LA street share a parity, so neighbours of
the same parity are preferred; a pair further apart than its numbers allow (two different streets
of one name) is not used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from geo311.db import load_sql

__all__ = ["NumberEstimate", "estimate_number_position", "estimate_from_grid"]

#: How far (in house numbers) to look for neighbours.
SEARCH_SPAN = 3000
#: Largest plausible distance per house number between two points of one street (metres).
_MAX_M_PER_NUMBER = 4.0
#: Furthest a number may be extrapolated beyond the last known one.
EXTRAPOLATE_LIMIT = 1500


@dataclass(frozen=True)
class NumberEstimate:
    """Where a number probably is, how it was found, and the numbers it leans on."""

    lon: float
    lat: float
    method: str  # between | beyond
    low: int
    high: int
    same_side: bool
    zip: str | None

    @property
    def gap(self) -> int:
        """How many numbers apart the anchors are (smaller is surer)."""
        return abs(self.high - self.low)


@dataclass(frozen=True)
class _Known:
    number: int
    lon: float
    lat: float
    zip: str | None
    mid_block: bool = False  # a meter block face: its side of the street is unknown


def estimate_number_position(conn: Connection, street_key: str, number: int,
                             pre_dir: str | None = None,
                             zip_code: str | None = None) -> NumberEstimate | None:
    """Interpolate (or extrapolate a little) a house number from its street's known points.

    :param conn: database connection.
    :param street_key: e.g. ``"BERENDO ST"``.
    :param number: the house number.
    :param pre_dir: typed direction (N/S/E/W) or None for any.
    :param zip_code: typed ZIP, preferred when the street name repeats across the City.
    :returns: the estimate, or None when the street has no usable neighbours.
    """
    rows = conn.execute(load_sql("number_neighbours"), {
        "street_key": street_key, "number": number, "span": SEARCH_SPAN, "pre_dir": pre_dir}).all()
    known = [_Known(r.house_number, r.lon, r.lat, r.zip, r.kind == "blockface") for r in rows
             if r.house_number != number]
    lows = sorted((k for k in known if k.number < number), key=lambda k: -k.number)
    highs = sorted((k for k in known if k.number > number), key=lambda k: k.number)
    for same_side in (True, False):
        pair = _best_pair(_side(lows, number, same_side), _side(highs, number, same_side), zip_code)
        if pair is not None and not same_side and _nearer_beyond(lows, highs, number, pair):
            pair = None
        if pair is not None:
            low, high = pair
            t = (number - low.number) / (high.number - low.number)
            return NumberEstimate(low.lon + t * (high.lon - low.lon), low.lat + t * (high.lat - low.lat),
                                  "between", low.number, high.number, same_side,
                                  low.zip or high.zip)
    for same_side in (True, False):
        beyond = _extrapolate(_side(lows, number, same_side), number, zip_code) or \
            _extrapolate(_side(highs, number, same_side), number, zip_code)
        if beyond is not None:
            return NumberEstimate(beyond[0], beyond[1], "beyond", beyond[2], beyond[3], same_side,
                                  beyond[4])
    return None


def _nearer_beyond(lows: list[_Known], highs: list[_Known], number: int,
                   pair: tuple[_Known, _Known]) -> bool:
    """Prefer extrapolating from a close same-side number over a wide opposite-side pair."""
    same = [k for k in lows[:1] + highs[:1] if k.number % 2 == number % 2]
    return bool(same) and min(abs(k.number - number) for k in same) * 4 < pair[1].number - pair[0].number


def _side(items: Sequence[_Known], number: int, same_side: bool) -> list[_Known]:
    if not same_side:
        return list(items)
    return [k for k in items if not k.mid_block and k.number % 2 == number % 2]


def _best_pair(lows: list[_Known], highs: list[_Known],
               zip_code: str | None) -> tuple[_Known, _Known] | None:
    best: tuple[float, _Known, _Known] | None = None
    for low in lows[:4]:
        for high in highs[:4]:
            if not _plausible(low, high):
                continue
            cost = float(high.number - low.number)
            if zip_code and zip_code not in (low.zip, high.zip):
                cost += 1000
            if best is None or cost < best[0]:
                best = (cost, low, high)
    return None if best is None else (best[1], best[2])


def _extrapolate(items: list[_Known], number: int,
                 zip_code: str | None) -> tuple[float, float, int, int, str | None] | None:
    """Continue the line through two known numbers a short way past the last one.

    The second anchor must be far enough from the first (in numbers) that a small position error
    between two neighbours is not magnified; otherwise the nearest known point is used as it is.
    """
    if not items or abs(items[0].number - number) > EXTRAPOLATE_LIMIT:
        return None
    near = items[0]
    if zip_code and near.zip and near.zip != zip_code:
        return None
    reach = abs(number - near.number)
    for far in sorted(items[1:6], key=lambda k: -abs(k.number - near.number)):
        spread = abs(near.number - far.number)
        if spread < max(20, reach / 2) or not _plausible(near, far):
            continue
        t = (number - near.number) / (near.number - far.number)
        return (near.lon + t * (near.lon - far.lon), near.lat + t * (near.lat - far.lat),
                min(near.number, far.number), max(near.number, far.number), near.zip)
    return near.lon, near.lat, near.number, near.number, near.zip


def _plausible(a: _Known, b: _Known) -> bool:
    """Two points can be on one street only if they are not further apart than their numbers allow."""
    dx = (a.lon - b.lon) * 92_000
    dy = (a.lat - b.lat) * 110_600
    return math.hypot(dx, dy) <= 80 + _MAX_M_PER_NUMBER * abs(a.number - b.number)


def estimate_from_grid(conn: Connection, street_key: str, number: int, pre_dir: str | None,
                       anchor: tuple[float, float] | None,
                       street_points: Sequence[tuple[float, float]] = ()) -> NumberEstimate | None:
    """Use LA's address grid: other streets with the same prefix say where this number falls.

    West/East-prefixed streets are numbered along longitude and North/South-prefixed ones along
    latitude, consistently across neighbouring parallel streets. The other coordinate comes from
    the street's own known points (nearest along the axis).

    :param anchor: a known point of the street (where to look for parallel streets).
    :param street_points: known points of the street, to place the number across the axis.
    :returns: an estimate with method ``grid``, or None without a prefix or enough agreement.
    """
    if pre_dir not in ("N", "S", "E", "W") or anchor is None:
        return None
    row = conn.execute(load_sql("grid_axis"), {"pre_dir": pre_dir, "number": number,
                                               "lon": anchor[0], "lat": anchor[1],
                                               "radius_deg": 0.03}).first()
    if row is None or not row.n or row.n < 3:
        return None
    along_lon = pre_dir in ("E", "W")
    axis = row.median_lon if along_lon else row.median_lat
    points = list(street_points) or [anchor]
    # The street's own point nearest along the axis gives the cross-axis coordinate.
    nearest = min(points, key=lambda p: abs((p[0] if along_lon else p[1]) - axis))
    lon, lat = (axis, nearest[1]) if along_lon else (nearest[0], axis)
    return NumberEstimate(lon, lat, "grid", number - 25, number + 25, False, None)
