"""/tiles/<layer>/<z>/<x>/<y>.mvt on the real LA data: layers, z/x/y checks, ETag revalidation."""

from __future__ import annotations

import pytest

from geo311.errors import BadRequest
from geo311.tiles import CLUSTER_MAX_ZOOM, MEDIA_TYPE, parse_tile_address

#: The z15 tile over Koreatown (Berendo St, 3rd-4th St): lon -118.3005, lat 34.0655.
KOREATOWN_Z15 = "15/5616/13082"
#: The z12 tile holding Koreatown, where council districts 1, 4, 10, 13 meet.
KOREATOWN_Z12 = "12/702/1635"
#: The z13 tile holding Koreatown: the shallowest zoom of request points.
KOREATOWN_Z13 = "13/1404/3270"
#: Half the width of the web-mercator world, in metres (EPSG:3857).
MERCATOR_HALF_WORLD_M = 20037508.342789244


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _decode(data: bytes) -> dict:
    mvt = pytest.importorskip("mapbox_vector_tile")
    return mvt.decode(data)


def test_koreatown_tile_has_named_streets(la_client):
    response = la_client.get(f"/tiles/streets/{KOREATOWN_Z15}.mvt")
    assert response.status_code == 200
    assert response.mimetype == MEDIA_TYPE
    assert response.data[:2] != b"\x1f\x8b", "tiles are served uncompressed"
    layer = _decode(response.data)["streets"]
    names = {f["properties"]["name"] for f in layer["features"]}
    assert any("BERENDO" in name for name in names), sorted(names)[:20]
    assert layer["extent"] == 4096
    assert {f["geometry"]["type"] for f in layer["features"]} <= {"LineString", "MultiLineString"}


def test_boundaries_tile_filters_by_type_and_defaults_to_the_vintage_in_force(la_client):
    current = _decode(la_client.get(f"/tiles/boundaries/{KOREATOWN_Z12}.mvt?type=CD").data)
    props = [f["properties"] for f in current["boundaries"]["features"]]
    assert props and {p["type"] for p in props} == {"CD"}
    assert {p["vintage"] for p in props} == {"2021"}
    assert {"10", "13"} <= {p["code"] for p in props}
    old = _decode(la_client.get(f"/tiles/boundaries/{KOREATOWN_Z12}.mvt?type=CD&vintage=2012").data)
    assert {f["properties"]["vintage"] for f in old["boundaries"]["features"]} == {"2012"}


def test_request_and_facility_layers_answer_even_when_empty(la_client):
    for layer in ("requests", "facilities"):
        response = la_client.get(f"/tiles/{layer}/{KOREATOWN_Z12}.mvt?status=open")
        assert response.status_code == 200
        assert response.mimetype == MEDIA_TYPE


def test_requests_layer_carries_public_fields_of_matching_requests(la_client, la_app):
    from sqlalchemy import delete, insert

    from geo311.db import get_engine
    from geo311.models import Department, ServiceRequest, ServiceType

    with la_app.app_context():
        engine = get_engine()
    with engine.begin() as conn:
        conn.execute(insert(Department).values(code="TILETEST", name_en="Tile test",
                                               name_es="Prueba"))
        conn.execute(insert(ServiceType).values(code="tile_test", name_en="Tile test",
                                                name_es="Prueba", default_department="TILETEST"))
        conn.execute(insert(ServiceRequest).values(
            service_code="tile_test", status="open", department="TILETEST", channel="test",
            location="SRID=4326;POINT(-118.3005 34.0655)", contact={"email": "a@example.org"},
            requested_at=_now(), updated_at=_now()))
    try:
        tile = _decode(la_client.get(f"/tiles/requests/{KOREATOWN_Z15}.mvt?status=open").data)
        props = [f["properties"] for f in tile["requests"]["features"]]
        assert any(p["service_code"] == "tile_test" and p["department"] == "TILETEST"
                   for p in props)
        assert all("contact" not in p for p in props)
        closed = la_client.get(f"/tiles/requests/{KOREATOWN_Z15}.mvt?status=closed").data
        assert not closed or not _decode(closed).get("requests", {}).get("features")
        other = la_client.get(f"/tiles/requests/{KOREATOWN_Z15}.mvt?department=NOPE").data
        assert not other or not _decode(other).get("requests", {}).get("features")
    finally:
        with engine.begin() as conn:
            conn.execute(delete(ServiceRequest).where(ServiceRequest.service_code == "tile_test"))
            conn.execute(delete(ServiceType).where(ServiceType.code == "tile_test"))
            conn.execute(delete(Department).where(Department.code == "TILETEST"))


