"""geo311 build reference: merging, outliers, ranges, interpolation, dry run, held-out files.

The fixtures in tests/fixtures/reference_build place W TESTA ST along a line: number ``n`` sits
``2 n`` metres west of the origin, odd numbers 12 m north of the centre line and even ones 12 m
south (see ``_expected``). File A holds most addresses, a repeated one (121), one with an
outlying observation (161), one 5 km off its street (181), two disagreeing observations (221)
and an unverified row (141); file B adds 301 and repeats 101; the citations add 250 and 190
without direction or ZIP.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from geo311.models import AddressPoint, Department, ServiceRequest, ServiceType, StreetRange
from geo311.reference_build import BuildReport, build_reference, interpolate_from_observed
from geo311.reference_sources import (
    AddressFileSource,
    MyLA311FileSource,
    ObservationSource,
    ParkingCitationSource,
    RequestTableSource,
    select_sources,
    source_for_path,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "reference_build"
FILE_A = FIXTURES / "myla311_ref_a.csv"
FILE_B = FIXTURES / "myla311_ref_b.csv"
CITATIONS = FIXTURES / "citations_ref.csv"
CAMS = FIXTURES / "cams_ref.csv"
LON0, LAT0 = -118.30, 34.05


def _expected(n: int) -> tuple[float, float]:
    x, y = -2.0 * n, 12.0 if n % 2 else -12.0
    return LON0 + x / 92335.0, LAT0 + y / 110923.0


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (a[0] - b[0]) * 92335.0
    dy = (a[1] - b[1]) * 110923.0
    return math.hypot(dx, dy)


def _sources(*paths: Path) -> list[ObservationSource]:
    return [source_for_path(p) for p in paths]


def _build(conn: Connection, *paths: Path, commit: bool = True, **options) -> BuildReport:
    return build_reference(conn, _sources(*paths), commit=commit, **options)


def _points(conn: Connection) -> dict[tuple[str, str | None, int], AddressPoint]:
    rows = conn.execute(select(AddressPoint.__table__).where(AddressPoint.kind == "observed"))
    return {(r.street_key, r.pre_dir, r.house_number): r for r in rows}


def _point_lonlat(conn: Connection, point_id: int) -> tuple[float, float]:
    geom = AddressPoint.geom
    row = conn.execute(select(func.ST_X(geom), func.ST_Y(geom)).where(AddressPoint.id == point_id))
    return tuple(row.one())  # type: ignore[return-value]


def test_sources_read_verified_rows_and_reproject_citations() -> None:
    a = MyLA311FileSource(FILE_A)
    observations = list(a.observations())
    assert a.stats.read == 17 and a.stats.usable == 15
    assert a.stats.skipped == {"address not verified": 1, "no house number and street": 1}
    assert {o.house_number for o in observations} == {101, 110, 121, 150, 161, 181, 190, 201,
                                                      221, 500}
    first = observations[0]
    assert (first.pre_dir, first.street_name, first.suffix, first.zip) == ("W", "TESTA", "ST",
                                                                           "90099")
    citations = ParkingCitationSource(CITATIONS)
    cited = {o.house_number: o for o in citations.observations()}
    assert citations.stats.skipped == {"no coordinates": 1}
    assert cited[190].pre_dir == "W" and cited[250].pre_dir is None and cited[250].zip is None
    # EPSG:2229 feet back to degrees: within a few centimetres of where the fixture put them
    assert _metres((cited[250].lon, cited[250].lat), _expected(250)) == pytest.approx(3, abs=0.1)
    assert isinstance(source_for_path(CITATIONS), ParkingCitationSource)
    assert isinstance(source_for_path(FILE_A), MyLA311FileSource)


def test_build_merges_repeats_at_the_median_and_rejects_outliers(conn: Connection) -> None:
    report = _build(conn, FILE_A, FILE_B, CITATIONS)
    points = _points(conn)
    street = [n for (key, pre, n) in points if key == "TESTA ST" and pre == "W"]
    assert sorted(street) == [101, 110, 121, 150, 161, 190, 201, 250, 301]
    assert report.addresses == len(points) == 11  # plus 500 N OTRA AVE and 777 NOWHERE AVE
    repeated = points[("TESTA ST", "W", 121)]
    assert repeated.observations == 3 and repeated.attrs["spread_m"] == pytest.approx(4.5, abs=0.1)
    assert _metres(_point_lonlat(conn, repeated.id), _expected(121)) < 0.05
    assert repeated.confidence > points[("TESTA ST", "W", 110)].confidence  # 3 sightings > 1
    # 161: the observation 600 m away is dropped, the two agreeing ones stay
    assert points[("TESTA ST", "W", 161)].observations == 2
    assert _metres(_point_lonlat(conn, points[("TESTA ST", "W", 161)].id), _expected(161)) < 0.05
    # 181 sits 5 km from its neighbours; 221's two sightings are 400 m apart: neither is kept
    assert report.address_outliers == 1
    assert report.observation_outliers == 1 + 1 + 2
    merged = points[("TESTA ST", "W", 101)]
    assert merged.attrs["sources"] == {"myla311_ref_a": 1, "myla311_ref_b": 1}


def test_citations_take_direction_and_zip_from_their_street_but_not_its_position(
    conn: Connection,
) -> None:
    _build(conn, FILE_A, CITATIONS)
    points = _points(conn)
    cited = points[("TESTA ST", "W", 250)]
    assert (cited.zip, cited.source, cited.attrs["inferred_direction_zip"]) == (
        "90099", "observed:parking_citation", True)
    confirmed = points[("TESTA ST", "W", 190)]
    assert confirmed.source == "observed:myla311" and confirmed.observations == 2
    # the City's point places the address; the citation 20 m away only confirms it
    assert _metres(_point_lonlat(conn, confirmed.id), _expected(190)) < 0.05
    assert confirmed.confidence > points[("TESTA ST", "W", 150)].confidence
    assert points[("NOWHERE AVE", None, 777)].zip is None  # no street to learn from


def test_interpolation_uses_the_numbers_street_side(conn: Connection) -> None:
    _build(conn, FILE_A, FILE_B, CITATIONS)
    odd = interpolate_from_observed(conn, 171, "TESTA ST", "W", "90099")
    assert odd is not None and odd.method == "interpolated"
    assert [n.house_number for n in odd.neighbours] == [161, 201]
    assert _metres((odd.lon, odd.lat), _expected(171)) < 0.05
    even = interpolate_from_observed(conn, 170, "TESTA ST", "W", None)
    assert [n.house_number for n in even.neighbours] == [150, 190]
    assert _metres((even.lon, even.lat), _expected(170)) < 0.05
    # 181's own point was rejected: it is placed between 161 and 201 on the odd side
    lon, lat, method, neighbours = interpolate_from_observed(conn, 181, "TESTA ST", "W", "90099")
    assert method == "interpolated" and _metres((lon, lat), _expected(181)) < 0.05
    # 106: no even number below it, so both sides are used (101 odd, 110 even)
    mixed = interpolate_from_observed(conn, 106, "TESTA ST", "W", "90099")
    assert [n.house_number for n in mixed.neighbours] == [101, 110]
    assert abs(_metres((mixed.lon, mixed.lat), _expected(106))) < 15


def test_interpolation_returns_observed_points_and_never_extrapolates(conn: Connection) -> None:
    _build(conn, FILE_A, FILE_B, CITATIONS)
    exact = interpolate_from_observed(conn, 121, "TESTA ST", "W", "90099")
    assert exact.method == "observed" and exact.neighbours[0].house_number == 121
    assert _metres((exact.lon, exact.lat), _expected(121)) < 0.05
    assert interpolate_from_observed(conn, 1001, "TESTA ST", "W", "90099") is None
    assert interpolate_from_observed(conn, 99, "TESTA ST", "W", "90099") is None
    assert interpolate_from_observed(conn, 171, "TESTA ST", "E", "90099") is None
    assert interpolate_from_observed(conn, 171, "TESTA ST", None, None).method == "interpolated"
    assert interpolate_from_observed(conn, 510, "OTRA AVE", "N", "90099") is None  # one point


def test_rerun_replaces_the_previous_build(conn: Connection) -> None:
    first = _build(conn, FILE_A, FILE_B, CITATIONS)
    second = _build(conn, FILE_A, FILE_B, CITATIONS)
    assert (first.addresses, first.ranges) == (second.addresses, second.ranges)
    observed = select(func.count()).select_from(AddressPoint).where(AddressPoint.kind == "observed")
    assert conn.execute(observed).scalar_one() == second.addresses
    ranges = conn.execute(select(func.count()).select_from(StreetRange)).scalar_one()
    assert ranges == sum(second.ranges.values()) > 0
    _build(conn, FILE_B)
    assert conn.execute(observed).scalar_one() == 2  # 101 and 301 only


def test_dry_run_writes_nothing(conn: Connection) -> None:
    report = _build(conn, FILE_A, FILE_B, CITATIONS, commit=False)
    assert report.addresses == 11 and not report.committed
    assert conn.execute(select(func.count()).select_from(AddressPoint)).scalar_one() == 0
    assert conn.execute(select(func.count()).select_from(StreetRange)).scalar_one() == 0


def test_exclude_leaves_a_files_addresses_out_even_from_the_request_table(
    conn: Connection, tmp_path: Path
) -> None:
    _add_request(conn, "1-REF-B01", "301 W TESTA ST, 90099", _expected(301))  # B's row, imported
    _add_request(conn, "1-NEW-0001", "401 W TESTA ST, 90099", _expected(401))
    _add_request(conn, "1-NEW-0002", "421 W TESTA ST, 90099", _expected(421), pin_source="typed")
    _add_request(conn, "1-NEW-0003", "441 W TESTA ST, 90099", _expected(441),
                 external={"address_verified": False})
    sources, held = select_sources(tmp_path, conn, files=[FILE_A, FILE_B, CITATIONS],
                                   exclude=[FILE_B])
    assert [s.name for s in sources] == ["myla311_ref_a", "citations_ref", "service_request"]
    report = build_reference(conn, sources, commit=True, exclude=held)
    points = _points(conn)
    assert ("TESTA ST", "W", 301) not in points
    assert points[("TESTA ST", "W", 101)].attrs["sources"] == {"myla311_ref_a": 1}
    assert ("TESTA ST", "W", 401) in points
    assert ("TESTA ST", "W", 421) not in points and ("TESTA ST", "W", 441) not in points
    table = report.sources[-1]
    assert (table.read, table.usable, table.held_out) == (4, 2, 1)
    assert table.skipped == {"pin source typed": 1, "address not verified": 1}
    between = interpolate_from_observed(conn, 270, "TESTA ST", "W", None)
    assert [n.house_number for n in between.neighbours] == [250, 401]  # not B's 301
    both = build_reference(conn, _sources(FILE_A, FILE_B) + [RequestTableSource(conn)],
                           commit=False)
    assert both.sources[-1].duplicates == 1  # B's SR number, read from the file first


def test_an_address_layer_anchors_ranges_like_any_source(conn: Connection) -> None:
    assert isinstance(source_for_path(CAMS), AddressFileSource)
    report = _build(conn, CAMS)
    assert report.sources[0].usable == 3 and report.addresses == 2  # a unit repeats 601's point
    found = interpolate_from_observed(conn, 621, "TESTA ST", "W", "90099")
    assert found.method == "interpolated" and _metres((found.lon, found.lat), _expected(621)) < 0.05
    assert _points(conn)[("TESTA ST", "W", 601)].source == "observed:addresses"


def test_cli_dry_run_prints_counts_per_source(runner) -> None:
    result = runner.invoke(args=["build", "reference", "--only", str(FILE_A), "--only",
                                 str(CITATIONS)])
    assert result.exit_code == 0, result.output
    assert "myla311_ref_a" in result.output and "citations_ref" in result.output
    assert "would write (dry run; add --commit to write) 10 observed addresses" in result.output


def _add_request(conn: Connection, external_id: str, address: str, lonlat: tuple[float, float],
                 pin_source: str = "import", external: dict | None = None) -> None:
    if conn.execute(select(func.count()).select_from(ServiceType)).scalar_one() == 0:
        conn.execute(insert(Department).values(code="REFTEST", name_en="Test", name_es="Prueba"))
        conn.execute(insert(ServiceType).values(code="reftest", name_en="Test", name_es="Prueba",
                                                default_department="REFTEST"))
    code = conn.execute(select(ServiceType.code).limit(1)).scalar_one()
    now = datetime(2021, 3, 1, tzinfo=UTC)
    conn.execute(insert(ServiceRequest).values(
        external_id=external_id, service_code=code, address=address, pin_lon=lonlat[0],
        pin_lat=lonlat[1], pin_source=pin_source, channel="import", requested_at=now,
        updated_at=now, external=external or {"address_verified": True},
    ))
