"""Address loader: CAMS and City address layers, LADOT meter block faces, feet-vs-degrees CSVs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from geo311.address_loader import detect_address_format, load_addresses, to_lon_lat
from geo311.models import AddressPoint

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "reference"
CAMS = FIXTURES / "cams_addresses.geojson"
METERS = FIXTURES / "meters_blockfaces.csv"
SHIPPED = ROOT / "data" / "la" / "address_points"


def rows(conn, source: str) -> dict[str, AddressPoint]:
    found = conn.execute(
        select(AddressPoint, func.ST_X(AddressPoint.geom).label("lon"),
               func.ST_Y(AddressPoint.geom).label("lat"))
        .where(AddressPoint.source == source)
    ).all()
    return {row.full_address: row for row in found}


def count(conn, source: str) -> int:
    return conn.execute(
        select(func.count()).select_from(AddressPoint).where(AddressPoint.source == source)
    ).scalar_one()


def test_dry_run_counts_but_writes_nothing(conn):
    report = load_addresses(conn, CAMS, source="fixture_cams")
    assert (report.read, report.loaded, report.committed) == (8, 5, False)
    assert count(conn, "fixture_cams") == 0


def test_cams_rows_are_normalized_and_fraction_kept(conn):
    load_addresses(conn, CAMS, source="fixture_cams", commit=True)
    found = rows(conn, "fixture_cams")
    assert set(found) == {"1310 GLENAVON AVE", "1393 1/2 ROSE AVE", "25 DUDLEY AVE",
                          "3100 VIA DOLCE", "100 S OCEAN FRONT WALK"}
    rose = found["1393 1/2 ROSE AVE"]
    assert (rose.house_number, rose.number_suffix, rose.name, rose.suffix) == (
        1393, "1/2", "ROSE", "AVE")
    assert (rose.street_key, rose.zip, rose.kind, rose.confidence) == (
        "ROSE AVE", "90291", "address", 1.0)
    walk = found["100 S OCEAN FRONT WALK"]
    assert (walk.pre_dir, walk.name, walk.suffix) == ("S", "OCEAN FRONT", "WALK")
    assert found["1310 GLENAVON AVE"].attrs["ain"] == "4244002041"


def test_units_of_one_building_collapse_into_one_point(conn):
    load_addresses(conn, CAMS, source="fixture_cams", commit=True)
    dudley = rows(conn, "fixture_cams")["25 DUDLEY AVE"]
    assert dudley.unit is None
    assert dudley.attrs["units"] == ["APT 1", "APT 2"] and dudley.attrs["rows"] == 2


def test_rejects_carry_row_numbers_and_reasons(conn):
    report = load_addresses(conn, CAMS, source="fixture_cams")
    assert [(r.row, r.reason) for r in report.rejected] == [
        (5, "no house number"),
        (8, "coordinates outside Los Angeles (-73.99000, 40.73000)"),
    ]


def test_rerun_replaces_the_source(conn):
    for _ in range(2):
        load_addresses(conn, CAMS, source="fixture_cams", commit=True)
    load_addresses(conn, METERS, source="fixture_meters", commit=True)
    assert count(conn, "fixture_cams") == 5
    assert count(conn, "fixture_meters") == 3


def test_city_addresses_layer_schema_with_feet_fallback(conn):
    path = FIXTURES / "city_addresses.csv"
    assert detect_address_format(["HSE_ID", "HSE_NBR", "STR_NM", "STR_SFX_CD"]) == "cams"
    report = load_addresses(conn, path, source="fixture_city", commit=True)
    assert (report.read, report.loaded) == (4, 2)
    assert [(r.row, r.reason) for r in report.rejected] == [(5, "no house number")]
    found = rows(conn, "fixture_city")
    berendo = found["356 S BERENDO ST"]
    assert berendo.attrs["units"] == ["1-12"]  # the two rows at one point are one building
    third = found["3300 1/2 W 3RD ST"]
    assert third.lon == pytest.approx(-118.2943, abs=1e-4)  # from X/Y feet: LAT/LON empty
    assert third.lat == pytest.approx(34.0657, abs=1e-4)


def test_meters_aggregate_to_one_point_per_block_face(conn):
    report = load_addresses(conn, METERS, source="fixture_meters", commit=True)
    assert (report.read, report.loaded) == (9, 3)
    found = rows(conn, "fixture_meters")
    sunset = found["4900 SUNSET BLVD"]
    point = sunset
    assert (point.kind, point.house_number, point.confidence, point.observations) == (
        "blockface", 4900, 0.5, 3)
    assert point.attrs["meters"] == 3 and point.street_key == "SUNSET BLVD"
    assert (sunset.lon, sunset.lat) == (pytest.approx(-118.2962), pytest.approx(34.09803))
    pico = found["700 E PICO BLVD"]
    assert (pico.pre_dir, pico.name, pico.attrs["meters"]) == ("E", "PICO", 2)
    washington = found["101 WASHINGTON BLVD"]
    assert washington.attrs["side"] == "S"


def test_meter_rejects_name_the_csv_line_and_reason(conn):
    report = load_addresses(conn, METERS, source="fixture_meters")
    assert [(r.row, r.key, r.reason) for r in report.rejected] == [
        (7, "XX001", "missing or unparseable coordinates"),
        (8, "XX002", "coordinates outside Los Angeles (-73.99000, 40.73000)"),
        (9, "CB3816B", "block face '5TH ST BET WALL AND LOS ANGELES' has no hundred-block number"),
    ]


def test_feet_in_mislabelled_latitude_longitude_columns_are_reprojected(conn):
    report = load_addresses(conn, FIXTURES / "meters_feet.csv", fmt="meters", source="feet",
                            commit=True)
    assert report.loaded == 1
    assert [r.reason for r in report.rejected] == ["missing or unparseable coordinates"]  # 99999
    wilshire = rows(conn, "feet")["600 WILSHIRE PL"]
    assert wilshire.lon == pytest.approx(-118.2878, abs=1e-3)
    assert wilshire.lat == pytest.approx(34.0618, abs=1e-3)


def test_to_lon_lat_tells_degrees_from_feet():
    lon, lat = to_lon_lat(["34.05", "-118.25", "6474486.8", "", "12.5"],
                          ["-118.25", "34.05", "1845002.3", "1", "7.1"])
    assert lon[:3].round(3).tolist() == [-118.25, -118.25, -118.288]
    assert lat[:3].round(3).tolist() == [34.05, 34.05, 34.062]
    assert np.isnan(lon[3]) and np.isnan(lon[4])  # blank, and two positive "degrees"


def test_cli_load_addresses_prints_the_summary(runner):
    result = runner.invoke(args=["load", "addresses", str(METERS)])
    assert result.exit_code == 0, result.output
    assert "(addresses, meters, source meters_blockfaces): read 9, would load" in result.output
    assert "rejected row 7 (XX001): missing or unparseable coordinates" in result.output


def test_unknown_schema_asks_for_a_format():
    with pytest.raises(ValueError, match="--format"):
        detect_address_format(["A", "B"])


# ---------------------------------------------------------------- shipped files


@pytest.mark.slow
def test_venice_cams_file_loads(conn):
    path = SHIPPED / "venice_lacounty_address_points_2014.geojson.gz"
    report = load_addresses(conn, path, source="venice", commit=True)
    assert (report.read, report.loaded) == (16159, 16157)
    assert {r.reason for r in report.rejected} == {"no house number"}
    fractions = conn.execute(select(func.count()).where(
        AddressPoint.source == "venice", AddressPoint.number_suffix.is_not(None))).scalar_one()
    assert fractions == 470  # 436 x 1/2, 18 x 1/4, 13 x 3/4 and three more


@pytest.mark.slow
def test_ladot_meter_file_loads_block_faces(conn):
    path = SHIPPED / "ladot_parking_meters_blockface_2019.csv.gz"
    report = load_addresses(conn, path, source="meters", commit=True)
    assert report.read == 33989 and len(report.rejected) == 22
    assert 4675 <= report.loaded <= 4800  # some block faces name two blocks km apart
    meters = conn.execute(select(func.sum(AddressPoint.observations))
                          .where(AddressPoint.source == "meters")).scalar_one()
    assert meters == 33989 - 22