@pytest.fixture
def aged_requests(la_app):
    """Three requests of a type of their own in the Koreatown z15 tile: 2 days old in CD 10 and
    NC 52, 40 days old in CD 10, 200 days old in CD 13; removed afterwards."""
    from datetime import timedelta

    from sqlalchemy import delete, insert

    from geo311.db import get_engine
    from geo311.models import Department, ServiceRequest, ServiceType

    engine = get_engine(la_app)
    rows = [(-118.3005, 34.0655, 2, [{"type": "CD", "code": "10"}, {"type": "NC", "code": "52"}]),
            (-118.3003, 34.0652, 40, [{"type": "CD", "code": "10"}]),
            (-118.3001, 34.0650, 200, [{"type": "CD", "code": "13"}])]
    with engine.begin() as conn:
        conn.execute(insert(Department).values(code="TILEAGE", name_en="Tile age test",
                                               name_es="Prueba"))
        conn.execute(insert(ServiceType).values(code="tile_age_test", name_en="Tile age test",
                                                name_es="Prueba", default_department="TILEAGE"))
        ids = {}
        for lon, lat, days, areas in rows:
            at = _now() - timedelta(days=days, hours=1)
            ids[days] = conn.execute(insert(ServiceRequest).values(
                service_code="tile_age_test", status="open", department="TILEAGE",
                channel="test", location=f"SRID=4326;POINT({lon} {lat})", areas=areas,
                requested_at=at, updated_at=at).returning(ServiceRequest.id)).scalar_one()
    try:
        yield ids
    finally:
        with engine.begin() as conn:
            conn.execute(delete(ServiceRequest).where(
                ServiceRequest.service_code == "tile_age_test"))
            conn.execute(delete(ServiceType).where(ServiceType.code == "tile_age_test"))
            conn.execute(delete(Department).where(Department.code == "TILEAGE"))


def _request_ids(la_client, query: str) -> set[int]:
    response = la_client.get(f"/tiles/requests/{KOREATOWN_Z15}.mvt?service_code=tile_age_test"
                             f"&{query}")
    assert response.status_code == 200, response.data
    if not response.data:
        return set()
    return {f["properties"]["id"] for f in _decode(response.data)["requests"]["features"]}


def test_requests_tile_filters_by_council_district_nc_and_age(la_client, aged_requests):
    new, month, old = aged_requests[2], aged_requests[40], aged_requests[200]
    assert _request_ids(la_client, "") == {new, month, old}
    assert _request_ids(la_client, "area_type=CD&area_code=10") == {new, month}
    assert _request_ids(la_client, "area_type=cd&area_code=13") == {old}
    assert _request_ids(la_client, "area_type=NC&area_code=52") == {new}
    assert _request_ids(la_client, "area_type=NC&area_code=53") == set()
    assert _request_ids(la_client, "min_age_days=30") == {month, old}
    assert _request_ids(la_client, "min_age_days=41") == {old}
    assert _request_ids(la_client, "max_age_days=40") == {new, month}
    assert _request_ids(la_client, "max_age_days=39") == {new}
    assert _request_ids(la_client, "min_age_days=7&max_age_days=90") == {month}
    assert _request_ids(la_client, "min_age_days=7&area_type=CD&area_code=10") == {month}
    # The age the tile reports is the one the filters use.
    tile = _decode(la_client.get(f"/tiles/requests/{KOREATOWN_Z15}.mvt"
                                 "?service_code=tile_age_test").data)
    ages = {f["properties"]["id"]: f["properties"]["age_days"]
            for f in tile["requests"]["features"]}
    assert ages == {new: 2, month: 40, old: 200}


def test_requests_tile_etag_varies_with_filters(la_client, aged_requests):
    base = f"/tiles/requests/{KOREATOWN_Z15}.mvt?service_code=tile_age_test"
    # Two empty tiles of different filters: same bytes, different validators.
    nc = la_client.get(base + "&area_type=NC&area_code=53")
    aged = la_client.get(base + "&min_age_days=3000")
    assert nc.data == aged.data == b""
    assert nc.headers["ETag"] != aged.headers["ETag"]
    cd = la_client.get(base + "&area_type=CD&area_code=10")
    again = la_client.get(base + "&area_type=CD&area_code=10",
                          headers={"If-None-Match": cd.headers["ETag"]})
    assert again.status_code == 304
    other = la_client.get(base + "&area_type=CD&area_code=13",
                          headers={"If-None-Match": cd.headers["ETag"]})
    assert other.status_code == 200 and other.data


