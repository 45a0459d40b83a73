"""Locate: a pin or typed text becomes one self-explaining answer (address, segment, areas, jurisdiction).

Forward (text) and reverse (pin) share :class:`LocateResult`. The raw pin is kept untouched beside
the located point; areas are decided for the located point as of the request date; a pin near a
district line lists both districts and is decided by the side of the street when it can be.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy.engine import Connection

from geo311.address_parse import parse_query
from geo311.address_words import NAME_DIRECTION_WORDS, USPS_SUFFIXES
from geo311.boundaries import areas_at_point, today_in_la
from geo311.db import driver_cursor, load_driver_sql, load_sql
from geo311.errors import BadRequest
from geo311.geocode import geocode_parsed
from geo311.jurisdiction import decide_jurisdiction
from geo311.locate_describe import describe
from geo311.locate_result import (
    AddressInfo,
    Ambiguity,
    Candidate,
    Jurisdiction,
    LocateResult,
    Pin,
    SegmentInfo,
)
from geo311.reverse_streets import StreetGuess, street_from_addresses
from geo311.snap import (
    NearbyAddress,
    SnapResult,
    addresses_from_rows,
    point_at_fraction,
    rank_by_distance,
    snap_from_row,
)

__all__ = ["locate_point", "locate_text", "MAX_TEXT_CHARS", "DISTRICT_LINE_M"]

#: Longest text accepted (longer input is a 400, not a truncated guess).
MAX_TEXT_CHARS = 500
#: A pin within this many metres of another district is said to be ambiguous.
DISTRICT_LINE_M = 12.0
#: Types whose ambiguity is worth telling a resident about.
_AMBIGUITY_TYPES = ("CITY", "CD", "NC", "LAPD", "UNINCORPORATED", "COUNTY_CITY")
_ADDRESS_POINT_M = 40.0
#: A known address this close to the pin is the answer outright.
_UNDER_PIN_M = 12.0
#: A street whose address line passes this close to the pin can be the pin's street.
_ADDRESS_LINE_M = 90.0
#: With no street segment near, the closest address line names the street more often than the
#: nearest single address does however far it passes (2018 dev holdout: 90 m -> 400 m, 5,544 ->
#: 5,566 of 8,898 streets named; wider adds nothing, the addresses are read from a box about
#: 400 m across).
_ADDRESS_LINE_ALONE_M = 400.0
#: A segment with no address range this close to the pin, and :data:`_SEGMENT_LEAD_M` closer
#: than any known address, names the pin's street (2018 dev holdout, --reverse-only: streets
#: named 62.6% -> 64.0% of 8,898 at 30 m and 10 m; before the suffix naming of _street_answer,
#: 63.7% at 20 m and 63.9% at both 30 m and 45 m).
_SEGMENT_UNDER_PIN_M = 30.0
_SEGMENT_LEAD_M = 10.0
#: Nearby addresses farther than this are not read as the pin's address.
_NEARBY_MAX_M = 150.0
#: A typed place snaps to a street only this close.
_TEXT_SNAP_M = 60.0


class _NearArea(NamedTuple):
    """An area within :data:`DISTRICT_LINE_M` of a point (``distance_m`` 0 when covering it)."""

    type_code: str
    vintage: str
    code: str
    name: str
    distance_m: float


class _Segments:
    """The street segments near a point, nearest first. Each one's projection, side and number are
    worked out only when it is used: an answer uses one or two of the six read."""

    def __init__(self, rows: list[Mapping[Any, Any]], lon: float, lat: float) -> None:
        self._rows = rows
        self._lon, self._lat = lon, lat
        self._built: dict[int, SnapResult] = {}

    def at(self, index: int) -> SnapResult:
        """The snap on the ``index``-th nearest segment."""
        if index not in self._built:
            self._built[index] = snap_from_row(self._rows[index], self._lon, self._lat)
        return self._built[index]

    @property
    def nearest(self) -> SnapResult | None:
        """The snap on the nearest segment, or None when no street is near."""
        return self.at(0) if self._rows else None

    def for_address(self, address: AddressInfo | None) -> SnapResult | None:
        """The nearest segment, preferring one on the answer's own street near a corner."""
        if not self._rows:
            return None
        if address and address.street:
            wanted = address.street.upper()
            near_m = float(self._rows[0]["distance_m"]) + 15
            for index, row in enumerate(self._rows):
                if float(row["distance_m"]) <= near_m and row["full_name"].upper() == wanted:
                    return self.at(index)
        return self.at(0)


