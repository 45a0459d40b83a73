"""/api/v1/requests: create (201/200 idempotent, errors), one request (ETag), list filters and
cursor paging, streamed exports, and contact privacy across every public output."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from geo311.db import get_engine

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
_DB = "geo311_requests_api"
INSIDE = {"lon": -118.22, "lat": 34.02}  # test city: old CD 2 / new CD 1, no NC
NORTH = {"lon": -118.28, "lat": 34.08}  # test city: new CD 2, NC 55
ISLAND = {"lon": -118.25, "lat": 34.05}  # the county island inside the test city
GRAFFITI = {"service_code": "graffiti", "attributes": {"surface": "wall", "is_offensive": "no"}}
SECRET = {"name": "Zebulon Quixote-Privet", "email": "zq.privet@example.org",
          "phone": "+1 213 555 0199"}


@pytest.fixture(scope="module")
def api_app(own_fixture_city) -> Iterator:
    """An app on a database of its own (creates commit), with fixture boundaries + catalogue."""
    yield from own_fixture_city(_DB, requests=FIXTURES / "requests" / "myla311_in_test_city.csv")


@pytest.fixture
def client(api_app):
    return api_app.test_client()


def create(client, key: str | None = None, **fields):
    body = {**GRAFFITI, **INSIDE, **fields}
    headers = {"Idempotency-Key": key} if key else {}
    return client.post("/api/v1/requests", json=body, headers=headers)


def assert_error(response, status: int, *words: str) -> None:
    assert response.status_code == status, response.data
    body = response.get_json()
    assert body["ok"] is False and body["status"] == status
    for word in words:
        assert word in body["error"], body["error"]


# ---------------------------------------------------------------- create and read one
def test_create_answers_201_with_feature_location_and_etag(client):
    response = create(client, description="tagging on the wall", accuracy_m=8, pin_source="gps")
    assert response.status_code == 201, response.data
    feature = response.get_json()
    assert feature["type"] == "Feature" and isinstance(feature["id"], int)
    assert response.headers["Location"].endswith(f"/api/v1/requests/{feature['id']}")
    assert response.headers["ETag"] == '"1"'
    props = feature["properties"]
    assert props["service_code"] == "graffiti" and props["status"] == "open"
    assert props["department"] == "OCB" and props["version"] == 1
    assert props["pin"] == {"lon": -118.22, "lat": 34.02, "accuracy_m": 8.0, "source": "gps"}
    assert {"type": "CD", "code": "1"}.items() <= next(
        a for a in props["areas"] if a["type"] == "CD").items()
    assert props["locate"]["jurisdiction"]["inside_city"] is True
    assert props["attributes"] == {"surface": "wall", "is_offensive": "no"}
    assert props["requested_at"].endswith("+00:00")


def test_get_one_has_the_contract_properties_and_etag(client):
    request_id = create(client).get_json()["id"]
    response = client.get(f"/api/v1/requests/{request_id}")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    feature = response.get_json()
    assert feature["id"] == request_id
    assert feature["geometry"]["type"] == "Point"
    for key in ("service_code", "status", "requested_at", "updated_at", "address",
                "department", "areas", "locate", "version"):
        assert key in feature["properties"]
    etag = response.headers["ETag"]
    assert client.get(f"/api/v1/requests/{request_id}",
                      headers={"If-None-Match": etag}).status_code == 304


def test_unknown_request_is_404_json(client):
    assert_error(client.get("/api/v1/requests/987654321"), 404, "987654321")


def test_idempotency_key_returns_the_same_request_with_200(client):
    first = create(client, key="retry-me-1")
    again = create(client, key="retry-me-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    other_type = client.post("/api/v1/requests", headers={"Idempotency-Key": "retry-me-1"},
                             json={"service_code": "bulky_items", **INSIDE,
                                   "attributes": {"items": ["sofa"], "item_count": 1}})
    assert_error(other_type, 409, "Idempotency-Key")


@pytest.mark.parametrize("body, status, words", [
    ({"lon": -118.22, "lat": 34.02}, 400, ["service_code"]),
    ({**GRAFFITI, "service_code": "teleport"}, 400, ["teleport"]),
    ({**GRAFFITI}, 400, ["location", "lon"]),
    ({**GRAFFITI, "lon": -218.0, "lat": 34.0}, 400, ["lon"]),
    ({**GRAFFITI, "lon": "west", "lat": 34.0}, 400, ["lon"]),
    ({**GRAFFITI, **INSIDE, "attributes": {"surface": "wall"}}, 400, ["is_offensive"]),
    ({**GRAFFITI, **INSIDE, "attributes": {"surface": "moon", "is_offensive": "no"}}, 400,
     ["surface", "moon"]),
    ({**GRAFFITI, **INSIDE, "attributes": {**GRAFFITI["attributes"], "area_sqft": "big"}}, 400,
     ["area_sqft", "number"]),
    ({**GRAFFITI, **INSIDE, "attributes": {**GRAFFITI["attributes"], "colour": "red"}}, 400,
     ["colour"]),
    ({"service_code": "bulky_items", **INSIDE,
      "attributes": {"items": ["sofa", "piano"], "item_count": 2}}, 400, ["items", "piano"]),
    ({"service_code": "bulky_items", **INSIDE,
      "attributes": {"items": ["sofa"], "item_count": -3}}, 400, ["item_count", "at least 1"]),
    ({"service_code": "bulky_items", **INSIDE,
      "attributes": {"items": ["sofa"], "item_count": 2.5}}, 400, ["item_count", "whole number"]),
    ({"service_code": "bulky_items", **INSIDE,
      "attributes": {"items": ["sofa"], "item_count": 1e6}}, 400, ["item_count", "at most 100"]),
    ({**GRAFFITI, **INSIDE, "description": "x" * 4001}, 400, ["description", "4,000"]),
    ({**GRAFFITI, **INSIDE, "media_url": "javascript:alert(1)"}, 400, ["media_url"]),
    ({**GRAFFITI, **INSIDE, "pin_source": "import"}, 400, ["pin_source"]),
    ({**GRAFFITI, **INSIDE, "channel": "pigeon"}, 400, ["channel"]),
    ({**GRAFFITI, **INSIDE, "contact": {"email": "not-an-email"}}, 400, ["contact.email"]),
    ({**GRAFFITI, **INSIDE, "colour": "red"}, 400, ["colour"]),
    ({**GRAFFITI, **ISLAND}, 422, ["not in the City", "Test Island"]),
    ({**GRAFFITI, "lon": -117.0, "lat": 35.5}, 422, ["could not be located"]),
])  # fmt: skip
def test_bad_input_is_a_4xx_naming_the_field_and_stores_nothing(client, api_app, body, status,
                                                                 words):
    before = _count(api_app)
    assert_error(client.post("/api/v1/requests", json=body), status, *words)
    assert _count(api_app) == before


def test_outside_the_city_names_who_is_responsible_and_their_contact(client):
    """The contact reads as a labelled sentence, not a fragment glued after the last one
    ("... is responsible. the City of Pasadena's own service request line or website")."""
    body = client.post("/api/v1/requests", json={**GRAFFITI, **ISLAND}).get_json()
    responsible, contact = body["error"].split(" is responsible. ", 1)
    assert "Test Island" in responsible
    assert contact.startswith("Contact: ") and contact.endswith(".") and len(contact) > 12


@pytest.mark.parametrize("method, path, kwargs, words", [
    ("get", "/api/v1/requests", {"query_string": {"service_code": "graffiti\x00"}},
     ["'service_code'", "NUL"]),
    ("get", "/api/v1/requests", {"query_string": {"department": "\x00"}}, ["'department'"]),
    ("get", "/api/v1/duplicates", {"query_string": {"service_code": "\x00", **INSIDE}},
     ["'service_code'"]),
    ("get", "/api/v1/boundaries/CD/1%000", {}, ["path", "NUL"]),
    ("post", "/api/v1/requests", {"json": {**GRAFFITI, **INSIDE, "description": "a\x00b"}},
     ["'description'", "NUL"]),
    ("post", "/api/v1/requests", {"json": {**INSIDE, "service_code": "bulky_items",
                                           "attributes": {"items": ["so\x00fa"],
                                                          "item_count": 1}}},
     ["'attributes.items[0]'"]),
    ("post", "/api/v1/auth/login", {"json": {"name": "kim\x00", "password": "x"}}, ["'name'"]),
])  # fmt: skip
def test_nul_characters_are_a_400_naming_the_input_never_a_500(client, api_app, method, path,
                                                                kwargs, words):
    """PostgreSQL text cannot hold U+0000: before, each of these reached the driver and
    answered 500 "internal error"."""
    before = _count(api_app)
    assert_error(getattr(client, method)(path, **kwargs), 400, *words)
    assert _count(api_app) == before


@pytest.mark.parametrize("method, path", [
    ("get", "/api/v1/requests/99999999999999999999"),
    ("get", "/api/v1/requests/99999999999999999999/timeline"),
    ("get", "/api/v1/requests/99999999999999999999/followers"),
    ("post", "/api/v1/requests/99999999999999999999/followers"),
    ("post", "/api/v1/requests/99999999999999999999/updates"),
    ("get", "/requests/99999999999999999999"),
])
def test_ids_beyond_bigint_are_not_found_not_a_500(client, method, path):
    """Every id in a route is a bigint: a larger one failed in the database as a 500."""
    assert getattr(client, method)(path).status_code == 404


def test_cursor_and_event_positions_beyond_bigint_are_a_400(client):
    import base64

    forged = base64.urlsafe_b64encode(json.dumps(
        ["-requested_at", "2022-09-24T02:06:57+00:00", 10**20]).encode()).decode()
    assert_error(client.get("/api/v1/requests", query_string={"cursor": forged}), 400, "cursor")
    # the feed said ": database unavailable; reconnect with Last-Event-ID", forever
    assert_error(client.get("/api/v1/events?after=99999999999999999999&timeout=0"), 400, "after")


def test_nul_characters_in_open311_answer_in_the_open311_shape(client):
    listed = client.get("/open311/v2/requests.json", query_string={"service_code": "\x00"})
    assert listed.status_code == 400
    assert "service_code" in listed.get_json()[0]["description"]
    as_xml = client.get("/open311/v2/requests.xml", query_string={"service_code": "\x00"})
    assert as_xml.status_code == 400 and as_xml.mimetype == "text/xml"
    assert b"<code>400</code>" in as_xml.data
    posted = client.post("/open311/v2/requests.json", data={
        "service_code": "graffiti", "lat": "34.02", "long": "-118.22", "description": "a\x00"})
    assert posted.status_code == 400 and "description" in posted.get_json()[0]["description"]
    token = client.get("/open311/v2/tokens/a%00b.json")
    assert token.status_code == 400 and token.get_json()[0]["code"] == 400


def test_non_json_and_oversize_bodies(client):
    assert_error(client.post("/api/v1/requests", data="service_code=graffiti",
                             content_type="application/x-www-form-urlencoded"), 400, "JSON")
    huge = json.dumps({**GRAFFITI, **INSIDE, "description": "x" * 70_000})
    assert_error(client.post("/api/v1/requests", data=huge, content_type="application/json"),
                 413, "bytes")
    beyond_app_limit = "x" * (2 * 1024 * 1024)
    response = client.post("/api/v1/locate/batch", data=beyond_app_limit,
                           content_type="application/json")
    assert response.status_code == 413


# ---------------------------------------------------------------- list
def test_list_is_a_feature_collection_newest_first(client):
    create(client)
    body = client.get("/api/v1/requests").get_json()
    assert body["type"] == "FeatureCollection"
    times = [f["properties"]["requested_at"] for f in body["features"]]
    assert times == sorted(times, reverse=True)
    assert "contact" not in json.dumps(body)


def test_cursor_paging_visits_every_request_once(client):
    for _ in range(3):
        create(client)
    everything = client.get("/api/v1/requests?limit=1000").get_json()["features"]
    seen, url = [], "/api/v1/requests?limit=2"
    while url:
        page = client.get(url).get_json()
        seen += [f["id"] for f in page["features"]]
        url = page["next"] and page["next"].replace("http://localhost", "")
        assert len(seen) <= len(everything)
    assert seen == [f["id"] for f in everything]


def test_filters(client):
    created = create(client, **NORTH).get_json()["id"]

    def ids(query: str) -> set[int]:
        response = client.get("/api/v1/requests?limit=1000&" + query)
        assert response.status_code == 200, response.data
        return {f["id"] for f in response.get_json()["features"]}

    everything = ids("")
    assert created in ids("service_code=graffiti,bulky_items")
    assert created not in ids("service_code=bulky_items")
    assert created in ids("status=open") and created not in ids("status=closed")
    assert created in ids("department=ocb") and created not in ids("department=LASAN")
    assert created in ids("area_type=NC&area_code=55")
    assert created not in ids("area_type=CD&area_code=1")
    assert created in ids("bbox=-118.3,34.05,-118.25,34.1")
    assert created not in ids("bbox=-118.25,34.0,-118.2,34.05")
    imported_2018 = ids("start=2018-01-01&end=2018-01-02")
    assert imported_2018 and created not in imported_2018 and imported_2018 < everything
    assert created in ids("updated_after=2024-01-01T00:00:00Z")
    assert ids("updated_after=2999-01-01") == set()


@pytest.mark.parametrize("query, words", [
    ("status=done", ["status"]),
    ("bbox=1,2,3", ["bbox"]),
    ("area_type=CD", ["area_type", "area_code"]),
    ("start=yesterday", ["start"]),
    ("start=2020-02-01&end=2020-01-01", ["start"]),
    ("cursor=bm9wZQ", ["cursor"]),
    ("limit=0", ["limit"]),
    ("limit=1000000", ["limit"]),
    ("sort=random", ["sort"]),
    ("service_code=pothole_repair", ["service_code", "pothole_repair", "graffiti"]),
    ("service_code=graffiti,nope", ["service_code", "nope"]),
    ("department=NOPE", ["department", "NOPE", "OCB"]),
])
def test_bad_list_parameters_are_400_naming_them(client, query, words):
    assert_error(client.get("/api/v1/requests?" + query), 400, *words)


def test_unknown_codes_are_400_in_exports_hotspots_and_the_cli_too(api_app, client, tmp_path):
    """A typo is told apart from 'no requests' wherever the list's filters are taken."""
    assert_error(client.get("/api/v1/requests.csv?service_code=pothole_repair"), 400,
                 "pothole_repair")
    assert_error(client.get("/api/v1/hotspots?department=NOPE"), 400, "department", "NOPE")
    result = api_app.test_cli_runner().invoke(
        args=["export", str(tmp_path / "x.csv"), "--filter", "service_code=pothole_repair"])
    assert result.exit_code != 0 and "pothole_repair" in result.output
    assert not (tmp_path / "x.csv").exists()


