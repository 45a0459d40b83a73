"""Open311 GeoReport v2 conformance, written from the spec text (wiki.open311.org/GeoReport_v2).

Every endpoint is fetched in both formats; the XML is parsed with xml.etree and compared with
the JSON field by field (the spec's JSON is a mapping of its XML). The module has its own
database (schema, hand-made boundaries, the shipped catalogue) so that its POSTs never change
what other test modules see.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from geo311 import create_app
from geo311.catalogue import sync_catalogue
from geo311.catalogue_data import load_catalogue
from geo311.db import make_engine
from geo311.schema import init_schema

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
V2 = "/open311/v2"
W3_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")
LIST_WRAPPERS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
    "areas": "area",
}


# ---------------------------------------------------------------- database and app
def make_open311_database(server: Any, name: str) -> str:
    """A fresh database with the schema, the hand-made boundaries and the shipped catalogue."""
    server.create(name)
    url = server.url_for(name)
    engine = make_engine(url)
    try:
        init_schema(engine)
        with engine.begin() as conn:
            sync_catalogue(conn, load_catalogue())
    finally:
        engine.dispose()
    app = create_app(app_config(url))
    result = app.test_cli_runner().invoke(args=["load", "boundaries", "--commit"])
    app.extensions.pop("geo311_engine").dispose()
    assert result.exit_code == 0, result.output
    return url


def app_config(url: str, **extra: Any) -> dict[str, Any]:
    """Test settings for an app on ``url``."""
    return {
        "TESTING": True,
        "DATABASE_URL": url,
        "DATA_DIR": str(FIXTURES),
        "BOUNDARIES_DIR": str(FIXTURES / "boundaries"),
        **extra,
    }


@pytest.fixture(scope="module")
def open311_db_url(postgis_server) -> Iterator[str]:
    name = "geo311_open311"
    yield make_open311_database(postgis_server, name)
    postgis_server.drop(name)


@pytest.fixture
def o311_app(open311_db_url):
    application = create_app(app_config(open311_db_url))
    yield application
    engine = application.extensions.pop("geo311_engine", None)
    if engine is not None:
        engine.dispose()


@pytest.fixture
def o311(o311_app):
    return o311_app.test_client()


# ---------------------------------------------------------------- XML <-> JSON
def xml_to_data(element: ET.Element) -> Any:
    """Invert the spec's XML mapping: wrappers -> lists, parents -> dicts, leaves -> text."""
    if element.tag in LIST_WRAPPERS:
        item = LIST_WRAPPERS[element.tag]
        assert all(child.tag == item for child in element), (element.tag, [c.tag for c in element])
        return [xml_to_data(child) for child in element]
    if len(element):
        tags = [child.tag for child in element]
        assert len(tags) == len(set(tags)), f"repeated child in <{element.tag}>: {tags}"
        return {child.tag: xml_to_data(child) for child in element}
    return element.text if element.text not in (None, "") else None


def as_text(value: Any) -> Any:
    """JSON values as the XML shows them."""
    if isinstance(value, dict):
        return {k: as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_text(v) for v in value]
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def fetch_both(client, path: str, **kwargs: Any) -> tuple[Any, ET.Element, Any]:
    """GET ``path.json`` and ``path.xml``, check content types; (json, xml root, xml as data)."""
    query = kwargs.pop("query_string", None)
    as_json = client.get(f"{path}.json", query_string=query, **kwargs)
    as_xml = client.get(f"{path}.xml", query_string=query, **kwargs)
    assert as_json.status_code == as_xml.status_code, (as_json.data, as_xml.data)
    assert as_json.headers["Content-Type"] == "application/json; charset=utf-8"
    assert as_xml.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert as_xml.data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(as_xml.data)
    return as_json.get_json(), root, xml_to_data(root)


def assert_open311_error(response, status: int, fragment: str = "") -> None:
    """The spec's error shape, JSON or XML, with the HTTP status as the code."""
    assert response.status_code == status, response.data
    if response.headers["Content-Type"].startswith("text/xml"):
        root = ET.fromstring(response.data)
        assert root.tag == "errors"
        errors = xml_to_data(root)
        assert errors[0]["code"] == str(status)
    else:
        errors = response.get_json()
        assert isinstance(errors, list) and set(errors[0]) == {"code", "description"}
        assert errors[0]["code"] == status
    assert fragment in errors[0]["description"]


