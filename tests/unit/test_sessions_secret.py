"""The session secret of a `make run` deployment is created once and shared by every worker."""

from __future__ import annotations

import stat

from geo311 import create_app
from geo311.sessions import ensure_stored_secret, keep_secret_for_workers


def test_stored_secret_is_created_once_private_and_used_by_every_app(tmp_path):
    path = ensure_stored_secret(tmp_path)
    first = path.read_text()
    assert ensure_stored_secret(tmp_path).read_text() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    apps = [create_app({"VAR_DIR": str(tmp_path), "SECRET_KEY": ""}) for _ in range(2)]
    assert {app.config["SECRET_KEY"] for app in apps} == {first}


def test_an_explicit_secret_wins(tmp_path):
    ensure_stored_secret(tmp_path)
    app = create_app({"VAR_DIR": str(tmp_path), "SECRET_KEY": "set-by-operator"})
    assert app.config["SECRET_KEY"] == "set-by-operator"


def test_setup_stores_a_secret_when_none_is_set_or_stored(tmp_path):
    app = create_app({"VAR_DIR": str(tmp_path), "SECRET_KEY": ""})
    stored = keep_secret_for_workers(app).read_text()
    assert create_app({"VAR_DIR": str(tmp_path), "SECRET_KEY": ""}).config["SECRET_KEY"] == stored


def test_setup_leaves_an_operator_key_alone(tmp_path):
    app = create_app({"VAR_DIR": str(tmp_path), "SECRET_KEY": "set-by-operator"})
    assert keep_secret_for_workers(app) is None
    assert not (tmp_path / "secret_key").exists()