# ---------------------------------------------------------------- exports
def test_csv_export_has_georeport_columns(client):
    response = client.get("/api/v1/requests.csv?service_code=graffiti")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows and {"service_request_id", "requested_datetime", "lat", "long", "status",
                     "service_code", "council_district"} <= set(rows[0])
    assert {r["service_code"] for r in rows} == {"graffiti"}


def test_geojson_export_is_one_feature_collection(client):
    body = json.loads(client.get("/api/v1/requests.geojson").get_data(as_text=True))
    assert body["type"] == "FeatureCollection" and body["features"]
    assert all(f["type"] == "Feature" for f in body["features"])


def test_parquet_export_reads_in_geopandas_and_duckdb(client, tmp_path):
    import geopandas

    path = tmp_path / "requests.parquet"
    path.write_bytes(client.get("/api/v1/requests.parquet?status=open").data)
    frame = geopandas.read_parquet(path)
    assert len(frame) and frame.crs.to_string() == "OGC:CRS84"
    assert frame.geometry.geom_type.unique().tolist() == ["Point"]
    assert set(frame.status) == {"open"}
    duckdb = pytest.importorskip("duckdb")
    count = duckdb.sql(f"SELECT count(*) FROM read_parquet('{path}')").fetchall()[0][0]
    assert count == len(frame)


