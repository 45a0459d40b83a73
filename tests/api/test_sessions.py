"""Page login sessions: /login form, cookie flags, CSRF on session writes (403 without the token),
bearer calls unaffected, logout, safe redirects, SECRET_KEY fallback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select, text, update

from geo311 import create_app
from geo311.auth import create_user, issue_token
from geo311.db import get_engine
from geo311.models import AuditEvent, ServiceRequest, StaffUser

_DB = "geo311_sessions"
_PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def sessions_db_url(own_database) -> Iterator[str]:
    yield from own_database(_DB)


@pytest.fixture
def app(sessions_db_url, own_app):
    for application in own_app(sessions_db_url, "service_request, request_status_history, "
                               "request_event, api_token, staff_user, audit_event",
                               SECRET_KEY="test-secret"):
        with get_engine(application).begin() as conn:
            user_id = create_user(conn, "dana", "dispatcher", password=_PASSWORD)
            application.config["TEST_TOKEN"] = issue_token(conn, user_id)
        yield application


def add_request(app) -> int:
    now = datetime.now(UTC)
    with get_engine(app).begin() as conn:
        return conn.execute(insert(ServiceRequest).values(
            service_code="graffiti", department="OCB", status="open", pin_lon=-118.24,
            pin_lat=34.05, pin_source="gps", channel="api", areas=[{"type": "CD", "code": "1"}],
            location=text("ST_SetSRID(ST_MakePoint(-118.24, 34.05), 4326)"),
            requested_at=now, updated_at=now).returning(ServiceRequest.id)).scalar_one()


def form_token(client, path: str = "/login") -> str:
    page = client.get(path)
    assert page.status_code == 200
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert match, page.get_data(as_text=True)
    return match.group(1)


def sign_in(client) -> str:
    """Sign in as dana; returns the session's CSRF token."""
    token = form_token(client)
    response = client.post("/login", data={"name": "dana", "password": _PASSWORD,
                                           "csrf_token": token, "next": "/dispatch"})
    assert response.status_code == 303 and response.headers["Location"] == "/dispatch"
    return client.get_cookie("csrf_token").value


def test_login_page_renders_a_form_with_a_csrf_field_and_safe_cookie_flags(client):
    page = client.get("/login")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert 'name="password"' in html and 'type="hidden" name="csrf_token"' in html
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_starts_a_session_that_staff_endpoints_accept(app, client):
    csrf = sign_in(client)
    assert csrf
    who = client.get("/api/v1/auth/whoami")
    assert who.status_code == 200 and who.get_json()["role"] == "dispatcher"
    assert "Signed in as" in client.get("/login").get_data(as_text=True)
    with get_engine(app).connect() as conn:
        outcome = conn.execute(select(AuditEvent.outcome).where(
            AuditEvent.action == "login", AuditEvent.actor == "dana")).scalars().all()
    assert outcome == ["ok"]


def test_wrong_password_is_refused_and_audited(app, client):
    token = form_token(client)
    response = client.post("/login", data={"name": "dana", "password": "nope",
                                           "csrf_token": token})
    assert response.status_code == 401 and "Wrong name or password" in response.get_data(
        as_text=True)
    assert client.get("/api/v1/auth/whoami").status_code == 401
    with get_engine(app).connect() as conn:
        assert conn.execute(select(AuditEvent.outcome).where(
            AuditEvent.action == "login", AuditEvent.target == "dana")).scalar_one() == "failed"


def test_login_form_without_its_csrf_token_gets_403(client):
    client.get("/login")
    response = client.post("/login", data={"name": "dana", "password": _PASSWORD})
    assert response.status_code == 403
    assert response.get_json()["status"] == 403
    assert client.get("/api/v1/auth/whoami").status_code == 401


