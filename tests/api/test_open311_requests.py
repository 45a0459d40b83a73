"""Open311 GET requests and requests/{id}: every spec filter, the extensions, dates, privacy.

Known rows are written straight into this module's own database (the store's create path is
tested with POST in test_open311_post.py), so each answer is known in advance.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert
from test_open311 import (
    W3_WITH_OFFSET,
    app_config,
    as_text,
    assert_open311_error,
    fetch_both,
    make_open311_database,
    xml_to_data,
)

from geo311 import create_app
from geo311.db import make_engine
from geo311.models import RequestStatusHistory, ServiceRequest

V2 = "/open311/v2"
SPEC_FIELDS = [
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
    "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url",
]
SECRETS = ("secret.reporter@example.com", "555-0100", "Reporter Secretname", "device-xyz-123")
OLD = "start_date=2018-01-01T00:00:00-08:00&end_date=2018-03-01T00:00:00Z"


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text)


NOW = datetime.now(UTC).replace(microsecond=0)
LOCATE = {
    "precision": "address_point", "score": 97,
    "address": {"text": "123 N MAIN ST, 90012", "zip": "90012"},
    "segment": {"id": 77, "street": "N MAIN ST", "from_street": "1ST ST", "to_street": "2ND ST",
                "side": "left", "side_compass": "west", "distance_m": 6.2, "source": "test"},
}
AREAS = [{"type": "CD", "code": "2", "name": "Council District 2", "vintage": "new"},
         {"type": "NC", "code": "55", "name": "North NC", "vintage": "2018"}]
ROWS: dict[str, dict[str, Any]] = {
    "bulky": dict(service_code="bulky_items", status="open", lon=-118.28, lat=34.08,
                  requested_at=_t("2018-01-02T10:00:00-08:00"), address="123 N MAIN ST",
                  address_id="A-1", zip="90012", department="LASAN", external_id="1-1000000001",
                  description="Sofa on the curb", channel="myla311", locate=LOCATE, areas=AREAS,
                  contact={"email": SECRETS[0], "phone": SECRETS[1], "first_name": SECRETS[2],
                           "device_id": SECRETS[3]}),
    "graffiti_done": dict(service_code="graffiti", status="closed", close_reason="resolved",
                          lon=-118.21, lat=34.01, requested_at=_t("2018-01-03T09:30:00-08:00"),
                          department="OCB", media_url="https://example.org/g.jpg"),
    "graffiti_dup": dict(service_code="graffiti", status="closed", close_reason="duplicate",
                         lon=-118.21, lat=34.0101, requested_at=_t("2018-01-04T08:00:00-08:00"),
                         department="OCB"),
    "pothole": dict(service_code="pothole", status="in_progress", lon=-118.22, lat=34.02,
                    requested_at=_t("2018-02-15T12:00:00-08:00"), department="BSS",
                    description="Deep hole \x07 at Calle Ñandú & 3rd"),
    "recent": dict(service_code="streetlight_single", status="open", lon=-118.25, lat=34.09,
                   requested_at=NOW - timedelta(days=5), department="BSL"),
    "older": dict(service_code="bulky_items", status="open", lon=-118.25, lat=34.09,
                  requested_at=NOW - timedelta(days=120), department="LASAN"),
    "summer": dict(service_code="water_waste", status="open", lon=-118.26, lat=34.03,
                   requested_at=_t("2018-07-04T12:00:00-07:00"), department="LADWP"),
}


def _insert_rows(url: str) -> dict[str, int]:
    engine = make_engine(url)
    ids: dict[str, int] = {}
    try:
        with engine.begin() as conn:
            for name, row in ROWS.items():
                values = {k: v for k, v in row.items() if k not in ("lon", "lat")}
                values.setdefault("updated_at", values["requested_at"])
                values.setdefault("channel", "open311")
                values["pin_lon"], values["pin_lat"] = row["lon"], row["lat"]
                values["location"] = func.ST_SetSRID(func.ST_MakePoint(row["lon"], row["lat"]),
                                                     4326)
                if row["status"] == "closed":
                    values["closed_at"] = values["requested_at"] + timedelta(days=1)
                    values["updated_at"] = values["closed_at"]
                ids[name] = conn.execute(
                    insert(ServiceRequest).values(**values).returning(ServiceRequest.id)
                ).scalar_one()
            conn.execute(ServiceRequest.__table__.update()
                         .where(ServiceRequest.id == ids["graffiti_dup"])
                         .values(duplicate_of=ids["graffiti_done"]))
            done = ids["graffiti_done"]
            history = [
                dict(request_id=done, at=_t("2018-01-03T09:30:00-08:00"), actor="resident",
                     from_status=None, to_status="open", note=None, public=True),
                dict(request_id=done, at=_t("2018-01-04T09:30:00-08:00"), actor="crew:7",
                     from_status="open", to_status="closed", reason="resolved",
                     note="Graffiti painted over.", public=True),
                dict(request_id=done, at=_t("2018-01-05T09:30:00-08:00"), actor="crew:7",
                     from_status="closed", to_status="closed", note="internal: crew 7 paint",
                     public=False),
                dict(request_id=ids["pothole"], at=_t("2018-02-16T08:00:00-08:00"),
                     actor="dispatcher", from_status="open", to_status="in_progress",
                     note="Crew scheduled.", public=True),
            ]
            conn.execute(insert(RequestStatusHistory), history)
    finally:
        engine.dispose()
    return ids


@pytest.fixture(scope="module")
def db(postgis_server) -> Iterator[tuple[str, dict[str, int]]]:
    name = "geo311_open311_requests"
    url = make_open311_database(postgis_server, name)
    yield url, _insert_rows(url)
    postgis_server.drop(name)


@pytest.fixture(scope="module")
def ids(db) -> dict[str, int]:
    return db[1]


@pytest.fixture(scope="module")
def o311(db):
    application = create_app(app_config(db[0]))
    yield application.test_client()
    engine = application.extensions.pop("geo311_engine", None)
    if engine is not None:
        engine.dispose()


def _ids(data: list[dict[str, Any]]) -> list[str]:
    return [r["service_request_id"] for r in data]


def _want(ids: dict[str, int], *names: str) -> list[str]:
    return [str(ids[n]) for n in names]


# ---------------------------------------------------------------- shape and formats
def test_requests_have_exactly_the_spec_fields_in_both_formats(o311, ids):
    data, root, from_xml = fetch_both(o311, f"{V2}/requests", query_string=OLD)
    assert root.tag == "service_requests" and all(child.tag == "request" for child in root)
    assert as_text(data) == from_xml
    assert all(list(r) == SPEC_FIELDS for r in data)


def test_newest_first_within_the_dates(o311, ids):
    data = o311.get(f"{V2}/requests.json?{OLD}").get_json()
    assert _ids(data) == _want(ids, "pothole", "graffiti_dup", "graffiti_done", "bulky")


def test_one_request_field_by_field(o311, ids):
    (bulky,) = o311.get(f"{V2}/requests/{ids['bulky']}.json").get_json()
    assert bulky == {
        "service_request_id": str(ids["bulky"]), "status": "open", "status_notes": None,
        "service_name": "Bulky Item Pickup", "service_code": "bulky_items",
        "description": "Sofa on the curb", "agency_responsible": "LA Sanitation and Environment",
        "service_notice": None, "requested_datetime": "2018-01-02T10:00:00-08:00",
        "updated_datetime": "2018-01-02T10:00:00-08:00", "expected_datetime": None,
        "address": "123 N MAIN ST", "address_id": "A-1", "zipcode": "90012",
        "lat": 34.08, "long": -118.28, "media_url": None,
    }


def test_dates_are_w3c_with_the_los_angeles_offset(o311, ids):
    (summer,) = o311.get(f"{V2}/requests/{ids['summer']}.json").get_json()
    assert summer["requested_datetime"] == "2018-07-04T12:00:00-07:00"  # daylight time
    for row in o311.get(f"{V2}/requests.json?{OLD}").get_json():
        assert W3_WITH_OFFSET.match(row["requested_datetime"])
        assert W3_WITH_OFFSET.match(row["updated_datetime"])


def test_single_request_is_a_list_of_one_in_both_formats(o311, ids):
    data, root, from_xml = fetch_both(o311, f"{V2}/requests/{ids['graffiti_done']}")
    assert len(data) == 1 and len(root) == 1
    assert as_text(data) == from_xml


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_request_is_404(o311, fmt):
    assert_open311_error(o311.get(f"{V2}/requests/999999999.{fmt}"), 404, "999999999")


def test_myla311_sr_number_finds_the_request(o311, ids):
    (row,) = o311.get(f"{V2}/requests/1-1000000001.json").get_json()
    assert row["service_request_id"] == str(ids["bulky"])


def test_xml_survives_control_characters_and_accents(o311, ids):
    response = o311.get(f"{V2}/requests/{ids['pothole']}.xml")
    (row,) = xml_to_data(ET.fromstring(response.data))
    assert row["description"] == "Deep hole  at Calle Ñandú & 3rd"


# ---------------------------------------------------------------- public status and notes
def test_store_statuses_map_to_open_or_closed(o311, ids):
    rows = {r["service_request_id"]: r for r in o311.get(f"{V2}/requests.json?{OLD}").get_json()}
    assert rows[str(ids["pothole"])]["status"] == "open"  # in_progress
    assert rows[str(ids["graffiti_done"])]["status"] == "closed"


def test_status_notes_come_from_the_latest_public_history_note(o311, ids):
    rows = {r["service_request_id"]: r for r in o311.get(f"{V2}/requests.json?{OLD}").get_json()}
    assert rows[str(ids["graffiti_done"])]["status_notes"] == "Graffiti painted over."
    assert rows[str(ids["pothole"])]["status_notes"] == "Crew scheduled."
    assert rows[str(ids["graffiti_dup"])]["status_notes"] == (
        f"Closed as a duplicate of request {ids['graffiti_done']}.")
    assert "internal" not in str(rows)


def test_closed_request_updated_datetime_is_the_closing_time(o311, ids):
    (row,) = o311.get(f"{V2}/requests/{ids['graffiti_done']}.json").get_json()
    assert row["updated_datetime"] == "2018-01-04T09:30:00-08:00"


# ---------------------------------------------------------------- filters
def test_default_window_is_the_last_90_days(o311, ids):
    got = _ids(o311.get(f"{V2}/requests.json").get_json())
    assert str(ids["recent"]) in got
    assert str(ids["older"]) not in got and str(ids["bulky"]) not in got


def test_only_end_date_means_the_90_days_before_it(o311, ids):
    got = _ids(o311.get(f"{V2}/requests.json?end_date=2018-01-03T23:00:00-08:00").get_json())
    assert got == _want(ids, "graffiti_done", "bulky")


def test_end_date_is_inclusive(o311, ids):
    query = "start_date=2018-01-02T10:00:00-08:00&end_date=2018-01-02T18:00:00Z"
    assert _ids(o311.get(f"{V2}/requests.json?{query}").get_json()) == _want(ids, "bulky")


def test_start_date_alone_runs_to_now(o311, ids):
    got = _ids(o311.get(f"{V2}/requests.json?start_date=2018-07-01T00:00:00Z").get_json())
    assert got[-1] == str(ids["summer"]) and str(ids["recent"]) in got


def test_service_code_takes_comma_lists_and_repeats(o311, ids):
    comma = _ids(o311.get(f"{V2}/requests.json?{OLD}&service_code=graffiti,pothole").get_json())
    repeat = _ids(o311.get(
        f"{V2}/requests.json?{OLD}&service_code=graffiti&service_code=pothole").get_json())
    assert comma == repeat == _want(ids, "pothole", "graffiti_dup", "graffiti_done")


@pytest.mark.parametrize(("status", "names"), [
    ("open", ("pothole", "bulky")),
    ("closed", ("graffiti_dup", "graffiti_done")),
    ("open,closed", ("pothole", "graffiti_dup", "graffiti_done", "bulky")),
])
def test_status_filter(o311, ids, status, names):
    got = _ids(o311.get(f"{V2}/requests.json?{OLD}&status={status}").get_json())
    assert got == _want(ids, *names)


def test_service_request_id_overrides_every_other_filter(o311, ids):
    query = (f"service_request_id={ids['bulky']},{ids['recent']}"
             "&start_date=2030-01-01T00:00:00Z&status=closed&service_code=pothole")
    got = _ids(o311.get(f"{V2}/requests.json?{query}").get_json())
    assert got == _want(ids, "recent", "bulky")


def test_page_and_page_size(o311, ids):
    first = _ids(o311.get(f"{V2}/requests.json?{OLD}&page_size=3").get_json())
    second = _ids(o311.get(f"{V2}/requests.json?{OLD}&page_size=3&page=2").get_json())
    assert first == _want(ids, "pothole", "graffiti_dup", "graffiti_done")
    assert second == _want(ids, "bulky")
    assert o311.get(f"{V2}/requests.json?{OLD}&page=9").get_json() == []


def test_bbox_filter(o311, ids):
    got = _ids(o311.get(f"{V2}/requests.json?{OLD}&bbox=-118.23,34.0,-118.2,34.03").get_json())
    assert got == _want(ids, "pothole", "graffiti_dup", "graffiti_done")


def test_lat_long_radius_filter_in_metres(o311, ids):
    near = f"{V2}/requests.json?{OLD}&lat=34.01&long=-118.21&radius="
    assert _ids(o311.get(near + "5").get_json()) == _want(ids, "graffiti_done")
    assert _ids(o311.get(near + "20").get_json()) == _want(ids, "graffiti_dup", "graffiti_done")


def test_updated_after_filter(o311, ids):
    got = _ids(o311.get(
        f"{V2}/requests.json?{OLD}&updated_after=2018-01-04T12:00:00-08:00").get_json())
    assert got == _want(ids, "pothole", "graffiti_dup")


def test_agency_responsible_filter(o311, ids):
    got = _ids(o311.get(f"{V2}/requests.json?{OLD}&agency_responsible=ocb").get_json())
    assert got == _want(ids, "graffiti_dup", "graffiti_done")


def test_extensions_add_the_locate_answer_in_both_formats(o311, ids):
    data, _root, from_xml = fetch_both(o311, f"{V2}/requests/{ids['bulky']}",
                                       query_string="extensions=true")
    assert as_text(data) == from_xml
    extra = data[0]["extended_attributes"]
    assert extra["snapped_address"] == "123 N MAIN ST, 90012"
    assert extra["segment"]["id"] == 77 and extra["side"] == "west"
    assert extra["score"] == 97 and extra["department"] == "LASAN"
    assert extra["areas"][0] == {"type": "CD", "code": "2", "name": "Council District 2",
                                 "vintage": "new"}
    plain = o311.get(f"{V2}/requests/{ids['bulky']}.json").get_json()[0]
    assert "extended_attributes" not in plain


def test_our_jurisdiction_passes_and_another_is_404(o311, ids):
    assert o311.get(f"{V2}/requests.json?{OLD}&jurisdiction_id=lacity.org").status_code == 200
    assert_open311_error(o311.get(f"{V2}/requests.xml?jurisdiction_id=nyc.gov"), 404)
    assert_open311_error(o311.get(f"{V2}/requests/{ids['bulky']}.json?jurisdiction_id=x.org"),
                         404)


@pytest.mark.parametrize(("query", "parameter"), [
    ("start_date=yesterday", "start_date"),
    ("end_date=2018-02-30T00:00:00Z", "end_date"),
    ("start_date=2018-03-01T00:00:00Z&end_date=2018-01-01T00:00:00Z", "start_date"),
    ("status=pending", "status"),
    ("page=0", "page"),
    ("page=99999999999999999999", "page"),  # its offset overflowed bigint: was a 500
    ("page_size=abc", "page_size"),
    ("bbox=1,2,3", "bbox"),
    ("lat=34.05", "long"),
    ("radius=10", "radius"),
    ("lat=34&long=-118&radius=-1", "radius"),
    ("updated_after=soon", "updated_after"),
    ("extensions=maybe", "extensions"),
])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_filters_are_400_naming_the_parameter(o311, query, parameter, fmt):
    assert_open311_error(o311.get(f"{V2}/requests.{fmt}?{query}"), 400, parameter)


# ---------------------------------------------------------------- privacy
def test_contact_fields_never_appear(o311, ids):
    paths = [f"{V2}/requests.{f}?{OLD}{x}" for f in ("json", "xml")
             for x in ("", "&extensions=true")]
    paths += [f"{V2}/requests/{ids['bulky']}.{f}?extensions=true" for f in ("json", "xml")]
    for path in paths:
        body = o311.get(path).get_data(as_text=True)
        assert str(ids["bulky"]) in body
        for secret in SECRETS:
            assert secret not in body, (path, secret)