def _features(la_client, address: str, query: str) -> list[dict]:
    response = la_client.get(f"/tiles/requests/{address}.mvt?{query}")
    assert response.status_code == 200, response.data
    return _decode(response.data)["requests"]["features"] if response.data else []


def _counted(features: list[dict]) -> int:
    assert all(f["properties"]["cluster"] is True for f in features)
    assert {f["geometry"]["type"] for f in features} <= {"Point"}
    return sum(f["properties"]["count"] for f in features)


def test_low_zoom_request_tiles_are_clusters_counting_the_filtered_requests(la_client,
                                                                            aged_requests):
    assert CLUSTER_MAX_ZOOM == 12
    base = "service_code=tile_age_test"
    features = _features(la_client, KOREATOWN_Z12, base)
    # The three requests lie within 60 m of each other: one cell, one cluster.
    assert len(features) == 1
    props = features[0]["properties"]
    assert props["count"] == 3 and props["cluster"] is True
    assert props["service_code"] == "tile_age_test"
    assert (props["oldest_days"], props["newest_days"]) == (200, 2)
    assert "id" not in props and "address" not in props
    # Each filter narrows the clusters as it narrows the points.
    assert _counted(_features(la_client, KOREATOWN_Z12, base + "&area_type=CD&area_code=10")) == 2
    assert _counted(_features(la_client, KOREATOWN_Z12, base + "&area_type=NC&area_code=52")) == 1
    assert _counted(_features(la_client, KOREATOWN_Z12, base + "&min_age_days=30")) == 2
    assert _counted(_features(la_client, KOREATOWN_Z12, base + "&max_age_days=39")) == 1
    aged = _features(la_client, KOREATOWN_Z12, base + "&min_age_days=7&max_age_days=90")
    assert [(f["properties"]["count"], f["properties"]["oldest_days"]) for f in aged] == [(1, 40)]
    assert _features(la_client, KOREATOWN_Z12, base + "&status=closed") == []
    assert _features(la_client, KOREATOWN_Z12, base + "&department=NOPE") == []
    assert _counted(_features(la_client, KOREATOWN_Z12,
                              base + "&status=open&department=TILEAGE")) == 3


@pytest.fixture
def spread_requests(la_app, aged_requests):
    """Besides the three Koreatown requests, four more of their type across the z10 tile holding
    Koreatown (Hollywood, Downtown, Culver City, Van Nuys); removed with them."""
    from sqlalchemy import insert

    from geo311.db import get_engine
    from geo311.models import ServiceRequest

    engine = get_engine(la_app)
    with engine.begin() as conn:
        for lon, lat in ((-118.3287, 34.0928), (-118.2437, 34.0522), (-118.3965, 34.0211),
                         (-118.4487, 34.1867)):
            at = _now()
            conn.execute(insert(ServiceRequest).values(
                service_code="tile_age_test", status="open", department="TILEAGE",
                channel="test", location=f"SRID=4326;POINT({lon} {lat})", areas=[],
                requested_at=at, updated_at=at))
    return engine


def _requests_in_tile(engine, z: int, x: int, y: int, service_code: str | None) -> int:
    """Requests whose web-mercator point lies in the tile (west and north edges in, east and
    south out), counted straight from the table with bounds worked out here."""
    from sqlalchemy import text

    size = 2 * MERCATOR_HALF_WORLD_M / (1 << z)
    west, north = -MERCATOR_HALF_WORLD_M + x * size, MERCATOR_HALF_WORLD_M - y * size
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM service_request"
            " WHERE ST_X(ST_Transform(location, 3857)) >= :west"
            "   AND ST_X(ST_Transform(location, 3857)) < :east"
            "   AND ST_Y(ST_Transform(location, 3857)) <= :north"
            "   AND ST_Y(ST_Transform(location, 3857)) > :south"
            "   AND (CAST(:code AS text) IS NULL OR service_code = :code)"),
            {"west": west, "east": west + size, "north": north, "south": north - size,
             "code": service_code}).scalar_one()


@pytest.mark.parametrize("address", ["10/175/408", "11/351/817", KOREATOWN_Z12])
def test_cluster_counts_sum_to_the_requests_in_the_tile(la_client, spread_requests, address):
    z, x, y = (int(part) for part in address.split("/"))
    for code in ("tile_age_test", None):
        query = f"service_code={code}" if code else ""
        features = _features(la_client, address, query)
        expected = _requests_in_tile(spread_requests, z, x, y, code)
        assert _counted(features) == expected, (address, code)
        # One feature per non-empty cell: never more than the grid holds.
        assert len(features) <= 16
    wide = _features(la_client, "10/175/408", "service_code=tile_age_test")
    assert _counted(wide) == 7 and len(wide) >= 3, "the spread requests fall in several cells"


