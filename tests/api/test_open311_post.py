"""Open311 POST requests, API keys (CLI-made and from the setting) and tokens, per the spec text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, text
from test_open311 import (
    app_config,
    as_text,
    assert_open311_error,
    make_open311_database,
    xml_to_data,
)

from geo311 import create_app
from geo311.db import make_engine
from geo311.models import ServiceRequest

V2 = "/open311/v2"
SETTING_KEY = "env-key-for-deployments-0123456789"
INSIDE = {"lat": "34.08", "long": "-118.28"}  # hand-made city, council district 2
CONTACT = {"email": "private.person@example.com", "phone": "+1 213 555 0199",
           "first_name": "Privatefirst", "last_name": "Privatelast",
           "device_id": "device-private-42", "account_id": "account-private-7"}


@pytest.fixture(scope="module")
def db_url(postgis_server) -> Iterator[str]:
    name = "geo311_open311_post"
    yield make_open311_database(postgis_server, name)
    postgis_server.drop(name)


@pytest.fixture(scope="module")
def app(db_url):
    application = create_app(app_config(db_url, OPEN311_API_KEYS=f"other-key, {SETTING_KEY}"))
    yield application
    application.extensions.pop("geo311_engine").dispose()


@pytest.fixture(scope="module")
def o311(app):
    return app.test_client()


@pytest.fixture(scope="module")
def cli_key(app) -> str:
    """A key made the way an operator makes one: `geo311 apikeys create`."""
    result = app.test_cli_runner().invoke(args=["apikeys", "create", "conformance tests"])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def _post(client, fields: dict[str, Any], fmt: str = "json", headers: dict | None = None):
    return client.post(f"{V2}/requests.{fmt}", data=fields, headers=headers or {})


def _bulky(key: str, **extra: Any) -> dict[str, Any]:
    return {"api_key": key, "service_code": "bulky_items", **INSIDE,
            "attribute[items][]": ["mattress", "sofa"], "attribute[item_count]": "2", **extra}


def _stored(engine, request_id: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(ServiceRequest).where(ServiceRequest.id == int(request_id))
                            ).one()


# ---------------------------------------------------------------- success
def test_post_with_a_cli_key_creates_a_request(o311, cli_key, engine):
    response = _post(o311, _bulky(cli_key, description="Old sofa and mattress"))
    assert response.status_code == 200, response.data
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    (body,) = response.get_json()
    assert list(body) == ["service_request_id", "service_notice", "account_id"]
    assert body["account_id"] is None
    assert "LA Sanitation" in body["service_notice"]
    row = _stored(engine, body["service_request_id"])
    assert row.service_code == "bulky_items" and row.channel == "open311"
    assert row.attributes == {"items": ["mattress", "sofa"], "item_count": 2}
    assert row.pin_lon == -118.28 and row.pin_lat == 34.08
    assert row.department == "LASAN"


def test_post_with_a_key_from_the_setting(o311):
    response = _post(o311, _bulky(SETTING_KEY))
    assert response.status_code == 200, response.data


def test_created_request_reads_back_through_get(o311, cli_key):
    (body,) = _post(o311, _bulky(cli_key, description="Reads back")).get_json()
    (row,) = o311.get(f"{V2}/requests/{body['service_request_id']}.json").get_json()
    assert row["status"] == "open" and row["service_code"] == "bulky_items"
    assert row["description"] == "Reads back"
    assert row["lat"] == 34.08 and row["long"] == -118.28
    assert row["agency_responsible"] == "LA Sanitation and Environment"
    recent = o311.get(f"{V2}/requests.json?service_code=bulky_items").get_json()
    assert body["service_request_id"] in {r["service_request_id"] for r in recent}


def test_post_xml_answers_the_spec_xml(o311, cli_key):
    response = _post(o311, _bulky(cli_key), fmt="xml")
    assert response.status_code == 200, response.data
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    root = ET.fromstring(response.data)
    assert root.tag == "service_requests" and [c.tag for c in root] == ["request"]
    (item,) = xml_to_data(root)
    assert list(item) == ["service_request_id", "service_notice", "account_id"]
    assert item["service_request_id"].isdigit() and item["account_id"] is None


def test_single_value_attribute_and_informational_attribute(o311, cli_key, engine):
    fields = {"api_key": cli_key, "service_code": "graffiti", **INSIDE}
    definition = o311.get(f"{V2}/services/graffiti.json").get_json()
    for attribute in definition["attributes"]:
        if attribute["required"] and attribute["datatype"] == "singlevaluelist":
            fields[f"attribute[{attribute['code']}]"] = attribute["values"][0]["key"]
        elif attribute["required"] and attribute["datatype"] == "multivaluelist":
            fields[f"attribute[{attribute['code']}][]"] = attribute["values"][0]["key"]
        elif attribute["required"]:
            fields[f"attribute[{attribute['code']}]"] = "1"
    response = _post(o311, fields)
    assert response.status_code == 200, response.data


def test_post_by_address_id(o311, cli_key, engine):
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO address_point (source, source_id, kind, house_number, name, full_address,"
            " street_key, confidence, observations, attrs, geom) VALUES ('test', 'AID-77',"
            " 'address', 200, 'MAIN', '200 N MAIN ST', 'MAIN ST', 1, 1, '{}',"
            " ST_SetSRID(ST_MakePoint(-118.27, 34.07), 4326))"))
    fields = _bulky(cli_key, address_id="AID-77")
    del fields["lat"], fields["long"]
    (body,) = _post(o311, fields).get_json()
    (row,) = o311.get(f"{V2}/requests/{body['service_request_id']}.json").get_json()
    assert row["address_id"] == "AID-77"
    assert (row["lat"], row["long"]) == (34.07, -118.27)


# ---------------------------------------------------------------- idempotency and tokens
def test_repeated_idempotency_key_returns_the_same_request(o311, cli_key, engine):
    headers = {"Idempotency-Key": "retry-abc-123"}
    first = _post(o311, _bulky(cli_key), headers=headers).get_json()[0]
    again = _post(o311, _bulky(cli_key), headers=headers).get_json()[0]
    assert first["service_request_id"] == again["service_request_id"]
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM service_request "
                                  "WHERE idempotency_key = 'retry-abc-123'")).scalar_one()
    assert count == 1


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_token_finds_the_request_it_created(o311, cli_key, fmt):
    token = f"token-{fmt}-0001"
    (body,) = _post(o311, _bulky(cli_key, token=token)).get_json()
    response = o311.get(f"{V2}/tokens/{token}.{fmt}")
    assert response.status_code == 200
    data = response.get_json() if fmt == "json" else xml_to_data(ET.fromstring(response.data))
    assert data == [{"service_request_id": body["service_request_id"], "token": token}]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_token_is_404(o311, fmt):
    assert_open311_error(o311.get(f"{V2}/tokens/never-issued.{fmt}"), 404, "never-issued")


def test_same_key_for_another_type_is_400(o311, cli_key):
    headers = {"Idempotency-Key": "one-key-two-types"}
    assert _post(o311, _bulky(cli_key), headers=headers).status_code == 200
    other = {"api_key": cli_key, "service_code": "pothole", **INSIDE}
    assert_open311_error(_post(o311, other, headers=headers), 400, "Idempotency-Key")


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("key", [None, "", "wrong-key", "g311_revoked-or-never-made"])
def test_missing_or_wrong_api_key_is_403(o311, key, fmt, engine):
    fields = _bulky(key) if key is not None else {
        k: v for k, v in _bulky("x").items() if k != "api_key"}
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM service_request")).scalar_one()
    assert_open311_error(_post(o311, fields, fmt), 403, "api_key")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM service_request")).scalar_one() == before


def test_revoked_cli_key_is_403(o311, app):
    runner = app.test_cli_runner()
    made = runner.invoke(args=["apikeys", "create", "soon revoked"]).output
    key_id = made.split("created API key ")[1].split()[0]
    key = made.strip().splitlines()[-1]
    assert _post(o311, _bulky(key)).status_code == 200
    assert runner.invoke(args=["apikeys", "revoke", key_id]).exit_code == 0
    assert_open311_error(_post(o311, _bulky(key)), 403)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_code_is_404(o311, cli_key, fmt):
    fields = {"api_key": cli_key, "service_code": "teleporter_repair", **INSIDE}
    assert_open311_error(_post(o311, fields, fmt), 404, "teleporter_repair")


@pytest.mark.parametrize(("change", "fragment"), [
    ({"service_code": None}, "service_code"),
    ({"lat": None, "long": None}, "location"),
    ({"long": None}, "lat and long"),
    ({"lat": "north"}, "lat"),
    ({"long": "-200"}, "long"),
    ({"attribute[item_count]": None}, "item_count"),
    ({"attribute[item_count]": "a few"}, "item_count"),
    ({"attribute[item_count]": "-3"}, "at least 1"),
    ({"attribute[item_count]": "2.5"}, "whole number"),
    ({"attribute[items][]": ["spaceship"]}, "items"),
    ({"attribute[colour]": "red"}, "colour"),
    ({"description": "x" * 4001}, "4000"),
    ({"media_url": "javascript:alert(1)"}, "media_url"),
    ({"email": "not-an-email"}, "email"),
    ({"lat": "40.7", "long": "-74.0"}, "could not be located in Los Angeles"),
    ({"lat": "34.05", "long": "-118.25"}, "not in the City"),  # the county island
    ({"jurisdiction_id": "nyc.gov"}, "nyc.gov"),
])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_invalid_fields_are_rejected_with_nothing_stored(o311, cli_key, engine, change,
                                                         fragment, fmt):
    fields = _bulky(cli_key, **{k: v for k, v in change.items() if v is not None})
    for name in (k for k, v in change.items() if v is None):
        fields.pop(name)
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM service_request")).scalar_one()
    response = _post(o311, fields, fmt)
    status = 404 if "jurisdiction_id" in change else 400
    assert_open311_error(response, status, fragment)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM service_request")).scalar_one() == before


# ---------------------------------------------------------------- privacy
def test_contact_fields_are_stored_privately_and_never_shown(o311, cli_key, engine):
    (body,) = _post(o311, _bulky(cli_key, **CONTACT)).get_json()
    request_id = body["service_request_id"]
    row = _stored(engine, request_id)
    assert row.contact["email"] == CONTACT["email"]
    assert row.contact["device_id"] == CONTACT["device_id"]
    bodies = [str(body)]
    for fmt in ("json", "xml"):
        bodies.append(o311.get(f"{V2}/requests/{request_id}.{fmt}?extensions=true").get_data(
            as_text=True))
        bodies.append(o311.get(f"{V2}/requests.{fmt}?extensions=true").get_data(as_text=True))
    for text_body in bodies:
        for value in CONTACT.values():
            assert value not in text_body


def test_json_and_xml_post_answers_agree(o311, cli_key):
    (as_json,) = _post(o311, _bulky(cli_key, token="agree-1")).get_json()
    again = _post(o311, _bulky(cli_key, token="agree-1"), fmt="xml")
    assert xml_to_data(ET.fromstring(again.data)) == [as_text(as_json)]


def test_keys_from_the_environment_variable(db_url, monkeypatch):
    """Deployments inject GEO311_OPEN311_API_KEYS; an all-digit key survives JSON parsing."""
    monkeypatch.setenv("GEO311_OPEN311_API_KEYS", "first-env-key,second-env-key")
    application = create_app(app_config(db_url))
    try:
        client = application.test_client()
        assert _post(client, _bulky("second-env-key")).status_code == 200
        assert_open311_error(_post(client, _bulky(SETTING_KEY)), 403)
    finally:
        application.extensions.pop("geo311_engine").dispose()
    monkeypatch.setenv("GEO311_OPEN311_API_KEYS", "12345678901234567890")
    application = create_app(app_config(db_url))
    try:
        assert _post(application.test_client(), _bulky("12345678901234567890")).status_code == 200
    finally:
        application.extensions.pop("geo311_engine").dispose()
