"""The OpenAPI document: complete for /api/v1 and /open311/v2, valid, and shown on /api/v1/docs."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from geo311 import create_app
from geo311.openapi import (
    PREFIXES,
    build_openapi,
    expand_formats,
    formats_of,
    undocumented_routes,
)


@pytest.fixture(scope="module")
def bare_app():
    """The app with no database: building the document reads only the route map."""
    return create_app({"TESTING": True, "DATABASE_URL": "postgresql://nowhere/none"})


def _route_paths(app) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every registered route under the prefixes."""
    wanted = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIXES):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            formats = formats_of(rule.rule, method)
            assert formats, rule.rule
            wanted.update((path, method.lower()) for path, _fmt in
                          expand_formats(rule.rule, formats))
    return wanted


def test_every_route_under_the_prefixes_is_in_the_document(bare_app):
    doc = build_openapi(bare_app)
    described = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert _route_paths(bare_app) <= described
    assert ("/open311/v2/services.xml", "get") in described
    assert ("/open311/v2/services/{code}.json", "get") in described
    if ("/api/v1/requests.csv", "get") in _route_paths(bare_app):
        assert ("/api/v1/requests.parquet", "get") in described
        assert ("/api/v1/requests.xml", "get") not in described


def test_every_route_has_a_written_operation(bare_app):
    missing = undocumented_routes(bare_app)
    assert not missing, (
        "routes without an operation in geo311/openapi.py OPERATIONS (add one keyed by the "
        f"rule with variables as {{}}): {missing}"
    )


def test_document_validates_as_openapi_3_1(bare_app):
    validator = pytest.importorskip("openapi_spec_validator")
    doc = build_openapi(bare_app, server_url="http://localhost")
    validator.validate(doc)
    assert doc["openapi"] == "3.1.0"


def test_open311_paths_document_format_content_types_and_error_shape(bare_app):
    paths = build_openapi(bare_app)["paths"]
    xml_list = paths["/open311/v2/services.xml"]["get"]["responses"]
    assert set(xml_list["200"]["content"]) == {"text/xml"}
    assert set(xml_list["404"]["content"]) == {"text/xml"}
    json_list = paths["/open311/v2/services.json"]["get"]["responses"]
    assert json_list["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Open311Errors"}


def test_path_parameters_come_from_the_routes(bare_app):
    op = build_openapi(bare_app)["paths"]["/open311/v2/services/{code}.json"]["get"]
    path_params = [p for p in op["parameters"] if p["in"] == "path"]
    assert [p["name"] for p in path_params] == ["code"]
    assert path_params[0]["required"] is True


def test_operation_ids_are_unique(bare_app):
    ids = [op["operationId"] for item in build_openapi(bare_app)["paths"].values()
           for op in item.values()]
    assert len(ids) == len(set(ids))


def test_openapi_json_is_served_with_this_server_url(bare_app):
    response = bare_app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["servers"] == [{"url": "http://localhost"}]
    assert "/api/v1/openapi.json" in doc["paths"]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value and "//" in value:
                raise AssertionError(f"external reference {value}")

    def handle_data(self, data):
        self.text.append(data)


def test_docs_page_lists_every_operation_without_external_assets(bare_app):
    response = bare_app.test_client().get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = _Collector()
    page.feed(response.get_data(as_text=True))
    text = " ".join(page.text)
    for path, item in build_openapi(bare_app)["paths"].items():
        assert path in text
        for op in item.values():
            for parameter in op.get("parameters", []):
                assert parameter["name"] in text
    assert "script" not in page.tags