def test_unknown_export_format_is_400(client):
    assert_error(client.get("/api/v1/requests.xlsx"), 400, "csv")


def test_cli_export_writes_a_file(api_app, tmp_path):
    out = tmp_path / "all.csv"
    result = api_app.test_cli_runner().invoke(
        args=["export", str(out), "--filter", "service_code=graffiti"])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("service_request_id,")


# ---------------------------------------------------------------- privacy
def test_contact_details_never_appear_in_any_public_output(api_app, client, tmp_path):
    created = create(client, key="private-1", contact=SECRET, anonymous=False)
    assert created.status_code == 201
    request_id = created.get_json()["id"]
    with get_engine(api_app).connect() as conn:  # it is stored...
        stored = conn.execute(text("SELECT contact FROM service_request WHERE id = :id"),
                              {"id": request_id}).scalar_one()
    assert stored["email"] == SECRET["email"]
    outputs = {
        "create": created.data,
        "retry": create(client, key="private-1", contact=SECRET).data,
        "one": client.get(f"/api/v1/requests/{request_id}").data,
        "list": client.get("/api/v1/requests?limit=1000").data,
        "csv": client.get("/api/v1/requests.csv").data,
        "geojson": client.get("/api/v1/requests.geojson").data,
        "parquet": client.get("/api/v1/requests.parquet").data,
        "open311": client.get(f"/open311/v2/requests/{request_id}.json?extensions=true").data,
        "open311_xml": client.get(f"/open311/v2/requests/{request_id}.xml").data,
    }
    for fmt in ("csv", "geojson", "parquet"):
        out = tmp_path / f"export.{fmt}"
        assert api_app.test_cli_runner().invoke(args=["export", str(out)]).exit_code == 0
        outputs[f"cli_{fmt}"] = out.read_bytes()
    for name, data in outputs.items():
        assert data, name
        for secret in (*SECRET.values(), "Quixote", "privet", "555 0199"):
            assert secret.encode() not in data, f"{secret!r} leaked in {name}"
        assert b"idempotency" not in data.lower(), name


def _count(app) -> int:
    with get_engine(app).connect() as conn:
        return conn.execute(text("SELECT count(*) FROM service_request")).scalar_one()