def test_low_zoom_cluster_tile_keeps_etag_revalidation(la_client, aged_requests):
    url = f"/tiles/requests/{KOREATOWN_Z12}.mvt?service_code=tile_age_test"
    first = la_client.get(url)
    assert first.status_code == 200 and first.data
    again = la_client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    aged = la_client.get(url + "&min_age_days=30", headers={"If-None-Match": first.headers["ETag"]})
    assert aged.status_code == 200 and aged.data != first.data


def test_request_tiles_from_z13_are_points_as_before(la_client, aged_requests):
    features = _features(la_client, KOREATOWN_Z13, "service_code=tile_age_test")
    assert {f["properties"]["id"] for f in features} == set(aged_requests.values())
    for feature in features:
        assert feature["geometry"]["type"] == "Point"
        assert "cluster" not in feature["properties"] and "count" not in feature["properties"]
        assert {"service_code", "status", "department", "age_days"} <= set(feature["properties"])


def test_clusters_and_points_share_one_filter_clause():
    from geo311.db import load_driver_sql, sql_source
    from geo311.tiles import request_statement

    # One source: the filter lines live in tile_request_filter.sql only, and each request
    # statement runs with exactly those lines right after its WHERE on the tile's envelope.
    fragment = [line.strip() for line in load_driver_sql("tile_request_filter").splitlines()
                if line.strip()]
    assert len(fragment) >= 10
    for name in ("tile_requests", "tile_request_clusters"):
        assert "CAST(:area AS jsonb)" not in sql_source(name), f"{name}.sql repeats the filters"
        lines = [line.strip() for line in request_statement(name).splitlines()]
        starts = [i for i in range(len(lines)) if lines[i:i + len(fragment)] == fragment]
        assert len(starts) == 1, name
        start = starts[0]
        where = next(i for i in range(start, -1, -1) if lines[i].startswith("WHERE"))
        assert any("ST_TileEnvelope" in line for line in lines[where:start]), name


@pytest.mark.parametrize(("query", "named"), [
    ("status=bogus", "status"),
    ("min_age_days=-1", "min_age_days"),
    ("min_age_days=abc", "min_age_days"),
    ("max_age_days=1.5", "max_age_days"),
    ("max_age_days=99999", "max_age_days"),
    ("min_age_days=30&max_age_days=7", "min_age_days"),
    ("area_type=CD", "area_code"),
    ("area_code=10", "area_type"),
    ("area_type=C%20D&area_code=10", "area_type"),
    ("area_type=CD&area_code=1%3B0%27", "area_code"),
    ("service_code=" + ",".join(["a"] * 51), "service_code"),
])
def test_bad_request_tile_filter_is_a_400_json_error(la_client, query, named):
    response = la_client.get(f"/tiles/requests/{KOREATOWN_Z15}.mvt?{query}")
    assert response.status_code == 400
    body = response.json
    assert body["ok"] is False and body["status"] == 400
    assert named in body["error"]


def test_etag_round_trip_gives_304(la_client):
    first = la_client.get(f"/tiles/streets/{KOREATOWN_Z15}.mvt")
    etag = first.headers["ETag"]
    assert "max-age" in first.headers["Cache-Control"]
    again = la_client.get(f"/tiles/streets/{KOREATOWN_Z15}.mvt", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    other = la_client.get(f"/tiles/streets/{KOREATOWN_Z15}.mvt", headers={"If-None-Match": '"x"'})
    assert other.status_code == 200 and other.data == first.data


@pytest.mark.parametrize("address", ["23/0/0", "1/2/0", "1/0/2", "3/-1/0", "a/0/0", "2/1.5/0",
                                     "-1/0/0"])
def test_bad_tile_address_is_a_400_json_error(la_client, address):
    response = la_client.get(f"/tiles/streets/{address}.mvt")
    assert response.status_code == 400
    assert response.json["ok"] is False and response.json["status"] == 400


def test_unknown_layer_is_a_404_json_error(la_client):
    response = la_client.get("/tiles/parcels/1/0/0.mvt")
    assert response.status_code == 404
    assert "streets" in response.json["error"]


def test_parse_tile_address_edges():
    assert parse_tile_address("0", "0", "0") == (0, 0, 0)
    assert parse_tile_address("22", str(2**22 - 1), "0") == (22, 2**22 - 1, 0)
    with pytest.raises(BadRequest, match="y must be"):
        parse_tile_address("2", "0", "4")
