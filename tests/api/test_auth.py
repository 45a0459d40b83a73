"""Staff accounts and tokens: bearer resolution, 401/403 JSON errors, revocation, login, audit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from geo311 import create_app
from geo311.auth import create_user, issue_token, revoke_user_tokens
from geo311.models import STAFF_ROLES

_DB = "geo311_auth"


@pytest.fixture(scope="module")
def auth_db_url(own_database) -> Iterator[str]:
    """A database of its own: these tests commit (users, tokens, audit rows)."""
    yield from own_database(_DB)


@pytest.fixture
def auth_app(auth_db_url, own_app):
    yield from own_app(auth_db_url)


@pytest.fixture
def staff(auth_app) -> Iterator[dict[str, str]]:
    """One user and token per role (crew and dept_admin in LASAN, council for CD 1)."""
    from geo311.db import get_engine

    engine = get_engine(auth_app)
    tokens = {}
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE api_token, staff_user, audit_event RESTART IDENTITY CASCADE"))
        for role in STAFF_ROLES:
            user_id = create_user(conn, f"{role}1", role,
                                  department="LASAN" if role in ("crew", "dept_admin") else None,
                                  council_district="1" if role == "council" else None,
                                  password="pw-" + role)
            tokens[role] = issue_token(conn, user_id)
    yield tokens


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_anonymous_caller_gets_401_json(auth_app):
    response = auth_app.test_client().get("/api/v1/auth/whoami")
    assert response.status_code == 401
    assert response.get_json() == {"ok": False, "error": response.get_json()["error"],
                                   "status": 401}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_unknown_token_gets_401_and_is_audited_as_failed_login(auth_app, staff):
    client = auth_app.test_client()
    assert client.get("/api/v1/auth/whoami", headers=_bearer("g311s_nope")).status_code == 401
    log = client.get("/api/v1/audit", headers=_bearer(staff["admin"])).get_json()["events"]
    assert any(e["action"] == "login" and e["outcome"] == "failed" for e in log)


def test_each_role_token_resolves_to_its_scope(auth_app, staff):
    client = auth_app.test_client()
    for role, token in staff.items():
        body = client.get("/api/v1/auth/whoami", headers=_bearer(token)).get_json()
        assert body["role"] == role and body["name"] == f"{role}1"
    crew = client.get("/api/v1/auth/whoami", headers=_bearer(staff["crew"])).get_json()
    assert crew["department"] == "LASAN"


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_audit_log_is_for_admins_only(auth_app, staff, role):
    response = auth_app.test_client().get("/api/v1/audit", headers=_bearer(staff[role]))
    assert response.status_code == (200 if role == "admin" else 403)
    if role != "admin":
        assert response.get_json()["status"] == 403


def test_revoked_token_is_refused(auth_app, staff):
    from geo311.db import get_engine

    client = auth_app.test_client()
    assert client.get("/api/v1/auth/whoami", headers=_bearer(staff["crew"])).status_code == 200
    with get_engine(auth_app).begin() as conn:
        assert revoke_user_tokens(conn, "crew1") == 1
    assert client.get("/api/v1/auth/whoami", headers=_bearer(staff["crew"])).status_code == 401


def test_token_is_stored_only_as_a_hash(auth_app, staff):
    from geo311.db import get_engine

    with get_engine(auth_app).connect() as conn:
        stored = conn.execute(text("SELECT token_hash, prefix FROM api_token")).all()
        hashes = conn.execute(text("SELECT password_hash FROM staff_user")).scalars().all()
    assert all(staff["admin"] != row.token_hash and len(row.token_hash) == 64 for row in stored)
    assert all(h.startswith("scrypt:") for h in hashes)


def test_login_issues_a_token_and_audits_success_and_failure(auth_app, staff):
    client = auth_app.test_client()
    bad = client.post("/api/v1/auth/login", json={"name": "crew1", "password": "wrong"})
    assert bad.status_code == 401
    good = client.post("/api/v1/auth/login", json={"name": "crew1", "password": "pw-crew"})
    assert good.status_code == 200
    token = good.get_json()["token"]
    assert client.get("/api/v1/auth/whoami", headers=_bearer(token)).get_json()["role"] == "crew"
    csv_text = client.get("/api/v1/audit?format=csv&action=login",
                          headers=_bearer(staff["admin"])).get_data(as_text=True)
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("id,at,actor,role,action")
    outcomes = {line.split(",")[6] for line in lines[1:]}
    assert {"ok", "failed"} <= outcomes


def test_wrong_role_refusal_is_audited(auth_app, staff):
    client = auth_app.test_client()
    client.get("/api/v1/audit", headers=_bearer(staff["crew"]))
    log = client.get("/api/v1/audit?actor=crew1", headers=_bearer(staff["admin"])).get_json()
    assert [e["outcome"] for e in log["events"]] == ["denied"]


def test_department_scoped_roles_need_a_department(auth_app):
    from geo311.db import get_engine
    from geo311.errors import BadRequest

    with get_engine(auth_app).begin() as conn, pytest.raises(BadRequest, match="department"):
        create_user(conn, "nodept", "crew")


def test_public_writes_are_rate_limited_with_retry_after(auth_db_url, staff):
    app = create_app({"TESTING": True, "DATABASE_URL": auth_db_url, "RATE_LIMIT": "2/minute"})
    client = app.test_client()
    try:
        codes = [client.post("/api/v1/auth/login", json={"name": "x", "password": "y"}).status_code
                 for _ in range(3)]
        assert codes == [401, 401, 429]
        limited = client.post("/api/v1/auth/login", json={"name": "x", "password": "y"})
        assert limited.get_json()["status"] == 429
        assert 1 <= int(limited.headers["Retry-After"]) <= 30
        other = client.post("/api/v1/auth/login", json={}, environ_base={
            "REMOTE_ADDR": "10.0.0.9"})
        assert other.status_code == 400  # another address has its own bucket
        for _ in range(3):  # staff tokens are not limited
            response = client.post("/api/v1/requests/1/updates", json={"note": "x"},
                                   headers={"Authorization": f"Bearer {staff['admin']}",
                                            "If-Match": '"1"'})
            assert response.status_code == 404
    finally:
        engine = app.extensions.pop("geo311_engine", None)
        if engine is not None:
            engine.dispose()


def test_rate_setting_parses_and_buckets_refill():
    from geo311.rate_limit import RateBuckets, parse_rate

    assert parse_rate("5/second") == (5, 1.0) and parse_rate("0") is None
    buckets = RateBuckets()
    assert buckets.take("k", 1, 60.0, now=0.0) == 0.0
    assert buckets.take("k", 1, 60.0, now=1.0) == pytest.approx(59.0)
    assert buckets.take("k", 1, 60.0, now=61.0) == 0.0