# ---------------------------------------------------------------- discovery
def test_discovery_lists_the_v2_endpoint_in_both_formats(o311):
    data, root, from_xml = fetch_both(o311, f"{V2}/discovery")
    assert root.tag == "discovery"
    assert as_text(data) == from_xml
    assert set(data) == {"changeset", "contact", "key_service", "endpoints"}
    assert W3_WITH_OFFSET.match(data["changeset"])
    (endpoint,) = data["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://localhost/open311/v2"
    assert endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert W3_WITH_OFFSET.match(endpoint["changeset"])


# ---------------------------------------------------------------- services
def test_services_list_has_every_catalogue_type_with_spec_fields(o311):
    data, root, from_xml = fetch_both(o311, f"{V2}/services")
    assert root.tag == "services"
    assert as_text(data) == from_xml
    catalogue = load_catalogue()
    assert {s["service_code"] for s in data} == {s.code for s in catalogue.service_types}
    for service in data:
        assert list(service) == ["service_code", "service_name", "description", "metadata",
                                 "type", "keywords", "group"]
        assert service["type"] == "realtime"
        assert isinstance(service["metadata"], bool)
    bulky = next(s for s in data if s["service_code"] == "bulky_items")
    expected = catalogue.find_service_type("bulky_items")
    assert bulky["service_name"] == expected.name_en
    assert bulky["metadata"] is True
    assert bulky["group"] == "Sanitation"
    assert bulky["keywords"].split(", ")[:2] == ["bulky items", "bulky item pickup"]
    no_attributes = [s.code for s in catalogue.service_types if not s.attributes]
    for service in data:
        assert service["metadata"] is (service["service_code"] not in no_attributes)


def test_service_definition_matches_the_catalogue(o311):
    data, root, from_xml = fetch_both(o311, f"{V2}/services/bulky_items")
    assert root.tag == "service_definition"
    assert as_text(data) == from_xml
    assert data["service_code"] == "bulky_items"
    items, count = data["attributes"]
    assert items == {
        "variable": True, "code": "items", "datatype": "multivaluelist", "required": True,
        "datatype_description": "Choose one or more", "order": 1,
        "description": "Which kinds of items will be out for pickup?",
        "values": items["values"],
    }
    assert {"key": "mattress", "name": "Mattress"} in items["values"]
    assert count["datatype"] == "number" and count["order"] == 2 and "values" not in count


def test_every_service_definition_is_well_formed(o311):
    allowed = {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
    for service in o311.get(f"{V2}/services.json").get_json():
        data, _root, from_xml = fetch_both(o311, f"{V2}/services/{service['service_code']}")
        assert as_text(data) == from_xml
        orders = [a["order"] for a in data["attributes"]]
        assert orders == sorted(orders) and len(set(orders)) == len(orders)
        for attribute in data["attributes"]:
            assert attribute["datatype"] in allowed
            assert isinstance(attribute["variable"], bool)
            assert isinstance(attribute["required"], bool)
            assert ("values" in attribute) == attribute["datatype"].endswith("valuelist")


def test_informational_attribute_is_not_variable(o311):
    data = o311.get(f"{V2}/services/fallen_tree.json").get_json()
    notice = next(a for a in data["attributes"] if a["code"] == "safety_notice")
    assert notice["variable"] is False and notice["required"] is False


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_code_is_404_in_the_spec_error_shape(o311, fmt):
    assert_open311_error(o311.get(f"{V2}/services/no_such_type.{fmt}"), 404, "no_such_type")


# ---------------------------------------------------------------- jurisdiction and formats
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_our_jurisdiction_is_accepted_and_another_is_404(o311, fmt):
    ours = o311.get(f"{V2}/services.{fmt}?jurisdiction_id=lacity.org")
    assert ours.status_code == 200
    assert_open311_error(o311.get(f"{V2}/services.{fmt}?jurisdiction_id=sfgov.org"), 404,
                         "sfgov.org")


def test_empty_jurisdiction_is_the_same_as_none(o311):
    # Spec, "Optional Arguments": an empty parameter is treated as a missing one.
    assert o311.get(f"{V2}/services.json?jurisdiction_id=").status_code == 200


def test_unsupported_format_is_404(o311):
    assert_open311_error(o311.get(f"{V2}/services.csv"), 404, "csv")


def test_unknown_path_under_open311_uses_the_spec_error_shape(o311):
    assert_open311_error(o311.get(f"{V2}/nothing.xml"), 404)
