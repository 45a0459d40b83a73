"""Smoke checks on the real LA boundary layers."""

from __future__ import annotations

from datetime import date

from geo311.boundaries import areas_at_point

KOREATOWN = (-118.294017712, 34.0676390557)  # 356 S Berendo St (MyLA311 record 1-870704814)


def by_type(hits):
    return {h.type: h for h in hits}


def test_koreatown_point_has_every_city_type(la_conn):
    hits = by_type(areas_at_point(la_conn, *KOREATOWN, on=date(2018, 1, 1)))
    assert hits["CITY"].code == "LA"
    assert hits["CD"].code == "10" and hits["CD"].vintage == "2012"
    assert hits["NC"].code == "55"
    assert hits["LAPD"].name == "Olympic"
    assert hits["APC"].code == "CENTRAL"
    for type_code in ("CPA", "LADOT", "LAFD", "ASSEMBLY", "SENATE", "SUPERVISOR", "CONGRESS",
                      "NEIGHBORHOOD"):
        assert type_code in hits


def test_santa_monica_is_a_county_city_not_los_angeles(la_conn):
    hits = by_type(areas_at_point(la_conn, -118.4912, 34.0195))
    assert "CITY" not in hits
    assert hits["COUNTY_CITY"].name == "Santa Monica"


def test_unincorporated_east_los_angeles(la_conn):
    hits = by_type(areas_at_point(la_conn, -118.1726, 34.0239))
    assert "CITY" not in hits
    assert hits["UNINCORPORATED"].name == "East Los Angeles"


def test_ocean_point_has_no_areas(la_conn):
    assert areas_at_point(la_conn, -118.6, 33.8) == []
