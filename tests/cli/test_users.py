"""geo311 users add|list|revoke: the token on the last line works until revoked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

_DB = "geo311_users_cli"


@pytest.fixture(scope="module")
def users_db_url(own_database) -> Iterator[str]:
    yield from own_database(_DB)


@pytest.fixture
def users_app(users_db_url, own_app):
    yield from own_app(users_db_url, "api_token, staff_user, audit_event")


def test_add_prints_a_working_token_on_the_last_line(users_app):
    runner = users_app.test_cli_runner()
    result = runner.invoke(args=["users", "add", "maria", "--role", "crew",
                                 "--department", "LASAN"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("g311s_")
    response = users_app.test_client().get("/api/v1/auth/whoami",
                                           headers={"Authorization": f"Bearer {token}"})
    assert response.get_json()["department"] == "LASAN"


def test_password_from_stdin_allows_login(users_app):
    runner = users_app.test_cli_runner()
    result = runner.invoke(args=["users", "add", "ana", "--role", "council", "--district", "4",
                                 "--password-stdin"], input="s3cret pass\n")
    assert result.exit_code == 0, result.output
    login = users_app.test_client().post("/api/v1/auth/login",
                                         json={"name": "ana", "password": "s3cret pass"})
    assert login.status_code == 200


def test_list_and_revoke(users_app):
    runner = users_app.test_cli_runner()
    token = runner.invoke(args=["users", "add", "li", "--role", "dispatcher"]).output.split()[-1]
    listed = runner.invoke(args=["users", "list"]).output
    assert "li\tdispatcher\t-\t-\t1 token(s)" in listed
    revoked = runner.invoke(args=["users", "revoke", "li"])
    assert revoked.exit_code == 0 and "revoked 1 token(s)" in revoked.output
    response = users_app.test_client().get("/api/v1/auth/whoami",
                                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "0 token(s)" in runner.invoke(args=["users", "list"]).output


def test_bad_input_is_a_clean_error(users_app):
    runner = users_app.test_cli_runner()
    assert runner.invoke(args=["users", "add", "x", "--role", "crew"]).exit_code == 1
    assert "unknown department" in runner.invoke(
        args=["users", "add", "x", "--role", "crew", "--department", "NOPE"]).output
    assert runner.invoke(args=["users", "revoke", "ghost"]).exit_code == 1
    assert runner.invoke(args=["users", "add", "x", "--role", "boss"]).exit_code == 2
