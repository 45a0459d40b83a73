"""Street key words: a lone O or D written for an apostrophe (O FARRELL, D ESTE) is joined."""

from __future__ import annotations

import doctest

import pytest

from geo311 import rekey
from geo311.address_parse import normalize_street_name, parse_query, street_key
from geo311.address_words import join_name_initials
from geo311.rekey import rekey_text


def typed_key(text: str) -> str:
    street = parse_query(text).street
    assert street is not None, text
    return street_key(street.name, street.suffix)


@pytest.mark.parametrize(
    ("spellings", "key"),
    [
        ((("O'Farrell", "St"), ("O Farrell", "Street"), ("O’FARRELL", "ST")), "OFARRELL ST"),
        ((("O'Melveny", "Ave"), ("O MELVENY", "AVENUE")), "OMELVENY AVE"),
        ((("Coeur d'Alene", "Ave"), ("COEUR D ALENE", "AVE")), "COEUR DALENE AVE"),
        ((("D'Este", "Dr"), ("D ESTE", "DRIVE")), "DESTE DR"),
    ],
)
def test_apostrophe_and_space_spellings_give_one_key(spellings, key):
    assert {street_key(name, suffix) for name, suffix in spellings} == {key}


@pytest.mark.parametrize(
    ("name", "suffix", "key"),
    [
        ("O", "St", "O ST"),  # Wilmington and San Pedro lettered streets
        ("D", "St", "D ST"),
        ("L", "St", "L ST"),
        ("L Ron Hubbard", "Way", "L RON HUBBARD WAY"),  # only O and D are joined
        ("D W Griffith", "Dr", "D W GRIFFITH DR"),  # an initial before another initial
        ("D", None, "D"),
    ],
)
def test_lettered_streets_and_other_initials_stay_apart(name, suffix, key):
    assert street_key(name, suffix) == key


def test_a_suffix_after_the_letter_is_not_joined():
    assert join_name_initials(["O", "ST"]) == ["O", "ST"]
    assert join_name_initials(["D", "PARK", "AVE"]) == ["D", "PARK", "AVE"]
    assert normalize_street_name("O St") == "O ST"  # autocomplete passes what was typed


@pytest.mark.parametrize(
    "texts",
    [
        ("1234 O'Farrell St", "1234 O Farrell St", "1234 o farrell street, Los Angeles CA"),
        ("Coeur d Alene Ave", "Coeur d'Alene Ave", "832 COEUR D ALENE AVE, Venice 90291"),
        ("D Este Dr", "1000 D'Este Drive"),
    ],
)
def test_parser_gives_typed_spellings_the_stored_key(texts):
    assert len({typed_key(text) for text in texts}) == 1


def test_parser_keeps_lettered_streets():
    assert typed_key("100 O St") == "O ST"
    assert typed_key("1200 W D St") == "D ST"
    assert typed_key("O St & 5th St") == "O ST"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("COEUR D ALENE AVE", "COEUR DALENE AVE"),
        ("O FARRELL ST", "OFARRELL ST"),
        ("832 COEUR D ALENE AVE", "832 COEUR DALENE AVE"),  # a label
        ("S O FARRELL ST", "S OFARRELL ST"),
        ("O ST", "O ST"),
        ("W D ST", "W D ST"),
        ("L RON HUBBARD WAY", "L RON HUBBARD WAY"),
        ("BERENDO ST", "BERENDO ST"),
    ],
)
def test_rekey_of_an_old_key_is_the_key_a_reload_writes(old, new):
    assert rekey_text(old) == new


def test_rekey_doctests_pass():
    assert doctest.testmod(rekey).failed == 0
