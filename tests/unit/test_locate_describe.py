"""The locate answer in words (geo311.locate_describe): what a resident reads under the map."""

from __future__ import annotations

from dataclasses import replace

from geo311.locate_describe import describe
from geo311.locate_result import AddressInfo, LocateResult, SegmentInfo

#: The segment an intersection is read from can be a long line (here a High Injury Network
#: stretch of Sunset Blvd, ~3 km): its ends are not where the corner is.
_LONG_SEGMENT = SegmentInfo(id=1052, street="SUNSET BLVD", from_street="CRESCENT HEIGHTS BLVD",
                            to_street="VIRGIL AVE", side=None, side_compass=None, distance_m=0.0,
                            source="vision_zero_hin_2018")


def _result(precision: str, address: AddressInfo, segment: SegmentInfo | None) -> LocateResult:
    return LocateResult(query="sunset and vine", pin=None, lon=-118.3267, lat=34.098,
                        precision=precision, score=79, reasons=("street_suffix_missing",),
                        address=address, segment=segment,
                        areas=({"type": "CD", "code": "13", "name": "Council District 13"},),
                        jurisdiction=None, ambiguities=(), candidates=(), date="2026-11-25")


def test_intersection_answer_names_the_corner_not_the_segment_ends():
    corner = AddressInfo(house_number=None, street="SUNSET BLVD", zip=None,
                         text="SUNSET BLVD & VINE ST", source="street_segment")
    result = _result("intersection", corner, _LONG_SEGMENT)
    assert describe(result).startswith("At Sunset Blvd & Vine St; Council District 13;")
    assert "Crescent Heights" not in describe(result)
    assert describe(result, "es").startswith("En la esquina de Sunset Blvd y Vine St;")


def test_street_block_answer_keeps_its_cross_streets():
    street = AddressInfo(house_number=None, street="SUNSET BLVD", zip=None, text="SUNSET BLVD")
    result = _result("street_block", street, _LONG_SEGMENT)
    assert describe(result).startswith(
        "On Sunset Blvd, between Crescent Heights Blvd and Virgil Ave;")


def test_zip_centre_answer_says_the_street_was_not_found_in_that_zip():
    centre = AddressInfo(house_number=None, street=None, zip="91356", text="ZIP 91356",
                         source="zip_centre")
    result = _result("area_centroid", centre, None)
    not_found = replace(result, reasons=("street_not_found_in_zip",))
    assert describe(not_found).startswith(
        "Somewhere in ZIP code 91356 (the street was not found there); Council District 13;")
    assert describe(not_found, "es").startswith(
        "En algún lugar del código postal 91356 (no se encontró la calle allí);")
    zip_only = replace(result, reasons=("zip_only",))
    assert describe(zip_only).startswith("Somewhere in ZIP code 91356; Council District 13;")


def test_described_block_reads_the_cross_streets_typed_not_the_segment_ends():
    block = AddressInfo(house_number=None, street="VERMONT AVE", zip=None,
                        text="VERMONT AVE between 3RD ST and 4TH ST", source="intersection")
    result = _result("street_block", block, _LONG_SEGMENT)
    assert describe(result).startswith("On Vermont Ave, between 3rd St and 4th St;")
    assert describe(result, "es").startswith("En Vermont Ave, entre 3rd St y 4th St;")


def test_a_segment_ending_on_one_street_at_both_ends_says_at_not_between_it_and_itself():
    loop = SegmentInfo(id=7, street="N VINE ST", from_street="MELROSE AVE", to_street="MELROSE AVE",
                       side=None, side_compass=None, distance_m=3.0, source="vision_zero_hin_2018")
    street = AddressInfo(house_number=None, street="N VINE ST", zip=None, text="N VINE ST")
    text = describe(_result("street", street, loop))
    assert text.startswith("On N Vine St, at Melrose Ave;") and "between" not in text
