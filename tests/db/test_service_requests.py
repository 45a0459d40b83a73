"""The request store: validation against the catalogue, locate, one transaction per create,
history, idempotency (including two threads racing with one key)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from geo311.boundaries import today_in_la
from geo311.catalogue import sync_catalogue
from geo311.db import make_engine
from geo311.errors import BadRequest, Conflict, NotFound
from geo311.models import RequestStatusHistory
from geo311.models import ServiceRequest as RequestRow
from geo311.schema import init_schema
from geo311.service_requests import (
    NewRequest,
    Unprocessable,
    create_request,
    get_request,
    get_request_feature,
    validate_attributes,
)

ROOT = Path(__file__).resolve().parents[2]
GRAFFITI = {"surface": "wall", "is_offensive": "no"}


def new(**fields) -> NewRequest:
    """A valid graffiti request inside the test city, with any field overridden."""
    values = {"service_code": "graffiti", "lon": -118.22, "lat": 34.02, "attributes": GRAFFITI}
    return NewRequest(**{**values, **fields})


@pytest.fixture
def store(conn):
    sync_catalogue(conn)
    return conn


def _count(conn, model=RequestRow) -> int:
    return conn.execute(select(func.count()).select_from(model)).scalar_one()


def test_create_stores_pin_locate_areas_department_and_first_history_row(store):
    request, created = create_request(store, new(accuracy_m=12.5, pin_source="gps",
                                                 contact={"email": "a@b.org"}))
    assert created and request.status == "open" and request.version == 1
    assert (request.pin_lon, request.pin_lat, request.pin_accuracy_m, request.pin_source) == (
        -118.22, 34.02, 12.5, "gps")
    assert request.department == "OCB"
    assert request.locate["jurisdiction"]["inside_city"] is True
    assert request.requested_at.tzinfo is not None
    cds = [a for a in request.areas if a["type"] == "CD"]
    assert cds and cds[0]["code"] == "1" and today_in_la().year >= 2023  # new districts today
    history = store.execute(select(RequestStatusHistory).where(
        RequestStatusHistory.request_id == request.id)).all()
    assert [(h.from_status, h.to_status, h.actor) for h in history] == [(None, "open", "api")]
    assert not hasattr(request, "contact")


def test_history_is_append_only(store):
    request, _ = create_request(store, new())
    with pytest.raises(Exception, match="append-only"):
        with store.begin_nested():
            store.execute(text("UPDATE request_status_history SET note = 'x' "
                               "WHERE request_id = :id"), {"id": request.id})


def test_typed_address_that_cannot_be_found_is_refused(store):
    with pytest.raises((Unprocessable, BadRequest)):
        create_request(store, new(lon=None, lat=None, address="1 Nowhere Street, Atlantis"))
    assert _count(store) == 0


def test_outside_the_city_names_the_responsible_jurisdiction_and_writes_nothing(store):
    with pytest.raises(Unprocessable, match="Test Island"):
        create_request(store, new(lon=-118.25, lat=34.05))
    assert _count(store) == 0 and _count(store, RequestStatusHistory) == 0


@pytest.mark.parametrize("fields, word", [
    ({"service_code": ""}, "service_code"),
    ({"service_code": "nope"}, "nope"),
    ({"lon": None, "lat": None}, "location"),
    ({"lat": 95}, "lat"),
    ({"accuracy_m": -1}, "accuracy_m"),
    ({"attributes": {"surface": "wall"}}, "is_offensive"),
    ({"attributes": "wall"}, "attributes"),
    ({"description": "d" * 4001}, "description"),
    ({"contact": {"ssn": "123"}}, "contact.ssn"),
    ({"anonymous": "yes"}, "anonymous"),
])
def test_validation_names_the_field(store, fields, word):
    with pytest.raises(BadRequest, match=word):
        create_request(store, new(**fields))
    assert _count(store) == 0


def test_attribute_datatypes():
    defs = [
        {"code": "n", "datatype": "number", "required": True, "variable": True},
        {"code": "one", "datatype": "singlevaluelist", "required": False, "variable": True,
         "values": [{"key": "a"}, {"key": "b"}]},
        {"code": "many", "datatype": "multivaluelist", "required": False, "variable": True,
         "values": [{"key": "a"}, {"key": "b"}]},
        {"code": "when", "datatype": "datetime", "required": False, "variable": True},
        {"code": "note", "datatype": "string", "required": False, "variable": True},
        {"code": "info", "datatype": "text", "required": False, "variable": False},
    ]
    clean = validate_attributes(defs, {"n": "2.5", "one": "a", "many": "b,a,b",
                                       "when": "2024-05-01T10:00:00Z", "note": " hi "}, "x")
    assert clean == {"n": 2.5, "one": "a", "many": ["b", "a"],
                     "when": "2024-05-01T10:00:00+00:00", "note": "hi"}
    for given, word in [({"n": True}, "'n'"), ({"n": "nan"}, "'n'"), ({"n": 1, "one": "c"}, "one"),
                        ({"n": 1, "many": []}, None), ({"n": 1, "many": ["z"]}, "many"),
                        ({"n": 1, "when": "soon"}, "when"), ({"n": 1, "info": "x"}, "info"),
                        ({"n": 1, "note": "x" * 501}, "note"), ({}, "'n' is required")]:
        if word is None:
            assert "many" not in validate_attributes(defs, given, "x")
            continue
        with pytest.raises(BadRequest, match=word):
            validate_attributes(defs, given, "x")


def test_idempotency_key_returns_the_first_request(store):
    first, created = create_request(store, new(), idempotency_key="k-1")
    again, created_again = create_request(store, new(), idempotency_key="k-1")
    assert created and not created_again and again.id == first.id
    assert _count(store) == 1
    with pytest.raises(Conflict):
        create_request(store, new(service_code="bulky_items"), idempotency_key="k-1")
    with pytest.raises(BadRequest, match="Idempotency-Key"):
        create_request(store, new(), idempotency_key="x" * 300)


def test_get_request_and_feature(store):
    request, _ = create_request(store, new())
    assert get_request(store, request.id).etag == '"1"'
    feature, version = get_request_feature(store, request.id)
    assert version == 1 and json.loads(feature)["properties"]["service_code"] == "graffiti"
    with pytest.raises(NotFound):
        get_request(store, 10**12)


# ---------------------------------------------------------------- concurrency (real commits)
@pytest.fixture(scope="module")
def race_engine(postgis_server) -> Iterator:
    name = "geo311_request_race"
    postgis_server.drop(name)
    postgis_server.create(name)
    engine = make_engine(postgis_server.url_for(name))
    init_schema(engine)
    from geo311 import create_app

    fixtures = ROOT / "tests" / "fixtures"
    app = create_app({"TESTING": True, "DATABASE_URL": postgis_server.url_for(name),
                      "DATA_DIR": str(fixtures), "BOUNDARIES_DIR": str(fixtures / "boundaries")})
    assert app.test_cli_runner().invoke(args=["load", "boundaries", "--commit"]).exit_code == 0
    app.extensions.pop("geo311_engine").dispose()
    with engine.begin() as conn:
        sync_catalogue(conn)
    yield engine
    engine.dispose()
    postgis_server.drop(name)


def test_concurrent_creates_with_one_key_make_exactly_one_request(race_engine):
    barrier = threading.Barrier(4)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with race_engine.connect() as conn:
                barrier.wait()
                with conn.begin():
                    request, created = create_request(conn, new(), idempotency_key="race-1")
                results.append((request.id, created))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len({request_id for request_id, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, False, False, True]
    with race_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM service_request "
                                 "WHERE idempotency_key = 'race-1'")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM request_status_history h JOIN "
                                 "service_request r ON r.id = h.request_id "
                                 "WHERE r.idempotency_key = 'race-1'")).scalar_one() == 1


def test_deleting_a_request_checks_its_duplicates_through_an_index(conn):
    """The self-referencing duplicate_of key is indexed, so a delete does not scan the table."""
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(row[0] for row in conn.execute(text(
        "EXPLAIN SELECT 1 FROM service_request WHERE duplicate_of = 42 FOR KEY SHARE")))
    assert "ix_service_request_duplicate_of" in plan
