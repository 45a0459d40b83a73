"""Tests for geo311.address_parse: one test per LA rule, City formats, fuzzing, MyLA311 data."""

from __future__ import annotations

import csv
import doctest
import random
import string
from pathlib import Path

import pytest
import usaddress

from geo311 import address_parse, address_words
from geo311.address_parse import (
    LA_COMMUNITIES,
    USPS_SUFFIXES,
    ParsedQuery,
    StreetRef,
    normalize_direction,
    normalize_street_name,
    normalize_suffix,
    parse_query,
    street_key,
)

MYLA311 = Path(__file__).parents[2].parent / "shared/data/la/myla311"
MYLA311_2018 = MYLA311 / "myla311_2018_sample_10k_a.csv"


def _street(text: str) -> tuple[str | None, str, str | None, str | None]:
    street = parse_query(text).street
    assert street is not None, text
    return street.pre_dir, street.name, street.suffix, street.post_dir


def _names(query: ParsedQuery) -> list[str]:
    return [street.label() for street in query.cross_streets]


def test_doctests_pass() -> None:
    for module in (address_parse, address_words):
        assert doctest.testmod(module).failed == 0


# --- MyLA311 and LADOT formats must parse perfectly ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "number", "street", "zip_code"),
    [
        ("356 S BERENDO ST, 90020", 356, ("S", "BERENDO", "ST", None), "90020"),
        ("6125 E MESA AVE, 90042", 6125, ("E", "MESA", "AVE", None), "90042"),
        ("8209 N KESTER AVE, 91402", 8209, ("N", "KESTER", "AVE", None), "91402"),
        ("243 S AVENUE 50, 90042", 243, ("S", "AVENUE 50", None, None), "90042"),
        ("3980 W MARTIN LUTHER KING, JR BLVD, 90008", 3980,
         ("W", "MARTIN LUTHER KING JR", "BLVD", None), "90008"),
        ("2122 N NORTH BROADWAY, 90031", 2122, ("N", "NORTH BROADWAY", None, None), "90031"),
        ("11027 AQUA VISTA ST, 91602-3709", 11027, (None, "AQUA VISTA", "ST", None), "91602"),
        ("4927 E HUNTINGTON DR NORTH, 90032", 4927, ("E", "HUNTINGTON", "DR", "N"), "90032"),
        ("600 WILSHIRE PL", 600, (None, "WILSHIRE", "PL", None), None),
        ("4900 SUNSET BL", 4900, (None, "SUNSET", "BLVD", None), None),
        ("800 ARDMORE AVE S", 800, (None, "ARDMORE", "AVE", "S"), None),
        ("901 E ST W", 901, (None, "E", "ST", "W"), None),
    ],
)  # fmt: skip
def test_city_formats_parse_exactly(
    text: str, number: int, street: tuple[str | None, ...], zip_code: str | None
) -> None:
    query = parse_query(text)
    assert query.kind == "address"
    assert query.house_number == number
    assert _street(text) == street
    assert query.zip == zip_code
    assert query.unit is None and query.cross_streets == ()


def test_myla311_intersection_style_at() -> None:
    query = parse_query("HUMBOLDT ST AT ARTESIAN PL, 90031")
    assert query.kind == "intersection"
    assert query.street == StreetRef("HUMBOLDT", suffix="ST")
    assert _names(query) == ["ARTESIAN PL"]
    assert query.zip == "90031"


def test_meter_blockface_side_of_street_is_dropped() -> None:
    query = parse_query("1400 MAIN ST (S)")
    assert _street("1400 MAIN ST (S)") == (None, "MAIN", "ST", None)
    assert "street_side_ignored" in query.notes


# --- LA rules, one test each ---------------------------------------------------------------------


def test_directional_prefix_abbreviated_or_spelled() -> None:
    assert _street("123 N Vermont Ave") == ("N", "VERMONT", "AVE", None)
    assert _street("123 North Vermont Avenue") == ("N", "VERMONT", "AVE", None)
    assert _street("123 s. vermont ave.") == ("S", "VERMONT", "AVE", None)


