"""Staff updates: roles x endpoints, If-Match/409/428, closure rules, merge cascade, concurrency."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, text

from geo311.auth import create_user, issue_token
from geo311.db import get_engine
from geo311.models import STAFF_ROLES, ServiceRequest

_DB = "geo311_updates"
_LON, _LAT = -118.2437, 34.0522


@pytest.fixture(scope="module")
def updates_db_url(own_database) -> Iterator[str]:
    """A database of its own: updates commit (and two threads need real commits)."""
    yield from own_database(_DB)


@pytest.fixture
def app(updates_db_url, own_app):
    yield from own_app(updates_db_url, "service_request, request_status_history, "
                       "request_location_correction, request_update_detail, api_token, "
                       "staff_user, audit_event")


@pytest.fixture
def tokens(app) -> dict[str, str]:
    """One token per role; crew/dept_admin in LASAN, a second crew in OCB, council for CD 1."""
    out = {}
    with get_engine(app).begin() as conn:
        for role in (*STAFF_ROLES, "crew_ocb"):
            real = "crew" if role == "crew_ocb" else role
            dept = "OCB" if role == "crew_ocb" else (
                "LASAN" if real in ("crew", "dept_admin") else None)
            user_id = create_user(conn, role, real, department=dept,
                                  council_district="1" if real == "council" else None)
            out[role] = issue_token(conn, user_id)
    return out


def add_request(app, *, service_code: str = "bulky_items", department: str = "LASAN",
                lon: float = _LON, lat: float = _LAT, days_ago: float = 0,
                cd: str = "1", status: str = "open") -> int:
    """Insert one request with defaults; returns its id."""
    at = datetime.now(UTC) - timedelta(days=days_ago)
    with get_engine(app).begin() as conn:
        return conn.execute(insert(ServiceRequest).values(
            service_code=service_code, department=department, status=status,
            pin_lon=lon, pin_lat=lat, pin_source="gps", channel="api",
            location=text(f"ST_SetSRID(ST_MakePoint({lon}, {lat}), 4326)"),
            areas=[{"type": "CD", "code": cd}], requested_at=at, updated_at=at,
        ).returning(ServiceRequest.id)).scalar_one()


def post(client, token, request_id, body, version=1):
    headers = {"Authorization": f"Bearer {token}"}
    if version is not None:
        headers["If-Match"] = f'"{version}"'
    return client.post(f"/api/v1/requests/{request_id}/updates", json=body, headers=headers)


def get(client, token, path):
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


_UPDATE_ALLOWED = {"agent", "dispatcher", "crew", "dept_admin", "admin"}


@pytest.mark.parametrize("role", [*STAFF_ROLES, "crew_ocb"])
def test_each_role_on_each_staff_endpoint(app, tokens, role):
    client = app.test_client()
    rid = add_request(app)
    update = post(client, tokens[role], rid, {"status": "acknowledged"})
    expected_update = 200 if role in _UPDATE_ALLOWED else 403
    assert update.status_code == expected_update, update.get_json()
    read_ok = 403 if role == "crew_ocb" else 200
    assert get(client, tokens[role], f"/api/v1/requests/{rid}/history").status_code == read_ok
    assert get(client, tokens[role], f"/api/v1/requests/{rid}/duplicates").status_code == read_ok


def test_anonymous_and_revoked_callers_get_401(app, tokens):
    client = app.test_client()
    rid = add_request(app)
    assert client.post(f"/api/v1/requests/{rid}/updates", json={"note": "x"},
                       headers={"If-Match": '"1"'}).status_code == 401
    assert client.get(f"/api/v1/requests/{rid}/history").get_json()["status"] == 401
    app.test_cli_runner().invoke(args=["users", "revoke", "dispatcher"])
    assert post(client, tokens["dispatcher"], rid, {"note": "x"}).status_code == 401


def test_council_reads_only_its_district(app, tokens):
    client = app.test_client()
    elsewhere = add_request(app, cd="9")
    assert get(client, tokens["council"], f"/api/v1/requests/{elsewhere}/history"
               ).status_code == 403


def test_update_bumps_version_etag_and_appends_history(app, tokens):
    client = app.test_client()
    rid = add_request(app)
    first = post(client, tokens["crew"], rid, {"status": "in_progress", "note": "on site",
                                               "assigned_to": "truck 7"})
    assert first.status_code == 200 and first.headers["ETag"] == '"2"'
    history = get(client, tokens["crew"], f"/api/v1/requests/{rid}/history").get_json()
    assert history["request"]["version"] == 2
    [row] = history["history"]
    assert (row["from_status"], row["to_status"], row["actor"]) == ("open", "in_progress", "crew")
    assert row["details"] == {"assigned_to": "truck 7"}


def test_missing_if_match_is_428_and_stale_is_409_with_current_state(app, tokens):
    client = app.test_client()
    rid = add_request(app)
    assert post(client, tokens["crew"], rid, {"note": "x"}, version=None).status_code == 428
    assert post(client, tokens["crew"], rid, {"status": "acknowledged"}).status_code == 200
    stale = post(client, tokens["crew"], rid, {"status": "in_progress"}, version=1)
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["current"]["version"] == 2 and body["current"]["status"] == "acknowledged"
    assert stale.headers["ETag"] == '"2"'


@pytest.mark.parametrize("body, needle", [
    ({"status": "closed"}, "reason"),
    ({"status": "closed", "reason": "duplicate"}, "duplicate_of"),
    ({"status": "closed", "reason": "referred"}, "referred_to"),
    ({"status": "closed", "reason": "fixed"}, "reason"),
    ({"status": "open", "reason": "resolved"}, "reason"),
    ({"status": "done"}, "status"),
    ({"lon": -118.2}, "lon and lat"),
    ({}, "nothing"),
])
def test_closure_rules_are_400s(app, tokens, body, needle):
    response = post(app.test_client(), tokens["dispatcher"], add_request(app), body)
    assert response.status_code == 400 and needle in response.get_json()["error"]


def test_close_referred_records_agency_and_reopen_needs_dispatcher(app, tokens):
    client = app.test_client()
    rid = add_request(app)
    closed = post(client, tokens["crew"], rid, {"status": "closed", "reason": "referred",
                                                "referred_to": "Caltrans"})
    state = closed.get_json()["request"]
    assert state["close_reason"] == "referred" and state["agency_responsible"] == "Caltrans"
    assert post(client, tokens["crew"], rid, {"status": "open"}, version=2).status_code == 403
    reopened = post(client, tokens["dispatcher"], rid, {"status": "open", "note": "not done"},
                    version=2)
    assert reopened.get_json()["request"]["close_reason"] is None


def test_merge_then_closing_survivor_cascades(app, tokens):
    client = app.test_client()
    survivor, linked, merged = add_request(app), add_request(app), add_request(app)
    assert post(client, tokens["crew"], merged, {"status": "closed", "reason": "duplicate",
                                                 "duplicate_of": survivor}).status_code == 403
    assert post(client, tokens["dispatcher"], merged, {
        "status": "closed", "reason": "duplicate", "duplicate_of": survivor}).status_code == 200
    assert post(client, tokens["dispatcher"], linked, {"duplicate_of": survivor}
                ).get_json()["request"]["status"] == "open"
    done = post(client, tokens["crew"], survivor, {"status": "closed", "reason": "resolved",
                                                   "note": "picked up"})
    assert done.status_code == 200
    after = get(client, tokens["admin"], f"/api/v1/requests/{linked}/history").get_json()
    assert after["request"]["status"] == "closed"
    assert after["request"]["close_reason"] == "resolved"
    assert f"closed with request {survivor}" in after["history"][-1]["note"]
    merged_state = get(client, tokens["admin"], f"/api/v1/requests/{merged}/history").get_json()
    assert merged_state["request"]["close_reason"] == "duplicate"


def test_duplicate_of_must_exist_and_not_be_itself(app, tokens):
    client = app.test_client()
    rid = add_request(app)
    assert post(client, tokens["admin"], rid, {"status": "closed", "reason": "duplicate",
                                               "duplicate_of": 999999}).status_code == 404
    assert post(client, tokens["admin"], rid, {"status": "closed", "reason": "duplicate",
                                               "duplicate_of": rid}).status_code == 400


def test_history_rows_cannot_be_updated_or_deleted(app, tokens):
    rid = add_request(app)
    post(app.test_client(), tokens["crew"], rid, {"note": "hello"})
    with get_engine(app).connect() as conn:
        with pytest.raises(Exception, match="append-only"):
            conn.execute(text("UPDATE request_status_history SET note = 'edited'"))
        conn.rollback()


def test_crew_pin_correction_keeps_the_raw_pin(app, tokens):
    rid = add_request(app)
    moved = post(app.test_client(), tokens["crew"], rid, {"lon": -118.2440, "lat": 34.0530,
                                                          "note": "it is across the street"})
    assert moved.status_code == 200, moved.get_json()
    with get_engine(app).connect() as conn:
        row = conn.execute(text(
            "SELECT pin_lon, pin_lat, ST_X(location) AS x, locate IS NOT NULL AS located "
            "FROM service_request WHERE id = :id"), {"id": rid}).one()
        corrections = conn.execute(text(
            "SELECT lon, lat FROM request_location_correction WHERE request_id = :id"),
            {"id": rid}).all()
    assert (row.pin_lon, row.pin_lat) == (_LON, _LAT)
    assert row.located and row.x != _LON
    assert corrections == [(-118.2440, 34.0530)]


def test_duplicates_are_same_type_open_in_radius_and_window_nearest_first(app, tokens):
    rid = add_request(app)
    near = add_request(app, lon=_LON + 0.0002)                   # ~18 m
    nearer = add_request(app, lon=_LON + 0.0001)                 # ~9 m
    add_request(app, lon=_LON + 0.01)                            # ~900 m: out of radius
    add_request(app, service_code="graffiti", department="OCB")  # other type
    add_request(app, days_ago=400)                               # out of window
    body = get(app.test_client(), tokens["agent"], f"/api/v1/requests/{rid}/duplicates")
    found = body.get_json()["duplicates"]
    assert [d["id"] for d in found] == [nearer, near]
    assert 8 < found[0]["distance_m"] < 10 and found[0]["age_days"] < 1
    scan = app.test_cli_runner().invoke(args=["duplicates", "scan"])
    assert f"merge {near} into {rid}" in scan.output


def test_two_threads_same_version_one_409_no_lost_history(app, tokens):
    rid = add_request(app)
    statuses: list[int] = []
    barrier = threading.Barrier(2)

    def crew_update(status: str) -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(post(client, tokens["crew"], rid, {"status": status}).status_code)

    threads = [threading.Thread(target=crew_update, args=(s,))
               for s in ("acknowledged", "in_progress")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 409]
    history = get(app.test_client(), tokens["crew"], f"/api/v1/requests/{rid}/history").get_json()
    assert len(history["history"]) == 1 and history["request"]["version"] == 2


def test_updates_are_audited(app, tokens):
    rid = add_request(app)
    post(app.test_client(), tokens["crew"], rid, {"status": "acknowledged"})
    events = get(app.test_client(), tokens["admin"],
                 "/api/v1/audit?action=request.update").get_json()["events"]
    assert events[0]["actor"] == "crew" and events[0]["target"] == f"request/{rid}"


def test_a_staff_only_note_stays_out_of_the_public_timeline(app, tokens):
    client = app.test_client()
    rid = add_request(app)
    assert post(client, tokens["crew"], rid, {"status": "in_progress", "note": "gate code 4471",
                                              "note_public": False}).status_code == 200
    assert post(client, tokens["crew"], rid, {"status": "closed", "reason": "resolved",
                                              "note": "Picked up"}, version=2).status_code == 200
    staff = get(client, tokens["crew"], f"/api/v1/requests/{rid}/history").get_json()["history"]
    assert [row["note"] for row in staff] == ["gate code 4471", "Picked up"]
    public = client.get(f"/api/v1/requests/{rid}/timeline").get_data(as_text=True)
    assert "gate code 4471" not in public and "Picked up" in public
    assert post(client, tokens["crew"], rid, {"note": "x", "note_public": "no"},
                version=3).status_code == 400