class _AtPoint(NamedTuple):
    """What the database knows near one point, read in one statement."""

    segments: _Segments
    nearby: list[NearbyAddress]
    areas: list[_NearArea]


def locate_point(conn: Connection, lon: float, lat: float, *, on: date | None = None,
                 accuracy_m: float | None = None, service_code: str | None = None,
                 lang: str = "en", max_snap_m: float = 250.0) -> LocateResult:
    """Reverse: what is at this pin.

    :param conn: database connection.
    :param lon: pin longitude (WGS84).
    :param lat: pin latitude (WGS84).
    :param on: the date whose districts apply (default today in LA).
    :param accuracy_m: the device's reported accuracy; a poor fix lowers the score.
    :param service_code: when given, the routed department is added.
    :param lang: ``en`` or ``es`` for the sentence in ``description``.
    :returns: the answer; ``pin`` holds the input unchanged.
    """
    on = on or today_in_la()
    pin = Pin(lon, lat, accuracy_m)
    here = _read_point(conn, lon, lat, on, max_snap_m=max_snap_m, with_addresses=True)
    reasons: list[str] = []
    ambiguities: list[Ambiguity] = []
    address, precision, score, spot = _reverse_address(conn, lon, lat, here.segments.nearest,
                                                       here.nearby, reasons, ambiguities)
    segment_snap = here.segments.for_address(address)
    location = spot or (lon, lat)
    if accuracy_m is not None and accuracy_m > 30:
        reasons.append("low_gps_accuracy")
        score -= min(30, int(accuracy_m / 10))
    return _finish(conn, query=None, pin=pin, location=location, precision=precision,
                   score=score, reasons=reasons, address=address, snap=segment_snap,
                   ambiguities=ambiguities, candidates=[], on=on, service_code=service_code,
                   lang=lang, near_areas=here.areas)


def locate_text(conn: Connection, query: str, *, on: date | None = None,
                service_code: str | None = None, lang: str = "en") -> LocateResult:
    """Forward: where is what the resident typed (address, intersection, block, street, place).

    :param conn: database connection.
    :param query: the text.
    :param on: the date whose districts apply.
    :param service_code: when given, the routed department is added.
    :param lang: ``en`` or ``es``.
    :returns: the answer; ``score`` 0 and ``precision`` ``none`` when nothing matches.
    :raises BadRequest: empty text or text longer than :data:`MAX_TEXT_CHARS`.
    """
    if query is None or not query.strip():
        raise BadRequest("parameter 'q' is empty: type an address, intersection or place")
    if len(query) > MAX_TEXT_CHARS:
        raise BadRequest(f"parameter 'q' is longer than {MAX_TEXT_CHARS} characters")
    on = on or today_in_la()
    parsed = parse_query(query)
    candidates = geocode_parsed(conn, parsed)
    if not candidates:
        return _no_match(query, on, ["no_match"] + list(parsed.notes[:3]))
    best = candidates[0]
    ambiguities = _text_ambiguities(candidates)
    here = _read_point(conn, best.lon, best.lat, on, max_snap_m=_TEXT_SNAP_M, with_addresses=False)
    return _finish(conn, query=query, pin=None, location=(best.lon, best.lat),
                   precision=best.precision, score=best.score, reasons=list(best.reasons),
                   address=best.address, snap=here.segments.for_address(best.address),
                   ambiguities=ambiguities, candidates=candidates[:10], on=on,
                   service_code=service_code, lang=lang, near_areas=here.areas)


