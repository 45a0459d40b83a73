"""Forward geocoding on hand-made streets: the address grid between and beyond far-apart known
numbers, and a direction word opening the typed name (known answers, no LA data)."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import text

from geo311.address_parse import parse_query
from geo311.geocode import geocode_parsed, refresh_street_names

LAT = 34.03  # three E-W streets numbered west of Main, 150 m apart north-south
M_PER_DEG_LON, M_PER_DEG_LAT = 92_300.0, 110_900.0


def add_point(conn, number, pre_dir, name, suffix, lon, lat, kind="observed", confidence=0.9):
    conn.execute(text(
        """
        INSERT INTO address_point (source, source_id, kind, house_number, pre_dir, name, suffix,
            zip, full_address, street_key, confidence, observations, attrs, geom)
        VALUES ('test', NULL, :kind, :n, :pre, :name, :sfx, '90012', :label, :key, :conf, 1, '{}',
                ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
        """), {"kind": kind, "conf": confidence, "n": number, "pre": pre_dir, "name": name, "sfx": suffix,
               "label": " ".join(p for p in (str(number), pre_dir, name, suffix) if p),
               "key": f"{name} {suffix}", "lon": lon, "lat": lat})


def lon_at(metres_west: float) -> float:
    return -118.25 - metres_west / M_PER_DEG_LON


def metres(c, lon, lat) -> float:
    return math.hypot((c.lon - lon) * M_PER_DEG_LON, (c.lat - lat) * M_PER_DEG_LAT)


@pytest.fixture
def grid(conn):
    """Blocks of unequal length: the 1000 block is 100 m long, the 1100-1300 blocks 300 m each.
    W ALPHA ST knows only 1001 and 1901 (odd side); its neighbours know every hundred."""
    block_start = {1000: 0, 1100: 100, 1200: 400, 1300: 700, 1400: 1000, 1500: 1300,
                   1600: 1400, 1700: 1500, 1800: 1600, 1900: 1700, 2000: 1800}
    for name, dlat in (("BETA", 0.00135), ("GAMMA", -0.00135)):
        for block, west in block_start.items():
            add_point(conn, block + 1, "W", name, "ST", lon_at(west + 5), LAT + dlat)
            add_point(conn, block + 51, "W", name, "ST", lon_at(west + 5 + (
                block_start.get(block + 100, west + 100) - west) / 2), LAT + dlat)
    add_point(conn, 1001, "W", "ALPHA", "ST", lon_at(5), LAT)
    add_point(conn, 1901, "W", "ALPHA", "ST", lon_at(1705), LAT)
    refresh_street_names(conn)
    return conn


def test_wide_gap_is_placed_by_the_parallel_streets_numbers(grid):
    best = geocode_parsed(grid, parse_query("1301 W ALPHA ST"))[0]
    # A straight share of 1001..1901 would put 1301 at 572 m; the grid says 705 m.
    assert metres(best, lon_at(705), LAT) < 15
    assert "placed_by_address_grid" in best.reasons


def test_number_beyond_the_last_known_follows_the_grid(grid):
    add_point(grid, 1101, "W", "ALPHA", "ST", lon_at(105), LAT)
    best = geocode_parsed(grid, parse_query("1951 W ALPHA ST"))[0]
    assert best.precision == "interpolated_points"
    # Past 1901 the blocks are 100 m long again: 1951 is at 1755 m, not 1901 + 50 x 2 m/number.
    assert metres(best, lon_at(1755), LAT) < 20


def test_no_parallel_streets_keeps_the_straight_share(conn):
    add_point(conn, 1001, "W", "DELTA", "ST", lon_at(5), LAT + 0.01)
    add_point(conn, 1201, "W", "DELTA", "ST", lon_at(405), LAT + 0.01)
    refresh_street_names(conn)
    best = geocode_parsed(conn, parse_query("1101 W DELTA ST"))[0]
    assert metres(best, lon_at(205), LAT + 0.01) < 5
    assert "placed_by_address_grid" not in best.reasons


def test_direction_word_in_the_name_reads_as_the_direction(conn):
    """MyLA311's "E SOUTH VENICE BLVD" is the County's "S VENICE BLVD" (Venice's split roadway)."""
    add_point(conn, 474, "S", "VENICE", "BLVD", -118.4656, 33.9868, kind="address")
    add_point(conn, 470, "N", "VENICE", "BLVD", -118.4650, 33.9875, kind="address")
    add_point(conn, 900, None, "VENICE", "BLVD", -118.4600, 33.9900, kind="address")
    refresh_street_names(conn)
    best = geocode_parsed(conn, parse_query("474 E SOUTH VENICE BLVD, 90291"))[0]
    assert best.precision == "address_point"
    assert (round(best.lon, 4), round(best.lat, 4)) == (-118.4656, 33.9868)
    assert best.address is not None and best.address.street == "S VENICE BLVD"


def add_crossing_streets(conn, avenue: str, street: str, corner_lat: float,
                         south_of_corner_m: tuple[int, ...], west_m: tuple[int, ...]) -> None:
    """Known addresses of N <avenue> AVE (600 m west, running south from the corner) and
    W <street> ST (on ``corner_lat``), odd and even sides 8 m either side of each centreline,
    balanced so the lines drawn through them are unbiased."""
    for i, (north_m, side) in enumerate(zip(south_of_corner_m, (-8, 8, 0, 8, -8), strict=True)):
        add_point(conn, 9000 + 10 * i, "N", avenue, "AVE", lon_at(600 + side),
                  corner_lat - north_m / M_PER_DEG_LAT)
    for i, (far_m, side) in enumerate(zip(west_m, (-8, 8, 8, -8), strict=True)):
        add_point(conn, 2000 + 10 * i, "W", street, "ST", lon_at(far_m),
                  corner_lat + side / M_PER_DEG_LAT)
    refresh_street_names(conn)


def test_crossing_far_from_any_known_corner_address_continues_both_streets_lines(conn):
    """N EPSILON AVE runs north-south at 600 m west, W ZETA ST east-west at LAT + 0.02; their
    nearest known addresses are 500 m apart, so the corner comes from the two address lines."""
    zeta_lat = LAT + 0.02
    add_crossing_streets(conn, "EPSILON", "ZETA", zeta_lat, (500, 560, 620, 700, 780),
                         (1100, 1180, 1250, 1330))
    best = geocode_parsed(conn, parse_query("EPSILON AVE AT ZETA ST"))[0]
    assert best.precision == "intersection"
    assert "crossing_of_address_lines" in best.reasons
    assert metres(best, lon_at(600), zeta_lat) < 10


def test_streets_that_never_meet_have_no_crossing(conn):
    """Two parallel streets 300 m apart: no corner, an honest no match."""
    for i in range(5):
        add_point(conn, 3000 + 10 * i, "W", "ETA", "ST", lon_at(100 * i), LAT + 0.03)
        add_point(conn, 3000 + 10 * i, "W", "THETA", "ST", lon_at(100 * i),
                  LAT + 0.03 + 300 / M_PER_DEG_LAT)
    refresh_street_names(conn)
    assert geocode_parsed(conn, parse_query("ETA ST AT THETA ST")) == []


def test_observed_point_far_from_the_citys_range_loses_to_the_range(conn):
    """An observed "535 OMEGA ST" 2 km from the segment whose range holds 535 is another street
    of that name: the range answers, the far point is kept but named and scored down."""
    from tests.db.test_locate import add_segment

    add_segment(conn, "omega-500", "OMEGA", "ST", "S", [(-118.30, 34.060), (-118.30, 34.062)],
                (501, 599), (500, 598))
    add_point(conn, 535, None, "OMEGA", "ST", -118.30, 34.080)
    refresh_street_names(conn)
    found = geocode_parsed(conn, parse_query("535 S OMEGA ST"))
    assert found[0].precision == "interpolated_range"
    far = [c for c in found if "far_from_street_range" in c.reasons]
    assert far and far[0].score < found[0].score


def test_score_falls_with_reach_past_the_last_known_number(conn):
    for number, west in ((1001, 5), (1041, 85)):
        add_point(conn, number, "W", "IOTA", "ST", lon_at(west), LAT + 0.04)
    refresh_street_names(conn)
    near = geocode_parsed(conn, parse_query("1045 W IOTA ST"))[0]
    far = geocode_parsed(conn, parse_query("1141 W IOTA ST"))[0]
    between = geocode_parsed(conn, parse_query("1021 W IOTA ST"))[0]
    assert "beyond_last_known_address" in near.reasons
    assert "beyond_last_known_address" in far.reasons
    assert between.score > near.score > far.score


def test_number_between_two_across_the_street_lands_on_its_own_side(conn):
    """1020 W KAPPA ST has only odd (north side) neighbours around it, but 1100 (even, south
    side, 24 m across) is known further along: 1020 goes on the south side."""
    kappa = LAT + 0.05
    add_point(conn, 1001, "W", "KAPPA", "ST", lon_at(5), kappa + 12 / M_PER_DEG_LAT)
    add_point(conn, 1041, "W", "KAPPA", "ST", lon_at(85), kappa + 12 / M_PER_DEG_LAT)
    add_point(conn, 1100, "W", "KAPPA", "ST", lon_at(205), kappa - 12 / M_PER_DEG_LAT)
    refresh_street_names(conn)
    best = geocode_parsed(conn, parse_query("1020 W KAPPA ST"))[0]
    assert "opposite_side_neighbours" in best.reasons
    assert metres(best, lon_at(43), kappa - 12 / M_PER_DEG_LAT) < 6


def test_one_known_number_moves_as_far_as_on_the_parallel_streets(grid):
    """W LAMBDA ST knows only 1301; on its parallel streets 1301 -> 1601 is 700 m west."""
    add_point(grid, 1301, "W", "LAMBDA", "ST", lon_at(705), LAT + 0.0007)
    refresh_street_names(grid)
    best = geocode_parsed(grid, parse_query("1601 W LAMBDA ST"))[0]
    assert "placed_by_address_grid" in best.reasons
    assert metres(best, lon_at(1405), LAT + 0.0007) < 15


def test_one_parallel_street_is_enough_to_move_off_a_lone_number(conn):
    """W PHI ST knows only 1001; one parallel street, W CHI ST, knows 1001 and 1401 400 m apart
    (and 1201, 250 numbers from the middle of the move): 1401 W PHI ST moves 400 m west too,
    as a rougher answer than one that several streets agree on."""
    phi = LAT + 0.09
    add_point(conn, 1001, "W", "PHI", "ST", lon_at(5), phi)
    for number, west in ((1001, 5), (1401, 405)):
        add_point(conn, number, "W", "CHI", "ST", lon_at(west), phi + 0.0014)
    refresh_street_names(conn)
    best = geocode_parsed(conn, parse_query("1401 W PHI ST"))[0]
    assert "placed_by_address_grid" in best.reasons
    assert metres(best, lon_at(405), phi) < 10
    assert best.extra["grid_streets"] == 1 and best.extra["chance"] < 0.2


def test_unknown_numbered_street_lies_between_its_numbered_neighbours(conn):
    """Nothing is known on W 42ND ST; W 41ST and W 43RD ST, 200 m apart, place 1051 between."""
    for name, dlat in (("41ST", 0.0009), ("43RD", -0.0009)):
        add_point(conn, 1001, "W", name, "ST", lon_at(5), LAT + 0.06 + dlat)
        add_point(conn, 1101, "W", name, "ST", lon_at(105), LAT + 0.06 + dlat)
    refresh_street_names(conn)
    best = geocode_parsed(conn, parse_query("1051 W 42ND ST"))[0]
    assert "between_numbered_streets" in best.reasons
    assert metres(best, lon_at(55), LAT + 0.06) < 5


def test_crossing_near_known_addresses_is_the_corner_not_their_midpoint(conn):
    """The closest known addresses of N NU AVE and W XI ST are 60 m and 80 m from their corner:
    their midpoint is 50 m off it; the streets' address lines cross at the corner."""
    xi_lat = LAT + 0.07
    add_crossing_streets(conn, "NU", "XI", xi_lat, (60, 120, 180, 240, 300), (680, 760, 840, 920))
    best = geocode_parsed(conn, parse_query("NU AVE AT XI ST"))[0]
    assert "crossing_of_address_lines" in best.reasons
    assert metres(best, lon_at(600), xi_lat) < 10


def test_far_past_the_only_known_number_the_axis_grid_says_where(conn):
    """W RHO ST knows only 1001; no parallel street knows 1001, but three know 1601 (1,400 m
    west): 1601 W RHO ST takes their longitude and its own street's latitude."""
    rho = LAT + 0.08
    add_point(conn, 1001, "W", "RHO", "ST", lon_at(5), rho)
    for name, dlat in (("SIGMA", 0.002), ("TAU", -0.002), ("UPSILON", 0.004)):
        add_point(conn, 1601, "W", name, "ST", lon_at(1405), rho + dlat)
    refresh_street_names(conn)
    best = geocode_parsed(conn, parse_query("1601 W RHO ST"))[0]
    assert metres(best, lon_at(1405), rho) < 10


def test_alternatives_never_score_above_the_answer_listed_before_them(conn):
    """Candidates keep the ladder's order; each published score is the model's chance, capped
    just below the one before it so the list reads best first."""
    from tests.db.test_locate import add_segment

    add_segment(conn, "rho-500", "RHO", "ST", "S", [(-118.30, 34.060), (-118.30, 34.062)],
                (501, 599), (500, 598))
    add_point(conn, 535, None, "RHO", "ST", -118.30, 34.080)
    refresh_street_names(conn)
    found = geocode_parsed(conn, parse_query("535 S RHO ST"))
    assert len(found) >= 2
    assert all(1 <= c.score <= 100 for c in found)
    assert all(a.score > b.score for a, b in zip(found, found[1:], strict=False))
    assert found[0].extra["rung_score"] >= found[1].extra["rung_score"]


def test_interpolation_between_weak_anchors_scores_lower(conn):
    """The same number between the same two numbers scores lower when those numbers were seen
    only in parking citations (confidence 0.5) than when the City geocoded them (0.9)."""
    for number, west in ((1001, 5), (1041, 85)):
        add_point(conn, number, "W", "SIGMA", "ST", lon_at(west), LAT + 0.05)
        add_point(conn, number, "W", "TAU", "ST", lon_at(west), LAT + 0.06)
    conn.execute(text("UPDATE address_point SET confidence = 0.5 WHERE name = 'TAU'"))
    refresh_street_names(conn)
    strong = geocode_parsed(conn, parse_query("1021 W SIGMA ST"))[0]
    weak = geocode_parsed(conn, parse_query("1021 W TAU ST"))[0]
    assert strong.precision == weak.precision == "interpolated_points"
    assert strong.score > weak.score


def test_anchors_the_city_geocoded_win_over_nearer_numbers_seen_only_in_citations(conn):
    """W MU ST: 1001 and 1041 geocoded by the City on the street's line, 1021 seen only in
    parking citations, 80 m off it: 1011 lies between 1001 and 1041, not half-way to 1021."""
    mu = LAT + 0.1
    add_point(conn, 1001, "W", "MU", "ST", lon_at(5), mu)
    add_point(conn, 1041, "W", "MU", "ST", lon_at(45), mu)
    add_point(conn, 1021, "W", "MU", "ST", lon_at(25), mu + 80 / M_PER_DEG_LAT, confidence=0.5)
    refresh_street_names(conn)
    best = geocode_parsed(conn, parse_query("1011 W MU ST"))[0]
    assert best.precision == "interpolated_points"
    assert metres(best, lon_at(15), mu) < 5


def test_a_number_seen_only_in_citations_yields_to_its_geocoded_neighbours(conn):
    """1011 W NU ST is known only from parking citations, 80 m off the street's line; 1001 and
    1021 are geocoded by the City on it: the answer is between them, the citation point listed
    after it."""
    nu = LAT + 0.11
    add_point(conn, 1001, "W", "NU", "ST", lon_at(5), nu)
    add_point(conn, 1021, "W", "NU", "ST", lon_at(25), nu)
    add_point(conn, 1011, "W", "NU", "ST", lon_at(15), nu + 80 / M_PER_DEG_LAT, confidence=0.5)
    refresh_street_names(conn)
    best, *others = geocode_parsed(conn, parse_query("1011 W NU ST"))
    assert best.precision == "interpolated_points" and metres(best, lon_at(15), nu) < 5
    assert any(c.precision == "address_point" for c in others)
