"""Which street a pin is on from the lines of known addresses (geo311.reverse_streets): known
answers on hand-made streets, no LA data."""

from __future__ import annotations

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