def _read_point(conn: Connection, lon: float, lat: float, on: date, *, max_snap_m: float,
                with_addresses: bool) -> _AtPoint:
    """The nearest segments, nearest addresses and nearby areas of a point in one round trip.

    One statement (``locate_at_point.sql``) straight on the driver connection, no SQL compiled per
    call. It is not prepared by force: psycopg forgets its prepared statements at every rollback
    (with a ``DEALLOCATE ALL`` round trip), and a web request's connection is rolled back when it
    goes back to the pool, so a forced prepare would cost two extra round trips per request and
    never reach a generic plan. A long session (batch, ``geo311 geocode``) gets it prepared by
    psycopg's own threshold.
    """
    with driver_cursor(conn) as cursor:
        cursor.execute(load_driver_sql("locate_at_point"), {
            "lon": lon, "lat": lat, "with_addresses": with_addresses, "on": on,
            "radius_m": DISTRICT_LINE_M})
        row = cursor.fetchone()
    assert row is not None  # an aggregate-only SELECT always returns its one row
    segments, addresses, areas = row
    return _AtPoint(
        segments=_Segments(rank_by_distance(segments, max_snap_m), lon, lat),
        nearby=addresses_from_rows(addresses, _NEARBY_MAX_M),
        areas=[_NearArea(a["type_code"], a["vintage"], a["code"], a["name"],
                         float(a["distance_m"])) for a in areas],
    )


# ---------------------------------------------------------------- reverse helpers
def _reverse_address(conn: Connection, lon: float, lat: float, snap: SnapResult | None,
                     nearby: list[NearbyAddress], reasons: list[str],
                     ambiguities: list[Ambiguity]):
    """Pick the address for a pin.

    A known address right under the pin wins. Otherwise the street is the one whose line (its
    segment, or the line its known addresses draw) passes closest to the pin, and the number is
    read off that street: from the segment's range, or between the street's known addresses.
    """
    if nearby and nearby[0].distance_m <= _UNDER_PIN_M:
        return _nearest_point_answer(conn, nearby, reasons, ambiguities)
    guess = street_from_addresses(conn, lon, lat)
    if guess is not None and (
            (snap is None and guess.distance_m <= _ADDRESS_LINE_ALONE_M)
            or (guess.distance_m <= _ADDRESS_LINE_M and snap is not None and (
                guess.street_key == snap.street_key or guess.distance_m + 5 < snap.distance_m))):
        return _address_from_guess(guess, reasons)
    if snap is not None and snap.house_number and snap.side:
        reasons.append("house_number_interpolated")
        zip_code = snap.zip
        text_ = f"{snap.house_number} {snap.street}" + (f", {zip_code}" if zip_code else "")
        address = AddressInfo(str(snap.house_number), snap.street, zip_code, text_,
                              "street_segment", snap.distance_m)
        return address, "interpolated_range", 88 - int(snap.distance_m / 3), (
            snap.snapped_lon, snap.snapped_lat)
    if snap is not None and _segment_nearer_than_addresses(snap, nearby):
        return _street_answer(snap, nearby, reasons)
    if nearby and nearby[0].distance_m <= _ADDRESS_POINT_M:
        return _nearest_point_answer(conn, nearby, reasons, ambiguities)
    if nearby:
        best = nearby[0]
        reasons.append("nearest_address_far")
        score = max(20, 70 - int(best.distance_m / 3))
        named = _city_name(conn, best, nearby, reasons)
        return _address_from_point(best, named), "address_point", score, None
    if snap is not None:
        return _street_answer(snap, nearby, reasons)
    reasons.append("no_street_or_address_nearby")
    return None, "pin", 15, None


def _segment_nearer_than_addresses(snap: SnapResult, nearby: list[NearbyAddress]) -> bool:
    """Whether a street segment without an address range (OpenStreetMap, the High Injury Network)
    names the pin's street better than the nearest known address: it passes within
    :data:`_SEGMENT_UNDER_PIN_M` of the pin and :data:`_SEGMENT_LEAD_M` closer than any address
    (the nearest address a block away is as often on the cross street). An unnamed segment
    names nothing."""
    return bool(snap.street.strip()) and snap.distance_m <= _SEGMENT_UNDER_PIN_M and (
        not nearby or snap.distance_m + _SEGMENT_LEAD_M < nearby[0].distance_m)


def _street_answer(snap: SnapResult, nearby: list[NearbyAddress], reasons: list[str]):
    """The segment's street, named as a nearby known address of it names it when the segment's
    source leaves the suffix out (the High Injury Network's TEMPLE is TEMPLE ST)."""
    reasons.append("street_only")
    street = next((a.street for a in nearby if a.street_key != snap.street_key
                   and _same_street(a.street_key, snap.street_key)), snap.street)
    address = AddressInfo(None, street, snap.zip, street, "street_segment", snap.distance_m)
    return address, "street", max(15, 55 - int(snap.distance_m / 5)), None


