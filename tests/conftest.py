"""Test fixtures: a real throwaway PostGIS (initdb in a temp dir, fsync off) or GEO311_TEST_DATABASE_URL.

Databases per session:
- ``fixture_db``: the schema plus the hand-made boundaries in tests/fixtures (known answers).
- ``la_db``: the schema plus the real LA reference data shipped in data/ (smoke and data checks).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection, make_url

from geo311 import create_app
from geo311.cluster import Cluster, postgis_missing
from geo311.db import get_engine, make_engine
from geo311.schema import init_schema

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SHARED_LA = ROOT.parent / "shared" / "data" / "la"


@dataclass
class PostgisServer:
    """Where test databases are created."""

    url_for: Callable[[str], str]
    create: Callable[[str], None]
    drop: Callable[[str], None]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def postgis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgisServer]:
    """A PostGIS server for the session: our own cluster, or the one in GEO311_TEST_DATABASE_URL."""
    external = os.environ.get("GEO311_TEST_DATABASE_URL")
    if external:
        yield _external_server(external)
        return
    missing = postgis_missing()
    if missing:
        pytest.exit("PostGIS is missing (" + "; ".join(missing) + "): run `make test`, which installs it",
                    returncode=3)
    cluster = Cluster(root=tmp_path_factory.mktemp("pg"), port=_free_port(), fast=True)
    cluster.start()
    try:
        yield PostgisServer(url_for=cluster.url, create=cluster.create_database,
                            drop=cluster.drop_database)
    finally:
        cluster.stop("immediate")


def _external_server(url: str) -> PostgisServer:
    import psycopg

    base = make_url(url).set(drivername="postgresql+psycopg")

    def admin(statement: str) -> None:
        conninfo = base.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(statement)

    def create(name: str) -> None:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin(f'CREATE DATABASE "{name}"')

    def drop(name: str) -> None:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return PostgisServer(
        url_for=lambda name: base.set(database=name).render_as_string(hide_password=False),
        create=create, drop=drop,
    )


def _fresh_database(server: PostgisServer, name: str) -> str:
    server.create(name)
    url = server.url_for(name)
    engine = make_engine(url)
    try:
        init_schema(engine)
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def own_database(postgis_server: PostgisServer):
    """For modules whose tests commit: ``yield from own_database("geo311_x")`` in a module-scoped
    fixture gives a database of its own with the schema and the service catalogue, dropped after."""
    return lambda name, catalogue=True: _own_database(postgis_server, name, catalogue=catalogue)


@pytest.fixture(scope="session")
def own_fixture_city(own_database):
    """For modules whose tests commit: ``yield from own_fixture_city("geo311_x")`` gives an app on
    a database of its own with the hand-made boundaries (tests/fixtures) and the service catalogue,
    and with ``requests=FILE`` also MyLA311 records imported from that file."""

    def make(name: str, requests: Path | None = None):
        for url in own_database(name):
            app = create_app(_test_config(url, FIXTURES, FIXTURES / "boundaries"))
            runner = app.test_cli_runner()
            result = runner.invoke(args=["load", "boundaries", "--commit"])
            assert result.exit_code == 0, result.output
            if requests is not None:
                result = runner.invoke(args=["load", "requests", "--commit", str(requests)])
                assert result.exit_code == 0, result.output
            yield app
            _dispose(app)

    return make


@pytest.fixture(scope="session")
def own_app():
    """For the function-scoped app of a module with its own database: ``yield from own_app(url,
    "table_a, table_b", SECRET_KEY=...)`` empties those tables (``TRUNCATE ... RESTART IDENTITY
    CASCADE``; none when not given) and gives the app on ``url`` with those settings added, its
    engine disposed after the test."""
    return _own_app


def _own_app(url: str, truncate: str | None = None, **config: Any) -> Iterator[Flask]:
    application = create_app({**_test_config(url), **config})
    if truncate:
        with get_engine(application).begin() as conn:
            conn.execute(text(f"TRUNCATE {truncate} RESTART IDENTITY CASCADE"))
    yield application
    _dispose(application)


def _own_database(server: PostgisServer, name: str, *, catalogue: bool = True) -> Iterator[str]:
    from geo311.catalogue import sync_catalogue

    server.drop(name)
    url = _fresh_database(server, name)
    if catalogue:
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                sync_catalogue(conn)
        finally:
            engine.dispose()
    yield url
    server.drop(name)


@pytest.fixture(scope="session")
def fixture_db_url(postgis_server: PostgisServer) -> str:
    """A database with the schema and the hand-made boundary fixtures."""
    url = _fresh_database(postgis_server, "geo311_fixtures")
    app = create_app(_test_config(url, data_dir=FIXTURES, boundaries_dir=FIXTURES / "boundaries"))
    result = app.test_cli_runner().invoke(args=["load", "boundaries", "--commit"])
    _dispose(app)
    assert result.exit_code == 0, result.output
    return url


@pytest.fixture(scope="session")
def la_db_url(postgis_server: PostgisServer) -> str:
    """A database with the real LA reference data shipped in data/ (loaded once per session)."""
    from geo311.first_load import load_missing_reference

    url = _fresh_database(postgis_server, "geo311_la")
    config = _test_config(url)
    engine = make_engine(url)
    try:
        load_missing_reference(engine, {**create_app(config).config}, echo=lambda _line: None)
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def fixture_engine(fixture_db_url: str) -> Iterator[Engine]:
    yield from _engine(fixture_db_url)


@pytest.fixture(scope="session")
def la_engine(la_db_url: str) -> Iterator[Engine]:
    yield from _engine(la_db_url)


@pytest.fixture
def conn(fixture_engine: Engine) -> Iterator[Connection]:
    """A connection to the fixture database inside a transaction rolled back after the test."""
    yield from _rolled_back(fixture_engine)


@pytest.fixture
def la_conn(la_engine: Engine) -> Iterator[Connection]:
    """A connection to the real-LA database, rolled back after the test."""
    yield from _rolled_back(la_engine)


def _engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _rolled_back(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


def _test_config(url: str, data_dir: Path | None = None, boundaries_dir: Path | None = None) -> dict:
    config = {"TESTING": True, "DATABASE_URL": url}
    if data_dir is not None:
        config["DATA_DIR"] = str(data_dir)
    if boundaries_dir is not None:
        config["BOUNDARIES_DIR"] = str(boundaries_dir)
    return config


@pytest.fixture
def app(fixture_db_url: str):
    """The app on the fixture database."""
    application = create_app(_test_config(fixture_db_url, FIXTURES, FIXTURES / "boundaries"))
    yield application
    _dispose(application)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def la_app(la_db_url: str):
    """The app on the real-LA database."""
    application = create_app(_test_config(la_db_url))
    yield application
    _dispose(application)


@pytest.fixture
def la_client(la_app):
    return la_app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def _dispose(application) -> None:
    engine = application.extensions.pop("geo311_engine", None)
    if engine is not None:
        engine.dispose()


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def chromium_browser():
    """Headless Debian Chromium, one per session (Playwright's sync API allows one driver at a
    time); browser tests skip when it is not installed."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()
