"""An off-the-shelf Open311 client, unchanged, against our server over real HTTP on 127.0.0.1.

The client is the PyPI package ``georeport`` (a GeoReport v2 wrapper; it reads JSON, or XML with
xmltodict). It has no POST, so creating a request goes through ``requests`` with the spec's form
fields, then the client reads it back. Skipped when the package is not installed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from test_open311 import app_config, make_open311_database
from test_open311_requests import _insert_rows
from werkzeug.serving import make_server

from geo311 import create_app

georeport = pytest.importorskip("georeport")
requests = pytest.importorskip("requests")

API_KEY = "client-test-key-0123456789"
OLD = {"start_date": "2018-01-01T00:00:00-08:00", "end_date": "2018-03-01T00:00:00Z"}


@pytest.fixture(scope="module")
def server(postgis_server) -> Iterator[tuple[str, dict[str, int]]]:
    name = "geo311_open311_client"
    url = make_open311_database(postgis_server, name)
    ids = _insert_rows(url)
    app = create_app(app_config(url, OPEN311_API_KEYS=API_KEY))
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}/open311/v2", ids
    finally:
        httpd.shutdown()
        thread.join(timeout=5)
        app.extensions.pop("geo311_engine").dispose()
        postgis_server.drop(name)


@pytest.fixture(params=["json", "xml"])
def client(server, request):
    root, _ids = server
    return georeport.GeoReport(root, jurisdiction="lacity.org", output_format=request.param)


def test_client_lists_services(client):
    services = client.get_service_list()
    codes = {s["service_code"] for s in services}
    assert {"bulky_items", "graffiti", "pothole"} <= codes
    bulky = next(s for s in services if s["service_code"] == "bulky_items")
    assert bulky["service_name"] == "Bulky Item Pickup"
    assert str(bulky["metadata"]).lower() == "true"


def test_client_reads_a_service_definition(client):
    definition = client.get_service_definition("bulky_items")
    assert definition["service_code"] == "bulky_items"
    attributes = definition["attributes"]
    # xmltodict keeps the wrapper: {"attribute": [...]}
    attributes = attributes["attribute"] if isinstance(attributes, dict) else attributes
    assert [a["code"] for a in attributes] == ["items", "item_count"]


def test_client_queries_requests_with_spec_filters(client, server):
    _root, ids = server
    rows = client.get_service_requests(service_code="graffiti", status="closed", **OLD)
    assert [r["service_request_id"] for r in rows] == [str(ids["graffiti_dup"]),
                                                       str(ids["graffiti_done"])]
    assert all(r["status"] == "closed" for r in rows)


def test_client_reads_one_request(client, server):
    _root, ids = server
    row = client.get_service_request(str(ids["bulky"]))
    assert row["service_request_id"] == str(ids["bulky"])
    assert row["requested_datetime"] == "2018-01-02T10:00:00-08:00"
    assert float(row["lat"]) == 34.08 and float(row["long"]) == -118.28


def test_client_sees_unknown_service_as_http_error(client):
    with pytest.raises(requests.HTTPError) as caught:
        client.get_service_definition("no_such_type")
    assert caught.value.response.status_code == 404


def test_form_post_over_http_then_the_client_reads_it_back(client, server):
    root, _ids = server
    form = {"api_key": API_KEY, "jurisdiction_id": "lacity.org", "service_code": "bulky_items",
            "lat": "34.08", "long": "-118.28", "attribute[items][]": ["sofa", "chair"],
            "attribute[item_count]": "2", "description": "Posted over HTTP",
            "email": "http.reporter@example.com"}
    suffix = client.output_format
    response = requests.post(f"{root}/requests.{suffix}", data=form, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == (
        "application/json; charset=utf-8" if suffix == "json" else "text/xml; charset=utf-8")
    if suffix == "json":
        request_id = response.json()[0]["service_request_id"]
    else:
        request_id = response.text.split("<service_request_id>")[1].split("<")[0]
    row = client.get_service_request(request_id)
    assert row["description"] == "Posted over HTTP" and row["status"] == "open"
    assert "http.reporter@example.com" not in str(row)