def _nearest_point_answer(conn: Connection, nearby: list[NearbyAddress], reasons: list[str],
                          ambiguities: list[Ambiguity]):
    best = _preferred_name(nearby)
    if best.kind == "observed":
        reasons.append("observed_address")
    for other in nearby:
        if other is best or _same_spot(other, best):
            continue  # another name of the same address point (PCH = Lincoln Blvd = SR 1)
        if other.text != best.text and other.distance_m - best.distance_m <= 2.0:
            ambiguities.append(Ambiguity(
                kind="equidistant_address", name=other.text, distance_m=other.distance_m,
                why=f"{other.text} is as close to the pin as {best.text}"))
    if ambiguities:
        reasons.append("equidistant_addresses")
    score = 100 - int(best.distance_m) - (5 if best.kind == "observed" else 0)
    score -= 10 if ambiguities else 0
    address = _address_from_point(best, _city_name(conn, best, nearby, reasons))
    return address, "address_point", score, (best.lon, best.lat)


_DIRECTION_WORDS = frozenset(NAME_DIRECTION_WORDS.values())
#: How far (metres) from the layer's address a City-observed address of the same street may be
#: for its name to be preferred.
_CITY_NAME_M = 120.0
#: How far around an address-layer point the City's addresses are counted to choose between a
#: direction written apart and one spelled into the street's name.
_CITY_SPELLING_M = 300.0


def _same_street(a: str, b: str) -> bool:
    """Two street keys that name one street: equal but for a leading direction word, or for a
    suffix one of them lacks (``SOUTH VENICE BLVD`` and ``VENICE BLVD``; ``BROADWAY AVE`` and
    ``BROADWAY``; not ``FLOWER AVE`` and ``FLOWER ST``)."""
    words_a, words_b = _without_direction_word(a.split()), _without_direction_word(b.split())
    if words_a == words_b:
        return True
    short, long = sorted((words_a, words_b), key=len)
    return len(long) == len(short) + 1 and long[:-1] == short and long[-1] in USPS_SUFFIXES


def _without_direction_word(words: list[str]) -> list[str]:
    return words[1:] if len(words) > 1 and words[0] in _DIRECTION_WORDS else words


def _city_name(conn: Connection, best: NearbyAddress, nearby: list[NearbyAddress],
               reasons: list[str]) -> str | None:
    """The City's own name for the street of an address-layer point, when they differ.

    The County's address copy writes some streets otherwise than the City does (BROADWAY AVE for
    the City's BROADWAY, S VENICE BLVD for E SOUTH VENICE BLVD). An address the City geocoded
    (observed in 311) on the same street nearby gives the name residents and the City use; for a
    direction written apart, the spelling most of the City's addresses around use decides.
    """
    if best.kind == "observed":
        return None
    for other in nearby:
        if (other.kind == "observed" and other.street_key != best.street_key
                and other.distance_m - best.distance_m <= _CITY_NAME_M
                and _same_street(other.street_key, best.street_key)):
            reasons.append("street_named_as_the_city_does")
            return other.street
    worded = _direction_spelled_in(conn, best)
    if worded is not None:
        reasons.append("street_named_as_the_city_does")
    return worded


def _direction_spelled_in(conn: Connection, best: NearbyAddress) -> str | None:
    """The City's name for ``best``'s street when it spells the layer's direction into the name
    (S VENICE BLVD -> SOUTH VENICE BLVD) and most City addresses within :data:`_CITY_SPELLING_M`
    write it so; None otherwise (N MAIN ST stays N MAIN ST where the City mostly writes that)."""
    word = NAME_DIRECTION_WORDS.get(best.pre_dir or "")
    if word is None:
        return None
    rows = conn.execute(load_sql("city_spelling_near"), {
        "lon": best.lon, "lat": best.lat, "radius_m": _CITY_SPELLING_M, "key": best.street_key,
        "pre_dir": best.pre_dir, "worded_key": f"{word} {best.street_key}"}).all()
    counts = {row.street_key: (row.n, row.street) for row in rows}
    worded_n, worded_street = counts.get(f"{word} {best.street_key}", (0, None))
    if worded_n > counts.get(best.street_key, (0, None))[0]:
        return worded_street
    return None


