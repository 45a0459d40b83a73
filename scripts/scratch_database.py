"""A benchmark's scratch database: made afresh in the configured server, dropped at the end.

The server is ``GEO311_DATABASE_URL`` / ``DATABASE_URL`` or the private cluster (``geo311 db
up``), as the app itself sees it. Used by ``bench_import.py`` and ``bench_requests.py``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GEO311 = str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "geo311")


@dataclass(frozen=True)
class ScratchDatabase:
    """Where the scratch database is: ``server`` is the configured server's SQLAlchemy URL,
    ``url`` the scratch database's (password included), ``env`` this process's environment with
    ``GEO311_DATABASE_URL`` set to it, for the ``geo311`` CLI."""

    server: Any
    url: str
    env: dict[str, str]

    def run_cli(self, *commands: list[str]) -> None:
        """Run each ``geo311`` command on the scratch database, output captured; failure raises."""
        for command in commands:
            subprocess.run([GEO311, *command], env=self.env, check=True, capture_output=True)


@contextmanager
def scratch_database(name: str, keep: bool = False) -> Iterator[ScratchDatabase]:
    """Drop and create database ``name`` in the configured server; drop it at exit unless keep."""
    from sqlalchemy.engine import make_url

    from geo311 import create_app
    from geo311.db import database_url

    server = make_url(database_url(create_app().config))
    url = server.set(database=name).render_as_string(hide_password=False)
    _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(server, f'CREATE DATABASE "{name}"')
    try:
        yield ScratchDatabase(server, url, {**os.environ, "GEO311_DATABASE_URL": url})
    finally:
        if not keep:
            _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin(server, statement: str) -> None:
    import psycopg

    conninfo = server.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(statement)
