"""HTTP: /api/v1/areas, /api/v1/boundaries, /api/v1/health and the JSON error shape."""

from __future__ import annotations

import pytest


def test_areas_answers_every_type_at_a_point(client):
    response = client.get("/api/v1/areas?lon=-118.28&lat=34.08&date=2018-06-01")
    assert response.status_code == 200
    areas = response.get_json()["areas"]
    assert {"type": "CD", "code": "1", "name": "Council District 1", "vintage": "old"} in areas
    assert any(a["type"] == "CITY" for a in areas)
    assert all(set(a) == {"type", "code", "name", "vintage"} for a in areas)


def test_areas_defaults_to_today(client):
    areas = client.get("/api/v1/areas?lon=-118.28&lat=34.08").get_json()["areas"]
    assert [a["code"] for a in areas if a["type"] == "CD"] == ["2"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("lat=34.05", "lon"),
        ("lon=-118.25", "lat"),
        ("lon=abc&lat=34.05", "lon"),
        ("lon=-118.25&lat=nan", "lat"),
        ("lon=-118.25&lat=inf", "lat"),
        ("lon=-190&lat=34.05", "lon"),
        ("lon=-118.25&lat=91", "lat"),
        ("lon=-118.25&lat=34.05&date=2018-02-30", "date"),
        ("lon=-118.25&lat=34.05&date=yesterday", "date"),
        ("lon=-118.25&lat=34.05&type=NOPE", "type"),
    ],
)
def test_bad_parameters_give_400_naming_the_parameter(client, query, parameter):
    response = client.get(f"/api/v1/areas?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["ok"] is False and body["status"] == 400
    assert f"'{parameter}'" in body["error"]


def test_boundaries_lists_types_with_vintages_and_dates(client):
    types = {t["type"]: t["vintages"] for t in client.get("/api/v1/boundaries").get_json()["types"]}
    assert {v["vintage"] for v in types["CD"]} == {"old", "new"}
    old = next(v for v in types["CD"] if v["vintage"] == "old")
    assert old["valid_to"] == "2022-12-12" and old["areas"] == 2


def test_boundary_is_a_geojson_feature(client):
    response = client.get("/api/v1/boundaries/CD/1?vintage=old")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    feature = response.get_json()
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert feature["properties"]["code"] == "1" and feature["properties"]["vintage"] == "old"


def test_boundary_without_vintage_is_the_one_in_force(client):
    feature = client.get("/api/v1/boundaries/cd/1").get_json()
    assert feature["properties"]["vintage"] == "new"
    assert client.get("/api/v1/boundaries/CD/1?date=2015-01-01").get_json()["properties"][
        "vintage"] == "old"


def test_unknown_boundary_type_vintage_and_code(client):
    assert client.get("/api/v1/boundaries/NOPE/1").status_code == 400
    assert client.get("/api/v1/boundaries/CD/1?vintage=1900").status_code == 400
    missing = client.get("/api/v1/boundaries/CD/99")
    assert missing.status_code == 404
    assert missing.get_json() == {"ok": False, "status": 404, "error": missing.get_json()["error"]}


def test_health_reports_database_and_counts(client):
    body = client.get("/api/v1/health").get_json()
    assert body["ok"] is True and body["database"] == "ok"
    assert {"type": "CD", "vintage": "old", "count": 2} in body["areas"]


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["ok"] is False


def test_health_is_503_when_the_database_is_down():
    from geo311 import create_app

    app = create_app({"DATABASE_URL": "postgresql+psycopg://nobody@/none?host=/nonexistent&port=1"})
    response = app.test_client().get("/api/v1/health")
    assert response.status_code == 503
    assert response.get_json()["ok"] is False
