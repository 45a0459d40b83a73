"""One key for COEUR D'ALENE and COEUR D ALENE: loaders, forward locate and the db init upgrade."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import text

from geo311.address_loader import load_addresses
from geo311.geocode import refresh_street_names
from geo311.locate import locate_text
from geo311.rekey import rekey_streets

OLD = date(2018, 6, 1)
LON, LAT = -118.2450, 34.0130  # inside the fixture city (tests/fixtures/geo)


def cams_file(tmp_path, street: str, numbers: list[int]):
    """A County CAMS layer of a few points on one street, numbered west to east."""
    features = [{
        "type": "Feature",
        "properties": {"OBJECTID": i, "Number": number, "StreetName": street,
                       "PostType": "AVENUE", "ZipCode": "90012", "SourceID": str(900 + i)},
        "geometry": {"type": "Point", "coordinates": [LON + 0.0002 * i, LAT]},
    } for i, number in enumerate(numbers)]
    path = tmp_path / "cams.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def add_old_point(conn, number: int, name: str, suffix: str, lon: float = LON,
                  pre_dir: str | None = None) -> None:
    """An address point as the loaders wrote it before O and D were joined (key from raw words)."""
    label = " ".join(p for p in (str(number), pre_dir, name, suffix) if p)
    conn.execute(text(
        """
        INSERT INTO address_point (source, kind, house_number, pre_dir, name, suffix, zip,
            full_address, street_key, confidence, observations, attrs, geom)
        VALUES ('old_rule', 'address', :n, :pre, :name, :sfx, '90012', :label, :key, 1, 1, '{}',
                ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
        """), {"n": number, "pre": pre_dir, "name": name, "sfx": suffix, "label": label,
               "key": f"{name} {suffix}", "lon": lon, "lat": LAT})


def add_old_segment(conn, source_id: str, name: str, suffix: str, *, alt_name=None,
                    from_street=None, to_street=None) -> None:
    full = f"{name} {suffix}"
    conn.execute(text(
        """
        INSERT INTO street_segment (source, source_id, name, suffix, full_name, street_key,
            alt_name, from_street, to_street, length_m, attrs, geom)
        VALUES ('old_rule', :sid, :name, :sfx, :full, :full, :alt, :fs, :ts, 30, '{}',
                ST_GeomFromText('LINESTRING(-118.2452 34.0129, -118.2448 34.0129)', 4326))
        """), {"sid": source_id, "name": name, "sfx": suffix, "full": full, "alt": alt_name,
               "fs": from_street, "ts": to_street})


def add_old_range(conn, name: str, suffix: str) -> None:
    conn.execute(text(
        """
        INSERT INTO street_range (source, street_key, name, suffix, parity, from_number,
            to_number, observations, confidence, length_m, attrs, geom)
        VALUES ('old_rule', :key, :name, :sfx, 'even', 800, 900, 2, 0.5, 30, '{}',
                ST_GeomFromText('LINESTRING(-118.2452 34.0131, -118.2448 34.0131)', 4326))
        """), {"key": f"{name} {suffix}", "name": name, "sfx": suffix})


def one(conn, sql: str):
    return conn.execute(text(sql)).one()


@pytest.mark.parametrize("typed", ["834 Coeur d'Alene Ave", "834 Coeur D Alene Avenue",
                                   "834 COEUR DALENE AVE, Los Angeles 90012"])
def test_county_points_written_with_a_space_are_found_by_both_spellings(conn, tmp_path, typed):
    report = load_addresses(conn, cams_file(tmp_path, "COEUR D ALENE", [832, 834, 836]),
                            source="fixture_county", commit=True)
    assert report.loaded == 3
    refresh_street_names(conn)
    result = locate_text(conn, typed, on=OLD)
    assert result.precision == "address_point"
    assert "fuzzy_street_name" not in result.reasons  # the exact key, not a near spelling
    assert result.address.house_number == "834"
    assert (result.lon, result.lat) == pytest.approx((LON + 0.0002, LAT))


def test_upgrade_rewrites_keys_names_and_labels_of_every_street_table(conn):
    add_old_point(conn, 834, "COEUR D ALENE", "AVE", pre_dir="W")
    add_old_point(conn, 240, "O FARRELL", "ST")
    add_old_point(conn, 100, "O", "ST")  # a lettered street: stays
    add_old_segment(conn, "deste", "D ESTE", "DR", to_street="SAN REMO DR")
    add_old_segment(conn, "san-remo", "SAN REMO", "DR", from_street="D ESTE DR",
                    alt_name="O MELVENY AVE")
    add_old_range(conn, "O FARRELL", "ST")
    conn.execute(text("INSERT INTO intersection (source, source_id, streets, label, geom) VALUES "
                      "('old_rule', '1', ARRAY['D ESTE DR', 'SAN REMO DR'], 'D ESTE DR at SAN "
                      "REMO DR', ST_SetSRID(ST_MakePoint(-118.245, 34.0129), 4326))"))

    rewritten = rekey_streets(conn)

    assert rewritten == {"address_point": 2, "street_segment": 2, "street_range": 1,
                         "intersection": 1}
    points = conn.execute(text("SELECT house_number, street_key, name, full_address "
                               "FROM address_point WHERE source = 'old_rule' ORDER BY 1")).all()
    assert [tuple(p) for p in points] == [
        (100, "O ST", "O", "100 O ST"),
        (240, "OFARRELL ST", "OFARRELL", "240 OFARRELL ST"),
        (834, "COEUR DALENE AVE", "COEUR DALENE", "834 W COEUR DALENE AVE"),
    ]
    assert tuple(one(conn, "SELECT street_key, name, full_name, to_street FROM street_segment "
                           "WHERE source_id = 'deste'")) == (
        "DESTE DR", "DESTE", "DESTE DR", "SAN REMO DR")
    assert tuple(one(conn, "SELECT street_key, from_street, alt_name FROM street_segment "
                           "WHERE source_id = 'san-remo'")) == (
        "SAN REMO DR", "DESTE DR", "OMELVENY AVE")
    assert tuple(one(conn, "SELECT street_key, name FROM street_range "
                           "WHERE source = 'old_rule'")) == ("OFARRELL ST", "OFARRELL")
    intersection = one(conn, "SELECT streets, label FROM intersection WHERE source = 'old_rule'")
    assert intersection.streets == ["DESTE DR", "SAN REMO DR"]
    assert intersection.label == "D ESTE DR at SAN REMO DR"  # the source's own text, kept
    names = conn.execute(text("SELECT street_key FROM street_name WHERE street_key ~ "
                              "'COEUR|FARRELL|ESTE'")).scalars().all()
    assert sorted(names) == ["COEUR DALENE AVE", "DESTE DR", "OFARRELL ST"]  # refreshed


def test_upgrade_of_a_current_database_changes_nothing(conn):
    add_old_point(conn, 834, "COEUR D ALENE", "AVE")
    add_old_point(conn, 100, "O", "ST")
    assert rekey_streets(conn) == {"address_point": 1}
    assert rekey_streets(conn) == {}


def test_old_keys_are_found_by_both_spellings_after_the_upgrade(conn):
    for i, number in enumerate((832, 834, 836)):
        add_old_point(conn, number, "COEUR D ALENE", "AVE", lon=LON + 0.0002 * i)
    rekey_streets(conn)
    for typed in ("834 Coeur d'Alene Ave", "834 coeur d alene ave"):
        result = locate_text(conn, typed, on=OLD)
        assert result.precision == "address_point", typed
        assert (result.lon, result.lat) == pytest.approx((LON + 0.0002, LAT))
