"""Address text to ranked candidates: street matching (exact, suffix, fuzzy) and the precision ladder."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import shapely
from sqlalchemy import text
from sqlalchemy.engine import Connection

from geo311.address_parse import ParsedQuery, StreetRef, street_key
from geo311.address_words import NAME_DIRECTION_WORDS, ordinal
from geo311.db import load_sql
from geo311.interpolate import NumberEstimate, estimate_from_grid, estimate_number_position
from geo311.locate_result import AddressInfo, Candidate
from geo311.locate_score import MODEL_PRECISIONS, WEAK_OBSERVATION, model_score, score_features
from geo311.snap import point_at_fraction

__all__ = ["StreetMatch", "match_streets", "geocode_parsed", "refresh_street_names"]

#: Base score per precision, scaled by how sure each rung is and lowered by its reasons: the rung
#: score that ranks the candidates (held-out shares within 30 m of the City's own geocode,
#: scripts/eval_locate.py). The published score is the model's (geo311.locate_score), which takes
#: the rung score as one of its features.
BASE_SCORE = {
    "address_point": 100,
    "interpolated_range": 72,
    "interpolated_points": 88,
    "intersection": 90,
    "street_block": 25,
    "place": 60,
    "street": 8,
    "area_centroid": 5,
}
#: Reasons that scale the score down (rather than subtract), so candidates of one fuzzy match keep
#: their order: a misspelled street is rarely the street meant (held-out share within 30 m ~0), a
#: place that only resembles the name typed rarely the place meant, and one whose name only
#: contains it is one reading among others.
FACTOR = {"fuzzy_street_name": 0.25, "fuzzy_place_name": 0.25, "partial_place_name": 0.5}
PENALTY = {
    "street_suffix_missing": 12,
    "direction_missing": 6,
    "direction_mismatch": 40,
    "zip_mismatch": 10,
    "observed_address": 4,
    "intersection_from_addresses": 40,
    "hundred_block_only": 13,
    "one_cross_street_only": 15,
    "house_number_not_in_range": 20,
    "far_from_street_range": 50,
}
_ORDINAL = re.compile(r"(\d+)(?:ST|ND|RD|TH)\b")
#: Two numbered streets either side of an unknown one are at most this far apart (metres).
_NUMBERED_GAP_M = 250.0  # per street between them
#: A candidate this close (metres) to a City segment range's answer agrees with it.
_RANGE_AGREES_M = 100.0

_EXACT_KEY = text("SELECT street_key, pre_dirs, weight FROM street_name WHERE street_key = :key")
_SUFFIX_KEYS = text(
    """
    SELECT street_key, pre_dirs, weight FROM street_name
    WHERE street_key LIKE :prefix AND street_key ~ :pattern
    ORDER BY weight DESC LIMIT 4
    """
)
# Trigrams catch most misspellings; edit distance catches short transposed names (MIAN ST).
_FUZZY_KEYS = text(
    """
    SELECT street_key, pre_dirs, weight,
           GREATEST(similarity(street_key, :key),
                    1.0 - levenshtein(left(street_key, 60), left(:key, 60))::float
                          / GREATEST(length(:key), length(street_key), 1)) AS sim
    FROM street_name
    WHERE street_key % :key
       OR levenshtein(left(street_key, 60), left(:key, 60)) <= GREATEST(2, length(:key) / 4)
    ORDER BY sim DESC, weight DESC LIMIT 4
    """
)
_ADDRESS_POINTS = text(
    """
    SELECT kind, source, house_number, number_suffix, pre_dir, name, suffix, post_dir, zip,
           full_address, confidence, ST_X(geom) AS lon, ST_Y(geom) AS lat,
           (attrs->>'observations')::int AS observations, (attrs->>'spread_m')::float AS spread_m
    FROM address_point
    WHERE street_key = :key AND house_number = :number AND kind IN ('address', 'observed')
    ORDER BY kind = 'observed' DESC, confidence DESC
    LIMIT 12
    """
)
_RANGED_SEGMENTS = text(
    """
    SELECT id, full_name, pre_dir, l_from, l_to, r_from, r_to, l_zip, r_zip, ST_AsBinary(geom) AS wkb
    FROM street_segment
    WHERE street_key = :key
      AND ((:number BETWEEN LEAST(l_from, l_to) AND GREATEST(l_from, l_to) AND l_from > 0)
        OR (:number BETWEEN LEAST(r_from, r_to) AND GREATEST(r_from, r_to) AND r_from > 0))
    LIMIT 8
    """
)
_BLOCKFACES = text(
    """
    SELECT pre_dir, name, suffix, zip, full_address, ST_X(geom) AS lon, ST_Y(geom) AS lat
    FROM address_point
    WHERE street_key = :key AND kind = 'blockface' AND house_number = :block
    LIMIT 6
    """
)
_SEGMENT_CROSSINGS = text(
    """
    SELECT ST_X(p) AS lon, ST_Y(p) AS lat, a.full_name AS a_name, b.full_name AS b_name
    FROM street_segment a
    JOIN street_segment b ON ST_DWithin(a.geom, b.geom, 0.00003) AND a.id <> b.id
    CROSS JOIN LATERAL ST_ClosestPoint(a.geom, b.geom) AS p
    WHERE a.street_key = ANY(CAST(:a_keys AS text[])) AND b.street_key = ANY(CAST(:b_keys AS text[]))
    ORDER BY ST_Distance(a.geom, b.geom) LIMIT 8
    """
)
_STREET_POINT_SET = text(
    """
    SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM address_point
    WHERE street_key = ANY(CAST(:keys AS text[])) LIMIT 50000
    """
)
_PLACES = text(
    """
    SELECT 'facility' AS kind, type, name, address, ST_X(geom) AS lon, ST_Y(geom) AS lat,
           similarity(upper(name), :q) AS sim
    FROM facility WHERE upper(name) % :q OR upper(name) LIKE :contains
    UNION ALL
    SELECT 'area', s.type_code, a.name, NULL, ST_X(c), ST_Y(c), similarity(upper(a.name), :q)
    FROM area a JOIN boundary_set s ON s.id = a.set_id
         CROSS JOIN LATERAL ST_PointOnSurface(a.geom) AS c
    WHERE s.type_code IN ('NEIGHBORHOOD', 'NC', 'COUNTY_CITY', 'UNINCORPORATED', 'CPA', 'BID')
      AND (upper(a.name) % :q OR upper(a.name) LIKE :contains)
    ORDER BY sim DESC LIMIT 6
    """
)


@dataclass(frozen=True)
class StreetMatch:
    """A street key the typed street may mean, with the reasons it is not an exact match."""

    key: str
    pre_dirs: tuple[str, ...]
    weight: int
    reasons: tuple[str, ...]
    #: The direction this reading implies when the typed name began with one ("E SOUTH VENICE
    #: BLVD" read as S VENICE BLVD); None when the typed direction stands.
    pre_dir: str | None = None


def refresh_street_names(conn: Connection) -> None:
    """Rebuild the street-name index after street or address loads."""
    conn.execute(text("REFRESH MATERIALIZED VIEW street_name"))


def match_streets(conn: Connection, street: StreetRef) -> list[StreetMatch]:
    """Street keys for a typed street: exact, then by suffix when none was typed, then fuzzy.

    :param conn: database connection.
    :param street: the typed street.
    :returns: matches, best first (at most 4).
    """
    key = street_key(street.name, street.suffix)
    row = conn.execute(_EXACT_KEY, {"key": key}).first()
    if row is not None:
        return [StreetMatch(row.street_key, tuple(row.pre_dirs or ()), row.weight, ()),
                *_direction_in_name(conn, street)]
    matches: list[StreetMatch] = []
    if street.suffix is None:
        rows = conn.execute(
            _SUFFIX_KEYS, {"prefix": f"{street.name} %", "pattern": f"^{_regex_escape(street.name)} [A-Z]+$"}
        ).all()
        reason = ("street_suffix_missing",) if len(rows) > 1 else ()
        matches = [StreetMatch(r.street_key, tuple(r.pre_dirs or ()), r.weight, reason) for r in rows]
    if matches:
        return matches
    rows = conn.execute(_FUZZY_KEYS, {"key": key}).all()
    # 42ND ST is not a misspelling of 43RD ST: numbered streets never match another number.
    typed_number = _ORDINAL.match(street.name)
    return [
        StreetMatch(r.street_key, tuple(r.pre_dirs or ()), r.weight, ("fuzzy_street_name",))
        for r in rows if r.sim >= 0.45 and not _other_number(typed_number, r.street_key)
    ]


def _other_number(typed: re.Match[str] | None, key: str) -> bool:
    """Whether a numbered street was typed and ``key`` is a street of another number."""
    found = _ORDINAL.match(key)
    return typed is not None and found is not None and found.group(1) != typed.group(1)


_NAME_DIRECTIONS = {word: letter for letter, word in NAME_DIRECTION_WORDS.items()}


def _direction_in_name(conn: Connection, street: StreetRef) -> list[StreetMatch]:
    """MyLA311 writes Venice's split roadways as "E SOUTH VENICE BLVD" where the County's address
    points say "S VENICE BLVD": a name opening with a direction word is also read that way when
    the street without it is known with that direction."""
    first, _, rest = street.name.partition(" ")
    direction = _NAME_DIRECTIONS.get(first)
    if direction is None or not rest:
        return []
    row = conn.execute(_EXACT_KEY, {"key": street_key(rest, street.suffix)}).first()
    if row is None or direction not in (row.pre_dirs or ()):
        return []
    return [StreetMatch(row.street_key, tuple(row.pre_dirs or ()), row.weight, (), direction)]


def geocode_parsed(conn: Connection, query: ParsedQuery) -> list[Candidate]:
    """Every candidate for a parsed query, best first.

    :param conn: database connection.
    :param query: from :func:`geo311.address_parse.parse_query`.
    :returns: ranked candidates (empty when nothing matches).
    """
    if query.kind == "address" and query.street:
        found = _address_candidates(conn, query)
    elif query.kind == "intersection" and query.street and query.cross_streets:
        found = _intersection_candidates(conn, query.street, query.cross_streets[0])
    elif query.kind == "block" and query.street and len(query.cross_streets) >= 2:
        found = _block_candidates(conn, query.street, query.cross_streets[:2])
    elif query.kind == "street" and query.street:
        found = _street_candidates(conn, query.street, query.zip, ())
    elif query.kind == "place":
        found = _place_candidates(conn, query.place_text or query.text)
        if query.street is not None:
            found = _streets_before_partial_places(
                found, _street_candidates(conn, query.street, query.zip, ()))
    else:
        found = []
    found = _checked_against_zip(conn, [_with_parser_notes(c, query) for c in found], query)
    if "community_outside_city" in query.notes and query.community:
        found = _checked_against_community(conn, found, query.community)
    unique: dict[tuple[float, float, str], Candidate] = {}
    for candidate in sorted(found, key=lambda c: -c.score):
        spot = (round(candidate.lon, 5), round(candidate.lat, 5), candidate.precision)
        unique.setdefault(spot, candidate)
    return _scored(list(unique.values()))


#: A ZIP needs this many known addresses for its centre to be offered.
_ZIP_MIN_ADDRESSES = 20
#: How far (metres) outside the box of its ZIP's known addresses a street may lie and still count
#: as in the ZIP.
_ZIP_MARGIN_M = 500.0


def _checked_against_zip(conn: Connection, found: list[Candidate],
                         query: ParsedQuery) -> list[Candidate]:
    """The typed ZIP, when the street could only be placed as a whole street or not at all.

    A misspelled street fuzzily matched to a namesake across the City, or a street known to us
    only in another neighbourhood, lands kilometres from the ZIP the resident typed. Such street
    answers outside the ZIP's known addresses say ``zip_mismatch``, and the ZIP's centre
    (``area_centroid``, ``street_not_found_in_zip``) is offered first: near the right place, and
    scored as the rough answer it is. Any answer placed by house number is left alone. A ZIP
    typed alone, or with a place we know only elsewhere, answers its centre (``zip_only``), and
    so does an intersection or block we cannot find (``intersection_not_found_in_zip``).
    """
    if not query.zip or query.kind not in ("address", "street", "place", "intersection",
                                           "block"):
        return found
    if query.kind in ("address", "street") and any(c.precision != "street" for c in found):
        return found
    if query.kind in ("intersection", "block") and found:
        return found  # a corner is often on a ZIP's edge, and its record's ZIP either side's
    row = conn.execute(load_sql("zip_centre"), {"zip": query.zip}).one()
    if row.n < _ZIP_MIN_ADDRESSES:
        return found
    margin_lon, margin_lat = _ZIP_MARGIN_M / 92_300, _ZIP_MARGIN_M / 110_900
    inside, outside = [], []
    for c in found:
        if (row.west - margin_lon <= c.lon <= row.east + margin_lon
                and row.south - margin_lat <= c.lat <= row.north + margin_lat):
            inside.append(c)
        else:
            outside.append(_with_reasons(c, ["zip_mismatch"]))
    if inside:
        return inside + outside
    reason = {"place": "zip_only", "intersection": "intersection_not_found_in_zip",
              "block": "intersection_not_found_in_zip"}.get(query.kind, "street_not_found_in_zip")
    return _led_by(_zip_centre(row, query.zip, reason), outside)


#: How far (metres) outside a county city's limits an address typed with its name may lie and
#: still be read as meant (mailing cities reach a few kilometres into the City).
_COMMUNITY_NEAR_M = 3000.0


def _checked_against_community(conn: Connection, found: list[Candidate],
                               community: str) -> list[Candidate]:
    """The city typed with the address, when it is another city of the County or an
    unincorporated community ("123 Main St, Pasadena").

    Our streets are the City of Los Angeles's: a Main St found downtown is not Pasadena's. Unless
    a candidate lies in or near the community typed (a mailing city reaches past its limits:
    Beverly Hills 90210 and Culver City addresses inside the City are common), the community
    itself comes first (``area_centroid``, ``community_outside_city``), so the answer says who is
    responsible there, and the City's namesake streets follow with ``community_mismatch``.
    """
    row = conn.execute(load_sql("community_area"), {
        "name": community, "lons": [c.lon for c in found], "lats": [c.lat for c in found],
        "near_m": _COMMUNITY_NEAR_M}).first()
    if row is None or any(row.near):
        return found
    label = f"{row.name} ({row.type_code})"
    area = _candidate(row.lon, row.lat, "area_centroid", ["community_outside_city"],
                      AddressInfo(None, None, None, row.name, "area"), label=label)
    return _led_by(area, [_with_reasons(c, ["community_mismatch"]) for c in found])


def _led_by(area: Candidate, elsewhere: list[Candidate]) -> list[Candidate]:
    """The area typed (a ZIP's centre, a County city) first, then the candidates found away from
    it, each scored below it so the list reads in that order."""
    return [area, *(replace(c, score=max(1, min(c.score, area.score - 1))) for c in elsewhere)]


def _zip_centre(row, zip_code: str, reason: str) -> Candidate:
    """The centre of a ZIP (a ``zip_centre.sql`` row) as an ``area_centroid`` candidate."""
    label = f"ZIP {zip_code}"
    return _candidate(row.lon, row.lat, "area_centroid", [reason],
                      AddressInfo(None, None, zip_code, label, "zip_centre"), label=label)


def _scored(ranked: list[Candidate]) -> list[Candidate]:
    """The published score of each candidate, kept in the rung scores' order: the chance that it
    is within 30 m (:mod:`geo311.locate_score`), knowing how far the best other reading lies.
    The address itself found in the address layer as typed keeps 100, a place, an area's centre
    (:data:`geo311.locate_score.MODEL_PRECISIONS`) or a block typed as "X between Y and Z" its
    rung score; alternatives are capped just below the one listed before them, so the list reads
    best first."""
    out = []
    for i, candidate in enumerate(ranked):
        other = ranked[1] if i == 0 and len(ranked) > 1 else ranked[0] if i else None
        apart_m = None if other is None else _metres(candidate.lon, candidate.lat,
                                                     other.lon, other.lat)
        extra = {**candidate.extra, "rung_score": candidate.score}
        if candidate.score == 100:  # the address itself, in the address layer, as typed
            out.append(replace(candidate, extra=extra))
            continue
        score = candidate.score  # a place, an area's centre, a described block: no model
        if candidate.precision in MODEL_PRECISIONS and not candidate.extra.get("described_block"):
            features = score_features(candidate.precision, candidate.reasons, extra, apart_m,
                                      None if other is None else other.score)
            score = model_score(features)
        if out:  # an alternative never reads as likelier than the answer listed before it
            score = max(1, min(score, out[-1].score - 1))
        out.append(replace(candidate, score=score, extra=extra))
    return out


# ---------------------------------------------------------------- addresses
def _address_candidates(conn: Connection, query: ParsedQuery) -> list[Candidate]:
    assert query.street is not None and query.house_number is not None
    number = query.house_number
    out: list[Candidate] = []
    typed, typed_street = query, query.street
    matches = match_streets(conn, typed_street)
    if not matches:  # a numbered street unknown by name may still lie between its neighbours
        return _numbered_neighbours(conn, typed)
    for match in matches:
        query = typed
        if match.pre_dir is not None:  # the name's own direction word, read as the direction
            query = replace(typed, street=replace(
                typed_street, name=typed_street.name.partition(" ")[2], pre_dir=match.pre_dir))
        assert query.street is not None
        reasons = list(match.reasons)
        points = conn.execute(_ADDRESS_POINTS, {"key": match.key, "number": number}).all()
        for p in points:
            why = reasons + _direction_reasons(query.street, p.pre_dir, match.pre_dirs)
            why += _zip_reasons(query.zip, p.zip)
            if p.kind == "observed":
                why.append("observed_address")
            if query.house_fraction and p.number_suffix != query.house_fraction:
                why.append("fraction_not_matched")
            out.append(_candidate(p.lon, p.lat, "address_point", why, AddressInfo(
                str(p.house_number) + (f" {p.number_suffix}" if p.number_suffix else ""),
                _label(p.pre_dir, p.name, p.suffix, p.post_dir), p.zip, p.full_address, p.source),
                scale=p.confidence if p.kind == "observed" else 1.0,
                features={"kind": p.kind, "confidence": p.confidence,
                          "observations": p.observations, "spread_m": p.spread_m}))
        ranged: list[Candidate] = []
        for seg in conn.execute(_RANGED_SEGMENTS, {"key": match.key, "number": number}).all():
            side, start, end, zip_code = _side_for_number(seg, number)
            if side is None:
                continue
            line = shapely.from_wkb(seg.wkb)
            fraction, anchored, chance, real, gap = _anchored_fraction(
                conn, seg.id, match.key, start, end, number)
            lon, lat = point_at_fraction(line, fraction, side)
            why = reasons + ["house_number_interpolated"]
            if anchored:
                why.append("range_anchored_by_addresses")
            range_scale = chance / 0.72
            why += _direction_reasons(query.street, seg.pre_dir, match.pre_dirs)
            why += _zip_reasons(query.zip, zip_code)
            street = seg.full_name
            ranged.append(_candidate(lon, lat, "interpolated_range", why, AddressInfo(
                str(number), street, zip_code, f"{number} {street}" + (f", {zip_code}" if zip_code else ""),
                "street_segment"), scale=range_scale,
                features={"real_anchors": real, "gap": gap, "chance": chance}))
        if not points or all(p.kind == "observed" and (p.confidence or 0.0) <= WEAK_OBSERVATION
                             for p in points):
            # A number seen only in parking citations is as often off as not: its street's
            # neighbours say where it is too, and the scores decide (dev holdout: 11 more
            # answers within 30 m, 1 fewer).
            out += _neighbour_interpolation(conn, query, match, reasons)
        if ranged:
            out = [_checked_against_ranges(c, ranged) for c in out] + ranged
        block = number - number % 100
        for b in conn.execute(_BLOCKFACES, {"key": match.key, "block": block}).all():
            why = reasons + ["hundred_block_only"] + _direction_reasons(query.street, b.pre_dir, match.pre_dirs)
            why += _zip_reasons(query.zip, b.zip)
            out.append(_candidate(b.lon, b.lat, "street_block", why, AddressInfo(
                str(number), _label(b.pre_dir, b.name, b.suffix, None), b.zip, b.full_address,
                "blockface")))
        if not out:
            out += _numbered_neighbours(conn, query)
        if not out:
            out += _street_candidates(conn, query.street, query.zip, tuple(reasons),
                                      key=match.key, extra=("house_number_not_found",))
    return out


def _numbered_neighbours(conn: Connection, query: ParsedQuery) -> list[Candidate]:
    """A numbered street we know nothing of (E 118TH ST) lies between its numbered neighbours:
    the number is placed on the street before and after it (117TH and 119TH ST; for 86TH PL,
    86TH and 87TH ST) and the midpoint answers, when the two are a block or two apart."""
    street, number = query.street, query.house_number
    if street is None or number is None or street.suffix not in ("ST", "PL"):
        return []
    found = _ORDINAL.fullmatch(street.name)
    if found is None:
        return []
    n = int(found.group(1))
    # The nearest numbered streets below and above (up to three away) that place the number.
    below = n + 0.5 if street.suffix == "PL" else n  # 86TH PL runs between 86TH and 87TH ST
    sides = []
    for others in (range(math.ceil(below) - 1, math.ceil(below) - 4, -1),
                   range(math.floor(below) + 1, math.floor(below) + 4)):
        for other in others:
            estimate = estimate_number_position(conn, f"{ordinal(other)} ST", number,
                                                street.pre_dir, query.zip) if other > 0 else None
            if estimate is not None:
                sides.append((other, estimate))
                break
    if len(sides) < 2:
        return []
    (ia, a), (ib, b) = sides
    share = (below - ia) / (ib - ia)
    apart_m = _metres(a.lon, a.lat, b.lon, b.lat)
    if apart_m > _NUMBERED_GAP_M * (ib - ia):
        return []
    label = street.label()
    return [_candidate(a.lon + share * (b.lon - a.lon), a.lat + share * (b.lat - a.lat),
                       "interpolated_points",
                       ["house_number_interpolated", "between_numbered_streets"], AddressInfo(
                           str(number), label, query.zip,
                           f"{number} {label}" + (f", {query.zip}" if query.zip else ""),
                           "address_grid"), scale=0.25)]


def _checked_against_ranges(candidate: Candidate, ranged: list[Candidate]) -> Candidate:
    """An observed point or interpolation far from every City segment whose range holds the number
    is most likely on another street of that name (or placed by wrong anchors)."""
    if candidate.precision != "interpolated_points" and "observed_address" not in candidate.reasons:
        return candidate  # the reference's own address points and the ranges' other rungs
    gap_m = min(_metres(candidate.lon, candidate.lat, r.lon, r.lat) for r in ranged)
    if gap_m <= _RANGE_AGREES_M:
        return candidate
    why = "far_from_street_range"
    return replace(candidate, score=max(1, candidate.score - PENALTY[why]),
                   reasons=candidate.reasons + (why,))


def _neighbour_interpolation(conn: Connection, query: ParsedQuery, match: StreetMatch,
                             reasons: list[str]) -> list[Candidate]:
    """Place the number between the known address points of its street (or a little beyond)."""
    assert query.street is not None and query.house_number is not None
    estimate = estimate_number_position(conn, match.key, query.house_number, query.street.pre_dir,
                                        query.zip)
    if estimate is None:
        return _grid_candidate(conn, query, match, reasons)
    why = reasons + ["house_number_interpolated", "between_known_addresses"
                     if estimate.method == "between" else "beyond_last_known_address"]
    if not estimate.same_side:
        why.append("opposite_side_neighbours")
    if estimate.by_axis:
        why.append("house_number_from_address_grid")
    elif estimate.by_grid:
        why.append("placed_by_address_grid")
    why += _zip_reasons(query.zip, estimate.zip)
    chance = _interpolation_chance(estimate, query.house_number)
    scale = chance / 0.88
    street = _key_with_dir(match.key, query.street.pre_dir)
    zip_code = query.zip or estimate.zip
    return [_candidate(estimate.lon, estimate.lat, "interpolated_points", why, AddressInfo(
        str(query.house_number), street, zip_code,
        f"{query.house_number} {street}" + (f", {zip_code}" if zip_code else ""),
        "address_points"), scale=scale,
        features={"method": estimate.method, "gap": estimate.gap, "same_side": estimate.same_side,
                  "reach": min(abs(query.house_number - estimate.low),
                               abs(query.house_number - estimate.high)),
                  "by_grid": estimate.by_grid, "by_axis": estimate.by_axis, "chance": chance,
                  "grid_streets": estimate.grid_streets,
                  "anchor_m": estimate.anchor_m, "known": estimate.known,
                  "anchor_confidence": estimate.anchor_confidence})]


def _interpolation_chance(estimate: NumberEstimate, number: int) -> float:
    """The expected share within 30 m of the City's geocode of a number placed between (or past)
    known numbers, as measured on held-out MyLA311 records (a 2018 sample against a reference
    built from the 2022 sample and the citations; scripts/eval_locate.py protocol).

    Anchors of the same parity close in number are nearly as good as the address itself; the
    address grid keeps wide gaps good; past the last known number the chance falls fast with the
    reach unless the grid says where; anchors across the street are a street's width off.
    """
    if estimate.method == "between":
        if estimate.by_grid:
            return 0.66 if estimate.same_side else 0.46
        if estimate.same_side:
            return 0.72 - estimate.gap / 1000.0 if estimate.gap < 400 else 0.28
        return 0.5 if estimate.gap < 40 else 0.38 if estimate.gap < 400 else 0.12
    reach = min(abs(number - estimate.low), abs(number - estimate.high))
    if estimate.by_axis or estimate.grid_streets == 1:  # one parallel street is as rough
        return 0.17 if estimate.same_side else 0.1
    if estimate.by_grid:
        return 0.7 if reach < 10 else 0.44 if estimate.same_side else 0.38
    chance = 0.6 if reach < 10 else 0.25 if reach < 30 else 0.1 if reach < 80 else 0.05
    return chance if estimate.same_side else chance / 2


_ANCHORS = text(
    """
    SELECT a.house_number, ST_LineLocatePoint(s.geom, a.geom) AS fraction
    FROM street_segment s
    JOIN address_point a ON a.street_key = :key AND ST_DWithin(a.geom, s.geom, 0.0004)
    WHERE s.id = :id AND a.kind IN ('address', 'observed')
      AND a.house_number BETWEEN :low AND :high AND mod(a.house_number, 2) = mod(:number, 2)
    """
)


def _anchored_fraction(conn: Connection, segment_id: int, key: str, start: int, end: int,
                       number: int) -> tuple[float, bool, float, int, int]:
    """Where a number falls along a segment, using known addresses on it as anchors.

    A block's range (e.g. 3000-3098) is wider than its real numbers (3001-3045), so pure range
    interpolation drifts; known points of the same side pin the scale down between them.

    :returns: ``(fraction, anchored, chance, real, gap)``: chance is the expected share within
        30 m, higher when two real addresses close in number bracket the one asked for; real is
        how many of the two numbers bracketing it are known addresses (not range ends), gap how
        many numbers apart they are.
    """
    rows = conn.execute(_ANCHORS, {"id": segment_id, "key": key, "low": min(start, end),
                                   "high": max(start, end), "number": number}).all()
    ends = {start, end}
    anchors = [(start, 0.0), (end, 1.0)] + [(r.house_number, float(r.fraction)) for r in rows]
    ascending = end >= start
    anchors.sort(key=lambda a: a[0] if ascending else -a[0])
    kept = [anchors[0]]
    for item in anchors[1:]:
        if item[1] >= kept[-1][1]:
            kept.append(item)  # numbers and positions must both run the same way
    for (n0, f0), (n1, f1) in zip(kept, kept[1:], strict=False):
        if min(n0, n1) <= number <= max(n0, n1) and n0 != n1:
            fraction = f0 + (number - n0) / (n1 - n0) * (f1 - f0)
            real = (n0 not in ends) + (n1 not in ends)
            gap = abs(n1 - n0)
            chance = {2: max(0.45, 0.9 - gap / 200.0), 1: 0.62, 0: 0.4}[real]
            return fraction, len(kept) > 2, chance, real, gap
    fraction = 0.5 if end == start else (number - start) / (end - start)
    return fraction, False, 0.4, 0, abs(end - start)


_STREET_POINTS = text(
    """
    SELECT house_number, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM address_point
    WHERE street_key = :key AND kind IN ('address', 'observed')
      AND (CAST(:pre_dir AS text) IS NULL OR pre_dir IS NULL OR pre_dir = CAST(:pre_dir AS text))
    ORDER BY abs(house_number - :number) LIMIT 40
    """
)


def _grid_candidate(conn: Connection, query: ParsedQuery, match: StreetMatch,
                    reasons: list[str]) -> list[Candidate]:
    """No neighbours on the street itself: place the number by LA's grid of parallel streets."""
    assert query.street is not None and query.house_number is not None
    rows = conn.execute(_STREET_POINTS, {
        "key": match.key, "pre_dir": query.street.pre_dir, "number": query.house_number}).all()
    if not rows:
        return []
    points = [(r.lon, r.lat) for r in rows]
    estimate = estimate_from_grid(conn, match.key, query.house_number, query.street.pre_dir,
                                  points[0], points, anchor_number=rows[0].house_number)
    if estimate is None:
        return []
    street = _key_with_dir(match.key, query.street.pre_dir)
    return [_candidate(estimate.lon, estimate.lat, "interpolated_points",
                       reasons + ["house_number_from_address_grid"], AddressInfo(
                           str(query.house_number), street, query.zip,
                           f"{query.house_number} {street}" + (f", {query.zip}" if query.zip else ""),
                           "address_grid"), scale=0.25,
                       features={"reach": abs(query.house_number - rows[0].house_number),
                                 "anchor_m": _metres(estimate.lon, estimate.lat,
                                                     rows[0].lon, rows[0].lat),
                                 "known": len(rows)})]


def _side_for_number(seg, number: int) -> tuple[str | None, int, int, str | None]:
    for side, start, end, zip_code in (("left", seg.l_from, seg.l_to, seg.l_zip),
                                        ("right", seg.r_from, seg.r_to, seg.r_zip)):
        if start and end and min(start, end) <= number <= max(start, end) and (start - number) % 2 == 0:
            return side, start, end, zip_code
    return None, 0, 0, None


# ---------------------------------------------------------------- streets, intersections, blocks
def _street_candidates(conn: Connection, street: StreetRef, zip_code: str | None,
                       reasons: tuple[str, ...], key: str | None = None,
                       extra: tuple[str, ...] = ()) -> list[Candidate]:
    keys = [StreetMatch(key, (), 0, ())] if key else match_streets(conn, street)
    out = []
    for match in keys:
        rows = conn.execute(load_sql("street_centre"), {"key": match.key, "zip": zip_code}).all()
        for row in rows:
            why = list(reasons) + list(match.reasons) + list(extra)
            why += _direction_reasons(street, row.pre_dir, match.pre_dirs)
            label = _key_with_dir(match.key, row.pre_dir)
            out.append(_candidate(row.lon, row.lat, "street", why,
                                  AddressInfo(None, label, zip_code, label, "street"), label=label))
    return out


def _intersection_candidates(conn: Connection, first: StreetRef, second: StreetRef,
                             limit: int = 3) -> list[Candidate]:
    a_matches, b_matches = match_streets(conn, first), match_streets(conn, second)
    if not a_matches or not b_matches:
        return []
    reasons = sorted({r for m in a_matches[:1] + b_matches[:1] for r in m.reasons})
    a_keys, b_keys = [m.key for m in a_matches], [m.key for m in b_matches]
    out: list[Candidate] = []
    for row in conn.execute(_SEGMENT_CROSSINGS, {"a_keys": a_keys, "b_keys": b_keys}).all():
        label = f"{row.a_name} & {row.b_name}"
        out.append(_candidate(row.lon, row.lat, "intersection", list(reasons),
                              AddressInfo(None, row.a_name, None, label, "street_segment"), label=label))
        if len(out) >= limit:
            break
    if not out:
        crossing = _crossing_from_points(conn, a_keys, b_keys)
        if crossing is not None:
            label = f"{a_keys[0]} & {b_keys[0]}"
            how = ["intersection_from_addresses"] + (["crossing_of_address_lines"] if crossing[2]
                                                     else [])
            out.append(_candidate(crossing[0], crossing[1], "intersection", list(reasons) + how,
                                  AddressInfo(None, a_keys[0], None, label, "observed"), label=label))
    return out


#: Each street's line (drawn through its known addresses nearest the other street) is continued
#: to the crossing when their closest addresses are up to this far apart (metres); when the lines
#: cannot be drawn, the midpoint of the closest pair answers if they are within _CROSSING_NEAR_M.
_CROSSING_NEAR_M = 150.0
_CROSSING_FAR_M = 3000.0
#: How many of a street's known addresses nearest the other street draw its line there.
_LINE_POINTS = 8
#: Farthest (metres) a known address may lie off the line its street's addresses draw.
_LINE_TOLERANCE_M = 40.0


def _crossing_from_points(conn: Connection, a_keys: list[str],
                          b_keys: list[str]) -> tuple[float, float, bool] | None:
    """Where two streets cross, from their known addresses alone (no centerline).

    The crossing of the two lines their addresses nearest the other street draw (the closest pair
    of addresses sits off the corner, and most of the City's corners have no known address
    within a block in our data); the midpoint of that pair when no line can be drawn and the
    pair is close. Done with an STRtree in memory: a KNN join in SQL would scan other streets'
    points too.

    :returns: ``(lon, lat, by_lines)``, or None when the streets' addresses do not say.
    """
    a = conn.execute(_STREET_POINT_SET, {"keys": a_keys}).all()
    b = conn.execute(_STREET_POINT_SET, {"keys": b_keys}).all()
    if not a or not b:
        return None
    lat0 = a[0].lat
    a_xy = [_local(r.lon, r.lat, lat0) for r in a]
    b_xy = [_local(r.lon, r.lat, lat0) for r in b]
    tree = shapely.STRtree(shapely.points(b_xy))
    (ia, ib), _ = tree.query_nearest(shapely.points(a_xy), return_distance=True, all_matches=False)
    i, j = min(zip(ia, ib, strict=True), key=lambda pair: math.dist(a_xy[pair[0]], b_xy[pair[1]]))
    pa, pb = a_xy[i], b_xy[j]
    gap = math.dist(pa, pb)
    midpoint = ((a[i].lon + b[j].lon) / 2, (a[i].lat + b[j].lat) / 2, False)
    if gap > _CROSSING_FAR_M:
        return None
    line_a = _fit_line(sorted(a_xy, key=lambda p: math.dist(p, pb))[:_LINE_POINTS])
    line_b = _fit_line(sorted(b_xy, key=lambda p: math.dist(p, pa))[:_LINE_POINTS])
    spot = None if line_a is None or line_b is None else _line_crossing(line_a, line_b)
    if spot is None or math.dist(spot, pa) > gap + 100.0 or math.dist(spot, pb) > gap + 100.0:
        return midpoint if gap <= _CROSSING_NEAR_M else None
    return (*_unlocal(spot, lat0), True)


def _fit_line(points: list[tuple[float, float]]) -> tuple[tuple[float, float],
                                                         tuple[float, float]] | None:
    """Centre and unit direction of the principal axis of at least 3 points spread 60 m or more
    along it. A point over :data:`_LINE_TOLERANCE_M` off the axis (a bend, a stray geocode) is
    dropped and the axis fitted again (two points and a quarter of the rest at most).
    """
    for _ in range(3 + len(points) // 4):
        if len(points) < 3:
            return None
        cx = sum(p[0] for p in points) / len(points)
        cy = sum(p[1] for p in points) / len(points)
        sxx = sum((p[0] - cx) ** 2 for p in points)
        syy = sum((p[1] - cy) ** 2 for p in points)
        sxy = sum((p[0] - cx) * (p[1] - cy) for p in points)
        angle = 0.5 * math.atan2(2 * sxy, sxx - syy)
        ux, uy = math.cos(angle), math.sin(angle)
        across = [abs(-(p[0] - cx) * uy + (p[1] - cy) * ux) for p in points]
        worst = max(range(len(points)), key=lambda i: across[i])
        if across[worst] <= _LINE_TOLERANCE_M:
            along = [(p[0] - cx) * ux + (p[1] - cy) * uy for p in points]
            return ((cx, cy), (ux, uy)) if max(along) - min(along) >= 60.0 else None
        points = points[:worst] + points[worst + 1:]
    return None


def _line_crossing(a, b) -> tuple[float, float] | None:
    """Crossing of two lines given as (point, unit direction); None when under 30 degrees apart."""
    (ax, ay), (ux, uy) = a
    (bx, by), (vx, vy) = b
    cross = ux * vy - uy * vx
    if abs(cross) < math.sin(math.radians(30)):
        return None
    t = ((bx - ax) * vy - (by - ay) * vx) / cross
    return ax + t * ux, ay + t * uy


def _metres(lon: float, lat: float, lon2: float, lat2: float) -> float:
    """Metres between two nearby points (degrees scaled at LA's latitude)."""
    return math.hypot((lon - lon2) * 92_300, (lat - lat2) * 110_900)


def _local(lon: float, lat: float, lat0: float) -> tuple[float, float]:
    return lon * 111_320.0 * math.cos(math.radians(lat0)), lat * 110_574.0


def _unlocal(xy: tuple[float, float], lat0: float) -> tuple[float, float]:
    return xy[0] / (111_320.0 * math.cos(math.radians(lat0))), xy[1] / 110_574.0


def _block_candidates(conn: Connection, street: StreetRef,
                      crosses: Sequence[StreetRef]) -> list[Candidate]:
    ends = [_intersection_candidates(conn, street, cross, limit=1) for cross in crosses]
    found = [e[0] for e in ends if e]
    if not found:
        return []
    label = f"{street.label()} between {crosses[0].label()} and {crosses[1].label()}"
    if len(found) == 1:
        only = found[0]
        return [_candidate(only.lon, only.lat, "street_block",
                           list(only.reasons) + ["one_cross_street_only"],
                           AddressInfo(None, street.label(), None, label, "intersection"), label=label)]
    lon = (found[0].lon + found[1].lon) / 2
    lat = (found[0].lat + found[1].lat) / 2
    reasons = sorted(set(found[0].reasons) | set(found[1].reasons))
    block = _candidate(lon, lat, "street_block", reasons,
                       AddressInfo(None, street.label(), None, label, "intersection"), label=label)
    # The block described is the answer, as sure as its less sure end; the score model (fitted on
    # single addresses, where a block face is a rough guess) does not apply.
    return [replace(block, score=min(end.score for end in found), extra={"described_block": True})]


#: Reasons of a place whose name only contains (or resembles) the text typed.
_PLACE_NAME_DOUBTS = frozenset({"partial_place_name", "fuzzy_place_name"})


def _streets_before_partial_places(places: list[Candidate],
                                   streets: list[Candidate]) -> list[Candidate]:
    """A word that is a street's whole name ("vermont": Vermont Ave) means that street before
    the places whose longer names only contain it (Vermont Vista, Vermont Square); a place named
    exactly so ("venice", "koreatown") stays first. Such places are scored no higher than the
    street and listed after it."""
    named = [s for s in streets if "fuzzy_street_name" not in s.reasons]
    if not named:
        return places + streets
    exact = [p for p in places if not _PLACE_NAME_DOUBTS.intersection(p.reasons)]
    partial = [p for p in places if _PLACE_NAME_DOUBTS.intersection(p.reasons)]
    floor = min(s.score for s in named)
    return exact + streets + [replace(p, score=min(p.score, floor)) for p in partial]


def _place_candidates(conn: Connection, place: str) -> list[Candidate]:
    q = place.upper().strip()
    if len(q) < 3:
        return []
    rows = conn.execute(_PLACES, {"q": q, "contains": f"%{q}%"}).all()
    out = []
    for row in rows:
        precision = "place" if row.kind == "facility" else "area_centroid"
        name = " ".join(row.name.upper().split())
        # "Dodger Stadium" is not Drake Stadium; "City Hall" only part of Beverly Hills City Hall
        why = ([] if name == q else ["partial_place_name"] if q in name
               else ["fuzzy_place_name"])
        label = row.name if row.kind == "facility" else f"{row.name} ({row.type})"
        text_ = f"{row.name}, {row.address}" if row.address else label
        out.append(_candidate(row.lon, row.lat, precision, why,
                              AddressInfo(None, None, None, text_, row.kind), label=label))
    return out


# ---------------------------------------------------------------- scoring helpers
def _candidate(lon: float, lat: float, precision: str, reasons: Sequence[str],
               address: AddressInfo | None, label: str = "", scale: float = 1.0,
               features: dict | None = None) -> Candidate:
    unique = tuple(dict.fromkeys(reasons))
    score = BASE_SCORE[precision] * min(max(scale, 0.0), 1.0)
    score *= math.prod(FACTOR.get(reason, 1.0) for reason in unique)
    score -= sum(PENALTY.get(reason, 0) for reason in unique)
    return Candidate(lon=lon, lat=lat, precision=precision, score=int(max(1, min(100, round(score)))),
                     reasons=unique, address=address,
                     label=label or (address.text if address else ""), extra=dict(features or {}))


def _with_parser_notes(candidate: Candidate, query: ParsedQuery) -> Candidate:
    notes = [n for n in query.notes if n in {"street_suffix_missing", "spelled_number_normalized",
                                            "community_as_city", "unit_ignored"}]
    return _with_reasons(candidate, notes) if notes else candidate


def _with_reasons(candidate: Candidate, added: Sequence[str]) -> Candidate:
    """The candidate with more reasons, each new one taking its :data:`PENALTY` off the score."""
    reasons = tuple(dict.fromkeys(candidate.reasons + tuple(added)))
    extra = sum(PENALTY.get(n, 0) for n in added if n not in candidate.reasons)
    return replace(candidate, score=max(1, candidate.score - extra), reasons=reasons)


def _direction_reasons(street: StreetRef, found_dir: str | None, known: Sequence[str]) -> list[str]:
    if street.pre_dir and found_dir and street.pre_dir != found_dir:
        return ["direction_mismatch"]
    if not street.pre_dir and len(set(known)) > 1:
        return ["direction_missing"]
    return []


def _zip_reasons(typed: str | None, found: str | None) -> list[str]:
    return ["zip_mismatch"] if typed and found and typed != found else []


def _label(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)


def _key_with_dir(key: str, pre_dir: str | None) -> str:
    return f"{pre_dir} {key}" if pre_dir else key


def _regex_escape(value: str) -> str:
    import re

    return re.escape(value)