_ROUTE_ALIAS = re.compile(r"^(?:[NSEW] )?(?:PCH|HIGHWAY|ROUTE|SR|STATE ROUTE|STATE HWY|CA)\b")


def _preferred_name(nearby: list[NearbyAddress]) -> NearbyAddress:
    """Of the names one address point carries, the City's own (observed in 311) and not a route alias."""
    first = nearby[0]
    same = [a for a in nearby if _same_spot(a, first)]
    return min(same, key=lambda a: (a.kind != "observed", bool(_ROUTE_ALIAS.match(a.street)),
                                    a.distance_m))


def _same_spot(a: NearbyAddress, b: NearbyAddress) -> bool:
    return abs(a.distance_m - b.distance_m) < 0.5 and a.house_number == b.house_number


def _address_from_guess(guess: StreetGuess, reasons: list[str]):
    """The street read from the line of its known addresses, and the number there."""
    reasons.append("street_from_address_line")
    if guess.nearest_m <= _UNDER_PIN_M * 1.5:
        address = AddressInfo(guess.nearest_text.split(" ")[0], guess.street, guess.zip,
                              guess.nearest_text + (f", {guess.zip}" if guess.zip else ""),
                              "address_points", guess.nearest_m)
        return address, "address_point", 90 - int(guess.nearest_m), (
            guess.nearest_lon, guess.nearest_lat)
    reasons.append("house_number_interpolated")
    number = None if guess.house_number is None else str(guess.house_number)
    text_ = f"{number} {guess.street}" if number else guess.street
    address = AddressInfo(number, guess.street, guess.zip,
                          text_ + (f", {guess.zip}" if guess.zip else ""), "address_points",
                          guess.distance_m)
    return address, "interpolated_points", max(30, 80 - int(guess.distance_m)), None


def _address_from_point(point: NearbyAddress, street: str | None = None) -> AddressInfo:
    number = None if point.house_number is None else str(point.house_number) + (
        f" {point.number_suffix}" if point.number_suffix else "")
    if street is not None:  # the number of one point, the street as the City names it
        text_ = " ".join(p for p in (number, street) if p) + (
            f", {point.zip}" if point.zip else "")
        return AddressInfo(number, street, point.zip, text_, point.source, point.distance_m)
    return AddressInfo(number, point.street, point.zip, point.text, point.source, point.distance_m)


# ---------------------------------------------------------------- shared tail
def _finish(conn: Connection, *, query: str | None, pin: Pin | None,
            location: tuple[float, float], precision: str, score: int, reasons: list[str],
            address: AddressInfo | None, snap: SnapResult | None,
            ambiguities: list[Ambiguity], candidates: list[Candidate], on: date,
            service_code: str | None, lang: str, near_areas: list[_NearArea]) -> LocateResult:
    areas, area_ambiguities = _decide_areas(conn, near_areas, snap, on)
    ambiguities = ambiguities + area_ambiguities
    if area_ambiguities:
        reasons.append("near_district_line")
    covering: dict[str, list[dict[str, str]]] = defaultdict(list)
    for area in areas:
        covering[area["type"]].append(area)
    if not areas:
        return _no_match(query, on, reasons + ["outside_known_area"], pin=pin, location=location)
    jurisdiction = decide_jurisdiction(conn, location[0], location[1], covering, lang)
    if not jurisdiction.inside_city:
        reasons.append("outside_city")
    department = _department(conn, service_code, areas, jurisdiction)
    segment = None
    if snap is not None:
        segment = SegmentInfo(snap.segment_id, snap.street, snap.from_street, snap.to_street,
                              snap.side, snap.side_compass, snap.distance_m, snap.source)
    result = LocateResult(
        query=query, pin=pin, lon=location[0], lat=location[1], precision=precision,
        score=int(max(0, min(100, score))), reasons=tuple(dict.fromkeys(reasons)),
        address=address, segment=segment, areas=tuple(areas), jurisdiction=jurisdiction,
        ambiguities=tuple(ambiguities), candidates=tuple(candidates), date=on.isoformat(),
        department=department,
    )
    return _with_description(result, lang)


