"""The live change feed: outbox events with each change, SSE in order, resume with
Last-Event-ID (no gaps, no repeats, also under concurrent writers), filters, keepalive,
privacy, and parity with updated_after polling."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from geo311 import events
from geo311.auth import create_user, issue_token
from geo311.db import get_engine
from geo311.events import read_events
from geo311.service_requests import NewRequest, create_request

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
_DB = "geo311_events"
INSIDE = {"lon": -118.22, "lat": 34.02}  # test city: new CD 1, no NC
NORTH = {"lon": -118.28, "lat": 34.08}  # test city: new CD 2, NC 55
GRAFFITI = {"service_code": "graffiti", "attributes": {"surface": "wall", "is_offensive": "no"}}
SECRET = {"name": "Hortensia Feedwatcher", "email": "h.feedwatcher@example.org",
          "phone": "+1 213 555 0142"}


@pytest.fixture(scope="module")
def feed_app(own_fixture_city) -> Iterator:
    """An app on a database of its own (writes commit), with fixture boundaries + catalogue."""
    yield from own_fixture_city(_DB)


@pytest.fixture
def client(feed_app):
    return feed_app.test_client()


@pytest.fixture(scope="module")
def admin_token(feed_app) -> str:
    with get_engine(feed_app).begin() as conn:
        return issue_token(conn, create_user(conn, "feed_admin", "admin"))


def newest_id(app) -> int:
    with get_engine(app).connect() as conn:
        return conn.execute(text("SELECT coalesce(max(id), 0) FROM request_event")).scalar_one()


def create(client, **fields) -> int:
    response = client.post("/api/v1/requests", json={**GRAFFITI, **INSIDE, **fields})
    assert response.status_code == 201, response.data
    return response.get_json()["id"]


def update(client, token, request_id, body, version) -> dict:
    response = client.post(f"/api/v1/requests/{request_id}/updates", json=body,
                           headers={"Authorization": f"Bearer {token}",
                                    "If-Match": f'"{version}"'})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["request"]


def read_stream(client, *, stop_after: int | None = None, headers: dict | None = None,
                raw: list[str] | None = None, **params) -> list[dict]:
    """Read /api/v1/events: frames until ``stop_after`` events (then disconnect) or the end."""
    params.setdefault("timeout", 0)
    response = client.get("/api/v1/events", query_string=params, headers=headers or {},
                          buffered=False)
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/event-stream"
    found: list[dict] = []
    buffer = ""
    try:
        for chunk in response.response:
            buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
            while "\n\n" in buffer:
                frame, buffer = buffer.split("\n\n", 1)
                if raw is not None:
                    raw.append(frame)
                fields = dict(line.split(": ", 1) for line in frame.splitlines()
                              if ": " in line and not line.startswith(":"))
                if "id" in fields:
                    data = json.loads(fields["data"])
                    assert data["id"] == int(fields["id"]) and data["kind"] == fields["event"]
                    found.append(data)
            if stop_after is not None and len(found) >= stop_after:
                break
    finally:
        response.close()
    return found


def test_creates_and_updates_stream_their_events_in_order(feed_app, client, admin_token):
    mark = newest_id(feed_app)
    first = create(client)
    second = create(client, **NORTH)
    update(client, admin_token, first, {"status": "acknowledged"}, 1)
    update(client, admin_token, second, {"status": "closed", "reason": "resolved"}, 1)
    outside = client.post("/api/v1/requests", json={**GRAFFITI, "lon": -118.0, "lat": 33.5})
    assert outside.status_code == 422  # refused: rolled back, so no event either
    got = read_stream(client, after=mark)
    assert [(e["kind"], e["request_id"]) for e in got] == [
        ("created", first), ("created", second), ("updated", first), ("closed", second)]
    assert [e["id"] for e in got] == sorted(e["id"] for e in got)
    assert got[2]["status"] == "acknowledged" and got[2]["request"]["version"] == 2
    assert got[3]["request"]["close_reason"] == "resolved"
    assert ("CD", "1") in {(a["type"], str(a["code"])) for a in got[0]["areas"]}


def test_reconnecting_with_last_event_id_resumes_with_no_gap_and_no_repeat(feed_app, client):
    mark = newest_id(feed_app)
    made = [create(client) for _ in range(6)]
    everything = read_stream(client, after=mark)
    assert [e["request_id"] for e in everything] == made
    head = read_stream(client, after=mark, timeout=5, stop_after=3)
    assert len(head) == 3
    rest = read_stream(client, headers={"Last-Event-ID": str(head[-1]["id"])})
    assert [e["id"] for e in head + rest] == [e["id"] for e in everything]
    # The header wins over ?after= (a browser's EventSource reconnects with the header).
    again = read_stream(client, after=mark, headers={"Last-Event-ID": str(head[0]["id"])})
    assert [e["id"] for e in again] == [e["id"] for e in everything[1:]]


def test_without_a_position_the_stream_starts_at_the_newest_event(client):
    create(client)
    assert read_stream(client) == []


def test_a_waiting_stream_wakes_when_a_change_commits(feed_app, client):
    mark = newest_id(feed_app)
    got: list[dict] = []
    reader = threading.Thread(target=lambda: got.extend(
        read_stream(feed_app.test_client(), after=mark, timeout=10, stop_after=1)))
    started = time.monotonic()
    reader.start()
    time.sleep(0.3)
    rid = create(client)
    reader.join(timeout=15)
    assert [e["request_id"] for e in got] == [rid]
    assert time.monotonic() - started < 5


def test_concurrent_writers_leave_no_gap_for_a_reader_that_follows_along(feed_app):
    """Writers commit in any order; a reader polling id > last still sees every event once."""
    mark = newest_id(feed_app)
    engine = get_engine(feed_app)
    done = threading.Event()
    seen: list[int] = []

    def reader() -> None:
        position = mark
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            while True:
                finished = done.is_set()
                for event in read_events(conn, position):
                    seen.append(event.id)
                    position = event.id
                if finished:
                    return

    def writer() -> None:
        for _ in range(8):
            with engine.begin() as conn:
                create_request(conn, NewRequest(channel="api", **GRAFFITI, **INSIDE))
                time.sleep(0.005)  # hold the transaction open a little, as a real one would

    follow = threading.Thread(target=reader)
    follow.start()
    writers = [threading.Thread(target=writer) for _ in range(4)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=60)
    done.set()
    follow.join(timeout=30)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT id FROM request_event WHERE id > :m ORDER BY id"),
                              {"m": mark}).scalars().all()
    assert len(stored) == 32
    assert seen == stored


def test_filters_by_type_department_area_status_and_kind(feed_app, client, admin_token):
    mark = newest_id(feed_app)
    south = create(client)
    north = create(client, **NORTH)
    other = create(client, service_code="bulky_items", **NORTH,
                   attributes={"items": ["sofa"], "item_count": 1})
    update(client, admin_token, north, {"status": "in_progress"}, 1)
    department = read_stream(client, after=mark)[0]["department"]
    assert {e["request_id"] for e in read_stream(client, after=mark, service_code="graffiti")
            } == {south, north}
    assert {e["request_id"] for e in read_stream(client, after=mark, area_type="nc",
                                                 area_code="55")} == {north, other}
    assert [e["kind"] for e in read_stream(client, after=mark, status="in_progress")
            ] == ["updated"]
    assert [e["request_id"] for e in read_stream(client, after=mark, kind="updated")] == [north]
    by_department = read_stream(client, after=mark, department=department.lower())
    assert {e["department"] for e in by_department} == {department}
    assert {south, north} <= {e["request_id"] for e in by_department}


def test_contact_never_appears_in_an_event(feed_app, client, admin_token):
    mark = newest_id(feed_app)
    rid = create(client, contact=SECRET, description="paint on the wall")
    update(client, admin_token, rid, {"status": "closed", "reason": "resolved"}, 1)
    frames: list[str] = []
    got = read_stream(client, after=mark, raw=frames)
    assert len(got) == 2
    body = "\n".join(frames)
    for value in SECRET.values():
        assert value not in body
    assert "contact" not in body
    with get_engine(feed_app).connect() as conn:
        stored = conn.execute(text("SELECT payload::text FROM request_event WHERE id > :m"),
                              {"m": mark}).scalars().all()
    assert not any(SECRET["email"] in row for row in stored)


def test_updated_after_polling_agrees_with_the_feed(feed_app, client, admin_token):
    mark = newest_id(feed_app)
    since = datetime.now(UTC)
    time.sleep(0.01)
    a, b = create(client), create(client)
    update(client, admin_token, a, {"status": "assigned", "assigned_to": "crew 7"}, 1)
    feed = read_stream(client, after=mark)
    polled = client.get("/api/v1/requests", query_string={
        "updated_after": since.isoformat(), "sort": "updated_at", "limit": 100}).get_json()
    versions = {f["id"]: (f["properties"]["version"], f["properties"]["status"])
                for f in polled["features"]}
    latest = {e["request_id"]: (e["request"]["version"], e["status"]) for e in feed}
    assert set(versions) == set(latest) == {a, b}
    assert versions == latest


def test_a_bulk_import_writes_one_summary_event(feed_app, client):
    mark = newest_id(feed_app)
    runner = feed_app.test_cli_runner()
    path = str(FIXTURES / "requests" / "myla311_in_test_city.csv")
    result = runner.invoke(args=["load", "requests", "--commit", path])
    assert result.exit_code == 0, result.output
    got = read_stream(client, after=mark)
    assert [e["kind"] for e in got] == ["imported"]
    assert got[0]["request"]["inserted"] > 0
    assert read_stream(client, after=mark, area_type="CD", area_code="99") == got  # always passes
    assert runner.invoke(args=["load", "requests", "--commit", path]).exit_code == 0
    assert len(read_stream(client, after=mark)) == 1  # an unchanged re-import says nothing


def test_an_idle_stream_sends_keepalive_comments_and_ends_on_time(client, monkeypatch):
    monkeypatch.setattr(events, "HEARTBEAT_S", 0.2)
    frames: list[str] = []
    started = time.monotonic()
    assert read_stream(client, timeout=0.7, raw=frames) == []
    assert 0.6 < time.monotonic() - started < 5
    assert frames[0].startswith("retry:")
    assert ": keepalive" in frames


@pytest.mark.parametrize("query,headers,word", [
    ({"area_type": "CD"}, {}, "area_code"),
    ({"status": "bogus"}, {}, "status"),
    ({"kind": "deleted"}, {}, "kind"),
    ({"timeout": "-1"}, {}, "timeout"),
    ({"timeout": "soon"}, {}, "timeout"),
    ({"after": "x"}, {}, "after"),
    ({}, {"Last-Event-ID": "-4"}, "Last-Event-ID"),
])
def test_bad_parameters_get_a_json_400(client, query, headers, word):
    response = client.get("/api/v1/events", query_string=query, headers=headers)
    assert response.status_code == 400
    body = response.get_json()
    assert body["ok"] is False and word in body["error"]
