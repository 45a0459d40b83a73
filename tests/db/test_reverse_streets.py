"""Which street a pin is on from the lines of known addresses (geo311.reverse_streets): known
answers on hand-made streets, no LA data."""

from __future__ import annotations

from sqlalchemy import text

from geo311.reverse_streets import street_from_addresses
from tests.db.test_geocode_grid import M_PER_DEG_LAT, M_PER_DEG_LON, add_point

LON0, LAT0 = -118.40, 34.20


def _at(east_m: float, north_m: float) -> tuple[float, float]:
    return LON0 + east_m / M_PER_DEG_LON, LAT0 + north_m / M_PER_DEG_LAT


def test_a_pin_beside_a_street_beats_the_end_of_a_cross_streets_line(conn):
    """PHI ST's addresses run east-west through the pin's block, 20 m south of the pin; CHI AVE's
    start 15 m north of it and run north. The pin lies past the end of CHI AVE's line, so PHI ST
    is its street although CHI AVE's last address is nearer."""
    for i, east in enumerate(range(-200, 201, 20)):
        add_point(conn, 1000 + 2 * i, "W", "PHI", "ST", *_at(east, -20 + (i % 2) * 4))
    for i, north in enumerate(range(15, 300, 20)):
        add_point(conn, 2000 + 2 * i, "N", "CHI", "AVE", *_at((i % 2) * 4, north))
    guess = street_from_addresses(conn, *_at(0, 0))
    assert guess is not None and guess.street_key == "PHI ST"


def test_a_pin_along_a_streets_line_is_on_that_street(conn):
    for i, north in enumerate(range(-300, 301, 20)):
        add_point(conn, 2000 + 2 * i, "N", "PSI", "AVE", *_at((i % 2) * 4, north))
    guess = street_from_addresses(conn, *_at(10, 5))
    assert guess is not None and guess.street_key == "PSI AVE"
    assert 2000 < guess.house_number < 2062


def add_range(conn, name: str, suffix: str, start: tuple[float, float], end: tuple[float, float],
              from_number: int = 1000, to_number: int = 1098) -> None:
    """An observed range (both sides) of ``name suffix`` from ``start`` to ``end`` (lon, lat)."""
    conn.execute(text(
        """
        INSERT INTO street_range (source, street_key, name, suffix, parity, from_number, to_number,
            observations, confidence, length_m, attrs, geom)
        VALUES ('observed', :key, :name, :sfx, 'all', :a, :b, 2, 0.8,
                ST_Length(ST_MakeLine(ST_MakePoint(:x0, :y0), ST_MakePoint(:x1, :y1))::geography),
                '{}', ST_SetSRID(ST_MakeLine(ST_MakePoint(:x0, :y0), ST_MakePoint(:x1, :y1)), 4326))
        """), {"key": f"{name} {suffix}", "name": name, "sfx": suffix, "a": from_number,
               "b": to_number, "x0": start[0], "y0": start[1], "x1": end[0], "y1": end[1]})


def test_an_observed_range_names_the_street_where_no_address_is_near(conn):
    """No known address lies within the box read around the pin, but an observed range (drawn
    between two numbers known farther off) passes 60 m from it: that range's street answers."""
    add_range(conn, "OMEGA", "ST", _at(-1500, 60), _at(1500, 60))
    guess = street_from_addresses(conn, *_at(0, 0))
    assert guess is not None and guess.street_key == "OMEGA ST"
    assert 1000 < guess.house_number < 1098


def test_a_lone_address_beside_the_pin_beats_a_line_a_little_farther(conn):
    """TAU CT is known by one address 5 m from the pin; RHO AVE's line passes 9 m away. The lone
    address names the pin's street: one address is as good a guide as a line."""
    add_point(conn, 500, None, "TAU", "CT", *_at(5, 0))
    for i, north in enumerate(range(-300, 301, 20)):
        add_point(conn, 2000 + 2 * i, "N", "RHO", "AVE", *_at(-9 + (i % 2) * 0.5, north))
    guess = street_from_addresses(conn, *_at(0, 0))
    assert guess is not None and guess.street_key == "TAU CT"


def test_a_streets_own_address_line_beats_an_observed_range_a_little_nearer(conn):
    """An observed range only joins two known numbers (across a bend, or a block apart), so it is a
    rougher line than a street's own addresses: SIGMA AVE's address line 13.5 m from the pin beats
    KAPPA ST's 200 m range 10 m from it."""
    add_range(conn, "KAPPA", "ST", _at(-100, 10), _at(100, 10))
    for i, north in enumerate(range(-300, 301, 20)):
        add_point(conn, 2000 + 2 * i, "N", "SIGMA", "AVE", *_at(13.5 + (i % 2) * 0.5, north))
    guess = street_from_addresses(conn, *_at(0, 0))
    assert guess is not None and guess.street_key == "SIGMA AVE"