def test_direction_word_that_is_the_name_is_kept() -> None:
    assert _street("1234 S West Blvd") == ("S", "WEST", "BLVD", None)
    assert _street("West Blvd") == (None, "WEST", "BLVD", None)


@pytest.mark.parametrize(
    ("typed", "standard"),
    [("Boulevard", "BLVD"), ("Blvd", "BLVD"), ("Bl", "BLVD"), ("Avenue", "AVE"), ("Av", "AVE"),
     ("Ave.", "AVE"), ("Street", "ST"), ("St", "ST"), ("Place", "PL"), ("Drive", "DR"),
     ("Terrace", "TER"), ("Lane", "LN"), ("Road", "RD"), ("Parkway", "PKWY"), ("Highway", "HWY"),
     ("Circle", "CIR"), ("Court", "CT"), ("Trail", "TRL"), ("Way", "WAY"), ("Walk", "WALK")],
)  # fmt: skip
def test_suffix_variants_become_usps_abbreviations(typed: str, standard: str) -> None:
    assert normalize_suffix(typed) == standard
    assert _street(f"100 Main {typed}")[2] == standard


def test_usps_table_maps_every_standard_to_itself_and_rejects_names() -> None:
    standards = set(USPS_SUFFIXES.values())
    assert all(USPS_SUFFIXES[standard] == standard for standard in standards)
    assert {"ALY", "BLVD", "CIR", "HWY", "PKWY", "SQ", "TRL", "XING"} <= standards
    assert normalize_suffix("Berendo") is None and normalize_suffix("") is None


@pytest.mark.parametrize("typed", ["3rd", "Third", "3", "3RD", "third"])
def test_numbered_streets_both_ways(typed: str) -> None:
    assert _street(f"{typed} St") == (None, "3RD", "ST", None)
    assert _street(f"1234 W {typed} St")[1] == "3RD"


@pytest.mark.parametrize(
    ("spelled", "ordinal"),
    [("First", "1ST"), ("Second", "2ND"), ("Eleventh", "11TH"), ("Twelfth", "12TH"),
     ("Twenty-First", "21ST"), ("Forty Second", "42ND"), ("Fiftieth", "50TH"),
     ("one hundred third", "103RD"), ("One Hundred and Twelfth", "112TH")],
)  # fmt: skip
def test_spelled_ordinals(spelled: str, ordinal: str) -> None:
    assert normalize_street_name(spelled) == ordinal
    assert "spelled_number_normalized" in parse_query(f"{spelled} St").notes


def test_fractional_house_number() -> None:
    query = parse_query("1234 1/2 W 3rd St")
    assert (query.house_number, query.house_fraction) == (1234, "1/2")
    assert _street("1234 1/2 W 3rd St") == ("W", "3RD", "ST", None)
    assert parse_query("1234½ W 3rd St").house_fraction == "1/2"


@pytest.mark.parametrize(
    ("text", "unit"),
    [("123 Main St Apt 5", "APT 5"), ("123 Main St #5", "# 5"), ("123 Main St Unit B", "UNIT B"),
     ("123 Main St Ste 200", "STE 200"), ("123 Main St, Apt. 5", "APT 5"),
     ("123 Main St Spc 12", "SPC 12"), ("123 Main St Rear", "REAR")],
)  # fmt: skip
def test_units_are_kept_but_not_part_of_the_street(text: str, unit: str) -> None:
    query = parse_query(text)
    assert query.unit == unit
    assert query.street == StreetRef("MAIN", suffix="ST")
    assert "unit_ignored" in query.notes


def test_zip_plus_four_and_state() -> None:
    query = parse_query("123 Main St Los Angeles CA 90012-1234")
    assert query.zip == "90012" and query.community == "LOS ANGELES"
    assert query.street == StreetRef("MAIN", suffix="ST")