def test_session_write_without_csrf_gets_403_and_changes_nothing(app, client):
    sign_in(client)
    rid = add_request(app)
    response = client.post(f"/api/v1/requests/{rid}/updates", json={"status": "acknowledged"},
                           headers={"If-Match": '"1"'})
    assert response.status_code == 403 and "CSRF" in response.get_json()["error"]
    wrong = client.post(f"/api/v1/requests/{rid}/updates", json={"status": "acknowledged"},
                        headers={"If-Match": '"1"', "X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    with get_engine(app).connect() as conn:
        assert conn.execute(select(ServiceRequest.version).where(
            ServiceRequest.id == rid)).scalar_one() == 1


def test_session_write_with_the_csrf_header_is_allowed(app, client):
    csrf = sign_in(client)
    rid = add_request(app)
    response = client.post(f"/api/v1/requests/{rid}/updates", json={"status": "acknowledged"},
                           headers={"If-Match": '"1"', "X-CSRF-Token": csrf})
    assert response.status_code == 200, response.get_json()
    history = client.get(f"/api/v1/requests/{rid}/history").get_json()["history"]
    assert history[-1]["actor"] == "dana"


def test_bearer_calls_need_no_csrf_token_even_with_a_session_cookie(app, client):
    rid = add_request(app)
    bearer = {"Authorization": f"Bearer {app.config['TEST_TOKEN']}", "If-Match": '"1"'}
    fresh = app.test_client()
    assert fresh.post(f"/api/v1/requests/{rid}/updates", json={"note": "seen"},
                      headers=bearer).status_code == 200
    sign_in(client)
    bearer["If-Match"] = '"2"'
    assert client.post(f"/api/v1/requests/{rid}/updates", json={"note": "again"},
                       headers=bearer).status_code == 200


def test_anonymous_writes_are_not_asked_for_csrf(app, client):
    rid = add_request(app)
    response = client.post(f"/api/v1/requests/{rid}/updates", json={"note": "x"},
                           headers={"If-Match": '"1"'})
    assert response.status_code == 401


def test_logout_needs_the_token_and_ends_the_session(client):
    csrf = sign_in(client)
    assert client.post("/logout").status_code == 403
    assert client.get("/api/v1/auth/whoami").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    assert client.get("/api/v1/auth/whoami").status_code == 401


def test_a_deactivated_account_loses_its_session(app, client):
    sign_in(client)
    with get_engine(app).begin() as conn:
        conn.execute(update(StaffUser).where(StaffUser.name == "dana").values(active=False))
    assert client.get("/api/v1/auth/whoami").status_code == 401


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "dispatch",
                                    "/\\evil.example"])
def test_login_redirects_only_to_paths_on_this_site(client, target):
    token = form_token(client, f"/login?next={target}")
    response = client.post("/login", data={"name": "dana", "password": _PASSWORD,
                                           "csrf_token": token, "next": target})
    assert response.headers["Location"] == "/dispatch"


def test_an_empty_secret_key_gets_a_random_one_per_process():
    one = create_app({"TESTING": True, "SECRET_KEY": ""})
    two = create_app({"TESTING": True, "SECRET_KEY": ""})
    assert one.secret_key and two.secret_key and one.secret_key != two.secret_key
    assert create_app({"TESTING": True, "SECRET_KEY": "kept"}).secret_key == "kept"


def test_signed_in_council_user_at_the_dispatcher_map_reads_why_not_a_loop(app, client):
    """A council user was redirected to the sign-in page whose only way on was a "Continue"
    link back to /dispatch, which redirected again."""
    with get_engine(app).begin() as conn:
        create_user(conn, "kim", "council", council_district="10", password=_PASSWORD)
    token = form_token(client)
    signed_in = client.post("/login", data={"name": "kim", "password": _PASSWORD,
                                            "csrf_token": token, "next": "/council/10"})
    assert signed_in.status_code == 303
    page = client.get("/dispatch")
    html = page.get_data(as_text=True)
    assert page.status_code == 403
    assert "signed in as kim (council)" in html and "/council/10" in html
    assert 'href="/dispatch"' not in html  # no "Continue" back into the refusal
    assert "Sign out" in html
