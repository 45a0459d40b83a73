"""Smoke checks on the real reference data that `geo311 setup` loads from data/reference.toml."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from geo311.models import AddressPoint, Facility, Intersection, StreetSegment

pytestmark = pytest.mark.slow


def counts(conn, table, *group):
    query = select(*group, func.count()).select_from(table).group_by(*group)
    return {tuple(row[:-1]) if len(row) > 2 else row[0]: row[-1] for row in conn.execute(query)}


def test_every_street_source_is_loaded(la_conn):
    found = counts(la_conn, StreetSegment, StreetSegment.source)
    assert found["boe_centerline"] == 1011
    assert found["vision_zero_hin_2018"] == 387  # 383 lines + 3 multi-lines, one in two parts
    assert 19500 < found["osm_westla_2017"] < 19641  # power lines and the Getty tram rejected
    assert counts(la_conn, Intersection, Intersection.source) == {"boe_intersections": 508}


def test_every_address_source_is_loaded(la_conn):
    found = counts(la_conn, AddressPoint, AddressPoint.source, AddressPoint.kind)
    assert found[("lacounty_cams_venice_2014", "address")] == 16157  # two rows have no number
    assert 4675 <= found[("ladot_meters_2019", "blockface")] <= 4800


def test_every_facility_file_is_loaded(la_conn):
    found = counts(la_conn, Facility, Facility.type, Facility.source)
    assert found == {
        ("police_station", "lapd_police_stations"): 21,
        ("fire_station", "lafd_fire_stations_2016"): 107,
        ("library", "lapl_library_branches_2014"): 73,
        ("sheriff_police_station", "la_county_sheriff_and_police_stations_lms"): 115,
        ("place", "westla_osm_attractions_ucla_cs32_2017"): 650,
    }


def test_koreatown_berendo_300_block_has_range_and_both_cross_streets(la_conn):
    row = la_conn.execute(
        select(StreetSegment).where(StreetSegment.source == "boe_centerline",
                                    StreetSegment.full_name == "S BERENDO ST",
                                    StreetSegment.l_from == 300)
    ).one()
    assert (row.l_from, row.l_to, row.r_from, row.r_to) == (300, 398, 301, 399)
    assert (row.from_street, row.to_street) == ("W 3RD ST", "W 4TH ST")
    assert row.street_key == "BERENDO ST" and row.l_zip == "90020"
    assert 150 < row.length_m < 250


def test_most_koreatown_segments_have_cross_streets(la_conn):
    both, total = la_conn.execute(
        select(func.count().filter(StreetSegment.from_street.is_not(None),
                                   StreetSegment.to_street.is_not(None)), func.count())
        .where(StreetSegment.source == "boe_centerline")
    ).one()
    assert both / total > 0.75  # the rest end at the edge of the Koreatown box or dead-end


def test_segments_are_valid_lines_with_lengths(la_conn):
    bad = la_conn.execute(
        select(func.count()).select_from(StreetSegment)
        .where((StreetSegment.length_m <= 0) | ~func.ST_IsValid(StreetSegment.geom))
    ).scalar_one()
    assert bad == 0
