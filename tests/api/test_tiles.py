"""/tiles/<layer>/<z>/<x>/<y>.mvt on the real LA data: layers, z/x/y checks, ETag revalidation."""

from __future__ import annotations

import pytest

from geo311.errors import BadRequest
from geo311.tiles import MEDIA_TYPE, parse_tile_address

#: The z15 tile over Koreatown (Berendo St, 3rd-4th St): lon -118.3005, lat 34.0655.
KOREATOWN_Z15 = "15/5616/13082"
#: The z12 tile holding Koreatown, where council districts 1, 4, 10, 13 meet.
KOREATOWN_Z12 = "12/702/1635"


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
