"""choose_sets: the vintage of each type in force on a date, else the nearest (as the SQL rule)."""

from __future__ import annotations

from datetime import date

from geo311.area_index import SetRow, choose_sets

OLD = SetRow(1, "CD", "2012", date(2012, 7, 1), date(2022, 12, 12))
NEW = SetRow(2, "CD", "2021", date(2022, 12, 12), None)
UNDATED = SetRow(3, "CITY", "current", None, None)


def chosen(on, types=None):
    return [(row.type_code, row.vintage) for row in choose_sets([OLD, NEW, UNDATED], on, types)]


def test_the_vintage_in_force_wins():
    assert chosen(date(2020, 1, 1)) == [("CD", "2012"), ("CITY", "current")]
    assert chosen(date(2022, 12, 12)) == [("CD", "2021"), ("CITY", "current")]


def test_the_last_day_belongs_to_the_old_vintage():
    assert chosen(date(2022, 12, 11), ["CD"]) == [("CD", "2012")]


def test_before_every_vintage_the_nearest_applies():
    assert chosen(date(2001, 1, 1), ["CD"]) == [("CD", "2012")]


def test_a_gap_between_vintages_picks_the_nearer_end():
    early = SetRow(4, "NC", "a", None, date(2018, 1, 1))
    late = SetRow(5, "NC", "b", date(2019, 1, 1), None)
    assert choose_sets([early, late], date(2018, 3, 1))[0].vintage == "a"
    assert choose_sets([early, late], date(2018, 11, 1))[0].vintage == "b"


def test_a_tie_goes_to_the_latest_start():
    first = SetRow(6, "NC", "first", date(2018, 1, 1), None)
    second = SetRow(7, "NC", "second", date(2020, 1, 1), None)
    assert choose_sets([first, second], date(2021, 1, 1))[0].vintage == "second"


def test_types_filter():
    assert chosen(date(2020, 1, 1), ["CITY"]) == [("CITY", "current")]
    assert chosen(date(2020, 1, 1), ["NOPE"]) == []
