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

from sqlalchemy import text
from sqlalchemy.engine import Connection

from geo311.db import load_sql

__all__ = ["NumberEstimate", "estimate_number_position", "estimate_from_grid"]

#: How far (in house numbers) to look for neighbours.
SEARCH_SPAN = 3000
#: Largest plausible distance per house number between two points of one street (metres).
_MAX_M_PER_NUMBER = 4.0
#: Furthest a number may be extrapolated beyond the last known one.
EXTRAPOLATE_LIMIT = 1500
#: Anchors further apart than this (in numbers) are placed between by the address grid: blocks
#: differ in length, so a straight share of a wide gap drifts by a block or more.
GRID_MIN_GAP = 40
#: How many numbers farther an anchor seen only in parking citations counts, per unit of
#: confidence it lacks, when choosing the two anchors to interpolate between: a 311-geocoded
#: neighbour a little farther off places a number better (dev holdout: 9 more answers within 30 m).
_DOUBT_IN_NUMBERS = 100.0
#: How far (numbers) a parallel street's known point may be from the number to place it.
_GRID_NUMBER_SPAN = 150
#: How far (metres) a parallel street may run from the anchors' line to say where a number falls.
_GRID_REACH_M = 1500.0
#: How many of the nearest parallel streets are asked, how many must answer, and how far apart
#: (metres along the anchors' line) their answers may be.
_GRID_STREETS = 5
_GRID_MIN_STREETS = 2
#: Moving off a lone known number (:func:`_grid_shift`) needs only one parallel street: with
#: nothing else to go on, one street's step beats staying put or the axis median (dev holdout:
#: 45 more answers within 100 m, 7 fewer). Such a move is less sure (``grid_streets`` = 1).
_GRID_SHIFT_MIN_STREETS = 1
#: How far (numbers, beyond half the move) a parallel street's known points may be from the two
#: numbers for a move: wider than between anchors, since a move has no second anchor to check
#: it (dev holdout, 150 -> 300: 33 more answers within 100 m, 15 fewer).
_GRID_SHIFT_NUMBER_SPAN = 300
_GRID_MAX_SPREAD_M = 150.0
_M_PER_DEG_LON, _M_PER_DEG_LAT = 92_300.0, 110_900.0
#: Widest plausible distance (metres) between the two sides' address points of one street.
_MAX_ACROSS_M = 80.0
# Known points of other streets with the same prefix direction and numbers near :number, around
# the line between two anchors (the bbox is given by its corners): LA numbers E/W (and N/S)
# streets alike, so the same number on parallel streets lies across from ours.
_PARALLEL_POINTS = text(
    """
    SELECT street_key, house_number, ST_X(geom) AS lon, ST_Y(geom) AS lat
    FROM address_point
    WHERE geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)
      AND pre_dir = :pre_dir AND street_key <> :street_key
      AND house_number BETWEEN :number - :span AND :number + :span
      AND kind IN ('address', 'observed')
    LIMIT 400
    """
)


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
    by_grid: bool = False  # placed between its anchors by the parallel streets' numbers
    by_axis: bool = False  # placed past them by the axis-aligned grid median (rougher)
    anchor_m: float = 0.0  # metres from the estimate to the nearest known number it leans on
    known: int = 0  # known numbers of the street within the search span (its density)
    anchor_confidence: float = 1.0  # the least confidence of the known numbers it leans on
    grid_streets: int = 0  # how many parallel streets placed it (at least; 0: not by the grid)

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
    confidence: float = 1.0  # the point's own (an observed point's falls with weak evidence)


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
    known = [_Known(r.house_number, r.lon, r.lat, r.zip, r.kind == "blockface",
                    float(r.confidence if r.confidence is not None else 1.0)) for r in rows
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
            grid_t = None
            if high.number - low.number >= GRID_MIN_GAP and pre_dir:
                grid_t = _grid_fraction(conn, street_key, pre_dir, number, low, high)
            t = t if grid_t is None else grid_t
            lon, lat = low.lon + t * (high.lon - low.lon), low.lat + t * (high.lat - low.lat)
            if not same_side and (low.number - number) % 2 and (
                    high.number - number) % 2:
                lon, lat = _across_the_street(lon, lat, low, high, number, lows + highs)
            return NumberEstimate(lon, lat, "between", low.number, high.number, same_side,
                                  low.zip or high.zip, grid_t is not None,
                                  anchor_m=_nearest_m(lon, lat, (low, high)), known=len(known),
                                  anchor_confidence=min(low.confidence, high.confidence))
    for same_side in (True, False):
        for items in (_side(lows, number, same_side), _side(highs, number, same_side)):
            beyond = _extrapolate(items, number, zip_code)
            if beyond is None:
                continue
            grid = _grid_beyond(conn, street_key, pre_dir, number, items) if pre_dir else None
            if grid is None and pre_dir and abs(number - items[0].number) >= 30:
                # Far past the last known number, LA's axis-aligned grid beats a straight line.
                axis = estimate_from_grid(conn, street_key, number, pre_dir,
                                          (items[0].lon, items[0].lat),
                                          [(k.lon, k.lat) for k in items])
                if axis is not None:
                    return NumberEstimate(axis.lon, axis.lat, "beyond", beyond[2], beyond[3],
                                          same_side, beyond[4], True, True,
                                          _nearest_m(axis.lon, axis.lat, items[:1]), len(known),
                                          items[0].confidence)
            lon, lat, streets = grid or (*beyond[:2], 0)
            return NumberEstimate(lon, lat, "beyond", beyond[2], beyond[3], same_side,
                                  beyond[4], grid is not None,
                                  anchor_m=_nearest_m(lon, lat, items[:1]), known=len(known),
                                  anchor_confidence=items[0].confidence, grid_streets=streets)
    return None


def _grid_beyond(conn: Connection, street_key: str, pre_dir: str, number: int,
                 items: list[_Known]) -> tuple[float, float, int] | None:
    """Past the last known number, follow the street's line (its two nearest known numbers far
    enough apart) as far as the parallel streets' numbers say.

    :returns: ``(lon, lat, streets)``, streets being how many parallel streets placed it."""
    near = items[0]
    reach = abs(number - near.number)
    for far in items[1:6]:
        if abs(far.number - near.number) < 20 or not _plausible(near, far):
            continue
        fx, fy = _xy(near.lon, near.lat, far.lon, far.lat)
        length = math.hypot(fx, fy)
        if length < 10.0:
            continue
        t_max = 1.0 + (reach * _MAX_M_PER_NUMBER + 50.0) / length
        t = _grid_fraction(conn, street_key, pre_dir, number, far, near, 1.0, t_max)
        if t is None:
            break
        return (far.lon + t * (near.lon - far.lon), far.lat + t * (near.lat - far.lat),
                _GRID_MIN_STREETS)
    return _grid_shift(conn, street_key, pre_dir, number, near)


def _grid_shift(conn: Connection, street_key: str, pre_dir: str, number: int,
                near: _Known) -> tuple[float, float, int] | None:
    """One known number on the street and no line to follow: move from it as far and in the
    direction that the same two numbers lie apart on the nearest parallel streets (which agree).

    :returns: ``(lon, lat, streets)``, streets being how many parallel streets said the move.
    """
    reach_m = abs(number - near.number) * _MAX_M_PER_NUMBER + _GRID_REACH_M
    pad_lon, pad_lat = reach_m / _M_PER_DEG_LON, reach_m / _M_PER_DEG_LAT
    streets = _parallel_streets(
        conn, street_key, pre_dir, (number + near.number) // 2,
        abs(number - near.number) // 2 + _GRID_SHIFT_NUMBER_SPAN,
        (near.lon - pad_lon, near.lat - pad_lat, near.lon + pad_lon, near.lat + pad_lat))
    moves: list[tuple[float, float, float]] = []  # (street's distance, dx m, dy m)
    for members in streets.values():
        there, here = _place_on_street(members, number), _place_on_street(members, near.number)
        if there is None or here is None:
            continue
        away = math.hypot(*_xy(here[0], here[1], near.lon, near.lat))
        if away <= _GRID_REACH_M:
            moves.append((away, *_xy(there[0], there[1], here[0], here[1])))
    nearest = sorted(moves)[:_GRID_STREETS]
    if len(nearest) < _GRID_SHIFT_MIN_STREETS:
        return None
    xs, ys = sorted(m[1] for m in nearest), sorted(m[2] for m in nearest)
    if max(xs[-1] - xs[0], ys[-1] - ys[0]) > _GRID_MAX_SPREAD_M:
        return None  # the parallel streets disagree
    dx, dy = xs[len(xs) // 2], ys[len(ys) // 2]
    return near.lon + dx / _M_PER_DEG_LON, near.lat + dy / _M_PER_DEG_LAT, len(nearest)


def _parallel_streets(conn: Connection, street_key: str, pre_dir: str, number: int, span: int,
                      box: tuple[float, float, float, float]) -> dict[str, list]:
    """The known points of other streets with ``pre_dir`` and numbers within ``span`` of
    ``number`` inside ``box`` (``x0, y0, x1, y1``), by street (:data:`_PARALLEL_POINTS`)."""
    x0, y0, x1, y1 = box
    rows = conn.execute(_PARALLEL_POINTS, {
        "x0": x0, "x1": x1, "y0": y0, "y1": y1, "pre_dir": pre_dir, "street_key": street_key,
        "number": number, "span": span}).all()
    streets: dict[str, list] = {}
    for row in rows:
        streets.setdefault(row.street_key, []).append(row)
    return streets


def _across_the_street(lon: float, lat: float, low: _Known, high: _Known, number: int,
                       known: list[_Known]) -> tuple[float, float]:
    """Move a point placed between two anchors across the street to the number's own side.

    Both anchors are on the other side (other parity); a known number of the right parity on
    the street nearby says how far the two sides' addresses lie apart. Without one, the point
    stays where it is.
    """
    hx, hy = _xy(high.lon, high.lat, low.lon, low.lat)
    length = math.hypot(hx, hy)
    if length < 1.0:
        return lon, lat
    offsets = []
    for k in known:
        same_stretch = _plausible(k, low) or _plausible(k, high)
        if k.mid_block or (k.number - number) % 2 or not same_stretch:
            continue
        x, y = _xy(k.lon, k.lat, low.lon, low.lat)
        along = (x * hx + y * hy) / length
        if -300.0 <= along <= length + 300.0:  # the same stretch of the street
            offsets.append((x * hy - y * hx) / length)  # signed distance from the anchors' line
    if not offsets:
        return lon, lat
    offsets.sort()
    shift = offsets[len(offsets) // 2]
    if not 5.0 <= abs(shift) <= _MAX_ACROSS_M:
        return lon, lat
    # The unit normal (hy, -hx) / length points to the side a positive offset measures.
    return (lon + shift * hy / length / _M_PER_DEG_LON, lat - shift * hx / length / _M_PER_DEG_LAT)


def _grid_fraction(conn: Connection, street_key: str, pre_dir: str, number: int,
                   low: _Known, high: _Known, t_min: float = 0.0,
                   t_max: float = 1.0) -> float | None:
    """Where ``number`` falls on the line through two anchors, read off parallel streets.

    Each parallel street (same prefix direction) with known numbers close around ``number``
    places it; that place is projected onto the line low -> high. The nearest streets must
    agree (:data:`_GRID_MAX_SPREAD_M`); their median is used, clamped to ``[t_min, t_max]``
    (``[0, 1]`` between the anchors; beyond ``high`` when extrapolating).

    :returns: the fraction along low -> high, or None when the parallel streets do not say.
    """
    lon0, lat0 = low.lon, low.lat
    hx, hy = _xy(high.lon, high.lat, lon0, lat0)
    length2 = hx * hx + hy * hy
    if length2 < 1.0:
        return None
    ends_lon = (low.lon + t_min * (high.lon - low.lon), low.lon + t_max * (high.lon - low.lon))
    ends_lat = (low.lat + t_min * (high.lat - low.lat), low.lat + t_max * (high.lat - low.lat))
    pad_lon, pad_lat = _GRID_REACH_M / _M_PER_DEG_LON, _GRID_REACH_M / _M_PER_DEG_LAT
    streets = _parallel_streets(
        conn, street_key, pre_dir, number, _GRID_NUMBER_SPAN,
        (min(ends_lon) - pad_lon, min(ends_lat) - pad_lat,
         max(ends_lon) + pad_lon, max(ends_lat) + pad_lat))
    fractions: list[tuple[float, float]] = []
    for members in streets.values():
        spot = _place_on_street(members, number)
        if spot is None:
            continue
        x, y = _xy(spot[0], spot[1], lon0, lat0)
        t = (x * hx + y * hy) / length2
        off_line = abs(x * hy - y * hx) / math.sqrt(length2)
        if t_min - 0.1 <= t <= t_max + 0.1 and off_line <= _GRID_REACH_M:
            fractions.append((off_line, t))
    # The nearest parallel streets say it best (far ones drift with the grid's own bends).
    nearest = sorted(t for _, t in sorted(fractions)[:_GRID_STREETS])
    if len(nearest) < _GRID_MIN_STREETS:
        return None
    if (nearest[-1] - nearest[0]) * math.sqrt(length2) > _GRID_MAX_SPREAD_M:
        return None  # the parallel streets disagree: the grid is not regular here
    middle = len(nearest) // 2
    t = nearest[middle] if len(nearest) % 2 else (nearest[middle - 1] + nearest[middle]) / 2
    return min(t_max, max(t_min, t))


def _place_on_street(members: list, number: int) -> tuple[float, float] | None:
    """The number's place on one parallel street: between its nearest known numbers either side
    (both within the span and plausibly one street), or a known number within 10 of it."""
    below = [m for m in members if m.house_number <= number]
    above = [m for m in members if m.house_number >= number]
    lo = max(below, key=lambda m: m.house_number, default=None)
    hi = min(above, key=lambda m: m.house_number, default=None)
    if lo is not None and hi is not None:
        if hi.house_number == lo.house_number:
            return lo.lon, lo.lat
        a = _Known(lo.house_number, lo.lon, lo.lat, None)
        b = _Known(hi.house_number, hi.lon, hi.lat, None)
        if _plausible(a, b):
            t = (number - lo.house_number) / (hi.house_number - lo.house_number)
            return lo.lon + t * (hi.lon - lo.lon), lo.lat + t * (hi.lat - lo.lat)
    near = min(members, key=lambda m: abs(m.house_number - number))
    if abs(near.house_number - number) <= 10:
        return near.lon, near.lat
    return None


def _nearest_m(lon: float, lat: float, anchors: Sequence[_Known]) -> float:
    """Metres from a point to the nearest of some known numbers."""
    return min(math.hypot(*_xy(lon, lat, k.lon, k.lat)) for k in anchors)


def _xy(lon: float, lat: float, lon0: float, lat0: float) -> tuple[float, float]:
    return (lon - lon0) * _M_PER_DEG_LON, (lat - lat0) * _M_PER_DEG_LAT


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
            cost += _DOUBT_IN_NUMBERS * (2.0 - low.confidence - high.confidence)
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
                       street_points: Sequence[tuple[float, float]] = (),
                       anchor_number: int | None = None) -> NumberEstimate | None:
    """Use LA's address grid: other streets with the same prefix say where this number falls.

    West/East-prefixed streets are numbered along longitude and North/South-prefixed ones along
    latitude, consistently across neighbouring parallel streets. The other coordinate comes from
    the street's own known points (nearest along the axis).

    :param anchor: a known point of the street (where to look for parallel streets).
    :param street_points: known points of the street, to place the number across the axis.
    :param anchor_number: the anchor's house number: when given, the number is first moved from
        the anchor as far as the same two numbers lie apart on the nearest parallel streets.
    :returns: an estimate with method ``grid``, or None without a prefix or enough agreement.
    """
    if pre_dir not in ("N", "S", "E", "W") or anchor is None:
        return None
    if anchor_number is not None:
        moved = _grid_shift(conn, street_key, pre_dir, number,
                            _Known(anchor_number, anchor[0], anchor[1], None))
        if moved is not None:
            return NumberEstimate(moved[0], moved[1], "grid", anchor_number, anchor_number,
                                  False, None, True, grid_streets=moved[2])
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