def test_community_used_as_city() -> None:
    query = parse_query("14410 Sylvan St, Van Nuys, CA 91401")
    assert (query.house_number, query.zip, query.community) == (14410, "91401", "VAN NUYS")
    assert query.street == StreetRef("SYLVAN", suffix="ST")
    assert "community_as_city" in query.notes
    no_commas = parse_query("14410 Sylvan St Van Nuys CA 91401")
    assert (no_commas.street, no_commas.community) == (query.street, "VAN NUYS")


def test_city_outside_los_angeles_is_flagged() -> None:
    query = parse_query("123 Main St, Santa Monica, CA 90401")
    assert query.community == "SANTA MONICA"
    assert "community_outside_city" in query.notes


def test_casing_and_punctuation_noise() -> None:
    query = parse_query("356 s. berendo st.,  los angeles ca")
    assert query.kind == "address" and query.house_number == 356
    assert query.street == StreetRef("BERENDO", "S", "ST")
    assert query.community == "LOS ANGELES"
    assert "community_as_city" not in query.notes


@pytest.mark.parametrize(
    "text",
    ["Sunset Blvd & Vine St", "sunset and vine", "Sunset / Vine", "Sunset/Vine", "Sunset at Vine",
     "corner of sunset and vine", "esquina de Sunset y Vine", "SUNSET @ VINE"],
)  # fmt: skip
def test_intersections(text: str) -> None:
    query = parse_query(text)
    assert query.kind == "intersection"
    assert query.street is not None and query.street.name == "SUNSET"
    assert [street.name for street in query.cross_streets] == ["VINE"]


def test_intersection_without_suffixes_is_noted() -> None:
    assert "street_suffix_missing" in parse_query("sunset and vine").notes
    assert "street_suffix_missing" not in parse_query("Sunset Blvd & Vine St").notes


@pytest.mark.parametrize(
    "text",
    ["Main St between 3rd and 4th", "Main St btwn 3rd St & 4th St", "Main between 3rd and 4th",
     "Main St b/t 3rd and 4th", "Main entre 3rd y 4th", "Main St from 3rd to 4th"],
)  # fmt: skip
def test_blocks(text: str) -> None:
    query = parse_query(text)
    assert query.kind == "block"
    assert query.street is not None and query.street.name == "MAIN"
    assert [street.name for street in query.cross_streets] == ["3RD", "4TH"]


def test_street_only() -> None:
    query = parse_query("Wilshire Blvd")
    assert query.kind == "street"
    assert query.street == StreetRef("WILSHIRE", suffix="BLVD")
    assert query.house_number is None


@pytest.mark.parametrize(
    ("text", "place"),
    [("Griffith Park", "GRIFFITH PARK"), ("Central Library", "CENTRAL LIBRARY"),
     ("LAPD Olympic station", "LAPD OLYMPIC STATION"), ("Union Station", "UNION STATION"),
     ("Museum of Science and Industry", "MUSEUM OF SCIENCE AND INDUSTRY")],
)  # fmt: skip
def test_place_names(text: str, place: str) -> None:
    query = parse_query(text)
    assert query.kind == "place"
    assert query.place_text == place
    assert query.street is None


def test_bare_name_is_a_place_that_may_be_a_street() -> None:
    query = parse_query("Wilshire")
    assert query.kind == "place" and query.place_text == "WILSHIRE"
    assert query.street == StreetRef("WILSHIRE")
    assert "may_be_street" in query.notes


def test_community_alone_is_a_place() -> None:
    query = parse_query("North Hollywood")
    assert (query.kind, query.community) == ("place", "NORTH HOLLYWOOD")


