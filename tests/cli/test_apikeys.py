"""`geo311 apikeys create|list|revoke` and the key check behind Open311 POST."""

from __future__ import annotations

from sqlalchemy import select

from geo311.apikeys import TOKEN_PREFIX, check_api_key, configured_keys, hash_token
from geo311.models import ApiKey


def _create(runner, name: str) -> tuple[int, str]:
    result = runner.invoke(args=["apikeys", "create", name])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    key_id = int(result.output.split("created API key ")[1].split()[0])
    return key_id, token


def test_create_prints_token_once_and_stores_only_its_hash(runner, fixture_engine):
    key_id, token = _create(runner, "test app")
    assert token.startswith(TOKEN_PREFIX) and len(token) > 40
    with fixture_engine.connect() as conn:
        row = conn.execute(select(ApiKey).where(ApiKey.id == key_id)).one()
    assert row.key_hash == hash_token(token)
    assert token not in (row.key_hash, row.prefix, row.name)
    assert token.startswith(row.prefix)


def test_list_shows_prefix_not_token(runner):
    key_id, token = _create(runner, "listed app")
    result = runner.invoke(args=["apikeys", "list"])
    assert result.exit_code == 0, result.output
    line = next(ln for ln in result.output.splitlines() if ln.startswith(f"{key_id}\t"))
    assert "listed app" in line and "active" in line
    assert token not in result.output


def test_revoked_key_no_longer_checks(runner, fixture_engine):
    key_id, token = _create(runner, "revoked app")
    with fixture_engine.connect() as conn:
        caller = check_api_key(conn, token, setting="")
        assert caller is not None and caller.key_id == key_id and caller.name == "revoked app"
    result = runner.invoke(args=["apikeys", "revoke", str(key_id)])
    assert result.exit_code == 0, result.output
    with fixture_engine.connect() as conn:
        assert check_api_key(conn, token, setting="") is None
    listed = runner.invoke(args=["apikeys", "list"]).output
    assert "revoked" in next(ln for ln in listed.splitlines() if ln.startswith(f"{key_id}\t"))


def test_revoke_unknown_id_fails_cleanly(runner):
    result = runner.invoke(args=["apikeys", "revoke", "987654"])
    assert result.exit_code != 0
    assert "no API key with id 987654" in result.output


def test_create_needs_a_name(runner):
    result = runner.invoke(args=["apikeys", "create", "  "])
    assert result.exit_code != 0
    assert "needs a name" in result.output


def test_setting_keys_check_without_database_rows(fixture_engine):
    with fixture_engine.connect() as conn:
        assert check_api_key(conn, "k2", setting="k1, k2").source == "setting"
        assert check_api_key(conn, "k3", setting="k1,k2") is None
        assert check_api_key(conn, "", setting="k1") is None
        assert check_api_key(conn, None, setting="k1") is None
        assert check_api_key(conn, "12345", setting=12345) is not None


def test_configured_keys_parses_comma_lists():
    assert configured_keys("a,b , ,c") == ("a", "b", "c")
    assert configured_keys("") == ()
    assert configured_keys(["x", "y"]) == ("x", "y")
