"""Locate on hand-made streets inside the fixture city (tests/fixtures/geo).

Main St runs south to north along lon -118.25, which is also the line between the old council
districts 1 (west) and 2 (east): odd numbers on the west (left) side, even on the east (right).
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from geo311.errors import BadRequest
from geo311.geocode import refresh_street_names
from geo311.locate import locate_point, locate_text

OLD = date(2018, 6, 1)
MAIN = -118.25


def add_segment(conn, source_id, name, suffix, pre_dir, coords, l_range=(None, None),
                r_range=(None, None), from_street=None, to_street=None, zip_code="90012"):
    full = " ".join(p for p in (pre_dir, name, suffix) if p)
    wkt = "LINESTRING(" + ", ".join(f"{x} {y}" for x, y in coords) + ")"
    conn.execute(text(
        """
        INSERT INTO street_segment (source, source_id, pre_dir, name, suffix, full_name, street_key,
            l_from, l_to, r_from, r_to, l_zip, r_zip, from_street, to_street, length_m, attrs, geom)
        VALUES ('test', :sid, :pre, :name, :sfx, :full, :key, :lf, :lt, :rf, :rt, :zip, :zip,
                :fs, :ts, ST_Length(ST_GeomFromText(:wkt, 4326)::geography), '{}',
                ST_GeomFromText(:wkt, 4326))
        """), {"sid": source_id, "pre": pre_dir, "name": name, "sfx": suffix, "full": full,
               "key": f"{name} {suffix}", "lf": l_range[0], "lt": l_range[1], "rf": r_range[0],
               "rt": r_range[1], "zip": zip_code, "fs": from_street, "ts": to_street, "wkt": wkt})


def add_address(conn, number, fraction, pre_dir, name, suffix, lon, lat, kind="address"):
    label = " ".join(p for p in (str(number), fraction, pre_dir, name, suffix) if p)
    conn.execute(text(
        """
        INSERT INTO address_point (source, source_id, kind, house_number, number_suffix, pre_dir,
            name, suffix, zip, full_address, street_key, confidence, observations, attrs, geom)
        VALUES ('test', NULL, :kind, :n, :frac, :pre, :name, :sfx, '90012', :label, :key, 1, 1,
                '{}', ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
        """), {"kind": kind, "n": number, "frac": fraction, "pre": pre_dir, "name": name,
               "sfx": suffix, "label": f"{label}, 90012", "key": f"{name} {suffix}", "lon": lon,
               "lat": lat})


@pytest.fixture
def streets(conn):
    add_segment(conn, "main-100", "MAIN", "ST", "N", [(MAIN, 34.010), (MAIN, 34.012)],
                (101, 199), (100, 198), "3RD ST", "1ST ST")
    add_segment(conn, "main-200", "MAIN", "ST", "N", [(MAIN, 34.012), (MAIN, 34.014)],
                (201, 299), (200, 298), "1ST ST", "2ND ST")
    for name, lat in (("3RD", 34.010), ("1ST", 34.012), ("2ND", 34.014)):
        add_segment(conn, f"{name}-w", name, "ST", None, [(-118.252, lat), (MAIN, lat)],
                    from_street=None, to_street="N MAIN ST")
        add_segment(conn, f"{name}-e", name, "ST", None, [(MAIN, lat), (-118.248, lat)],
                    from_street="N MAIN ST", to_street=None)
    add_address(conn, 210, "1/2", "N", "MAIN", "ST", MAIN + 0.0001, 34.0131)
    refresh_street_names(conn)
    return conn


def test_reverse_pin_east_of_main_gets_even_number_east_side_and_cross_streets(streets):
    result = locate_point(streets, MAIN + 0.0001, 34.011, on=OLD)
    assert result.pin.lon == MAIN + 0.0001 and result.pin.lat == 34.011  # raw pin untouched
    assert result.precision == "interpolated_range"
    assert int(result.address.house_number) % 2 == 0
    assert 140 <= int(result.address.house_number) <= 160
    assert result.segment.side == "right" and result.segment.side_compass == "east"
    assert (result.segment.from_street, result.segment.to_street) == ("3RD ST", "1ST ST")
    assert 5 < result.segment.distance_m < 15
    assert "house_number_interpolated" in result.reasons


def test_reverse_pin_west_of_main_gets_odd_number_west_side(streets):
    result = locate_point(streets, MAIN - 0.0001, 34.011, on=OLD)
    assert int(result.address.house_number) % 2 == 1
    assert result.segment.side == "left" and result.segment.side_compass == "west"


def test_pin_on_district_line_lists_both_and_side_of_street_decides(streets):
    result = locate_point(streets, MAIN + 0.00005, 34.011, on=OLD)
    lines = [a for a in result.ambiguities if a.kind == "district_line" and a.type == "CD"]
    assert sorted(a.code for a in lines) == ["1", "2"]
    assert all(a.distance_m is not None for a in lines)
    chosen = [a for a in lines if a.chosen]
    assert [a.code for a in chosen] == ["2"] and "side of the street" in chosen[0].why
    assert [a["code"] for a in result.areas if a["type"] == "CD"] == ["2"]
    assert "near_district_line" in result.reasons


def test_areas_hold_one_area_per_type(streets):
    result = locate_point(streets, MAIN + 0.00005, 34.011, on=OLD)
    types = [a["type"] for a in result.areas]
    assert len(types) == len(set(types))


def test_reverse_prefers_a_near_address_point(streets):
    result = locate_point(streets, MAIN + 0.00012, 34.01312, on=OLD)
    assert result.precision == "address_point"
    assert result.address.house_number == "210 1/2"
    assert (result.lon, result.lat) == pytest.approx((MAIN + 0.0001, 34.0131))


def test_forward_even_number_lands_on_east_side_by_range_and_parity(streets):
    result = locate_text(streets, "150 N Main St", on=OLD)
    assert result.precision == "interpolated_range"
    assert result.lon > MAIN and 34.0105 < result.lat < 34.0115
    assert "house_number_interpolated" in result.reasons
    odd = locate_text(streets, "151 n main street", on=OLD)
    assert odd.lon < MAIN


def test_forward_fractional_address_matches_the_address_point(streets):
    result = locate_text(streets, "210 1/2 N Main St, Los Angeles, CA 90012", on=OLD)
    assert result.precision == "address_point" and result.score == 100
    assert result.address.house_number == "210 1/2"


def test_forward_misspelled_street_is_fuzzy_and_scores_lower(streets):
    exact = locate_text(streets, "150 N Main St", on=OLD)
    fuzzy = locate_text(streets, "150 N Mian St", on=OLD)
    assert "fuzzy_street_name" in fuzzy.reasons
    assert fuzzy.score < exact.score
    assert (fuzzy.lon, fuzzy.lat) == pytest.approx((exact.lon, exact.lat))


def test_forward_zip_mismatch_is_named(streets):
    result = locate_text(streets, "150 N Main St 90099", on=OLD)
    assert "zip_mismatch" in result.reasons


def test_intersection(streets):
    result = locate_text(streets, "Main St & 1st St", on=OLD)
    assert result.precision == "intersection"
    assert (result.lon, result.lat) == pytest.approx((MAIN, 34.012), abs=1e-5)
    assert locate_text(streets, "main and 1st", on=OLD).precision == "intersection"


def test_block_between_two_cross_streets(streets):
    result = locate_text(streets, "Main St between 3rd and 1st", on=OLD)
    assert result.precision == "street_block"
    assert (result.lon, result.lat) == pytest.approx((MAIN, 34.011), abs=1e-5)
    # The block typed is the block found: scored as its less sure corner's rung (both on the
    # centerline: 90, less 12 for the cross streets typed without suffix), not as a
    # hundred-block guess of the score model (which gave 3-21 to such blocks).
    assert result.score == 78
    one_end = locate_text(streets, "Main St between 3rd and Nowhere", on=OLD)
    assert "one_cross_street_only" in one_end.reasons and one_end.score < 30


def test_pin_in_county_island_says_who_is_responsible(streets):
    result = locate_point(streets, -118.255, 34.045)
    assert result.jurisdiction.kind == "county_island"
    assert result.jurisdiction.inside_city is False
    assert "outside_city" in result.reasons


def test_pin_in_the_ocean_is_an_honest_no_match(streets):
    result = locate_point(streets, -118.40, 34.0)
    assert result.score == 0 and result.precision == "none" and result.lon is None
    assert result.pin.lon == -118.40


def test_unknown_text_is_an_honest_no_match(streets):
    result = locate_text(streets, "zzzz qqqq xxxx", on=OLD)
    assert result.score == 0 and result.precision == "none"


@pytest.mark.parametrize("bad", ["", "   ", "x" * 2000])
def test_empty_or_huge_text_is_a_bad_request(streets, bad):
    with pytest.raises(BadRequest):
        locate_text(streets, bad)


def test_answer_has_the_contract_keys(streets):
    answer = locate_point(streets, MAIN + 0.0001, 34.011, on=OLD).as_dict()
    for key in ("pin", "location", "precision", "score", "reasons", "address", "segment", "areas",
                "jurisdiction", "ambiguities", "candidates"):
        assert key in answer
    assert set(answer["address"]) >= {"house_number", "street", "zip", "text"}
    assert set(answer["segment"]) >= {"id", "street", "from_street", "to_street", "side",
                                      "distance_m"}


def test_county_island_in_spanish(streets):
    result = locate_point(streets, -118.255, 34.045, lang="es")
    assert "isla no incorporada del Condado" in result.jurisdiction.message
    assert result.jurisdiction.contact.startswith("Condado de Los Ángeles")


def test_reverse_names_the_street_as_the_city_does(streets):
    """The address layer's 30 VENICE BLVD (pre S) under the pin, and the City's own geocode of
    44 E SOUTH VENICE BLVD 40 m along: the answer keeps the layer's number and takes the City's
    name of the street."""
    add_address(streets, 30, None, "S", "VENICE", "BLVD", -118.2530, 34.0130)
    add_address(streets, 44, None, "E", "SOUTH VENICE", "BLVD", -118.25257, 34.0130,
                kind="observed")
    result = locate_point(streets, -118.25301, 34.01301, on=OLD)
    assert result.address.house_number == "30"
    assert result.address.street == "E SOUTH VENICE BLVD"
    assert "street_named_as_the_city_does" in result.reasons


def test_reverse_keeps_the_layer_name_when_the_city_names_another_street(streets):
    add_address(streets, 30, None, "S", "VENICE", "BLVD", -118.2530, 34.0130)
    add_address(streets, 44, None, "E", "VENICE VIEW", "DR", -118.25257, 34.0130, kind="observed")
    result = locate_point(streets, -118.25301, 34.01301, on=OLD)
    assert result.address.street == "S VENICE BLVD"
    assert "street_named_as_the_city_does" not in result.reasons


def test_reverse_keeps_the_layer_name_when_only_the_suffix_differs(streets):
    """FLOWER AVE and FLOWER ST are two streets: the City's FLOWER ST nearby renames nothing."""
    add_address(streets, 30, None, None, "FLOWER", "AVE", -118.2530, 34.0130)
    add_address(streets, 44, None, None, "FLOWER", "ST", -118.25257, 34.0130, kind="observed")
    result = locate_point(streets, -118.25301, 34.01301, on=OLD)
    assert result.address.street == "FLOWER AVE"


def test_reverse_takes_the_city_spelling_used_around_the_point(streets):
    """The City's SOUTH VENICE BLVD addresses are 150 m and 200 m away (too far to be the pin's
    neighbours) and no City address writes S VENICE BLVD there: the City's spelling wins."""
    add_address(streets, 218, None, "S", "VENICE", "BLVD", -118.2530, 34.0130)
    add_address(streets, 408, None, "E", "SOUTH VENICE", "BLVD", -118.2514, 34.0130,
                kind="observed")
    add_address(streets, 40, None, "E", "SOUTH VENICE", "BLVD", -118.2552, 34.0130,
                kind="observed")
    result = locate_point(streets, -118.25301, 34.01301, on=OLD)
    assert (result.address.house_number, result.address.street) == ("218", "E SOUTH VENICE BLVD")
    assert "street_named_as_the_city_does" in result.reasons


def test_reverse_keeps_the_direction_most_city_addresses_write(streets):
    """Around N MAIN ST the City writes N MAIN ST twice and NORTH MAIN ST once: no renaming."""
    add_address(streets, 1700, None, "N", "MAIN", "ST", -118.2530, 34.0130)
    for number, lon in ((1750, -118.2514), (1650, -118.2545)):
        add_address(streets, number, None, "N", "MAIN", "ST", lon, 34.0130, kind="observed")
    add_address(streets, 1800, None, "N", "NORTH MAIN", "ST", -118.2500, 34.0130, kind="observed")
    result = locate_point(streets, -118.25301, 34.01301, on=OLD)
    assert result.address.street == "N MAIN ST"
    assert "street_named_as_the_city_does" not in result.reasons


def test_reverse_on_one_spot_under_two_names_always_gives_one_answer(streets):
    """An intersection observed under both its streets: the same pin gets the same street
    whichever row the index returns first (inserted in both orders)."""
    answers = set()
    for order in (("ALPHA", "OMEGA"), ("OMEGA", "ALPHA")):
        for name in order:
            add_address(streets, 500, None, None, name, "ST", -118.2530, 34.0130, kind="observed")
        answers.add(locate_point(streets, -118.25301, 34.01301, on=OLD).address.street)
        streets.execute(text("DELETE FROM address_point WHERE source = 'test' "
                             "AND name IN ('ALPHA', 'OMEGA')"))
    assert len(answers) == 1


def _add_zip_addresses(conn, zip_code, lon, lat, count=24):
    """``count`` City-observed addresses of OTHER ST in ``zip_code``, on a small grid at lon/lat."""
    for i in range(count):
        x, y = lon + (i % 6) * 0.0004, lat + (i // 6) * 0.0004
        conn.execute(text(
            """
            INSERT INTO address_point (source, kind, house_number, name, suffix, zip,
                full_address, street_key, confidence, observations, attrs, geom)
            VALUES ('test', 'observed', :n, 'OTHER', 'ST', :zip, :label, 'OTHER ST', 1, 1, '{}',
                    ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
            """), {"n": 100 + 2 * i, "zip": zip_code, "lon": x, "lat": y,
                   "label": f"{100 + 2 * i} OTHER ST, {zip_code}"})
    refresh_street_names(conn)


def test_a_street_unknown_in_the_typed_zip_answers_the_zip_centre(streets):
    """MAIN ST is known only in 90012, 3 km from the typed 90099: the ZIP's centre comes first,
    scored as the rough answer it is, and the faraway MAIN ST stays listed with zip_mismatch."""
    _add_zip_addresses(streets, "90099", -118.2500, 34.0380)
    result = locate_text(streets, "999 Main St, 90099", on=OLD)
    assert result.precision == "area_centroid" and "street_not_found_in_zip" in result.reasons
    assert result.address.zip == "90099" and result.score <= 10
    assert abs(result.lon - -118.249) < 0.002 and abs(result.lat - 34.0386) < 0.002
    faraway = [c for c in result.candidates if c.precision == "street"]
    assert faraway and all("zip_mismatch" in c.reasons for c in faraway)
    assert all(c.score <= result.score for c in faraway)


def test_a_street_known_in_the_typed_zip_is_not_sent_to_the_zip_centre(streets):
    _add_zip_addresses(streets, "90012", -118.2505, 34.0100)
    result = locate_text(streets, "999 Main St, 90012", on=OLD)
    assert result.precision != "area_centroid"
    assert "zip_mismatch" not in result.reasons


def test_a_street_unknown_everywhere_with_a_known_zip_answers_the_zip_centre(streets):
    _add_zip_addresses(streets, "90099", -118.2500, 34.0380)
    result = locate_text(streets, "12 Qwxyzzy Blvd, 90099", on=OLD)
    assert result.precision == "area_centroid" and result.address.zip == "90099"


def test_an_area_centre_keeps_its_rung_score(streets):
    """An area's centre is never within 30 m of a problem: the score model (fitted on typed
    addresses) does not lift it."""
    _add_zip_addresses(streets, "90099", -118.2500, 34.0380)
    result = locate_text(streets, "7 Nowhere Pl, 90099", on=OLD)
    assert result.score <= 5


def test_a_segment_without_ranges_under_the_pin_beats_an_address_a_block_away(streets):
    """An unranged segment (OpenStreetMap, the High Injury Network) 6 m from the pin names its
    street; the nearest known address, 45 m off on a cross street, does not."""
    add_segment(streets, "osm-elm", "ELM", "AVE", None,
                [(-118.2560, 34.0200), (-118.2560, 34.0220)])
    add_address(streets, 900, None, None, "OAK", "ST", -118.2565, 34.0210)
    result = locate_point(streets, -118.25607, 34.0210, on=OLD)
    assert result.precision == "street" and result.address.street == "ELM AVE"
    assert "street_only" in result.reasons


def test_an_address_right_under_the_pin_still_beats_the_segment(streets):
    add_segment(streets, "osm-elm", "ELM", "AVE", None,
                [(-118.2560, 34.0200), (-118.2560, 34.0220)])
    add_address(streets, 900, None, None, "OAK", "ST", -118.25615, 34.0210)
    result = locate_point(streets, -118.25607, 34.0210, on=OLD)
    assert result.address.street == "OAK ST"


def test_a_segment_named_without_suffix_takes_the_suffix_its_addresses_use(streets):
    """The High Injury Network writes TEMPLE; the City's addresses beside it say TEMPLE ST."""
    add_segment(streets, "hin-temple", "TEMPLE", None, None,
                [(-118.2600, 34.0300), (-118.2580, 34.0300)])
    streets.execute(text("UPDATE street_segment SET street_key = 'TEMPLE', full_name = 'TEMPLE' "
                         "WHERE source_id = 'hin-temple'"))
    add_address(streets, 1365, None, "W", "TEMPLE", "ST", -118.2590, 34.0306, kind="observed")
    result = locate_point(streets, -118.2595, 34.03003, on=OLD)
    assert result.precision == "street" and result.address.street == "W TEMPLE ST"


def test_one_spot_under_five_names_answers_the_street_name_not_a_route_alias(streets):
    """The County's layer gives 401 LINCOLN BLVD also as PCH, SR 1, ROUTE 1 and HIGHWAY 1 at the
    same point; the street's name wins however many aliases the index returns first."""
    for name, suffix in (("PCH", None), ("SR 1", None), ("ROUTE 1", None), ("HIGHWAY 1", None),
                         ("LINCOLN", "BLVD")):
        add_address(streets, 401, None, None, name, suffix, -118.2530, 34.0130)
    result = locate_point(streets, -118.25301, 34.01301, on=OLD)
    assert result.address.street == "LINCOLN BLVD"


def test_a_zip_typed_alone_answers_its_centre(streets):
    _add_zip_addresses(streets, "90099", -118.2500, 34.0380)
    result = locate_text(streets, "90099", on=OLD)
    assert result.precision == "area_centroid" and result.reasons == ("zip_only",)
    assert result.address.zip == "90099" and result.score <= 5
    assert locate_text(streets, "90098", on=OLD).precision == "none"  # a ZIP we know nothing of


def test_an_intersection_not_found_in_the_typed_zip_answers_the_zip_centre(streets):
    _add_zip_addresses(streets, "90099", -118.2500, 34.0380)
    result = locate_text(streets, "Qwxyzzy Blvd at Zyxwq Ave, 90099", on=OLD)
    assert result.precision == "area_centroid"
    assert result.reasons[0] == "intersection_not_found_in_zip" and result.address.zip == "90099"
    # A crossing that is found stays the answer even 3 km from the typed ZIP: corners sit on ZIP
    # edges, and the City's records give either side's ZIP.
    assert locate_text(streets, "Main St & 1st St, 90099", on=OLD).precision == "intersection"


def _add_county_city(conn, name, west, south, east, north):
    """A county city of the test County, with its part for point lookups."""
    set_id = conn.execute(text(
        "INSERT INTO boundary_set (type_code, vintage, title, source, definition, feature_count) "
        "VALUES ('COUNTY_CITY', 'test', 'test county cities', 'test', 'test', 1) RETURNING id"
    )).scalar_one()
    area_id = conn.execute(text(
        "INSERT INTO area (set_id, code, name, attrs, geom) VALUES (:set_id, :code, :name, '{}', "
        "ST_Multi(ST_MakeEnvelope(:w, :s, :e, :n, 4326))) RETURNING id"),
        {"set_id": set_id, "code": name.upper(), "name": name, "w": west, "s": south, "e": east,
         "n": north}).scalar_one()
    conn.execute(text("INSERT INTO area_part (area_id, set_id, geom) "
                      "SELECT id, set_id, (ST_Dump(geom)).geom FROM area WHERE id = :id"),
                 {"id": area_id})


def test_an_address_typed_in_another_county_city_is_not_the_citys_namesake(streets):
    """Main St is known in the City; typed with Pasadena (4.5 km away) the answer is Pasadena
    itself, who is responsible there, and the City's Main St follows, marked community_mismatch."""
    _add_county_city(streets, "Pasadena", -118.20, 34.05, -118.15, 34.10)
    result = locate_text(streets, "150 Main St, Pasadena", on=OLD)
    assert result.precision == "area_centroid" and "community_outside_city" in result.reasons
    assert result.address.text == "Pasadena" and result.score <= 5
    assert result.jurisdiction.kind == "county_city" and not result.jurisdiction.inside_city
    assert all("community_mismatch" in c.reasons for c in result.candidates[1:])
    assert result.candidates[1].address.street.endswith("MAIN ST")


def test_a_mailing_city_next_door_keeps_the_citys_address(streets):
    """West Hollywood 2 km from the City's Main St: a mailing city reaches past its limits, so
    the City's address stands."""
    _add_county_city(streets, "West Hollywood", -118.23, 34.00, -118.22, 34.02)
    result = locate_text(streets, "150 Main St, West Hollywood", on=OLD)
    assert result.precision != "area_centroid"
    assert "community_mismatch" not in result.reasons


@pytest.mark.parametrize("typed, found, best_score", [
    ("Fire Station 29", "Fire Station 29", 60),   # the place itself
    ("City Hall", "Test Hills City Hall", 30),    # a place whose name only contains it
    ("Dodger Stadium", "Drake Stadium", 15),      # only resembles it: not a confident answer
])
def test_a_place_scores_by_how_well_its_name_matches(streets, typed, found, best_score):
    for name in ("Fire Station 29", "Test Hills City Hall", "Drake Stadium"):
        streets.execute(text(
            "INSERT INTO facility (type, source, name, attrs, geom) VALUES ('test', 'test', :n, "
            "'{}', ST_SetSRID(ST_MakePoint(-118.2560, 34.0150), 4326))"), {"n": name})
    result = locate_text(streets, typed, on=OLD)
    assert result.precision == "place" and result.address.text == found
    assert result.score == best_score


def test_a_street_mostly_outside_the_city_answers_at_its_part_inside(conn):
    """OMEGA AVE runs 1 km inside the fixture city's east edge (-118.2) and 5 km beyond it: the
    centre of its segments is outside, the answer is on its part inside (as "Sunset Blvd" is in
    Los Angeles, not in West Hollywood where the whole street's centre falls)."""
    add_segment(conn, "omega-in", "OMEGA", "AVE", None,
                [(-118.215, 34.08), (-118.21, 34.08), (-118.205, 34.08)])
    for i in range(5):
        west = -118.20 + i * 0.01
        add_segment(conn, f"omega-out-{i}", "OMEGA", "AVE", None,
                    [(west, 34.08), (west + 0.005, 34.08), (west + 0.01, 34.08)])
    refresh_street_names(conn)
    result = locate_text(conn, "Omega Ave", on=OLD)
    assert result.precision == "street"
    assert result.jurisdiction.inside_city is True
    assert -118.215 <= result.lon <= -118.2 and result.lat == pytest.approx(34.08)