@pytest.mark.parametrize(
    ("text", "street"),
    [("123 AVENUE 64", (None, "AVENUE 64", None, None)),
     ("123 N Ave 50", ("N", "AVENUE 50", None, None)),
     ("100 N LA BREA AVE", ("N", "LA BREA", "AVE", None)),
     ("200 VIA MARISOL", (None, "VIA MARISOL", None, None)),
     ("500 PASEO DEL MAR", (None, "PASEO DEL MAR", None, None)),
     ("123 ST ANDREWS PL", (None, "ST ANDREWS", "PL", None)),
     ("123 Saint Andrews Pl", (None, "ST ANDREWS", "PL", None)),
     ("1200 SILVER LAKE BLVD", (None, "SILVER LAKE", "BLVD", None)),
     ("1234 Martin Luther King Jr Blvd", (None, "MARTIN LUTHER KING JR", "BLVD", None)),
     ("1025 W TERRACE 49", ("W", "TERRACE 49", None, None)),
     ("4946 W MELROSE HILL", ("W", "MELROSE", "HL", None))],
)  # fmt: skip
def test_suffix_words_inside_names_are_kept(text: str, street: tuple[str | None, ...]) -> None:
    assert _street(text) == street


def test_canyon_without_house_number_stays_in_the_name() -> None:
    query = parse_query("Laurel Canyon / Pierce")
    assert query.street == StreetRef("LAUREL CANYON")


def test_empty_and_whitespace() -> None:
    for text in ("", "   ", "\t\n", ",,,", " , "):
        query = parse_query(text)
        assert query.kind == "empty" and query.text == text


def test_zip_alone() -> None:
    query = parse_query("90042")
    assert (query.kind, query.zip, query.notes) == ("place", "90042", ("zip_only",))


def test_number_alone_is_not_a_numbered_street() -> None:
    query = parse_query("123")
    assert (query.kind, query.street, query.notes) == ("place", None, ("number_only",))
    assert parse_query("3rd").street == StreetRef("3RD")


def test_house_number_range_and_hundred_block() -> None:
    ranged = parse_query("5649-5647 TAMPA AVE, TARZANA, CA 91356, USA")
    assert (ranged.house_number, ranged.community, ranged.zip) == (5649, "TARZANA", "91356")
    assert "house_number_range" in ranged.notes
    block = parse_query("1200 block of Main St")
    assert block.house_number == 1200 and block.street == StreetRef("MAIN", suffix="ST")
    assert "hundred_block" in block.notes


def test_address_with_cross_street_hint() -> None:
    query = parse_query("1234 Sunset Blvd at Vine")
    assert query.kind == "address" and query.house_number == 1234
    assert _names(query) == ["VINE"]
    assert "cross_street_hint" in query.notes


def test_trailing_city_uses_usaddress_and_survives_its_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    query = parse_query("123 Main St Glendale")
    assert query.community == "GLENDALE" and query.street == StreetRef("MAIN", suffix="ST")

    def refuse(text: str) -> object:
        raise usaddress.RepeatedLabelError(text, [], "PlaceName")

    monkeypatch.setattr(usaddress, "tag", refuse)
    query = parse_query("123 Main St Foo 5")
    assert query.street == StreetRef("MAIN", suffix="ST")
    assert "usaddress_failed" in query.notes


# --- helpers --------------------------------------------------------------------------------------


def test_normalize_direction() -> None:
    assert [normalize_direction(w) for w in ("north", "N.", "s", "Southwest", "Main")] == [
        "N",
        "N",
        "S",
        "SW",
        None,
    ]


def test_normalize_street_name_canonical_forms() -> None:
    assert normalize_street_name("mt. washington") == "MT WASHINGTON"
    assert normalize_street_name("Mount Washington") == "MT WASHINGTON"
    assert normalize_street_name("O'Farrell") == "OFARRELL"
    assert normalize_street_name("James M. Wood") == "JAMES M WOOD"
    assert normalize_street_name("  la   brea ") == "LA BREA"
    assert normalize_street_name("1st") == "1ST" and normalize_street_name("22") == "22ND"


def test_street_key_matches_loader_and_query_spellings() -> None:
    assert street_key("Berendo", "Street") == street_key("BERENDO", "ST") == "BERENDO ST"
    assert street_key("Sunset", "BL") == "SUNSET BLVD"
    assert street_key("Avenue 50") == street_key("Ave 50", None) == "AVENUE 50"
    assert street_key("Martin Luther King, Jr", "Blvd") == "MARTIN LUTHER KING JR BLVD"


