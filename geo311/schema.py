"""Create the schema: ORM tables, the extras in sql/schema_extra.sql, stored-key upgrades."""

from __future__ import annotations

from sqlalchemy import Engine, text

from geo311.db import driver_cursor, sql_source
from geo311.models import Base
from geo311.rekey import rekey_streets

__all__ = ["init_schema"]


def init_schema(engine: Engine) -> dict[str, int]:
    """Create extensions, tables and extra indexes, and rewrite street keys an older rule stored.

    Safe to run again.

    :param engine: the database.
    :returns: rows whose street keys were rewritten, per table (:func:`geo311.rekey.rekey_streets`).
    """
    body = sql_source("schema_extra", strip_comments=True)
    statements = [s.strip() for s in body.split(";") if s.strip()]
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        Base.metadata.create_all(conn)
        for statement in statements:
            conn.execute(text(statement))
        with driver_cursor(conn) as cursor:  # a script with a plpgsql body: not split on ";"
            cursor.execute(sql_source("boundary_state"))
            cursor.execute(sql_source("request_cells"))  # the clustered tiles' cell summary
        return rekey_streets(conn)  # keys of rows loaded before the current street_key rule
