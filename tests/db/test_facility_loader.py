"""Facility loader: fields found by detection for each shipped layout, idempotent per type."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from geo311.facility_loader import facility_fields, load_facilities
from geo311.models import Facility

ROOT = Path(__file__).resolve().parents[2]
LAPL = ROOT / "tests" / "fixtures" / "reference" / "lapl_branches.csv"
DATA = ROOT / "data" / "la"


def facilities(conn, facility_type: str, source: str) -> dict[str, Facility]:
    found = conn.execute(
        select(Facility, func.ST_X(Facility.geom).label("lon"),
               func.ST_Y(Facility.geom).label("lat"))
        .where(Facility.type == facility_type, Facility.source == source)
    ).all()
    return {row.name: row for row in found}


def test_dry_run_writes_nothing(conn):
    report = load_facilities(conn, LAPL, facility_type="library", source="lapl")
    assert (report.read, report.loaded, report.committed) == (4, 2, False)
    assert facilities(conn, "library", "lapl") == {}


def test_lapl_location_text_gives_address_and_point(conn):
    load_facilities(conn, LAPL, facility_type="library", source="lapl", commit=True)
    found = facilities(conn, "library", "lapl")
    assert set(found) == {"Angeles Mesa", "Ascot"}
    mesa = found["Angeles Mesa"]
    assert mesa.address == "2700 W. 52nd Street, Los Angeles, CA 90043"
    assert (mesa.lon, mesa.lat) == (pytest.approx(-118.322899), pytest.approx(33.99485))
    assert mesa.attrs == {"phone_number": "(323) 292-4328", "email": "angmsa@lapl.org",
                                   "council_district": "8"}


def test_rejects_name_row_and_reason(conn):
    report = load_facilities(conn, LAPL, facility_type="library", source="lapl")
    assert [(r.row, r.key, r.reason) for r in report.rejected] == [
        (4, "Nowhere", "missing or unparseable coordinates"), (5, "", "no name")]


def test_rerun_replaces_only_the_same_type_and_source(conn):
    for _ in range(2):
        load_facilities(conn, LAPL, facility_type="library", source="lapl", commit=True)
    load_facilities(conn, LAPL, facility_type="place", source="lapl", commit=True)
    assert len(facilities(conn, "library", "lapl")) == 2
    assert len(facilities(conn, "place", "lapl")) == 2


def test_bad_type_code_is_refused(conn):
    with pytest.raises(ValueError, match="lower_snake"):
        load_facilities(conn, LAPL, facility_type="Police Station")


def test_fields_are_detected_from_names_not_file_names():
    lafd = facility_fields(["station_number", "address", "city", "zip", "community", "engine"])
    assert (lafd.name, lafd.address, lafd.city, lafd.id, lafd.units) == (
        "station_number", "address", "city", "station_number", ["engine"])
    lms = facility_fields(["OBJECTID", "name", "addrln1", "addrln2", "city", "zip", "phones",
                           "ext_id", "latitude", "longitude", "POINT_X", "POINT_Y"])
    assert (lms.name, lms.address, lms.line2, lms.id, lms.extra) == (
        "name", "addrln1", "addrln2", "ext_id", ["phones"])


def test_cli_load_facilities_prints_the_summary(runner):
    result = runner.invoke(args=["load", "facilities", str(LAPL), "--type", "library"])
    assert result.exit_code == 0, result.output
    assert "read 4, would load (dry run; add --commit to write) 2, rejected 2" in result.output


# ---------------------------------------------------------------- shipped files


@pytest.mark.parametrize(("file", "facility_type", "count", "name", "address"), [
    ("facilities/lapd_police_stations.geojson", "police_station", 21,
     "77th Street Community Police Station", "7600 S. BROADWAY"),
    ("facilities/lafd_fire_stations_2016.geojson", "fire_station", 107, "Fire Station 2",
     "1962 East Cesar E Chavez Avenue, Los Angeles, CA 90033"),
    ("facilities/lapl_library_branches_2014.csv", "library", 73, "Angeles Mesa",
     "2700 W. 52nd Street, Los Angeles, CA 90043"),
    ("facilities/la_county_sheriff_and_police_stations_lms.geojson", "sheriff_police_station", 115,
     "Downey Police Department", "10911 Brookshire Ave., Downey, CA 90241"),
    ("streets/westla_osm_attractions_ucla_cs32_2017.geojson.gz", "place", 650,
     "Brentwood Country Mart", "26th Street"),
])
def test_shipped_facility_files_load(conn, file, facility_type, count, name, address):
    report = load_facilities(conn, DATA / file, facility_type=facility_type, source="shipped",
                             commit=True)
    assert (report.read, report.loaded, report.rejected) == (count, count, [])
    found = facilities(conn, facility_type, "shipped")
    assert found[name].address == address
    assert -118.95 < found[name].lon < -117.6 and 33.3 < found[name].lat < 34.9


def test_lafd_units_and_lapd_precinct_ids(conn):
    load_facilities(conn, DATA / "facilities/lafd_fire_stations_2016.geojson",
                    facility_type="fire_station", source="lafd", commit=True)
    two = facilities(conn, "fire_station", "lafd")["Fire Station 2"]
    assert two.source_id == "2" and two.attrs["battalion"] == "1"
    assert two.attrs["units"] == ["Engine 2", "Truck 2", "Rescue 2", "Engine 202"]
    load_facilities(conn, DATA / "facilities/lapd_police_stations.geojson",
                    facility_type="police_station", source="lapd", commit=True)
    harbor = facilities(conn, "police_station", "lapd")["Harbor Community Police Station"]
    assert harbor.source_id == "5" and harbor.attrs["division"] == "HARBOR"
