"""Engine and connection lifecycle, and loading of the hand-tuned SQL files in ``geo311/sql``."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy import Engine, TextClause, create_engine, text
from sqlalchemy.engine import Connection

from geo311.cluster import Cluster

__all__ = [
    "init_app",
    "database_url",
    "private_cluster",
    "get_engine",
    "get_conn",
    "load_sql",
    "make_engine",
    "load_driver_sql",
    "sql_source",
    "driver_cursor",
]


def init_app(app: Flask) -> None:
    """Register the teardown that returns each request's connection to the pool."""
    app.teardown_appcontext(_close_conn)


def private_cluster(config) -> Cluster:
    """The project's own cluster described by ``VAR_DIR`` and ``PG_PORT``."""
    return Cluster(root=Path(config["VAR_DIR"]), port=int(config["PG_PORT"]))


def database_url(config) -> str:
    """``DATABASE_URL`` when set, else the private cluster's database.

    :param config: the app config.
    :returns: a SQLAlchemy URL.
    """
    url = config.get("DATABASE_URL") or ""
    if url:
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://"):]
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        return url
    return private_cluster(config).url(config["PG_DATABASE"])


def make_engine(url: str) -> Engine:
    """Create an engine whose connections survive a database restart (pre-ping) and use UTC."""
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        connect_args={"options": "-c timezone=UTC -c jit=off"},
    )


def get_engine(app: Flask | None = None) -> Engine:
    """The app's engine, created on first use.

    :param app: defaults to ``current_app``.
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    engine = app.extensions.get("geo311_engine")
    if engine is None:
        engine = make_engine(database_url(app.config))
        app.extensions["geo311_engine"] = engine
    return engine


def get_conn() -> Connection:
    """A connection for the current app context, closed at teardown."""
    if "db_conn" not in g:
        g.db_conn = get_engine().connect()
    return g.db_conn


def _close_conn(_exc: BaseException | None) -> None:
    conn = g.pop("db_conn", None)
    if conn is not None:
        conn.close()


#: A whole line ``/* <name>.sql */`` in a statement stands for the lines of ``sql/<name>.sql``.
_INCLUDE_LINE = re.compile(r"^[ \t]*/\* (\w+)\.sql \*/[ \t]*$", re.MULTILINE)


@cache
def load_sql(name: str) -> TextClause:
    """Load ``geo311/sql/<name>.sql`` once as a ``text()`` clause with named binds.

    :param name: file stem, e.g. ``"areas_at_point"``.
    """
    return text(with_includes(sql_source(name)))


def with_includes(source: str) -> str:
    """``source`` with each whole line ``/* <name>.sql */`` replaced by the lines of
    ``sql/<name>.sql`` (its comment lines dropped, its own include lines expanded).

    So a fragment shared by several statements (e.g. the request filters) is written once.
    """
    return _INCLUDE_LINE.sub(
        lambda line: with_includes(sql_source(line.group(1), strip_comments=True)).strip("\n"),
        source)


@cache
def sql_source(name: str, *, strip_comments: bool = False) -> str:
    """The text of ``geo311/sql/<name>.sql`` (read once), optionally without ``--`` comment lines.

    :param name: file stem, e.g. ``"schema_extra"``.
    :param strip_comments: drop whole-line comments (for statement splitting and driver SQL).
    """
    source = resources.files("geo311.sql").joinpath(f"{name}.sql").read_text(encoding="utf-8")
    if not strip_comments:
        return source
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("--"))


@cache
def load_driver_sql(name: str) -> str:
    """``geo311/sql/<name>.sql`` with its ``:name`` binds turned into psycopg ``%(name)s`` ones.

    For the few hot queries run straight on the psycopg connection as server-side prepared
    statements (no SQL compilation per call); comments are dropped.

    Example: ``WHERE id = :id`` becomes ``WHERE id = %(id)s``.
    """
    body = with_includes(sql_source(name, strip_comments=True)).replace("%", "%%")
    return re.sub(r"(?<![:\w]):([a-z_][a-z0-9_]*)", r"%(\1)s", body)


def driver_cursor(conn: Connection):
    """A psycopg cursor on the same connection (and transaction) as ``conn``."""
    raw = conn.connection.driver_connection
    assert raw is not None, "the connection is closed"
    return raw.cursor()
