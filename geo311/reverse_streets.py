"""Which street is a pin on, when the only street knowledge is the addresses along it.

Most of the City has no centerline in our data, but it has many known addresses. Sorted by house
number, the addresses of one street draw that street's line; the pin belongs to the street whose
line passes closest, not to the single nearest address (which at a corner is often on the cross
street).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from geo311.db import load_sql
from geo311.snap import local_xy

__all__ = ["StreetGuess", "street_from_addresses"]

_BOX_DEG = 0.0035  # about 390 m north-south, 320 m east-west
_NEAREST = 250  # enough to draw every street near the pin, even on dense blocks
#: Extra metres per metre a pin lies past the end of a street's address line (see
#: _distance_and_number); chosen on the 2018 dev holdout (scripts/eval_locate.py --dev
#: --reverse-only): 0 -> 0.5 -> 1.5 named 5,540 -> 5,543 -> 5,544 of 8,898 streets.
_PAST_END = 1.5
#: Extra metres for a street known by one address only (it draws no line): none, a lone address
#: beside the pin is as good a guide as a line. An observed range is a rougher line than the
#: addresses themselves: it must pass :data:`_RANGE_EXTRA_M` metres closer, plus 1 m per
#: :data:`_RANGE_M_PER_EXTRA_M` of its length. 2018 dev holdout (--reverse-only), lone address
#: 10 -> 0 m and range 2 -> 4 m: streets named 5,698 -> 5,728 of 8,898 (lone address at 5 or 0 m
#: alone: 5,710 or 5,720; range at 5, 6, 8 m: 5,726, 5,731, 5,739, each losing a Koreatown street).
_ONE_ADDRESS_M = 0.0
_RANGE_EXTRA_M = 4.0
_RANGE_M_PER_EXTRA_M = 200.0


@dataclass(frozen=True)
class StreetGuess:
    """The street a pin is on, from the line of its known addresses, with the number there."""

    street_key: str
    street: str  # as printed: "W SLAUSON AVE"
    distance_m: float  # pin to the street's address line
    house_number: int | None
    zip: str | None
    nearest_text: str
    nearest_lon: float
    nearest_lat: float
    nearest_m: float
    points: int


def street_from_addresses(conn: Connection, lon: float, lat: float) -> StreetGuess | None:
    """Guess the street under a pin from the lines its nearby known addresses draw.

    :param conn: database connection.
    :param lon: pin longitude.
    :param lat: pin latitude.
    :returns: the best guess, or None when no address and no observed range is near.
    """
    rows = conn.execute(load_sql("addresses_near_point"),
                        {"lon": lon, "lat": lat, "box_deg": _BOX_DEG, "k": _NEAREST}).all()
    origin = local_xy(lon, lat, lat)
    streets: dict[tuple[str, str | None], list] = defaultdict(list)
    for row in rows:
        streets[(row.street_key, row.pre_dir)].append(row)
    best: tuple[float, str, StreetGuess] | None = None
    for (key, pre_dir), members in streets.items():
        members.sort(key=lambda r: (r.house_number, r.lon, r.lat))
        xy = [_xy(r, origin, lat) for r in members]
        distance, number = _distance_and_number(xy, [r.house_number for r in members])
        if len(members) == 1:
            distance += _ONE_ADDRESS_M
        nearest_index = min(range(len(xy)), key=lambda i: math.hypot(*xy[i]))
        near = members[nearest_index]
        guess = StreetGuess(
            street_key=key,
            street=" ".join(p for p in (pre_dir, near.name, near.suffix, near.post_dir) if p),
            distance_m=distance, house_number=number, zip=near.zip,
            nearest_text=" ".join(p for p in (str(near.house_number), near.number_suffix, pre_dir,
                                              near.name, near.suffix, near.post_dir) if p),
            nearest_lon=near.lon, nearest_lat=near.lat,
            nearest_m=math.hypot(*xy[nearest_index]), points=len(members),
        )
        if best is None or (distance, guess.street) < best[:2]:  # ties by name: one answer
            best = (distance, guess.street, guess)
    # Read even when no address is in the box: a range joins numbers known farther off, so it
    # can pass near a pin far from every known address (hillside and fringe streets).
    for guess in _range_guesses(conn, lon, lat):
        if best is None or (guess.distance_m, guess.street) < best[:2]:
            best = (guess.distance_m, guess.street, guess)
    return None if best is None else best[2]


def _range_guesses(conn: Connection, lon: float, lat: float) -> list[StreetGuess]:
    """Streets from the observed ranges near the pin; a range must pass closer than an address
    line to win, and a long range closer still (see :data:`_RANGE_EXTRA_M`)."""
    out = []
    for r in conn.execute(load_sql("ranges_near_point"), {"lon": lon, "lat": lat, "k": 6}):
        number = int(round(r.from_number + r.fraction * (r.to_number - r.from_number)))
        street = " ".join(p for p in (r.pre_dir, r.name, r.suffix) if p)
        out.append(StreetGuess(
            street_key=r.street_key, street=street,
            distance_m=(float(r.distance_m) + float(r.length_m) / _RANGE_M_PER_EXTRA_M
                        + _RANGE_EXTRA_M),
            house_number=number, zip=r.zip, nearest_text=f"{number} {street}",
            nearest_lon=lon, nearest_lat=lat, nearest_m=float("inf"), points=2))
    return out


def _xy(row, origin: tuple[float, float], lat: float) -> tuple[float, float]:
    x, y = local_xy(row.lon, row.lat, lat)
    return x - origin[0], y - origin[1]


def _distance_and_number(xy: list[tuple[float, float]],
                         numbers: list[int]) -> tuple[float, int | None]:
    """Distance from the origin (the pin) to the polyline, and the house number interpolated there.

    A pin that lies past either end of the line (beyond the street's last known number) is
    farther from being on that street than its distance says: at a corner the cross street's
    line ends right beside the corner lots of the street meant. Each metre past the end counts
    :data:`_PAST_END` metres more.
    """
    if len(xy) == 1:
        return math.hypot(*xy[0]), numbers[0]
    best: tuple[float, int | None] = (math.inf, None)
    last = len(xy) - 2
    for i, ((ax, ay), (bx, by), na, nb) in enumerate(
            zip(xy, xy[1:], numbers, numbers[1:], strict=False)):
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        raw = 0.0 if length2 == 0 else -(ax * dx + ay * dy) / length2
        t = max(0.0, min(1.0, raw))
        distance = math.hypot(ax + t * dx, ay + t * dy)
        length = math.sqrt(length2)
        if i == 0 and raw < 0:
            distance += _PAST_END * -raw * length
        if i == last and raw > 1:
            distance += _PAST_END * (raw - 1) * length
        if distance < best[0]:
            number = int(round(na + t * (nb - na)))
            parity_of = na if t < 0.5 else nb
            if (number - parity_of) % 2:
                number += 1
            best = (distance, number)
    return best
