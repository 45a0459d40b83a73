"""/api/v1/duplicates: open requests of a type near a pin before reporting (type radius and
window, nearest first, distance and age), public fields only, one JSON error shape for 400s."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from geo311 import create_app
from geo311.db import get_engine, make_engine
from geo311.schema import init_schema

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
_DB = "geo311_duplicate_suggestions"
HERE = {"lon": -118.2200, "lat": 34.0200}  # test city, inside the City
M = 1 / 111_000  # about one metre of latitude in degrees
GRAFFITI = {"service_code": "graffiti", "attributes": {"surface": "wall", "is_offensive": "no"}}
BULKY = {"service_code": "bulky_items", "attributes": {"items": ["sofa"], "item_count": 1}}
SECRET = {"name": "Zebulon Quixote-Privet", "email": "zq.privet@example.org",
          "phone": "+1 213 555 0199"}


@pytest.fixture(scope="module")
def api_app(postgis_server) -> Iterator:
    """An app on a database of its own (creates commit), with fixture boundaries + catalogue."""
    postgis_server.drop(_DB)
    postgis_server.create(_DB)
    url = postgis_server.url_for(_DB)
    engine = make_engine(url)
    init_schema(engine)
    engine.dispose()
    app = create_app({"TESTING": True, "DATABASE_URL": url, "DATA_DIR": str(FIXTURES),
                      "BOUNDARIES_DIR": str(FIXTURES / "boundaries")})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["load", "boundaries", "--commit"]).exit_code == 0
    result = runner.invoke(args=["catalogue", "sync", "--dir", str(ROOT / "data" / "catalogue")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["load", "requests", "--commit",
                                 str(FIXTURES / "requests" / "myla311_in_test_city.csv")])
    assert result.exit_code == 0, result.output
    yield app
    get_engine(app).dispose()
    postgis_server.drop(_DB)


@pytest.fixture(scope="module")
def known(api_app) -> dict[str, int]:
    """Graffiti 5 m, 15 m, 60 m north of HERE; one 10 m north but 10 days old; one closed;
    a bulky item 40 m north. Returns their ids by name."""
    client = api_app.test_client()
    ids = {}
    for name, body, metres in [("g5", GRAFFITI, 5), ("g15", GRAFFITI, 15), ("g60", GRAFFITI, 60),
                               ("old", GRAFFITI, 10), ("closed", GRAFFITI, 3),
                               ("bulky40", BULKY, 40)]:
        response = client.post("/api/v1/requests", json={
            **body, "lon": HERE["lon"], "lat": HERE["lat"] + metres * M, "contact": SECRET})
        assert response.status_code == 201, response.data
        ids[name] = response.get_json()["id"]
    with get_engine(api_app).begin() as conn:
        conn.execute(text("UPDATE service_request SET requested_at = now() - interval '10 days' "
                          "WHERE id = :id"), {"id": ids["old"]})
        conn.execute(text("UPDATE service_request SET status = 'closed', "
                          "close_reason = 'resolved', closed_at = now() WHERE id = :id"),
                     {"id": ids["closed"]})
    return ids


@pytest.fixture
def client(api_app):
    return api_app.test_client()


def suggest(client, **params):
    query = {**HERE, "service_code": "graffiti", **params}
    return client.get("/api/v1/duplicates", query_string=query)


def ids_of(response) -> list[int]:
    assert response.status_code == 200, response.data
    return [d["id"] for d in response.get_json()["duplicates"]]


def test_open_same_type_within_type_radius_nearest_first(client, known):
    response = suggest(client)
    body = response.get_json()
    assert body["radius_m"] == 25 and body["days"] == 7  # graffiti's own rule
    assert ids_of(response) == [known["g5"], known["g15"]]
    first = body["duplicates"][0]
    assert 3 < first["distance_m"] < 7
    assert 0 <= first["age_days"] < 1
    assert first["status"] == "open" and first["service_code"] == "graffiti"


def test_radius_override_reaches_farther(client, known):
    assert ids_of(suggest(client, radius_m=100)) == [known["g5"], known["g15"], known["g60"]]
    assert ids_of(suggest(client, radius_m=8)) == [known["g5"]]


def test_window_excludes_older_requests_unless_widened(client, known):
    assert known["old"] not in ids_of(suggest(client))
    widened = ids_of(suggest(client, days=30))
    assert widened == [known["g5"], known["old"], known["g15"]]


def test_closed_requests_are_never_suggested(client, known):
    assert known["closed"] not in ids_of(suggest(client, radius_m=1000, days=365))


def test_type_filter_uses_the_other_types_rule(client, known):
    response = suggest(client, service_code="bulky_items")
    assert response.get_json()["radius_m"] == 100
    assert ids_of(response) == [known["bulky40"]]


def test_imported_old_requests_fall_outside_the_window(client, known):
    # the fixture CSV holds a 2023 open graffiti request at the same point
    found = ids_of(suggest(client, radius_m=1000, days=365))
    assert set(found) == {known["g5"], known["old"], known["g15"], known["g60"]}


def test_limit(client, known):
    assert ids_of(suggest(client, radius_m=100, limit=2)) == [known["g5"], known["g15"]]


def test_suggestions_never_carry_contact_or_private_fields(client, known):
    response = suggest(client, radius_m=1000, days=365)
    raw = response.get_data(as_text=True)
    for secret in SECRET.values():
        assert secret not in raw
    for item in response.get_json()["duplicates"]:
        assert set(item) == {"id", "service_code", "status", "address", "requested_at",
                             "distance_m", "age_days", "same_segment"}
    assert "contact" not in json.loads(raw)


@pytest.mark.parametrize("params, words", [
    ({"service_code": ""}, "service_code"),
    ({"service_code": "no_such_type"}, "unknown service_code"),
    ({"lon": "x"}, "lon"),
    ({"lat": "91"}, "lat"),
    ({"radius_m": "0"}, "radius_m"),
    ({"radius_m": "5000"}, "radius_m"),
    ({"radius_m": "nan"}, "radius_m"),
    ({"days": "-1"}, "days"),
    ({"days": "1000"}, "days"),
    ({"limit": "0"}, "limit"),
])
def test_bad_parameters_answer_400_json(client, params, words):
    response = suggest(client, **params)
    assert response.status_code == 400, response.data
    body = response.get_json()
    assert body["ok"] is False and body["status"] == 400 and words in body["error"]


def test_missing_point_answers_400(client):
    response = client.get("/api/v1/duplicates", query_string={"service_code": "graffiti"})
    assert response.status_code == 400 and response.get_json()["ok"] is False


def test_operation_is_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "get" in doc["paths"]["/api/v1/duplicates"]


# ---------------------------------------------------------------- follow instead of filing
FOLLOWER = {"email": "f.follower@example.org", "phone": "+1 323 555 0142"}


def test_follow_answers_201_with_public_feature_and_count(client, known):
    target = known["g60"]
    before = client.get(f"/api/v1/requests/{target}/followers").get_json()["followers"]
    response = client.post(f"/api/v1/requests/{target}/followers", json={"contact": FOLLOWER})
    assert response.status_code == 201, response.data
    feature = response.get_json()
    assert feature["type"] == "Feature" and feature["id"] == target
    assert feature["properties"]["followers"] == before + 1
    anonymous = client.post(f"/api/v1/requests/{target}/followers")
    assert anonymous.status_code == 201, anonymous.data
    assert anonymous.get_json()["properties"]["followers"] == before + 2
    count = client.get(f"/api/v1/requests/{target}/followers").get_json()
    assert count == {"request_id": target, "followers": before + 2}


def test_follower_contact_is_never_public(client, known, api_app):
    target = known["g15"]
    assert client.post(f"/api/v1/requests/{target}/followers",
                       json={"contact": FOLLOWER}).status_code == 201
    outputs = [
        client.post(f"/api/v1/requests/{target}/followers").get_data(as_text=True),
        client.get(f"/api/v1/requests/{target}").get_data(as_text=True),
        client.get(f"/api/v1/requests/{target}/followers").get_data(as_text=True),
        client.get(f"/api/v1/requests/{target}/timeline").get_data(as_text=True),
        client.get("/api/v1/requests").get_data(as_text=True),
        client.get("/api/v1/requests.csv").get_data(as_text=True),
        suggest(client, radius_m=1000, days=365).get_data(as_text=True),
    ]
    for raw in outputs:
        for secret in [*FOLLOWER.values(), *SECRET.values()]:
            assert secret not in raw
    with get_engine(api_app).connect() as conn:
        stored = conn.execute(text("SELECT contact FROM request_follower WHERE request_id = :id "
                                   "AND contact IS NOT NULL"), {"id": target}).scalars().all()
    assert stored == [FOLLOWER]


@pytest.mark.parametrize("body, status, words", [
    ({"contact": {"email": "not-an-email"}}, 400, "contact.email"),
    ({"contact": {"name": "Somebody"}}, 400, "contact.name"),
    ({"contact": "me@example.org"}, 400, "contact"),
    ({"nickname": "x"}, 400, "nickname"),
    ([1, 2], 400, "JSON object"),
])
def test_follow_refuses_bad_bodies(client, known, body, status, words):
    response = client.post(f"/api/v1/requests/{known['g5']}/followers", json=body)
    assert response.status_code == status, response.data
    assert words in response.get_json()["error"]


def test_follow_unknown_request_is_404(client):
    for response in (client.post("/api/v1/requests/999999/followers"),
                     client.get("/api/v1/requests/999999/followers"),
                     client.get("/api/v1/requests/999999/timeline")):
        assert response.status_code == 404 and response.get_json()["ok"] is False


def test_timeline_shows_public_rows_only_without_actors(client, known, api_app):
    target = known["bulky40"]
    with get_engine(api_app).begin() as conn:
        conn.execute(text(
            "INSERT INTO request_status_history (request_id, at, actor, from_status, to_status, "
            "note, public) VALUES (:id, now(), 'crew.jones', 'open', 'open', "
            "'gate code 4471', false), (:id, now() + interval '1 second', 'crew.jones', 'open', "
            "'in_progress', 'crew on the way', true)"), {"id": target})
    body = client.get(f"/api/v1/requests/{target}/timeline").get_json()
    assert body["status"] == "open" and body["request_id"] == target
    assert [h["to_status"] for h in body["history"]] == ["open", "in_progress"]
    assert body["history"][0]["note"] == "request received"
    raw = json.dumps(body)
    assert "gate code" not in raw and "crew.jones" not in raw


# ---------------------------------------------------------------- the type chooser
def codes(response) -> list[str]:
    assert response.status_code == 200, response.data
    return [t["code"] for t in response.get_json()["service_types"]]


def test_type_chooser_finds_spanish_and_english_words(client):
    assert codes(client.get("/api/v1/service-types?lang=es&q=bache"))[0] == "pothole"
    assert codes(client.get("/api/v1/service-types?lang=en&q=bulky"))[0] == "bulky_items"
    assert codes(client.get("/api/v1/service-types?lang=es&q=colchón"))[0] == "bulky_items"
    assert codes(client.get("/api/v1/service-types?q=zzzz")) == []
    assert len(codes(client.get("/api/v1/service-types"))) == 19


def test_type_chooser_speaks_the_asked_language(client):
    es = client.get("/api/v1/service-types?lang=es&q=grafiti").get_json()["service_types"][0]
    assert es["code"] == "graffiti" and es["duplicate_radius_m"] == 25
    surface = es["attributes"][0]
    assert surface["code"] == "surface" and surface["required"] is True
    assert surface["description"] == "¿Sobre qué está el grafiti?"
    assert {"key": "wall", "name": "Pared o edificio"} in surface["values"]
    en = client.get("/api/v1/service-types?lang=en&q=graffiti").get_json()["service_types"][0]
    assert en["attributes"][0]["description"] == "What is the graffiti on?"


def test_type_chooser_refuses_unknown_language(client):
    response = client.get("/api/v1/service-types?lang=fr")
    assert response.status_code == 400 and "lang" in response.get_json()["error"]


# ---------------------------------------------------------------- the tracking page
def test_tracking_page_shows_status_and_public_history_in_both_languages(client, known):
    target = known["g5"]
    en = client.get(f"/requests/{target}?lang=en")
    assert en.status_code == 200
    html = en.get_data(as_text=True)
    assert f"Request #{target}" in html and 'data-status="open"' in html
    assert "Graffiti Removal" in html and "request received" in html
    for secret in SECRET.values():
        assert secret not in html
    es = client.get(f"/requests/{target}", headers={"Accept-Language": "es-MX,es;q=0.9"})
    html = es.get_data(as_text=True)
    assert f"Solicitud n.º {target}" in html and "abierta" in html and 'lang="es"' in html


def test_tracking_page_says_the_close_reason_in_the_readers_language(client, known):
    """The close reason was shown as its code ("cerrada (resolved)") in both languages."""
    def words(lang: str) -> str:
        html = client.get(f"/requests/{known['closed']}?lang={lang}").get_data(as_text=True)
        return re.sub(r"<[^>]+>", "", html)

    assert "cerrada (resuelta)" in words("es") and "(resolved)" not in words("es")
    assert "closed (resolved)" in words("en")


def test_tracking_page_says_the_first_note_and_department_in_the_readers_language(client, known):
    """The Spanish page said "request received" and the department's English name."""
    def words(lang: str) -> str:
        html = client.get(f"/requests/{known['g5']}?lang={lang}").get_data(as_text=True)
        return re.sub(r"<[^>]+>", "", html)

    es = words("es")
    assert "solicitud recibida" in es and "request received" not in es
    assert "Oficina de Embellecimiento Comunitario" in es
    assert "Office of Community Beautification" not in es
    en = words("en")
    assert "request received" in en and "Office of Community Beautification" in en


def test_tracking_page_of_unknown_request_is_a_404_page(client):
    response = client.get("/requests/999999?lang=es")
    assert response.status_code == 404
    assert "No existe la solicitud n.º 999999" in response.get_data(as_text=True)