def _decide_areas(conn: Connection, rows: list[_NearArea], snap: SnapResult | None,
                  on: date) -> tuple[list[dict[str, str]], list[Ambiguity]]:
    """One area per type for the point; near a line, list the neighbours and decide by blockface."""
    by_type: dict[str, list[_NearArea]] = defaultdict(list)
    for row in rows:
        by_type[row.type_code].append(row)
    needs_decision = any(len(hits) > 1 for hits in by_type.values())
    blockface = _blockface_areas(conn, snap, on) if snap and needs_decision else {}
    chosen: list[dict[str, str]] = []
    ambiguities: list[Ambiguity] = []
    for type_code, hits in sorted(by_type.items()):
        covering = [h for h in hits if h.distance_m == 0]
        if not covering and type_code in ("CITY", "COUNTY_CITY", "UNINCORPORATED"):
            continue  # near, but not in: jurisdiction is decided by what covers the point
        if not covering:
            covering = hits[:1]
        pick, why = covering[0], "the location lies inside it"
        if len(hits) > 1 and type_code in blockface:
            by_code = {h.code: h for h in hits}
            if blockface[type_code] in by_code:
                pick, why = by_code[blockface[type_code]], "decided by the side of the street"
        chosen.append({"type": type_code, "code": pick.code, "name": pick.name,
                       "vintage": pick.vintage})
        if len(hits) > 1 and type_code in _AMBIGUITY_TYPES:
            for hit in hits:
                ambiguities.append(Ambiguity(
                    kind="district_line", type=type_code, code=hit.code, name=hit.name,
                    distance_m=float(hit.distance_m), chosen=hit.code == pick.code,
                    why=why if hit.code == pick.code else
                    f"within {DISTRICT_LINE_M:.0f} m of the location"))
    return chosen, ambiguities


def _blockface_areas(conn: Connection, snap: SnapResult, on: date) -> dict[str, str]:
    """Areas at a point on the pin's side of the street, a house-front away from the centreline."""
    if snap.side is None:
        return {}
    lon, lat = point_at_fraction(snap.line, snap.fraction, snap.side, 10.0)
    return {h.type: h.code for h in areas_at_point(conn, lon, lat, on=on, types=_AMBIGUITY_TYPES)}


def _department(conn: Connection, service_code: str | None, areas: list[dict[str, str]],
                jurisdiction: Jurisdiction) -> dict | None:
    if not service_code:
        return None
    from geo311.catalogue import route_department

    code = route_department(conn, service_code, areas)
    if not jurisdiction.inside_city:
        return {"code": None, "name": None, "routed_code": code,
                "note": f"not a City request: {jurisdiction.responsible} is responsible"}
    row = conn.execute(load_sql("department_name"), {"code": code}).first()
    if row is None:
        return {"code": code, "name": code}
    return {"code": row.code, "name": row.name_en, "name_es": row.name_es,
            "contact": row.contact or {}}


def _text_ambiguities(candidates: list[Candidate]) -> list[Ambiguity]:
    best = candidates[0]
    out = []
    for other in candidates[1:4]:
        if other.score >= best.score - 2 and _far_apart(best, other):
            out.append(Ambiguity(kind="text", name=other.label, why=(
                f"'{other.label}' matches the text about as well ({other.score} vs {best.score})")))
    return out


def _far_apart(a: Candidate, b: Candidate) -> bool:
    return abs(a.lon - b.lon) > 0.002 or abs(a.lat - b.lat) > 0.002


def _no_match(query: str | None, on: date, reasons: list[str], pin: Pin | None = None,
              location: tuple[float, float] | None = None) -> LocateResult:
    result = LocateResult(
        query=query, pin=pin, lon=None, lat=None, precision="none", score=0,
        reasons=tuple(dict.fromkeys(reasons)), address=None, segment=None, areas=(),
        jurisdiction=None, ambiguities=(), candidates=(), date=on.isoformat(),
    )
    return _with_description(result, "en")


def _with_description(result: LocateResult, lang: str) -> LocateResult:
    from dataclasses import replace

    return replace(result, description=describe(result, lang))