def test_la_communities_cover_the_valley_harbor_and_westside() -> None:
    expected = """VAN NUYS|NORTH HOLLYWOOD|SAN PEDRO|WILMINGTON|HARBOR CITY|VENICE|ENCINO
    SHERMAN OAKS|STUDIO CITY|TARZANA|WOODLAND HILLS|CANOGA PARK|RESEDA|NORTHRIDGE|GRANADA HILLS
    SYLMAR|PACOIMA
    SUN VALLEY|SUNLAND|TUJUNGA|CHATSWORTH|PANORAMA CITY|ARLETA|MISSION HILLS|NORTH HILLS|WINNETKA
    WEST HILLS|PORTER RANCH|LAKE BALBOA|VALLEY VILLAGE|TOLUCA LAKE|HOLLYWOOD|EAGLE ROCK
    HIGHLAND PARK|PLAYA DEL REY|PLAYA VISTA|WESTCHESTER|BRENTWOOD|BEL AIR|PACIFIC PALISADES
    WEST LOS ANGELES|KOREATOWN|LOS FELIZ|SILVER LAKE|ECHO PARK|BOYLE HEIGHTS|WATTS|HARBOR GATEWAY
    LOS ANGELES|LA"""
    names = {name.strip() for name in expected.replace("\n", "|").split("|")}
    assert names <= LA_COMMUNITIES
    assert "SANTA MONICA" not in LA_COMMUNITIES and "BURBANK" not in LA_COMMUNITIES


# --- robustness -----------------------------------------------------------------------------------


def test_never_raises_on_random_text() -> None:
    rng = random.Random(311)
    alphabet = string.printable + "½¼⁄ñÑéü–—’“”#&/@+,    日本\u200b\u0000"
    words = "N S W ST AVE BLVD AND & / AT Y BETWEEN FROM TO APT # 1/2 123 90012 CA LA , JR".split()
    samples = ["x" * 2000, "1234 Main St " * 160, "&" * 2000, "9" * 5000, "# " * 1000]
    for i in range(3000):
        if i % 2:
            samples.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))))
        else:
            samples.append(" ".join(rng.choice(words) for _ in range(rng.randint(0, 15))))
    for text in samples:
        query = parse_query(text)
        assert isinstance(query, ParsedQuery) and query.text == text
        assert query.kind in {"address", "intersection", "block", "street", "place", "empty"}
        normalize_street_name(text)
        street_key(text, text)
    assert "text_truncated" in parse_query("x" * 2000).notes


# --- the City's own parse of its MyLA311 addresses ------------------------------------------------


def test_agrees_with_myla311_2018_columns() -> None:
    if not MYLA311_2018.exists():
        pytest.skip(f"shared LA data not available: {MYLA311_2018}")
    with MYLA311_2018.open(newline="", encoding="utf-8") as handle:
        rows = [row for _, row in zip(range(2000), csv.DictReader(handle), strict=False)]
    agree = 0
    for row in rows:
        query = parse_query(row["Address"])
        if not row["HouseNumber"]:  # the City writes intersections as "A ST AT B AVE, zip"
            agree += query.kind == "intersection" and query.zip == (row["ZipCode"] or None)
            continue
        street = query.street or StreetRef("")
        expected = (
            int(row["HouseNumber"]),
            row["Direction"] or None,
            normalize_street_name(row["StreetName"]),
            normalize_suffix(row["Suffix"]) if row["Suffix"] else None,
            row["ZipCode"][:5] or None,
        )
        got = (query.house_number, street.pre_dir, street.name, street.suffix, query.zip)
        agree += query.kind == "address" and got == expected
    share = agree / len(rows)
    print(f"MyLA311 2018 agreement: {agree}/{len(rows)} = {share:.2%}")
    assert len(rows) == 2000
    assert share >= 0.99, f"agreement {share:.2%}"
